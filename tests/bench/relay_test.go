package bench

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// Relay benchmark parameters.
const (
	// defaultRelayPairs is the number of relayed pairs (a call's two
	// legs each); BENCH_PAIRS overrides it.
	defaultRelayPairs = 500
	// relayWindow is each pass's measured window, and relaySettle the wait
	// before it while every leg's first packets latch the relay.
	relayWindow = 10 * time.Second
	relaySettle = 2 * time.Second
	// defaultRelayRounds is how many times each relay is measured, C and
	// ours in turn (BENCH_ROUNDS overrides it): on a shared machine one
	// pass of each can differ by a third from the next, so the ratio is
	// taken between the medians of passes run alternately.
	defaultRelayRounds = 3
	// relayRTPFirst is the first port of relayref's PortPool: below the
	// kernel's ephemeral ports, where the C relay and the generator bind.
	relayRTPFirst = 20000
	// relayRatioTarget is the release target: the box's relay within 1.3×
	// the CPU per packet of a bare C relay.
	relayRatioTarget = 1.3
	// relayStopTimeout bounds a relay's exit after SIGTERM.
	relayStopTimeout = 10 * time.Second
)

// relayRun is what one relay's pass measured.
type relayRun struct {
	name      string
	res       concurrentResult // rtpload pairs' result has the calls' shape
	cpu, wall time.Duration    // the relay's CPU over the window, and the window
	rss       int64            // the relay's VmRSS at the window's end
}

// perPacket is the relay's CPU per packet it relayed in the window, in µs.
func (r relayRun) perPacket() float64 {
	return r.cpu.Seconds() / float64(max(r.res.Media.Received, 1)) * 1e6
}

// BenchmarkRelay measures the CPU the box's RTP relay (media/rtp, run
// alone by tests/relayref) spends per forwarded packet against a bare C
// relay (tests/crelay/relay.c, epoll) on this machine, under the same load:
// rtpload pairs sends the G.711 streams of BENCH_PAIRS (default 500) calls,
// 50 packets a second each way on each leg, from 127.0.0.2 and 127.0.0.3
// to the relay on 127.0.0.1, as BenchmarkConcurrentCalls does through the
// whole box. A third relay, the same C one on io_uring
// (tests/crelay/uring.c), shows the least any relay can cost here. Each
// relay in turn runs alone over a 10 s window, BENCH_ROUNDS (default 3)
// times each, alternating; its CPU (utime + stime from /proc) ÷ the
// packets relayed back to the generator is its µs/packet, and the median
// of ours ÷ the median of the epoll C relay's is the ratio the release
// holds to relayRatioTarget. Any lost packet or crossed or deaf leg fails
// the run.
func BenchmarkRelay(b *testing.B) {
	n := envInt(b, "BENCH_PAIRS", defaultRelayPairs)
	rounds := envInt(b, "BENCH_ROUNDS", defaultRelayRounds)
	loops := envInt(b, "BENCH_RELAY_LOOPS", 0) // 0: the pool's default
	for range b.N {
		dir := b.TempDir()
		crelay := buildC(b, dir, "relay.c")
		curing := buildC(b, dir, "uring.c", "-luring")
		relayref := buildRelayRef(b, dir)
		gen := buildRTPLoad(b)
		rtpPorts := fmt.Sprintf("%d-%d", relayRTPFirst, min(relayRTPFirst+8*n+999, 65535))
		var cs, us, gos []relayRun
		for range rounds {
			cs = append(cs, runRelay(b, "C", gen, dir, func(ports string) []string {
				return []string{crelay, "127.0.0.1", strconv.Itoa(n), ports}
			}))
			us = append(us, runRelay(b, "C io_uring", gen, dir, func(ports string) []string {
				return []string{curing, "127.0.0.1", strconv.Itoa(n), ports}
			}))
			gos = append(gos, runRelay(b, "Go", gen, dir, func(ports string) []string {
				return []string{relayref, "-ip", "127.0.0.1", "-pairs", strconv.Itoa(n), "-ports", ports, "-rtp-ports", rtpPorts,
					"-loops", strconv.Itoa(loops)}
			}))
		}
		idle := relayRefIdleRSS(b, relayref, dir, rtpPorts)
		reportRelay(b, n, cs, us, gos, idle)
	}
}

