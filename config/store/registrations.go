package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Registration is one registered contact of an extension, kept so that
// registrations survive a restart. Data is the SIP layer's own record
// (opaque JSON to the store); Badger drops the record at Expires.
type Registration struct {
	Extension string          `json:"extension"`
	ID        string          `json:"id"` // unique within the extension (the SIP layer's binding key)
	Data      json.RawMessage `json:"data,omitempty"`
	Expires   time.Time       `json:"expires"`
}

// PutRegistrations replaces the stored registrations of ext with regs (none
// removes them all). Each needs an ID and an Expires; their Extension is set
// to ext. Records already expired are not stored.
func (tx *Tx) PutRegistrations(ext string, regs []Registration) error {
	if !validKeyPart(ext) {
		return fmt.Errorf("put registrations: %w: extension %q", ErrInvalid, ext)
	}
	for _, r := range regs {
		if !validKeyPart(r.ID) || r.Expires.IsZero() {
			return fmt.Errorf("put registrations of %s: %w: needs an ID and Expires", ext, ErrInvalid)
		}
	}
	prefix := registrationPrefix(ext)
	if err := tx.deletePrefix(prefix); err != nil {
		return err
	}
	now := tx.db.now()
	for _, r := range regs {
		if !now.Before(r.Expires) {
			continue
		}
		r.Extension = ext
		if err := tx.putJSON([]byte(prefix+r.ID), r, ttlSeconds(r.Expires)); err != nil {
			return err
		}
	}
	return nil
}

// Registrations returns every stored registration that has not expired,
// ordered by extension and ID.
func (tx *Tx) Registrations() ([]Registration, error) {
	var regs []Registration
	now := tx.db.now()
	err := tx.scan(prefixReg, func(key, val []byte) error {
		var r Registration
		if err := json.Unmarshal(val, &r); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		// Badger's TTL is lazy and has one-second granularity; Expires is
		// authoritative.
		if now.Before(r.Expires) {
			regs = append(regs, r)
		}
		return nil
	})
	return regs, err
}

// deletePrefix removes every key with prefix.
func (tx *Tx) deletePrefix(prefix string) error {
	var keys [][]byte
	err := tx.scan(prefix, func(key, _ []byte) error {
		keys = append(keys, append([]byte(nil), key...))
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.delete(k); err != nil {
			return err
		}
	}
	return nil
}
