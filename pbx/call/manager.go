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

// BlockedError is returned by a Directory that refuses a number (a
// blacklisted callee, a prefix the policy denies, no route the caller may
// use, a limit reached): the call ends with CauseBlocked and the caller is
// told Reason.
type BlockedError struct {
	Reason string // a metric-label-like word: "blacklist", "international", "no_route"…
}

func (e *BlockedError) Error() string { return "call: blocked: " + e.Reason }

// Target is what a dialed number reaches.
type Target struct {
	Device   Device
	Party    Party
	MaxCalls int // concurrent calls the device may take part in (0: no limit)
	DND      bool
	Forward  Forwarding
	// PickupGroup is the group whose members may pick up this device's
	// ringing calls with the group pickup code ("": none).
	PickupGroup string
	// Trunks are, for a DevicePSTN target, the trunks to try in order
	// (failover); Party.Number is then the number as the carrier gets it.
	Trunks []string
	// Caller, when set, is who the call shows as to this target (an
	// outbound route's caller number) instead of the caller's own party.
	Caller *Party
	// Done, when set, is called once when the call no longer uses the
	// target: its leg ended, or it was never rung (busy, forwarded, the
	// caller gave up). A Directory that counts what it handed out (a
	// caller number's concurrent calls) releases it there.
	Done func()
}

// Origin is whom a call is charged to: its permissions decide what the
// call may reach. A call from an extension (desk phone or seat) may use
// the outbound routes that extension may use; a call from a trunk reaches
// the box's own numbers only. A forward or a transfer to an outside number
// is charged to the forwarding or transferring extension.
type Origin struct {
	Extension string // an authenticated extension
	Trunk     string // a carrier's trunk (Extension is then "")
}

// Directory resolves numbers: the box's own (extensions, and later queues
// and IVRs) and, through the outbound routes, outside numbers.
type Directory interface {
	// Lookup returns what number reaches for origin: ErrNotFound for a
	// number that is nobody's, a *BlockedError for one origin may not
	// dial.
	Lookup(number string, origin Origin) (Target, error)
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
	// Player plays hold music, ring-back and feature-code tones (nil:
	// silence).
	Player Player
	// Features is the feature-code table and the settings the codes
	// change (nil: no feature codes).
	Features Features
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
	owners map[ChannelID]*callRun // which call owns each leg, for transfers and Replaces
	ringIx map[*callRun]ringInfo  // calls ringing a device now, for pickup
	closed bool                   // Shutdown was called: new calls are refused
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
		owners:  make(map[ChannelID]*callRun),
		ringIx:  make(map[*callRun]ringInfo),
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
		// Legs are safe to hang up from here; the call's owner goroutine
		// sees them end and tears down the rest. The caller's leg, and the
		// parties the call has now (after a transfer the caller may be
		// gone). All at once: a hang-up waits for the phone's answer (a
		// BYE's 200, an error response's ACK), and a phone that is gone
		// would make the calls after it wait in turn.
		go c.in.Hangup(CauseShutdown)
		go c.do(func() {
			for _, s := range c.sides {
				if s != nil {
					go s.ch.Hangup(CauseShutdown)
				}
			}
		})
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
	m.start(in, from, dialed, callerLimit, originOf(in))
}

// IncomingFromTrunk takes a call a carrier sent through trunk to dialed
// (a DID's destination): it reaches the box's numbers only.
func (m *Manager) IncomingFromTrunk(in Channel, from Party, dialed, trunk string) {
	m.start(in, from, dialed, 0, Origin{Trunk: trunk})
}

// originOf is the origin of a leg's own calls: its extension.
func originOf(ch Channel) Origin {
	if d := ch.Device(); d.Kind == DeviceSIP || d.Kind == DeviceSeat {
		return Origin{Extension: d.ID}
	}
	return Origin{}
}

