package seat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/prometheus/client_golang/prometheus"
)

// Liveness timers (docs/calls.md, "Browser seats").
const (
	// PingEvery is how often the page sends seat.ping.
	PingEvery = 2 * time.Second
	// DetachAfter is how long a page may be silent before its seat is
	// taken as detached (unavailable, not rung).
	DetachAfter = 3 * PingEvery
	// GoneAfter is how long a detached seat waits for its page to resume
	// before it goes offline.
	GoneAfter = 60 * time.Second
	// stateEvery is how often an online seat's page gets its state with
	// fresh quality figures.
	stateEvery = 2 * time.Second
	// tick is the period of the liveness sweep.
	tick = time.Second
)

// ErrClosed is returned by Dial after Close.
var ErrClosed = errors.New("seat: registry closed")

// Extension is what a seat needs to know about the extension it rings as.
type Extension struct {
	Number   string
	Name     string
	RingOn   string // "both", "phone" or "seat"
	MaxCalls int    // the extension's concurrent-call limit
}

// Directory answers questions about users' extensions (the store behind it).
type Directory interface {
	// Owned returns the extensions user owns, by number.
	Owned(user string) ([]Extension, error)
	// SetRingOn stores where number's calls ring; an invalid value is an
	// error that says so, and nothing is stored.
	SetRingOn(number, ringOn, byUser string) error
}

// CallManager takes the calls a seat makes (*call.Manager).
type CallManager interface {
	Incoming(in call.Channel, from call.Party, dialed string, callerLimit int)
}

// Media makes the WebRTC peers (media/webrtc.Engine behind it).
type Media interface {
	Answer(offer string, onState func(webrtc.State)) (Peer, string, error)
}

// Peer is one seat's WebRTC media (*webrtc.Peer).
type Peer interface {
	AddCandidate(c webrtc.Candidate) error
	Format() webrtc.Format
	SetReceiver(fn func(b []byte))
	WriteRTP(b []byte) error
	Quality() webrtc.Quality
	Close() error
}

// Options are the Registry's dependencies.
type Options struct {
	Media     Media
	Pool      *rtp.PortPool // makes the calls' virtual endpoints
	Directory Directory
	Calls     CallManager // set later with SetCalls when it needs the registry first
	Devices   *call.Devices
	Logger    *slog.Logger
	// Registerer takes pbx_seats{state} and the per-seat quality gauges
	// (nil: not registered).
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Registry is every seat online.
type Registry struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	seats   map[string]*Seat // by extension number
	byToken map[string]*Seat
	calls   CallManager
	closed  bool

	nextLeg atomic.Uint64
	stop    chan struct{}
	stopped chan struct{}
}

// New returns a registry and starts its liveness sweep (stopped by Close).
func New(opts Options) (*Registry, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Registry{
		opts: opts, log: opts.Logger, calls: opts.Calls,
		seats: make(map[string]*Seat), byToken: make(map[string]*Seat),
		stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(collector{r}); err != nil {
			return nil, err
		}
	}
	go r.sweep()
	return r, nil
}

// SetCalls sets the call manager (it is made after the registry, which is
// its Dialer).
func (r *Registry) SetCalls(m CallManager) {
	r.mu.Lock()
	r.calls = m
	r.mu.Unlock()
}

func (r *Registry) manager() CallManager {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// Close takes every seat offline and stops the sweep.
func (r *Registry) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	seats := make([]*Seat, 0, len(r.seats))
	for _, s := range r.seats {
		seats = append(seats, s)
	}
	r.mu.Unlock()
	close(r.stop)
	<-r.stopped
	for _, s := range seats {
		s.drop(call.CauseShutdown, "shutdown")
	}
}

// Available reports whether ext's seat can be rung now.
func (r *Registry) Available(ext string) bool {
	s := r.seat(ext)
	return s != nil && s.available()
}

// Online reports whether ext has a seat online (available or not).
func (r *Registry) Online(ext string) bool { return r.seat(ext) != nil }

func (r *Registry) seat(ext string) *Seat {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seats[ext]
}

// Dial rings a seat (call.Dialer for devices of kind seat): one Outgoing,
// or ErrUnavailable when the seat is offline, detached, without media or
// already in a call.
func (r *Registry) Dial(_ context.Context, t call.Target, from call.Party, _ call.Channel) ([]call.Outgoing, error) {
	d := t.Device
	if d.Kind != call.DeviceSeat {
		return nil, call.ErrUnavailable
	}
	s := r.seat(d.ID)
	if s == nil {
		return nil, call.ErrUnavailable
	}
	l, err := s.ring(from)
	if err != nil {
		return nil, err
	}
	return []call.Outgoing{l}, nil
}

// add registers s for its extension: a seat there already is replaced when
// its page is gone (a reload), refused when it is still attached.
func (r *Registry) add(s *Seat) (old *Seat, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if cur := r.seats[s.ext.Number]; cur != nil {
		if cur.attachedTo() != nil {
			return nil, errSeatInUse
		}
		old = cur
		delete(r.byToken, cur.token)
	}
	r.seats[s.ext.Number] = s
	r.byToken[s.token] = s
	return old, nil
}

// remove forgets s (if it is still the extension's seat).
func (r *Registry) remove(s *Seat) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seats[s.ext.Number] == s {
		delete(r.seats, s.ext.Number)
	}
	if r.byToken[s.token] == s {
		delete(r.byToken, s.token)
	}
}

func (r *Registry) byTokenOf(token string) *Seat {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byToken[token]
}

func (r *Registry) all() []*Seat {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Seat, 0, len(r.seats))
	for _, s := range r.seats {
		out = append(out, s)
	}
	return out
}

func (r *Registry) legID() call.ChannelID {
	return call.ChannelID("seat-" + strconv.FormatUint(r.nextLeg.Add(1), 10))
}

// sweep detaches silent pages, takes long-detached seats offline and sends
// online pages their state (with quality) every stateEvery.
func (r *Registry) sweep() {
	defer close(r.stopped)
	t := time.NewTicker(tick)
	defer t.Stop()
	var n int
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		n++
		r.checkAll(r.opts.Now(), n%int(stateEvery/tick) == 0)
	}
}

// checkAll is one liveness sweep.
func (r *Registry) checkAll(now time.Time, sendState bool) {
	for _, s := range r.all() {
		s.check(now, sendState)
	}
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
