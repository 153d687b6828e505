package call

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// callRun is one call, owned by one goroutine (run). Other goroutines reach
// it only through ctl (callRun.do), whose functions run on the owner.
type callRun struct {
	m      *Manager
	serial Serial
	in     Channel // the caller's leg
	from   Party
	dialed string
	origin Origin // whom the call is charged to
	// refusal is why the box refused the dialed number (a BlockedError's
	// Reason), told to the caller when the call ends blocked.
	refusal string
	log     *slog.Logger

	ctl    chan func()
	exited chan struct{}

	start, answered, end time.Time
	records              []*legRecord // every leg that took part, for the CDR
	cause                Cause
	hangupBy             string

	// While ringing: what rings, for pickup and Replaces.
	ringing *ringState
	// While talking: the two parties, and how their media is joined.
	sides    [2]*side
	unbridge func()
	// over is set by a ctl function that ended the call (its other party
	// was transferred into another call).
	over bool
}

// legRecord is one leg as the CDR shows it.
type legRecord struct {
	ch       Channel
	role     string
	start    time.Time
	answered time.Time
	end      time.Time
}

// side is a party of a call being talked: its leg, what it holds of the
// device limits, and the media the box plays to it.
type side struct {
	ch      Channel
	release func() // gives back the device's call slot and in-use state, once
	held    bool   // its phone put the call on hold
	// recallUntil is set when a transfer this party asked for failed: if
	// it hangs up before then, the box rings it back rather than leave
	// the other party alone (many phones hang up on a failed transfer).
	recallUntil time.Time
	music       Playback
	dtmf        chan dtmfJob // digits to send to it, in order (nil until needed)
}

type dtmfJob struct {
	digit rune
	d     time.Duration
}

// newSide makes a party of ch, counting its device in use (the slot of its
// call limit was taken by whoever made the side, or taken here unchecked
// when take is true).
func (c *callRun) newSide(ch Channel, take bool) *side {
	m, dev := c.m, ch.Device()
	if take {
		m.take(dev, 0)
	}
	m.opts.Devices.inUse(dev, 1)
	var once sync.Once
	return &side{ch: ch, release: func() {
		once.Do(func() {
			m.opts.Devices.inUse(dev, -1)
			m.release(dev)
		})
	}}
}

func (c *callRun) record(ch Channel, role string) *legRecord {
	r := &legRecord{ch: ch, role: role, start: c.m.now()}
	c.records = append(c.records, r)
	c.m.own(ch.ID(), c)
	return r
}

func (c *callRun) recordOf(ch Channel) *legRecord {
	for _, r := range c.records {
		if r.ch == ch {
			return r
		}
	}
	return nil
}

// run carries the call from its INVITE to its end and then calls ended.
//
// Setting a call up runs deep (SIP, SDP, the dialer, the store), so the
// goroutine that did it has grown its stack to several KB; the answered
// call then lasts minutes in talk's shallow loop. Talk therefore goes on
// in a fresh goroutine whose stack starts small, and the setup goroutine
// ends: a few KB less per concurrent call.
func (c *callRun) run(callerLimit int, ended func()) {
	end := func() {
		c.m.disownAll(c)
		close(c.exited)
		ended()
	}
	if !c.setup(callerLimit) {
		end()
		return
	}
	go func() {
		cause, by := c.talk()
		c.finish(cause, by)
		c.m.metrics.active.Dec()
		end()
	}()
}

// setup runs the call until both parties are connected and reports
// whether they are; when not, the call has been finished.
func (c *callRun) setup(callerLimit int) (answered bool) {
	m := c.m
	if kind, arg, ok := m.featureCode(c.dialed); ok {
		c.feature(kind, arg)
		return false
	}
	m.metrics.active.Inc()
	defer func() {
		if !answered {
			m.metrics.active.Dec()
		}
	}()
	caller := c.in.Device()
	c.record(c.in, "caller").start = c.start
	if !m.take(caller, callerLimit) {
		c.finish(CauseCongestion, "system")
		return
	}
	a := c.newSide(c.in, false)
	c.sides[0] = a
	m.publish("call.started", c, nil)

	b, cause, by := c.connect(c.dialed, c.origin, c.in, nil, "callee")
	if b == nil {
		c.finish(cause, by)
		return
	}
	c.sides[1] = b
	if err := b.ch.Answer(context.Background()); err != nil {
		c.log.Warn("answer picked-up leg", "err", err)
		c.finish(CauseFailed, "system")
		return
	}
	if err := c.joinMedia(); err != nil {
		c.log.Error("bridge", "err", err)
		c.finish(CauseFailed, "system")
		return
	}
	if err := c.in.Answer(context.Background()); err != nil {
		c.log.Warn("answer caller", "err", err)
		c.finish(CauseFailed, "system")
		return
	}
	c.answered = m.now()
	c.recordOf(c.in).answered = c.answered
	if r := c.recordOf(b.ch); r != nil {
		r.answered = c.answered
	}
	m.publish("call.answered", c, nil)
	return true
}

