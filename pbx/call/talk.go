package call

import (
	"context"
	"time"
)

// transferGrace is how long a transferor's leg is left up after its
// transfer completed, for its phone to hang up by itself (most do, on the
// final NOTIFY) before the box sends the BYE.
const transferGrace = 2 * time.Second

// talk runs an answered call until it ends: hold and retrieve, digits,
// transfers, and requests from other calls (Replaces, attended transfers).
func (c *callRun) talk() (Cause, string) {
	for {
		a, b := c.sides[0], c.sides[1]
		select {
		case <-a.ch.Done():
			if !c.recall(0) {
				return c.partyLeft(0)
			}
		case <-b.ch.Done():
			if !c.recall(1) {
				return c.partyLeft(1)
			}
		case s := <-a.ch.Signals():
			c.signal(0, s)
		case s := <-b.ch.Signals():
			c.signal(1, s)
		case f := <-c.ctl:
			f()
		}
		if c.over {
			return c.cause, c.hangupBy
		}
	}
}

// recallWindow is how long after a failed transfer the transferor's
// hang-up makes the box ring it back.
const recallWindow = 10 * time.Second

// recall rings back side i, which hung up after a transfer it asked for
// failed, while the other party hears ring-back; it reports false when
// there is nothing to recall. When nobody answers, the call ends.
func (c *callRun) recall(i int) bool {
	x, y := c.sides[i], c.other(i)
	if x.recallUntil.IsZero() || c.m.now().After(x.recallUntil) {
		return false
	}
	select {
	case <-y.ch.Done():
		return false
	default:
	}
	c.log.Info("transfer recall", "to", x.ch.Device().ID)
	c.stopMedia()
	c.leave(x, x.ch.Cause(), 0)
	c.playTo(y, SoundRingback, true)
	n, cause, by := c.connect(x.ch.Device().ID, originOf(x.ch), y.ch, &Transfer{Target: x.ch.Device().ID}, "recall")
	stopMusic(y)
	if n == nil {
		c.over, c.cause, c.hangupBy = true, cause, by
		return true
	}
	if err := n.ch.Answer(context.Background()); err != nil {
		c.log.Warn("answer recall", "err", err)
	}
	if r := c.recordOf(n.ch); r != nil {
		r.answered = c.m.now()
	}
	c.sides[i] = n
	if err := c.joinMedia(); err != nil {
		c.over, c.cause, c.hangupBy = true, CauseFailed, "system"
	}
	return true
}

// partyLeft ends the call because side i hung up (or failed).
func (c *callRun) partyLeft(i int) (Cause, string) {
	ch := c.sides[i].ch
	by := "callee"
	if r := c.recordOf(ch); ch == c.in || r != nil && r.role == "caller" {
		by = "caller"
	}
	return ch.Cause(), by
}

func (c *callRun) other(i int) *side { return c.sides[1-i] }

func (c *callRun) signal(i int, s Signal) {
	x, y := c.sides[i], c.other(i)
	switch s.Kind {
	case SignalHold:
		if !x.held {
			x.held = true
			c.m.publish("call.held", c, map[string]any{"by": x.ch.Device().ID})
			c.joinMedia()
		}
	case SignalRetrieve:
		if x.held {
			x.held = false
			c.m.publish("call.retrieved", c, map[string]any{"by": x.ch.Device().ID})
			c.joinMedia()
		}
	case SignalDTMF:
		c.m.publish("call.dtmf", c, map[string]any{"digit": string(s.Digit), "by": x.ch.Device().ID})
		if c.unbridge != nil && !nativeDTMF(x.ch, y.ch) {
			c.sendDTMF(y, s.Digit, s.Duration)
		}
	case SignalTransfer:
		if s.Transfer == nil {
			return
		}
		if s.Transfer.Replaces != "" {
			c.attendedTransfer(i, s.Transfer)
		} else {
			c.blindTransfer(i, s.Transfer)
		}
	}
}

// nativeDTMF reports whether the RTP relay carries x's digits to y by
// itself: both use RFC 4733 and both negotiated telephone-event, or both
// are in-band (the tones are in the audio it relays).
func nativeDTMF(x, y Channel) bool {
	if x.DTMFMode() == DTMFInband && y.DTMFMode() == DTMFInband {
		return true
	}
	if x.DTMFMode() != DTMFRFC4733 || y.DTMFMode() != DTMFRFC4733 {
		return false
	}
	ex, ey := x.Media(), y.Media()
	if ex == nil || ey == nil {
		return false
	}
	_, okx := ex.DTMFPayloadType()
	_, oky := ey.DTMFPayloadType()
	return okx && oky
}

