package webui

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/config/store"
)

func TestBlacklist(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	sub := ts.bus.Subscribe(64)
	defer sub.Close()

	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/blacklist", []refusal{
		{"number missing", map[string]any{"direction": "both"}, 0, "number"},
		{"number 21 characters", map[string]any{"number": strings.Repeat("1", 21), "direction": "both"}, 0, "number"},
		{"number letters", map[string]any{"number": "1380013800x", "direction": "both"}, 0, "number"},
		{"direction missing", map[string]any{"number": "13800138000"}, 0, "direction"},
		{"direction unknown", map[string]any{"number": "13800138000", "direction": "in"}, 0, "direction"},
		{"description 51 characters", map[string]any{"number": "13800138000", "direction": "both", "description": strings.Repeat("骚", 51)}, 0, "description"},
		{"unknown field", map[string]any{"number": "13800138000", "direction": "both", "reason": "x"}, 0, "reason"},
	})
	if body := expectStatus(t, ts, admin, http.MethodGet, "/api/v1/blacklist", nil, http.StatusOK); string(body) != `{"blacklist":[]}` {
		t.Fatalf("refused entries were written: %s", body)
	}

	var v blacklistView
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPost, "/api/v1/blacklist",
		map[string]any{"number": strings.Repeat("1", 20), "direction": "inbound", "description": strings.Repeat("骚", 50)}, http.StatusCreated), &v)
	if v.Direction != "inbound" || len(v.Number) != 20 {
		t.Errorf("created %+v", v)
	}
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/blacklist", map[string]any{"number": "13800138000", "direction": "outbound"}, http.StatusCreated)
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/blacklist", []refusal{
		{"same number same direction", map[string]any{"number": "+8613800138000", "direction": "outbound"}, http.StatusConflict, "number"},
	})
	// The same number may be listed for another direction.
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/blacklist", map[string]any{"number": "13800138000", "direction": "inbound"}, http.StatusCreated)
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/blacklist", map[string]any{"number": "*#95", "direction": "both"}, http.StatusCreated)

	var list struct {
		Entries []blacklistView `json:"blacklist"`
	}
	mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/blacklist", nil, http.StatusOK), &list)
	if len(list.Entries) != 4 {
		t.Errorf("blacklist = %+v", list.Entries)
	}

	resp, body := ts.do(t, admin, http.MethodDelete, "/api/v1/blacklist/sideways/13800138000", nil)
	if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != "direction" {
		t.Errorf("delete with a bad direction: %d %s", resp.StatusCode, body)
	}
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/blacklist/both/13800138000", nil, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/blacklist/outbound/+8613800138000", nil, http.StatusNoContent)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/blacklist/outbound/13800138000", nil, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/blacklist/both/%2A%2395", nil, http.StatusNoContent)

	var entries []store.BlacklistEntry
	putFixtures(t, ts.db, func(tx *store.Tx) (err error) { entries, err = tx.Blacklist(); return err })
	if len(entries) != 2 {
		t.Errorf("stored entries %+v", entries)
	}
	if got := strings.Join(eventTypes(events(sub)), " "); got != "blacklist.created blacklist.created blacklist.created blacklist.created blacklist.deleted blacklist.deleted" {
		t.Errorf("events = %s", got)
	}
	wantActions(t, ts.db, "blacklist.create", "blacklist.delete")
}

