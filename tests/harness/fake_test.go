package harness_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeEnv selects what the test binary does when it runs as a fake
// appliance: the harness is tested against it, since the real one is what
// the harness exists to test.
const fakeEnv = "CCBOX_FAKE_APPLIANCE"

// Fake appliance modes.
const (
	fakeServe      = "serve"       // the contract: HTTP, HTTPS, SIP, login, SIGTERM → 0
	fakeBadConfig  = "bad-config"  // one line on stderr, exit 2
	fakeNeverReady = "never-ready" // /readyz stays 503
	fakeCLI        = "cli"         // a one-shot command: prints its args
)

// Variables that tune the serve mode.
const (
	fakeTermExit   = "CCBOX_FAKE_TERM_EXIT"   // exit status after SIGTERM
	fakeIgnoreTerm = "CCBOX_FAKE_IGNORE_TERM" // "1": SIGTERM is ignored
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeAppliance(mode))
	}
	os.Exit(m.Run())
}

// Fake credentials and tokens.
const (
	fakeSession = "session-1"
	fakeCSRF    = "csrf-1"
	fakeBearer  = "api-token-1"
)

func fakeAppliance(mode string) int {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	switch mode {
	case fakeBadConfig:
		logf("config: http_addr: not a host:port")
		return 2
	case fakeCLI:
		fmt.Printf("args=%s\n", strings.Join(os.Args[1:], " "))
		fmt.Printf("data=%s\n", os.Getenv("APPLIANCE_DATA_DIR"))
		fmt.Printf("leak=%s\n", os.Getenv("APPLIANCE_LEAK"))
		if in, _ := io.ReadAll(os.Stdin); len(in) > 0 {
			fmt.Printf("stdin=%s\n", in)
		}
		logf("level=WARN msg=%q", "one-shot")
		if len(os.Args) > 1 && os.Args[1] == "fail" {
			return 3
		}
		return 0
	case fakeServe, fakeNeverReady:
	default:
		logf("unknown fake mode %q", mode)
		return 70
	}
	if len(os.Args) < 2 || os.Args[1] != "run" {
		logf("want the run subcommand, got %q", os.Args[1:])
		return 64
	}
	// A box that ignores SIGTERM never receives on term.
	term := make(chan os.Signal, 1)
	if os.Getenv(fakeIgnoreTerm) == "1" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(term, syscall.SIGTERM)
	}

	dataDir := os.Getenv("APPLIANCE_DATA_DIR")
	if err := os.WriteFile(filepath.Join(dataDir, "started"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		logf("data dir: %v", err)
		return 1
	}
	sip, err := net.ListenPacket("udp", os.Getenv("APPLIANCE_SIP_ADDR"))
	if err != nil {
		logf("sip: %v", err)
		return 1
	}
	defer sip.Close()

	start := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		// Not ready at first, so Start has to poll.
		if mode == fakeNeverReady || time.Since(start) < 200*time.Millisecond {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /api/v1/login", func(w http.ResponseWriter, r *http.Request) {
		var creds struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&creds); err != nil {
			fakeError(w, http.StatusBadRequest, "bad_json", "")
			return
		}
		if creds.Username != "admin" || creds.Password != os.Getenv("APPLIANCE_ADMIN_PASSWORD") {
			fakeError(w, http.StatusUnauthorized, "bad_credentials", "password")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "ccbox_session", Value: fakeSession, Path: "/", HttpOnly: true})
		json.NewEncoder(w).Encode(map[string]any{"user": map[string]string{"username": "admin"}, "csrf_token": fakeCSRF})
	})
	mux.HandleFunc("/api/v1/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fakeBearer {
			if c, err := r.Cookie("ccbox_session"); err != nil || c.Value != fakeSession {
				fakeError(w, http.StatusUnauthorized, "unauthenticated", "")
				return
			}
			if r.Method != http.MethodGet && r.Header.Get("X-CSRF-Token") != fakeCSRF {
				fakeError(w, http.StatusForbidden, "csrf", "")
				return
			}
		}
		body, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "body": json.RawMessage(orNull(body))})
	})

	httpLn, err := net.Listen("tcp", os.Getenv("APPLIANCE_HTTP_ADDR"))
	if err != nil {
		logf("http: %v", err)
		return 1
	}
	go http.Serve(httpLn, mux)
	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Listener.Close()
	if tlsSrv.Listener, err = net.Listen("tcp", os.Getenv("APPLIANCE_HTTPS_ADDR")); err != nil {
		logf("https: %v", err)
		return 1
	}
	tlsSrv.StartTLS()

	logf("level=%s msg=listening http=%s https=%s sip=%s", strings.ToUpper(os.Getenv("APPLIANCE_LOG_LEVEL")),
		httpLn.Addr(), tlsSrv.Listener.Addr(), sip.LocalAddr())
	logf("leak=%q args=%q", os.Getenv("APPLIANCE_LEAK"), os.Args[2:])
	<-term
	logf("msg=stopped")
	code, _ := strconv.Atoi(os.Getenv(fakeTermExit))
	return code
}

func fakeError(w http.ResponseWriter, status int, code, field string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": "refused: " + code, "field": field}})
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// useFake makes the harness run this test binary as the appliance, in mode.
func useFake(t *testing.T, mode string) {
	t.Setenv("APPLIANCE_BIN", os.Args[0])
	t.Setenv(fakeEnv, mode)
	// Failure paths save logs as artifacts: keep them out of the tree.
	t.Setenv("ARTIFACTS_DIR", t.TempDir())
	// Under -race the fake would wait a second at exit for late reports.
	t.Setenv("GORACE", "atexit_sleep_ms=0")
}

// recorder is a testing.TB that records failures instead of failing, so the
// tests can check that the harness fails a test when it should. Fatal ends
// the goroutine as the real one does.
type recorder struct {
	testing.TB // the real test: TempDir, Name, Logf, Setenv

	mu       sync.Mutex
	fatals   []string
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.fatals)+len(r.errs) > 0
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// run calls f as a test body on its own goroutine (so Fatal can end it),
// then runs the recorded cleanups, last first, as the testing package does.
func (r *recorder) run(f func(tb testing.TB)) {
	inGoroutine := func(f func()) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			f()
		}()
		<-done
	}
	inGoroutine(func() { f(r) })
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		inGoroutine(r.cleanups[i])
	}
}

// failures returns every recorded fatal and error message.
func (r *recorder) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(append([]string(nil), r.fatals...), r.errs...)
}
