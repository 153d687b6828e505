package seat

import (
	"sync"
	"time"

	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
)

// State is what a seat is doing, as its page and pbx_seats show it.
type State string

// Seat states.
const (
	StateConnecting  State = "connecting"  // online, media not connected yet
	StateIdle        State = "idle"        // can be rung
	StateRinging     State = "ringing"     // a call rings it
	StateInCall      State = "in_call"     // dialing out, talking or holding
	StateUnavailable State = "unavailable" // page detached or ICE consent lost: not rung
	StateOffline     State = "offline"     // gone
)

// Seat is one browser online as one extension.
type Seat struct {
	r     *Registry
	ext   Extension
	user  string
	token string
	peer  Peer
	dev   call.Device

	mu         sync.Mutex
	conn       *Conn // the attached page; nil: detached
	detachedAt time.Time
	ice        webrtc.State
	call       *leg
	gone       bool
	avail      int // the reachability last told to Devices: -1 none yet
}

func (s *Seat) attachedTo() *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// stateLocked is the seat's state; s.mu is held.
func (s *Seat) stateLocked() State {
	switch {
	case s.gone:
		return StateOffline
	case s.call != nil && s.call.ringingIn():
		return StateRinging
	case s.call != nil:
		return StateInCall
	case s.ice == webrtc.StateConnecting && s.conn != nil:
		return StateConnecting
	case s.ice != webrtc.StateConnected || s.conn == nil:
		return StateUnavailable
	}
	return StateIdle
}

func (s *Seat) state() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stateLocked()
}

func (s *Seat) available() bool { return s.state() == StateIdle }

// reachable is what Devices is told: a seat in a call is still reachable
// (busy), one detached or without media is not.
func (s *Seat) reachableLocked() int {
	if s.gone || s.conn == nil || s.ice != webrtc.StateConnected {
		return 0
	}
	return 1
}

// updateDevice tells Devices when the seat's reachability changed.
func (s *Seat) updateDevice() {
	s.mu.Lock()
	gone, a := s.gone, s.reachableLocked()
	changed := a != s.avail
	s.avail = a
	s.mu.Unlock()
	if !changed || s.r.opts.Devices == nil {
		return
	}
	contacts := 1
	if gone {
		contacts = 0
	}
	s.r.opts.Devices.SetReachability(s.dev, contacts, a)
}

// changed tells the page and Devices about a change.
func (s *Seat) changed() {
	s.updateDevice()
	s.push(nil)
}

// push sends the page the seat's whole state; ended, when set, is shown
// as the call (a call that just ended, with its cause).
func (s *Seat) push(ended *leg) {
	s.mu.Lock()
	conn := s.conn
	msg := s.viewLocked(ended)
	s.mu.Unlock()
	if conn != nil {
		conn.send(msg)
	}
}

func (s *Seat) viewLocked(ended *leg) stateMsg {
	msg := stateMsg{Type: "seat.state", Seat: seatView{
		State: s.stateLocked(), Extension: s.ext.Number, Name: s.ext.Name,
		RingOn: s.ext.RingOn, Token: s.token,
	}}
	l := s.call
	if ended != nil {
		l = ended
	}
	if l != nil {
		v := l.view()
		msg.Call = &v
		if !s.gone {
			q := newQualityView(s.peer.Quality())
			msg.Quality = &q
		}
	}
	return msg
}

// attach makes c the seat's page.
func (s *Seat) attach(c *Conn) {
	s.mu.Lock()
	old := s.conn
	s.conn, s.detachedAt = c, time.Time{}
	s.mu.Unlock()
	if old != nil && old != c {
		old.forget(s)
	}
	c.setSeat(s)
	s.changed()
}

// detach parts the seat from c (its socket closed or fell silent): the
// seat is not rung until a page resumes it.
func (s *Seat) detach(c *Conn, now time.Time) {
	s.mu.Lock()
	if s.conn != c {
		s.mu.Unlock()
		return
	}
	s.conn, s.detachedAt = nil, now
	s.mu.Unlock()
	s.r.log.Info("seat detached", "ext", s.ext.Number, "user", s.user)
	s.changed()
}

// check is the sweep's look at the seat.
func (s *Seat) check(now time.Time, sendState bool) {
	s.mu.Lock()
	conn, detachedAt := s.conn, s.detachedAt
	s.mu.Unlock()
	switch {
	case conn != nil && now.Sub(conn.lastSeen()) > DetachAfter:
		s.detach(conn, now)
		conn.kill() // a socket that silent is dead; the page reconnects
	case conn == nil && !detachedAt.IsZero() && now.Sub(detachedAt) > GoneAfter:
		s.drop(call.CauseUnavailable, "page gone")
	case sendState && conn != nil:
		s.push(nil)
	}
}

// onMedia follows the peer's connection state (on a pion goroutine).
func (s *Seat) onMedia(st webrtc.State) {
	s.mu.Lock()
	s.ice = st
	s.mu.Unlock()
	switch st {
	case webrtc.StateFailed, webrtc.StateClosed:
		go s.drop(call.CauseFailed, "media "+st.String())
	default:
		s.changed()
	}
}

// drop takes the seat offline: its call is hung up, its peer closed.
func (s *Seat) drop(cause call.Cause, why string) {
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		return
	}
	s.gone = true
	l, conn := s.call, s.conn
	s.mu.Unlock()
	s.r.remove(s)
	if l != nil {
		l.Hangup(cause)
	}
	s.mu.Lock()
	peer := s.peer
	s.mu.Unlock()
	if peer != nil { // nil while its offer is being answered
		_ = peer.Close()
	}
	s.updateDevice()
	if conn != nil {
		s.mu.Lock()
		msg := s.viewLocked(nil)
		s.mu.Unlock()
		conn.send(msg)
		conn.forget(s)
	}
	s.r.log.Info("seat offline", "ext", s.ext.Number, "user", s.user, "why", why)
}

// ring makes the leg that rings the seat, if it can be rung.
func (s *Seat) ring(from call.Party) (*leg, error) {
	s.mu.Lock()
	if s.stateLocked() != StateIdle {
		s.mu.Unlock()
		return nil, call.ErrUnavailable
	}
	l := s.newLegLocked(true, from)
	s.mu.Unlock()
	l.events <- call.EventRinging
	s.changed()
	return l, nil
}

// dial starts a call from the seat to number.
func (s *Seat) dial(number string) error {
	m := s.r.manager()
	if m == nil {
		return errNotReady
	}
	s.mu.Lock()
	switch {
	case s.gone:
		s.mu.Unlock()
		return errSeatGone
	case s.call != nil:
		s.mu.Unlock()
		return errBusy
	case s.ice != webrtc.StateConnected:
		s.mu.Unlock()
		return errNotReady
	}
	l := s.newLegLocked(false, call.Party{Number: number})
	s.mu.Unlock()
	s.changed()
	m.Incoming(l, call.Party{Number: s.ext.Number, Name: s.ext.Name}, number, s.ext.MaxCalls)
	return nil
}

// current returns the seat's call, or errNoCall.
func (s *Seat) current() (*leg, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.call == nil {
		return nil, errNoCall
	}
	return s.call, nil
}

// legEnded forgets a finished leg and shows the page how it ended.
func (s *Seat) legEnded(l *leg) {
	s.mu.Lock()
	if s.call == l {
		s.peer.SetReceiver(nil)
		s.call = nil
	}
	s.mu.Unlock()
	_ = l.ep.Close()
	s.push(l)
	s.changed()
}
