package webui

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
)

func TestListRegistrations(t *testing.T) {
	ts := newTestServer(t)
	expires := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	contacts := map[string][]RegisteredContact{
		"1001": {
			{Contact: "sip:1001@127.0.0.2:5062;transport=udp", Source: "127.0.0.2:5062", Transport: "udp",
				Expires: expires, UserAgent: "baresip", Available: true},
			{Contact: "sip:1001@127.0.0.3:5062;transport=tcp", Source: "127.0.0.3:40000", Transport: "tcp",
				Expires: expires, Available: false},
		},
		"1002": {{Contact: "sip:1002@127.0.0.4:5060", Source: "127.0.0.4:5060", Transport: "udp", Expires: expires}},
	}
	err := ts.db.Update(func(tx *store.Tx) error {
		if err := tx.SetRealm("ccbox-test"); err != nil {
			return err
		}
		for _, n := range []string{"1001", "1002", "1003"} {
			if err := tx.PutExtension(store.Extension{Number: n, HA1MD5: "x", HA1SHA256: "y", Created: expires, Updated: expires}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	type reply struct {
		Realm         string                   `json:"realm"`
		Registrations []extensionRegistrations `json:"registrations"`
	}
	get := func(t *testing.T, user string) reply {
		t.Helper()
		resp, body := ts.do(t, ts.login(t, user, testPassword), http.MethodGet, "/api/v1/registrations", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var r reply
		mustJSON(t, body, &r)
		return r
	}

	// Without a SIP front every extension is listed, unregistered.
	want := reply{Realm: "ccbox-test", Registrations: []extensionRegistrations{
		{Extension: "1001", State: "unavailable", Contacts: []RegisteredContact{}},
		{Extension: "1002", State: "unavailable", Contacts: []RegisteredContact{}},
		{Extension: "1003", State: "unavailable", Contacts: []RegisteredContact{}},
	}}
	if got := get(t, "admin"); !reflect.DeepEqual(got, want) {
		t.Errorf("no SIP front:\n got %+v\nwant %+v", got, want)
	}

	ts.opts.Registrations = func(ext string) []RegisteredContact { return contacts[ext] }
	want.Registrations = []extensionRegistrations{
		{Extension: "1001", State: "idle", Contacts: contacts["1001"]},
		// Registered but not answering OPTIONS: cannot be rung.
		{Extension: "1002", State: "unavailable", Contacts: contacts["1002"]},
		{Extension: "1003", State: "unavailable", Contacts: []RegisteredContact{}},
	}
	for _, user := range []string{"admin", "supervisor"} {
		if got := get(t, user); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", user, got, want)
		}
	}
	if resp, _ := ts.do(t, ts.login(t, "agent", testPassword), http.MethodGet, "/api/v1/registrations", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent: %d, want 403", resp.StatusCode)
	}
}
