package webui

import (
	"net/netip"
	"sync"
	"time"
)

// Login back-off: after freeFailures wrong passwords in a row for one account
// or from one address, further attempts are refused for lockBase, doubling
// with each failure up to lockMax. A success clears the account's and the
// address's counts; a quiet period of forgetAfter does too. Addresses in the
// trusted networks are never locked, and their failures do not lock the
// account either, so an office behind one NAT address cannot lock itself out
// and an outsider's guessing cannot lock out insiders.
const (
	freeFailures = 5
	lockBase     = 30 * time.Second
	lockMax      = 15 * time.Minute
	forgetAfter  = time.Hour
	maxTracked   = 100_000 // bounds memory under a spray of random names
)

type strike struct {
	failures int
	last     time.Time
	until    time.Time
}

type lockout struct {
	now     func() time.Time
	trusted []netip.Prefix

	mu      sync.Mutex
	entries map[string]*strike
}

func newLockout(now func() time.Time, trusted []netip.Prefix) *lockout {
	return &lockout{now: now, trusted: trusted, entries: make(map[string]*strike)}
}

func (l *lockout) isTrusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (l *lockout) keys(user, ip string) []string {
	if l.isTrusted(ip) {
		return nil
	}
	return []string{"user:" + user, "addr:" + ip}
}

// blocked returns how long the caller must still wait (0: may try now).
func (l *lockout) blocked(user, ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range l.keys(user, ip) {
		if s := l.entries[k]; s != nil && s.until.After(now) {
			wait = max(wait, s.until.Sub(now))
		}
	}
	return wait
}

func (l *lockout) failed(user, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.entries) >= maxTracked {
		l.sweep(now)
	}
	for _, k := range l.keys(user, ip) {
		s := l.entries[k]
		if s == nil || now.Sub(s.last) > forgetAfter {
			s = &strike{}
			l.entries[k] = s
		}
		s.failures++
		s.last = now
		if over := s.failures - freeFailures; over >= 0 {
			d := lockBase << min(over, 10)
			s.until = now.Add(min(d, lockMax))
		}
	}
}

func (l *lockout) succeeded(user, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.keys(user, ip) {
		delete(l.entries, k)
	}
}

// sweep forgets quiet entries; if that is not enough, it forgets all
// unlocked ones (a spray of names must not grow memory without bound).
func (l *lockout) sweep(now time.Time) {
	for k, s := range l.entries {
		if now.Sub(s.last) > forgetAfter && !s.until.After(now) {
			delete(l.entries, k)
		}
	}
	if len(l.entries) < maxTracked {
		return
	}
	for k, s := range l.entries {
		if !s.until.After(now) {
			delete(l.entries, k)
		}
	}
}
