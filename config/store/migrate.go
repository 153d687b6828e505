package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// CurrentSchema is the schema version this build writes: len(migrations()).
const CurrentSchema = 1

// migration moves the data from version N to N+1 inside one transaction (the
// same transaction then stamps N+1, so a step is applied entirely or not at all).
type migration func(tx *Tx) error

// migrations lists the steps in order: migrations()[N] goes from N to N+1.
// Append only; never edit a released step.
func migrations() []migration {
	return []migration{
		// 0 → 1: a new database; nothing to convert, only the version stamp.
		func(*Tx) error { return nil },
	}
}

// readSchema returns the stored schema version (0 when never stamped).
func (db *DB) readSchema() (int, error) {
	v := 0
	err := db.bdb.View(func(txn *badger.Txn) error {
		err := (&Tx{txn: txn, db: db}).getJSON([]byte(keySchema), &v)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	return v, err
}

// migrate brings the data to CurrentSchema (refusing newer data). The caller
// holds the store exclusively or has not published it yet.
func (db *DB) migrate() error {
	steps := migrations()
	v, err := db.readSchema()
	if err != nil {
		return fmt.Errorf("store: read schema: %w", err)
	}
	if v > len(steps) {
		return fmt.Errorf("%w: data is schema %d, this build knows up to %d", ErrSchemaNewer, v, len(steps))
	}
	if v < len(steps) && db.readOnly {
		return fmt.Errorf("%w: data is schema %d, this build uses %d", ErrSchemaOlder, v, len(steps))
	}
	for ; v < len(steps); v++ {
		step, next := steps[v], v+1
		err := db.update(func(tx *Tx) error {
			if err := step(tx); err != nil {
				return err
			}
			val, err := json.Marshal(next)
			if err != nil {
				return err
			}
			return tx.txn.Set([]byte(keySchema), val)
		})
		if err != nil {
			return fmt.Errorf("store: migrate schema %d to %d: %w", v, next, err)
		}
		db.log.Info("store schema migrated", "from", v, "to", next)
	}
	db.schema.Store(int64(v))
	return nil
}
