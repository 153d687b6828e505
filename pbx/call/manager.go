package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrUnavailable is returned by a Dialer when a device has nothing to ring
// (not registered, every contact unreachable).
var ErrUnavailable = errors.New("call: device unavailable")

// ErrNotFound is returned by a Directory for a number that is nobody's.
var ErrNotFound = errors.New("call: no such number")

// Target is what a dialed number reaches.
type Target struct {
	Device   Device
	Party    Party
	MaxCalls int // concurrent calls the device may take part in (0: no limit)
}

// Directory resolves numbers (the dialplan, for now: extensions).
type Directory interface {
	Lookup(number string) (Target, error)
}

// Records stores finished calls' CDRs durably.
type Records interface {
	AddCDR(c store.CDR) error
}

// Options are the Manager's dependencies.
type Options struct {
	Dialer     Dialer
	Bridger    Bridger
	Directory  Directory
	Records    Records
	Bus        *event.Bus
	Devices    *Devices // device states; nil: not tracked
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Limits     Limits
	Now        func() time.Time
}

// Manager runs calls: one owner goroutine per call.
type Manager struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	serials serials
	metrics *metrics

	mu     sync.Mutex
	active map[Device]int // calls each device takes part in
	runs   map[*callRun]struct{}
	closed bool // Shutdown was called: new calls are refused
	calls  sync.WaitGroup
}

// NewManager builds a Manager.
func NewManager(opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Limits.RingTimeout <= 0 {
		opts.Limits.RingTimeout = 60 * time.Second
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	return &Manager{
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		metrics: newMetrics(opts.Registerer),
		active:  make(map[Device]int),
		runs:    make(map[*callRun]struct{}),
	}
}

// Shutdown refuses new calls, hangs up every call in progress (the callers
// hear the cause's status or a BYE) and waits for them to end, or for ctx.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	runs := make([]*callRun, 0, len(m.runs))
	for c := range m.runs {
		runs = append(runs, c)
	}
	m.mu.Unlock()
	for _, c := range runs {
		// The caller's leg is safe to hang up from here; the call's owner
		// goroutine sees it end and tears down the rest. All at once: a
		// hang-up waits for the phone's answer (a BYE's 200, an error
		// response's ACK), and a phone that is gone would make the calls
		// after it wait in turn.
		go c.in.Hangup(CauseShutdown)
	}
	done := make(chan struct{})
	go func() { m.calls.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait blocks until every call has ended (used at shutdown, after the
// signalling stopped taking new calls and every leg was hung up).
func (m *Manager) Wait() { m.calls.Wait() }

// Active reports how many calls a device takes part in.
func (m *Manager) Active(d Device) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.active[d]
}

// take counts a device into a call unless it is at its limit.
func (m *Manager) take(d Device, limit int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if limit > 0 && m.active[d] >= limit {
		return false
	}
	m.active[d]++
	return true
}

func (m *Manager) release(d Device) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active[d]--; m.active[d] <= 0 {
		delete(m.active, d)
	}
}

// Incoming takes a new incoming leg: from calls dialed. The call runs in
// its own goroutine; Incoming returns at once. callerLimit is the calling
// device's concurrent-call limit (0: none).
func (m *Manager) Incoming(in Channel, from Party, dialed string, callerLimit int) {
	c := &callRun{
		m:      m,
		serial: m.serials.next(m.now()),
		in:     in,
		from:   from,
		dialed: dialed,
		start:  m.now(),
	}
	c.log = m.log.With("serial", string(c.serial), "from", from.Number, "to", dialed)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		in.Hangup(CauseShutdown)
		return
	}
	m.runs[c] = struct{}{}
	m.calls.Add(1)
	m.mu.Unlock()
	go func() {
		defer func() {
			m.mu.Lock()
			delete(m.runs, c)
			m.mu.Unlock()
			m.calls.Done()
		}()
		c.run(callerLimit)
	}()
}

// serials makes call serial numbers: the start time to the microsecond,
// bumped by one when two calls would get the same (sortable and unique
// within the process, and across restarts because time moves on).
type serials struct {
	last atomic.Int64
}

func (s *serials) next(now time.Time) Serial {
	v := now.UnixMicro()
	for {
		last := s.last.Load()
		if v <= last {
			v = last + 1
		}
		if s.last.CompareAndSwap(last, v) {
			break
		}
	}
	t := time.UnixMicro(v).UTC()
	return Serial(fmt.Sprintf("%s%06d", t.Format("20060102150405"), v%1_000_000))
}

