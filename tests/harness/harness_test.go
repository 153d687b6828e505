package harness_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

func TestStartStopRestart(t *testing.T) {
	useFake(t, fakeServe)
	t.Setenv("APPLIANCE_LEAK", "from-the-test-environment")
	app := harness.Start(t, harness.Options{
		Env:  []string{"APPLIANCE_LOG_LEVEL=info"},
		Args: []string{"-extra", "flag"},
	})

	for _, url := range []string{app.URL(), app.HTTPSURL()} {
		var body string
		status, err := harness.NewClient(t, url).Do(http.MethodGet, "/readyz", nil, &body)
		if err != nil || status != http.StatusOK || body != "ok" {
			t.Errorf("GET %s/readyz = %d %q, %v; want 200 ok", url, status, body, err)
		}
	}
	line := app.WaitLog(t, "msg=listening", 5*time.Second)
	for _, want := range []string{"level=INFO", "http=" + strings.TrimPrefix(app.URL(), "http://"), "sip=" + app.SIPAddr()} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q (env, addresses)", line, want)
		}
	}
	if !strings.Contains(app.Log(), `leak="" args=["-extra" "flag"]`) {
		t.Errorf("the box saw APPLIANCE_* of the test environment or not the extra args; log:\n%s", app.Log())
	}
	if port, _ := strconv.Atoi(app.SIPAddr()[strings.LastIndexByte(app.SIPAddr(), ':')+1:]); port != app.SIPPort() {
		t.Errorf("SIPPort() = %d, SIPAddr() = %s", app.SIPPort(), app.SIPAddr())
	}
	pid, err := os.ReadFile(filepath.Join(app.DataDir(), "started"))
	if err != nil || string(pid) != strconv.Itoa(app.PID()) {
		t.Errorf("data dir holds pid %q (%v), want %d", pid, err, app.PID())
	}
	if exited, _ := app.Exited(); exited {
		t.Fatal("Exited() = true for a running box")
	}

	again := app.Restart(t)
	if exited, code := app.Exited(); !exited || code != 0 {
		t.Errorf("after Restart the first process: exited %v, code %d; want true, 0", exited, code)
	}
	if again.DataDir() != app.DataDir() || again.URL() != app.URL() || again.SIPAddr() != app.SIPAddr() {
		t.Errorf("Restart changed the data dir or addresses: %s %s %s → %s %s %s",
			app.DataDir(), app.URL(), app.SIPAddr(), again.DataDir(), again.URL(), again.SIPAddr())
	}
	if again.PID() == app.PID() {
		t.Errorf("Restart kept pid %d", app.PID())
	}
	again.Stop(t)
	if !strings.Contains(again.Log(), "msg=stopped") {
		t.Errorf("Stop did not send SIGTERM; log:\n%s", again.Log())
	}

	killed := harness.Start(t, harness.Options{})
	killed.Kill(t)
	if exited, code := killed.Exited(); !exited || code != -1 {
		t.Errorf("after Kill: exited %v, code %d; want true, -1 (a signal)", exited, code)
	}
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name string
		mode string
		env  map[string]string
		opts harness.Options
		body func(tb testing.TB, opts harness.Options)
		// wantInFailure must be in one of the failure messages: the
		// harness promises to show the box's log.
		wantInFailure string
	}{
		{
			name:          "exits before ready",
			mode:          fakeBadConfig,
			body:          func(tb testing.TB, o harness.Options) { harness.Start(tb, o) },
			wantInFailure: "config: http_addr: not a host:port",
		},
		{
			name:          "never ready",
			mode:          fakeNeverReady,
			opts:          harness.Options{ReadyTimeout: 500 * time.Millisecond},
			body:          func(tb testing.TB, o harness.Options) { harness.Start(tb, o) },
			wantInFailure: "msg=listening",
		},
		{
			name:          "Stop with a non-zero exit",
			mode:          fakeServe,
			env:           map[string]string{fakeTermExit: "3"},
			body:          func(tb testing.TB, o harness.Options) { harness.Start(tb, o).Stop(tb) },
			wantInFailure: "msg=stopped",
		},
		{
			name:          "Stop of a box that ignores SIGTERM",
			mode:          fakeServe,
			env:           map[string]string{fakeIgnoreTerm: "1"},
			opts:          harness.Options{StopTimeout: 300 * time.Millisecond},
			body:          func(tb testing.TB, o harness.Options) { harness.Start(tb, o).Stop(tb) },
			wantInFailure: "msg=listening",
		},
		{
			name: "cleanup of a box that ignores SIGTERM",
			mode: fakeServe,
			env:  map[string]string{fakeIgnoreTerm: "1"},
			opts: harness.Options{StopTimeout: 300 * time.Millisecond},
			body: func(tb testing.TB, o harness.Options) { harness.Start(tb, o) },
		},
		{
			name: "WaitLog times out",
			mode: fakeServe,
			body: func(tb testing.TB, o harness.Options) {
				harness.Start(tb, o).WaitLog(tb, "never logged", 200*time.Millisecond)
			},
			wantInFailure: "msg=listening",
		},
		{
			name: "WaitLog on a box that exited",
			mode: fakeServe,
			body: func(tb testing.TB, o harness.Options) {
				app := harness.Start(tb, o)
				app.Kill(tb)
				app.WaitLog(tb, "never logged", time.Minute)
			},
			wantInFailure: "msg=listening",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			useFake(t, tt.mode)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			rec := &recorder{TB: t}
			start := time.Now()
			rec.run(func(tb testing.TB) { tt.body(tb, tt.opts) })
			failures := rec.failures()
			if len(failures) == 0 {
				t.Fatal("the harness did not fail the test")
			}
			if tt.wantInFailure != "" && !strings.Contains(strings.Join(failures, "\n"), tt.wantInFailure) {
				t.Errorf("failure messages lack the log line %q:\n%s", tt.wantInFailure, strings.Join(failures, "\n"))
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("failing took %v: a bound is missing", d)
			}
			// Whatever failed, nothing is left running: the data dir
			// records the pid of the fake box.
			assertNoProcess(t, rec)
		})
	}
}

