package event

import (
	"sync"
	"time"
)

// Event is one thing that happened. Type is lower-case and dotted
// ("user.created", "call.answered"); Subject names what it happened to
// ("user:alice", "call:42"); Data is the event's JSON-encodable payload.
type Event struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Subject string    `json:"subject"`
	Data    any       `json:"data,omitempty"`
}

// Bus fans events out to subscribers. The zero value is not usable; use NewBus.
type Bus struct {
	now func() time.Time

	mu   sync.Mutex
	seq  uint64
	subs map[*Subscription]struct{}
}

// NewBus returns a bus whose events are stamped by now (time.Now when nil).
func NewBus(now func() time.Time) *Bus {
	if now == nil {
		now = time.Now
	}
	return &Bus{now: now, subs: make(map[*Subscription]struct{})}
}

// Publish stamps the event with the next seq and the current time and hands
// it to every subscriber without blocking.
func (b *Bus) Publish(typ, subject string, data any) Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e := Event{Seq: b.seq, Time: b.now(), Type: typ, Subject: subject, Data: data}
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			// The subscriber is behind; it will see the seq gap and resync.
			s.dropped++
		}
	}
	return e
}

// Seq is the seq of the newest event published (0 before any).
func (b *Bus) Seq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Subscribe returns a subscription buffering up to buf events. A consumer
// that needs a consistent view subscribes first, then reads Seq and builds
// its snapshot, and ignores events whose seq is not above the snapshot's.
func (b *Bus) Subscribe(buf int) *Subscription {
	if buf < 1 {
		buf = 1
	}
	s := &Subscription{bus: b, c: make(chan Event, buf)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Subscription receives events from a Bus until closed.
type Subscription struct {
	bus     *Bus
	c       chan Event
	dropped uint64 // guarded by bus.mu
	closed  bool   // guarded by bus.mu
}

// C delivers the events. It is closed by Close.
func (s *Subscription) C() <-chan Event { return s.c }

// Dropped reports how many events were dropped because the buffer was full.
func (s *Subscription) Dropped() uint64 {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.dropped
}

// Close stops delivery and closes C. It is safe to call more than once.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	delete(s.bus.subs, s)
	close(s.c)
}
