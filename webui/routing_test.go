package webui

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/config/store"
)

// routingFixtures stores extension 1001, trunks a and b and pool east.
func routingFixtures(t *testing.T, db *store.DB) {
	t.Helper()
	putFixtures(t, db, func(tx *store.Tx) error {
		if err := tx.PutExtension(store.Extension{Number: "1001", HA1MD5: "x", HA1SHA256: "y"}); err != nil {
			return err
		}
		for _, name := range []string{"a", "b"} {
			if err := tx.PutTrunk(store.Trunk{Name: name, Kind: store.TrunkIP, Host: "203.0.113.1"}); err != nil {
				return err
			}
		}
		return tx.PutCallerPool(store.CallerPool{Name: "east", Numbers: []store.PoolNumber{{Number: "02150000000"}}})
	})
}

func TestDIDAdministration(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	routingFixtures(t, ts.db)
	sub := ts.bus.Subscribe(256)
	defer sub.Close()

	ext := map[string]any{"type": "extension", "target": "1001"}
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/dids", []refusal{
		{"number missing", map[string]any{"destination": ext}, 0, "number"},
		{"number letters", map[string]any{"number": "ABC", "destination": ext}, 0, "number"},
		{"number too short", map[string]any{"number": "12", "destination": ext}, 0, "number"},
		{"number too long", map[string]any{"number": strings.Repeat("1", 33), "destination": ext}, 0, "number"},
		{"destination missing", map[string]any{"number": "02188880000"}, 0, "destination.type"},
		{"destination unknown", map[string]any{"number": "02188880000", "destination": map[string]any{"type": "fax"}}, 0, "destination.type"},
		{"queue not available yet", map[string]any{"number": "02188880000", "destination": map[string]any{"type": "queue", "target": "sales"}}, 0, "destination.type"},
		{"ivr not available yet", map[string]any{"number": "02188880000", "destination": map[string]any{"type": "ivr", "target": "main"}}, 0, "destination.type"},
		{"extension target missing", map[string]any{"number": "02188880000", "destination": map[string]any{"type": "extension"}}, 0, "destination.target"},
		{"extension unknown", map[string]any{"number": "02188880000", "destination": map[string]any{"type": "extension", "target": "1999"}}, 0, "destination.target"},
		{"hangup with target", map[string]any{"number": "02188880000", "destination": map[string]any{"type": "hangup", "target": "1001"}}, 0, "destination.target"},
		{"trunk unknown", map[string]any{"number": "02188880000", "trunk": "zzz", "destination": ext}, 0, "trunk"},
		{"trunk bad name", map[string]any{"number": "02188880000", "trunk": "Bad Name", "destination": ext}, 0, "trunk"},
		{"description too long", map[string]any{"number": "02188880000", "destination": ext, "description": strings.Repeat("d", 65)}, 0, "description"},
		{"unknown field", map[string]any{"number": "02188880000", "destination": ext, "queue": "x"}, 0, "queue"},
	})
	if body := expectStatus(t, ts, admin, http.MethodGet, "/api/v1/dids", nil, http.StatusOK); string(body) != `{"dids":[]}` {
		t.Fatalf("refused DIDs were written: %s", body)
	}

	// Stored under the normalized number, found by any spelling of it.
	var v didView
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPost, "/api/v1/dids",
		map[string]any{"number": "+86 138-0013-8000", "trunk": "a", "destination": ext, "description": "sales line"}, http.StatusCreated), &v)
	if v.Number != "8613800138000" || v.Trunk != "a" || v.Destination.Type != "extension" || v.Destination.Target != "1001" {
		t.Errorf("created %+v", v)
	}
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/dids", []refusal{
		{"same number", map[string]any{"number": "013800138000", "destination": ext}, http.StatusConflict, "number"},
	})
	for _, spelling := range []string{"13800138000", "8613800138000", "+8613800138000", "008613800138000"} {
		mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/dids/"+spelling, nil, http.StatusOK), &v)
		if v.Number != "8613800138000" {
			t.Errorf("GET %s: %+v", spelling, v)
		}
	}
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/dids/13900000000", nil, http.StatusNotFound)

	expectRefusals(t, ts, admin, http.MethodPatch, "/api/v1/dids/13800138000", []refusal{
		{"voicemail not available yet", map[string]any{"destination": map[string]any{"type": "voicemail", "target": "1001"}}, 0, "destination.type"},
		{"unknown extension", map[string]any{"destination": map[string]any{"type": "extension", "target": "2000"}}, 0, "destination.target"},
		{"unknown trunk", map[string]any{"trunk": "c"}, 0, "trunk"},
		{"number is the key", map[string]any{"number": "1"}, 0, "number"},
	})
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPatch, "/api/v1/dids/13800138000",
		map[string]any{"trunk": "", "destination": map[string]any{"type": "hangup"}}, http.StatusOK), &v)
	if v.Trunk != "" || v.Destination.Type != "hangup" || v.Description != "sales line" {
		t.Errorf("patched %+v", v)
	}
	expectStatus(t, ts, admin, http.MethodPatch, "/api/v1/dids/13900000000", map[string]any{"description": "x"}, http.StatusNotFound)

	// A DID stored by a configuration document in its own spelling is the
	// same number to the API.
	putFixtures(t, ts.db, func(tx *store.Tx) error {
		return tx.PutDID(store.DID{Number: "+8602188880000", Destination: store.Destination{Type: store.DestHangup}})
	})
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/dids", []refusal{
		{"same number as a document's", map[string]any{"number": "021-8888 0000", "destination": ext}, http.StatusConflict, "number"},
	})
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/dids/02188880000", nil, http.StatusNoContent)

	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/dids/+8613800138000", nil, http.StatusNoContent)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/dids/13800138000", nil, http.StatusNotFound)

	if got := strings.Join(eventTypes(events(sub)), " "); got != "did.created did.updated did.deleted did.deleted" {
		t.Errorf("events = %s", got)
	}
	wantActions(t, ts.db, "did.create", "did.update", "did.delete")
}

