package webui

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestUnknownAPIRouteIsJSON404(t *testing.T) {
	ts := newTestServer(t)
	for _, path := range []string{"/api/v1/nope", "/api/v2/users", "/api"} {
		resp, body := ts.do(t, session{}, http.MethodGet, path, nil)
		if code, _ := errorCode(body); resp.StatusCode != http.StatusNotFound || code != "not_found" {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	ts := newTestServer(t)
	big := append([]byte(`{"username":"`), bytes.Repeat([]byte("a"), maxJSON)...)
	big = append(big, `","password":"x"}`...)
	resp, body := ts.do(t, session{}, http.MethodPost, "/api/v1/login", big)
	if code, _ := errorCode(body); resp.StatusCode != http.StatusRequestEntityTooLarge || code != "too_large" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestUserAdministration(t *testing.T) {
	ts := newTestServer(t)
	s := ts.login(t, "admin", testPassword)

	for _, tc := range []struct {
		name      string
		body      map[string]any
		wantField string
	}{
		{"bad name", map[string]any{"name": "Bad Name!", "role": "agent", "password": "long-enough-1"}, "name"},
		{"bad role", map[string]any{"name": "carol", "role": "boss", "password": "long-enough-1"}, "role"},
		{"short password", map[string]any{"name": "carol", "role": "agent", "password": "short"}, "password"},
		{"bad language", map[string]any{"name": "carol", "role": "agent", "password": "long-enough-1", "language": "klingon"}, "language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.do(t, s, http.MethodPost, "/api/v1/users", tc.body)
			if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != tc.wantField {
				t.Fatalf("%d %s, want 400 field %s", resp.StatusCode, body, tc.wantField)
			}
		})
	}
	// Nothing of the refused requests was written.
	resp, body := ts.do(t, s, http.MethodGet, "/api/v1/users/carol", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("refused user exists: %d %s", resp.StatusCode, body)
	}

	create := map[string]any{"name": "carol", "display_name": "Carol", "role": "agent", "password": "long-enough-1", "language": "zh-CN"}
	if resp, body := ts.do(t, s, http.MethodPost, "/api/v1/users", create); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "password") {
		t.Fatalf("user view shows a password: %s", body)
	}
	resp, body = ts.do(t, s, http.MethodPost, "/api/v1/users", create)
	if code, field := errorCode(body); resp.StatusCode != http.StatusConflict || code != "exists" || field != "name" {
		t.Fatalf("duplicate: %d %s", resp.StatusCode, body)
	}
	carol := ts.login(t, "carol", "long-enough-1")

	resp, body = ts.do(t, s, http.MethodPatch, "/api/v1/users/carol", map[string]any{"disabled": true})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, carol, http.MethodGet, "/api/v1/me", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled user's session still works: %d", resp.StatusCode)
	}
	resp, body = ts.do(t, session{}, http.MethodPost, "/api/v1/login", map[string]string{"username": "carol", "password": "long-enough-1"})
	if code, _ := errorCode(body); resp.StatusCode != http.StatusForbidden || code != "disabled" {
		t.Fatalf("disabled login: %d %s", resp.StatusCode, body)
	}

	// The last enabled admin cannot be demoted, disabled or deleted.
	for _, tc := range []struct {
		method string
		body   any
	}{
		{http.MethodPatch, map[string]any{"role": "agent"}},
		{http.MethodPatch, map[string]any{"disabled": true}},
		{http.MethodDelete, nil},
	} {
		resp, body := ts.do(t, s, tc.method, "/api/v1/users/admin", tc.body)
		if code, _ := errorCode(body); resp.StatusCode != http.StatusConflict || code != "last_admin" {
			t.Fatalf("%s admin: %d %s", tc.method, resp.StatusCode, body)
		}
	}
	if resp, _ := ts.do(t, s, http.MethodGet, "/api/v1/me", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin lost access: %d", resp.StatusCode)
	}

	if resp, body := ts.do(t, s, http.MethodDelete, "/api/v1/users/carol", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, s, http.MethodGet, "/api/v1/audit-log", nil)
	for _, action := range []string{"user.create", "user.update", "user.delete"} {
		if !strings.Contains(string(body), action) {
			t.Errorf("audit log lacks %s: %s", action, body)
		}
	}
	resp, body = ts.do(t, s, http.MethodGet, "/api/v1/login-log?limit=5", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result":"disabled"`) {
		t.Fatalf("login log: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, s, http.MethodGet, "/api/v1/login-log?limit=5000", nil)
	if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != "limit" {
		t.Fatalf("bad limit: %d %s", resp.StatusCode, body)
	}
}

func TestBrandingAndPages(t *testing.T) {
	ts := newTestServer(t)
	req := func(path string) (*http.Response, []byte) { return ts.do(t, session{}, http.MethodGet, path, nil) }

	resp, body := req("/api/v1/branding")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"https_url":"https://example.com:8443"`) {
		t.Fatalf("branding: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/login", "/home", "/admin", "/workbench", "/assets/js/api.js", "/assets/css/app.css"} {
		resp, body := req(path)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: security headers missing", path)
		}
	}
	if resp, _ := req("/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login" {
		t.Errorf("/ anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestReadyz(t *testing.T) {
	ts := newTestServer(t)
	ready := false
	ts.opts.Ready = func() bool { return ready }
	if resp, _ := ts.do(t, session{}, http.MethodGet, "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz before ready: %d", resp.StatusCode)
	}
	ready = true
	if resp, _ := ts.do(t, session{}, http.MethodGet, "/readyz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz when ready: %d", resp.StatusCode)
	}
}