// ringState is what a call rings now: pickup and Replaces look here.
type ringState struct {
	device  Device
	group   string
	since   time.Time
	legs    []Outgoing
	pick    Channel // set by a pickup or a Replaces: this leg takes the call
	pickDev Device
}

// connect routes number (following forwarding) and rings it until someone
// answers for party: the caller (tr nil) or the transferee of tr. It returns
// the answered party, or why nobody answered and who ended it.
func (c *callRun) connect(number string, origin Origin, party Channel, tr *Transfer, role string) (*side, Cause, string) {
	m := c.m
	visited := map[string]bool{}
	for hop := 0; ; hop++ {
		t, err := m.opts.Directory.Lookup(number, origin)
		if err != nil {
			cause := CauseFailed
			var blocked *BlockedError
			switch {
			case errors.Is(err, ErrNotFound):
				cause = CauseNotFound
			case errors.As(err, &blocked):
				cause = CauseBlocked
				c.refusal = blocked.Reason
				c.log.Warn("call refused", "number", number, "origin", origin, "reason", blocked.Reason)
			}
			return nil, cause, "system"
		}
		visited[number] = true
		// Every way out of this iteration but a connected side gives the
		// target back; a connected side gives it back when it leaves.
		targetDone := sync.OnceFunc(func() {
			if t.Done != nil {
				t.Done()
			}
		})
		// next follows a forward unless the chain is too long or comes
		// back: then the call stays where it got to.
		next := func(to, why string) bool {
			if to == "" {
				return false
			}
			if hop+1 >= MaxForwardHops || visited[to] {
				c.log.Warn("forwarding stopped", "at", number, "to", to, "why", why, "hops", hop+1)
				return false
			}
			c.log.Info("forwarded", "from", number, "to", to, "why", why)
			m.publish("call.forwarded", c, map[string]any{"from": number, "to": to, "reason": why})
			// The forward is the forwarding extension's doing: an outside
			// number is reached with its permissions.
			origin = Origin{Extension: number}
			number = to
			targetDone()
			return true
		}
		fwd := t.Forward
		if next(fwd.Always, "always") {
			continue
		}
		if t.DND {
			if next(fwd.Busy, "dnd") {
				continue
			}
			targetDone()
			return nil, CauseBusy, "callee"
		}
		if !m.take(t.Device, t.MaxCalls) {
			if next(fwd.Busy, "busy") {
				continue
			}
			targetDone()
			return nil, CauseBusy, "system"
		}
		timeout := m.opts.Limits.RingTimeout
		if fwd.NoAnswer != "" {
			timeout = fwd.NoAnswerAfter
			if timeout <= 0 {
				timeout = DefaultNoAnswerAfter
			}
		}
		s, cause, by := c.ringTarget(t, party, tr, role, timeout)
		if s != nil {
			release := s.release
			s.release = func() { release(); targetDone() }
			return s, CauseNormal, ""
		}
		m.release(t.Device)
		targetDone()
		switch cause {
		case CauseBusy, CauseRejected:
			if next(fwd.Busy, "busy") {
				continue
			}
		case CauseNoAnswer, CauseUnavailable:
			if next(fwd.NoAnswer, "no_answer") {
				continue
			}
		}
		return nil, cause, by
	}
}

// ringTarget dials one target's device and rings it. The target's call
// slot is taken by the caller; on success it belongs to the returned side.
func (c *callRun) ringTarget(t Target, party Channel, tr *Transfer, role string, timeout time.Duration) (*side, Cause, string) {
	m := c.m
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	from := c.from
	if t.Caller != nil {
		from = *t.Caller
	}
	legs, err := m.opts.Dialer.Dial(ctx, t, from, party)
	if err != nil || len(legs) == 0 {
		cause := CauseUnavailable
		if err != nil && !errors.Is(err, ErrUnavailable) {
			cause = CauseFailed
			c.log.Warn("dial failed", "device", t.Device, "err", err)
		}
		return nil, cause, "system"
	}
	for _, l := range legs {
		c.record(l, role)
	}
	c.ringing = &ringState{device: t.Device, group: t.PickupGroup, since: m.now(), legs: legs}
	m.setRinging(c, c.ringing)
	// The target rings, and so does every other device among its legs (an
	// extension's browser seat rings beside its desk phones).
	ringingDevs := []Device{t.Device}
	for _, l := range legs {
		if d := l.Device(); !slices.Contains(ringingDevs, d) {
			ringingDevs = append(ringingDevs, d)
		}
	}
	for _, d := range ringingDevs {
		m.opts.Devices.ringing(d, 1)
	}
	winner, cause, by := c.ring(legs, party, tr, timeout)
	for _, d := range ringingDevs {
		m.opts.Devices.ringing(d, -1)
	}
	m.setRinging(c, nil)
	rs := c.ringing
	c.ringing = nil
	if winner == nil {
		return nil, cause, by
	}
	if rs.pick != nil {
		// Picked up: the picker's device takes the slot the target held.
		m.release(t.Device)
		m.take(rs.pickDev, 0)
		c.record(rs.pick, "pickup")
		m.publish("call.picked_up", c, map[string]any{"by": rs.pickDev.ID, "ringing": t.Device.ID})
	} else if d := winner.Device(); d != t.Device {
		// Another of the target's devices answered (its seat): the slot
		// moves there, so the side releases what it holds.
		m.release(t.Device)
		m.take(d, 0)
	}
	return c.newSide(winner, false), CauseNormal, ""
}

