package bench

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Calls-per-second benchmark parameters.
const (
	// cpsStepTime is how long each rate of cpsSteps is tried.
	cpsStepTime = 5 * time.Second
	// cpsFinalTime is the length of the run at the highest clean rate.
	cpsFinalTime = 20 * time.Second
	// cpsMaxFailed is the largest share of failed calls that counts as
	// clean: 0.1 %.
	cpsMaxFailed = 0.001
	// cpsMinAchieved is the share of the asked rate SIPp must reach for a
	// step to count: below it the load generator, not the box, set the
	// pace, or calls queued up.
	cpsMinAchieved = 0.9
	cpsTarget      = 1500
	// The SIPp processes' addresses: each side its own loopback address.
	cpsCallerIP, cpsCalleeIP = "127.0.0.2", "127.0.0.3"
	// cpsExts callers (2001…) call as many callees (3001…), caller i
	// callee i, in turn: every extension has a call limit (at most
	// benchMaxCalls), and one caller and one callee would measure that
	// limit (calls up at once = rate × a call's length, which grows with
	// load) rather than the box's throughput.
	cpsExts                        = 20
	cpsCallerFirst, cpsCalleeFirst = 2001, 3001
	// cpsRecover is the pause after an overloaded sustained run, for the
	// box's backlog to drain before the next.
	cpsRecover = 5 * time.Second
	// sippRunSlack bounds one SIPp run beyond its nominal length.
	sippRunSlack = 30 * time.Second
)

// cpsSteps are the rates tried, each for cpsStepTime, until one fails.
// CPS is counted over SIPp's whole run, its start-up and the last call's
// end included, so a run offered 1,500/s achieves a little less: 1,650
// is the step that can show the target sustained.
var cpsSteps = []int{100, 200, 400, 600, 800, 1000, 1200, 1500, 1650, 1800, 2200}

// sippStats are the counters of SIPp's statistics file at the end of a run.
type sippStats struct {
	created, ok, failed int
	wall                time.Duration
}

func (s sippStats) failedShare() float64 {
	return float64(s.failed) / float64(max(s.created, 1))
}

func (s sippStats) cps() float64 { return float64(s.ok) / s.wall.Seconds() }