func (m *Manager) start(in Channel, from Party, dialed string, callerLimit int, origin Origin) {
	c := m.newRun(in, from, dialed)
	c.origin = origin
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		in.Hangup(CauseShutdown)
		return
	}
	m.runs[c] = struct{}{}
	m.calls.Add(1)
	m.mu.Unlock()
	go c.run(callerLimit, func() {
		m.mu.Lock()
		delete(m.runs, c)
		m.mu.Unlock()
		m.calls.Done()
	})
}

func (m *Manager) newRun(in Channel, from Party, dialed string) *callRun {
	c := &callRun{
		m:      m,
		serial: m.serials.next(m.now()),
		in:     in,
		from:   from,
		dialed: dialed,
		start:  m.now(),
		ctl:    make(chan func(), 4),
		exited: make(chan struct{}),
	}
	c.log = m.log.With("serial", string(c.serial), "from", from.Number, "to", dialed)
	return c
}

// own records that c owns the leg (nil: the leg left every call).
func (m *Manager) own(id ChannelID, c *callRun) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c == nil {
		delete(m.owners, id)
		return
	}
	m.owners[id] = c
}

// disownAll forgets every leg c still owns (the call ended): only its own
// legs are looked at, not the whole table, so a call's end costs the same
// with ten calls up or ten thousand.
func (m *Manager) disownAll(c *callRun) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range c.records {
		if id := r.ch.ID(); m.owners[id] == c {
			delete(m.owners, id)
		}
	}
}

// ringInfo is what pickup needs to know of a ringing call (a copy: the
// ringState itself belongs to the call's owner).
type ringInfo struct {
	device Device
	group  string
	since  time.Time
}

func (m *Manager) setRinging(c *callRun, rs *ringState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs == nil {
		delete(m.ringIx, c)
		return
	}
	m.ringIx[c] = ringInfo{device: rs.device, group: rs.group, since: rs.since}
}

// ringingFor finds the call that has rung longest among those match
// accepts.
func (m *Manager) ringingFor(match func(ringInfo) bool) *callRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *callRun
	var since time.Time
	for c, ri := range m.ringIx {
		if match(ri) && (best == nil || ri.since.Before(since)) {
			best, since = c, ri.since
		}
	}
	return best
}

func (m *Manager) ownerOf(id ChannelID) *callRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owners[id]
}

// do runs f on c's owner goroutine and waits for it. It reports false
// when the call has ended, or did not get to f within a few seconds (an
// owner busy that long is dialing or playing a tone; two calls asking each
// other at once would otherwise wait for ever): then f never runs.
func (c *callRun) do(f func()) bool {
	const (
		pending int32 = iota
		running
		abandoned
	)
	var state atomic.Int32
	done := make(chan struct{})
	run := func() {
		if !state.CompareAndSwap(pending, running) {
			return
		}
		f()
		close(done)
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case c.ctl <- run:
	case <-c.exited:
		return false
	case <-t.C:
		return false
	}
	select {
	case <-done:
		return true
	case <-c.exited:
	case <-t.C:
	}
	if state.CompareAndSwap(pending, abandoned) {
		return false
	}
	// f is running (or ran): its owner finishes it.
	select {
	case <-done:
		return true
	case <-c.exited:
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

// Replace takes an incoming leg that replaces one of a call's legs (SIP
// INVITE with Replaces): an attended transfer completed by the target, or
// a phone picking up a ringing call through its busy lamp. earlyOnly
// refuses it when the named leg has been answered. The new leg is hung up
// when the named leg belongs to no call or cannot be replaced.
func (m *Manager) Replace(in Channel, from Party, replaced ChannelID, earlyOnly bool) {
	target := m.ownerOf(replaced)
	if target == nil {
		in.Hangup(CauseNotFound)
		return
	}
	ok := false
	if !target.do(func() { ok = target.replace(in, replaced, earlyOnly) }) || !ok {
		in.Hangup(CauseBusy)
	}
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