// assertNoProcess checks that no process started by the recorded test runs
// any more; the fake writes its pid to the "started" file of its data dir,
// which is a temp dir of the real test.
func assertNoProcess(t *testing.T, rec *recorder) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "started"))
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(string(b))
		if pid > 0 && processRuns(pid) {
			t.Errorf("fake appliance pid %d still runs after the test's cleanup", pid)
		}
	}
}

func processRuns(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	// Signal 0 tests for existence; a zombie also counts as gone, but the
	// harness reaps its children, so there is none.
	return p.Signal(syscall.Signal(0)) == nil
}

func TestClient(t *testing.T) {
	useFake(t, fakeServe)
	app := harness.Start(t, harness.Options{AdminPassword: "other-password-9"})

	type echo struct {
		Method string `json:"method"`
		Body   any    `json:"body"`
	}
	tests := []struct {
		name       string
		client     func(t *testing.T) *harness.Client
		method     string
		body       any
		wantStatus int
		wantCode   string // APIError code, "" for success
		wantBody   any
	}{
		{
			name:       "login then post with CSRF",
			client:     loggedIn(app, false),
			method:     http.MethodPost,
			body:       map[string]int{"a": 1},
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"a": float64(1)},
		},
		{
			name:       "login over HTTPS",
			client:     loggedIn(app, true),
			method:     http.MethodPut,
			body:       []byte(`[1,2]`),
			wantStatus: http.StatusOK,
			wantBody:   []any{float64(1), float64(2)},
		},
		{
			name: "post without CSRF token",
			client: func(t *testing.T) *harness.Client {
				c := loggedIn(app, false)(t)
				c.CSRF = ""
				return c
			},
			method:     http.MethodPost,
			body:       strings.NewReader(`{}`),
			wantStatus: http.StatusForbidden,
			wantCode:   "csrf",
		},
		{
			name:       "no login",
			client:     func(t *testing.T) *harness.Client { return app.Client(t) },
			method:     http.MethodGet,
			wantStatus: http.StatusUnauthorized,
			wantCode:   "unauthenticated",
		},
		{
			name: "bearer token",
			client: func(t *testing.T) *harness.Client {
				c := app.Client(t)
				c.Token = fakeBearer
				return c
			},
			method:     http.MethodDelete,
			wantStatus: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client(t)
			var got echo
			status, err := c.Do(tt.method, "/api/v1/echo", tt.body, &got)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (%v)", status, tt.wantStatus, err)
			}
			var apiErr *harness.APIError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("Do: %v", err)
			case tt.wantCode != "" && !errors.As(err, &apiErr):
				t.Fatalf("Do error = %v, want an *APIError", err)
			case tt.wantCode != "":
				if apiErr.Code != tt.wantCode || apiErr.Status != tt.wantStatus {
					t.Errorf("APIError = %+v, want code %q status %d", apiErr, tt.wantCode, tt.wantStatus)
				}
				return
			}
			if got.Method != tt.method || fmt.Sprint(got.Body) != fmt.Sprint(tt.wantBody) {
				t.Errorf("echo = %+v, want method %s body %v", got, tt.method, tt.wantBody)
			}
		})
	}

	t.Run("refused login", func(t *testing.T) {
		err := app.Client(t).Login("admin", harness.DefaultAdminPassword)
		var apiErr *harness.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != "bad_credentials" || apiErr.Field != "password" {
			t.Errorf("Login with a wrong password: %v, want APIError 401 bad_credentials on password", err)
		}
	})
}