// BenchmarkCallsPerSecond drives short calls through the box with SIPp: a
// UAC on 127.0.0.2 as extensions 2001-2020 in turn calls 3001-3020, which
// a SIPp UAS on 127.0.0.3 registered first. Every INVITE is challenged and
// answered with MD5 digest (credentials from SIPp's injection file); the
// callee answers at once and the caller sends BYE as soon as it has ACKed,
// so each call is the whole signalling of a call and one CDR written
// (synced) by the box. The rate climbs through cpsSteps, cpsStepTime each,
// until failed calls reach 0.1 % or SIPp cannot reach 90 % of the rate;
// the highest clean rate then runs for cpsFinalTime while the box's CPU is
// read from /proc, one step lower each time it is not clean.
func BenchmarkCallsPerSecond(b *testing.B) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		b.Fatalf("sipp (Debian sip-tester) is needed: %v", err)
	}
	var final sippStats
	var best int
	var cpu time.Duration
	var steps []string
	for range b.N {
		app := callBox(b)
		provision(b, app, cpsCallerFirst, cpsExts)
		provision(b, app, cpsCalleeFirst, cpsExts)
		dir := b.TempDir()
		callees, callers := sippInjection(b, dir)
		scen := func(name string) string {
			p, err := filepath.Abs(filepath.Join("testdata", name))
			if err != nil {
				b.Fatal(err)
			}
			return p
		}
		calleePort := lowPort(b)
		box := app.SIPAddr()
		runSIPp(b, sipp, dir, time.Minute, box, "-sf", scen("sipp-register.xml"), "-inf", callees,
			"-auth_uri", "sip:"+box, "-i", cpsCalleeIP, "-p", strconv.Itoa(calleePort),
			"-m", strconv.Itoa(cpsExts), "-timeout", "20s", "-timeout_error")
		stopUAS := startSIPpUAS(b, sipp, dir, box, scen("sipp-uas.xml"), calleePort)

		callerPort := lowPort(b, calleePort)
		uac := func(rate int, d time.Duration) sippStats {
			stat := filepath.Join(dir, fmt.Sprintf("uac-%d-%d.csv", rate, time.Now().UnixNano()))
			calls := int(float64(rate) * d.Seconds())
			start := time.Now()
			runSIPp(b, sipp, dir, d+sippRunSlack, box, "-sf", scen("sipp-uac-auth.xml"), "-inf", callers,
				"-auth_uri", "sip:"+box, "-i", cpsCallerIP, "-p", strconv.Itoa(callerPort),
				"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-timeout", (d + sippRunSlack/2).String(),
				"-recv_timeout", "5000", "-trace_stat", "-stf", stat, "-fd", "1")
			st, err := readSIPpStats(stat)
			if err != nil {
				b.Fatalf("SIPp statistics: %v", err)
			}
			st.wall = time.Since(start)
			return st
		}

		best = 0
		for _, rate := range cpsSteps {
			st := uac(rate, cpsStepTime)
			clean := st.failedShare() < cpsMaxFailed && st.cps() >= cpsMinAchieved*float64(rate)
			steps = append(steps, fmt.Sprintf("%d/s: %d ok, %d failed, %.0f CPS achieved (%s)",
				rate, st.ok, st.failed, st.cps(), map[bool]string{true: "clean", false: "not clean"}[clean]))
			if !clean {
				break
			}
			best = rate
		}
		// One line: go test keeps only the first lines of a benchmark's log.
		b.Logf("steps: %s", strings.Join(steps, "; "))
		if best == 0 {
			stopUAS()
			b.Fatalf("no rate was clean: %s", strings.Join(steps, "; "))
		}
		// The 5 s steps can pass at a rate the box does not sustain (what
		// the box keeps per call for 32 s after it, the SIP transactions,
		// has not built up yet): the sustained run steps down until clean.
		for i := slices.Index(cpsSteps, best); i >= 0; i-- {
			best = cpsSteps[i]
			s := newCPUSampler(b, app.PID())
			s.mark("start")
			wait := profileBox(b, app, 12*time.Second) // BENCH_PROFILE; within the API client's 15 s bound
			final = uac(best, cpsFinalTime)
			s.mark("end")
			wait()
			cpu, _ = s.between("start", "end")
			if final.failedShare() < cpsMaxFailed && final.cps() >= cpsMinAchieved*float64(best) || i == 0 {
				break
			}
			b.Logf("sustained %d/s for %.1f s: %d ok, %d failed (%.2f %%), %.0f CPS, the box %.2f cores, %.0f µs per call: not clean, one step down; SIPp's errors: %s",
				best, final.wall.Seconds(), final.ok, final.failed, 100*final.failedShare(), final.cps(),
				cpu.Seconds()/final.wall.Seconds(), float64(cpu.Microseconds())/float64(max(final.ok, 1)),
				sippErrors(filepath.Join(dir, "errors.log")))
			time.Sleep(cpsRecover)
		}
		if final.failed > 0 {
			b.Logf("SIPp's errors in that run: %s", sippErrors(filepath.Join(dir, "errors.log")))
		}
		heapBox(b, app) // BENCH_HEAP: alloc_space shows what the calls allocated
		stopUAS()
		if exited, code := app.Exited(); exited {
			b.Fatalf("appliance exited (status %d) under load", code)
		}
		// The figures first: a slow shutdown must not hide them.
		reportCPS(b, best, final, cpu)
		app.Stop(b)
	}
}

// reportCPS reports the figures of the final run.
func reportCPS(b *testing.B, best int, final sippStats, cpu time.Duration) {
	hideNsPerOp(b)
	b.ReportMetric(final.cps(), "cps")
	b.ReportMetric(100*final.failedShare(), "failed-%")
	b.ReportMetric(cpu.Seconds()/final.wall.Seconds(), "box-cores")
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(final.ok, 1)), "box-µs/call")
	b.Logf("at %d/s for %.1f s: %d calls, %d ok, %d failed (%.3f %%), %.0f CPS (target ≥ %d: %s)",
		best, final.wall.Seconds(), final.created, final.ok, final.failed, 100*final.failedShare(),
		final.cps(), cpsTarget, verdict(final.cps() >= cpsTarget && final.failedShare() < cpsMaxFailed))
	b.Logf("the box used %.2f CPU s (%.2f cores), %.0f µs per call", cpu.Seconds(),
		cpu.Seconds()/final.wall.Seconds(), float64(cpu.Microseconds())/float64(max(final.ok, 1)))
}

