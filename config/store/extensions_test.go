package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"testing"
	"time"
)

func TestExtensions(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	put := []Extension{
		{Number: "1001", Name: "Front desk", User: "alice", HA1MD5: "m1", HA1SHA256: "s1", MaxCalls: 4, Codecs: []string{"PCMA"}},
		{Number: "201", HA1MD5: "m2", HA1SHA256: "s2", Disabled: true},
		{Number: "1000", HA1MD5: "m3", HA1SHA256: "s3"},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutUser(User{Name: "alice", Role: RoleAgent, AgentNumber: "8001"}); err != nil {
			return err
		}
		for _, e := range put {
			if err := tx.PutExtension(e); err != nil {
				return err
			}
		}
		return nil
	})

	tests := []struct {
		name    string
		number  string
		want    Extension
		wantErr error
	}{
		{"all fields", "1001", Extension{Number: "1001", Name: "Front desk", User: "alice", HA1MD5: "m1", HA1SHA256: "s1",
			MaxCalls: 4, Codecs: []string{"PCMA"}, Created: t0, Updated: t0}, nil},
		{"disabled", "201", Extension{Number: "201", HA1MD5: "m2", HA1SHA256: "s2", Disabled: true, Created: t0, Updated: t0}, nil},
		{"missing", "999", Extension{}, ErrNotFound},
		{"empty", "", Extension{}, ErrNotFound},
		{"slash", "1001/x", Extension{}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Extension
			err := db.View(func(tx *Tx) (err error) { got, err = tx.Extension(tt.number); return err })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}

	t.Run("numeric order", func(t *testing.T) {
		var got []string
		db.View(func(tx *Tx) error {
			exts, err := tx.Extensions()
			for _, e := range exts {
				got = append(got, e.Number)
			}
			return err
		})
		if want := []string{"201", "1000", "1001"}; !reflect.DeepEqual(got, want) {
			t.Errorf("order = %v, want %v", got, want)
		}
	})

	t.Run("update keeps Created", func(t *testing.T) {
		clock.add(time.Hour)
		var e Extension
		mustUpdate(t, db, func(tx *Tx) (err error) {
			if e, err = tx.Extension("201"); err != nil {
				return err
			}
			e.Disabled = false
			if err := tx.PutExtension(e); err != nil {
				return err
			}
			e, err = tx.Extension("201")
			return err
		})
		if !e.Created.Equal(t0) || !e.Updated.Equal(t0.Add(time.Hour)) || e.Disabled {
			t.Errorf("after update: %+v", e)
		}
	})

	t.Run("agent number round trip", func(t *testing.T) {
		var u User
		db.View(func(tx *Tx) (err error) { u, err = tx.User("alice"); return err })
		if u.AgentNumber != "8001" {
			t.Errorf("AgentNumber = %q", u.AgentNumber)
		}
	})

	t.Run("deleting the owner keeps the extension", func(t *testing.T) {
		mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("alice") })
		var e Extension
		db.View(func(tx *Tx) (err error) { e, err = tx.Extension("1001"); return err })
		if e.User != "" || e.HA1MD5 != "m1" {
			t.Errorf("after deleting the owner: %+v", e)
		}
	})

	t.Run("delete", func(t *testing.T) {
		mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteExtension("1000") })
		err := db.Update(func(tx *Tx) error { return tx.DeleteExtension("1000") })
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
	})

	t.Run("invalid number", func(t *testing.T) {
		for _, n := range []string{"", "a/b"} {
			err := db.Update(func(tx *Tx) error { return tx.PutExtension(Extension{Number: n}) })
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("PutExtension(%q) = %v, want ErrInvalid", n, err)
			}
		}
	})
}

func TestExtensionDefaults(t *testing.T) {
	tests := []struct {
		e          Extension
		wantLimit  int
		wantCodecs []string
	}{
		{Extension{}, DefaultMaxCalls, []string{"PCMU", "PCMA"}},
		{Extension{MaxCalls: 5, Codecs: []string{"PCMA", "PCMU"}}, 5, []string{"PCMA", "PCMU"}},
	}
	for _, tt := range tests {
		if got := tt.e.CallLimit(); got != tt.wantLimit {
			t.Errorf("CallLimit() = %d, want %d", got, tt.wantLimit)
		}
		got := tt.e.CodecPreference()
		if !reflect.DeepEqual(got, tt.wantCodecs) {
			t.Errorf("CodecPreference() = %v, want %v", got, tt.wantCodecs)
		}
		got[0] = "changed" // the caller's copy, not the record's or the default
	}
	if got := DefaultCodecs(); got[0] != "PCMU" {
		t.Errorf("the default was changed through a returned slice: %v", got)
	}
}

