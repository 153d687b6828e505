package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultAdminPassword is the password of the admin user that Start gives a
// box through APPLIANCE_ADMIN_PASSWORD, unless Options.AdminPassword is set.
const DefaultAdminPassword = "admin-password-1"

// Default bounds of Start and Stop.
const (
	// DefaultReadyTimeout bounds the wait for /readyz after the start.
	DefaultReadyTimeout = 15 * time.Second
	// DefaultStopTimeout bounds the wait for the exit after SIGTERM, before
	// SIGKILL.
	DefaultStopTimeout = 10 * time.Second
)

// pollInterval is how often Start polls /readyz and WaitLog reads the log.
const pollInterval = 50 * time.Millisecond

// logTailLines is how much of the log a failed test shows.
const logTailLines = 200

// Options configure Start. The zero value starts a fresh box.
type Options struct {
	// DataDir is the data directory. Empty: a new temporary directory.
	// Give the DataDir() of an earlier App to start the same box again.
	DataDir string
	// AdminPassword is put in APPLIANCE_ADMIN_PASSWORD. Empty:
	// DefaultAdminPassword.
	AdminPassword string
	// Env holds extra KEY=value variables. They come after the ones Start
	// sets, so they override them.
	Env []string
	// Args holds extra command-line flags, after "run".
	Args []string
	// HTTPAddr, HTTPSAddr, SIPAddr and SIPTLSAddr are the listen addresses
	// (host:port). Empty: a free port on 127.0.0.1 (for SIP free for both
	// UDP and TCP).
	HTTPAddr, HTTPSAddr, SIPAddr, SIPTLSAddr string
	// Binary is the appliance binary. Empty: Binary(t).
	Binary string
	// ReadyTimeout bounds the wait for /readyz. Zero: DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// StopTimeout bounds the wait for the exit after SIGTERM. Zero:
	// DefaultStopTimeout.
	StopTimeout time.Duration
}

// App is one running appliance process.
type App struct {
	opts    Options // resolved: every address, the data dir and the binary set
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	state   *os.ProcessState
}

// Start starts the appliance and waits until GET /readyz answers 200. It
// fails the test, with the tail of the log, when the process exits first or
// is not ready within Options.ReadyTimeout. The process runs with
// APPLIANCE_DATA_DIR, APPLIANCE_HTTP_ADDR, APPLIANCE_HTTPS_ADDR,
// APPLIANCE_SIP_ADDR, APPLIANCE_SIP_TLS_ADDR, APPLIANCE_ADMIN_PASSWORD,
// APPLIANCE_PUBLIC_IP=127.0.0.1 and APPLIANCE_LOG_LEVEL=debug set
// (Options.Env overrides them), and none of the APPLIANCE_* variables of the
// test's own environment. Its stdout and stderr go to a log file.
//
// When the test ends the process gets SIGTERM, and SIGKILL after
// Options.StopTimeout (a test error: shutdown hung); if the test failed, the
// last 200 lines of the log are logged and the whole log is copied to the
// artifacts directory.
func Start(t testing.TB, opts Options) *App {
	t.Helper()
	opts = resolve(t, opts)
	logDir := t.TempDir()
	a := &App{
		opts:    opts,
		logPath: filepath.Join(logDir, "appliance.log"),
		done:    make(chan struct{}),
	}
	logFile, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("appliance log: %v", err)
	}
	a.cmd = exec.Command(opts.Binary, append([]string{"run"}, opts.Args...)...)
	a.cmd.Env = a.env()
	a.cmd.Stdout = logFile
	a.cmd.Stderr = logFile
	err = a.cmd.Start()
	logFile.Close() // the child holds its own copy
	if err != nil {
		t.Fatalf("start %s: %v", opts.Binary, err)
	}
	go func() {
		// The error is in the process state: a non-zero status or a
		// signal.
		_ = a.cmd.Wait()
		a.state = a.cmd.ProcessState
		close(a.done)
	}()
	t.Cleanup(func() { a.cleanup(t) })
	a.waitReady(t)
	return a
}

