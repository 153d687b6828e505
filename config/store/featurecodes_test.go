package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestFeatureCodes(t *testing.T) {
	db := openTest(t, Options{})
	var got FeatureCodes
	if err := db.View(func(tx *Tx) (err error) { got, err = tx.FeatureCodes(); return err }); err != nil {
		t.Fatal(err)
	}
	if got != DefaultFeatureCodes() {
		t.Errorf("never set: %+v, want the defaults", got)
	}

	changed := DefaultFeatureCodes()
	changed.DNDOn, changed.GroupPickup = "#78", "" // "" = disabled, kept as such
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutFeatureCodes(changed) })
	if err := db.View(func(tx *Tx) (err error) { got, err = tx.FeatureCodes(); return err }); err != nil {
		t.Fatal(err)
	}
	if got != changed {
		t.Errorf("round trip: %+v, want %+v", got, changed)
	}
}

// TestFeatureCodeTable: one row per field, keyed by the field's JSON name,
// in the struct's order, carrying its code.
func TestFeatureCodeTable(t *testing.T) {
	fc := DefaultFeatureCodes()
	raw, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	var byKey map[string]string
	if err := json.Unmarshal(raw, &byKey); err != nil {
		t.Fatal(err)
	}
	rows := fc.Table()
	if len(rows) != reflect.TypeOf(fc).NumField() {
		t.Fatalf("%d rows for %d fields", len(rows), reflect.TypeOf(fc).NumField())
	}
	takes := map[string]bool{"forward_always_on": true, "forward_busy_on": true, "forward_no_answer_on": true, "directed_pickup": true}
	for i, r := range rows {
		if want := reflect.TypeOf(fc).Field(i).Tag.Get("json"); r.Key != want {
			t.Errorf("row %d key %q, want %q", i, r.Key, want)
		}
		if r.Code != byKey[r.Key] || r.Code == "" {
			t.Errorf("row %s code %q, want %q", r.Key, r.Code, byKey[r.Key])
		}
		if r.TakesNumber != takes[r.Key] {
			t.Errorf("row %s takes_number %v", r.Key, r.TakesNumber)
		}
		if r.Description == "" {
			t.Errorf("row %s has no description", r.Key)
		}
	}
}

func TestUpdateExtension(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutExtension(Extension{Number: "1001", Name: "Desk", HA1MD5: "m", HA1SHA256: "s"})
	})
	clock.add(time.Minute)

	var got Extension
	mustUpdate(t, db, func(tx *Tx) (err error) {
		got, err = tx.UpdateExtension("1001", func(e *Extension) error {
			e.DND, e.ForwardBusy = true, "1002"
			return nil
		})
		return err
	})
	want := Extension{Number: "1001", Name: "Desk", HA1MD5: "m", HA1SHA256: "s", DND: true, ForwardBusy: "1002",
		Created: t0, Updated: t0.Add(time.Minute)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("returned %+v\nwant %+v", got, want)
	}
	var stored Extension
	db.View(func(tx *Tx) (err error) { stored, err = tx.Extension("1001"); return err })
	if !reflect.DeepEqual(stored, want) {
		t.Errorf("stored %+v\nwant %+v", stored, want)
	}

	errStop := errors.New("stop")
	tests := []struct {
		name   string
		number string
		f      func(*Extension) error
		want   error
	}{
		{"missing", "1009", func(*Extension) error { return nil }, ErrNotFound},
		{"f fails", "1001", func(e *Extension) error { e.DND = false; return errStop }, errStop},
		{"number changed", "1001", func(e *Extension) error { e.Number = "1002"; return nil }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Update(func(tx *Tx) error {
				_, err := tx.UpdateExtension(tt.number, tt.f)
				return err
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			db.View(func(tx *Tx) (err error) { stored, err = tx.Extension("1001"); return err })
			if !reflect.DeepEqual(stored, want) {
				t.Errorf("changed by a failed update: %+v", stored)
			}
		})
	}
}

// TestExtensionCallFeaturesRoundTrip: the call-feature fields are stored and
// read back; an extension that sets none stores none of their keys (so
// records written before them read the same).
func TestExtensionCallFeaturesRoundTrip(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	full := Extension{Number: "1001", HA1MD5: "m", HA1SHA256: "s", DTMFMode: "info", DND: true,
		ForwardAlways: "+8613800000000", ForwardBusy: "1002", ForwardNoAnswer: "1003", NoAnswerSeconds: 30,
		PickupGroup: "sales", Created: t0, Updated: t0}
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutExtension(full) })
	var got Extension
	db.View(func(tx *Tx) (err error) { got, err = tx.Extension("1001"); return err })
	if !reflect.DeepEqual(got, full) {
		t.Errorf("got %+v\nwant %+v", got, full)
	}
	if got.NoAnswerTimeout() != 30*time.Second {
		t.Errorf("NoAnswerTimeout = %v", got.NoAnswerTimeout())
	}
	raw, _ := json.Marshal(Extension{Number: "1002"})
	var keys map[string]any
	json.Unmarshal(raw, &keys)
	for _, k := range []string{"dtmf_mode", "dnd", "forward_always", "forward_busy", "forward_no_answer", "no_answer_seconds", "pickup_group"} {
		if _, ok := keys[k]; ok {
			t.Errorf("zero %s stored", k)
		}
	}
	if (Extension{}).NoAnswerTimeout() != DefaultNoAnswerSeconds*time.Second {
		t.Error("zero NoAnswerSeconds is not the default")
	}
}
