package webui

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/event"
)

// apiErrorBody is the error shape with everything the routing API puts in it.
type apiErrorBody struct {
	Error struct {
		Code     string    `json:"code"`
		Field    string    `json:"field"`
		Message  string    `json:"message"`
		Problems []problem `json:"problems"`
		Lines    []struct {
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"lines"`
	} `json:"error"`
}

// refusal is one request that must be refused with status and field.
type refusal struct {
	name   string
	body   any
	status int
	field  string
}

// expectRefusals sends each request and checks the status and the field
// named.
func expectRefusals(t *testing.T, ts *testServer, s session, method, path string, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Helper()
			want := tc.status
			if want == 0 {
				want = http.StatusBadRequest
			}
			resp, body := ts.do(t, s, method, path, tc.body)
			if _, field := errorCode(body); resp.StatusCode != want || field != tc.field {
				t.Fatalf("%s %s: %d %s, want %d field %q", method, path, resp.StatusCode, body, want, tc.field)
			}
		})
	}
}

// expectStatus sends one request and fails unless it gets want.
func expectStatus(t *testing.T, ts *testServer, s session, method, path string, body any, want int) []byte {
	t.Helper()
	resp, data := ts.do(t, s, method, path, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	return data
}

// doRaw sends a body with its own content type (CSV uploads).
func (ts *testServer) doRaw(t *testing.T, s session, method, path, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", contentType)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.cookie})
	req.Header.Set(csrfHeader, s.csrf)
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

// events drains what the bus has published so far (Publish is
// synchronous, so everything a finished request published is there).
func events(sub *event.Subscription) []event.Event {
	var out []event.Event
	for len(sub.C()) > 0 {
		out = append(out, <-sub.C())
	}
	return out
}

// eventTypes lists the types of evs, in order.
func eventTypes(evs []event.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// auditActions lists the audit log's actions.
func auditActions(t *testing.T, db *store.DB) map[string]bool {
	t.Helper()
	var audits []store.AuditEntry
	if err := db.View(func(tx *store.Tx) (err error) { audits, err = tx.Audits(time.Time{}, time.Time{}, 0); return err }); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, a := range audits {
		out[a.Action] = true
	}
	return out
}

func wantActions(t *testing.T, db *store.DB, actions ...string) {
	t.Helper()
	have := auditActions(t, db)
	for _, a := range actions {
		if !have[a] {
			t.Errorf("audit log lacks %s (has %v)", a, have)
		}
	}
}

func putFixtures(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestTrunkAdministration(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	sub := ts.bus.Subscribe(256)
	defer sub.Close()

	valid := func(m map[string]any) map[string]any {
		body := map[string]any{"name": "carrier1", "kind": "register", "host": "sip.example.net", "username": "02180001234", "secret": "carrier-pw"}
		for k, v := range m {
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
		}
		return body
	}
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/trunks", []refusal{
		{"name missing", valid(map[string]any{"name": nil}), 0, "name"},
		{"name upper case", valid(map[string]any{"name": "Carrier"}), 0, "name"},
		{"name too long", valid(map[string]any{"name": strings.Repeat("a", 33)}), 0, "name"},
		{"kind missing", valid(map[string]any{"kind": nil}), 0, "kind"},
		{"kind unknown", valid(map[string]any{"kind": "peer"}), 0, "kind"},
		{"host missing", valid(map[string]any{"host": nil}), 0, "host"},
		{"host bad", valid(map[string]any{"host": "sip example"}), 0, "host"},
		{"port", valid(map[string]any{"port": 70000}), 0, "port"},
		{"transport", valid(map[string]any{"transport": "sctp"}), 0, "transport"},
		{"register without username", valid(map[string]any{"username": nil}), 0, "username"},
		{"username characters", valid(map[string]any{"username": "a b"}), 0, "username"},
		{"auth username", valid(map[string]any{"auth_username": "a@b"}), 0, "auth_username"},
		{"realm quote", valid(map[string]any{"realm": `a"b`}), 0, "realm"},
		{"from domain", valid(map[string]any{"from_domain": "-bad-"}), 0, "from_domain"},
		{"expires", valid(map[string]any{"expires": 10}), 0, "expires"},
		{"address", valid(map[string]any{"addresses": []string{"203.0.113.1/24"}}), 0, "addresses"},
		{"max calls", valid(map[string]any{"max_calls": -1}), 0, "max_calls"},
		{"calls per minute", valid(map[string]any{"calls_per_minute": 100000}), 0, "calls_per_minute"},
		{"codecs", valid(map[string]any{"codecs": []string{"G729"}}), 0, "codecs"},
		{"dtmf mode", valid(map[string]any{"dtmf_mode": "sip"}), 0, "dtmf_mode"},
		{"called from", valid(map[string]any{"called_from": "from"}), 0, "called_from"},
		{"caller from", valid(map[string]any{"caller_from": "to"}), 0, "caller_from"},
		{"options interval", valid(map[string]any{"options_interval": 1}), 0, "options_interval"},
		{"register without secret", valid(map[string]any{"secret": nil}), 0, "secret"},
		{"secret too long", valid(map[string]any{"secret": strings.Repeat("s", 129)}), 0, "secret"},
		{"secret control character", valid(map[string]any{"secret": "a\x01b"}), 0, "secret"},
		{"unknown field", valid(map[string]any{"sealed_secret": "v1:x"}), 0, "sealed_secret"},
		{"type", valid(map[string]any{"port": "5060"}), 0, "port"},
	})
	if body := expectStatus(t, ts, admin, http.MethodGet, "/api/v1/trunks", nil, http.StatusOK); string(body) != `{"trunks":[]}` {
		t.Fatalf("refused trunks were written: %s", body)
	}

	body := expectStatus(t, ts, admin, http.MethodPost, "/api/v1/trunks",
		valid(map[string]any{"codecs": []string{"PCMA"}, "dtmf_mode": "rfc4733", "addresses": []string{"203.0.113.0/24"}}), http.StatusCreated)
	if strings.Contains(string(body), "carrier-pw") || strings.Contains(string(body), "sealed") {
		t.Fatalf("trunk view shows the secret: %s", body)
	}
	var v trunkView
	mustJSON(t, body, &v)
	if !v.HasSecret || v.Kind != "register" || v.Host != "sip.example.net" || v.DTMFMode != "" || len(v.Codecs) != 1 || v.Created.IsZero() {
		t.Errorf("view = %+v", v)
	}
	var stored store.Trunk
	putFixtures(t, ts.db, func(tx *store.Tx) (err error) { stored, err = tx.Trunk("carrier1"); return err })
	if plain, err := ts.db.TrunkSecret(stored); err != nil || plain != "carrier-pw" {
		t.Errorf("stored secret opens as %q, %v", plain, err)
	}

	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/trunks", []refusal{
		{"duplicate", valid(nil), http.StatusConflict, "name"},
	})
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/trunks/carrier1", nil, http.StatusOK)
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/trunks/nosuch", nil, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodPatch, "/api/v1/trunks/nosuch", map[string]any{"host": "a.example"}, http.StatusNotFound)

	expectRefusals(t, ts, admin, http.MethodPatch, "/api/v1/trunks/carrier1", []refusal{
		{"port", map[string]any{"host": "new.example.net", "port": -1}, 0, "port"},
		{"kind", map[string]any{"kind": "x"}, 0, "kind"},
		{"remove secret of register trunk", map[string]any{"secret": ""}, 0, "secret"},
		{"unknown field", map[string]any{"name": "other"}, 0, "name"},
	})
	// Nothing of a refused patch was applied.
	body = expectStatus(t, ts, admin, http.MethodGet, "/api/v1/trunks/carrier1", nil, http.StatusOK)
	mustJSON(t, body, &v)
	if v.Host != "sip.example.net" || !v.HasSecret {
		t.Fatalf("a refused patch changed the trunk: %+v", v)
	}

	body = expectStatus(t, ts, admin, http.MethodPatch, "/api/v1/trunks/carrier1",
		map[string]any{"host": "203.0.113.5", "port": 5080, "secret": "new-pw"}, http.StatusOK)
	mustJSON(t, body, &v)
	if v.Host != "203.0.113.5" || v.Port != 5080 || !v.HasSecret {
		t.Errorf("patched view = %+v", v)
	}
	putFixtures(t, ts.db, func(tx *store.Tx) (err error) { stored, err = tx.Trunk("carrier1"); return err })
	if plain, err := ts.db.TrunkSecret(stored); err != nil || plain != "new-pw" {
		t.Errorf("patched secret opens as %q, %v", plain, err)
	}
	// An ip trunk needs no secret; "" removes it.
	body = expectStatus(t, ts, admin, http.MethodPatch, "/api/v1/trunks/carrier1", map[string]any{"kind": "ip", "secret": ""}, http.StatusOK)
	mustJSON(t, body, &v)
	if v.Kind != "ip" || v.HasSecret {
		t.Errorf("ip trunk view = %+v", v)
	}

	// A trunk a route or DID names cannot go.
	putFixtures(t, ts.db, func(tx *store.Tx) error {
		return tx.PutOutboundRoute(store.OutboundRoute{Name: "mobile", Patterns: []string{"1XXXXXXXXXX"}, Trunks: []string{"carrier1"}})
	})
	resp, data := ts.do(t, admin, http.MethodDelete, "/api/v1/trunks/carrier1", nil)
	var eb apiErrorBody
	mustJSON(t, data, &eb)
	if resp.StatusCode != http.StatusConflict || eb.Error.Code != "in_use" || !strings.Contains(eb.Error.Message, `"mobile"`) {
		t.Fatalf("delete of a used trunk: %d %s", resp.StatusCode, data)
	}
	putFixtures(t, ts.db, func(tx *store.Tx) error {
		if err := tx.DeleteOutboundRoute("mobile"); err != nil {
			return err
		}
		return tx.PutDID(store.DID{Number: "861088880000", Trunk: "carrier1", Destination: store.Destination{Type: store.DestHangup}})
	})
	resp, data = ts.do(t, admin, http.MethodDelete, "/api/v1/trunks/carrier1", nil)
	mustJSON(t, data, &eb)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(eb.Error.Message, "861088880000") {
		t.Fatalf("delete of a trunk a DID names: %d %s", resp.StatusCode, data)
	}
	putFixtures(t, ts.db, func(tx *store.Tx) error { return tx.DeleteDID("861088880000") })
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/trunks/carrier1", nil, http.StatusNoContent)
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/trunks/carrier1", nil, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/trunks/carrier1", nil, http.StatusNotFound)

	evs := events(sub)
	if got := strings.Join(eventTypes(evs), " "); got != "trunk.created trunk.updated trunk.updated trunk.deleted" {
		t.Errorf("events = %s", got)
	}
	for _, e := range evs {
		data, _ := json.Marshal(e.Data)
		if e.Subject != "trunk:carrier1" || strings.Contains(string(data), "pw") || strings.Contains(string(data), "sealed") {
			t.Errorf("event %s %s %s", e.Type, e.Subject, data)
		}
	}
	wantActions(t, ts.db, "trunk.create", "trunk.update", "trunk.delete")
}

