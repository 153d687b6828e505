package sip

import (
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// maxBanTracked bounds the failure table, so a flood of sources cannot grow
// it without limit; when full, the oldest entries are forgotten first.
const maxBanTracked = 65536

// bans counts auth failures per source IP and bans an IP that fails too
// often. Trusted networks are exempt. Safe for concurrent use.
type bans struct {
	threshold int
	window    time.Duration
	banTime   time.Duration
	trusted   []netip.Prefix
	now       func() time.Time
	gauge     interface{ Set(float64) }

	mu      sync.Mutex
	sources map[netip.Addr]*banEntry
}

type banEntry struct {
	failures    []time.Time // within the window, oldest first
	bannedUntil time.Time
}

func (b *bans) trustedIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range b.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// banned reports whether ip's requests are to be dropped now.
func (b *bans) banned(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.sources[ip.Unmap()]
	return e != nil && b.now().Before(e.bannedUntil)
}

// fail records an auth failure from ip and reports whether it just got banned.
func (b *bans) fail(ip netip.Addr) bool {
	if !ip.IsValid() || b.trustedIP(ip) {
		return false
	}
	ip = ip.Unmap()
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sources) >= maxBanTracked {
		b.expire(now)
	}
	e := b.sources[ip]
	if e == nil {
		if len(b.sources) >= maxBanTracked {
			return false
		}
		e = &banEntry{}
		b.sources[ip] = e
	}
	cut := 0
	for cut < len(e.failures) && now.Sub(e.failures[cut]) > b.window {
		cut++
	}
	e.failures = append(e.failures[cut:], now)
	if len(e.failures) < b.threshold || now.Before(e.bannedUntil) {
		return false
	}
	e.bannedUntil = now.Add(b.banTime)
	e.failures = e.failures[:0]
	b.setGauge(now)
	return true
}

// expire forgets sources with no recent failure and no running ban.
func (b *bans) expire(now time.Time) {
	for ip, e := range b.sources {
		recent := len(e.failures) > 0 && now.Sub(e.failures[len(e.failures)-1]) <= b.window
		if !recent && !now.Before(e.bannedUntil) {
			delete(b.sources, ip)
		}
	}
	b.setGauge(now)
}

// sweep drops expired entries and refreshes the gauge; called periodically.
func (b *bans) sweep() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(b.now())
}

func (b *bans) setGauge(now time.Time) {
	n := 0
	for _, e := range b.sources {
		if now.Before(e.bannedUntil) {
			n++
		}
	}
	b.gauge.Set(float64(n))
}

// sourceIP is the IP a request's packet came from.
func sourceIP(req *sip.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
