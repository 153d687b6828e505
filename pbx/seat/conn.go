package seat

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
)

// maxNumberLen bounds a dialed or transfer number (E.164 is 15 digits;
// room for prefixes and feature codes).
const maxNumberLen = 32

// Conn is one WebSocket's side of the seat protocol (docs/events.md,
// "Browser seats"). The socket calls Handle for each seat.* message and
// Close when it ends; the Conn answers through send.
type Conn struct {
	r    *Registry
	user string
	addr string
	out  func(v any) bool // queues a message to the page; false: the socket is gone
	stop func()           // closes the socket

	last atomic.Int64 // when the page last spoke, unix nanoseconds

	mu   sync.Mutex
	seat *Seat
}

// Connect starts the seat protocol on a signed-in user's socket from addr.
// send queues a message (it must not block); kill closes the socket.
func (r *Registry) Connect(user, addr string, send func(v any) bool, kill func()) *Conn {
	c := &Conn{r: r, user: user, addr: addr, out: send, stop: kill}
	c.last.Store(r.opts.Now().UnixNano())
	return c
}

func (c *Conn) send(v any) {
	if !c.out(v) {
		c.kill()
	}
}

func (c *Conn) kill() { c.stop() }

func (c *Conn) lastSeen() time.Time { return time.Unix(0, c.last.Load()) }

func (c *Conn) setSeat(s *Seat) {
	c.mu.Lock()
	c.seat = s
	c.mu.Unlock()
}

// forget parts the Conn from s (s went offline or another page took it).
func (c *Conn) forget(s *Seat) {
	c.mu.Lock()
	if c.seat == s {
		c.seat = nil
	}
	c.mu.Unlock()
}

func (c *Conn) current() *Seat {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seat
}

// Close is called when the socket has ended: the seat is detached (it
// waits GoneAfter for a resume).
func (c *Conn) Close() {
	if s := c.current(); s != nil {
		s.detach(c, c.r.opts.Now())
	}
}

// request is any message of the protocol from the page.
type request struct {
	Type      string            `json:"type"`
	ID        string            `json:"id,omitempty"`
	SDP       string            `json:"sdp,omitempty"`
	Extension string            `json:"extension,omitempty"`
	Candidate *webrtc.Candidate `json:"candidate,omitempty"`
	Token     string            `json:"token,omitempty"`
	Number    string            `json:"number,omitempty"`
	Target    string            `json:"target,omitempty"`
	RingOn    string            `json:"ring_on,omitempty"`
}

// Handle takes one seat.* message from the page.
func (c *Conn) Handle(raw []byte) {
	c.last.Store(c.r.opts.Now().UnixNano())
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		c.reply("", &protoError{Code: "bad_request", Message: "the message is not valid JSON"})
		return
	}
	var err error
	switch req.Type {
	case "seat.ping":
		c.send(simpleMsg{Type: "seat.pong"})
		return
	case "seat.online":
		err = c.online(req)
	case "seat.resume":
		err = c.resume(req.Token)
	case "seat.candidate":
		err = c.withSeat(func(s *Seat) error {
			if req.Candidate == nil {
				return &protoError{Code: "bad_request", Message: "candidate is missing"}
			}
			if err := s.peer.AddCandidate(*req.Candidate); err != nil {
				return &protoError{Code: "media", Message: "bad ICE candidate: " + err.Error()}
			}
			return nil
		})
	case "seat.offline":
		err = c.withSeat(func(s *Seat) error { s.drop(call.CauseNormal, "went offline"); return nil })
	case "seat.dial":
		err = c.withSeat(func(s *Seat) error {
			if err := checkNumber("number", req.Number); err != nil {
				return err
			}
			return s.dial(req.Number)
		})
	case "seat.answer_call":
		err = c.withCall(func(l *leg) error { return l.pageAnswer() })
	case "seat.hangup":
		err = c.withCall(func(l *leg) error { l.pageHangup(); return nil })
	case "seat.hold", "seat.retrieve":
		err = c.withCall(func(l *leg) error { return l.hold(req.Type == "seat.hold") })
	case "seat.transfer":
		err = c.withCall(func(l *leg) error {
			if err := checkNumber("target", req.Target); err != nil {
				return err
			}
			return l.transfer(req.Target)
		})
	case "seat.ring_on":
		err = c.withSeat(func(s *Seat) error { return s.setRingOn(req.RingOn, c.user) })
	default:
		err = &protoError{Code: "bad_request", Message: "unknown message type " + strconv.Quote(req.Type)}
	}
	c.reply(req.ID, err)
}

