package rtp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/config"
	"golang.org/x/sys/unix"
)

// ErrNoPorts is returned by PortPool.Allocate when every even port of the
// range is in use (by the pool or by another program).
var ErrNoPorts = errors.New("no free RTP port")

// ErrPoolConfig is returned by NewPortPool for an unusable configuration.
var ErrPoolConfig = errors.New("invalid RTP port pool configuration")

// Defaults for PoolConfig's zero values.
const (
	DefaultRelatchAfter  = 2 * time.Second
	DefaultCheckInterval = time.Second
	// DefaultReuseAfter is the quarantine of a released port: a phone
	// whose BYE was lost goes on sending to it until its own timeout, and
	// the first packet to reach an endpoint latches it, so a port reused
	// too soon could give the next call the last one's stream. Two
	// seconds cover a BYE's first retransmissions (0.5 and 1 s after it),
	// so a phone that missed the first still stops before the port is
	// reused; DefaultMaxParked pairs, 8,192 descriptors,
	// cover 2,048 released endpoints a second (1,000 calls a second) with
	// no socket opened or closed, and beyond that pairs are opened and
	// closed as without parking.
	DefaultMaxParked  = 4096
	DefaultReuseAfter = 2 * time.Second
	DefaultIdleClose  = 30 * time.Second
)

// churnAllocs is how many allocations within about a second make a pool
// "under churn": one whose last endpoint closing is a gap between calls,
// not the end of the traffic, so it keeps its parked pairs (see release).
const churnAllocs = 64

// PoolConfig configures a PortPool.
type PoolConfig struct {
	IP      netip.Addr       // address every endpoint binds (the appliance's media address)
	Ports   config.PortRange // RTP uses the even ports, RTCP the odd port above each
	Metrics *Metrics         // shared counters; required
	Log     *slog.Logger     // nil: discard

	// RelatchAfter is how long a latched peer must have been silent before
	// packets from another source take over (a phone whose NAT mapping
	// changed). Zero means DefaultRelatchAfter.
	RelatchAfter time.Duration
	// CheckInterval is how often an endpoint with a timeout set looks at
	// its last packet time; a timeout fires up to this late. Zero means
	// DefaultCheckInterval.
	CheckInterval time.Duration
	// Now is the clock for statistics, timeouts, timestamp continuity and
	// the ages of parked pairs; nil means time.Now. Tests inject one.
	Now func() time.Time
	// Loops is how many relay loops (goroutines, each polling many
	// endpoints' sockets) the pool runs at most. Zero means one per
	// GOMAXPROCS, at most 4.
	Loops int

	// MaxParked is how many released socket pairs the pool keeps bound for
	// later endpoints (see PortPool); a pair released beyond it is closed.
	// Zero means DefaultMaxParked; negative keeps none, so every Close
	// closes its sockets.
	MaxParked int
	// ReuseAfter is how long a released pair stays parked before Allocate
	// prefers it to a port never used: a late packet of the previous call
	// finds it parked and is discarded, instead of reaching, and latching,
	// the next call. A younger pair is still handed out when no other port
	// is free. Zero means DefaultReuseAfter; negative means at once.
	ReuseAfter time.Duration
	// IdleClose is how long a parked pair may go unused before it is
	// closed, so a box whose traffic stopped gives its ports and
	// descriptors back. Zero means DefaultIdleClose.
	IdleClose time.Duration
}

// PortPool hands out endpoints on even ports of a range, skipping ports in
// use, and takes the ports back when an endpoint closes. It is safe for
// concurrent use.
//
// Opening an endpoint's two sockets and registering them with a relay loop,
// and closing them again, costs a dozen system calls and two wake-ups of
// the loop per endpoint, a large share of a short call's cost. So a released pair is parked instead:
// its sockets stay bound and in their loop's epoll set, the loop discards
// whatever arrives on them, and Allocate hands the oldest parked pair out
// again once it has been parked ReuseAfter, after discarding what queued on
// it meanwhile. Until then a port never used (or closed) is bound, taken
// round the range as before so a just-freed port is reused last. Parked
// pairs are bounded by MaxParked and closed after IdleClose unused; a pool
// whose last endpoint closes while it is not under churn closes them at
// once, so an idle pool holds no descriptor (and its loops no goroutine).
type PortPool struct {
	cfg       PoolConfig
	log       *slog.Logger
	nextID    atomic.Uint64
	loops     []*loop
	first     int // the lowest even port of the range
	maxParked int

	// slots holds the open pair of each even port of the range, attached
	// or parked, at (port-first)/2. Relay loops resolve their epoll events
	// through it without the pool's lock; it changes under mu.
	slots []atomic.Pointer[pair]

	mu         sync.Mutex
	live       int       // endpoints open
	loopLoad   []int     // endpoints per loop, to put a new pair on the least busy
	next       int       // the even port a fresh bind tries first, so a port just freed is reused last
	parked     pairQueue // released pairs, oldest first
	sweep      *time.Timer
	sweepArmed bool
	churn      churn
}