// fakeTrunks is the SIP side as a test double.
type fakeTrunks struct {
	mu       sync.Mutex
	status   map[string]TrunkStatus
	traced   map[string]time.Duration
	traceErr error
}

func (f *fakeTrunks) Status(name string) (TrunkStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.status[name]
	return st, ok
}

func (f *fakeTrunks) Trace(name string, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.traceErr != nil {
		return f.traceErr
	}
	f.traced[name] = d
	return nil
}

func TestTrunkStatusAndTrace(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	putFixtures(t, ts.db, func(tx *store.Tx) error {
		for _, tr := range []store.Trunk{
			{Name: "reg", Kind: store.TrunkRegister, Host: "sip.example.net", Username: "u", SealedSecret: "v1:x"},
			{Name: "ip", Kind: store.TrunkIP, Host: "203.0.113.9"},
			{Name: "off", Kind: store.TrunkIP, Host: "203.0.113.10", Disabled: true},
		} {
			if err := tx.PutTrunk(tr); err != nil {
				return err
			}
		}
		return nil
	})
	status := func(name string) trunkStatusView {
		t.Helper()
		var v trunkStatusView
		mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/trunks/"+name+"/status", nil, http.StatusOK), &v)
		return v
	}

	// No SIP side: unknown, and traces refused.
	if v := status("reg"); v.State != "unknown" || v.Name != "reg" {
		t.Errorf("no SIP side: %+v", v)
	}
	if v := status("off"); v.State != "disabled" {
		t.Errorf("disabled trunk: %+v", v)
	}
	resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/trunks/reg/trace", map[string]any{"seconds": 30})
	if code, _ := errorCode(body); resp.StatusCode != http.StatusServiceUnavailable || code != "unavailable" {
		t.Errorf("trace without SIP side: %d %s", resp.StatusCode, body)
	}
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/trunks/nosuch/status", nil, http.StatusNotFound)

	until := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fake := &fakeTrunks{traced: map[string]time.Duration{}, status: map[string]TrunkStatus{
		"reg": {Registered: false, Up: true, LastError: "403 Forbidden"},
		"ip":  {Up: true, CallsActive: 3, LastChange: until},
	}}
	ts.opts.Trunks = fake
	if v := status("reg"); v.State != "down" || v.LastError != "403 Forbidden" || !v.Up {
		t.Errorf("unregistered register trunk: %+v", v)
	}
	if v := status("ip"); v.State != "up" || v.CallsActive != 3 || !v.LastChange.Equal(until) {
		t.Errorf("ip trunk: %+v", v)
	}
	if v := status("off"); v.State != "disabled" {
		t.Errorf("disabled trunk with SIP side: %+v", v)
	}
	fake.mu.Lock()
	fake.status["reg"] = TrunkStatus{Registered: true, RegisteredUntil: until, Up: true}
	fake.mu.Unlock()
	if v := status("reg"); v.State != "up" || !v.RegisteredUntil.Equal(until) {
		t.Errorf("registered trunk: %+v", v)
	}

	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/trunks/reg/trace", []refusal{
		{"negative", map[string]any{"seconds": -1}, 0, "seconds"},
		{"too long", map[string]any{"seconds": maxTraceSeconds + 1}, 0, "seconds"},
		{"type", map[string]any{"seconds": "60"}, 0, "seconds"},
	})
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/trunks/nosuch/trace", map[string]any{"seconds": 5}, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/trunks/reg/trace", map[string]any{"seconds": 120}, http.StatusAccepted)
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/trunks/ip/trace", nil, http.StatusAccepted)
	fake.mu.Lock()
	if fake.traced["reg"] != 2*time.Minute || fake.traced["ip"] != defaultTraceSeconds*time.Second {
		t.Errorf("traces started: %v", fake.traced)
	}
	fake.traceErr = errors.New("trunk not running")
	fake.mu.Unlock()
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/trunks/off/trace", nil, http.StatusServiceUnavailable)
	wantActions(t, ts.db, "trunk.trace")
}