func TestInboundDefault(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	routingFixtures(t, ts.db)
	sub := ts.bus.Subscribe(16)
	defer sub.Close()

	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/inbound-default", nil, http.StatusNotFound)
	expectRefusals(t, ts, admin, http.MethodPut, "/api/v1/inbound-default", []refusal{
		{"type missing", map[string]any{}, 0, "type"},
		{"queue not available yet", map[string]any{"type": "queue", "target": "q"}, 0, "type"},
		{"unknown extension", map[string]any{"type": "extension", "target": "1999"}, 0, "target"},
		{"none with target", map[string]any{"type": "none", "target": "1001"}, 0, "target"},
	})
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/inbound-default", nil, http.StatusNotFound)

	expectStatus(t, ts, admin, http.MethodPut, "/api/v1/inbound-default", map[string]any{"type": "extension", "target": "1001"}, http.StatusOK)
	var d destinationView
	mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/inbound-default", nil, http.StatusOK), &d)
	if d != (destinationView{Type: "extension", Target: "1001"}) {
		t.Errorf("inbound default = %+v", d)
	}
	expectStatus(t, ts, admin, http.MethodPut, "/api/v1/inbound-default", map[string]any{"type": "none"}, http.StatusNoContent)
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/inbound-default", nil, http.StatusNotFound)
	if got := strings.Join(eventTypes(events(sub)), " "); got != "inbound_default.updated inbound_default.updated" {
		t.Errorf("events = %s", got)
	}
	wantActions(t, ts.db, "inbound_default.update")
}

