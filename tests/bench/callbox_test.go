package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// Settings of the boxes that carry calls.
const (
	// benchRTPPorts is the media port range: wide enough for thousands
	// of calls (two ports per leg pair, two legs per call).
	benchRTPPorts = "10000-60000"
	// lowPortFirst and lowPortLast bound where the SIP port is looked
	// for: below benchRTPPorts, which must not hold it.
	lowPortFirst, lowPortLast = 7000, 9999
	// extSecretPrefix makes each extension's secret: prefix + number
	// (rtpload's -secret-prefix default).
	extSecretPrefix = "bench-secret-"
	// benchMaxCalls is each extension's concurrent-call limit: the
	// highest the API accepts.
	benchMaxCalls = 100
	// applyChunk is how many extensions one configuration document
	// creates: one store transaction each.
	applyChunk = 1000
	// capacityCores is the CPU a box may spend on media: of 2 cores, what
	// signalling, the web front and the OS leave.
	capacityCores = 1.6
)

// callBox starts a box for call load: the wide RTP range, SIP on a port
// below it, info logging, and 127.0.0.0/8 trusted (every load generator
// comes from loopback; the ban must not count a generator as an attacker,
// although no authentication fails in these runs).
func callBox(b *testing.B) *harness.App {
	b.Helper()
	port := lowPort(b)
	sip := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	tls := net.JoinHostPort("127.0.0.1", strconv.Itoa(lowPort(b, port)))
	return harness.Start(b, harness.Options{SIPAddr: sip, SIPTLSAddr: tls, Env: append(benchEnv(),
		"APPLIANCE_RTP_PORTS="+benchRTPPorts, "APPLIANCE_TRUSTED_NETWORKS=127.0.0.0/8")})
}

// errNoLowPort is returned when no port below the RTP range is free.
var errNoLowPort = errors.New("no free port below the RTP range")

// lowPort returns a port in [lowPortFirst, lowPortLast] free for both UDP
// and TCP on 127.0.0.1, other than skip.
func lowPort(b *testing.B, skip ...int) int {
	b.Helper()
	for p := lowPortFirst; p <= lowPortLast; p++ {
		if len(skip) > 0 && p == skip[0] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err != nil {
			continue
		}
		pc.Close()
		return p
	}
	b.Fatal(errNoLowPort)
	return 0
}

// extensionDoc is a configuration document creating extensions
// [first, first+count) with the bench secret and benchMaxCalls. JSON is
// YAML, and quicker to build for 10,000 entries.
func extensionDoc(first, count int) []byte {
	exts := make(map[string]any, count)
	for n := first; n < first+count; n++ {
		num := strconv.Itoa(n)
		exts[num] = map[string]any{"secret": extSecretPrefix + num, "max_calls": benchMaxCalls}
	}
	doc, _ := json.Marshal(map[string]any{"version": 1, "extensions": exts}) // maps of strings always encode
	return doc
}

// provision creates extensions [first, first+count) through the API, in
// documents of applyChunk.
func provision(b *testing.B, app *harness.App, first, count int) {
	b.Helper()
	admin := app.Client(b)
	if err := admin.Login("admin", harness.DefaultAdminPassword); err != nil {
		b.Fatal(err)
	}
	for n := first; n < first+count; n += applyChunk {
		if _, err := admin.Do(http.MethodPost, "/api/v1/config/apply", extensionDoc(n, min(applyChunk, first+count-n)), nil); err != nil {
			b.Fatalf("create extensions from %d: %v", n, err)
		}
	}
}

// buildRTPLoad compiles tests/rtpload into the benchmark's temp dir.
func buildRTPLoad(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "rtpload")
	cmd := exec.Command("go", "build", "-o", bin, "./tests/rtpload")
	cmd.Dir = harness.ModuleRoot(b)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build rtpload: %v\n%s", err, out)
	}
	return bin
}

// genEvent is one JSON line of rtpload; raw keeps the whole line.
type genEvent struct {
	Event string `json:"event"`
	raw   []byte
}

// errNoResult is returned when rtpload exits without a result line.
var errNoResult = errors.New("rtpload printed no result")

// runGenerator runs rtpload with args (bounded by limit), calls on for
// every line it prints as it prints it, and returns the result line.
func runGenerator(b *testing.B, bin string, limit time.Duration, on func(genEvent), args ...string) []byte {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start rtpload: %v", err)
	}
	var result []byte
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		var ev genEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			b.Logf("rtpload: %s", line)
			continue
		}
		ev.raw = line
		if ev.Event == "result" {
			result = line
		}
		on(ev)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("rtpload %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if result == nil {
		b.Fatalf("rtpload: %v\n%s", errNoResult, stderr.String())
	}
	return result
}

// cpuSampler reads the box's CPU time at marks of a run.
type cpuSampler struct {
	b    *testing.B
	pid  int
	at   map[string]time.Duration
	wall map[string]time.Time
}

func newCPUSampler(b *testing.B, pid int) *cpuSampler {
	return &cpuSampler{b: b, pid: pid, at: map[string]time.Duration{}, wall: map[string]time.Time{}}
}

// mark records the box's CPU time now under name.
func (s *cpuSampler) mark(name string) {
	d, err := cpuTime(s.pid)
	if err != nil {
		s.b.Fatalf("read the box's CPU: %v", err)
	}
	s.at[name], s.wall[name] = d, time.Now()
}

// between returns the CPU time and the wall time from mark a to mark b.
func (s *cpuSampler) between(a, b string) (cpu, wall time.Duration) {
	return s.at[b] - s.at[a], s.wall[b].Sub(s.wall[a])
}

// envInt returns the integer in the environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

// kb returns n bytes in KB of 1024 bytes.
func kb(n int64) float64 { return float64(n) / 1024 }

// fmtErrs joins a generator's first errors for the log.
func fmtErrs(errs []string) string {
	if len(errs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%q", errs)
}
