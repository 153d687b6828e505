package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrNotFound is returned when a keyed record does not exist (or, for sessions
// and tokens, has expired).
var ErrNotFound = errors.New("store: not found")

// ErrLocked is returned by Open when another process holds the data directory.
var ErrLocked = errors.New("store: data directory is in use by another process")

// ErrBadBackup is returned by Restore when the input is not a backup this version can read.
var ErrBadBackup = errors.New("store: not a valid backup")

// ErrSchemaNewer is returned by Open (and Restore) when the data was written by a
// newer build with a schema this build does not know.
var ErrSchemaNewer = errors.New("store: data has a newer schema than this build supports")

// ErrSchemaOlder is returned by a ReadOnly Open of data whose schema needs a
// migration: a read-only open cannot migrate, so open it read-write once.
var ErrSchemaOlder = errors.New("store: data has an older schema and needs a read-write open to migrate")

// ErrReadOnly is returned by writes on a store opened with ReadOnly.
var ErrReadOnly = errors.New("store: opened read-only")

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("store: closed")

// ErrConflict is returned by Update when a concurrent transaction kept
// changing the keys it read, even after retries.
var ErrConflict = errors.New("store: transaction conflicted with a concurrent change")

// ErrTxnTooBig is returned when one transaction would exceed what Badger
// commits at once (15% of the 4 MB memtable, about 600 KB of changes).
var ErrTxnTooBig = errors.New("store: transaction too large")

// ErrInvalid is returned when a record lacks a field its key needs (an empty
// user name, session ID or token ID, a session without Expires).
var ErrInvalid = errors.New("store: invalid record")

// defaultGCInterval is how often RunGC asks Badger to rewrite value-log files.
const defaultGCInterval = 10 * time.Minute

// gcDiscardRatio: a value-log file is rewritten when at least half of it is garbage.
const gcDiscardRatio = 0.5

// conflictRetries bounds how often Update re-runs fn after ErrConflict.
const conflictRetries = 4

// Options configure Open.
type Options struct {
	Dir        string                // data directory; the Badger files live in Dir/db
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: no metrics
	ReadOnly   bool                  // open without writing (export from a stopped box; see doc.go)

	// Now is the clock used for timestamps and expiry checks; nil means time.Now.
	Now func() time.Time
	// GCInterval is the period of RunGC's value-log GC; zero means 10 minutes.
	GCInterval time.Duration
}

// DB is the appliance's persistent store.
//
// View, Update, Backup and RunGC share the store; Restore and Close take it
// exclusively, so a restore is never observed half-applied. Do not call View
// or Update from inside another View/Update callback.
type DB struct {
	bdb        *badger.DB
	dir        string
	readOnly   bool
	log        *slog.Logger
	now        func() time.Time
	gcInterval time.Duration
	lock       *dirLock
	metrics    *metrics
	copyDir    string // ReadOnly on unclean data: the recovered copy, removed by Close

	seq    atomic.Uint32 // record-key sequence, see recordKey
	schema atomic.Int64
	exts   extCache // decoded extensions for Extension

	mu     sync.RWMutex // guards closed and excludes Restore/Close from everything else
	closed bool
}

// Open opens (creating if needed) the store in opts.Dir/db, runs pending
// migrations and registers metrics.
func Open(opts Options) (*DB, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("store: open: %w: empty Dir", ErrInvalid)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	gcInterval := opts.GCInterval
	if gcInterval <= 0 {
		gcInterval = defaultGCInterval
	}
	dbDir := filepath.Join(opts.Dir, "db")
	if opts.ReadOnly {
		if _, err := os.Stat(dbDir); err != nil {
			return nil, fmt.Errorf("store: open %s read-only: %w", dbDir, err)
		}
	} else if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", dbDir, err)
	}

	lock, err := lockDir(dbDir, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	bopts := badgerOptions(dbDir, log).WithReadOnly(opts.ReadOnly)
	guarded := lock.held()
	if guarded {
		// Our flock (same semantics as Badger's) already guards the directory;
		// Badger's own guard would only hide the reason behind a string.
		bopts = bopts.WithBypassLockGuard(true)
	}
	bdb, err := badger.Open(bopts)
	var copyDir string
	if err != nil && opts.ReadOnly && guarded {
		// Data left by a crash needs its logs replayed and truncated, which a
		// read-only open cannot do. Recover a private copy instead, so that
		// export still works on a box that died, without touching its data.
		var cerr error
		bdb, copyDir, cerr = openCopy(dbDir, log)
		if cerr != nil {
			err = errors.Join(err, cerr)
		} else {
			log.Warn("store was not closed cleanly; reading a recovered copy", "dir", dbDir)
			err = nil
		}
	}
	if err != nil {
		lock.release()
		if !guarded && strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("store: open %s: %w", dbDir, ErrLocked)
		}
		return nil, fmt.Errorf("store: open %s: %w", dbDir, err)
	}
	db := &DB{
		bdb:        bdb,
		copyDir:    copyDir,
		dir:        opts.Dir,
		readOnly:   opts.ReadOnly,
		log:        log,
		now:        now,
		gcInterval: gcInterval,
		lock:       lock,
	}
	if err := db.migrate(); err != nil {
		db.closeBadger()
		return nil, err
	}
	if opts.Registerer != nil {
		m, err := registerMetrics(opts.Registerer, db)
		if err != nil {
			db.closeBadger()
			return nil, fmt.Errorf("store: register metrics: %w", err)
		}
		db.metrics = m
	}
	return db, nil
}

