package seat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ccbox/ccbox/media/dtmf"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
)

// Call states as the page shows them.
const (
	callDialing = "dialing" // the seat called out; nothing heard back yet
	callRinging = "ringing" // it rings: the seat's own call, or a call to the seat
	callEarly   = "early"   // the far end sends early media (its own ring-back)
	callTalking = "talking"
	callHeld    = "held" // the seat holds the call
	callEnded   = "ended"
)

// maxDTMFDuration bounds a digit the call layer asks to send.
const maxDTMFDuration = 5 * time.Second

var errLegEnded = errors.New("seat: leg ended")

// leg is one call's channel on a seat: a call.Channel, and a call.Outgoing
// when the seat is rung. Its media is a virtual endpoint on the seat's
// peer.
type leg struct {
	s      *Seat
	id     call.ChannelID
	in     bool // the seat is rung (the leg is an Outgoing of the caller's call)
	remote call.Party
	ep     *rtp.Endpoint
	format webrtc.Format

	signals chan call.Signal
	events  chan call.EventKind
	done    chan struct{}
	sendMu  chan struct{} // serializes SendDTMF

	rx dtmf.Receiver // touched only by the peer's receive goroutine

	mu       sync.Mutex
	state    string
	cause    call.Cause
	reason   string // why the box refused the call (call.Refuser)
	started  time.Time
	answered time.Time
}

// newLegLocked makes the seat's call leg and bridges its endpoint onto the
// peer; s.mu is held.
func (s *Seat) newLegLocked(in bool, remote call.Party) *leg {
	f := s.peer.Format()
	l := &leg{
		s: s, id: s.r.legID(), in: in, remote: remote, format: f,
		signals: make(chan call.Signal, 8),
		events:  make(chan call.EventKind, 4),
		done:    make(chan struct{}),
		sendMu:  make(chan struct{}, 1),
		state:   callDialing,
		started: s.r.opts.Now(),
	}
	if in {
		l.state = callRinging
	}
	l.ep = s.r.opts.Pool.Virtual(s.peer.WriteRTP)
	l.ep.SetCodec(f.Codec, f.DTMF, f.HasDTMF)
	l.ep.OnEvent(l.onEvent)
	s.peer.SetReceiver(l.ep.Receive)
	s.call = l
	return l
}

func (l *leg) ID() call.ChannelID            { return l.id }
func (l *leg) Device() call.Device           { return l.s.dev }
func (l *leg) Media() *rtp.Endpoint          { return l.ep }
func (l *leg) Done() <-chan struct{}         { return l.done }
func (l *leg) Signals() <-chan call.Signal   { return l.signals }
func (l *leg) Events() <-chan call.EventKind { return l.events }
func (l *leg) DTMFMode() call.DTMFMode       { return call.DTMFRFC4733 }
func (l *leg) Codec() string                 { return l.format.Codec.String() }

// Address is the page's address, for the CDR.
func (l *leg) Address() string {
	if c := l.s.attachedTo(); c != nil {
		return "webrtc:" + c.addr
	}
	return "webrtc:"
}

func (l *leg) Cause() call.Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

func (l *leg) ringingIn() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.in && l.state == callRinging
}

func (l *leg) view() callView {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := callView{ID: string(l.id), Direction: "out", State: l.state, Remote: l.remote, Started: l.started.UnixMilli()}
	if l.in {
		v.Direction = "in"
	}
	if !l.answered.IsZero() {
		v.Answered = l.answered.UnixMilli()
	}
	if l.state == callEnded {
		v.Cause, v.Reason = l.cause.String(), l.reason
	}
	return v
}

// setState changes the state unless the leg has ended, and tells the page.
func (l *leg) setState(from []string, to string) bool {
	l.mu.Lock()
	ok := false
	for _, f := range from {
		if l.state == f {
			ok = true
		}
	}
	if ok {
		l.state = to
		if to == callTalking && l.answered.IsZero() {
			l.answered = l.s.r.opts.Now()
		}
	}
	l.mu.Unlock()
	if ok {
		l.s.push(nil)
	}
	return ok
}

// Progress shows the seat that its call rings (early: with the far end's
// audio, so the page plays no ring-back of its own).
func (l *leg) Progress(early bool) error {
	to := callRinging
	if early {
		to = callEarly
	}
	l.setState([]string{callDialing, callRinging}, to)
	return nil
}

// Answer: the callee answered the seat's call. On a leg that rings the
// seat the page has answered already (the call layer answers every leg it
// connects): nothing to do unless it has ended.
func (l *leg) Answer(context.Context) error {
	if l.in {
		select {
		case <-l.done:
			return errLegEnded
		default:
			return nil
		}
	}
	if !l.setState([]string{callDialing, callRinging, callEarly}, callTalking) {
		return errLegEnded
	}
	return nil
}