// TestExtensionRingOnStored: RingOn is stored and read back; "" is not
// stored at all, so records written before the field read as "both".
func TestExtensionRingOnStored(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	want := Extension{Number: "1001", HA1MD5: "m", HA1SHA256: "s", RingOn: RingOnPhone, Created: t0, Updated: t0}
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutExtension(want) })
	var got Extension
	db.View(func(tx *Tx) (err error) { got, err = tx.Extension("1001"); return err })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	raw, _ := json.Marshal(Extension{Number: "1002"})
	var keys map[string]any
	json.Unmarshal(raw, &keys)
	if _, ok := keys["ring_on"]; ok {
		t.Error("empty ring_on stored")
	}
}

func TestExtensionRingTarget(t *testing.T) {
	tests := []struct {
		ringOn      string
		want        string
		phone, seat bool
	}{
		{"", RingOnBoth, true, true},
		{RingOnBoth, RingOnBoth, true, true},
		{RingOnPhone, RingOnPhone, true, false},
		{RingOnSeat, RingOnSeat, false, true},
		// A value a later build wrote: calls still ring everywhere.
		{"desk", RingOnBoth, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.ringOn, func(t *testing.T) {
			e := Extension{RingOn: tt.ringOn}
			if got := e.RingTarget(); got != tt.want {
				t.Errorf("RingTarget() = %q, want %q", got, tt.want)
			}
			if e.RingsPhone() != tt.phone || e.RingsSeat() != tt.seat {
				t.Errorf("RingsPhone() = %v, RingsSeat() = %v, want %v, %v", e.RingsPhone(), e.RingsSeat(), tt.phone, tt.seat)
			}
		})
	}
}

