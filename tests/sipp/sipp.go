package sipp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout bounds a scenario when Options.Timeout is zero.
const DefaultTimeout = 20 * time.Second

// killGrace is how long past its own -timeout a SIPp process may run
// before it is killed: SIPp stops on -timeout by itself, this is for a
// SIPp that hangs.
const killGrace = 10 * time.Second

// pollInterval is how often WaitLog reads the log file.
const pollInterval = 20 * time.Millisecond

// tailBytes is how much of an output a failure message shows.
const tailBytes = 6000

// Options describe one SIPp run of one scenario, for one call (-m 1).
type Options struct {
	// Scenario is the path of the XML scenario (-sf).
	Scenario string
	// Substitute replaces, in the scenario's text, each key by its value
	// before SIPp reads it: for what SIPp takes only from the XML, such as
	// the status code a <recv response> expects.
	Substitute map[string]string
	// Remote is the appliance's host:port; empty for a scenario that only
	// answers (UAS).
	Remote string
	// IP is the peer's own loopback address (-i), e.g. 127.0.0.4.
	IP string
	// Port is its SIP port (-p). Zero: a free UDP port on IP, chosen now.
	Port int
	// MediaPort is SIPp's media port (-mp, on IP). Zero: a free one.
	MediaPort int
	// Service is the number called or registered (-s, [service]).
	Service string
	// User and Password answer digest challenges (-au, -ap); AuthURI is
	// the digest uri (-auth_uri), which SIPp 3.6.1 gets wrong unless told.
	User, Password, AuthURI string
	// Keys are [keyword] substitutions made when messages are sent (-key).
	Keys map[string]string
	// Timeout bounds the run (-timeout, a failure when reached). Zero:
	// DefaultTimeout.
	Timeout time.Duration
	// Args are extra flags.
	Args []string
}

// Process is one running SIPp.
type Process struct {
	opts     Options
	dir      string
	cmd      *exec.Cmd
	out      *buffer
	cancel   context.CancelFunc
	done     chan struct{}
	err      error // of Wait, set before done is closed
	started  time.Time
	finished time.Time
}

// Result is how a run ended.
type Result struct {
	// ExitCode is SIPp's exit status: 0 when every call succeeded, 1 when
	// one failed, 99 when none ran, negative on a fatal error; -1 too when
	// it was killed.
	ExitCode int
	// Err is the error of the wait, nil on exit status 0.
	Err error
	// Elapsed is the run's wall-clock time.
	Elapsed time.Duration
}

// Start runs SIPp with opts in the background. It fails the test when
// SIPp is not installed or cannot start; Wait reports how it ended. A
// process still running when the test ends is killed.
func Start(t testing.TB, opts Options) *Process {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipp is required (Debian package sip-tester; tests/run installs it): %v", err)
	}
	if opts.Port == 0 {
		opts.Port = FreeUDPPort(t, opts.IP)
	}
	if opts.MediaPort == 0 {
		opts.MediaPort = FreeMediaPort(t, opts.IP)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	dir := t.TempDir()
	scenario, err := prepareScenario(opts.Scenario, opts.Substitute, dir)
	if err != nil {
		t.Fatalf("sipp scenario: %v", err)
	}
	p := &Process{opts: opts, dir: dir, out: &buffer{}, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout+killGrace)
	p.cancel = cancel
	p.cmd = exec.CommandContext(ctx, bin, Args(opts, scenario, dir)...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.WaitDelay = 5 * time.Second
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.finished = time.Now()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cancel()
		<-p.done
	})
	return p
}

