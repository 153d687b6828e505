package store

import (
	"fmt"
	"sort"
	"time"
)

// PoolNumber is one outbound caller number of a pool, tagged with its region.
type PoolNumber struct {
	Number string `json:"number"`
	// Province and City are the number's region; empty = looked up in the
	// region table when the pool is used (by the call layer, which holds
	// the table and the number normalizer).
	Province string `json:"province,omitempty"`
	City     string `json:"city,omitempty"`
	MaxCalls int    `json:"max_calls,omitempty"` // concurrent calls sent with this number; 0 = no limit
}

// CallerPool is a set of caller numbers a route picks from by region.
type CallerPool struct {
	Name    string       `json:"name"` // the key: [a-z0-9_-]{1,32}
	Numbers []PoolNumber `json:"numbers"`
	Created time.Time    `json:"created"`
	Updated time.Time    `json:"updated"`
}

// CallerPool returns the pool called name, or ErrNotFound.
func (tx *Tx) CallerPool(name string) (CallerPool, error) {
	var p CallerPool
	if !validKeyPart(name) {
		return p, ErrNotFound
	}
	err := tx.getJSON(callerPoolKey(name), &p)
	return p, err
}

// CallerPools returns every pool, sorted by name.
func (tx *Tx) CallerPools() ([]CallerPool, error) {
	var out []CallerPool
	err := scanJSON(tx, prefixCallerPool, func(p CallerPool) { out = append(out, p) })
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutCallerPool creates or replaces the pool p.Name.
func (tx *Tx) PutCallerPool(p CallerPool) error {
	if !validKeyPart(p.Name) {
		return fmt.Errorf("put caller pool: %w: name %q", ErrInvalid, p.Name)
	}
	stamp(tx, &p.Created, &p.Updated)
	return tx.putJSON(callerPoolKey(p.Name), p, 0)
}

// DeleteCallerPool removes the pool, or returns ErrNotFound.
func (tx *Tx) DeleteCallerPool(name string) error {
	return tx.deleteExisting(callerPoolKey(name), name)
}