// TestRoutingRoles: the trunk and routing API is the admin's alone;
// supervisors and agents are refused reads and writes alike.
func TestRoutingRoles(t *testing.T) {
	ts := newTestServer(t)
	prefixes := []string{"/api/v1/trunks", "/api/v1/dids", "/api/v1/inbound-default", "/api/v1/outbound-routes",
		"/api/v1/caller-pools", "/api/v1/blacklist", "/api/v1/outbound-policy", "/api/v1/regions"}
	n := 0
	for _, who := range []string{"supervisor", "agent"} {
		s := ts.login(t, who, testPassword)
		for _, r := range ts.apiRoutes() {
			if !hasAnyPrefix(r.path, prefixes) {
				continue
			}
			n++
			path := strings.NewReplacer(":name", "x", ":number", "13800138000", ":direction", "both").Replace(r.path)
			resp, body := ts.do(t, s, r.method, path, []byte("{}"))
			if code, _ := errorCode(body); resp.StatusCode != http.StatusForbidden || code != "forbidden" {
				t.Errorf("%s %s as %s: %d %s, want 403", r.method, path, who, resp.StatusCode, body)
			}
			want := PermConfigWrite
			if r.method == http.MethodGet {
				want = PermConfigRead
			}
			if r.perm != want {
				t.Errorf("%s %s needs %s, want %s", r.method, r.path, r.perm, want)
			}
		}
	}
	if n != 2*33 {
		t.Errorf("%d routing routes checked per role pair, want 66", n)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