// Args returns SIPp's command line (without the program) for opts, with
// the scenario at scenario and its trace files in dir.
func Args(opts Options, scenario, dir string) []string {
	var a []string
	if opts.Remote != "" {
		a = append(a, opts.Remote)
	}
	a = append(a, "-sf", scenario,
		"-i", opts.IP, "-p", strconv.Itoa(opts.Port),
		"-mi", opts.IP, "-mp", strconv.Itoa(opts.MediaPort),
		"-m", "1", "-timeout", opts.Timeout.String(), "-timeout_error", "-nostdin",
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
		"-trace_logs", "-log_file", filepath.Join(dir, "logs.log"),
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	if opts.Service != "" {
		a = append(a, "-s", opts.Service)
	}
	if opts.User != "" {
		a = append(a, "-au", opts.User, "-ap", opts.Password)
	}
	if opts.AuthURI != "" {
		a = append(a, "-auth_uri", opts.AuthURI)
	}
	keys := make([]string, 0, len(opts.Keys))
	for k := range opts.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable command line for a failure message
	for _, k := range keys {
		a = append(a, "-key", k, opts.Keys[k])
	}
	return append(a, opts.Args...)
}

// prepareScenario copies the scenario into dir with the substitutions made.
func prepareScenario(path string, subst map[string]string, dir string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if len(subst) == 0 {
		return abs, nil
	}
	text, err := os.ReadFile(abs)
	if err != nil {
		return "", err
	}
	for k, v := range subst {
		if !bytes.Contains(text, []byte(k)) {
			return "", fmt.Errorf("%s has no %q to substitute", path, k)
		}
		text = bytes.ReplaceAll(text, []byte(k), []byte(v))
	}
	out := filepath.Join(dir, filepath.Base(path))
	return out, os.WriteFile(out, text, 0o644)
}

// Port returns SIPp's SIP port.
func (p *Process) Port() int { return p.opts.Port }

// Addr returns SIPp's SIP address, ip:port.
func (p *Process) Addr() string { return net.JoinHostPort(p.opts.IP, strconv.Itoa(p.opts.Port)) }

// MediaPort returns SIPp's media port.
func (p *Process) MediaPort() int { return p.opts.MediaPort }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the exit (bounded by the run's timeout plus a grace, then
// the process is killed) and returns how it ended.
func (p *Process) Wait() Result {
	<-p.done
	r := Result{Err: p.err, Elapsed: p.finished.Sub(p.started)}
	var exitErr *exec.ExitError
	switch {
	case p.err == nil:
	case errors.As(p.err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	default:
		r.ExitCode = -1
	}
	return r
}

// Messages returns the SIP messages SIPp sent and received so far
// (-trace_msg).
func (p *Process) Messages() string { return p.read("messages.log") }

// Logs returns what the scenario's <log> actions wrote so far.
func (p *Process) Logs() string { return p.read("logs.log") }

// Errors returns SIPp's error log (-trace_err).
func (p *Process) Errors() string { return p.read("errors.log") }

// Output returns what SIPp wrote to stdout and stderr (the last 64 KB).
func (p *Process) Output() string { return p.out.String() }

func (p *Process) read(name string) string {
	b, err := os.ReadFile(filepath.Join(p.dir, name))
	if err != nil {
		return ""
	}
	return string(b)
}

// Report is everything a failure message needs: the command line, the
// error log, the end of the output and of the message trace.
func (p *Process) Report() string {
	return fmt.Sprintf("sipp %s\n--- errors:\n%s\n--- output:\n%s\n--- messages:\n%s",
		strings.Join(Args(p.opts, p.opts.Scenario, p.dir), " "),
		tail(p.Errors(), tailBytes), tail(p.Output(), 2000), tail(p.Messages(), 3*tailBytes))
}

// WaitLog waits up to timeout for a line of the scenario's log that
// contains prefix and returns the rest of that line after prefix. It fails
// the test when the time passes or SIPp exits first.
func (p *Process) WaitLog(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		exited := false
		select {
		case <-p.done:
			exited = true
		default:
		}
		for _, line := range strings.Split(p.Logs(), "\n") {
			if i := strings.Index(line, prefix); i >= 0 {
				return strings.TrimSpace(line[i+len(prefix):])
			}
		}
		if exited {
			t.Fatalf("sipp exited without logging %q\n%s", prefix, p.Report())
		}
		select {
		case <-deadline.C:
			t.Fatalf("sipp did not log %q within %v\n%s", prefix, timeout, p.Report())
		case <-tick.C:
		}
	}
}

// WaitListening waits up to timeout until SIPp has bound its SIP port,
// as the kernel's socket table (/proc/net/udp) shows: a test cannot probe
// by binding the port itself without racing SIPp's own bind. It fails the
// test when the time passes or SIPp exits first.
func (p *Process) WaitListening(t testing.TB, timeout time.Duration) {
	t.Helper()
	want, err := procAddr(p.opts.IP, p.opts.Port)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		table, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			t.Fatalf("read the UDP socket table: %v", err)
		}
		if udpBound(string(table), want) {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("sipp exited before it listened on %s\n%s", p.Addr(), p.Report())
		case <-deadline.C:
			t.Fatalf("sipp did not listen on %s within %v\n%s", p.Addr(), timeout, p.Report())
		case <-tick.C:
		}
	}
}

// procAddr is ip:port as /proc/net/udp writes a local address: the IPv4
// address as a native-endian (little-endian here) 32-bit hex number, the
// port in hex.
func procAddr(ip string, port int) (string, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return "", fmt.Errorf("not an IPv4 address: %q", ip)
	}
	b := a.As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], port), nil
}

// udpBound reports whether the /proc/net/udp table has a socket bound to
// local (in procAddr's form).
func udpBound(table, local string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[1] == local {
			return true
		}
	}
	return false
}

// FreeUDPPort returns a UDP port on ip that was free a moment ago.
func FreeUDPPort(t testing.TB, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("free UDP port on %s: %v", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// FreeMediaPort returns an even UDP port on ip with the three above it
// free as well a moment ago: SIPp binds its audio and video ports and the
// RTCP port above each.
func FreeMediaPort(t testing.TB, ip string) int {
	t.Helper()
	const attempts = 50
	for range attempts {
		base := FreeUDPPort(t, ip) &^ 1
		if base+3 > 65535 {
			continue
		}
		var held []net.PacketConn
		ok := true
		for i := range 4 {
			c, err := net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(base+i)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no four free consecutive UDP ports on %s after %d attempts", ip, attempts)
	return 0
}

// buffer collects a child's output; safe for concurrent writes. It keeps
// the last 64 KB.
type buffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 64<<10 {
		b.buf = b.buf[len(b.buf)-64<<10:]
	}
	return len(p), nil
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
