package sip

import (
	"errors"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
)

// TrunkRouter decides where a carrier's call goes: the appliance's DIDs,
// inbound default and inbound blacklist behind it.
type TrunkRouter interface {
	// Inbound returns the box's number the call reaches, or the status
	// (and reason phrase) to refuse it with: a blacklisted caller, a DID
	// that is nobody's. It is called before the call costs anything.
	Inbound(trunk, caller, called string) (dest string, status int, reason string)
}

// onTrunkInvite takes an INVITE a trunk's carrier sent.
func (c *Calls) onTrunkInvite(req *sip.Request, tx sip.ServerTransaction, trunks *Trunks, router TrunkRouter, name string) {
	mgr := c.manager()
	cfg, ok := trunks.Config(name)
	if mgr == nil || !ok {
		c.srv.Respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if c.tooShortSession(req, tx) {
		return
	}
	caller, called := CallerNumber(req, cfg), CalledNumber(req, cfg)
	dest, status, reason := router.Inbound(name, caller, called)
	if status != 0 {
		c.srv.Respond(tx, req, status, reason)
		return
	}
	tc, err := trunks.BeginCall(name, TrunkInbound)
	if err != nil {
		if errors.Is(err, ErrTrunkFull) {
			c.srv.Respond(tx, req, sip.StatusBusyHere, "Busy Here")
		} else {
			c.srv.Respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		}
		return
	}
	in, code, phrase := c.newInLeg(req, tx, "", CallerInfo{Codecs: cfg.Codecs, DTMFMode: cfg.DTMFMode})
	if in == nil {
		tc.End(false, call.CauseFailed)
		c.srv.Respond(tx, req, code, phrase)
		return
	}
	// A carrier's leg is the outside caller's: device pstn:<number>.
	in.dev = call.Device{Kind: call.DevicePSTN, ID: caller}
	from := call.Party{Number: caller}
	if f := req.From(); f != nil {
		from.Name = f.DisplayName
	}
	c.log.Info("call from trunk", "trunk", name, "caller", caller, "called", called, "to", dest)
	go func() {
		<-in.Done()
		tc.End(in.isAnswered(), in.Cause())
	}()
	mgr.IncomingFromTrunk(in, from, dest, name)
	in.waitSettled()
}
