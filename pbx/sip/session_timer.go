package sip

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028): a call whose other side has vanished without a
// BYE is found and ended. Each leg negotiates its own interval and who
// refreshes. We refresh with UPDATE (RFC 3311, no SDP, so media is never
// re-negotiated); a peer that does not allow UPDATE is asked to be the
// refresher, and if it refuses the leg runs without a session timer (the
// RTP timeout still ends a dead call).

// Defaults of CallConfig's session timer settings.
const (
	DefaultSessionExpires = 30 * time.Minute
	// MinSessionExpires is RFC 4028's floor for Min-SE (§4).
	MinSessionExpires = 90 * time.Second
)

// sessionExpires reads a Session-Expires header: the interval and the
// refresher ("uac", "uas" or "" when the sender left it to the other side).
func sessionExpires(m interface{ GetHeader(string) sip.Header }) (time.Duration, string) {
	h := m.GetHeader("Session-Expires")
	if h == nil {
		h = m.GetHeader("x") // compact form of Session-Expires (RFC 4028 §4)
	}
	if h == nil {
		return 0, ""
	}
	parts := strings.Split(h.Value(), ";")
	secs, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || secs <= 0 {
		return 0, ""
	}
	refresher := ""
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return time.Duration(secs) * time.Second, refresher
}

// hasToken reports whether a comma-separated header (Supported, Require,
// Allow) lists token, case-insensitively.
func hasToken(m interface{ GetHeaders(string) []sip.Header }, name, token string) bool {
	for _, h := range m.GetHeaders(name) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func sessionExpiresHeader(d time.Duration, refresher string) sip.Header {
	return sip.NewHeader("Session-Expires", strconv.Itoa(int(d/time.Second))+";refresher="+refresher)
}

// sessionTimer runs one leg's session timer.
type sessionTimer struct {
	interval  time.Duration
	weRefresh bool
	refresh   func(ctx context.Context) error // sends an UPDATE
	expire    func()                          // ends the leg

	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

// startSessionTimer starts the timer: when we refresh, an UPDATE every half
// interval; when the peer does, the leg ends if no refresh came within the
// interval less a margin (RFC 4028 §10: BYE before the session expires).
func startSessionTimer(interval time.Duration, weRefresh bool, refresh func(context.Context) error, expire func()) *sessionTimer {
	t := &sessionTimer{interval: interval, weRefresh: weRefresh, refresh: refresh, expire: expire}
	t.mu.Lock()
	t.timer = time.AfterFunc(t.wait(), t.fire)
	t.mu.Unlock()
	return t
}

func (t *sessionTimer) wait() time.Duration {
	if t.weRefresh {
		return t.interval / 2
	}
	margin := min(32*time.Second, t.interval/3)
	return t.interval - margin
}

func (t *sessionTimer) fire() {
	if !t.weRefresh {
		t.expire()
		return
	}
	// The refresh may take until the session would expire.
	ctx, cancel := context.WithTimeout(context.Background(), min(32*time.Second, t.interval/2))
	err := t.refresh(ctx)
	cancel()
	if err != nil {
		t.expire()
		return
	}
	t.touch()
}

// touch restarts the interval after a refresh (ours or the peer's).
func (t *sessionTimer) touch() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.done {
		t.timer.Reset(t.wait())
	}
}

func (t *sessionTimer) stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = true
	t.timer.Stop()
}
