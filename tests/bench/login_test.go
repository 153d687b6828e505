package bench

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// Parameters of the 200-user benchmark: the seeds' requirement is 200
// concurrent users, a login under 1 s and pages under 3 s.
const (
	loadUsers = 200
	// defaultSpread is the time over which the logins are spread evenly;
	// BENCH_SPREAD overrides it for a quick run.
	defaultSpread = 60 * time.Second
	// spreadEnv names the environment variable that overrides
	// defaultSpread, as a Go duration ("20s").
	spreadEnv = "BENCH_SPREAD"
	// pollEvery is how often a logged-in agent's page polls the API.
	pollEvery = 2 * time.Second
	// holdAfter is how long every agent keeps polling after the last
	// login.
	holdAfter = 30 * time.Second
	// loginTarget and apiTarget are the release targets for the 99th
	// percentiles.
	loginTarget = time.Second
	apiTarget   = 50 * time.Millisecond
	// agentPassword is the password of every agent (the benchmark is
	// about load, not about secrets).
	agentPassword = "agent-password-1"
	// maxErrorLog is how many error messages the log shows.
	maxErrorLog = 10
)

// BenchmarkLogin200Users makes loadUsers agent users through the API (as
// admin, with a token), then lets loadUsers clients, each with its own
// cookie jar and connection, log in spread evenly over BENCH_SPREAD
// (default 60 s). After its login each client polls GET /api/v1/me and GET
// /api/v1/settings/system every pollEvery until holdAfter after the spread
// ends. It reports login and API latency (p50, p99, max), errors, and the
// box's CPU time and peak resident set over the run.
//
// Every client comes from 127.0.0.1, so the box runs with
// APPLIANCE_TRUSTED_NETWORKS=127.0.0.0/8: the per-address lock-out must not
// count one address's traffic as one person's. The clients speak HTTPS, as
// browsers at the box do. The load generator shares the machine's cores
// with the box, and its latencies include its own scheduling.
func BenchmarkLogin200Users(b *testing.B) {
	spread := defaultSpread
	if s := os.Getenv(spreadEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			b.Fatalf("%s=%q: want a duration such as 20s", spreadEnv, s)
		}
		spread = d
	}
	var all loadResult
	for range b.N {
		all.add(runLoad(b, spread))
	}

	login, api := summarize(all.login), summarize(all.api)
	hideNsPerOp(b)
	b.ReportMetric(ms(login.P50), "login-p50-ms")
	b.ReportMetric(ms(login.P99), "login-p99-ms")
	b.ReportMetric(ms(login.Max), "login-max-ms")
	b.ReportMetric(ms(api.P50), "api-p50-ms")
	b.ReportMetric(ms(api.P99), "api-p99-ms")
	b.ReportMetric(ms(api.Max), "api-max-ms")
	b.ReportMetric(float64(all.errors), "errors")
	b.ReportMetric(all.cpu.Seconds(), "cpu-s")
	b.ReportMetric(mb(all.peakRSS), "peak-rss-MB")
	b.Logf("%d agents, logins spread over %v, polling every %v until %v after the last login; users created in %v",
		loadUsers, spread, pollEvery, holdAfter, all.create.Round(time.Millisecond))
	b.Logf("login: %s (p99 target < %v: %s)", login, loginTarget, verdict(login.P99 < loginTarget))
	b.Logf("API:   %s (p99 target < %v: %s)", api, apiTarget, verdict(api.P99 < apiTarget))
	b.Logf("errors: %d (target 0: %s)", all.errors, verdict(all.errors == 0))
	b.Logf("appliance: %.2f CPU s over %v of load (%.1f%% of one core), peak RSS %.1f MB; load generator: %.2f CPU s",
		all.cpu.Seconds(), all.wall.Round(time.Second), 100*all.cpu.Seconds()/all.wall.Seconds(), mb(all.peakRSS), all.loadgenCPU.Seconds())
	for _, msg := range all.errorLog {
		b.Log("error: " + msg)
	}
	if all.errors > 0 {
		b.Errorf("%d requests failed; want none", all.errors)
	}
}

// loadResult is what one run of the load measured.
type loadResult struct {
	login, api []time.Duration
	errors     int
	errorLog   []string      // the first maxErrorLog errors
	create     time.Duration // making the users
	wall       time.Duration // from the first login to the last poll
	cpu        time.Duration // the box's CPU time during wall
	loadgenCPU time.Duration // this process's CPU time during wall
	peakRSS    int64         // the box's VmHWM at the end
}