// ring waits for one leg to answer (or a pickup), the party to give up,
// every leg to fail, or the timeout. For a caller it relays ringing and
// early media; for a transfer it reports progress.
func (c *callRun) ring(legs []Outgoing, party Channel, tr *Transfer, timeout time.Duration) (Channel, Cause, string) {
	m := c.m
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	events := make(chan legEvent, 8)
	stop := make(chan struct{})
	defer close(stop)
	for _, leg := range legs {
		go forward(leg, events, stop)
	}
	var unbridgeEarly func()
	defer func() {
		if unbridgeEarly != nil {
			unbridgeEarly()
		}
	}()
	hangupLegs := func(cause Cause, except Channel) {
		for _, leg := range legs {
			if Channel(leg) != except {
				leg.Hangup(cause)
			}
		}
	}
	progressed, setupSeen := false, false
	failed := map[Outgoing]Cause{}
	for {
		select {
		case <-party.Done():
			hangupLegs(CauseCancelled, nil)
			if tr != nil {
				return nil, CauseCancelled, "transferee"
			}
			return nil, CauseCancelled, "caller"
		case <-timer.C:
			hangupLegs(CauseNoAnswer, nil)
			return nil, CauseNoAnswer, "system"
		case f := <-c.ctl:
			f()
			if p := c.ringing.pick; p != nil {
				hangupLegs(CauseAnsweredElsewhere, nil)
				return p, CauseNormal, ""
			}
		case ev := <-events:
			if !setupSeen && ev.kind != EventUnknown && tr == nil {
				setupSeen = true
				m.metrics.setup.Observe(m.now().Sub(c.start).Seconds())
			}
			switch ev.kind {
			case EventRinging:
				if !progressed {
					progressed = true
					if tr != nil {
						tr.report(TransferRinging, CauseUnknown)
						continue
					}
					if err := c.in.Progress(false); err != nil {
						c.log.Debug("progress to caller", "err", err)
					}
					m.publish("call.ringing", c, nil)
				}
			case EventEarlyMedia:
				if tr == nil && unbridgeEarly == nil {
					if u, err := m.opts.Bridger.Bridge(c.in, ev.leg); err == nil {
						unbridgeEarly = u
						if err := c.in.Progress(true); err != nil {
							c.log.Debug("early media to caller", "err", err)
						}
						progressed = true
					}
				}
			case EventAnswered:
				hangupLegs(CauseAnsweredElsewhere, ev.leg)
				return ev.leg, CauseNormal, ""
			case EventUnknown: // the leg ended
				failed[ev.leg] = ev.leg.Cause()
				if len(failed) == len(legs) {
					return nil, worstFailure(failed), "callee"
				}
			}
		}
	}
}

// report tells a transfer's requester how it goes, if it listens.
func (t *Transfer) report(s TransferState, cause Cause) {
	if t != nil && t.Progress != nil {
		t.Progress(s, cause)
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

// finish ends every party still up, writes the CDR (durable before the end
// is published) and publishes call.ended.
func (c *callRun) finish(cause Cause, by string) {
	m := c.m
	c.stopMedia()
	if c.m.ownerOf(c.in.ID()) == c {
		// Not when the caller's leg went on in another call (an attended
		// transfer handed it over) or left this one (transferred away).
		if r, ok := c.in.(Refuser); ok && cause == CauseBlocked && c.refusal != "" {
			r.Refuse(cause, c.refusal)
		} else {
			c.in.Hangup(cause)
		}
	}
	for _, s := range c.sides {
		if s != nil {
			s.ch.Hangup(cause)
			s.release()
		}
	}
	c.end = m.now()
	c.cause, c.hangupBy = cause, by
	cdr := c.cdr()
	if m.opts.Records != nil {
		if err := m.opts.Records.AddCDR(cdr); err != nil {
			c.log.Error("write CDR", "err", err)
		}
	}
	m.metrics.total.WithLabelValues(cdr.Result).Inc()
	m.publish("call.ended", c, map[string]any{"result": cdr.Result, "cause": cdr.Cause, "hangup_by": by})
	c.log.Info("call ended", "result", cdr.Result, "cause", cdr.Cause)
}