// resolve fills the empty fields of opts.
func resolve(t testing.TB, opts Options) Options {
	t.Helper()
	if opts.Binary == "" {
		opts.Binary = Binary(t)
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = DefaultAdminPassword
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	if opts.HTTPAddr == "" || opts.HTTPSAddr == "" || opts.SIPAddr == "" || opts.SIPTLSAddr == "" {
		// One call, so the four differ; each is free for UDP too, which
		// only SIP needs.
		ports := FreePorts(t, 4, true)
		addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
		if opts.HTTPAddr == "" {
			opts.HTTPAddr = addr(ports[0])
		}
		if opts.HTTPSAddr == "" {
			opts.HTTPSAddr = addr(ports[1])
		}
		if opts.SIPAddr == "" {
			opts.SIPAddr = addr(ports[2])
		}
		if opts.SIPTLSAddr == "" {
			opts.SIPTLSAddr = addr(ports[3])
		}
	}
	return opts
}

func (a *App) env() []string {
	env := WithoutAppliance(os.Environ())
	env = append(env,
		"APPLIANCE_DATA_DIR="+a.opts.DataDir,
		"APPLIANCE_HTTP_ADDR="+a.opts.HTTPAddr,
		"APPLIANCE_HTTPS_ADDR="+a.opts.HTTPSAddr,
		"APPLIANCE_SIP_ADDR="+a.opts.SIPAddr,
		"APPLIANCE_SIP_TLS_ADDR="+a.opts.SIPTLSAddr,
		"APPLIANCE_ADMIN_PASSWORD="+a.opts.AdminPassword,
		"APPLIANCE_PUBLIC_IP=127.0.0.1",
		"APPLIANCE_LOG_LEVEL=debug",
	)
	// exec.Cmd keeps the last value of a duplicate key, so these win.
	return append(env, a.opts.Env...)
}

// waitReady polls /readyz until it answers 200, the process exits, or the
// ready timeout passes.
func (a *App) waitReady(t testing.TB) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.NewTimer(a.opts.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	last := "no answer yet"
	for {
		resp, err := client.Get(a.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-a.done:
			t.Fatalf("appliance exited before it was ready (%v); log:\n%s", a.state, tail(a.Log(), logTailLines))
		case <-deadline.C:
			t.Fatalf("appliance not ready within %v (last /readyz: %s); log:\n%s", a.opts.ReadyTimeout, last, tail(a.Log(), logTailLines))
		case <-tick.C:
		}
	}
}

// terminate sends SIGTERM and waits up to the stop timeout; then SIGKILL. It
// reports whether the process stopped on SIGTERM.
func (a *App) terminate() (graceful bool) {
	select {
	case <-a.done:
		return true
	default:
	}
	// An error here means the process is already gone; Wait reports it.
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(a.opts.StopTimeout)
	defer timer.Stop()
	select {
	case <-a.done:
		return true
	case <-timer.C:
	}
	_ = a.cmd.Process.Kill()
	<-a.done // SIGKILL cannot be caught: the exit follows at once
	return false
}

func (a *App) cleanup(t testing.TB) {
	if !a.terminate() {
		t.Errorf("appliance (pid %d) did not exit within %v of SIGTERM and was killed", a.PID(), a.opts.StopTimeout)
	}
	if !t.Failed() {
		return
	}
	log := a.Log()
	t.Logf("appliance (pid %d, %v) log, last %d lines:\n%s", a.PID(), a.state, logTailLines, tail(log, logTailLines))
	path := ArtifactPath(t, fmt.Sprintf("appliance-%d.log", a.PID()))
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Logf("save the appliance log: %v", err)
		return
	}
	t.Logf("appliance log saved to %s", path)
}

// Stop sends SIGTERM and asserts a clean shutdown: exit status 0 within
// Options.StopTimeout.
func (a *App) Stop(t testing.TB) {
	t.Helper()
	if !a.terminate() {
		t.Fatalf("appliance (pid %d) did not exit within %v of SIGTERM and was killed; log:\n%s", a.PID(), a.opts.StopTimeout, tail(a.Log(), logTailLines))
	}
	if code := a.state.ExitCode(); code != 0 {
		t.Errorf("appliance exited with %v after SIGTERM, want exit status 0; log:\n%s", a.state, tail(a.Log(), logTailLines))
	}
}

// Kill sends SIGKILL, as a power cut would, and waits for the exit.
func (a *App) Kill(t testing.TB) {
	t.Helper()
	select {
	case <-a.done:
		return
	default:
	}
	if err := a.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill appliance: %v", err)
	}
	<-a.done
}

// Restart stops the box cleanly (as Stop) and starts it again with the same
// options: the same data directory, addresses and binary.
func (a *App) Restart(t testing.TB) *App {
	t.Helper()
	a.Stop(t)
	return Start(t, a.opts)
}

// URL returns the base URL of the HTTP listener, http://127.0.0.1:port.
func (a *App) URL() string { return "http://" + a.opts.HTTPAddr }

// HTTPSURL returns the base URL of the HTTPS listener (self-signed).
func (a *App) HTTPSURL() string { return "https://" + a.opts.HTTPSAddr }

// SIPAddr returns the SIP listen address (host:port, UDP and TCP).
func (a *App) SIPAddr() string { return a.opts.SIPAddr }

// SIPTLSAddr returns the SIP over TLS listen address (host:port).
func (a *App) SIPTLSAddr() string { return a.opts.SIPTLSAddr }

// SIPPort returns the SIP port.
func (a *App) SIPPort() int {
	_, p, _ := net.SplitHostPort(a.opts.SIPAddr)
	n, _ := strconv.Atoi(p)
	return n
}

// DataDir returns the data directory.
func (a *App) DataDir() string { return a.opts.DataDir }

// PID returns the process ID.
func (a *App) PID() int { return a.cmd.Process.Pid }

// Exited reports whether the process has exited, and its exit code (-1 when
// a signal ended it).
func (a *App) Exited() (exited bool, code int) {
	select {
	case <-a.done:
		return true, a.state.ExitCode()
	default:
		return false, 0
	}
}

// Log returns everything the process wrote to stdout and stderr so far.
func (a *App) Log() string {
	b, err := os.ReadFile(a.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	return string(b)
}

// WaitLog waits until a line of the log contains substr and returns that
// line. It fails the test when timeout passes first or the process exits
// without writing it.
func (a *App) WaitLog(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		exited := false
		select {
		case <-a.done:
			exited = true
		default:
		}
		// Read after the exit check: an exited process has written all.
		log := a.Log()
		if i := strings.Index(log, substr); i >= 0 {
			start := strings.LastIndexByte(log[:i], '\n') + 1
			end := len(log)
			if j := strings.IndexByte(log[i:], '\n'); j >= 0 {
				end = i + j
			}
			return log[start:end]
		}
		if exited {
			t.Fatalf("appliance exited (%v) without logging %q; log:\n%s", a.state, substr, tail(log, logTailLines))
		}
		select {
		case <-deadline.C:
			t.Fatalf("appliance did not log %q within %v; log:\n%s", substr, timeout, tail(log, logTailLines))
		case <-tick.C:
		}
	}
}

// insecureTLS is the client TLS config for the appliance's self-signed
// certificate.
func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the box under test has a self-signed certificate
}

// contextFor returns a context bounded by d, for one request.
func contextFor(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