func TestOutboundRoutes(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	routingFixtures(t, ts.db)
	sub := ts.bus.Subscribe(256)
	defer sub.Close()

	valid := func(m map[string]any) map[string]any {
		body := map[string]any{"name": "mobile", "patterns": []string{"1[3-9]XXXXXXXXX", "01[3-9]XXXXXXXXX"}, "trunks": []string{"a", "b"}}
		for k, v := range m {
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
		}
		return body
	}
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/outbound-routes", []refusal{
		{"name missing", valid(map[string]any{"name": nil}), 0, "name"},
		{"name bad", valid(map[string]any{"name": "Mobile Route"}), 0, "name"},
		{"patterns missing", valid(map[string]any{"patterns": nil}), 0, "patterns"},
		{"pattern bad set", valid(map[string]any{"patterns": []string{"9X", "1[3-"}}), 0, "patterns[1]"},
		{"pattern letters", valid(map[string]any{"patterns": []string{"9AB"}}), 0, "patterns[0]"},
		{"pattern dot inside", valid(map[string]any{"patterns": []string{"9.X"}}), 0, "patterns[0]"},
		{"strip", valid(map[string]any{"strip": -1}), 0, "strip"},
		{"prepend", valid(map[string]any{"prepend": "12a"}), 0, "prepend"},
		{"order", valid(map[string]any{"order": -5}), 0, "order"},
		{"trunks missing", valid(map[string]any{"trunks": []string{}}), 0, "trunks"},
		{"trunk twice", valid(map[string]any{"trunks": []string{"a", "a"}}), 0, "trunks"},
		{"trunk unknown", valid(map[string]any{"trunks": []string{"a", "zz"}}), 0, "trunks"},
		{"extension bad", valid(map[string]any{"allow_extensions": []string{"1"}}), 0, "allow_extensions"},
		{"extension unknown", valid(map[string]any{"allow_extensions": []string{"1002"}}), 0, "allow_extensions"},
		{"role unknown", valid(map[string]any{"allow_roles": []string{"boss"}}), 0, "allow_roles"},
		{"caller mode", valid(map[string]any{"caller_number": map[string]any{"mode": "random"}}), 0, "caller_number.mode"},
		{"fixed without number", valid(map[string]any{"caller_number": map[string]any{"mode": "fixed"}}), 0, "caller_number.number"},
		{"fixed bad number", valid(map[string]any{"caller_number": map[string]any{"mode": "fixed", "number": "x1"}}), 0, "caller_number.number"},
		{"pool without pool", valid(map[string]any{"caller_number": map[string]any{"mode": "pool_region"}}), 0, "caller_number.pool"},
		{"pool unknown", valid(map[string]any{"caller_number": map[string]any{"mode": "pool_region", "pool": "west"}}), 0, "caller_number.pool"},
		{"extension mode with number", valid(map[string]any{"caller_number": map[string]any{"number": "02150000000"}}), 0, "caller_number"},
	})
	if body := expectStatus(t, ts, admin, http.MethodGet, "/api/v1/outbound-routes", nil, http.StatusOK); string(body) != `{"outbound_routes":[]}` {
		t.Fatalf("refused routes were written: %s", body)
	}

	var v routeView
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPost, "/api/v1/outbound-routes", valid(map[string]any{
		"strip": 1, "prepend": "+86", "allow_extensions": []string{"1001"}, "allow_roles": []string{"agent"},
		"caller_number": map[string]any{"mode": "pool_region", "pool": "east"}}), http.StatusCreated), &v)
	if v.Order != 10 || v.Strip != 1 || v.Prepend != "+86" || v.CallerNumber.Mode != "pool_region" || v.CallerNumber.Pool != "east" ||
		!reflect.DeepEqual(v.Trunks, []string{"a", "b"}) {
		t.Errorf("created %+v", v)
	}
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/outbound-routes", []refusal{
		{"duplicate", valid(nil), http.StatusConflict, "name"},
	})
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPost, "/api/v1/outbound-routes",
		valid(map[string]any{"name": "intl", "patterns": []string{"00."}, "caller_number": map[string]any{"mode": "extension"}}), http.StatusCreated), &v)
	if v.Order != 20 || v.CallerNumber.Mode != "extension" {
		t.Errorf("second route %+v", v)
	}
	expectStatus(t, ts, admin, http.MethodPost, "/api/v1/outbound-routes",
		valid(map[string]any{"name": "emergency", "patterns": []string{"11[09]", "12[02]"}, "order": 5,
			"caller_number": map[string]any{"mode": "fixed", "number": "02150000000"}}), http.StatusCreated)

	order := func() []string {
		t.Helper()
		var out struct {
			Routes []routeView `json:"outbound_routes"`
		}
		mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/outbound-routes", nil, http.StatusOK), &out)
		var names []string
		for _, r := range out.Routes {
			names = append(names, r.Name)
		}
		return names
	}
	if got := order(); !reflect.DeepEqual(got, []string{"emergency", "mobile", "intl"}) {
		t.Errorf("order = %v", got)
	}

	expectRefusals(t, ts, admin, http.MethodPut, "/api/v1/outbound-routes/order", []refusal{
		{"one left out", map[string]any{"names": []string{"intl", "mobile"}}, 0, "names"},
		{"twice", map[string]any{"names": []string{"intl", "mobile", "intl", "emergency"}}, 0, "names"},
		{"unknown", map[string]any{"names": []string{"intl", "mobile", "emergency", "x"}}, 0, "names"},
		{"type", map[string]any{"names": "intl"}, 0, "names"},
	})
	if got := order(); !reflect.DeepEqual(got, []string{"emergency", "mobile", "intl"}) {
		t.Errorf("a refused reorder changed the order: %v", got)
	}
	expectStatus(t, ts, admin, http.MethodPut, "/api/v1/outbound-routes/order", map[string]any{"names": []string{"intl", "emergency", "mobile"}}, http.StatusOK)
	if got := order(); !reflect.DeepEqual(got, []string{"intl", "emergency", "mobile"}) {
		t.Errorf("order after reorder = %v", got)
	}

	expectRefusals(t, ts, admin, http.MethodPatch, "/api/v1/outbound-routes/mobile", []refusal{
		{"unknown trunk", map[string]any{"trunks": []string{"c"}}, 0, "trunks"},
		{"bad pattern", map[string]any{"patterns": []string{"[]"}}, 0, "patterns[0]"},
		{"name is the key", map[string]any{"name": "x"}, 0, "name"},
	})
	mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/outbound-routes/mobile", nil, http.StatusOK), &v)
	if !reflect.DeepEqual(v.Trunks, []string{"a", "b"}) {
		t.Errorf("a refused patch changed the route: %+v", v)
	}
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPatch, "/api/v1/outbound-routes/mobile",
		map[string]any{"trunks": []string{"b"}, "caller_number": map[string]any{"mode": "extension"}, "allow_roles": []string{}}, http.StatusOK), &v)
	if !reflect.DeepEqual(v.Trunks, []string{"b"}) || v.CallerNumber.Mode != "extension" || len(v.AllowRoles) != 0 || v.Prepend != "+86" {
		t.Errorf("patched %+v", v)
	}
	var stored store.OutboundRoute
	putFixtures(t, ts.db, func(tx *store.Tx) (err error) { stored, err = tx.OutboundRoute("mobile"); return err })
	if stored.CallerNumber.Mode != "" || stored.AllowRoles != nil {
		t.Errorf("stored %+v, want mode and roles in their stored forms", stored)
	}
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/outbound-routes/nosuch", nil, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodPatch, "/api/v1/outbound-routes/nosuch", map[string]any{"strip": 1}, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/outbound-routes/intl", nil, http.StatusNoContent)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/outbound-routes/intl", nil, http.StatusNotFound)

	if got := strings.Join(eventTypes(events(sub)), " "); got != "route.created route.created route.created route.reordered route.updated route.deleted" {
		t.Errorf("events = %s", got)
	}
	wantActions(t, ts.db, "route.create", "route.update", "route.reorder", "route.delete")
}

