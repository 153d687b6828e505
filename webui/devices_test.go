package webui

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
)

func TestListDevices(t *testing.T) {
	ts := newTestServer(t)
	err := ts.db.Update(func(tx *store.Tx) error {
		for _, n := range []string{"1002", "1001", "201"} {
			if err := tx.PutExtension(store.Extension{Number: n, HA1MD5: "x", HA1SHA256: "y"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, role string) []DeviceView {
		t.Helper()
		resp, body := ts.do(t, ts.login(t, role, testPassword), http.MethodGet, "/api/v1/devices", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", role, resp.StatusCode, body)
		}
		var r struct {
			Devices []DeviceView `json:"devices"`
		}
		mustJSON(t, body, &r)
		return r.Devices
	}
	unavailable := func(id string) DeviceView { return DeviceView{Kind: "sip", ID: id, State: "unavailable"} }

	// No SIP front: every extension, unavailable, in numeric order.
	want := []DeviceView{unavailable("201"), unavailable("1001"), unavailable("1002")}
	if got := get(t, "admin"); !reflect.DeepEqual(got, want) {
		t.Errorf("no SIP front:\n got %+v\nwant %+v", got, want)
	}

	// From the registrations alone.
	exp := time.Now().Add(time.Hour)
	ts.opts.Registrations = func(ext string) []RegisteredContact {
		switch ext {
		case "1001":
			return []RegisteredContact{{Contact: "sip:a", Expires: exp, Available: true}, {Contact: "sip:b", Expires: exp}}
		case "1002":
			return []RegisteredContact{{Contact: "sip:c", Expires: exp}}
		}
		return nil
	}
	want = []DeviceView{unavailable("201"), {Kind: "sip", ID: "1001", State: "idle", Contacts: 2, Available: 1},
		{Kind: "sip", ID: "1002", State: "unavailable", Contacts: 1}}
	if got := get(t, "supervisor"); !reflect.DeepEqual(got, want) {
		t.Errorf("from registrations:\n got %+v\nwant %+v", got, want)
	}

	// From the call layer when it is wired in.
	ts.opts.Device = func(ext string) DeviceView {
		return DeviceView{Kind: "sip", ID: ext, State: "ringing", Contacts: 1, Available: 1}
	}
	for _, d := range get(t, "admin") {
		if d.State != "ringing" || d.Contacts != 1 {
			t.Errorf("Options.Device not used: %+v", d)
		}
	}

	if resp, _ := ts.do(t, ts.login(t, "agent", testPassword), http.MethodGet, "/api/v1/devices", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent: %d, want 403", resp.StatusCode)
	}
}
