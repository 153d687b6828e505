package webui

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/event"
)

func TestExtensionAdministration(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	sub := ts.bus.Subscribe(64)
	defer sub.Close()

	valid := func(m map[string]any) map[string]any {
		body := map[string]any{"number": "1001", "secret": "long-secret"}
		for k, v := range m {
			body[k] = v
		}
		return body
	}
	for _, tc := range []struct {
		name      string
		body      map[string]any
		wantField string
	}{
		{"number too short", valid(map[string]any{"number": "1"}), "number"},
		{"number leading 0", valid(map[string]any{"number": "0101"}), "number"},
		{"number letters", valid(map[string]any{"number": "10a1"}), "number"},
		{"secret too short", valid(map[string]any{"secret": "short"}), "secret"},
		{"secret missing", map[string]any{"number": "1001"}, "secret"},
		{"secret is the number", valid(map[string]any{"number": "10011001", "secret": "10011001"}), "secret"},
		{"name too long", valid(map[string]any{"name": strings.Repeat("n", 65)}), "name"},
		{"bad user name", valid(map[string]any{"user": "Bad Name"}), "user"},
		{"unknown user", valid(map[string]any{"user": "nobody"}), "user"},
		{"max calls", valid(map[string]any{"max_calls": 101}), "max_calls"},
		{"codec", valid(map[string]any{"codecs": []string{"G729"}}), "codecs"},
		{"codec twice", valid(map[string]any{"codecs": []string{"PCMU", "PCMU"}}), "codecs"},
		{"max calls type", valid(map[string]any{"max_calls": "two"}), "max_calls"},
		{"unknown field", valid(map[string]any{"ha1_md5": "x"}), "ha1_md5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/extensions", tc.body)
			if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != tc.wantField {
				t.Fatalf("%d %s, want 400 field %s", resp.StatusCode, body, tc.wantField)
			}
		})
	}
	if resp, body := ts.do(t, admin, http.MethodGet, "/api/v1/extensions", nil); resp.StatusCode != http.StatusOK ||
		string(body) != `{"extensions":[]}` {
		t.Fatalf("refused extensions were written: %d %s", resp.StatusCode, body)
	}

	create := valid(map[string]any{"name": "Front desk", "user": "agent", "max_calls": 3, "codecs": []string{"PCMA"}})
	resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/extensions", create)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "secret") || strings.Contains(string(body), "ha1") {
		t.Fatalf("extension view shows the secret: %s", body)
	}
	var view extensionView
	mustJSON(t, body, &view)
	if view.Number != "1001" || view.Name != "Front desk" || view.User != "agent" || view.MaxCalls != 3 ||
		!reflect.DeepEqual(view.Codecs, []string{"PCMA"}) {
		t.Errorf("view = %+v", view)
	}

	// Stored as the HA1s of the secret under the box's realm.
	var realm string
	var ext store.Extension
	err := ts.db.View(func(tx *store.Tx) (err error) {
		if realm, err = tx.Realm(); err != nil {
			return err
		}
		ext, err = tx.Extension("1001")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if m, s := provision.HA1("1001", realm, "long-secret"); ext.HA1MD5 != m || ext.HA1SHA256 != s {
		t.Errorf("stored HA1s do not match the secret: %+v", ext)
	}

	resp, body = ts.do(t, admin, http.MethodPost, "/api/v1/extensions", create)
	if code, field := errorCode(body); resp.StatusCode != http.StatusConflict || code != "exists" || field != "number" {
		t.Fatalf("duplicate: %d %s", resp.StatusCode, body)
	}

	// A supervisor may read, not write; an agent neither.
	sup := ts.login(t, "supervisor", testPassword)
	if resp, body := ts.do(t, sup, http.MethodGet, "/api/v1/extensions/1001", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("supervisor read: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, sup, http.MethodPatch, "/api/v1/extensions/1001", map[string]any{"name": "x"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("supervisor write: %d", resp.StatusCode)
	}

	for _, tc := range []struct {
		name      string
		body      map[string]any
		wantField string
	}{
		{"bad codecs", map[string]any{"codecs": []string{"opus"}}, "codecs"},
		{"unknown user", map[string]any{"user": "nobody"}, "user"},
		{"max calls", map[string]any{"max_calls": -1}, "max_calls"},
	} {
		resp, body := ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", tc.body)
		if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != tc.wantField {
			t.Errorf("patch %s: %d %s, want 400 field %s", tc.name, resp.StatusCode, body, tc.wantField)
		}
	}
	resp, body = ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001",
		map[string]any{"name": "Lobby", "user": "", "codecs": []string{}, "disabled": true})
	mustJSON(t, body, &view)
	if resp.StatusCode != http.StatusOK || view.Name != "Lobby" || view.User != "" || len(view.Codecs) != 0 ||
		!view.Disabled || view.MaxCalls != 3 {
		t.Fatalf("patch: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/9999", map[string]any{"name": "x"}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("patch missing: %d", resp.StatusCode)
	}

	// Secret: validated, replaced, never echoed.
	resp, body = ts.do(t, admin, http.MethodPost, "/api/v1/extensions/1001/secret", map[string]any{"secret": "1001"})
	if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != "secret" {
		t.Errorf("short secret: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, admin, http.MethodPost, "/api/v1/extensions/1001/secret", map[string]any{"secret": "new-long-secret"})
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "new-long-secret") {
		t.Fatalf("set secret: %d %s", resp.StatusCode, body)
	}
	ts.db.View(func(tx *store.Tx) (err error) { ext, err = tx.Extension("1001"); return err })
	if m, _ := provision.HA1("1001", realm, "new-long-secret"); ext.HA1MD5 != m {
		t.Error("the new secret was not stored")
	}
	if resp, _ := ts.do(t, admin, http.MethodPost, "/api/v1/extensions/9999/secret", map[string]any{"secret": "new-long-secret"}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("secret of a missing extension: %d", resp.StatusCode)
	}

	if resp, body := ts.do(t, admin, http.MethodDelete, "/api/v1/extensions/1001", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, admin, http.MethodGet, "/api/v1/extensions/1001", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleted extension still there: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, admin, http.MethodDelete, "/api/v1/extensions/1001", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: %d", resp.StatusCode)
	}

	_, body = ts.do(t, admin, http.MethodGet, "/api/v1/audit-log", nil)
	for _, action := range []string{"extension.create", "extension.update", "extension.secret", "extension.delete"} {
		if !strings.Contains(string(body), action) {
			t.Errorf("audit log lacks %s", action)
		}
	}

	var got []string
	for len(sub.C()) > 0 {
		e := <-sub.C()
		if strings.HasPrefix(e.Type, "extension.") {
			got = append(got, e.Type+" "+e.Subject)
		}
	}
	want := []string{
		"extension.created extension:1001",
		"extension.updated extension:1001", // patch
		"extension.updated extension:1001", // secret
		"extension.deleted extension:1001",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// TestNumberingPlanAPI: extensions and agent numbers share one namespace,
// checked in the write transaction of either API.
func TestNumberingPlanAPI(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	if resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/extensions",
		map[string]any{"number": "1001", "secret": "long-secret", "user": "agent"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create extension: %d %s", resp.StatusCode, body)
	}

	steps := []struct {
		name       string
		method     string
		path       string
		body       map[string]any
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"agent number format", http.MethodPatch, "/api/v1/users/agent", map[string]any{"agent_number": "12a"}, 400, "invalid", "agent_number"},
		{"agent number is an extension", http.MethodPatch, "/api/v1/users/agent", map[string]any{"agent_number": "1001"}, 409, "number_taken", "agent_number"},
		{"agent number", http.MethodPatch, "/api/v1/users/agent", map[string]any{"agent_number": "8001"}, 200, "", ""},
		{"same number again is fine", http.MethodPatch, "/api/v1/users/agent", map[string]any{"agent_number": "8001"}, 200, "", ""},
		{"another agent's number", http.MethodPost, "/api/v1/users",
			map[string]any{"name": "dora", "role": "agent", "password": "long-enough-1", "agent_number": "8001"}, 409, "number_taken", "agent_number"},
		{"new user, bad agent number", http.MethodPost, "/api/v1/users",
			map[string]any{"name": "dora", "role": "agent", "password": "long-enough-1", "agent_number": "8"}, 400, "invalid", "agent_number"},
		{"new user with an agent number", http.MethodPost, "/api/v1/users",
			map[string]any{"name": "dora", "role": "agent", "password": "long-enough-1", "agent_number": "8002"}, 201, "", ""},
		{"extension on an agent number", http.MethodPost, "/api/v1/extensions",
			map[string]any{"number": "8002", "secret": "long-secret"}, 409, "number_taken", "number"},
		{"agent number removed", http.MethodPatch, "/api/v1/users/dora", map[string]any{"agent_number": ""}, 200, "", ""},
		{"then the extension fits", http.MethodPost, "/api/v1/extensions",
			map[string]any{"number": "8002", "secret": "long-secret"}, 201, "", ""},
	}
	for _, st := range steps {
		resp, body := ts.do(t, admin, st.method, st.path, st.body)
		code, field := errorCode(body)
		if resp.StatusCode != st.wantStatus || code != st.wantCode || field != st.wantField {
			t.Fatalf("%s: %d %s, want %d %q field %q", st.name, resp.StatusCode, body, st.wantStatus, st.wantCode, st.wantField)
		}
		if st.wantCode == "number_taken" && !strings.Contains(string(body), "is already") {
			t.Errorf("%s: the answer does not name the holder: %s", st.name, body)
		}
	}

	resp, body := ts.do(t, admin, http.MethodGet, "/api/v1/users/agent", nil)
	var u userView
	mustJSON(t, body, &u)
	if resp.StatusCode != http.StatusOK || u.AgentNumber != "8001" {
		t.Errorf("user view: %d %s", resp.StatusCode, body)
	}

	// Deleting the owner leaves the extension, without an owner.
	sub := ts.bus.Subscribe(16)
	defer sub.Close()
	if resp, body := ts.do(t, admin, http.MethodDelete, "/api/v1/users/agent", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete user: %d %s", resp.StatusCode, body)
	}
	_, body = ts.do(t, admin, http.MethodGet, "/api/v1/extensions/1001", nil)
	var v extensionView
	mustJSON(t, body, &v)
	if v.User != "" {
		t.Errorf("extension keeps a deleted owner: %s", body)
	}
	var types []string
	for len(sub.C()) > 0 {
		e := <-sub.C()
		types = append(types, e.Type+" "+e.Subject)
	}
	if want := []string{"user.deleted user:agent", "extension.updated extension:1001"}; !reflect.DeepEqual(types, want) {
		t.Errorf("events = %v, want %v", types, want)
	}
}

func TestExtensionEventsVisibility(t *testing.T) {
	e := event.Event{Type: "extension.updated", Subject: "extension:1001"}
	for role, want := range map[store.Role]bool{store.RoleAdmin: true, store.RoleSupervisor: true, store.RoleAgent: false} {
		if got := visible(&principal{user: store.User{Name: "x", Role: role}}, e); got != want {
			t.Errorf("%s sees extension events = %v, want %v", role, got, want)
		}
	}
}

// TestExtensionCallFeatures: the call-feature fields are created, read,
// changed one at a time, cleared, and refused with the bad field named
// (nothing written).
func TestExtensionCallFeatures(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	base := map[string]any{"number": "1001", "secret": "long-secret"}
	with := func(m map[string]any) map[string]any {
		body := map[string]any{}
		for k, v := range base {
			body[k] = v
		}
		for k, v := range m {
			body[k] = v
		}
		return body
	}
	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"dtmf mode", map[string]any{"dtmf_mode": "sip-info"}, "dtmf_mode"},
		{"forward to itself", map[string]any{"forward_always": "1001"}, "forward_always"},
		{"forward letters", map[string]any{"forward_busy": "front"}, "forward_busy"},
		{"forward one digit", map[string]any{"forward_no_answer": "1"}, "forward_no_answer"},
		{"seconds low", map[string]any{"no_answer_seconds": 4}, "no_answer_seconds"},
		{"seconds high", map[string]any{"no_answer_seconds": 301}, "no_answer_seconds"},
		{"group", map[string]any{"pickup_group": "front desk"}, "pickup_group"},
		{"dnd type", map[string]any{"dnd": "yes"}, "dnd"},
		{"ring on", map[string]any{"ring_on": "browser"}, "ring_on"},
		{"ring on case", map[string]any{"ring_on": "Seat"}, "ring_on"},
		{"ring on type", map[string]any{"ring_on": true}, "ring_on"},
	}
	for _, tc := range bad {
		t.Run("create "+tc.name, func(t *testing.T) {
			resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/extensions", with(tc.body))
			if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != tc.field {
				t.Fatalf("%d %s, want 400 field %s", resp.StatusCode, body, tc.field)
			}
		})
	}
	if _, body := ts.do(t, admin, http.MethodGet, "/api/v1/extensions", nil); string(body) != `{"extensions":[]}` {
		t.Fatalf("refused extensions were written: %s", body)
	}

	resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/extensions", with(map[string]any{
		"dtmf_mode": "info", "dnd": true, "forward_always": "+8613800000000", "forward_busy": "1002",
		"forward_no_answer": "1003", "no_answer_seconds": 30, "pickup_group": "sales", "ring_on": "seat"}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	want := callFeatures{DTMFMode: "info", DND: true, ForwardAlways: "+8613800000000", ForwardBusy: "1002",
		ForwardNoAnswer: "1003", NoAnswerSeconds: 30, PickupGroup: "sales", RingOn: "seat"}
	var view extensionView
	mustJSON(t, body, &view)
	if view.callFeatures != want {
		t.Errorf("created %+v, want %+v", view.callFeatures, want)
	}
	stored := func(t *testing.T) store.Extension {
		t.Helper()
		var e store.Extension
		if err := ts.db.View(func(tx *store.Tx) (err error) { e, err = tx.Extension("1001"); return err }); err != nil {
			t.Fatal(err)
		}
		return e
	}
	if got := featuresOf(stored(t)); got != want {
		t.Errorf("stored %+v, want %+v", got, want)
	}

	// A bad value among good ones changes nothing.
	for _, tc := range bad {
		t.Run("update "+tc.name, func(t *testing.T) {
			body := map[string]any{"name": "changed", "dnd": false}
			for k, v := range tc.body {
				body[k] = v
			}
			resp, out := ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", body)
			if _, field := errorCode(out); resp.StatusCode != http.StatusBadRequest || field != tc.field {
				t.Fatalf("%d %s, want 400 field %s", resp.StatusCode, out, tc.field)
			}
			if e := stored(t); featuresOf(e) != want || e.Name != "" {
				t.Errorf("half applied: %+v", e)
			}
		})
	}

	// One field at a time; the rest stay.
	sub := ts.bus.Subscribe(16)
	defer sub.Close()
	resp, body = ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", map[string]any{"dnd": false, "forward_always": ""})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("patch: %d %s", resp.StatusCode, body)
	}
	want.DND, want.ForwardAlways = false, ""
	if got := featuresOf(stored(t)); got != want {
		t.Errorf("after patch %+v, want %+v", got, want)
	}
	select {
	case e := <-sub.C():
		v, ok := e.Data.(extensionView)
		if e.Type != "extension.updated" || !ok || v.callFeatures != want {
			t.Errorf("event %s %+v", e.Type, e.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no extension.updated event")
	}

	// rfc4733 is the default and is stored as such.
	ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", map[string]any{"dtmf_mode": "rfc4733", "no_answer_seconds": 0})
	if e := stored(t); e.DTMFMode != "" || e.NoAnswerSeconds != 0 {
		t.Errorf("dtmf %q seconds %d, want the defaults", e.DTMFMode, e.NoAnswerSeconds)
	}
	// An unknown extension is 404 even with good values.
	if resp, _ := ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1009", map[string]any{"dnd": true}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown extension: %d", resp.StatusCode)
	}
}

