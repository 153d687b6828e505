package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Tx is one transaction. It is valid only inside the View or Update callback
// that received it.
type Tx struct {
	txn *badger.Txn
	db  *DB
	// extsChanged is set by a write to an extension key: committing it
	// empties the DB's extension cache.
	extsChanged bool
}

// getJSON decodes the value at key into v; a missing key is ErrNotFound.
func (tx *Tx) getJSON(key []byte, v any) error {
	item, err := tx.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: get %q: %w", key, err)
	}
	return item.Value(func(val []byte) error {
		if err := json.Unmarshal(val, v); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		return nil
	})
}

// putJSON stores v at key; expiresAt (Unix seconds, 0 = never) becomes Badger's TTL.
func (tx *Tx) putJSON(key []byte, v any, expiresAt uint64) error {
	val, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %q: %w", key, err)
	}
	tx.extsChanged = tx.extsChanged || touchesExtensions(key)
	e := badger.NewEntry(key, val)
	e.ExpiresAt = expiresAt
	if err := tx.txn.SetEntry(e); err != nil {
		return fmt.Errorf("store: put %q: %w", key, mapTxnErr(err))
	}
	return nil
}

// exists reports whether key is present.
func (tx *Tx) exists(key []byte) (bool, error) {
	_, err := tx.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: get %q: %w", key, err)
	}
	return true, nil
}

func (tx *Tx) delete(key []byte) error {
	tx.extsChanged = tx.extsChanged || touchesExtensions(key)
	if err := tx.txn.Delete(key); err != nil {
		return fmt.Errorf("store: delete %q: %w", key, mapTxnErr(err))
	}
	return nil
}

// scan calls fn for every key with prefix, in key order. The key and value
// slices are valid only during the call.
func (tx *Tx) scan(prefix string, fn func(key, val []byte) error) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(prefix)
	opts.PrefetchSize = 16
	it := tx.txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		err := item.Value(func(val []byte) error { return fn(item.Key(), val) })
		if err != nil {
			return err
		}
	}
	return nil
}

// count returns how many keys have prefix, without reading values.
func (tx *Tx) count(prefix string) (int, error) {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(prefix)
	opts.PrefetchValues = false
	it := tx.txn.NewIterator(opts)
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	return n, nil
}

// mapTxnErr gives Badger's write errors our sentinels, so callers need not import Badger.
func mapTxnErr(err error) error {
	switch {
	case errors.Is(err, badger.ErrTxnTooBig):
		return fmt.Errorf("%w: %w", ErrTxnTooBig, err)
	case errors.Is(err, badger.ErrReadOnlyTxn):
		return fmt.Errorf("%w: %w", ErrReadOnly, err)
	}
	return err
}
