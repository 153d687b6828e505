package webui

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func TestLoginFlow(t *testing.T) {
	ts := newTestServer(t)

	resp, body := ts.do(t, session{}, http.MethodGet, "/api/v1/me", nil)
	if code, _ := errorCode(body); resp.StatusCode != http.StatusUnauthorized || code != "unauthenticated" {
		t.Fatalf("me before login: %d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		name       string
		body       any
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"missing username", map[string]string{"password": "x"}, 400, "invalid", "username"},
		{"missing password", map[string]string{"username": "admin"}, 400, "invalid", "password"},
		{"unknown field", map[string]any{"username": "admin", "password": "x", "remember": true}, 400, "invalid", "remember"},
		{"wrong type", map[string]any{"username": 5, "password": "x"}, 400, "invalid", "username"},
		{"wrong password", map[string]string{"username": "admin", "password": "wrong-password"}, 401, "bad_credentials", ""},
		{"unknown user", map[string]string{"username": "ghost", "password": "wrong-password"}, 401, "bad_credentials", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.do(t, session{}, http.MethodPost, "/api/v1/login", tc.body)
			code, field := errorCode(body)
			if resp.StatusCode != tc.wantStatus || code != tc.wantCode || field != tc.wantField {
				t.Fatalf("got %d %s, want %d %s field %q", resp.StatusCode, body, tc.wantStatus, tc.wantCode, tc.wantField)
			}
		})
	}

	s := ts.login(t, "agent", testPassword)
	resp, body = ts.do(t, s, http.MethodGet, "/api/v1/me", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %d %s", resp.StatusCode, body)
	}

	// A change without the CSRF header is refused even with a valid cookie.
	noCSRF := session{cookie: s.cookie}
	resp, body = ts.do(t, noCSRF, http.MethodPost, "/api/v1/logout", nil)
	if code, _ := errorCode(body); resp.StatusCode != http.StatusForbidden || code != "csrf" {
		t.Fatalf("logout without CSRF: %d %s", resp.StatusCode, body)
	}
	resp, _ = ts.do(t, s, http.MethodPost, "/api/v1/logout", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp, _ = ts.do(t, s, http.MethodGet, "/api/v1/me", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", resp.StatusCode)
	}
}

func TestChangeOwnPasswordEndsOtherSessions(t *testing.T) {
	ts := newTestServer(t)
	a := ts.login(t, "agent", testPassword)
	b := ts.login(t, "agent", testPassword)

	resp, body := ts.do(t, a, http.MethodPut, "/api/v1/me/password", map[string]string{"current_password": "nope-nope", "new_password": "new-password-1"})
	if code, field := errorCode(body); resp.StatusCode != http.StatusForbidden || code != "bad_credentials" || field != "current_password" {
		t.Fatalf("wrong current: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, a, http.MethodPut, "/api/v1/me/password", map[string]string{"current_password": testPassword, "new_password": "short"})
	if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != "new_password" {
		t.Fatalf("short new: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, a, http.MethodPut, "/api/v1/me/password", map[string]string{"current_password": testPassword, "new_password": "new-password-1"})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("change: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, a, http.MethodGet, "/api/v1/me", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("own session after change: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, b, http.MethodGet, "/api/v1/me", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("other session after change: %d, want 401", resp.StatusCode)
	}
	ts.login(t, "agent", "new-password-1")
}

func TestBearerToken(t *testing.T) {
	ts := newTestServer(t)
	s := ts.login(t, "admin", testPassword)
	resp, body := ts.do(t, s, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ci"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %s", resp.StatusCode, body)
	}
	var tok struct{ Token, ID string }
	mustJSON(t, body, &tok)

	bearer := session{bearer: tok.Token}
	if resp, body := ts.do(t, bearer, http.MethodGet, "/api/v1/users", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("users with token: %d %s", resp.StatusCode, body)
	}
	// No CSRF needed with a bearer token.
	if resp, body := ts.do(t, bearer, http.MethodPut, "/api/v1/settings/system", map[string]string{"title": "Hotline"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("put with token: %d %s", resp.StatusCode, body)
	}
	bad := session{bearer: tok.Token + "x"}
	if resp, _ := ts.do(t, bad, http.MethodGet, "/api/v1/users", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, s, http.MethodDelete, "/api/v1/tokens/"+tok.ID, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete token: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, bearer, http.MethodGet, "/api/v1/users", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", resp.StatusCode)
	}
}

func TestLoginLockout(t *testing.T) {
	ts := newTestServer(t)
	for i := 0; i < freeFailures; i++ {
		resp, body := ts.do(t, session{}, http.MethodPost, "/api/v1/login", map[string]string{"username": "agent", "password": "wrong-password"})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i, resp.StatusCode, body)
		}
	}
	// Locked now: even the right password waits.
	resp, body := ts.do(t, session{}, http.MethodPost, "/api/v1/login", map[string]string{"username": "agent", "password": testPassword})
	if code, _ := errorCode(body); resp.StatusCode != http.StatusTooManyRequests || code != "locked" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("locked login: %d %s", resp.StatusCode, body)
	}
	// The address is locked too, for every account.
	resp, _ = ts.do(t, session{}, http.MethodPost, "/api/v1/login", map[string]string{"username": "admin", "password": testPassword})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("same address, other user: %d, want 429", resp.StatusCode)
	}
}

func TestLockoutPolicy(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	trusted := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	l := newLockout(clock, trusted)

	for i := 0; i < freeFailures-1; i++ {
		l.failed("alice", "192.0.2.1")
	}
	if w := l.blocked("alice", "192.0.2.1"); w != 0 {
		t.Fatalf("locked after %d failures: %v", freeFailures-1, w)
	}
	l.failed("alice", "192.0.2.1")
	if w := l.blocked("alice", "192.0.2.1"); w != lockBase {
		t.Fatalf("first lock = %v, want %v", w, lockBase)
	}
	if w := l.blocked("bob", "192.0.2.1"); w != lockBase {
		t.Fatalf("address lock for other user = %v, want %v", w, lockBase)
	}
	if w := l.blocked("alice", "198.51.100.7"); w != lockBase {
		t.Fatalf("account lock from other address = %v, want %v", w, lockBase)
	}
	// A trusted office address is never locked, even for a locked account.
	if w := l.blocked("alice", "10.1.2.3"); w != 0 {
		t.Fatalf("trusted address locked: %v", w)
	}
	l.failed("alice", "192.0.2.1")
	if w := l.blocked("alice", "192.0.2.1"); w != 2*lockBase {
		t.Fatalf("second lock = %v, want doubled", w)
	}
	for i := 0; i < 20; i++ {
		l.failed("alice", "192.0.2.1")
	}
	if w := l.blocked("alice", "192.0.2.1"); w != lockMax {
		t.Fatalf("lock = %v, want capped at %v", w, lockMax)
	}
	now = now.Add(lockMax + time.Second)
	if w := l.blocked("alice", "192.0.2.1"); w != 0 {
		t.Fatalf("still locked after the lock ran out: %v", w)
	}
	l.succeeded("alice", "192.0.2.1")
	l.failed("alice", "192.0.2.1")
	if w := l.blocked("alice", "192.0.2.1"); w != 0 {
		t.Fatalf("success did not reset the count: %v", w)
	}
}
