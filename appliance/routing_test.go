package main

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// routingBox is a store with extension 1001 (alice, an agent) and 1002
// (bob, a supervisor), two trunks, and routes: mobiles through t1 then t2
// with a fixed caller number; landlines (0 + area code) through t2 with a
// caller number chosen by region from a pool, supervisors only; short
// service numbers (110…) through t1.
func routingBox(t *testing.T) (*routing, *store.DB, *time.Time) {
	t.Helper()
	db, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(func(tx *store.Tx) error {
		for _, u := range []store.User{{Name: "alice", Role: store.RoleAgent}, {Name: "bob", Role: store.RoleSupervisor}} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		for _, e := range []store.Extension{
			{Number: "1001", User: "alice", OutboundNumber: "01012340000"},
			{Number: "1002", User: "bob"},
		} {
			if err := tx.PutExtension(e); err != nil {
				return err
			}
		}
		for _, tr := range []store.Trunk{{Name: "t1", Kind: store.TrunkIP, Host: "127.0.0.20"}, {Name: "t2", Kind: store.TrunkIP, Host: "127.0.0.21"}} {
			if err := tx.PutTrunk(tr); err != nil {
				return err
			}
		}
		for _, r := range []store.OutboundRoute{
			{Name: "mobile", Order: 10, Patterns: []string{"1[3-9]XXXXXXXXX"}, Trunks: []string{"t1", "t2"},
				CallerNumber: store.CallerNumber{Mode: store.CallerFixed, Number: "02088880000"}},
			{Name: "landline", Order: 20, Patterns: []string{"0ZXXXXXXX!"}, Trunks: []string{"t2"}, AllowRoles: []string{"supervisor"},
				CallerNumber: store.CallerNumber{Mode: store.CallerPoolRegion, Pool: "sales"}},
			{Name: "service", Order: 30, Patterns: []string{"1XX", "00X."}, Trunks: []string{"t1"}},
		} {
			if err := tx.PutOutboundRoute(r); err != nil {
				return err
			}
		}
		if err := tx.PutCallerPool(store.CallerPool{Name: "sales", Numbers: []store.PoolNumber{
			{Number: "075511110000", MaxCalls: 1}, // Shenzhen, from the region table
			{Number: "02022220000"},               // Guangzhou
			{Number: "01033330000"},               // Beijing
		}}); err != nil {
			return err
		}
		if err := tx.ReplaceRegions([]store.RegionRow{
			{Prefix: "0755", Province: "广东", City: "深圳"}, {Prefix: "020", Province: "广东", City: "广州"},
			{Prefix: "010", Province: "北京", City: "北京"}, {Prefix: "0756", Province: "广东", City: "珠海"},
		}); err != nil {
			return err
		}
		return tx.PutBlacklistEntry(store.BlacklistEntry{Number: "+8613900000000", Direction: store.DirBoth})
	})
	if err != nil {
		t.Fatal(err)
	}
	r, stop, err := newRouting(db, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.Local) // a Monday morning
	r.now = func() time.Time { return now }
	r.rnd = func(int) int { return 0 }
	return r, db, &now
}

func blockedReason(err error) string {
	var b *call.BlockedError
	if errors.As(err, &b) {
		return b.Reason
	}
	return ""
}

