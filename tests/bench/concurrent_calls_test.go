package bench

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// Concurrent-calls benchmark parameters.
const (
	// defaultConcurrentCalls is N; BENCH_CALLS overrides it.
	defaultConcurrentCalls = 500
	// callsWindow is the measured window with every call up.
	callsWindow = 20 * time.Second
	// callsSetupRate is how many calls a second are set up (and hung up).
	callsSetupRate = 100
	// callerExts and calleeExts are how many extensions each side uses:
	// enough that no extension's call limit (benchMaxCalls) is reached.
	callerExts, calleeExts   = 20, 20
	callerFirst, calleeFirst = 2001, 3001
	// Targets of the release.
	capacityTarget   = 2500
	rssPerCallTarget = 40 << 10
)

// concurrentResult is the part of rtpload's calls result the benchmark
// reads.
type concurrentResult struct {
	Calls       int     `json:"calls"`
	Established int     `json:"established"`
	SetupFailed int     `json:"setup_failed"`
	WindowS     float64 `json:"window_s"`
	Media       struct {
		Sent, Received, Lost, Late uint64
		Crossed, Deaf              int
		P50, P99, Max, MaxTickLag  float64
	} `json:"media"`
	HangupFailed int      `json:"hangup_failed"`
	CalleeEnded  int      `json:"callee_ended"`
	GenCPUS      float64  `json:"gen_cpu_s"`
	FirstErrors  []string `json:"first_errors"`
	// Diag is rtpload's diagnosis of legs without audio, logged as it is
	// when a run is not clean.
	Diag json.RawMessage `json:"diag"`
}

// BenchmarkConcurrentCalls sets up BENCH_CALLS (default 500) G.711 calls
// through the box from the rtpload process: digest-authenticated INVITEs
// from 127.0.0.2 to callees registered from 127.0.0.3, RTP both ways on
// each leg's own socket, 50 packets a second per leg. Over a 20 s window
// with every call up it reads the box's CPU (utime + stime) and resident
// set, and rtpload counts every packet sent, received, lost and late
// (over 40 ms). Reported: CPU per call, per relayed packet, the capacity
// estimate capacityCores ÷ CPU per call, and memory per call (RSS with
// the calls up minus RSS before them, ÷ N).
func BenchmarkConcurrentCalls(b *testing.B) {
	n := envInt(b, "BENCH_CALLS", defaultConcurrentCalls)
	settle := envInt(b, "BENCH_SETTLE_S", 2)
	var res concurrentResult
	var cpu, wall time.Duration
	var idleRSS, loadRSS int64
	for range b.N {
		app := callBox(b)
		provision(b, app, callerFirst, callerExts)
		provision(b, app, calleeFirst, calleeExts)
		gen := buildRTPLoad(b)
		s := newCPUSampler(b, app.PID())
		pid := app.PID()
		raw := runGenerator(b, gen, 3*time.Minute, func(ev genEvent) {
			switch ev.Event {
			case "callees_registered":
				idleRSS = mustStatus(b, pid, "VmRSS")
			case "window_start":
				s.mark("start")
			case "window_end":
				s.mark("end")
				loadRSS = mustStatus(b, pid, "VmRSS")
				heapBox(b, app) // BENCH_HEAP: what the calls hold
			}
		}, "calls", "-server", app.SIPAddr(), "-calls", strconv.Itoa(n),
			"-rate", strconv.Itoa(callsSetupRate), "-window", callsWindow.String(),
			"-settle", (time.Duration(settle) * time.Second).String(),
			"-caller-first", strconv.Itoa(callerFirst), "-caller-count", strconv.Itoa(callerExts),
			"-callee-first", strconv.Itoa(calleeFirst), "-callee-count", strconv.Itoa(calleeExts))
		if err := json.Unmarshal(raw, &res); err != nil {
			b.Fatalf("rtpload result %s: %v", raw, err)
		}
		cpu, wall = s.between("start", "end")
		if exited, code := app.Exited(); exited {
			b.Fatalf("appliance exited (status %d) under load", code)
		}
		// The figures first: a slow shutdown must not hide them.
		reportConcurrent(b, n, res, cpu, wall, idleRSS, loadRSS)
		app.Stop(b)
	}
}

// reportConcurrent reports the figures of one run.
func reportConcurrent(b *testing.B, n int, res concurrentResult, cpu, wall time.Duration, idleRSS, loadRSS int64) {
	m := res.Media
	cores := cpu.Seconds() / wall.Seconds()                        // the box's cores in use
	perCall := cores / float64(res.Established)                    // cores per call
	perPacket := cpu.Seconds() / float64(max(m.Received, 1)) * 1e6 // µs per relayed packet
	capacity := capacityCores / perCall
	rssPerCall := float64(loadRSS-idleRSS) / float64(res.Established)
	hideNsPerOp(b)
	b.ReportMetric(float64(res.Established), "calls")
	b.ReportMetric(float64(m.Lost), "lost")
	b.ReportMetric(float64(m.Late), "late")
	b.ReportMetric(perCall*1000, "mcores/call")
	b.ReportMetric(perPacket, "µs/packet")
	b.ReportMetric(capacity, "capacity-calls")
	b.ReportMetric(rssPerCall/1024, "rss-KB/call")
	b.Logf("%d calls up (%d failed to set up), %.0f s window: the box used %.2f CPU s in %.1f s = %.3f cores",
		res.Established, res.SetupFailed, res.WindowS, cpu.Seconds(), wall.Seconds(), cores)
	b.Logf("packets: %d sent, %d relayed back to the generator, %d lost (%.4f %%), %d late >40 ms; one-way latency p50 %.0f ms, p99 %.0f ms, max %.1f ms; legs crossed %d, deaf %d",
		m.Sent, m.Received, m.Lost, 100*float64(m.Lost)/float64(max(m.Sent, 1)), m.Late, m.P50, m.P99, m.Max, m.Crossed, m.Deaf)
	// The per-packet target is relative (within 1.3× of a bare C relay),
	// and what a C relay costs depends on the machine: BenchmarkRelay
	// measures one under this generator, beside media/rtp alone.
	b.Logf("CPU per call %.3f mcores; per relayed packet %.2f µs, SIP and timers included (set against a bare C relay on this machine: BenchmarkRelay)",
		perCall*1000, perPacket)
	b.Logf("capacity %.1f cores ÷ CPU per call = %.0f calls (target ≥ %d: %s)",
		capacityCores, capacity, capacityTarget, verdict(capacity >= capacityTarget))
	b.Logf("RSS %.1f MB before the calls, %.1f MB with them: %.1f KB per call (target ≤ %d KB: %s)",
		mb(idleRSS), mb(loadRSS), rssPerCall/1024, rssPerCallTarget>>10, verdict(rssPerCall <= rssPerCallTarget))
	b.Logf("generator: %.2f CPU s in the window, worst tick lag %.1f ms; hang-ups failed %d, callee saw %d BYEs; errors: %s",
		res.GenCPUS, m.MaxTickLag, res.HangupFailed, res.CalleeEnded, fmtErrs(res.FirstErrors))
	if res.SetupFailed > 0 || m.Lost > 0 || m.Crossed > 0 || m.Deaf > 0 {
		b.Logf("rtpload's diagnosis: %s", res.Diag)
		b.Errorf("not clean at %d calls: %d setups failed, %d packets lost, %d legs crossed, %d deaf", n, res.SetupFailed, m.Lost, m.Crossed, m.Deaf)
	}
}