// NewPortPool checks cfg and returns a pool. Nothing is bound until Allocate.
func NewPortPool(cfg PoolConfig) (*PortPool, error) {
	var problems []error
	if !cfg.IP.IsValid() {
		problems = append(problems, errors.New("no IP address"))
	}
	if firstEven(cfg.Ports)+1 > cfg.Ports.Last || cfg.Ports.First < 1 {
		problems = append(problems, fmt.Errorf("port range %v holds no even port with its odd neighbour", cfg.Ports))
	}
	if cfg.Metrics == nil {
		problems = append(problems, errors.New("no metrics"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrPoolConfig, errors.Join(problems...))
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RelatchAfter <= 0 {
		cfg.RelatchAfter = DefaultRelatchAfter
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Loops <= 0 {
		cfg.Loops = loopCount()
	}
	switch {
	case cfg.MaxParked == 0:
		cfg.MaxParked = DefaultMaxParked
	case cfg.MaxParked < 0:
		cfg.MaxParked = 0
	}
	switch {
	case cfg.ReuseAfter == 0:
		cfg.ReuseAfter = DefaultReuseAfter
	case cfg.ReuseAfter < 0:
		cfg.ReuseAfter = 0
	}
	if cfg.IdleClose <= 0 {
		cfg.IdleClose = DefaultIdleClose
	}
	first := firstEven(cfg.Ports)
	p := &PortPool{
		cfg: cfg, log: cfg.Log, first: first, maxParked: cfg.MaxParked, next: first,
		slots: make([]atomic.Pointer[pair], (cfg.Ports.Last-first+1)/2),
	}
	p.loops = make([]*loop, cfg.Loops)
	p.loopLoad = make([]int, cfg.Loops)
	for i := range p.loops {
		p.loops[i] = &loop{pool: p, index: i}
	}
	cfg.Metrics.watch(p)
	return p, nil
}

// firstEven is the lowest even port of r.
func firstEven(r config.PortRange) int { return r.First + r.First%2 }

// pairs returns the socket pairs bound: in use by an endpoint, and parked.
func (p *PortPool) pairs() (inUse, parked int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live, p.parked.len()
}

// InUse returns the number of endpoints open (parked pairs are not).
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

// Allocate returns a new endpoint on a parked pair of sockets or, failing
// one old enough (see PortPool), on a pair it binds and hands to the least
// busy relay loop. The endpoint sends nothing until SetRemote or a received
// packet tells it where to.
func (p *PortPool) Allocate() (*Endpoint, error) {
	now := p.cfg.Now().UnixNano()
	p.mu.Lock()
	p.trim(now)
	p.churn.add(now)
	reused := true
	pr := p.takeParked(now, false)
	var err error
	if pr == nil {
		reused = false
		pr, err = p.bindFresh()
		if pr == nil && errors.Is(err, ErrNoPorts) {
			// Every port is in use or parked: a young parked pair is
			// better than no call.
			reused = true
			pr = p.takeParked(now, true)
		}
	}
	if pr == nil {
		p.mu.Unlock()
		return nil, err
	}
	p.live++
	p.loopLoad[pr.loop.index]++
	p.mu.Unlock()

	// Outside the pool's lock: draining costs system calls, and the pair
	// is no longer parked, so nothing else touches it.
	e := newEndpoint(p, pr)
	pr.attach(e, reused)
	pr.loop.attach()
	return e, nil
}

// takeParked removes and returns the oldest parked pair if it has been
// parked ReuseAfter (or at all, with anyAge); nil if there is none. p.mu is
// held.
func (p *PortPool) takeParked(now int64, anyAge bool) *pair {
	pr := p.parked.front()
	if pr == nil || (!anyAge && now-pr.parkedAt < int64(p.cfg.ReuseAfter)) {
		return nil
	}
	return p.parked.pop()
}

// bindFresh binds a pair on the next port of the range the pool holds no
// pair on and registers it with the least busy loop. p.mu is held.
func (p *PortPool) bindFresh() (*pair, error) {
	for range len(p.slots) {
		port := p.next
		p.next += 2
		if p.next+1 > p.cfg.Ports.Last {
			p.next = p.first
		}
		idx := (port - p.first) / 2
		if p.slots[idx].Load() != nil {
			continue // ours, open or parked
		}
		rtpFD, err := openUDP(netip.AddrPortFrom(p.cfg.IP, uint16(port)))
		if err != nil {
			continue // taken by someone else
		}
		rtcpFD, err := openUDP(netip.AddrPortFrom(p.cfg.IP, uint16(port+1)))
		if err != nil {
			_ = unix.Close(rtpFD)
			continue
		}
		li := 0
		for i, n := range p.loopLoad {
			if n < p.loopLoad[li] {
				li = i
			}
		}
		pr := &pair{idx: idx, port: port, rtpFD: rtpFD, rtcpFD: rtcpFD, loop: p.loops[li]}
		// In the table before epoll can report it, so no event of it is
		// dropped unread.
		p.slots[idx].Store(pr)
		if err := pr.loop.register(pr); err != nil {
			p.slots[idx].Store(nil)
			_ = unix.Close(rtpFD)
			_ = unix.Close(rtcpFD)
			return nil, err
		}
		return pr, nil
	}
	return nil, ErrNoPorts
}

// release takes back e's pair once e is closed: parked for a later
// endpoint, or closed.
func (p *PortPool) release(e *Endpoint) error {
	pr := e.pair
	pr.detach() // from here on the loop never touches e
	pr.loop.detach()
	now := p.cfg.Now().UnixNano()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live--
	p.loopLoad[pr.loop.index]--
	p.trim(now)
	if p.live == 0 && !p.churn.busy(now) {
		// The traffic ended rather than paused between calls: give
		// every port back, as before parking existed.
		return errors.Join(p.closePair(pr), p.closeParked())
	}
	if p.parked.len() >= p.maxParked {
		return p.closePair(pr)
	}
	pr.parkedAt = now
	p.parked.push(pr)
	p.armSweep(now)
	return nil
}

// trim closes the pairs parked IdleClose or longer. p.mu is held.
func (p *PortPool) trim(now int64) {
	for pr := p.parked.front(); pr != nil && now-pr.parkedAt >= int64(p.cfg.IdleClose); pr = p.parked.front() {
		_ = p.closePair(p.parked.pop()) // nothing to do about a failed close
	}
}

// closeParked closes every parked pair. p.mu is held.
func (p *PortPool) closeParked() error {
	var errs []error
	for p.parked.len() > 0 {
		if err := p.closePair(p.parked.pop()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// closePair closes a pair that is neither attached nor parked. p.mu is held,
// so no bind takes the slot before it is cleared.
func (p *PortPool) closePair(pr *pair) error {
	err := pr.close()
	p.slots[pr.idx].Store(nil)
	pr.loop.unregister(pr)
	return err
}

// armSweep schedules the closing of the oldest parked pair when it will
// have been idle for IdleClose, unless a sweep is already due; the timer
// then re-arms itself for the next. No goroutine waits meanwhile. p.mu is
// held and a pair is parked.
func (p *PortPool) armSweep(now int64) {
	if p.sweepArmed {
		return
	}
	d := time.Duration(p.parked.front().parkedAt + int64(p.cfg.IdleClose) - now)
	d = min(max(d, time.Millisecond), p.cfg.IdleClose)
	p.sweepArmed = true
	if p.sweep == nil {
		p.sweep = time.AfterFunc(d, p.sweepIdle)
		return
	}
	p.sweep.Reset(d)
}

func (p *PortPool) sweepIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepArmed = false
	now := p.cfg.Now().UnixNano()
	p.trim(now)
	if p.parked.len() > 0 {
		p.armSweep(now)
	}
}

// parkedPairs is how many pairs are parked.
func (p *PortPool) parkedPairs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parked.len()
}

// pairQueue is a FIFO of parked pairs in a ring buffer, so taking the
// oldest and parking another cost no allocation once it has grown.
type pairQueue struct {
	buf     []*pair
	head, n int
}

func (q *pairQueue) len() int { return q.n }

func (q *pairQueue) front() *pair {
	if q.n == 0 {
		return nil
	}
	return q.buf[q.head]
}

func (q *pairQueue) push(pr *pair) {
	if q.n == len(q.buf) {
		buf := make([]*pair, max(16, 2*len(q.buf)))
		for i := range q.n {
			buf[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = pr
	q.n++
}

func (q *pairQueue) pop() *pair {
	pr := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return pr
}

// churn counts allocations in the current and the previous second of the
// pool's clock.
type churn struct {
	start      int64
	this, last int
}

func (c *churn) roll(now int64) {
	if d := now - c.start; d >= int64(time.Second) {
		c.last = c.this
		if d >= 2*int64(time.Second) {
			c.last = 0
		}
		c.this, c.start = 0, now
	}
}

func (c *churn) add(now int64) {
	c.roll(now)
	c.this++
}

// busy reports whether churnAllocs endpoints were allocated within the last
// second or two.
func (c *churn) busy(now int64) bool {
	c.roll(now)
	return c.this+c.last >= churnAllocs
}
