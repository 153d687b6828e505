package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestDIDs(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	dids := []DID{
		{Number: "+862110000001", Trunk: "carrier1", Destination: Destination{Type: DestExtension, Target: "1001"}},
		{Number: "95555", Destination: Destination{Type: DestHangup}, Description: "service"},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for _, d := range dids {
			if err := tx.PutDID(d); err != nil {
				return err
			}
		}
		return nil
	})
	db.View(func(tx *Tx) error {
		got, err := tx.DIDs()
		if err != nil {
			t.Fatal(err)
		}
		// Shorter numbers first, as extensions.
		want := []DID{dids[1], dids[0]}
		for i := range want {
			want[i].Created, want[i].Updated = t0, t0
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DIDs = %+v\nwant %+v", got, want)
		}
		if d, err := tx.DID("95555"); err != nil || d.Description != "service" {
			t.Errorf("DID = %+v, %v", d, err)
		}
		if _, err := tx.DID("1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing DID err = %v", err)
		}
		return nil
	})
	if err := db.Update(func(tx *Tx) error { return tx.PutDID(DID{Number: "1/2"}) }); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad key err = %v", err)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteDID("95555") })
	if err := db.Update(func(tx *Tx) error { return tx.DeleteDID("95555") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete err = %v", err)
	}
}

func TestDestinationTypes(t *testing.T) {
	tests := []struct {
		t                DestinationType
		valid, available bool
	}{
		{DestExtension, true, true},
		{DestHangup, true, true},
		{DestQueue, true, false},
		{DestIVR, true, false},
		{DestVoicemail, true, false},
		{DestTimeCondition, true, false},
		{"fax", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if tt.t.Valid() != tt.valid || tt.t.Available() != tt.available {
			t.Errorf("%q: Valid %v Available %v", tt.t, tt.t.Valid(), tt.t.Available())
		}
	}
}

func TestInboundDefault(t *testing.T) {
	db := openTest(t, Options{})
	get := func() *Destination {
		var d *Destination
		if err := db.View(func(tx *Tx) (err error) { d, err = tx.InboundDefault(); return err }); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := get(); d != nil {
		t.Fatalf("fresh store: %+v", d)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.SetInboundDefault(nil) }) // nothing to remove: no error
	want := Destination{Type: DestExtension, Target: "1000"}
	mustUpdate(t, db, func(tx *Tx) error { return tx.SetInboundDefault(&want) })
	if d := get(); d == nil || *d != want {
		t.Errorf("got %+v", d)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.SetInboundDefault(nil) })
	if d := get(); d != nil {
		t.Errorf("after clearing: %+v", d)
	}
}

