package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestTrunks(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	sealed, err := db.SealTrunkSecret("carrier1", "pw-1")
	if err != nil {
		t.Fatal(err)
	}
	c1 := Trunk{Name: "carrier1", Kind: TrunkRegister, Host: "sip.example.net", Username: "02110000000",
		SealedSecret: sealed, Codecs: []string{"PCMA"}, Addresses: []string{"127.0.0.2/32"}}
	c0 := Trunk{Name: "a-ip", Kind: TrunkIP, Host: "127.0.0.3"}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutTrunk(c1); err != nil {
			return err
		}
		return tx.PutTrunk(c0)
	})
	clock.add(time.Minute)
	c1.MaxCalls = 5
	mustUpdate(t, db, func(tx *Tx) error {
		old, err := tx.Trunk("carrier1")
		if err != nil {
			return err
		}
		c1.Created = old.Created
		return tx.PutTrunk(c1)
	})

	db.View(func(tx *Tx) error {
		got, err := tx.Trunk("carrier1")
		if err != nil {
			t.Fatal(err)
		}
		want := c1
		want.Created, want.Updated = t0, t0.Add(time.Minute)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
		if !got.HasSecret() {
			t.Error("HasSecret = false")
		}
		if pw, err := db.TrunkSecret(got); err != nil || pw != "pw-1" {
			t.Errorf("TrunkSecret = %q, %v", pw, err)
		}
		// A sealed secret moved to another trunk does not open there.
		moved := got
		moved.Name = "other"
		if _, err := db.TrunkSecret(moved); !errors.Is(err, ErrSecretKey) {
			t.Errorf("moved secret: err = %v, want ErrSecretKey", err)
		}
		all, err := tx.Trunks()
		if err != nil || len(all) != 2 || all[0].Name != "a-ip" || all[1].Name != "carrier1" {
			t.Errorf("Trunks = %+v, %v", all, err)
		}
		for _, name := range []string{"missing", "", "a/b"} {
			if _, err := tx.Trunk(name); !errors.Is(err, ErrNotFound) {
				t.Errorf("Trunk(%q) err = %v", name, err)
			}
		}
		return nil
	})

	for _, name := range []string{"", "a/b", "a\x00"} {
		err := db.Update(func(tx *Tx) error { return tx.PutTrunk(Trunk{Name: name}) })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("PutTrunk(%q) err = %v, want ErrInvalid", name, err)
		}
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteTrunk("a-ip") })
	for _, name := range []string{"a-ip", "", "x/y"} {
		if err := db.Update(func(tx *Tx) error { return tx.DeleteTrunk(name) }); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteTrunk(%q) err = %v, want ErrNotFound", name, err)
		}
	}
}

func TestTrunkDefaults(t *testing.T) {
	tests := []struct {
		name string
		tr   Trunk
		port int
		tp   string
		exp  time.Duration
		opt  time.Duration
		user string
		cod  []string
	}{
		{"zero", Trunk{Username: "u"}, 5060, "udp", 300 * time.Second, 30 * time.Second, "u", []string{"PCMU", "PCMA"}},
		{"set", Trunk{Port: 5080, Transport: "tcp", Expires: 60, OptionsInterval: 10, Username: "u", AuthUsername: "a", Codecs: []string{"PCMA"}},
			5080, "tcp", time.Minute, 10 * time.Second, "a", []string{"PCMA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.tr
			if tr.SIPPort() != tt.port || tr.SIPTransport() != tt.tp || tr.RegisterExpiry() != tt.exp ||
				tr.OptionsEvery() != tt.opt || tr.DigestUsername() != tt.user || !reflect.DeepEqual(tr.CodecPreference(), tt.cod) {
				t.Errorf("defaults of %+v: %d %s %v %v %s %v", tr, tr.SIPPort(), tr.SIPTransport(), tr.RegisterExpiry(),
					tr.OptionsEvery(), tr.DigestUsername(), tr.CodecPreference())
			}
			if tr.HasSecret() {
				t.Error("HasSecret without a secret")
			}
		})
	}
	if !TrunkRegister.Valid() || !TrunkIP.Valid() || TrunkKind("peer").Valid() || TrunkIP.String() != "ip" {
		t.Error("TrunkKind.Valid/String")
	}
}
