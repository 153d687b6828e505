package tests

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/tests/harness"
)

// TestSmoke starts the real box and checks the external contract every other
// end-to-end test stands on: health endpoints on HTTP and HTTPS, the admin
// login with its session cookie and CSRF token, a clean shutdown, and a
// restart on the same data directory.
func TestSmoke(t *testing.T) {
	app := harness.Start(t, harness.Options{})

	endpoints := []struct {
		name, base, path string
	}{
		{"HTTP readyz", app.URL(), "/readyz"},
		{"HTTP healthz", app.URL(), "/healthz"},
		{"HTTP metrics", app.URL(), "/metrics"},
		{"HTTPS readyz", app.HTTPSURL(), "/readyz"},
	}
	for _, e := range endpoints {
		t.Run(e.name, func(t *testing.T) {
			var body string
			status, err := harness.NewClient(t, e.base).Do(http.MethodGet, e.path, nil, &body)
			if err != nil || status != http.StatusOK {
				t.Fatalf("status %d, %v; want 200", status, err)
			}
			if e.path == "/metrics" && !strings.Contains(body, "# TYPE ") {
				t.Errorf("/metrics is not in the Prometheus text format:\n%.500s", body)
			}
		})
	}

	logins := []struct {
		name       string
		client     *harness.Client
		password   string
		wantRefuse bool
	}{
		{"admin over HTTP", app.Client(t), harness.DefaultAdminPassword, false},
		{"admin over HTTPS", app.HTTPSClient(t), harness.DefaultAdminPassword, false},
		{"wrong password", app.Client(t), "not-the-password", true},
	}
	for _, l := range logins {
		t.Run("login "+l.name, func(t *testing.T) {
			err := l.client.Login("admin", l.password)
			if l.wantRefuse {
				var apiErr *harness.APIError
				if !errors.As(err, &apiErr) || apiErr.Status < 400 || apiErr.Status >= 500 || apiErr.Code == "" {
					t.Fatalf("login with a wrong password: %v; want a 4xx error envelope with a code", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.client.CSRF == "" {
				t.Error("login gave no csrf_token")
			}
			u, _ := url.Parse(l.client.BaseURL)
			if !hasCookie(l.client.HTTP.Jar.Cookies(u), harness.SessionCookie) {
				t.Errorf("login set no %s cookie", harness.SessionCookie)
			}
		})
	}

	again := app.Restart(t)
	if err := again.Client(t).Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatalf("login after a restart on the same data dir: %v", err)
	}
	again.Stop(t)
}

func hasCookie(cookies []*http.Cookie, name string) bool {
	for _, c := range cookies {
		if c.Name == name && c.Value != "" {
			return true
		}
	}
	return false
}

// TestConfigErrorExits2 checks the contract for a bad command line: exit
// status 2, the problem on stderr, nothing written to the data directory.
func TestConfigErrorExits2(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"run", "-no-such-flag"}},
		{"unknown subcommand", []string{"no-such-command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			_, stderr, code := harness.Run(t, tt.args, "APPLIANCE_DATA_DIR="+dataDir)
			if code != 2 {
				t.Errorf("exit status %d, want 2; stderr:\n%s", code, stderr)
			}
			if strings.TrimSpace(stderr) == "" {
				t.Error("nothing on stderr")
			}
			if entries, err := os.ReadDir(dataDir); err != nil || len(entries) > 0 {
				t.Errorf("the data dir holds %d entries (%v), want none", len(entries), err)
			}
		})
	}
}
