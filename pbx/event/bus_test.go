package event

import (
	"sync"
	"testing"
	"time"
)

func TestPublishOrderAndSeq(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := NewBus(func() time.Time { return fixed })
	s := b.Subscribe(10)
	defer s.Close()

	for i, typ := range []string{"user.created", "user.updated", "user.deleted"} {
		e := b.Publish(typ, "user:alice", map[string]string{"name": "alice"})
		if e.Seq != uint64(i+1) {
			t.Fatalf("publish %d: seq = %d, want %d", i, e.Seq, i+1)
		}
	}
	for i := 1; i <= 3; i++ {
		e := <-s.C()
		if e.Seq != uint64(i) || !e.Time.Equal(fixed) || e.Subject != "user:alice" {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	if got := b.Seq(); got != 3 {
		t.Fatalf("Seq() = %d, want 3", got)
	}
}

func TestSlowSubscriberSeesGapAndDoesNotBlock(t *testing.T) {
	b := NewBus(nil)
	slow := b.Subscribe(2)
	defer slow.Close()
	fast := b.Subscribe(100)
	defer fast.Close()

	for i := 0; i < 5; i++ {
		b.Publish("x.y", "", nil)
	}
	if got := slow.Dropped(); got != 3 {
		t.Fatalf("slow dropped %d, want 3", got)
	}
	a, c := <-slow.C(), <-slow.C()
	if a.Seq != 1 || c.Seq != 2 {
		t.Fatalf("slow got %d,%d", a.Seq, c.Seq)
	}
	b.Publish("x.y", "", nil)
	if e := <-slow.C(); e.Seq != 6 {
		t.Fatalf("after drop got seq %d, want 6 (a gap the consumer must notice)", e.Seq)
	}
	if len(fast.C()) != 6 {
		t.Fatalf("fast buffered %d, want 6", len(fast.C()))
	}
}

func TestCloseIsIdempotentAndStopsDelivery(t *testing.T) {
	b := NewBus(nil)
	s := b.Subscribe(1)
	s.Close()
	s.Close()
	b.Publish("x.y", "", nil)
	if _, ok := <-s.C(); ok {
		t.Fatal("closed subscription delivered an event")
	}
}

func TestConcurrentPublishKeepsSeqUnique(t *testing.T) {
	b := NewBus(nil)
	s := b.Subscribe(1000)
	defer s.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				b.Publish("x.y", "", nil)
			}
		}()
	}
	wg.Wait()
	var last uint64
	for i := 0; i < 400; i++ {
		e := <-s.C()
		if e.Seq != last+1 {
			t.Fatalf("seq %d after %d", e.Seq, last)
		}
		last = e.Seq
	}
}
