package main

import (
	"sync"
	"time"

	"github.com/ccbox/ccbox/config/store"
)

// CDR group commit. Every CDR is on disk before its call is reported
// finished, and with Badger's SyncWrites each commit costs an fsync of its
// write-ahead log and value log: at a thousand calls a second that was a
// sixth of the box's CPU, one commit per call. Calls ending together now
// share a commit: the first to arrive writes everything queued meanwhile,
// and while the box is busy (its last commit was recent) it waits
// cdrLinger first so that more join. An idle box writes at once.
const (
	cdrLinger   = 2 * time.Millisecond
	cdrBusy     = 20 * time.Millisecond // a commit this recent means calls are ending in numbers
	cdrMaxBatch = 128                   // well inside a Badger transaction's limits
)

// cdrWriter stores CDRs durably, grouping concurrent ones into one commit.
// It keeps no goroutine running: a caller that finds no commit under way
// makes it, for everyone queued, and leaves what queued after its own CDR
// to a goroutine that ends when the queue is empty.
type cdrWriter struct {
	db *store.DB

	mu        sync.Mutex
	queue     []*cdrReq
	writing   bool
	lastWrite time.Time
}

type cdrReq struct {
	cdr  store.CDR
	done chan error
}

func newCDRWriter(db *store.DB) *cdrWriter { return &cdrWriter{db: db} }

// AddCDR returns once c is on disk, or why it could not be written.
func (w *cdrWriter) AddCDR(c store.CDR) error {
	r := &cdrReq{cdr: c, done: make(chan error, 1)}
	w.mu.Lock()
	w.queue = append(w.queue, r)
	if w.writing {
		w.mu.Unlock()
		return <-r.done // the writer under way takes it in its next round
	}
	w.writing = true
	busy := time.Since(w.lastWrite) < cdrBusy
	w.mu.Unlock()
	if busy {
		time.Sleep(cdrLinger)
	}
	// Write until this call's CDR is in, then leave what queued meanwhile
	// to a goroutine, so no caller writes for others indefinitely.
	for len(r.done) == 0 {
		if !w.round() {
			return <-r.done // queue empty: no longer writing
		}
	}
	go w.flush()
	return <-r.done
}

// flush writes rounds until the queue is empty.
func (w *cdrWriter) flush() {
	for w.round() {
	}
}

// round commits what is queued (up to cdrMaxBatch) and reports whether
// it found anything; finding nothing, it ends the writing (under the same
// lock a new CDR is queued, so none is left behind).
func (w *cdrWriter) round() bool {
	w.mu.Lock()
	n := min(len(w.queue), cdrMaxBatch)
	if n == 0 {
		w.writing = false
		w.mu.Unlock()
		return false
	}
	batch := w.queue[:n:n]
	w.queue = w.queue[n:]
	w.mu.Unlock()
	w.commit(batch)
	w.mu.Lock()
	w.lastWrite = time.Now()
	w.mu.Unlock()
	return true
}

// commit writes batch in one transaction; if that fails, each CDR is
// written alone, so one that cannot be stored does not take the others
// with it and each caller gets its own answer.
func (w *cdrWriter) commit(batch []*cdrReq) {
	err := w.db.Update(func(tx *store.Tx) error {
		for _, r := range batch {
			if err := tx.AddCDR(r.cdr); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	for _, r := range batch {
		r.done <- w.db.Update(func(tx *store.Tx) error { return tx.AddCDR(r.cdr) })
	}
}
