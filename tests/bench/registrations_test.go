package bench

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// Registration benchmark parameters.
const (
	// regEndpoints is how many phones register; BENCH_ENDPOINTS overrides.
	regEndpoints = 10000
	regFirst     = 100000 // extension numbers regFirst...
	// regRefresh is how often each phone re-registers (Expires is twice
	// that); the first registrations are spread over the same time, so
	// the load is steady from the start: regEndpoints ÷ 60 s.
	regRefresh = time.Minute
	// regWindow is measured after every phone has registered once: one
	// full refresh cycle.
	regWindow = time.Minute
)

// registerResult is rtpload's register result.
type registerResult struct {
	Endpoints   int      `json:"endpoints"`
	Registered  int      `json:"registered"`
	Registers   uint64   `json:"registers_ok"`
	Challenged  uint64   `json:"challenged"`
	Failures    uint64   `json:"failures"`
	Options     uint64   `json:"options_answered"`
	WindowS     float64  `json:"window_s"`
	GenCPUS     float64  `json:"gen_cpu_s"`
	FirstErrors []string `json:"first_errors"`
}

// BenchmarkRegistrations keeps BENCH_ENDPOINTS (default 10,000) phones
// registered: rtpload gives each its own UDP socket (on 127.0.0.2-5),
// registers it with MD5 digest (the first REGISTER is challenged, later
// ones reuse the nonce with a rising nonce count until the box calls it
// stale) and refreshes it every 60 s; the first registrations are spread
// over 60 s too. Each phone answers the box's OPTIONS. Over one refresh
// cycle after all have registered, it reads the box's CPU and resident set;
// every REGISTER must succeed, and the API must then list every phone as
// available.
func BenchmarkRegistrations(b *testing.B) {
	n := envInt(b, "BENCH_ENDPOINTS", regEndpoints)
	var res registerResult
	var cpu, wall time.Duration
	var idleRSS, loadRSS int64
	var listed int
	for range b.N {
		app := callBox(b)
		provision(b, app, regFirst, n)
		gen := buildRTPLoad(b)
		pid := app.PID()
		idleRSS = mustStatus(b, pid, "VmRSS")
		s := newCPUSampler(b, pid)
		raw := runGenerator(b, gen, regRefresh+regWindow+time.Minute, func(ev genEvent) {
			switch ev.Event {
			case "registered":
				s.mark("start")
			case "result":
				s.mark("end")
				loadRSS = mustStatus(b, pid, "VmRSS")
			}
		}, "register", "-server", app.SIPAddr(), "-count", strconv.Itoa(n), "-first", strconv.Itoa(regFirst),
			"-ips", "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5", "-expires", strconv.Itoa(int(2*regRefresh.Seconds())),
			"-refresh", regRefresh.String(), "-spread", regRefresh.String(), "-window", regWindow.String())
		if err := json.Unmarshal(raw, &res); err != nil {
			b.Fatalf("rtpload result %s: %v", raw, err)
		}
		cpu, wall = s.between("start", "end")
		listed = availableContacts(b, app.Client(b))
		reportRegistrations(b, n, res, cpu, wall, idleRSS, loadRSS, listed)
		app.Stop(b)
	}
}

// availableContacts counts the available contacts GET
// /api/v1/registrations lists.
func availableContacts(b *testing.B, c interface {
	Login(string, string) error
	Do(string, string, any, any) (int, error)
}) int {
	b.Helper()
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		b.Fatal(err)
	}
	var regs struct {
		Registrations []struct {
			Contacts []struct {
				Available bool `json:"available"`
			} `json:"contacts"`
		} `json:"registrations"`
	}
	if _, err := c.Do(http.MethodGet, "/api/v1/registrations", nil, &regs); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, r := range regs.Registrations {
		for _, c := range r.Contacts {
			if c.Available {
				n++
			}
		}
	}
	return n
}

func reportRegistrations(b *testing.B, n int, res registerResult, cpu, wall time.Duration, idleRSS, loadRSS int64, listed int) {
	cores := cpu.Seconds() / wall.Seconds()
	hideNsPerOp(b)
	b.ReportMetric(float64(res.Registered), "registered")
	b.ReportMetric(float64(res.Failures), "failures")
	b.ReportMetric(cores, "box-cores")
	b.ReportMetric(mb(loadRSS), "rss-MB")
	b.Logf("%d endpoints, %d registered; over a %.0f s refresh cycle: %d REGISTERs answered 200 (%.0f/s), %d challenged again, %d OPTIONS answered; failures %d: %s",
		n, res.Registered, res.WindowS, res.Registers, float64(res.Registers)/res.WindowS, res.Challenged, res.Options, res.Failures, fmtErrs(res.FirstErrors))
	b.Logf("the box used %.2f CPU s in %.1f s = %.3f cores; RSS %.1f MB with the extensions before any REGISTER, %.1f MB with all registered (%.1f KB per registration)",
		cpu.Seconds(), wall.Seconds(), cores, mb(idleRSS), mb(loadRSS), kb(loadRSS-idleRSS)/float64(max(res.Registered, 1)))
	b.Logf("the API lists %d available contacts; the generator used %.2f CPU s in the window", listed, res.GenCPUS)
	if res.Failures > 0 || res.Registered != n || listed != n {
		b.Errorf("not every endpoint stayed registered: %d failures, %d of %d registered, %d listed available", res.Failures, res.Registered, n, listed)
	}
}
