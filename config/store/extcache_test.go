package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func putExt(t *testing.T, db *DB, e Extension) {
	t.Helper()
	if err := db.Update(func(tx *Tx) error { return tx.PutExtension(e) }); err != nil {
		t.Fatalf("PutExtension: %v", err)
	}
}

func TestExtensionCacheFollowsWrites(t *testing.T) {
	db := openTest(t, Options{})
	putExt(t, db, Extension{Number: "1001", Name: "first"})

	steps := []struct {
		name  string
		write func(tx *Tx) error
		want  string // Name; "" = not found
	}{
		{"read", nil, "first"},
		{"read again (cached)", nil, "first"},
		{"put", func(tx *Tx) error { return tx.PutExtension(Extension{Number: "1001", Name: "second"}) }, "second"},
		{"update", func(tx *Tx) error {
			_, err := tx.UpdateExtension("1001", func(e *Extension) error { e.Name = "third"; return nil })
			return err
		}, "third"},
		{"failed update writes nothing", func(tx *Tx) error {
			_, err := tx.UpdateExtension("1001", func(e *Extension) error { e.Name = "no"; return errors.New("refused") })
			return err
		}, "third"},
		{"delete", func(tx *Tx) error { return tx.DeleteExtension("1001") }, ""},
		{"put back", func(tx *Tx) error { return tx.PutExtension(Extension{Number: "1001", Name: "back"}) }, "back"},
	}
	for _, s := range steps {
		if s.write != nil {
			_ = db.Update(s.write) // the refused one returns its error
		}
		e, err := db.Extension("1001")
		switch {
		case s.want == "" && !errors.Is(err, ErrNotFound):
			t.Errorf("%s: Extension = %+v, %v; want ErrNotFound", s.name, e, err)
		case s.want != "" && (err != nil || e.Name != s.want):
			t.Errorf("%s: Extension = %q, %v; want %q", s.name, e.Name, err, s.want)
		}
	}
	if _, err := db.Extension("../x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("invalid number: %v, want ErrNotFound", err)
	}
}

func TestExtensionCacheRestore(t *testing.T) {
	src := openTest(t, Options{})
	putExt(t, src, Extension{Number: "1001", Name: "from backup"})
	var buf bytes.Buffer
	if err := src.Backup(&buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	dst := openTest(t, Options{})
	putExt(t, dst, Extension{Number: "1001", Name: "before restore"})
	if e, _ := dst.Extension("1001"); e.Name != "before restore" {
		t.Fatalf("before restore: %q", e.Name)
	}
	if err := dst.Restore(&buf); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if e, err := dst.Extension("1001"); err != nil || e.Name != "from backup" {
		t.Errorf("after restore: %q, %v; want the backup's", e.Name, err)
	}
}

// TestExtensionCacheConcurrentWrites checks that once a write returns, no
// read returns what it replaced, while readers keep filling the cache.
func TestExtensionCacheConcurrentWrites(t *testing.T) {
	db := openTest(t, Options{})
	putExt(t, db, Extension{Number: "1001", Name: "v0"})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					_, _ = db.Extension("1001")
				}
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		want := fmt.Sprintf("v%d", i)
		putExt(t, db, Extension{Number: "1001", Name: want})
		if e, err := db.Extension("1001"); err != nil || e.Name != want {
			t.Fatalf("after writing %s: read %q, %v", want, e.Name, err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestExtensionCacheBounded(t *testing.T) {
	db := openTest(t, Options{})
	const n = extCacheMax + 100
	if err := db.Update(func(tx *Tx) error {
		for i := range n {
			if err := tx.PutExtension(Extension{Number: fmt.Sprint(100000 + i)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if e, err := db.Extension(fmt.Sprint(100000 + i)); err != nil || e.Number != fmt.Sprint(100000+i) {
			t.Fatalf("extension %d: %+v, %v", 100000+i, e, err)
		}
	}
	db.exts.mu.RLock()
	defer db.exts.mu.RUnlock()
	if len(db.exts.m) != extCacheMax {
		t.Errorf("cache holds %d extensions, want the bound %d", len(db.exts.m), extCacheMax)
	}
}