// medianRun is the pass with the median CPU per packet.
func medianRun(runs []relayRun) relayRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b relayRun) int { return cmp.Compare(a.perPacket(), b.perPacket()) })
	return s[len(s)/2]
}

// relayRefIdleRSS is relayref's VmRSS with one pair and no traffic: the
// Go runtime and the binary, which the per-pair figure leaves out.
func relayRefIdleRSS(b *testing.B, relayref, dir, rtpPorts string) int64 {
	b.Helper()
	ports := filepath.Join(dir, "idle-ports")
	cmd := exec.Command(relayref, "-ip", "127.0.0.1", "-pairs", "1", "-ports", ports, "-rtp-ports", rtpPorts)
	if err := cmd.Start(); err != nil {
		b.Fatalf("start relayref: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(relayStopTimeout); ; <-tick.C {
		if _, err := os.Stat(ports); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("relayref wrote no ports file in %v", relayStopTimeout)
		}
	}
	rss, err := statusBytes(cmd.Process.Pid, "VmRSS")
	if err != nil {
		b.Fatalf("read VmRSS of relayref: %v", err)
	}
	return rss
}

// buildC compiles tests/crelay/src into dir with gcc, linking libs.
func buildC(b *testing.B, dir, src string, libs ...string) string {
	b.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		b.Fatalf("the reference C relays need gcc: install gcc (%v)", err)
	}
	bin := filepath.Join(dir, strings.TrimSuffix(src, ".c"))
	path := filepath.Join(harness.ModuleRoot(b), "tests", "crelay", src)
	args := slices.Concat([]string{"-O2", "-std=gnu11", "-Wall", "-o", bin, path}, libs)
	if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		b.Fatalf("build %s (uring.c needs Debian's liburing-dev): %v\n%s", src, err, out)
	}
	return bin
}

// buildRelayRef compiles tests/relayref into dir.
func buildRelayRef(b *testing.B, dir string) string {
	b.Helper()
	bin := filepath.Join(dir, "relayref")
	cmd := exec.Command("go", "build", "-o", bin, "./tests/relayref")
	cmd.Dir = harness.ModuleRoot(b)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build relayref: %v\n%s", err, out)
	}
	return bin
}

// runRelay starts the relay argv(portsFile) gives, drives it with
// rtpload pairs over the window and stops it with SIGTERM.
func runRelay(b *testing.B, name, gen, dir string, argv func(portsFile string) []string) relayRun {
	b.Helper()
	// A fresh name each pass: rtpload must not read the last pass's file.
	pass, err := os.MkdirTemp(dir, name)
	if err != nil {
		b.Fatal(err)
	}
	ports := filepath.Join(pass, "ports")
	args := argv(ports)
	cmd := exec.Command(args[0], args[1:]...)
	var stderr bytes.Buffer // read only after the process has exited
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the %s relay: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	// A failed run still ends the relay.
	b.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
	pid := cmd.Process.Pid
	run := relayRun{name: name}
	s := newCPUSampler(b, pid)
	raw := runGenerator(b, gen, relayWindow+time.Minute, func(ev genEvent) {
		switch ev.Event {
		case "window_start":
			s.mark("start")
		case "window_end":
			s.mark("end")
			rss, err := statusBytes(pid, "VmRSS")
			if err != nil {
				b.Fatalf("read VmRSS of the %s relay: %v", name, err)
			}
			run.rss = rss
		}
	}, "pairs", "-relay-ip", "127.0.0.1", "-ports", ports,
		"-settle", relaySettle.String(), "-window", relayWindow.String())
	if err := json.Unmarshal(raw, &run.res); err != nil {
		b.Fatalf("rtpload result %s: %v", raw, err)
	}
	run.cpu, run.wall = s.between("start", "end")
	select {
	case <-done:
		b.Fatalf("the %s relay exited under load: %s\n%s", name, cmd.ProcessState, stderr.String())
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatalf("stop the %s relay: %v", name, err)
	}
	stop := time.NewTimer(relayStopTimeout)
	defer stop.Stop()
	select {
	case <-done:
	case <-stop.C:
		b.Fatalf("the %s relay did not exit %v after SIGTERM", name, relayStopTimeout)
	}
	if !cmd.ProcessState.Success() {
		b.Errorf("the %s relay exited with %s: %s", name, cmd.ProcessState, stderr.String())
	}
	return run
}