func TestOutboundRoutes(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	routes := []OutboundRoute{
		{Name: "mobile", Order: 20, Patterns: []string{"1[3-9]XXXXXXXXX"}, Trunks: []string{"c1", "c2"},
			CallerNumber: CallerNumber{Mode: CallerPoolRegion, Pool: "sh"}},
		{Name: "local", Order: 10, Patterns: []string{"NXXXXXXX"}, Trunks: []string{"c1"}, Prepend: "021"},
		{Name: "any", Order: 20, Patterns: []string{"X."}, Trunks: []string{"c2"}, AllowRoles: []string{"admin"}},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for _, r := range routes {
			if err := tx.PutOutboundRoute(r); err != nil {
				return err
			}
		}
		return nil
	})
	names := func() []string {
		var out []string
		db.View(func(tx *Tx) error {
			rs, err := tx.OutboundRoutes()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				out = append(out, fmt.Sprintf("%s:%d", r.Name, r.Order))
			}
			return nil
		})
		return out
	}
	if got, want := names(), []string{"local:10", "any:20", "mobile:20"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	db.View(func(tx *Tx) error {
		r, err := tx.OutboundRoute("mobile")
		want := routes[0]
		want.Created, want.Updated = t0, t0
		if err != nil || !reflect.DeepEqual(r, want) {
			t.Errorf("route = %+v, %v", r, err)
		}
		return nil
	})

	tests := []struct {
		name    string
		order   []string
		wantErr error
		want    []string
	}{
		{"too few", []string{"mobile", "local"}, ErrInvalid, []string{"local:10", "any:20", "mobile:20"}},
		{"twice", []string{"mobile", "local", "local"}, ErrInvalid, []string{"local:10", "any:20", "mobile:20"}},
		{"unknown", []string{"mobile", "local", "x"}, ErrInvalid, []string{"local:10", "any:20", "mobile:20"}},
		{"reorder", []string{"mobile", "local", "any"}, nil, []string{"mobile:10", "local:20", "any:30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Update(func(tx *Tx) error { return tx.ReorderOutboundRoutes(tt.order) })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := names(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteOutboundRoute("any") })
	if err := db.Update(func(tx *Tx) error { return tx.DeleteOutboundRoute("any") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	if err := db.Update(func(tx *Tx) error { return tx.PutOutboundRoute(OutboundRoute{}) }); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v", err)
	}
}

func TestCallerModes(t *testing.T) {
	tests := []struct {
		m     CallerMode
		valid bool
		mode  CallerMode
	}{
		{"", true, CallerExtension},
		{CallerExtension, true, CallerExtension},
		{CallerFixed, true, CallerFixed},
		{CallerPoolRegion, true, CallerPoolRegion},
		{"random", false, "random"},
	}
	for _, tt := range tests {
		if tt.m.Valid() != tt.valid || tt.m.Mode() != tt.mode || tt.m.String() != string(tt.mode) {
			t.Errorf("%q: Valid %v Mode %q", tt.m, tt.m.Valid(), tt.m.Mode())
		}
	}
}

func TestCallerPools(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	p := CallerPool{Name: "sh", Numbers: []PoolNumber{
		{Number: "02110000001", Province: "上海", City: "上海", MaxCalls: 2},
		{Number: "13800000000"},
	}}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutCallerPool(CallerPool{Name: "bj"}); err != nil {
			return err
		}
		return tx.PutCallerPool(p)
	})
	db.View(func(tx *Tx) error {
		got, err := tx.CallerPool("sh")
		p.Created, p.Updated = t0, t0
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("pool = %+v, %v", got, err)
		}
		all, err := tx.CallerPools()
		if err != nil || len(all) != 2 || all[0].Name != "bj" {
			t.Errorf("pools = %+v, %v", all, err)
		}
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteCallerPool("bj") })
	if err := db.Update(func(tx *Tx) error { return tx.DeleteCallerPool("bj") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	if err := db.Update(func(tx *Tx) error { return tx.PutCallerPool(CallerPool{Name: "a/b"}) }); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v", err)
	}
}

func TestBlacklist(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	entries := []BlacklistEntry{
		{Number: "13800000000", Direction: DirInbound, Description: "spam"},
		{Number: "13800000000", Direction: DirOutbound, Description: "expensive"},
		{Number: "110", Direction: DirBoth},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for _, e := range entries {
			if err := tx.PutBlacklistEntry(e); err != nil {
				return err
			}
		}
		return nil
	})
	db.View(func(tx *Tx) error {
		got, err := tx.Blacklist()
		if err != nil {
			t.Fatal(err)
		}
		want := []BlacklistEntry{entries[2], entries[0], entries[1]}
		for i := range want {
			want[i].Created, want[i].Updated = t0, t0
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Blacklist = %+v\nwant %+v", got, want)
		}
		if e, err := tx.BlacklistEntry("13800000000", DirOutbound); err != nil || e.Description != "expensive" {
			t.Errorf("entry = %+v, %v", e, err)
		}
		if _, err := tx.BlacklistEntry("13800000000", DirBoth); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v", err)
		}
		return nil
	})
	for _, e := range []BlacklistEntry{{Number: "1", Direction: "in"}, {Number: "", Direction: DirBoth}, {Number: "1/2", Direction: DirBoth}} {
		if err := db.Update(func(tx *Tx) error { return tx.PutBlacklistEntry(e) }); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put(%+v) err = %v", e, err)
		}
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteBlacklistEntry("13800000000", DirInbound) })
	for _, dir := range []Direction{DirInbound, "x"} {
		if err := db.Update(func(tx *Tx) error { return tx.DeleteBlacklistEntry("13800000000", dir) }); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete %s err = %v", dir, err)
		}
	}
}

