package webui

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
)

// testCDR is a finished call that started at start.
func testCDR(serial string, start time.Time) store.CDR {
	return store.CDR{
		Serial: serial, Start: start, Answer: start.Add(2 * time.Second), End: start.Add(time.Minute),
		Caller: "1001", CallerName: "Front desk", Callee: "1002", Direction: "internal",
		Result: "answered", Cause: "normal_clearing", HangupBy: "caller",
		Legs: []store.CDRLeg{
			{Channel: serial + "-a", Role: "caller", Device: "sip:1001", Address: "127.0.0.2:5060", Codec: "PCMU",
				Start: start, Answer: start.Add(2 * time.Second), End: start.Add(time.Minute), Cause: "normal_clearing"},
			{Channel: serial + "-b", Role: "callee", Device: "sip:1002", Codec: "PCMU",
				Start: start, Answer: start.Add(2 * time.Second), End: start.Add(time.Minute)},
		},
	}
}

// cdrServer is a test server whose clock stands at now, holding one CDR
// per entry of ago (serial "c<i>", started that long before now).
func cdrServer(t *testing.T, now time.Time, ago ...time.Duration) (*testServer, []store.CDR) {
	t.Helper()
	ts := newTestServer(t)
	ts.now = func() time.Time { return now }
	var cdrs []store.CDR
	err := ts.db.Update(func(tx *store.Tx) error {
		for i, d := range ago {
			c := testCDR("c"+string(rune('0'+i)), now.Add(-d))
			cdrs = append(cdrs, c)
			if err := tx.AddCDR(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ts, cdrs
}

func TestListCDRs(t *testing.T) {
	// Seconds only: RFC 3339 in the query has no fractions.
	now := time.Now().UTC().Truncate(time.Second)
	ts, cdrs := cdrServer(t, now,
		time.Hour,                // c0
		3*time.Hour,              // c1
		25*time.Hour,             // c2: outside the default day
		10*24*time.Hour,          // c3
		40*24*time.Hour,          // c4
		10*time.Minute,           // c5
		24*time.Hour-time.Second, // c6: just inside the day
	)
	admin := ts.login(t, "admin", testPassword)
	serials := func(cs []store.CDR) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Serial)
		}
		return out
	}
	rfc := func(t time.Time) string { return t.Format(time.RFC3339) }
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"default: the last day, newest first", nil, []string{"c5", "c0", "c1", "c6"}},
		{"limit", url.Values{"limit": {"2"}}, []string{"c5", "c0"}},
		{"from", url.Values{"from": {rfc(now.Add(-11 * 24 * time.Hour))}}, []string{"c5", "c0", "c1", "c6", "c2", "c3"}},
		{"from and to", url.Values{"from": {rfc(now.Add(-50 * 24 * time.Hour))}, "to": {rfc(now.Add(-2 * time.Hour))}},
			[]string{"c1", "c6", "c2", "c3", "c4"}},
		// to alone: the day before it.
		{"to", url.Values{"to": {rfc(now.Add(-2 * time.Hour))}}, []string{"c1", "c6", "c2"}},
		{"time zone", url.Values{"from": {now.Add(-2 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)}},
			[]string{"c5", "c0"}},
		{"empty range", url.Values{"from": {rfc(now.Add(-30 * time.Second))}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.do(t, admin, http.MethodGet, "/api/v1/cdrs?"+tt.query.Encode(), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			var out struct {
				CDRs []store.CDR `json:"cdrs"`
			}
			mustJSON(t, body, &out)
			if got := serials(out.CDRs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("serials %v, want %v", got, tt.want)
			}
		})
	}

	// The record comes back whole, as stored.
	resp, body := ts.do(t, admin, http.MethodGet, "/api/v1/cdrs?limit=1", nil)
	var out struct {
		CDRs []store.CDR `json:"cdrs"`
	}
	mustJSON(t, body, &out)
	if resp.StatusCode != http.StatusOK || len(out.CDRs) != 1 || !reflect.DeepEqual(out.CDRs[0], cdrs[5]) {
		t.Errorf("%d: got %+v\nwant %+v", resp.StatusCode, out.CDRs, cdrs[5])
	}
}

func TestListCDRsBadQuery(t *testing.T) {
	ts, _ := cdrServer(t, time.Now())
	admin := ts.login(t, "admin", testPassword)
	for _, tt := range []struct {
		query     string
		wantField string
	}{
		{"from=yesterday", "from"},
		{"to=2026-13-01T00:00:00Z", "to"},
		{"from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=-5", "limit"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := ts.do(t, admin, http.MethodGet, "/api/v1/cdrs?"+tt.query, nil)
			if code, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || code != "invalid" || field != tt.wantField {
				t.Errorf("%d %s, want 400 invalid field %s", resp.StatusCode, body, tt.wantField)
			}
		})
	}
}

func TestGetCDR(t *testing.T) {
	ts, cdrs := cdrServer(t, time.Now().UTC(), time.Hour, 2*time.Hour)
	admin := ts.login(t, "admin", testPassword)
	resp, body := ts.do(t, admin, http.MethodGet, "/api/v1/cdrs/c1", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var got store.CDR
	mustJSON(t, body, &got)
	if !reflect.DeepEqual(got, cdrs[1]) {
		t.Errorf("got %+v\nwant %+v", got, cdrs[1])
	}
	resp, body = ts.do(t, admin, http.MethodGet, "/api/v1/cdrs/nope", nil)
	if code, _ := errorCode(body); resp.StatusCode != http.StatusNotFound || code != "not_found" {
		t.Errorf("unknown serial: %d %s, want 404 not_found", resp.StatusCode, body)
	}
}

// Supervisors read every call; agents none (yet: later, their own).
func TestCDRPermissions(t *testing.T) {
	ts, _ := cdrServer(t, time.Now().UTC(), time.Hour)
	for _, tt := range []struct {
		user string
		want int
	}{
		{"admin", http.StatusOK},
		{"supervisor", http.StatusOK},
		{"agent", http.StatusForbidden},
	} {
		t.Run(tt.user, func(t *testing.T) {
			s := ts.login(t, tt.user, testPassword)
			for _, path := range []string{"/api/v1/cdrs", "/api/v1/cdrs/c0"} {
				if resp, body := ts.do(t, s, http.MethodGet, path, nil); resp.StatusCode != tt.want {
					t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, body, tt.want)
				}
			}
		})
	}
	if resp, _ := ts.do(t, session{}, http.MethodGet, "/api/v1/cdrs", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", resp.StatusCode)
	}
}
