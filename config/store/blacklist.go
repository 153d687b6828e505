package store

import (
	"fmt"
	"sort"
	"time"
)

// Direction is which calls a blacklist entry blocks.
type Direction string

// The directions.
const (
	DirInbound  Direction = "inbound"  // calls from the number (呼入)
	DirOutbound Direction = "outbound" // calls to the number (呼出)
	DirBoth     Direction = "both"     // both (双向)
)

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool { return d == DirInbound || d == DirOutbound || d == DirBoth }

func (d Direction) String() string { return string(d) }

// BlacklistEntry blocks calls from and/or to a number. A number may be
// listed once per direction: the key is the number and the direction.
type BlacklistEntry struct {
	Number      string    `json:"number"` // as given (≤ 20 of 0-9 + * #); compared normalized by the call layer
	Direction   Direction `json:"direction"`
	Description string    `json:"description,omitempty"` // ≤ 50 characters
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// BlacklistEntry returns the entry for number and direction, or ErrNotFound.
func (tx *Tx) BlacklistEntry(number string, dir Direction) (BlacklistEntry, error) {
	var e BlacklistEntry
	if !validKeyPart(number) || !dir.Valid() {
		return e, ErrNotFound
	}
	err := tx.getJSON(blacklistKey(number, dir), &e)
	return e, err
}

// Blacklist returns every entry, sorted by number, then direction.
func (tx *Tx) Blacklist() ([]BlacklistEntry, error) {
	var out []BlacklistEntry
	err := scanJSON(tx, prefixBlacklist, func(e BlacklistEntry) { out = append(out, e) })
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return NumberLess(out[i].Number, out[j].Number)
		}
		return out[i].Direction < out[j].Direction
	})
	return out, err
}

// PutBlacklistEntry creates or replaces the entry for e.Number and e.Direction.
func (tx *Tx) PutBlacklistEntry(e BlacklistEntry) error {
	if !validKeyPart(e.Number) || !e.Direction.Valid() {
		return fmt.Errorf("put blacklist entry: %w: number %q, direction %q", ErrInvalid, e.Number, e.Direction)
	}
	stamp(tx, &e.Created, &e.Updated)
	return tx.putJSON(blacklistKey(e.Number, e.Direction), e, 0)
}

// DeleteBlacklistEntry removes the entry, or returns ErrNotFound.
func (tx *Tx) DeleteBlacklistEntry(number string, dir Direction) error {
	if !dir.Valid() {
		return ErrNotFound
	}
	return tx.deleteExisting(blacklistKey(number, dir), number)
}
