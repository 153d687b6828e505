package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// defaultLimit is what Logins and Audits return when limit <= 0.
const defaultLimit = 1000

// LoginResult is the outcome of one login attempt.
type LoginResult string

// Login results; the web UI may record others.
const (
	LoginOK             LoginResult = "ok"
	LoginBadCredentials LoginResult = "bad_credentials" // unknown user or wrong password: never say which
	LoginDisabled       LoginResult = "disabled"
	LoginRateLimited    LoginResult = "rate_limited"
)

// LoginEntry is one line of the login log.
type LoginEntry struct {
	Time      time.Time   `json:"time"`
	User      string      `json:"user"`
	Address   string      `json:"address"`
	Result    LoginResult `json:"result"`
	UserAgent string      `json:"user_agent,omitempty"`
}

// AddLogin appends to the login log; a zero Time means now.
func (tx *Tx) AddLogin(e LoginEntry) error {
	if e.Time.IsZero() {
		e.Time = tx.db.now()
	}
	return tx.putJSON(recordKey(prefixLogin, e.Time, tx.db.seq.Add(1)), e, 0)
}

// Logins returns login entries with from <= Time < to, newest first, at most
// limit (limit <= 0 means 1000). A zero to means no upper bound.
func (tx *Tx) Logins(from, to time.Time, limit int) ([]LoginEntry, error) {
	var out []LoginEntry
	err := tx.records(prefixLogin, from, to, limit, func(key, val []byte) error {
		var e LoginEntry
		if err := json.Unmarshal(val, &e); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// AuditEntry records one change someone made.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	User   string    `json:"user"`   // who did it
	Action string    `json:"action"` // dotted, e.g. "user.update"
	Object string    `json:"object"` // what it was done to, e.g. a user name
	Detail string    `json:"detail,omitempty"`
}

// AddAudit appends to the audit log; a zero Time means now.
func (tx *Tx) AddAudit(e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = tx.db.now()
	}
	return tx.putJSON(recordKey(prefixAudit, e.Time, tx.db.seq.Add(1)), e, 0)
}

// Audits returns audit entries with from <= Time < to, newest first, at most
// limit (limit <= 0 means 1000). A zero to means no upper bound.
func (tx *Tx) Audits(from, to time.Time, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := tx.records(prefixAudit, from, to, limit, func(key, val []byte) error {
		var e AuditEntry
		if err := json.Unmarshal(val, &e); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// records walks time-keyed records under prefix backwards from to (exclusive)
// down to from (inclusive).
func (tx *Tx) records(prefix string, from, to time.Time, limit int, fn func(key, val []byte) error) error {
	if limit <= 0 {
		limit = defaultLimit
	}
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(prefix)
	opts.Reverse = true
	opts.PrefetchSize = min(limit, 100)
	it := tx.txn.NewIterator(opts)
	defer it.Close()

	// A reverse Seek lands on the greatest key <= seek. Every record at time
	// `to` is prefix+time+seq, which sorts after prefix+time, so it is excluded.
	seek := timeKey(prefix, to)
	if to.IsZero() {
		seek = append([]byte(prefix), bytes.Repeat([]byte{0xff}, recordKeyLen)...)
	}
	lower := timeKey(prefix, from)
	n := 0
	for it.Seek(seek); it.Valid() && n < limit; it.Next() {
		item := it.Item()
		if bytes.Compare(item.Key(), lower) < 0 {
			break
		}
		if err := item.Value(func(val []byte) error { return fn(item.Key(), val) }); err != nil {
			return err
		}
		n++
	}
	return nil
}