// callRun is one call, owned by one goroutine (run).
type callRun struct {
	m      *Manager
	serial Serial
	in     Channel
	from   Party
	dialed string
	log    *slog.Logger

	start, answered, end time.Time
	target               Target
	winner               Outgoing
	legs                 []Outgoing
	cause                Cause
	hangupBy             string
}

func (c *callRun) run(callerLimit int) {
	m := c.m
	m.metrics.active.Inc()
	defer m.metrics.active.Dec()
	caller := c.in.Device()
	if !m.take(caller, callerLimit) {
		c.finish(CauseCongestion, "system")
		return
	}
	defer m.release(caller)
	m.opts.Devices.inUse(caller, 1)
	defer m.opts.Devices.inUse(caller, -1)
	m.publish("call.started", c, nil)

	t, err := m.opts.Directory.Lookup(c.dialed)
	if err != nil {
		cause := CauseFailed
		if errors.Is(err, ErrNotFound) {
			cause = CauseNotFound
		}
		c.finish(cause, "system")
		return
	}
	c.target = t
	if !m.take(t.Device, t.MaxCalls) {
		c.finish(CauseBusy, "system")
		return
	}
	defer m.release(t.Device)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	legs, err := m.opts.Dialer.Dial(ctx, t.Device, c.from, t.Party, c.in)
	if err != nil || len(legs) == 0 {
		cause := CauseUnavailable
		if err != nil && !errors.Is(err, ErrUnavailable) {
			cause = CauseFailed
			c.log.Warn("dial failed", "device", t.Device, "err", err)
		}
		c.finish(cause, "system")
		return
	}
	c.legs = legs
	m.opts.Devices.ringing(t.Device, 1)
	cause, by := c.ring()
	m.opts.Devices.ringing(t.Device, -1)
	if c.winner == nil {
		c.finish(cause, by)
		return
	}
	m.opts.Devices.inUse(t.Device, 1)
	cause, by = c.talk()
	m.opts.Devices.inUse(t.Device, -1)
	c.finish(cause, by)
}

// ring waits for one leg to answer, the caller to give up, every leg to
// fail, or the ring timeout. It relays ringing and early media to the caller.
func (c *callRun) ring() (Cause, string) {
	m := c.m
	timer := time.NewTimer(m.opts.Limits.RingTimeout)
	defer timer.Stop()

	events := make(chan legEvent, 8)
	stop := make(chan struct{})
	defer close(stop)
	for _, leg := range c.legs {
		go forward(leg, events, stop)
	}
	var unbridgeEarly func()
	defer func() {
		if unbridgeEarly != nil && c.winner == nil {
			unbridgeEarly()
		}
	}()
	progressed, setupSeen := false, false
	failed := map[Outgoing]Cause{}
	for {
		select {
		case <-c.in.Done():
			c.hangupLegs(CauseCancelled, nil)
			return CauseCancelled, "caller"
		case <-timer.C:
			c.hangupLegs(CauseNoAnswer, nil)
			c.in.Hangup(CauseNoAnswer)
			return CauseNoAnswer, "system"
		case ev := <-events:
			if !setupSeen && ev.kind != EventUnknown {
				setupSeen = true
				m.metrics.setup.Observe(m.now().Sub(c.start).Seconds())
			}
			switch ev.kind {
			case EventRinging:
				if !progressed {
					progressed = true
					if err := c.in.Progress(false); err != nil {
						c.log.Debug("progress to caller", "err", err)
					}
					m.publish("call.ringing", c, nil)
				}
			case EventEarlyMedia:
				if unbridgeEarly == nil {
					if u, err := m.opts.Bridger.Bridge(c.in, ev.leg); err == nil {
						unbridgeEarly = u
						if err := c.in.Progress(true); err != nil {
							c.log.Debug("early media to caller", "err", err)
						}
						progressed = true
					}
				}
			case EventAnswered:
				c.winner = ev.leg
				c.hangupLegs(CauseAnsweredElsewhere, ev.leg)
				if unbridgeEarly != nil {
					unbridgeEarly()
					unbridgeEarly = nil
				}
				return CauseNormal, ""
			case EventUnknown: // the leg ended
				failed[ev.leg] = ev.leg.Cause()
				if len(failed) == len(c.legs) {
					cause := worstFailure(failed)
					c.in.Hangup(cause)
					return cause, "callee"
				}
			}
		}
	}
}

// worstFailure picks the cause the caller hears when every leg failed: busy
// wins (someone is there), then rejected, then no answer, then unavailable.
func worstFailure(failed map[Outgoing]Cause) Cause {
	order := []Cause{CauseBusy, CauseRejected, CauseNoAnswer, CauseUnavailable}
	for _, want := range order {
		for _, got := range failed {
			if got == want {
				return want
			}
		}
	}
	for _, got := range failed {
		return got
	}
	return CauseFailed
}