// reportRelay reports every pass, the medians and the ratio of ours to
// the epoll C relay (cs); us are the io_uring C relay's passes. idleRSS is
// relayref's resident set with one idle pair.
func reportRelay(b *testing.B, n int, cs, us, gos []relayRun, idleRSS int64) {
	hideNsPerOp(b)
	c, u, ours := medianRun(cs), medianRun(us), medianRun(gos)
	ratio := ours.perPacket() / c.perPacket()
	perPair := kb(ours.rss-idleRSS) / float64(max(n-1, 1))
	b.ReportMetric(c.perPacket(), "c-µs/packet")
	b.ReportMetric(u.perPacket(), "c-uring-µs/packet")
	b.ReportMetric(ours.perPacket(), "go-µs/packet")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(perPair, "go-rss-KB/pair")
	b.Logf("relayref's VmRSS: %.1f MB with one idle pair, %.1f MB with %d relaying: %.1f KB per pair more",
		mb(idleRSS), mb(ours.rss), n, perPair)
	b.Logf("medians of %d passes: ours ÷ C = %.2f ÷ %.2f µs/packet = %.3f (target ≤ %.1f: %s)",
		len(cs), ours.perPacket(), c.perPacket(), ratio, relayRatioTarget, verdict(ratio <= relayRatioTarget))
	// A call is 100 relayed packets a second (50 each way), so a relay
	// doing nothing else would hold 1.6 cores ÷ (100 × its cost) calls:
	// the ceiling BenchmarkConcurrentCalls's capacity has on this machine.
	for _, r := range []relayRun{c, u, ours} {
		b.Logf("%s relay alone: 1.6 cores ÷ (100 packets/s × %.2f µs) = %.0f calls",
			r.name, r.perPacket(), 1.6/(100*r.perPacket()*1e-6))
	}
	// Each pass after the summary: go test keeps only a benchmark's first
	// lines of log.
	for i := range cs {
		for _, r := range []relayRun{cs[i], us[i], gos[i]} {
			m := r.res.Media
			b.Logf("pass %d, %s relay, %d pairs, %.0f s window: %.2f CPU s in %.1f s = %.3f cores; %d packets relayed: %.2f µs/packet; VmRSS %.1f MB; %d lost, %d late >40 ms, p99 %.0f ms; generator %.2f CPU s, worst tick lag %.1f ms",
				i+1, r.name, r.res.Established, r.res.WindowS, r.cpu.Seconds(), r.wall.Seconds(), r.cpu.Seconds()/r.wall.Seconds(),
				m.Received, r.perPacket(), mb(r.rss), m.Lost, m.Late, m.P99, r.res.GenCPUS, m.MaxTickLag)
		}
		b.Logf("pass %d: ours ÷ C = %.3f", i+1, gos[i].perPacket()/cs[i].perPacket())
	}
	for _, r := range slices.Concat(cs, us, gos) {
		m := r.res.Media
		if r.res.Established != n || m.Lost > 0 || m.Crossed > 0 || m.Deaf > 0 {
			b.Logf("rtpload's diagnosis of the %s relay: %s", r.name, r.res.Diag)
			b.Errorf("%s relay not clean at %d pairs: %d pairs up, %d packets lost, %d legs crossed, %d deaf",
				r.name, n, r.res.Established, m.Lost, m.Crossed, m.Deaf)
		}
	}
}
