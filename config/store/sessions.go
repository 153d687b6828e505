package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Session is a logged-in browser. Only the SHA-256 of ID is stored; ID itself
// lives in the cookie.
type Session struct {
	ID      string    `json:"-"`
	User    string    `json:"user"`
	CSRF    string    `json:"csrf"`
	Address string    `json:"address"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Session returns the live session with this ID, or ErrNotFound when it does
// not exist or has expired.
func (tx *Tx) Session(id string) (Session, error) {
	var s Session
	if id == "" {
		return s, ErrNotFound
	}
	if err := tx.getJSON(sessionKey(id), &s); err != nil {
		return Session{}, err
	}
	// Badger's TTL has one-second granularity and is applied lazily; the
	// record's own Expires is authoritative.
	if !tx.db.now().Before(s.Expires) {
		return Session{}, ErrNotFound
	}
	s.ID = id
	return s, nil
}

// PutSession creates or replaces a session. It needs an ID and Expires;
// Badger drops the record at Expires.
func (tx *Tx) PutSession(s Session) error {
	if s.ID == "" || s.Expires.IsZero() {
		return fmt.Errorf("put session: %w: needs ID and Expires", ErrInvalid)
	}
	if s.Created.IsZero() {
		s.Created = tx.db.now()
	}
	return tx.putJSON(sessionKey(s.ID), s, ttlSeconds(s.Expires))
}

// DeleteSession removes a session; deleting a missing one is not an error
// (logging out twice is fine).
func (tx *Tx) DeleteSession(id string) error {
	if id == "" {
		return nil
	}
	return tx.delete(sessionKey(id))
}

// DeleteUserSessions removes every session of user (on password change,
// disable or delete).
func (tx *Tx) DeleteUserSessions(user string) error {
	var keys [][]byte
	err := tx.scan(prefixSession, func(key, val []byte) error {
		var s Session
		if err := json.Unmarshal(val, &s); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		if s.User == user {
			keys = append(keys, append([]byte(nil), key...))
		}
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

// ttlSeconds converts an expiry time to Badger's ExpiresAt, rounding up so
// Badger never drops a record before its Expires.
func ttlSeconds(t time.Time) uint64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	if sec <= 0 {
		return 1
	}
	return uint64(sec)
}
