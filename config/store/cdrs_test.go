package store

import (
	"errors"
	"testing"
	"time"
)

func TestCDRRoundTrip(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for i, serial := range []string{"a1", "a2", "a3"} {
		c := CDR{Serial: serial, Start: base.Add(time.Duration(i) * time.Minute), End: base.Add(time.Duration(i)*time.Minute + 30*time.Second),
			Caller: "1001", Callee: "1002", Direction: "internal", Result: "answered", Cause: "normal_clearing",
			Legs: []CDRLeg{{Channel: "c1", Role: "caller", Device: "sip:1001"}}}
		if err := db.Update(func(tx *Tx) error { return tx.AddCDR(c) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Update(func(tx *Tx) error { return tx.AddCDR(CDR{}) }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CDR without serial: %v", err)
	}
	err = db.View(func(tx *Tx) error {
		all, err := tx.CDRs(base, base.Add(time.Hour), 0)
		if err != nil {
			return err
		}
		if len(all) != 3 || all[0].Serial != "a3" || all[2].Serial != "a1" {
			t.Fatalf("CDRs = %+v, want a3 a2 a1", all)
		}
		some, err := tx.CDRs(base.Add(time.Minute), base.Add(2*time.Minute), 0)
		if err != nil {
			return err
		}
		if len(some) != 1 || some[0].Serial != "a2" {
			t.Fatalf("range = %+v, want a2", some)
		}
		c, err := tx.CDRBySerial("a2")
		if err != nil || c.Legs[0].Device != "sip:1001" {
			t.Fatalf("by serial: %+v %v", c, err)
		}
		if _, err := tx.CDRBySerial("nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown serial: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