func TestOutboundPolicy(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	sub := ts.bus.Subscribe(16)
	defer sub.Close()

	var v policyView
	mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/outbound-policy", nil, http.StatusOK), &v)
	if !reflect.DeepEqual(v.Emergency, []string{"110", "119", "120", "122"}) || v.International || v.Premium || v.LockOutsideHours ||
		!reflect.DeepEqual(v.BusinessHours, hoursView{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00"}) ||
		!v.Updated.IsZero() {
		t.Errorf("default policy = %+v", v)
	}

	hours := func(days []string, from, to string) map[string]any {
		return map[string]any{"days": days, "from": from, "to": to}
	}
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	expectRefusals(t, ts, admin, http.MethodPut, "/api/v1/outbound-policy", []refusal{
		{"emergency without 110", map[string]any{"emergency": []string{"119", "120", "122"}}, 0, "emergency"},
		{"emergency letters", map[string]any{"emergency": []string{"110", "119", "120", "122", "11x"}}, 0, "emergency"},
		{"allow prefix", map[string]any{"allow_prefixes": []string{"+86"}}, 0, "allow_prefixes"},
		{"deny prefix twice", map[string]any{"deny_prefixes": []string{"00", "00"}}, 0, "deny_prefixes"},
		{"premium prefix", map[string]any{"premium_prefixes": []string{""}}, 0, "premium_prefixes"},
		{"calls per minute", map[string]any{"extension_calls_per_minute": 1001}, 0, "extension_calls_per_minute"},
		{"max outbound", map[string]any{"extension_max_outbound": -1}, 0, "extension_max_outbound"},
		{"bad day", map[string]any{"business_hours": hours([]string{"monday"}, "09:00", "18:00")}, 0, "business_hours.days"},
		{"day twice", map[string]any{"business_hours": hours([]string{"mon", "mon"}, "09:00", "18:00")}, 0, "business_hours.days"},
		{"bad from", map[string]any{"business_hours": hours(weekdays, "9:00", "18:00")}, 0, "business_hours.from"},
		{"bad to", map[string]any{"business_hours": hours(weekdays, "09:00", "24:01")}, 0, "business_hours.to"},
		{"from after to", map[string]any{"business_hours": hours(weekdays, "18:00", "09:00")}, 0, "business_hours"},
		{"time zone", map[string]any{"business_hours": map[string]any{"days": weekdays, "from": "09:00", "to": "18:00", "timezone": "Mars/Olympus"}}, 0, "business_hours.timezone"},
		{"lock without days", map[string]any{"lock_outside_hours": true, "business_hours": hours([]string{}, "09:00", "18:00")}, 0, "business_hours.days"},
		{"type", map[string]any{"international": "yes"}, 0, "international"},
	})
	mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/outbound-policy", nil, http.StatusOK), &v)
	if !v.Updated.IsZero() {
		t.Fatalf("a refused policy was stored: %+v", v)
	}

	mustJSON(t, expectStatus(t, ts, admin, http.MethodPut, "/api/v1/outbound-policy", map[string]any{
		"emergency": []string{"110", "119", "120", "122", "999"}, "deny_prefixes": []string{"0086"}, "allow_prefixes": []string{"00852"},
		"international": true, "extension_calls_per_minute": 5, "lock_outside_hours": true,
		"business_hours": map[string]any{"days": []string{"sat", "mon"}, "from": "08:30", "to": "24:00", "timezone": "Asia/Shanghai"},
	}, http.StatusOK), &v)
	want := hoursView{Days: []string{"mon", "sat"}, From: "08:30", To: "24:00", Timezone: "Asia/Shanghai"}
	if len(v.Emergency) != 5 || !v.International || v.Premium || v.ExtensionCallsPerMinute != 5 || !v.LockOutsideHours ||
		!reflect.DeepEqual(v.BusinessHours, want) || v.Updated.IsZero() {
		t.Errorf("stored policy = %+v", v)
	}
	var stored store.OutboundPolicy
	putFixtures(t, ts.db, func(tx *store.Tx) (err error) { stored, err = tx.OutboundPolicy(); return err })
	if stored.BusinessHours.From != 8*60+30 || stored.BusinessHours.To != 24*60 || !stored.BusinessHours.Days[6] || !stored.BusinessHours.Days[1] {
		t.Errorf("stored hours = %+v", stored.BusinessHours)
	}

	// Omitted keys take their defaults again.
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPut, "/api/v1/outbound-policy", map[string]any{}, http.StatusOK), &v)
	if len(v.Emergency) != 4 || v.International || v.LockOutsideHours || v.BusinessHours.From != "09:00" {
		t.Errorf("policy from {} = %+v", v)
	}
	if got := strings.Join(eventTypes(events(sub)), " "); got != "outbound_policy.updated outbound_policy.updated" {
		t.Errorf("events = %s", got)
	}
	wantActions(t, ts.db, "outbound_policy.update")
}