// runSIPp runs SIPp to its end in dir, bounded by limit. A non-zero exit is
// normal when calls failed (the statistics say how many); a run that
// cannot start or overruns fails the benchmark.
func runSIPp(b *testing.B, bin, dir string, limit time.Duration, args ...string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	args = append(args, "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		b.Fatalf("sipp %s: still running after %v", strings.Join(args, " "), limit)
	case errors.As(err, &exit):
		// Failed calls; counted from the statistics.
	case err != nil:
		b.Fatalf("sipp: %v\n%s", err, out)
	}
}

// sippErrors summarises a SIPp error file: its distinct messages (call
// IDs, quoted values and numbers blanked), the most frequent first, with
// their counts.
func sippErrors(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	blank := regexp.MustCompile(`'[^']*'|\b[0-9][0-9.:]*\b`)
	counts := map[string]int{}
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" {
			counts[blank.ReplaceAllString(line, "_")]++
		}
	}
	msgs := slices.Collect(maps.Keys(counts))
	slices.SortFunc(msgs, func(a, b string) int { return counts[b] - counts[a] })
	var out []string
	for _, m := range msgs[:min(len(msgs), 3)] {
		out = append(out, fmt.Sprintf("%d× %s", counts[m], m))
	}
	if len(out) == 0 {
		return "none logged"
	}
	return strings.Join(out, " | ")
}

// startSIPpUAS starts the callee SIPp on port and returns its stop.
func startSIPpUAS(b *testing.B, bin, dir, box, scenario string, port int) (stop func()) {
	b.Helper()
	cmd := exec.Command(bin, box, "-sf", scenario, "-i", cpsCalleeIP, "-p", strconv.Itoa(port),
		"-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "uas-errors.log"))
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the SIPp UAS: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-done
	}
	b.Cleanup(stop)
	return stop
}

// errSIPpStats is returned when SIPp's statistics file lacks what is read.
var errSIPpStats = errors.New("SIPp statistics file without the final counters")

// readSIPpStats reads the last line of SIPp's -trace_stat file
// (semicolon-separated, a header line first).
func readSIPpStats(path string) (sippStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return sippStats{}, err
	}
	defer f.Close()
	return parseSIPpStats(f)
}

func parseSIPpStats(r interface{ Read([]byte) (int, error) }) (sippStats, error) {
	cr := csv.NewReader(r)
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return sippStats{}, fmt.Errorf("%w: %w", errSIPpStats, err)
	}
	if len(rows) < 2 {
		return sippStats{}, fmt.Errorf("%w: %d lines", errSIPpStats, len(rows))
	}
	head, last := rows[0], rows[len(rows)-1]
	get := func(name string) (int, error) {
		for i, h := range head {
			if h == name && i < len(last) {
				n, err := strconv.Atoi(strings.TrimSpace(last[i]))
				if err != nil {
					return 0, fmt.Errorf("%w: %s=%q", errSIPpStats, name, last[i])
				}
				return n, nil
			}
		}
		return 0, fmt.Errorf("%w: no %s", errSIPpStats, name)
	}
	var st sippStats
	for _, f := range []struct {
		name string
		dst  *int
	}{{"TotalCallCreated", &st.created}, {"SuccessfulCall(C)", &st.ok}, {"FailedCall(C)", &st.failed}} {
		if *f.dst, err = get(f.name); err != nil {
			return sippStats{}, err
		}
	}
	return st, nil
}

// sippInjection writes SIPp's injection files: the callees' lines for the
// registration ("NUMBER;[authentication …]") and the callers' ("CALLER;
// [authentication …];CALLEE"), used in turn. SIPp takes credentials from
// an injection file only as a whole [authentication] keyword in a field.
func sippInjection(b *testing.B, dir string) (callees, callers string) {
	b.Helper()
	var ce, cr strings.Builder
	ce.WriteString("SEQUENTIAL\n")
	cr.WriteString("SEQUENTIAL\n")
	for i := range cpsExts {
		callee, caller := strconv.Itoa(cpsCalleeFirst+i), strconv.Itoa(cpsCallerFirst+i)
		fmt.Fprintf(&ce, "%s;[authentication username=%s password=%s]\n", callee, callee, extSecretPrefix+callee)
		fmt.Fprintf(&cr, "%s;[authentication username=%s password=%s];%s\n", caller, caller, extSecretPrefix+caller, callee)
	}
	callees, callers = filepath.Join(dir, "callees.csv"), filepath.Join(dir, "callers.csv")
	for path, text := range map[string]string{callees: ce.String(), callers: cr.String()} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return callees, callers
}
