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
)

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
	// Now is the clock for statistics, timeouts and timestamp continuity;
	// nil means time.Now. Tests inject one.
	Now func() time.Time
	// Loops is how many relay loops (goroutines, each polling many
	// endpoints' sockets) the pool runs at most. Zero means one per
	// GOMAXPROCS, at most 4.
	Loops int
}

// PortPool hands out endpoints on even ports of a range, skipping ports in
// use, and takes the ports back when an endpoint closes. It is safe for
// concurrent use.
type PortPool struct {
	cfg    PoolConfig
	log    *slog.Logger
	nextID atomic.Uint64
	loops  []*loop

	mu       sync.Mutex
	inUse    map[int]*loop // RTP ports of open endpoints, and the loop each is on
	loopLoad []int         // endpoints per loop, to put a new one on the least busy
	next     int           // the even port Allocate tries first, so a port just freed is reused last
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
	p := &PortPool{cfg: cfg, log: cfg.Log, inUse: map[int]*loop{}, next: firstEven(cfg.Ports)}
	p.loops = make([]*loop, cfg.Loops)
	p.loopLoad = make([]int, cfg.Loops)
	for i := range p.loops {
		p.loops[i] = &loop{pool: p}
	}
	return p, nil
}

// firstEven is the lowest even port of r.
func firstEven(r config.PortRange) int { return r.First + r.First%2 }

// InUse returns the number of endpoints open.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

// Allocate binds a new endpoint's RTP and RTCP sockets and hands them to
// the least busy relay loop. The endpoint sends nothing until SetRemote or
// a received packet tells it where to.
func (p *PortPool) Allocate() (*Endpoint, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := firstEven(p.cfg.Ports)
	count := (p.cfg.Ports.Last - first + 1) / 2 // pairs that fit
	for range count {
		port := p.next
		p.next += 2
		if p.next+1 > p.cfg.Ports.Last {
			p.next = first
		}
		if p.inUse[port] != nil {
			continue
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
		e := newEndpoint(p, p.loops[li], port, rtpFD, rtcpFD)
		if err := e.loop.add(e); err != nil {
			_ = unix.Close(rtpFD)
			_ = unix.Close(rtcpFD)
			return nil, err
		}
		p.inUse[port] = e.loop
		p.loopLoad[li]++
		return e, nil
	}
	return nil, ErrNoPorts
}

// release returns port to the pool.
func (p *PortPool) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, l := range p.loops {
		if l == p.inUse[port] {
			p.loopLoad[i]--
		}
	}
	delete(p.inUse, port)
}