// loggedIn returns a client constructor that logs in as admin.
func loggedIn(app *harness.App, https bool) func(t *testing.T) *harness.Client {
	return func(t *testing.T) *harness.Client {
		c := app.Client(t)
		if https {
			c = app.HTTPSClient(t)
		}
		if err := c.Login("admin", "other-password-9"); err != nil {
			t.Fatal(err)
		}
		if c.CSRF != fakeCSRF || !strings.Contains(string(c.User), `"admin"`) {
			t.Errorf("after Login: CSRF %q, User %s", c.CSRF, c.User)
		}
		return c
	}
}

func TestRun(t *testing.T) {
	useFake(t, fakeCLI)
	t.Setenv("APPLIANCE_LEAK", "from-the-test-environment")
	dataDir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		env      []string
		stdin    string
		wantOut  []string
		wantCode int
	}{
		{
			name:    "default data dir is a new temp dir",
			args:    []string{"export"},
			wantOut: []string{"args=export\n", "leak=\n"},
		},
		{
			name:    "env sets the data dir",
			args:    []string{"apply", "--dry-run", "file.yaml"},
			env:     []string{"APPLIANCE_DATA_DIR=" + dataDir},
			wantOut: []string{"args=apply --dry-run file.yaml\n", "data=" + dataDir + "\n"},
		},
		{
			name:    "stdin",
			args:    []string{"apply", "-"},
			stdin:   "users: []",
			wantOut: []string{"args=apply -\n", "stdin=users: []\n"},
		},
		{
			name:     "non-zero exit is returned",
			args:     []string{"fail"},
			wantOut:  []string{"args=fail\n"},
			wantCode: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				stdout, stderr string
				code           int
			)
			if tt.stdin != "" {
				stdout, stderr, code = harness.RunInput(t, tt.stdin, tt.args, tt.env...)
			} else {
				stdout, stderr, code = harness.Run(t, tt.args, tt.env...)
			}
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if !strings.Contains(stderr, "one-shot") {
				t.Errorf("stderr = %q, want the command's stderr", stderr)
			}
			if tt.env == nil {
				wd, _ := os.Getwd()
				if strings.Contains(stdout, "data=\n") || strings.Contains(stdout, "data="+wd) {
					t.Errorf("no temp data dir given:\n%s", stdout)
				}
			}
		})
	}
}

func TestFreePorts(t *testing.T) {
	tests := []struct {
		name string
		n    int
		udp  bool
	}{
		{"tcp", 5, false},
		{"tcp and udp", 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ports := harness.FreePorts(t, tt.n, tt.udp)
			seen := map[int]bool{}
			for _, p := range ports {
				if seen[p] {
					t.Errorf("port %d returned twice in %v", p, ports)
				}
				seen[p] = true
				addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Errorf("TCP %s not free: %v", addr, err)
					continue
				}
				ln.Close()
				if tt.udp {
					pc, err := net.ListenPacket("udp", addr)
					if err != nil {
						t.Errorf("UDP %s not free: %v", addr, err)
						continue
					}
					pc.Close()
				}
			}
		})
	}
	if p := harness.FreePort(t); p <= 0 {
		t.Errorf("FreePort = %d", p)
	}
	if p := harness.FreeUDPPort(t); p <= 0 {
		t.Errorf("FreeUDPPort = %d", p)
	}
}

func TestArtifactPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ARTIFACTS_DIR", dir)
	tests := []struct {
		name string
		file string
		want string
	}{
		{"plain", "shot.png", "TestArtifactPath_plain-shot.png"},
		{"with spaces/and slash", "a b.log", "TestArtifactPath_with_spaces_and_slash-a_b.log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := harness.ArtifactPath(t, tt.file); got != filepath.Join(dir, tt.want) {
				t.Errorf("ArtifactPath = %s, want %s", got, filepath.Join(dir, tt.want))
			}
		})
	}
}

func TestBinaryFromEnv(t *testing.T) {
	t.Setenv("APPLIANCE_BIN", os.Args[0])
	abs, _ := filepath.Abs(os.Args[0])
	if got := harness.Binary(t); got != abs {
		t.Errorf("Binary = %s, want APPLIANCE_BIN %s", got, abs)
	}
}