// badgerOptions are the bounded-memory settings explained in doc.go.
func badgerOptions(dir string, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{log: log.With("component", "badger")}).
		WithLoggingLevel(badger.WARNING).
		WithSyncWrites(true).
		WithMetricsEnabled(false).
		WithNumGoroutines(2).
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(1 << 20).
		WithBaseLevelSize(4 << 20).
		WithNumCompactors(2).
		WithValueThreshold(1 << 10).
		WithValueLogFileSize(16 << 20).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(2 << 20)
}

// openCopy copies the Badger files of dbDir to a temporary directory and opens
// the copy read-write, which replays whatever a crash left in its logs. The
// caller holds the shared lock on dbDir, so no writer changes it meanwhile.
func openCopy(dbDir string, log *slog.Logger) (*badger.DB, string, error) {
	tmp, err := os.MkdirTemp("", "ccbox-store-copy-*")
	if err != nil {
		return nil, "", err
	}
	entries, err := os.ReadDir(dbDir)
	if err == nil {
		for _, e := range entries {
			if !e.Type().IsRegular() || e.Name() == "LOCK" {
				continue
			}
			if err = copyFile(filepath.Join(dbDir, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
				break
			}
		}
	}
	var bdb *badger.DB
	if err == nil {
		bdb, err = badger.Open(badgerOptions(tmp, log).WithSyncWrites(false))
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, "", fmt.Errorf("recover a copy: %w", err)
	}
	return bdb, tmp, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// Close releases the database and its directory lock. It is safe to call more than once.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	if db.metrics != nil {
		db.metrics.unregister()
	}
	return db.closeBadger()
}

func (db *DB) closeBadger() error {
	err := db.bdb.Close()
	db.lock.release()
	if db.copyDir != "" {
		os.RemoveAll(db.copyDir)
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// SchemaVersion reports the schema version of the open data.
func (db *DB) SchemaVersion() int { return int(db.schema.Load()) }

// acquire takes the shared lock for an ordinary operation; the caller must call
// the returned unlock.
func (db *DB) acquire() (unlock func(), err error) {
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return nil, ErrClosed
	}
	return db.mu.RUnlock, nil
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(tx *Tx) error) error {
	unlock, err := db.acquire()
	if err != nil {
		return err
	}
	defer unlock()
	return db.bdb.View(func(txn *badger.Txn) error { return fn(&Tx{txn: txn, db: db}) })
}

// Update runs fn in a read-write transaction and commits it; when Update
// returns nil the changes are on disk. If a concurrent transaction changed a key
// fn read, fn runs again (a few times, then ErrConflict), so fn must have no
// effects outside tx. An error returned by fn is returned unchanged and nothing
// is written.
func (db *DB) Update(fn func(tx *Tx) error) error {
	if db.readOnly {
		return ErrReadOnly
	}
	unlock, err := db.acquire()
	if err != nil {
		return err
	}
	defer unlock()
	return db.update(fn)
}

// update is Update without the lock, for Open and Restore which hold it already.
func (db *DB) update(fn func(tx *Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.commit(fn)
		if errors.Is(err, badger.ErrConflict) {
			if attempt < conflictRetries {
				continue
			}
			return fmt.Errorf("%w: %w", ErrConflict, err)
		}
		return err
	}
}

func (db *DB) commit(fn func(tx *Tx) error) error {
	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()
	tx := &Tx{txn: txn, db: db}
	if err := fn(tx); err != nil {
		return err
	}
	err := txn.Commit()
	if tx.extsChanged {
		// Also after a failed commit: whether it wrote is not always
		// known, and a needless re-read costs little.
		db.exts.invalidate()
	}
	if err != nil {
		if errors.Is(err, badger.ErrConflict) {
			return err
		}
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// RunGC rewrites value-log files that are mostly garbage, every GCInterval,
// until ctx ends; it returns nil then. Read-only stores only wait for ctx.
func (db *DB) RunGC(ctx context.Context) error {
	if db.readOnly {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(db.gcInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			db.gcPass(ctx)
		}
	}
}

// gcPass runs value-log GC until Badger finds nothing more worth rewriting.
func (db *DB) gcPass(ctx context.Context) {
	unlock, err := db.acquire()
	if err != nil {
		return
	}
	defer unlock()
	if db.metrics != nil {
		db.metrics.gcRuns.Inc()
	}
	for rewrites := 0; ctx.Err() == nil; rewrites++ {
		err := db.bdb.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			if rewrites > 0 {
				db.log.Debug("value-log GC", "rewrites", rewrites)
			}
		default:
			db.log.Warn("value-log GC failed", "err", err)
		}
		return
	}
}

// badgerLogger routes Badger's warnings and errors to slog; info and debug
// chatter (compactions, flushes) is dropped.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, v ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, v...)))
}

func (l badgerLogger) Warningf(f string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(f, v...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