// Hangup ends the leg (the call layer's side).
func (l *leg) Hangup(cause call.Cause) { l.finish(cause) }

// Refuse ends a call the box refused; the page shows why.
func (l *leg) Refuse(cause call.Cause, reason string) {
	l.mu.Lock()
	l.reason = reason
	l.mu.Unlock()
	l.finish(cause)
}

// finish ends the leg once, with cause.
func (l *leg) finish(cause call.Cause) bool {
	l.mu.Lock()
	if l.state == callEnded {
		l.mu.Unlock()
		return false
	}
	l.state, l.cause = callEnded, cause
	l.mu.Unlock()
	close(l.done)
	l.s.legEnded(l)
	return true
}

// pageAnswer: the user answered the ringing seat.
func (l *leg) pageAnswer() error {
	if !l.in || !l.setState([]string{callRinging}, callTalking) {
		return errNoCall
	}
	l.events <- call.EventAnswered
	return nil
}

// pageHangup: the user hung up, declined or gave up dialing.
func (l *leg) pageHangup() {
	l.mu.Lock()
	state := l.state
	l.mu.Unlock()
	cause := call.CauseNormal
	switch {
	case state == callRinging && l.in:
		cause = call.CauseRejected
	case state == callDialing || state == callRinging || state == callEarly:
		cause = call.CauseCancelled
	}
	l.finish(cause)
}

// hold and retrieve: the user held or took back the call.
func (l *leg) hold(on bool) error {
	from, to, sig := callTalking, callHeld, call.SignalHold
	if !on {
		from, to, sig = callHeld, callTalking, call.SignalRetrieve
	}
	if !l.setState([]string{from}, to) {
		return errNoCall
	}
	l.signal(call.Signal{Kind: sig})
	return nil
}

// transfer asks the call layer to transfer the other party to target;
// progress goes to the page.
func (l *leg) transfer(target string) error {
	l.mu.Lock()
	st := l.state
	l.mu.Unlock()
	if st != callTalking && st != callHeld {
		return errNoCall
	}
	s := l.s
	l.signal(call.Signal{Kind: call.SignalTransfer, Transfer: &call.Transfer{
		Target: target,
		Progress: func(state call.TransferState, cause call.Cause) {
			msg := transferMsg{Type: "seat.transfer", State: transferStateName(state, cause)}
			if state == call.TransferDone && cause != call.CauseNormal {
				msg.Cause = cause.String()
			}
			if c := s.attachedTo(); c != nil {
				c.send(msg)
			}
		},
	}})
	return nil
}

func transferStateName(st call.TransferState, cause call.Cause) string {
	switch st {
	case call.TransferTrying:
		return "trying"
	case call.TransferRinging:
		return "ringing"
	}
	if cause == call.CauseNormal {
		return "done"
	}
	return "failed"
}

func (l *leg) signal(sig call.Signal) {
	select {
	case l.signals <- sig:
	default:
	}
}

// onEvent takes one telephone-event packet from the page (its dialpad),
// on the peer's receive goroutine.
func (l *leg) onEvent(pkt *rtp.Packet) {
	if ev, ok := l.rx.Packet(pkt.Payload(), pkt.Timestamp); ok {
		l.signal(call.Signal{Kind: call.SignalDTMF, Digit: ev.Digit, Duration: ev.Duration})
	}
}

// SendDTMF plays a digit to the page as RFC 4733 events (browsers always
// negotiate telephone-event; without it the digit cannot be sent).
func (l *leg) SendDTMF(digit rune, d time.Duration) error {
	if _, ok := dtmf.Code(digit); !ok {
		return fmt.Errorf("seat: %q: %w", digit, dtmf.ErrBadDigit)
	}
	if d <= 0 {
		d = call.DefaultDTMFDuration
	}
	d = min(d, maxDTMFDuration)
	pt, ok := l.ep.DTMFPayloadType()
	if !ok {
		return errNoTelephoneEvent
	}
	pkts, err := dtmf.EventPackets(digit, d, pt)
	if err != nil {
		return err
	}
	select {
	case l.sendMu <- struct{}{}:
	case <-l.done:
		return errLegEnded
	}
	defer func() { <-l.sendMu }()
	// Muted meanwhile: one timestamp for the whole event (RFC 4733).
	l.ep.MuteRelay(true)
	defer l.ep.MuteRelay(false)
	err = dtmf.Pace(pkts, l.ep.Send, l.done)
	if errors.Is(err, dtmf.ErrStopped) {
		return errLegEnded
	}
	return err
}

var errNoTelephoneEvent = errors.New("seat: the browser negotiated no telephone-event")
