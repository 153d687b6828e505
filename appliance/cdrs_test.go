package main

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
)

// TestCDRWriterGroupsAndKeepsEach: many calls ending at once each get
// their CDR stored before AddCDR returns; one that cannot be stored fails
// alone; an idle writer takes a CDR straight away.
func TestCDRWriterGroupsAndKeepsEach(t *testing.T) {
	db, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := newCDRWriter(db)

	start := time.Now()
	if err := w.AddCDR(store.CDR{Serial: "first", Start: start}); err != nil {
		t.Fatalf("AddCDR on an idle writer: %v", err)
	}

	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := store.CDR{Serial: fmt.Sprintf("s%03d", i), Start: start}
			if i == 150 {
				c.Serial = "" // refused by the store
			}
			errs[i] = w.AddCDR(c)
			if errs[i] == nil {
				// Durable before AddCDR returns: readable at once.
				if err := db.View(func(tx *store.Tx) error { _, err := tx.CDRBySerial(c.Serial); return err }); err != nil {
					errs[i] = fmt.Errorf("not readable after AddCDR: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == 150 && !errors.Is(err, store.ErrInvalid):
			t.Errorf("CDR without serial: %v, want ErrInvalid", err)
		case i != 150 && err != nil:
			t.Errorf("CDR %d: %v", i, err)
		}
	}
	var got []store.CDR
	if err := db.View(func(tx *store.Tx) (err error) { got, err = tx.CDRs(time.Time{}, time.Time{}, 0); return err }); err != nil {
		t.Fatal(err)
	}
	if len(got) != n { // n-1 of the batch and "first"
		t.Errorf("stored %d CDRs, want %d", len(got), n)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) != 0 {
		t.Errorf("%d CDRs left queued", len(w.queue))
	}
}