// TestExtensionRingOn: ring_on is shown, changed on its own (the other
// fields stay), "both" is stored as the default "", and a bad value among
// good changes is a 400 naming ring_on with nothing written.
func TestExtensionRingOn(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/extensions",
		map[string]any{"number": "1001", "secret": "long-secret", "name": "Desk", "dnd": true})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var view map[string]any
	mustJSON(t, body, &view)
	if got, ok := view["ring_on"]; !ok || got != "" {
		t.Errorf("new extension's ring_on = %v (present %v), want \"\"", got, ok)
	}
	stored := func(t *testing.T) store.Extension {
		t.Helper()
		var e store.Extension
		if err := ts.db.View(func(tx *store.Tx) (err error) { e, err = tx.Extension("1001"); return err }); err != nil {
			t.Fatal(err)
		}
		return e
	}
	steps := []struct {
		ringOn string
		stored string // and shown
	}{
		{"seat", "seat"},
		{"phone", "phone"},
		{"both", ""},
		{"seat", "seat"},
		{"", ""},
	}
	for _, s := range steps {
		resp, body := ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", map[string]any{"ring_on": s.ringOn})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("patch %q: %d %s", s.ringOn, resp.StatusCode, body)
		}
		var v extensionView
		mustJSON(t, body, &v)
		e := stored(t)
		if v.RingOn != s.stored || e.RingOn != s.stored {
			t.Errorf("patch %q: shown %q, stored %q, want %q", s.ringOn, v.RingOn, e.RingOn, s.stored)
		}
		if e.Name != "Desk" || !e.DND {
			t.Errorf("patch %q changed other fields: %+v", s.ringOn, e)
		}
	}

	ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", map[string]any{"ring_on": "phone"})
	before := stored(t)
	for _, bad := range []any{"browser", "none", "PHONE", 3, nil} {
		body := map[string]any{"name": "Changed", "dnd": false, "pickup_group": "sales", "ring_on": bad}
		resp, out := ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", body)
		if bad == nil {
			// null leaves the field alone, as for every PATCH field.
			if resp.StatusCode != http.StatusOK {
				t.Errorf("ring_on null: %d %s", resp.StatusCode, out)
			}
			if e := stored(t); e.RingOn != "phone" || e.Name != "Changed" {
				t.Errorf("ring_on null: stored %+v", e)
			}
			continue
		}
		if _, field := errorCode(out); resp.StatusCode != http.StatusBadRequest || field != "ring_on" {
			t.Errorf("ring_on %v: %d %s, want 400 field ring_on", bad, resp.StatusCode, out)
		}
		if e := stored(t); !reflect.DeepEqual(e, before) {
			t.Errorf("ring_on %v: half applied: %+v", bad, e)
		}
	}
}

// TestExtensionOutboundNumber: the caller number an extension's outside
// calls show is set, shown, removed, and refused when it is no number.
func TestExtensionOutboundNumber(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/extensions",
		map[string]any{"number": "1001", "secret": "long-secret", "outbound_number": "02112345678"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var v extensionView
	mustJSON(t, body, &v)
	if v.OutboundNumber != "02112345678" {
		t.Fatalf("view %+v", v)
	}
	for _, bad := range []string{"0211234567x", "+", "123456789012345678901234567890123"} {
		resp, body := ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", map[string]any{"outbound_number": bad, "dnd": true})
		if code, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || code != "invalid" || field != "outbound_number" {
			t.Fatalf("%q: %d %s", bad, resp.StatusCode, body)
		}
	}
	resp, body = ts.do(t, admin, http.MethodPatch, "/api/v1/extensions/1001", map[string]any{"outbound_number": ""})
	mustJSON(t, body, &v)
	if resp.StatusCode != http.StatusOK || v.OutboundNumber != "" || v.DND {
		t.Fatalf("remove: %d %s", resp.StatusCode, body)
	}
}