func TestRoutingOutbound(t *testing.T) {
	r, db, now := routingBox(t)
	alice, bob := call.Origin{Extension: "1001"}, call.Origin{Extension: "1002"}

	tg, err := r.outbound("13800138000", alice)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Device != (call.Device{Kind: call.DevicePSTN, ID: "13800138000"}) || !slices.Equal(tg.Trunks, []string{"t1", "t2"}) ||
		tg.Caller == nil || tg.Caller.Number != "02088880000" {
		t.Fatalf("mobile target %+v caller %+v", tg, tg.Caller)
	}
	tg.Done()

	for _, tc := range []struct {
		name, number string
		origin       call.Origin
		reason       string
		notFound     bool
	}{
		{"a carrier's call never reaches a trunk", "13800138000", call.Origin{Trunk: "t1"}, "trunk_origin", false},
		{"a role the route does not allow", "075512345678", alice, "not_allowed", false},
		{"blacklisted (listed as +86…)", "13900000000", alice, "blacklist", false},
		{"international is off by default", "0044123456789", alice, "international", false},
		{"nobody's number", "5555", alice, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.outbound(tc.number, tc.origin)
			if tc.notFound {
				if !errors.Is(err, call.ErrNotFound) {
					t.Fatalf("err %v, want not found", err)
				}
				return
			}
			if got := blockedReason(err); got != tc.reason {
				t.Fatalf("err %v, want blocked %s", err, tc.reason)
			}
		})
	}
	if n := testutil.ToFloat64(r.blocked.WithLabelValues("blacklist")); n != 1 {
		t.Errorf("pbx_calls_blocked_total{reason=blacklist} = %v", n)
	}

	// The caller number nearest the callee: Shenzhen for Shenzhen; once
	// that number is at its limit, the same province; Beijing for Beijing;
	// a city with no number of its own (Zhuhai) gets its province's.
	pick := func(number string) (string, func()) {
		t.Helper()
		tg, err := r.outbound(number, bob)
		if err != nil {
			t.Fatalf("%s: %v", number, err)
		}
		return tg.Caller.Number, tg.Done
	}
	sz, done := pick("075587654321")
	if sz != "075511110000" {
		t.Fatalf("Shenzhen callee: caller %s", sz)
	}
	if c, d := pick("075587654322"); c != "02022220000" {
		t.Fatalf("Shenzhen number busy: caller %s, want the Guangzhou one", c)
	} else {
		d()
	}
	done()
	if c, d := pick("075587654323"); c != "075511110000" {
		t.Fatalf("after the first call ended: caller %s", c)
	} else {
		d()
	}
	if c, d := pick("01087654321"); c != "01033330000" {
		t.Fatalf("Beijing callee: caller %s", c)
	} else {
		d()
	}
	if c, d := pick("075687654321"); c != "02022220000" && c != "075511110000" {
		t.Fatalf("Zhuhai callee: caller %s, want a Guangdong number", c)
	} else {
		d()
	}

	// Locked outside business hours: refused, but 110 still goes out.
	err = db.Update(func(tx *store.Tx) error {
		p, _ := tx.OutboundPolicy()
		p.LockOutsideHours = true
		p.ExtensionCallsPerMinute = 3
		return tx.PutOutboundPolicy(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	r.changed("outbound_policy.updated")
	*now = now.Add(12 * time.Hour) // 22:00
	if _, err := r.outbound("13800138000", alice); blockedReason(err) != "locked" {
		t.Fatalf("at night: %v, want locked", err)
	}
	tg, err = r.outbound("110", alice)
	if err != nil || tg.Device.ID != "110" {
		t.Fatalf("110 at night: %+v %v", tg, err)
	}

	// The extension's calls-per-minute limit (3, counting the calls that
	// passed the checks), never for emergency numbers.
	*now = now.Add(-12 * time.Hour)
	for i := range 3 {
		if _, err := r.outbound("13800138001", call.Origin{Extension: "1001"}); err != nil && i < 2 {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := r.outbound("13800138002", alice); blockedReason(err) != "rate_limit" {
		t.Fatalf("over the limit: %v, want rate_limit", err)
	}
	if _, err := r.outbound("120", alice); err != nil {
		t.Fatalf("120 over the limit: %v", err)
	}
	*now = now.Add(time.Minute)
	if _, err := r.outbound("13800138003", alice); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
}

func TestRoutingFollowsChanges(t *testing.T) {
	r, db, _ := routingBox(t)
	alice := call.Origin{Extension: "1001"}
	if _, err := r.outbound("4001234567", alice); !errors.Is(err, call.ErrNotFound) {
		t.Fatalf("before the route: %v", err)
	}
	err := db.Update(func(tx *store.Tx) error {
		return tx.PutOutboundRoute(store.OutboundRoute{Name: "toll-free", Order: 5, Patterns: []string{"400XXXXXXX"}, Trunks: []string{"t2"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	r.changed("route.created")
	tg, err := r.outbound("4001234567", alice)
	if err != nil || !slices.Equal(tg.Trunks, []string{"t2"}) || tg.Caller.Number != "01012340000" {
		t.Fatalf("after the route: %+v %v", tg, err)
	}
}

func TestRoutingInbound(t *testing.T) {
	r, db, _ := routingBox(t)
	err := db.Update(func(tx *store.Tx) error {
		if err := tx.PutDID(store.DID{Number: "+862161230000", Destination: store.Destination{Type: store.DestExtension, Target: "1001"}}); err != nil {
			return err
		}
		return tx.PutDID(store.DID{Number: "02161230001", Trunk: "t2", Destination: store.Destination{Type: store.DestExtension, Target: "1002"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, trunk, caller, called, dest string
		status                            int
	}{
		{"a DID in another spelling", "t1", "13800138000", "02161230000", "1001", 0},
		{"a blacklisted caller is declined", "t1", "013900000000", "02161230000", "", 603},
		{"a DID for one trunk only", "t2", "13800138000", "862161230001", "1002", 0},
		{"the same DID from another trunk", "t1", "13800138000", "02161230001", "", 404},
		{"nobody's number", "t1", "13800138000", "02100000000", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest, status, _ := r.Inbound(tc.trunk, tc.caller, tc.called)
			if dest != tc.dest || status != tc.status {
				t.Fatalf("Inbound = %q %d, want %q %d", dest, status, tc.dest, tc.status)
			}
		})
	}
	err = db.Update(func(tx *store.Tx) error {
		return tx.SetInboundDefault(&store.Destination{Type: store.DestExtension, Target: "1002"})
	})
	if err != nil {
		t.Fatal(err)
	}
	r.changed("inbound_default.updated")
	if dest, status, _ := r.Inbound("t1", "13800138000", "02100000000"); dest != "1002" || status != 0 {
		t.Fatalf("with an inbound default: %q %d", dest, status)
	}
}

// TestRoutingConcurrentOutside: with extension_max_outbound 1 an extension
// has one outside call at a time; the next is refused until it ends.
func TestRoutingConcurrentOutside(t *testing.T) {
	r, db, _ := routingBox(t)
	if err := db.Update(func(tx *store.Tx) error {
		p, _ := tx.OutboundPolicy()
		p.ExtensionMaxOutbound = 1
		return tx.PutOutboundPolicy(p)
	}); err != nil {
		t.Fatal(err)
	}
	alice := call.Origin{Extension: "1001"}
	first, err := r.outbound("13800138000", alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.outbound("13800138001", alice); blockedReason(err) != "rate_limit" {
		t.Fatalf("a second outside call: %v, want rate_limit", err)
	}
	if _, err := r.outbound("13800138001", call.Origin{Extension: "1002"}); err != nil {
		t.Fatalf("another extension: %v", err)
	}
	first.Done()
	if _, err := r.outbound("13800138001", alice); err != nil {
		t.Fatalf("after the first ended: %v", err)
	}
}

// TestRoutingConcurrentOutsideAtOnce: two calls at the same moment cannot
// both take an extension's last outside-call place.
func TestRoutingConcurrentOutsideAtOnce(t *testing.T) {
	r, db, _ := routingBox(t)
	if err := db.Update(func(tx *store.Tx) error {
		p, _ := tx.OutboundPolicy()
		p.ExtensionMaxOutbound, p.ExtensionCallsPerMinute = 1, 1000
		return tx.PutOutboundPolicy(p)
	}); err != nil {
		t.Fatal(err)
	}
	alice := call.Origin{Extension: "1001"}
	type outcome struct {
		tg  call.Target
		err error
	}
	for range 50 {
		out := make(chan outcome, 2)
		for range 2 {
			go func() {
				tg, err := r.outbound("13800138000", alice)
				out <- outcome{tg, err}
			}()
		}
		a, b := <-out, <-out
		if (a.err == nil) == (b.err == nil) {
			t.Fatalf("two calls at once: %v and %v, want exactly one refused", a.err, b.err)
		}
		for _, o := range []outcome{a, b} {
			if o.err == nil {
				o.tg.Done()
			} else if blockedReason(o.err) != "rate_limit" {
				t.Fatalf("the refused one: %v, want rate_limit", o.err)
			}
		}
	}
}
