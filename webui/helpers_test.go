package webui

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/event"
)

const testPassword = "password-123"

type testServer struct {
	*Server
	db  *store.DB
	bus *event.Bus
}

// newTestServer is a server on a fresh store with one user per role, named
// after the role.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	db, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := password.NewHasher(2, 4)
	hash, err := h.Hash(t.Context(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		for _, r := range roles() {
			if err := tx.PutUser(store.User{Name: string(r), Role: r, PasswordHash: hash, Created: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bus := event.NewBus(nil)
	s := New(Options{Store: db, Hasher: h, Bus: bus, HTTPSPort: 8443, Version: "test"})
	return &testServer{Server: s, db: db, bus: bus}
}

// session is a logged-in browser.
type session struct {
	cookie string
	csrf   string
	bearer string
}

func (ts *testServer) login(t *testing.T, user, pass string) session {
	t.Helper()
	resp, body := ts.do(t, session{}, http.MethodPost, "/api/v1/login", map[string]string{"username": user, "password": pass})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return session{cookie: c.Value, csrf: out.CSRF}
		}
	}
	t.Fatalf("login %s: no session cookie", user)
	return session{}
}

// do sends one request through fiber's test hook. body may be nil, a
// []byte (sent as is) or anything JSON-encodable.
func (ts *testServer) do(t *testing.T, s session, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	if s.cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.cookie})
	}
	if s.csrf != "" {
		req.Header.Set(csrfHeader, s.csrf)
	}
	if s.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+s.bearer)
	}
	resp, err := ts.App().Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// errorCode reads the API error shape's code ("" when the body is not one).
func errorCode(body []byte) (code, field string) {
	var e struct {
		Error struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code, e.Error.Field
}

func mustJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}
