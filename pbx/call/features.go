package call

import (
	"context"
	"strings"
	"time"
)

// FeatureCodes is the table of codes a phone dials to change its own
// settings or pick up calls ("" disables a feature). Codes marked "+ n"
// take a number after them.
type FeatureCodes struct {
	ForwardAlwaysOn, ForwardAlwaysOff     string // + n / off
	ForwardBusyOn, ForwardBusyOff         string // + n / off
	ForwardNoAnswerOn, ForwardNoAnswerOff string // + n / off
	DNDOn, DNDOff                         string
	GroupPickup                           string
	DirectedPickup                        string // + extension
}

// ForwardKind names one of an extension's forwards.
type ForwardKind uint8

// Forward kinds.
const (
	ForwardAlways ForwardKind = iota + 1
	ForwardBusy
	ForwardNoAnswer
)

func (k ForwardKind) String() string {
	switch k {
	case ForwardAlways:
		return "always"
	case ForwardBusy:
		return "busy"
	case ForwardNoAnswer:
		return "no_answer"
	}
	return "unknown"
}

// Features is where feature codes come from and what they change (the
// store, behind the appliance).
type Features interface {
	FeatureCodes() (FeatureCodes, error)
	// SetForward sets (to "" clears) one forward of an extension; an
	// invalid target is an error and changes nothing.
	SetForward(ext string, kind ForwardKind, to string) error
	SetDND(ext string, on bool) error
	// PickupGroup is the extension's pickup group ("": none).
	PickupGroup(ext string) (string, error)
}

type featureKind uint8

const (
	featForward featureKind = iota + 1
	featForwardOff
	featDND
	featDNDOff
	featGroupPickup
	featDirectedPickup
)

type featureMatch struct {
	kind featureKind
	fwd  ForwardKind
	arg  string
}

// featureCode matches a dialed number against the feature-code table. Only
// numbers starting with * or # are looked up: ordinary calls never read it.
func (m *Manager) featureCode(dialed string) (featureMatch, string, bool) {
	if m.opts.Features == nil || dialed == "" || (dialed[0] != '*' && dialed[0] != '#') {
		return featureMatch{}, "", false
	}
	fc, err := m.opts.Features.FeatureCodes()
	if err != nil {
		m.log.Warn("feature codes", "err", err)
		return featureMatch{}, "", false
	}
	rows := []struct {
		code    string
		withArg bool
		kind    featureKind
		fwd     ForwardKind
	}{
		{fc.ForwardAlwaysOn, true, featForward, ForwardAlways},
		{fc.ForwardAlwaysOff, false, featForwardOff, ForwardAlways},
		{fc.ForwardBusyOn, true, featForward, ForwardBusy},
		{fc.ForwardBusyOff, false, featForwardOff, ForwardBusy},
		{fc.ForwardNoAnswerOn, true, featForward, ForwardNoAnswer},
		{fc.ForwardNoAnswerOff, false, featForwardOff, ForwardNoAnswer},
		{fc.DNDOn, false, featDND, 0},
		{fc.DNDOff, false, featDNDOff, 0},
		{fc.GroupPickup, false, featGroupPickup, 0},
		{fc.DirectedPickup, true, featDirectedPickup, 0},
	}
	// The longest code that matches wins, so "*8" and "**" or a code and
	// its "+ n" form never shadow each other.
	best := -1
	for i, r := range rows {
		if r.code == "" {
			continue
		}
		ok := dialed == r.code
		if r.withArg {
			ok = strings.HasPrefix(dialed, r.code) && len(dialed) > len(r.code)
		}
		if ok && (best < 0 || len(r.code) > len(rows[best].code)) {
			best = i
		}
	}
	if best < 0 {
		return featureMatch{}, "", false
	}
	r := rows[best]
	return featureMatch{kind: r.kind, fwd: r.fwd}, dialed[len(r.code):], true
}

// feature runs a feature code for the caller's own extension. Settings
// codes answer, beep (or sound an error) and hang up; pickup codes hand the
// caller's leg to the ringing call.
func (c *callRun) feature(f featureMatch, arg string) {
	m := c.m
	ext := c.in.Device().ID
	var err error
	switch f.kind {
	case featGroupPickup, featDirectedPickup:
		c.pickup(f.kind, arg)
		return
	case featForward:
		err = m.opts.Features.SetForward(ext, f.fwd, arg)
	case featForwardOff:
		err = m.opts.Features.SetForward(ext, f.fwd, "")
	case featDND:
		err = m.opts.Features.SetDND(ext, true)
	case featDNDOff:
		err = m.opts.Features.SetDND(ext, false)
	}
	sound := SoundBeep
	if err != nil {
		c.log.Info("feature code refused", "ext", ext, "code", c.dialed, "err", err)
		sound = SoundError
	} else {
		c.log.Info("feature code", "ext", ext, "code", c.dialed)
	}
	if err := c.in.Answer(context.Background()); err != nil {
		c.in.Hangup(CauseFailed)
		return
	}
	c.tone(sound)
	c.in.Hangup(CauseNormal)
}

// tone plays a short sound to the caller and waits for its end (bounded).
func (c *callRun) tone(s Sound) {
	if c.m.opts.Player == nil || c.in.Media() == nil {
		return
	}
	pb := c.m.opts.Player.Play(c.in.Media(), s, false)
	defer pb.Stop()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-pb.Done():
	case <-c.in.Done():
	case <-t.C:
	}
}

// pickup hands the caller's leg to a ringing call: the one ringing the
// dialed extension (directed) or the longest ringing in the caller's
// pickup group. With nothing to pick up the caller hears unavailable.
func (c *callRun) pickup(kind featureKind, arg string) {
	m := c.m
	me := c.in.Device()
	var match func(ringInfo) bool
	if kind == featDirectedPickup {
		match = func(ri ringInfo) bool { return ri.device.ID == arg && ri.device != me }
	} else {
		group, err := m.opts.Features.PickupGroup(me.ID)
		if err != nil || group == "" {
			c.in.Hangup(CauseUnavailable)
			return
		}
		match = func(ri ringInfo) bool { return ri.group == group && ri.device != me }
	}
	target := m.ringingFor(match)
	if target == nil {
		c.in.Hangup(CauseUnavailable)
		return
	}
	ok := false
	target.do(func() {
		if rs := target.ringing; rs != nil && rs.pick == nil {
			rs.pick, rs.pickDev, ok = c.in, me, true
		}
	})
	if !ok {
		c.in.Hangup(CauseUnavailable)
		return
	}
	c.log.Info("picked up", "by", me.ID, "call", string(target.serial))
	// The leg belongs to the target call now: this run ends without
	// touching it.
}