// sendDTMF queues a digit for s's leg: sending takes the digit's length,
// and the call's owner must not wait for it.
func (c *callRun) sendDTMF(s *side, digit rune, d time.Duration) {
	if s.dtmf == nil {
		s.dtmf = make(chan dtmfJob, 32)
		ch, q := s.ch, s.dtmf
		go func() {
			for {
				select {
				case j := <-q:
					if err := ch.SendDTMF(j.digit, j.d); err != nil {
						c.log.Debug("send DTMF", "err", err)
					}
				case <-ch.Done():
					return
				}
			}
		}()
	}
	select {
	case s.dtmf <- dtmfJob{digit, d}:
	default: // a phone that sends digits faster than they play loses some
	}
}

// joinMedia sets up media from the parties' hold states: bridged when
// neither holds, else each held party hears music and nothing of the other.
func (c *callRun) joinMedia() error {
	a, b := c.sides[0], c.sides[1]
	if !a.held && !b.held {
		stopMusic(a)
		stopMusic(b)
		if c.unbridge == nil {
			u, err := c.m.opts.Bridger.Bridge(a.ch, b.ch)
			if err != nil {
				return err
			}
			c.unbridge = u
		}
		return nil
	}
	c.unbridgeMedia()
	for _, s := range []*side{a, b} {
		if c.other(c.index(s)).held && !s.held {
			c.playTo(s, SoundHold, true)
		} else {
			stopMusic(s)
		}
	}
	return nil
}

func (c *callRun) index(s *side) int {
	if c.sides[0] == s {
		return 0
	}
	return 1
}

func (c *callRun) unbridgeMedia() {
	if c.unbridge != nil {
		c.unbridge()
		c.unbridge = nil
	}
}

// playTo plays a sound to a party unless it already hears it.
func (c *callRun) playTo(s *side, what Sound, loop bool) {
	if s.music != nil {
		return
	}
	if c.m.opts.Player == nil || s.ch.Media() == nil {
		return
	}
	s.music = c.m.opts.Player.Play(s.ch.Media(), what, loop)
}

func stopMusic(s *side) {
	if s != nil && s.music != nil {
		s.music.Stop()
		s.music = nil
	}
}

// stopMedia parts the parties and stops whatever plays to them.
func (c *callRun) stopMedia() {
	c.unbridgeMedia()
	for _, s := range c.sides {
		stopMusic(s)
	}
}

// leave takes a party out of the call: its slot is given back, and its leg
// hung up after grace (a transferor's phone hangs up by itself).
func (c *callRun) leave(s *side, cause Cause, grace time.Duration) {
	s.release()
	stopMusic(s)
	if r := c.recordOf(s.ch); r != nil {
		r.end = c.m.now()
	}
	c.m.own(s.ch.ID(), nil)
	ch := s.ch
	if grace <= 0 {
		ch.Hangup(cause)
		return
	}
	go func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-ch.Done():
		case <-t.C:
			ch.Hangup(cause)
		}
	}()
}

// blindTransfer connects the other party of side i to tr.Target; the
// requester leaves once the target answers. On failure the call goes on
// as it was (the requester retrieves it), or ends if the requester has
// already hung up.
func (c *callRun) blindTransfer(i int, tr *Transfer) {
	x, y := c.sides[i], c.other(i)
	tr.report(TransferTrying, CauseUnknown)
	c.log.Info("blind transfer", "by", x.ch.Device().ID, "to", tr.Target)
	c.stopMedia()
	c.playTo(y, SoundRingback, true)
	// Charged to the transferor: its permissions decide whether an
	// outside number may be reached.
	n, cause, _ := c.connect(tr.Target, originOf(x.ch), y.ch, tr, "transfer_target")
	stopMusic(y)
	select {
	case <-y.ch.Done():
		// The transferee hung up while the target rang.
		if n != nil {
			n.ch.Hangup(CauseCancelled)
			n.release()
		}
		tr.report(TransferDone, CauseCancelled)
		c.over, c.cause, c.hangupBy = true, y.ch.Cause(), "transferee"
		return
	default:
	}
	if n == nil {
		tr.report(TransferDone, cause)
		c.log.Info("transfer failed", "to", tr.Target, "cause", cause)
		x.recallUntil = c.m.now().Add(recallWindow)
		select {
		case <-x.ch.Done():
			c.recall(i)
		default:
			c.joinMedia()
		}
		return
	}
	if err := n.ch.Answer(context.Background()); err != nil {
		c.log.Warn("answer transfer target", "err", err)
	}
	if r := c.recordOf(n.ch); r != nil {
		r.answered = c.m.now()
	}
	tr.report(TransferDone, CauseNormal)
	c.sides[i] = n
	c.leave(x, CauseTransferred, transferGrace)
	c.m.publish("call.transferred", c, map[string]any{"by": x.ch.Device().ID, "to": tr.Target, "kind": "blind"})
	if err := c.joinMedia(); err != nil {
		c.over, c.cause, c.hangupBy = true, CauseFailed, "system"
	}
}