// add merges r into l: samples and errors add up, the rest are summed or
// the maximum.
func (l *loadResult) add(r loadResult) {
	l.login = append(l.login, r.login...)
	l.api = append(l.api, r.api...)
	l.errors += r.errors
	l.errorLog = append(l.errorLog, r.errorLog...)
	if len(l.errorLog) > maxErrorLog {
		l.errorLog = l.errorLog[:maxErrorLog]
	}
	l.create += r.create
	l.wall += r.wall
	l.cpu += r.cpu
	l.loadgenCPU += r.loadgenCPU
	l.peakRSS = max(l.peakRSS, r.peakRSS)
}

// agent is one simulated person: a client with its own cookie jar and
// connection, and what it measured. Only its own goroutine touches it
// until the run ends.
type agent struct {
	name   string
	client *harness.Client
	login  time.Duration
	api    []time.Duration
	errors []error
}

// errWrongUser is an answer of GET /api/v1/me for someone else than the
// session's user: sessions of concurrent clients got mixed.
var errWrongUser = errors.New("GET /api/v1/me answered for another user")

// runLoad starts a box, makes the users and runs the load once.
func runLoad(b *testing.B, spread time.Duration) loadResult {
	b.Helper()
	app := harness.Start(b, harness.Options{Env: append(benchEnv(), "APPLIANCE_TRUSTED_NETWORKS=127.0.0.0/8")})
	pid := app.PID()

	admin := app.HTTPSClient(b)
	token, err := adminToken(admin)
	if err != nil {
		b.Fatal(err)
	}
	agents := make([]*agent, loadUsers)
	for i := range agents {
		agents[i] = &agent{name: fmt.Sprintf("agent%03d", i+1), client: app.HTTPSClient(b)}
	}
	var res loadResult
	start := time.Now()
	if err := createUsers(app.HTTPSClient(b), token, agents); err != nil {
		b.Fatal(err)
	}
	res.create = time.Since(start)

	cpu0 := mustCPU(b, pid)
	gen0 := selfCPU(b)
	start = time.Now()
	end := start.Add(spread + holdAfter)
	var wg sync.WaitGroup
	for i, a := range agents {
		at := start.Add(spread * time.Duration(i) / loadUsers)
		wg.Go(func() { a.run(at, end) })
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.cpu = mustCPU(b, pid) - cpu0
	res.loadgenCPU = selfCPU(b) - gen0
	res.peakRSS = mustStatus(b, pid, "VmHWM")
	if exited, code := app.Exited(); exited {
		b.Fatalf("appliance exited (status %d) during the load", code)
	}

	for _, a := range agents {
		if a.login > 0 {
			res.login = append(res.login, a.login)
		}
		res.api = append(res.api, a.api...)
		res.errors += len(a.errors)
		for _, err := range a.errors {
			if len(res.errorLog) < maxErrorLog {
				res.errorLog = append(res.errorLog, fmt.Sprintf("%s: %v", a.name, err))
			}
		}
	}
	app.Stop(b)
	return res
}

// createUsers makes the agents' users with the admin token, as many at a
// time as the box hashes passwords at once (one per core).
func createUsers(c *harness.Client, token string, agents []*agent) error {
	c.Token = token
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(agents) {
					return
				}
				body := map[string]string{"name": agents[i].name, "display_name": "Agent " + agents[i].name,
					"role": "agent", "password": agentPassword}
				if _, err := c.Do(http.MethodPost, "/api/v1/users", body, nil); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// run logs the agent in at the time at, then polls until end.
func (a *agent) run(at, end time.Time) {
	wait := time.NewTimer(time.Until(at))
	<-wait.C
	t := time.Now()
	if err := a.client.Login(a.name, agentPassword); err != nil {
		// Without a session there is nothing to poll.
		a.errors = append(a.errors, err)
		return
	}
	a.login = time.Since(t)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		a.poll()
		<-tick.C
		if time.Now().After(end) {
			return
		}
	}
}

// poll makes the requests an open page makes every pollEvery.
func (a *agent) poll() {
	var me struct {
		Name string `json:"name"`
	}
	t := time.Now()
	_, err := a.client.Do(http.MethodGet, "/api/v1/me", nil, &me)
	a.record(t, err)
	if err == nil && me.Name != a.name {
		a.errors = append(a.errors, fmt.Errorf("%w: %q", errWrongUser, me.Name))
	}
	var settings map[string]any
	t = time.Now()
	_, err = a.client.Do(http.MethodGet, "/api/v1/settings/system", nil, &settings)
	a.record(t, err)
}

// record keeps the latency of a request that started at t, or its error.
func (a *agent) record(t time.Time, err error) {
	if err != nil {
		a.errors = append(a.errors, err)
		return
	}
	a.api = append(a.api, time.Since(t))
}

// mustCPU is cpuTime that fails the benchmark on an error.
func mustCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	d, err := cpuTime(pid)
	if err != nil {
		b.Fatalf("read the appliance's CPU time: %v", err)
	}
	return d
}

// selfCPU returns the CPU time (user + system) of this process, the load
// generator.
func selfCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
