package tests

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/tests/harness"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestAPILoginFlow walks a person's session through the real box: login,
// me, a change refused without the CSRF token, logout, and the back-off
// after repeated wrong passwords.
func TestAPILoginFlow(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	admin := app.Client(t)
	if err := admin.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	var me struct {
		Name, Role string
		CSRF       string `json:"csrf_token"`
	}
	if _, err := admin.Do(http.MethodGet, "/api/v1/me", nil, &me); err != nil {
		t.Fatal(err)
	}
	if me.Name != "admin" || me.Role != "admin" || me.CSRF != admin.CSRF {
		t.Fatalf("me = %+v", me)
	}

	agent := map[string]string{"name": "amy", "role": "agent", "password": "amy-password-1", "display_name": "Amy"}
	if status, err := admin.Do(http.MethodPost, "/api/v1/users", agent, nil); err != nil || status != http.StatusCreated {
		t.Fatalf("create agent: %d %v", status, err)
	}

	// Without the CSRF header a cookie alone changes nothing.
	csrf := admin.CSRF
	admin.CSRF = ""
	_, err := admin.Do(http.MethodPut, "/api/v1/settings/system", map[string]string{"title": "Hotline"}, nil)
	wantAPIError(t, err, http.StatusForbidden, "csrf")
	admin.CSRF = csrf

	// An agent may not list users or administer anything.
	amy := app.Client(t)
	if err := amy.Login("amy", "amy-password-1"); err != nil {
		t.Fatal(err)
	}
	_, err = amy.Do(http.MethodGet, "/api/v1/users", nil, nil)
	wantAPIError(t, err, http.StatusForbidden, "forbidden")

	// Bad input names the field and writes nothing.
	_, err = admin.Do(http.MethodPost, "/api/v1/users", map[string]string{"name": "bob", "role": "agent", "password": "short"}, nil)
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	_, err = admin.Do(http.MethodGet, "/api/v1/users/bob", nil, nil)
	wantAPIError(t, err, http.StatusNotFound, "not_found")

	if status, err := amy.Do(http.MethodPost, "/api/v1/logout", nil, nil); err != nil || status != http.StatusNoContent {
		t.Fatalf("logout: %d %v", status, err)
	}
	_, err = amy.Do(http.MethodGet, "/api/v1/me", nil, nil)
	wantAPIError(t, err, http.StatusUnauthorized, "unauthenticated")

	// Five wrong passwords lock the account (and this address) for a while.
	guesser := app.Client(t)
	for i := 0; i < 5; i++ {
		wantAPIError(t, guesser.Login("amy", "wrong-password"), http.StatusUnauthorized, "bad_credentials")
	}
	wantAPIError(t, guesser.Login("amy", "amy-password-1"), http.StatusTooManyRequests, "locked")

	// Every attempt is in the login log.
	var log struct {
		Entries []struct{ User, Address, Result string }
	}
	if _, err := admin.Do(http.MethodGet, "/api/v1/login-log?limit=50", nil, &log); err != nil {
		t.Fatal(err)
	}
	results := map[string]int{}
	for _, e := range log.Entries {
		if e.User == "amy" {
			results[e.Result]++
			if e.Address != "127.0.0.1" {
				t.Errorf("login log address %q, want 127.0.0.1", e.Address)
			}
		}
	}
	if results["ok"] != 1 || results["bad_credentials"] != 5 || results["locked"] != 1 {
		t.Errorf("login log for amy: %v", results)
	}
}

// TestTrustedNetworkIsNotLockedOut: an office behind one address keeps
// working while one person mistypes.
func TestTrustedNetworkIsNotLockedOut(t *testing.T) {
	app := harness.Start(t, harness.Options{Env: []string{"APPLIANCE_TRUSTED_NETWORKS=127.0.0.0/8"}})
	c := app.Client(t)
	for i := 0; i < 8; i++ {
		wantAPIError(t, c.Login("admin", "wrong-password"), http.StatusUnauthorized, "bad_credentials")
	}
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatalf("login from a trusted network after failures: %v", err)
	}
}

// TestMetricsParse reads /metrics with the Prometheus text parser and checks
// the families the foundation promises.
func TestMetricsParse(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	if err := app.Client(t).Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(app.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, name := range []string{
		"pbx_build_info", "go_goroutines", "process_resident_memory_bytes",
		"pbx_store_lsm_bytes", "pbx_store_vlog_bytes", "pbx_store_schema_version",
		"pbx_http_requests_total", "pbx_web_logins_total",
	} {
		if _, ok := families[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if f := families["pbx_web_logins_total"]; f != nil {
		var ok bool
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "ok" && m.GetCounter().GetValue() >= 1 {
					ok = true
				}
			}
		}
		if !ok {
			t.Error(`pbx_web_logins_total{result="ok"} did not count the login`)
		}
	}
}

func wantAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae *harness.APIError
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("got %v, want HTTP %d %s", err, status, code)
	}
}
