package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// testClock is a settable clock for expiry tests.
type testClock struct{ t atomic.Pointer[time.Time] }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.set(t)
	return c
}

func (c *testClock) now() time.Time      { return *c.t.Load() }
func (c *testClock) set(t time.Time)     { c.t.Store(&t) }
func (c *testClock) add(d time.Duration) { c.set(c.now().Add(d)) }

// openTest opens a store in a fresh directory and closes it when the test ends.
func openTest(t *testing.T, opts Options) *DB {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	db, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func mustUpdate(t *testing.T, db *DB, fn func(tx *Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	openTest(t, Options{Dir: dir})
	fi, err := os.Stat(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("db dir mode = %v, want 0700", perm)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, Options{Dir: dir})
	tests := []struct {
		name string
		opts Options
	}{
		{"read-write", Options{Dir: dir}},
		{"read-only", Options{Dir: dir, ReadOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(tt.opts)
			if err == nil {
				db.Close()
				t.Fatal("second Open succeeded")
			}
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("err = %v, want ErrLocked", err)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutSystem(System{Title: "Box"}) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro := openTest(t, Options{Dir: dir, ReadOnly: true})
	// Two read-only opens share the directory.
	ro2 := openTest(t, Options{Dir: dir, ReadOnly: true})
	for _, d := range []*DB{ro, ro2} {
		var s System
		if err := d.View(func(tx *Tx) error { s, err = tx.System(); return err }); err != nil {
			t.Fatal(err)
		}
		if s.Title != "Box" {
			t.Errorf("title = %q", s.Title)
		}
	}
	if err := ro.Update(func(tx *Tx) error { return nil }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Update err = %v, want ErrReadOnly", err)
	}
	if err := ro.Restore(nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Restore err = %v, want ErrReadOnly", err)
	}
	if got := ro.SchemaVersion(); got != CurrentSchema {
		t.Errorf("SchemaVersion = %d", got)
	}
	if _, err := Open(Options{Dir: t.TempDir(), ReadOnly: true}); err == nil {
		t.Error("read-only open of an empty directory succeeded")
	}
}

// setSchema stamps a raw schema version, as a different build would.
func setSchema(t *testing.T, db *DB, v int) {
	t.Helper()
	val, _ := json.Marshal(v)
	mustUpdate(t, db, func(tx *Tx) error { return tx.txn.Set([]byte(keySchema), val) })
}

func TestSchema(t *testing.T) {
	tests := []struct {
		name     string
		stored   int
		readOnly bool
		wantErr  error
		wantVer  int
	}{
		{"current", CurrentSchema, false, nil, CurrentSchema},
		{"unstamped is migrated", 0, false, nil, CurrentSchema},
		{"newer refused", CurrentSchema + 1, false, ErrSchemaNewer, 0},
		{"newer refused read-only", CurrentSchema + 1, true, ErrSchemaNewer, 0},
		{"older refused read-only", 0, true, ErrSchemaOlder, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if tt.stored == 0 {
				mustUpdate(t, db, func(tx *Tx) error { return tx.txn.Delete([]byte(keySchema)) })
			} else {
				setSchema(t, db, tt.stored)
			}
			db.Close()

			db, err = Open(Options{Dir: dir, ReadOnly: tt.readOnly})
			if tt.wantErr != nil {
				if err == nil {
					db.Close()
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.SchemaVersion(); got != tt.wantVer {
				t.Errorf("SchemaVersion = %d, want %d", got, tt.wantVer)
			}
			stored, err := schemaOf(db.bdb)
			if err != nil || stored != tt.wantVer {
				t.Errorf("stored schema = %d, %v", stored, err)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := db.View(func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close = %v", err)
	}
	if err := db.Update(func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close = %v", err)
	}
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	db := openTest(t, Options{})
	errStop := errors.New("stop")
	err := db.Update(func(tx *Tx) error {
		if err := tx.PutUser(User{Name: "alice", Role: RoleAgent}); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("err = %v", err)
	}
	db.View(func(tx *Tx) error {
		if _, err := tx.User("alice"); !errors.Is(err, ErrNotFound) {
			t.Errorf("User after failed Update: %v", err)
		}
		return nil
	})
}

// TestUpdateConflictRetry: concurrent read-modify-write transactions never lose
// an acknowledged increment.
func TestUpdateConflictRetry(t *testing.T) {
	db := openTest(t, Options{})
	key := []byte(prefixMeta + "counter")
	var acked atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				err := db.Update(func(tx *Tx) error {
					n := 0
					if err := tx.getJSON(key, &n); err != nil && !errors.Is(err, ErrNotFound) {
						return err
					}
					return tx.putJSON(key, n+1, 0)
				})
				switch {
				case err == nil:
					acked.Add(1)
				case errors.Is(err, ErrConflict):
				default:
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	db.View(func(tx *Tx) error { return tx.getJSON(key, &n) })
	if int64(n) != acked.Load() {
		t.Errorf("counter = %d, acknowledged increments = %d", n, acked.Load())
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	db.gcPass(context.Background())
	tests := []struct {
		name string
		want float64
	}{
		{"pbx_store_schema_version", CurrentSchema},
		{"pbx_store_gc_runs_total", 1},
		{"pbx_store_lsm_bytes", -1},
		{"pbx_store_vlog_bytes", -1},
	}
	for _, tt := range tests {
		got, ok := metricValue(t, reg, tt.name)
		if !ok {
			t.Errorf("%s not gathered", tt.name)
		} else if tt.want >= 0 && got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Close unregisters, so the same registry takes a reopened store.
	db, err = Open(Options{Dir: dir, Registerer: reg})
	if err != nil {
		t.Fatalf("reopen with the same registry: %v", err)
	}
	db.Close()
}

func TestRunGC(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := openTest(t, Options{Registerer: reg, GCInterval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.RunGC(ctx) }()

	eventually(t, 10*time.Second, func() bool {
		v, _ := metricValue(t, reg, "pbx_store_gc_runs_total")
		return v >= 2
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunGC = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunGC did not return after cancel")
	}
}

// metricValue gathers reg and returns the value of the unlabelled metric name.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) != 1 {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("condition not met within %v", timeout)
		case <-tick.C:
		}
	}
}

// crashChildEnv makes the test binary act as the writer killed in TestDurableAfterKill.
const crashChildEnv = "CCBOX_STORE_CRASH_DIR"

// TestDurableAfterKill: every write acknowledged by Update survives kill -9.
func TestDurableAfterKill(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurableAfterKill$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for len(acked) < 50 && sc.Scan() {
		acked = append(acked, sc.Text())
	}
	cmd.Process.Kill() // SIGKILL: no Close, no flush
	cmd.Wait()
	if len(acked) < 50 {
		t.Fatalf("child acknowledged only %d writes", len(acked))
	}

	// Read-only first (export from a box that crashed), then read-write.
	for _, readOnly := range []bool{true, false} {
		db, err := Open(Options{Dir: dir, ReadOnly: readOnly})
		if err != nil {
			t.Fatalf("Open(ReadOnly=%v) after kill: %v", readOnly, err)
		}
		db.View(func(tx *Tx) error {
			for _, name := range acked {
				if _, err := tx.User(name); err != nil {
					t.Errorf("ReadOnly=%v: acknowledged user %s lost: %v", readOnly, name, err)
				}
			}
			return nil
		})
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// crashChild writes users forever, printing each name once Update returned.
func crashChild(dir string) {
	db, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		name := fmt.Sprintf("u%d", i)
		if err := db.Update(func(tx *Tx) error { return tx.PutUser(User{Name: name, Role: RoleAgent}) }); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(name)
	}
}