func (c *Conn) withSeat(f func(*Seat) error) error {
	s := c.current()
	if s == nil {
		return errNotOnline
	}
	return f(s)
}

func (c *Conn) withCall(f func(*leg) error) error {
	return c.withSeat(func(s *Seat) error {
		l, err := s.current()
		if err != nil {
			return err
		}
		return f(l)
	})
}

// reply answers a request that carried an id, and reports every error.
func (c *Conn) reply(id string, err error) {
	if id == "" && err == nil {
		return
	}
	msg := resultMsg{Type: "seat.result", ID: id, OK: err == nil}
	if err != nil {
		var pe *protoError
		if !errors.As(err, &pe) {
			c.r.log.Warn("seat request failed", "user", c.user, "err", err)
			pe = &protoError{Code: "failed", Message: "the request failed"}
		}
		msg.Error = pe
	}
	c.send(msg)
}

// online starts a seat for one of the user's extensions.
func (c *Conn) online(req request) error {
	if c.current() != nil {
		return &protoError{Code: "bad_request", Message: "this page is already online"}
	}
	if !strings.Contains(req.SDP, "m=audio") {
		return &protoError{Code: "bad_request", Message: "sdp must be an offer with an audio stream"}
	}
	exts, err := c.r.opts.Directory.Owned(c.user)
	if err != nil {
		return err
	}
	var ext *Extension
	for i := range exts {
		if req.Extension == "" || exts[i].Number == req.Extension {
			ext = &exts[i]
			break
		}
	}
	if ext == nil {
		if req.Extension != "" {
			return &protoError{Code: "no_extension", Message: "extension " + req.Extension + " is not yours"}
		}
		return errNoExtension
	}
	s := &Seat{r: c.r, ext: *ext, user: c.user, token: newToken(), avail: -1, ice: webrtc.StateConnecting,
		dev: call.Device{Kind: call.DeviceSeat, ID: ext.Number}}
	old, err := c.r.add(s)
	if err != nil {
		return err
	}
	if old != nil {
		old.drop(call.CauseUnavailable, "replaced by a new page")
	}
	peer, answer, err := c.r.opts.Media.Answer(req.SDP, s.onMedia)
	if err != nil {
		c.r.remove(s)
		return &protoError{Code: "media", Message: "cannot answer the offer: " + err.Error()}
	}
	s.mu.Lock()
	if s.gone {
		// Replaced by another window (this seat had no page yet) or the
		// registry closed while the offer was being answered: drop saw no
		// peer to close, so the one just made is closed here.
		s.mu.Unlock()
		_ = peer.Close()
		return errSeatGone
	}
	s.peer = peer
	s.mu.Unlock()
	c.send(answerMsg{Type: "seat.answer", SDP: answer})
	c.r.log.Info("seat online", "ext", ext.Number, "user", c.user, "addr", c.addr)
	s.attach(c)
	return nil
}

// resume re-attaches a seat after the page reconnected.
func (c *Conn) resume(token string) error {
	s := c.r.byTokenOf(token)
	if s == nil || s.user != c.user {
		return errSeatGone
	}
	if cur := c.current(); cur != nil && cur != s {
		return &protoError{Code: "bad_request", Message: "this page is online with another seat"}
	}
	s.attach(c)
	c.r.log.Info("seat resumed", "ext", s.ext.Number, "user", c.user)
	return nil
}

// setRingOn stores where the seat's extension's calls ring.
func (s *Seat) setRingOn(ringOn, user string) error {
	if err := s.r.opts.Directory.SetRingOn(s.ext.Number, ringOn, user); err != nil {
		var pe *protoError
		if errors.As(err, &pe) {
			return err
		}
		return &protoError{Code: "bad_request", Message: "ring_on: " + err.Error()}
	}
	s.mu.Lock()
	s.ext.RingOn = ringOn
	s.mu.Unlock()
	s.push(nil)
	return nil
}

// checkNumber accepts what a keypad can dial: digits, * and #, and a
// leading + for an outside number.
func checkNumber(field, n string) error {
	bad := n == "" || len(n) > maxNumberLen
	for i, r := range n {
		if !(r >= '0' && r <= '9' || r == '*' || r == '#' || r == '+' && i == 0) {
			bad = true
		}
	}
	if bad {
		return &protoError{Code: "bad_number", Message: field + " must be 1-32 of 0-9 * # (a leading + allowed)"}
	}
	return nil
}
