package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Realm returns the SIP digest realm, or ErrNotFound before it is set.
//
// The realm is part of every stored HA1 (see Extension), so it is chosen
// once, at first start, and kept: changing it invalidates every secret.
func (tx *Tx) Realm() (string, error) {
	var realm string
	if err := tx.getJSON([]byte(keyRealm), &realm); err != nil {
		return "", err
	}
	return realm, nil
}

// SetRealm stores the SIP digest realm. It must be 1-64 printable characters
// without quotes or backslashes (it is sent inside a quoted header parameter).
func (tx *Tx) SetRealm(realm string) error {
	if !validRealm(realm) {
		return fmt.Errorf("set realm: %w: %q", ErrInvalid, realm)
	}
	return tx.putJSON([]byte(keyRealm), realm, 0)
}

// EnsureRealm returns the stored realm, first storing a new random one,
// "ccbox-" and 8 hex digits, when none is set. Unique per box, so a phone
// (or an attacker's table of HA1s) cannot carry credentials between boxes.
func EnsureRealm(db *DB) (string, error) {
	var realm string
	err := db.View(func(tx *Tx) (err error) { realm, err = tx.Realm(); return err })
	if err == nil || !errors.Is(err, ErrNotFound) {
		return realm, err
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: realm: %w", err)
	}
	fresh := "ccbox-" + hex.EncodeToString(b[:])
	err = db.Update(func(tx *Tx) error {
		// Another caller may have set it meanwhile: theirs wins.
		cur, err := tx.Realm()
		if err == nil {
			realm = cur
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		realm = fresh
		return tx.SetRealm(fresh)
	})
	if err != nil {
		return "", err
	}
	return realm, nil
}

func validRealm(realm string) bool {
	if realm == "" || len(realm) > 64 || strings.ContainsAny(realm, `"\`) {
		return false
	}
	for _, r := range realm {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