// attendedTransfer joins the other party of side i with the party the
// requester talks to in another call (the leg tr.Replaces): that call hands
// its party over and ends; this call keeps its serial.
func (c *callRun) attendedTransfer(i int, tr *Transfer) {
	x := c.sides[i]
	other := c.m.ownerOf(tr.Replaces)
	var z *side
	if other != nil && other != c {
		other.do(func() { z = other.giveAway(tr.Replaces, c.serial) })
	}
	if z == nil {
		c.log.Info("attended transfer failed: the consultation call is not answered", "replaces", tr.Replaces)
		tr.report(TransferDone, CauseUnavailable)
		return
	}
	tr.report(TransferDone, CauseNormal)
	c.stopMedia()
	c.sides[i] = z
	r := c.record(z.ch, "transfer_target")
	r.answered = c.m.now()
	c.leave(x, CauseTransferred, transferGrace)
	c.m.publish("call.transferred", c, map[string]any{"by": x.ch.Device().ID, "to": z.ch.Device().ID, "kind": "attended"})
	if err := c.joinMedia(); err != nil {
		c.over, c.cause, c.hangupBy = true, CauseFailed, "system"
	}
}

// giveAway hands the party that talks to leg id over to the call into,
// ending this call (an attended transfer). It runs on c's owner; nil when
// c is not talking or id is not one of its parties.
func (c *callRun) giveAway(id ChannelID, into Serial) *side {
	if c.sides[0] == nil || c.sides[1] == nil || c.answered.IsZero() || c.over {
		return nil
	}
	i := -1
	for k, s := range c.sides {
		if s.ch.ID() == id {
			i = k
		}
	}
	if i < 0 {
		return nil
	}
	x, z := c.sides[i], c.other(i)
	c.stopMedia()
	z.held = false
	if r := c.recordOf(z.ch); r != nil {
		r.end = c.m.now()
	}
	c.m.own(z.ch.ID(), nil)
	c.sides[1-i] = nil
	c.leave(x, CauseTransferred, transferGrace)
	c.sides[i] = nil
	c.over, c.cause, c.hangupBy = true, CauseTransferred, "transfer"
	c.m.publish("call.transferred", c, map[string]any{"into": into, "kind": "attended"})
	return z
}

// replace puts in (an INVITE with Replaces) in the place of leg id: a
// ringing leg (the phone picks the call up) or, unless earlyOnly, a party
// of the answered call. It runs on c's owner.
func (c *callRun) replace(in Channel, id ChannelID, earlyOnly bool) bool {
	if rs := c.ringing; rs != nil {
		for _, l := range rs.legs {
			if l.ID() == id && rs.pick == nil {
				rs.pick, rs.pickDev = in, in.Device()
				return true
			}
		}
		return false
	}
	if earlyOnly || c.sides[0] == nil || c.sides[1] == nil || c.answered.IsZero() || c.over {
		return false
	}
	for i, s := range c.sides {
		if s.ch.ID() != id {
			continue
		}
		if err := in.Answer(context.Background()); err != nil {
			c.log.Warn("answer replacing leg", "err", err)
			return false
		}
		c.stopMedia()
		n := c.newSide(in, true)
		c.record(in, "replaces").answered = c.m.now()
		c.sides[i] = n
		c.leave(s, CauseTransferred, 0)
		c.m.publish("call.transferred", c, map[string]any{"by": in.Device().ID, "kind": "replaces"})
		if err := c.joinMedia(); err != nil {
			c.over, c.cause, c.hangupBy = true, CauseFailed, "system"
		}
		return true
	}
	return false
}