// TestExtensionsOwnedBy: a user's extensions in numeric order; nobody's
// for a user with none, for an unknown user and for "" (which is no owner).
func TestExtensionsOwnedBy(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	mustUpdate(t, db, func(tx *Tx) error {
		for _, name := range []string{"alice", "bob", "carol"} {
			if err := tx.PutUser(User{Name: name, Role: RoleAgent}); err != nil {
				return err
			}
		}
		for _, e := range []Extension{
			{Number: "1001", User: "alice"},
			{Number: "202", User: "alice", RingOn: RingOnSeat},
			{Number: "1000", User: "bob"},
			{Number: "300"},
			{Number: "99", User: "alice"},
		} {
			e.HA1MD5, e.HA1SHA256 = "m", "s"
			if err := tx.PutExtension(e); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		user string
		want []string
	}{
		{"alice", []string{"99", "202", "1001"}},
		{"bob", []string{"1000"}},
		{"carol", nil},
		{"nobody", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			var got []string
			err := db.View(func(tx *Tx) error {
				exts, err := tx.ExtensionsOwnedBy(tt.user)
				for _, e := range exts {
					if e.User != tt.user {
						t.Errorf("extension %s belongs to %q", e.Number, e.User)
					}
					got = append(got, e.Number)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("owned %v, want %v", got, tt.want)
			}
		})
	}

	// Deleting a user leaves their extensions ownerless, and only theirs.
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("alice") })
	db.View(func(tx *Tx) error {
		if owned, err := tx.ExtensionsOwnedBy("alice"); err != nil || len(owned) != 0 {
			t.Errorf("deleted user still owns %v (%v)", owned, err)
		}
		e, err := tx.Extension("202")
		if err != nil || e.User != "" || e.RingOn != RingOnSeat {
			t.Errorf("202 after the owner's deletion: %+v (%v)", e, err)
		}
		if owned, err := tx.ExtensionsOwnedBy("bob"); err != nil || len(owned) != 1 {
			t.Errorf("bob owns %v (%v)", owned, err)
		}
		return nil
	})
}

func TestRealm(t *testing.T) {
	db := openTest(t, Options{})
	err := db.View(func(tx *Tx) error { _, err := tx.Realm(); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Realm on a new store: %v, want ErrNotFound", err)
	}
	realm, err := EnsureRealm(db)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ccbox-[0-9a-f]{8}$`).MatchString(realm) {
		t.Errorf("realm = %q", realm)
	}
	again, err := EnsureRealm(db)
	if err != nil || again != realm {
		t.Errorf("second EnsureRealm = %q, %v; want %q (fixed at first start)", again, err, realm)
	}
	var stored string
	db.View(func(tx *Tx) (err error) { stored, err = tx.Realm(); return err })
	if stored != realm {
		t.Errorf("stored realm = %q, want %q", stored, realm)
	}

	for _, bad := range []string{"", `a"b`, `a\b`, "a\nb", string(make([]byte, 65))} {
		err := db.Update(func(tx *Tx) error { return tx.SetRealm(bad) })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("SetRealm(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.SetRealm("pbx.example.com") })
	if got, _ := EnsureRealm(db); got != "pbx.example.com" {
		t.Errorf("EnsureRealm after SetRealm = %q", got)
	}
}

func TestRealmReadOnlyUnset(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, Options{Dir: dir})
	db.Close()
	ro := openTest(t, Options{Dir: dir, ReadOnly: true})
	if _, err := EnsureRealm(ro); !errors.Is(err, ErrReadOnly) {
		t.Errorf("EnsureRealm on a read-only store without a realm = %v, want ErrReadOnly", err)
	}
}

func TestRegistrations(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	exp := t0.Add(time.Hour)
	data := json.RawMessage(`{"contact":"sip:1001@127.0.0.2:5060"}`)

	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutRegistrations("10", []Registration{{ID: "a", Data: data, Expires: exp}}); err != nil {
			return err
		}
		return tx.PutRegistrations("100", []Registration{
			{ID: "a", Expires: exp},
			{ID: "b", Expires: t0.Add(time.Minute)},
			{ID: "gone", Expires: t0.Add(-time.Second)}, // already expired: not stored
		})
	})
	ids := func() []string {
		var out []string
		err := db.View(func(tx *Tx) error {
			regs, err := tx.Registrations()
			for _, r := range regs {
				out = append(out, r.Extension+"/"+r.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := ids(), []string{"10/a", "100/a", "100/b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("registrations = %v, want %v", got, want)
	}
	var first Registration
	db.View(func(tx *Tx) error { regs, err := tx.Registrations(); first = regs[0]; return err })
	if !reflect.DeepEqual(first, Registration{Extension: "10", ID: "a", Data: data, Expires: exp}) {
		t.Errorf("round trip: %+v", first)
	}

	t.Run("expired are skipped", func(t *testing.T) {
		clock.add(2 * time.Minute)
		if got, want := ids(), []string{"10/a", "100/a"}; !reflect.DeepEqual(got, want) {
			t.Errorf("registrations = %v, want %v", got, want)
		}
	})
	t.Run("replace touches only that extension", func(t *testing.T) {
		mustUpdate(t, db, func(tx *Tx) error {
			return tx.PutRegistrations("10", []Registration{{ID: "c", Expires: exp}})
		})
		if got, want := ids(), []string{"10/c", "100/a"}; !reflect.DeepEqual(got, want) {
			t.Errorf("registrations = %v, want %v", got, want)
		}
	})
	t.Run("none removes all", func(t *testing.T) {
		mustUpdate(t, db, func(tx *Tx) error { return tx.PutRegistrations("100", nil) })
		if got, want := ids(), []string{"10/c"}; !reflect.DeepEqual(got, want) {
			t.Errorf("registrations = %v, want %v", got, want)
		}
	})
	t.Run("deleting the extension removes them", func(t *testing.T) {
		mustUpdate(t, db, func(tx *Tx) error {
			if err := tx.PutExtension(Extension{Number: "10"}); err != nil {
				return err
			}
			return tx.DeleteExtension("10")
		})
		if got := ids(); len(got) != 0 {
			t.Errorf("registrations = %v, want none", got)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, tc := range []struct {
			ext  string
			regs []Registration
		}{
			{"", nil},
			{"1/2", nil},
			{"10", []Registration{{ID: "", Expires: exp}}},
			{"10", []Registration{{ID: "x"}}},
		} {
			err := db.Update(func(tx *Tx) error { return tx.PutRegistrations(tc.ext, tc.regs) })
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("PutRegistrations(%q, %+v) = %v, want ErrInvalid", tc.ext, tc.regs, err)
			}
		}
	})
}

func TestRegistrationBadgerTTL(t *testing.T) {
	// Badger's TTL runs on the real clock; a record past its Expires is gone
	// from the keyspace itself, not only filtered by Registrations.
	db := openTest(t, Options{})
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutRegistrations("10", []Registration{{ID: "a", Expires: time.Now().Add(time.Second)}})
	})
	eventually(t, 5*time.Second, func() bool {
		var n int
		db.View(func(tx *Tx) (err error) { n, err = tx.count(prefixReg); return err })
		return n == 0
	})
}
