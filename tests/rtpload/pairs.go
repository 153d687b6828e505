package main

// The pairs command drives a bare relay, with no SIP: a process that has
// bound pairs of UDP ports and relays each pair's two ports to each other
// (tests/crelay, tests/relayref) writes "portA portB" per pair to a file;
// pairs reads it, points one leg at each port and runs the media engine of
// calls (media.go) over it unchanged, so BenchmarkRelay compares relays
// under exactly the load BenchmarkConcurrentCalls puts on the box.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"time"
)

// Bounds of the ports file.
const (
	// maxPairs bounds the pairs a ports file may hold: two sockets each
	// here, and as many in the relay.
	maxPairs = 50000
	// portsPoll is how often the ports file is looked for.
	portsPoll = 20 * time.Millisecond
	// defaultPortsWait is how long the relay has to write the file.
	defaultPortsWait = 10 * time.Second
)

// errPortsFile is returned for a ports file that is not whole lines of
// two distinct ports each, or holds no pair or more than maxPairs.
var errPortsFile = errors.New("malformed ports file")

// pairsConfig is the pairs command's settings.
type pairsConfig struct {
	relayIP   string        // where the relay's ports are
	portsFile string        // the file the relay writes
	wait      time.Duration // how long to look for the file
	callerIP  string        // the A legs' address
	calleeIP  string        // the B legs'
	settle    time.Duration // after media starts, before the window
	window    time.Duration
}

// portPair is one line of the ports file: the relay's two ports of a pair.
type portPair struct{ a, b int }

// parsePortsFile reads "portA portB\n" lines. Every line must end in a
// newline, so a file caught half-written is refused rather than read
// short; no port may appear twice, since two legs sending to one port
// would cross.
func parsePortsFile(data []byte) ([]portPair, error) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("%w: empty or not ending in a newline", errPortsFile)
	}
	var pairs []portPair
	seen := map[int]bool{}
	for n, line := range bytes.Split(data[:len(data)-1], []byte("\n")) {
		if len(pairs) == maxPairs {
			return nil, fmt.Errorf("%w: more than %d pairs", errPortsFile, maxPairs)
		}
		f := bytes.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: line %d: want two ports, got %q", errPortsFile, n+1, line)
		}
		var p [2]int
		for k := range p {
			v, err := strconv.ParseUint(string(f[k]), 10, 16)
			if err != nil || v == 0 {
				return nil, fmt.Errorf("%w: line %d: port %q", errPortsFile, n+1, f[k])
			}
			if seen[int(v)] {
				return nil, fmt.Errorf("%w: line %d: port %d appears twice", errPortsFile, n+1, v)
			}
			seen[int(v)] = true
			p[k] = int(v)
		}
		pairs = append(pairs, portPair{a: p[0], b: p[1]})
	}
	return pairs, nil
}

// readPortsFile polls for name until it holds a whole ports file, for at
// most wait; the last problem seen is returned when it never does.
func readPortsFile(ctx context.Context, name string, wait time.Duration) ([]portPair, error) {
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(portsPoll)
	defer tick.Stop()
	for {
		data, err := os.ReadFile(name)
		if err == nil {
			var pairs []portPair
			if pairs, err = parsePortsFile(data); err == nil {
				return pairs, nil
			}
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("ports file %s after %v: %w", name, wait, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// pairsResult is the pairs command's final line, shaped like calls' so the
// benchmarks read both alike: a pair is a call whose legs were up at once.
type pairsResult struct {
	Event       string      `json:"event"`
	Pairs       int         `json:"pairs"`
	Calls       int         `json:"calls"`
	Established int         `json:"established"`
	SetupFailed int         `json:"setup_failed"`
	WindowS     float64     `json:"window_s"`
	Media       mediaResult `json:"media"`
	GenCPUS     float64     `json:"gen_cpu_s"`
	Diag        diagnosis   `json:"diag"`
}

// runPairs reads the relay's ports, sends media on every pair both ways
// and measures it over the window.
func runPairs(ctx context.Context, cfg pairsConfig, out *reporter) error {
	relay, err := netip.ParseAddr(cfg.relayIP)
	if err != nil || !relay.Is4() {
		return fmt.Errorf("%w: -relay-ip %q: not IPv4", errUsage, cfg.relayIP)
	}
	pairs, err := readPortsFile(ctx, cfg.portsFile, cfg.wait)
	if err != nil {
		return err
	}
	n := len(pairs)
	out.event("ports_read", map[string]any{"pairs": n})
	// Legs [0, n) are the A sides on callerIP, [n, 2n) the B sides on
	// calleeIP: the layout of calls, so its diagnosis reads them alike.
	m, err := newMedia(2*n, cfg.callerIP, cfg.calleeIP)
	if err != nil {
		return err
	}
	defer m.close()
	for i, p := range pairs {
		if err := m.activate(i, cfg.relayIP, p.a); err != nil {
			return err
		}
		if err := m.activate(n+i, cfg.relayIP, p.b); err != nil {
			return err
		}
	}
	out.event("established", map[string]any{"established": n, "failed": 0})

	mctx, stopMedia := context.WithCancel(ctx)
	waitMedia := m.run(mctx)
	defer func() { stopMedia(); waitMedia() }()
	res := pairsResult{Event: "result", Pairs: n, Calls: n, Established: n, WindowS: cfg.window.Seconds()}
	if res.GenCPUS, err = measure(ctx, m, cfg.settle, cfg.window, out); err != nil {
		return err
	}
	stopMedia()
	waitMedia()
	res.Media = m.result()
	// No SIP side answered anything: an empty callee side whose legs
	// were all handed out, so the diagnosis checks every B leg.
	callee := &calleeSide{}
	callee.next.Store(int64(2 * n))
	res.Diag = diagnose(m, callee, n)
	out.json(res)
	return nil
}

// measure waits settle (every leg's first packets latch the relay), then
// marks the window with window_start and window_end events, and waits for
// the packets sent just before its end. It returns this process's CPU
// seconds over the window.
func measure(ctx context.Context, m *media, settle, window time.Duration, out *reporter) (float64, error) {
	wait := func(d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	if err := wait(settle); err != nil {
		return 0, err
	}
	cpu0 := selfCPU()
	m.winStart.Store(m.now())
	out.event("window_start", nil)
	if err := wait(window); err != nil {
		return 0, err
	}
	m.winEnd.Store(m.now())
	out.event("window_end", nil)
	cpu := (selfCPU() - cpu0).Seconds()
	return cpu, wait(2 * lateAfter)
}