func TestRegions(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	read := func() ([]RegionRow, RegionInfo) {
		var rows []RegionRow
		var info RegionInfo
		err := db.View(func(tx *Tx) (err error) {
			if rows, err = tx.Regions(); err != nil {
				return err
			}
			info, err = tx.RegionInfo()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rows, info
	}
	if rows, info := read(); rows != nil || info != (RegionInfo{}) {
		t.Fatalf("fresh store: %v %+v", rows, info)
	}
	first := []RegionRow{{"021", "上海", "上海"}, {"010", "北京", "北京"}, {"1380013", "北京", "北京"}}
	mustUpdate(t, db, func(tx *Tx) error { return tx.ReplaceRegions(first) })
	rows, info := read()
	want := []RegionRow{first[1], first[0], first[2]}
	if !reflect.DeepEqual(rows, want) || info != (RegionInfo{Rows: 3, Updated: t0}) {
		t.Errorf("rows = %v, info %+v", rows, info)
	}

	bad := [][]RegionRow{
		{{"021", "a", "b"}, {"021", "c", "d"}},
		{{"", "a", "b"}},
		{{"12a", "a", "b"}},
		{{"1234567890123", "a", "b"}},
	}
	for _, b := range bad {
		if err := db.Update(func(tx *Tx) error { return tx.ReplaceRegions(b) }); !errors.Is(err, ErrInvalid) {
			t.Errorf("ReplaceRegions(%v) err = %v, want ErrInvalid", b, err)
		}
	}
	if got, _ := read(); !reflect.DeepEqual(got, want) {
		t.Errorf("a refused import changed the table: %v", got)
	}

	// A national-size table replaces the old one in one transaction.
	clock.add(time.Hour)
	big := make([]RegionRow, 0, 300000)
	for i := range 300000 {
		big = append(big, RegionRow{Prefix: fmt.Sprintf("1%06d", i), Province: "广东省", City: "深圳市"})
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.ReplaceRegions(big) })
	rows, info = read()
	if len(rows) != len(big) || rows[0].Prefix != "1000000" || rows[len(rows)-1].Prefix != "1299999" ||
		info != (RegionInfo{Rows: len(big), Updated: t0.Add(time.Hour)}) {
		t.Errorf("big table: %d rows, info %+v", len(rows), info)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.ReplaceRegions(first[:1]) })
	if rows, info := read(); len(rows) != 1 || info.Rows != 1 {
		t.Errorf("after a smaller import: %v %+v", rows, info)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.ReplaceRegions(nil) })
	if rows, info := read(); len(rows) != 0 || info.Rows != 0 {
		t.Errorf("after an empty import: %v %+v", rows, info)
	}
}

func TestOutboundPolicy(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	var got OutboundPolicy
	db.View(func(tx *Tx) (err error) { got, err = tx.OutboundPolicy(); return err })
	def := DefaultOutboundPolicy()
	if !reflect.DeepEqual(got, def) {
		t.Errorf("fresh store: %+v", got)
	}
	if !reflect.DeepEqual(def.Emergency, []string{"110", "119", "120", "122"}) || def.International || def.Premium ||
		def.LockOutsideHours || def.CallsPerMinute() != 10 {
		t.Errorf("defaults: %+v", def)
	}
	if from, to := def.BusinessHours.Span(); from != 9*time.Hour || to != 18*time.Hour ||
		def.BusinessHours.Days[time.Sunday] || !def.BusinessHours.Days[time.Monday] {
		t.Errorf("business hours: %+v", def.BusinessHours)
	}
	p := def
	p.International, p.ExtensionCallsPerMinute, p.DenyPrefixes = true, 3, []string{"0085"}
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutOutboundPolicy(p) })
	db.View(func(tx *Tx) (err error) { got, err = tx.OutboundPolicy(); return err })
	p.Updated = t0
	if !reflect.DeepEqual(got, p) || got.CallsPerMinute() != 3 {
		t.Errorf("got %+v\nwant %+v", got, p)
	}
}

func TestExtensionOutboundNumber(t *testing.T) {
	db := openTest(t, Options{})
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutExtension(Extension{Number: "1001", OutboundNumber: "02110000001"})
	})
	db.View(func(tx *Tx) error {
		e, err := tx.Extension("1001")
		if err != nil || e.OutboundNumber != "02110000001" {
			t.Errorf("extension = %+v, %v", e, err)
		}
		return nil
	})
}
