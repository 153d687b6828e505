package webui

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
)

type featureCodesReply struct {
	FeatureCodes []store.FeatureCode `json:"feature_codes"`
}

// codesBody is the whole table as PUT takes it.
func codesBody(t *testing.T, fc store.FeatureCodes) map[string]any {
	t.Helper()
	raw, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	mustJSON(t, raw, &m)
	return m
}

func TestFeatureCodesAPI(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	get := func(t *testing.T, s session) []store.FeatureCode {
		t.Helper()
		resp, body := ts.do(t, s, http.MethodGet, "/api/v1/feature-codes", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var r featureCodesReply
		mustJSON(t, body, &r)
		return r.FeatureCodes
	}
	// Every role reads the table; the defaults until an admin changes them.
	for _, role := range []string{"admin", "supervisor", "agent"} {
		if got := get(t, ts.login(t, role, testPassword)); !reflect.DeepEqual(got, store.DefaultFeatureCodes().Table()) {
			t.Errorf("%s reads %+v", role, got)
		}
	}

	sub := ts.bus.Subscribe(16)
	defer sub.Close()
	with := func(m func(map[string]any)) map[string]any {
		b := codesBody(t, store.DefaultFeatureCodes())
		m(b)
		return b
	}
	for _, tc := range []struct {
		name       string
		body       any
		wantFields []string // the problems' paths; the first is the error's field
	}{
		{"bad code", with(func(b map[string]any) { b["dnd_on"] = "78" }), []string{"dnd_on"}},
		{"duplicate", with(func(b map[string]any) { b["dnd_off"] = "*78" }), []string{"dnd_off"}},
		{"prefix", with(func(b map[string]any) { b["group_pickup"] = "*5" }), []string{"group_pickup"}},
		{"each bad field", with(func(b map[string]any) { b["forward_always_on"], b["directed_pickup"] = "x", "*7" }),
			[]string{"forward_always_on", "directed_pickup"}},
		{"missing key", with(func(b map[string]any) { delete(b, "dnd_off") }), []string{"dnd_off"}},
		{"unknown key", with(func(b map[string]any) { b["dnd"] = "*1" }), []string{"dnd"}},
		{"not a string", with(func(b map[string]any) { b["dnd_on"] = 78 }), []string{"dnd_on"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.do(t, admin, http.MethodPut, "/api/v1/feature-codes", tc.body)
			var e struct {
				Error apiError `json:"error"`
			}
			mustJSON(t, body, &e)
			if resp.StatusCode != http.StatusBadRequest || e.Error.Field != tc.wantFields[0] {
				t.Fatalf("%d %s, want 400 field %s", resp.StatusCode, body, tc.wantFields[0])
			}
			if len(tc.wantFields) > 1 {
				var got []string
				for _, p := range e.Error.Problems {
					got = append(got, p.Path)
				}
				if !reflect.DeepEqual(got, tc.wantFields) {
					t.Errorf("problems at %v, want %v", got, tc.wantFields)
				}
			}
			if got := get(t, admin); !reflect.DeepEqual(got, store.DefaultFeatureCodes().Table()) {
				t.Errorf("a refused table was written: %+v", got)
			}
		})
	}

	// Only admins write.
	for _, role := range []string{"supervisor", "agent"} {
		if resp, _ := ts.do(t, ts.login(t, role, testPassword), http.MethodPut, "/api/v1/feature-codes",
			codesBody(t, store.DefaultFeatureCodes())); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", role, resp.StatusCode)
		}
	}

	want := store.DefaultFeatureCodes()
	want.DNDOn, want.DNDOff, want.GroupPickup = "#78", "#79", ""
	resp, body := ts.do(t, admin, http.MethodPut, "/api/v1/feature-codes", codesBody(t, want))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	var r featureCodesReply
	mustJSON(t, body, &r)
	if !reflect.DeepEqual(r.FeatureCodes, want.Table()) {
		t.Errorf("answer %+v", r.FeatureCodes)
	}
	if got := get(t, ts.login(t, "agent", testPassword)); !reflect.DeepEqual(got, want.Table()) {
		t.Errorf("read back %+v", got)
	}
	select {
	case e := <-sub.C():
		if e.Type != "feature_codes.updated" || e.Subject != "feature_codes" {
			t.Errorf("event %s %s", e.Type, e.Subject)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	var audits []store.AuditEntry
	ts.db.View(func(tx *store.Tx) (err error) { audits, err = tx.Audits(time.Time{}, time.Time{}, 0); return err })
	found := false
	for _, a := range audits {
		found = found || (a.Action == "feature_codes.update" && a.User == "admin" && a.Detail == "dnd_on, dnd_off, group_pickup")
	}
	if !found {
		t.Errorf("no audit entry: %+v", audits)
	}
}