func TestCallerPools(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	routingFixtures(t, ts.db)
	sub := ts.bus.Subscribe(64)
	defer sub.Close()

	num := func(n string) map[string]any { return map[string]any{"number": n} }
	expectRefusals(t, ts, admin, http.MethodPost, "/api/v1/caller-pools", []refusal{
		{"name bad", map[string]any{"name": "A B", "numbers": []any{num("02150000001")}}, 0, "name"},
		{"numbers missing", map[string]any{"name": "west"}, 0, "numbers"},
		{"number bad", map[string]any{"name": "west", "numbers": []any{num("02150000001"), num("abc")}}, 0, "numbers[1].number"},
		{"number twice", map[string]any{"name": "west", "numbers": []any{num("02150000001"), num("02150000001")}}, 0, "numbers[1].number"},
		{"city without province", map[string]any{"name": "west", "numbers": []any{map[string]any{"number": "02150000001", "city": "上海"}}}, 0, "numbers[0].province"},
		{"max calls", map[string]any{"name": "west", "numbers": []any{map[string]any{"number": "02150000001", "max_calls": -1}}}, 0, "numbers[0].max_calls"},
		{"duplicate", map[string]any{"name": "east", "numbers": []any{num("02150000001")}}, http.StatusConflict, "name"},
	})

	var v poolView
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPost, "/api/v1/caller-pools", map[string]any{"name": "west", "numbers": []any{
		map[string]any{"number": "02887650000", "province": "四川", "city": "成都", "max_calls": 5}, num("13800138000")}}, http.StatusCreated), &v)
	if len(v.Numbers) != 2 || v.Numbers[0] != (poolNumberView{Number: "02887650000", Province: "四川", City: "成都", MaxCalls: 5}) {
		t.Errorf("created %+v", v)
	}
	expectRefusals(t, ts, admin, http.MethodPut, "/api/v1/caller-pools/west", []refusal{
		{"empty", map[string]any{"numbers": []any{}}, 0, "numbers"},
		{"rename", map[string]any{"name": "north", "numbers": []any{num("13800138000")}}, 0, "name"},
	})
	mustJSON(t, expectStatus(t, ts, admin, http.MethodPut, "/api/v1/caller-pools/west", map[string]any{"numbers": []any{num("13900139000")}}, http.StatusOK), &v)
	if len(v.Numbers) != 1 || v.Numbers[0].Number != "13900139000" {
		t.Errorf("replaced %+v", v)
	}
	expectStatus(t, ts, admin, http.MethodPut, "/api/v1/caller-pools/north", map[string]any{"numbers": []any{num("13900139000")}}, http.StatusNotFound)
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/caller-pools/west", nil, http.StatusOK)
	expectStatus(t, ts, admin, http.MethodGet, "/api/v1/caller-pools/north", nil, http.StatusNotFound)

	putFixtures(t, ts.db, func(tx *store.Tx) error {
		return tx.PutOutboundRoute(store.OutboundRoute{Name: "local", Patterns: []string{"0."}, Trunks: []string{"a"},
			CallerNumber: store.CallerNumber{Mode: store.CallerPoolRegion, Pool: "west"}})
	})
	resp, data := ts.do(t, admin, http.MethodDelete, "/api/v1/caller-pools/west", nil)
	var eb apiErrorBody
	mustJSON(t, data, &eb)
	if resp.StatusCode != http.StatusConflict || eb.Error.Code != "in_use" || !strings.Contains(eb.Error.Message, `"local"`) {
		t.Fatalf("delete of a used pool: %d %s", resp.StatusCode, data)
	}
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/caller-pools/east", nil, http.StatusNoContent)
	expectStatus(t, ts, admin, http.MethodDelete, "/api/v1/caller-pools/east", nil, http.StatusNotFound)

	var list struct {
		Pools []poolView `json:"caller_pools"`
	}
	mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/caller-pools", nil, http.StatusOK), &list)
	if len(list.Pools) != 1 || list.Pools[0].Name != "west" {
		t.Errorf("pools = %+v", list.Pools)
	}
	if got := strings.Join(eventTypes(events(sub)), " "); got != "caller_pool.created caller_pool.updated caller_pool.deleted" {
		t.Errorf("events = %s", got)
	}
	wantActions(t, ts.db, "caller_pool.create", "caller_pool.update", "caller_pool.delete")
}