type legEvent struct {
	leg  Outgoing
	kind EventKind // EventUnknown: the leg ended
}

// forward turns one leg's events and end into legEvents until stop.
func forward(leg Outgoing, out chan<- legEvent, stop <-chan struct{}) {
	for {
		select {
		case k := <-leg.Events():
			select {
			case out <- legEvent{leg, k}:
			case <-stop:
				return
			}
		case <-leg.Done():
			select {
			case out <- legEvent{leg, EventUnknown}:
			case <-stop:
			}
			return
		case <-stop:
			return
		}
	}
}

func (c *callRun) hangupLegs(cause Cause, except Outgoing) {
	for _, leg := range c.legs {
		if leg != except {
			leg.Hangup(cause)
		}
	}
}

// talk answers the caller, bridges the two legs and waits for either to end.
func (c *callRun) talk() (Cause, string) {
	m := c.m
	unbridge, err := m.opts.Bridger.Bridge(c.in, c.winner)
	if err != nil {
		c.log.Error("bridge", "err", err)
		c.winner.Hangup(CauseFailed)
		c.in.Hangup(CauseFailed)
		return CauseFailed, "system"
	}
	defer unbridge()
	if err := c.in.Answer(context.Background()); err != nil {
		c.log.Warn("answer caller", "err", err)
		c.winner.Hangup(CauseFailed)
		c.in.Hangup(CauseFailed)
		return CauseFailed, "system"
	}
	c.answered = m.now()
	m.publish("call.answered", c, nil)
	select {
	case <-c.in.Done():
		cause := c.in.Cause()
		c.winner.Hangup(cause)
		return cause, "caller"
	case <-c.winner.Done():
		cause := c.winner.Cause()
		c.in.Hangup(cause)
		return cause, "callee"
	}
}

// finish ends the caller's leg if still up, writes the CDR (durable before
// the end is published) and publishes call.ended.
func (c *callRun) finish(cause Cause, by string) {
	m := c.m
	c.in.Hangup(cause)
	c.end = m.now()
	c.cause, c.hangupBy = cause, by
	cdr := c.record()
	if m.opts.Records != nil {
		if err := m.opts.Records.AddCDR(cdr); err != nil {
			c.log.Error("write CDR", "err", err)
		}
	}
	m.metrics.total.WithLabelValues(cdr.Result).Inc()
	m.publish("call.ended", c, map[string]any{"result": cdr.Result, "cause": cdr.Cause, "hangup_by": by})
	c.log.Info("call ended", "result", cdr.Result, "cause", cdr.Cause)
}

func (c *callRun) record() store.CDR {
	cdr := store.CDR{
		Serial:     string(c.serial),
		Start:      c.start,
		Answer:     c.answered,
		End:        c.end,
		Caller:     c.from.Number,
		CallerName: c.from.Name,
		Callee:     c.dialed,
		Direction:  "internal",
		Result:     c.cause.Result(!c.answered.IsZero()),
		Cause:      c.cause.String(),
		HangupBy:   c.hangupBy,
	}
	cdr.Legs = append(cdr.Legs, leg(c.in, "caller", c.start, c.answered, c.end))
	for _, l := range c.legs {
		var answered time.Time
		if Outgoing(l) == c.winner {
			answered = c.answered
		}
		cdr.Legs = append(cdr.Legs, leg(l, "callee", c.start, answered, c.end))
	}
	return cdr
}

func leg(ch Channel, role string, start, answered, end time.Time) store.CDRLeg {
	l := store.CDRLeg{Channel: string(ch.ID()), Role: role, Device: ch.Device().String(), Address: ch.Address(),
		Codec: ch.Codec(), Start: start, Answer: answered, End: end}
	select {
	case <-ch.Done():
		l.Cause = ch.Cause().String()
	default:
	}
	return l
}

// callView is what call.* events carry.
type callView struct {
	Serial   Serial    `json:"serial"`
	From     Party     `json:"from"`
	To       string    `json:"to"`
	Start    time.Time `json:"start"`
	Answered time.Time `json:"answered,omitzero"`
	Extra    any       `json:"result,omitempty"`
}

func (m *Manager) publish(typ string, c *callRun, extra any) {
	if m.opts.Bus == nil {
		return
	}
	m.opts.Bus.Publish(typ, "call:"+string(c.serial), callView{Serial: c.serial, From: c.from, To: c.dialed,
		Start: c.start, Answered: c.answered, Extra: extra})
}
