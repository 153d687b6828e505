package sip

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
)

// Transfers (RFC 3515 REFER, RFC 3891 Replaces). The leg only reports: a
// REFER becomes a call.SignalTransfer, an INVITE with Replaces goes to
// CallManager.Replace; the call layer decides and tells the transferor how
// it went through Transfer.Progress, which we turn into NOTIFYs.

// errBadReplaces is returned for a Replaces value without a Call-ID or tags.
var errBadReplaces = errors.New("sip: bad Replaces")

// errBadReferTo is returned for a Refer-To that is not a SIP address.
var errBadReferTo = errors.New("sip: bad Refer-To")

// dialogID names a dialog as a Replaces header does (RFC 3891 §6.1).
type dialogID struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

// parseReplaces reads "call-id;to-tag=X;from-tag=Y[;early-only]".
func parseReplaces(v string) (dialogID, error) {
	parts := strings.Split(v, ";")
	id := dialogID{callID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to-tag":
			id.toTag = strings.TrimSpace(val)
		case "from-tag":
			id.fromTag = strings.TrimSpace(val)
		case "early-only":
			id.earlyOnly = true
		}
	}
	if id.callID == "" || id.toTag == "" || id.fromTag == "" {
		return dialogID{}, errBadReplaces
	}
	return id, nil
}

// findDialog finds our leg of a dialog named from the other side. Our tag
// is the one the legs map is keyed by; which of the two it is depends on
// who describes the dialog (the transferor names its own dialog with us,
// so our tag is its to-tag; a phone picking up may name it either way):
// the to-tag is tried first.
func (c *Calls) findDialog(id dialogID) leg {
	for _, tag := range []string{id.toTag, id.fromTag} {
		if v, ok := c.legs.Load(dialogKey(id.callID, tag)); ok {
			return v.(leg)
		}
	}
	return nil
}

// referTo is a parsed Refer-To header.
type referTo struct {
	target   string    // the user part: the number to transfer to
	replaces *dialogID // set for an attended transfer
}

// maxReferTo bounds the Refer-To header read.
const maxReferTo = 2048

// parseReferTo reads a Refer-To value: a name-addr ("Name <sip:1003@host
// ?Replaces=...>") or an addr-spec ("sip:1003@host"). The URI's embedded
// Replaces header (escaped, RFC 3891 §7) makes it an attended transfer.
func parseReferTo(v string) (referTo, error) {
	var r referTo
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxReferTo {
		return r, errBadReferTo
	}
	uri := v
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return r, errBadReferTo
		}
		uri = v[i+1 : i+j]
	} else if k := strings.IndexByte(v, ';'); k >= 0 {
		// An addr-spec's parameters belong to the header, not the URI.
		uri = v[:k]
	}
	uri, headers, _ := strings.Cut(strings.TrimSpace(uri), "?")
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || !(strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips") || strings.EqualFold(scheme, "tel")) {
		return r, errBadReferTo
	}
	user := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user = rest[:at]
	} else if !strings.EqualFold(scheme, "tel") {
		user = "" // sip:host names no one
	}
	user, _, _ = strings.Cut(user, ";") // user parameters (";phone-context=...")
	user, _, _ = strings.Cut(user, ":") // a password, deprecated
	if u, err := url.PathUnescape(user); err == nil {
		user = u
	}
	r.target = user
	for _, h := range strings.Split(headers, "&") {
		k, val, _ := strings.Cut(h, "=")
		if !strings.EqualFold(k, "Replaces") {
			continue
		}
		val, err := url.QueryUnescape(val)
		if err != nil {
			return r, errBadReferTo
		}
		id, err := parseReplaces(val)
		if err != nil {
			return r, err
		}
		r.replaces = &id
	}
	if r.target == "" && r.replaces == nil {
		return r, errBadReferTo
	}
	return r, nil
}

// onRefer takes a REFER in a call's dialog, from either leg.
func (c *Calls) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	l := c.findLeg(req)
	if l == nil {
		c.noDialog(req, tx)
		return
	}
	s := l.base()
	h := req.GetHeader("Refer-To")
	if h == nil {
		h = req.GetHeader("r") // compact form (RFC 3515 §2.1)
	}
	if h == nil {
		c.srv.Respond(tx, req, sip.StatusBadRequest, "Missing Refer-To")
		return
	}
	rt, err := parseReferTo(h.Value())
	if err != nil {
		c.srv.Respond(tx, req, sip.StatusBadRequest, "Bad Refer-To")
		return
	}
	tr := &call.Transfer{Target: rt.target}
	if rt.replaces != nil {
		other := c.findDialog(*rt.replaces)
		if other == nil {
			c.srv.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, "No Such Dialog")
			return
		}
		tr.Replaces = other.base().id
	}
	// Refer-Sub: false (RFC 4488) asks for no implicit subscription.
	noSub := false
	if rs := req.GetHeader("Refer-Sub"); rs != nil && strings.EqualFold(strings.TrimSpace(rs.Value()), "false") {
		noSub = true
	}
	if noSub {
		c.srv.Respond(tx, req, sip.StatusAccepted, "Accepted", s.contact, sip.NewHeader("Refer-Sub", "false"))
		tr.Progress = func(call.TransferState, call.Cause) {}
	} else {
		c.srv.Respond(tx, req, sip.StatusAccepted, "Accepted", s.contact)
		n := newReferNotifier(s, req.CSeq().SeqNo)
		n.enqueue(notifyMsg{frag: "SIP/2.0 100 Trying"})
		tr.Progress = n.progress
	}
	s.signal(call.Signal{Kind: call.SignalTransfer, Transfer: tr})
}

// notifyMsg is one NOTIFY of a transfer's progress.
type notifyMsg struct {
	frag  string // the sipfrag's status line
	final bool   // ends the subscription
}

// referSubExpires is the implicit subscription's lifetime: a transfer not
// done by then gets a final NOTIFY saying so.
const referSubExpires = 60 * time.Second

// referNotifier sends one REFER's NOTIFYs in order, from one goroutine
// that lives as long as the transfer: Progress (called from the call's
// owner) only queues, so it never waits for the transferor's phone.
type referNotifier struct {
	s  *legState
	id uint32 // the REFER's CSeq, the Event id (RFC 3515 §2.4.6)

	mu      sync.Mutex
	q       chan notifyMsg
	final   bool // the final NOTIFY was queued
	started bool
}

// notifyQueue bounds a transfer's pending NOTIFYs (it has at most three).
const notifyQueue = 4

func newReferNotifier(s *legState, id uint32) *referNotifier {
	return &referNotifier{s: s, id: id, q: make(chan notifyMsg, notifyQueue)}
}

// progress is the Transfer's Progress: it maps the call layer's states to
// sipfrags.
func (n *referNotifier) progress(state call.TransferState, cause call.Cause) {
	switch state {
	case call.TransferTrying:
		n.enqueue(notifyMsg{frag: "SIP/2.0 100 Trying"})
	case call.TransferRinging:
		n.enqueue(notifyMsg{frag: "SIP/2.0 180 Ringing"})
	case call.TransferDone:
		if cause == call.CauseNormal {
			n.enqueue(notifyMsg{frag: "SIP/2.0 200 OK", final: true})
			return
		}
		code, reason := statusFor(cause)
		n.enqueue(notifyMsg{frag: "SIP/2.0 " + strconv.Itoa(code) + " " + reason, final: true})
	}
}

// enqueue queues a NOTIFY (dropped when the queue is full, or after the
// final one) and starts the sender with the first.
func (n *referNotifier) enqueue(m notifyMsg) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.final {
		return
	}
	select {
	case n.q <- m:
	default:
		if !m.final {
			return // a provisional state the transferor can do without
		}
		// The final state must get through: it replaces the oldest.
		select {
		case <-n.q:
		default:
		}
		n.q <- m
	}
	n.final = m.final
	if !n.started {
		n.started = true
		go n.run()
	}
}

// run sends the queued NOTIFYs until the final one, the leg's end or the
// subscription's expiry.
func (n *referNotifier) run() {
	expire := time.NewTimer(referSubExpires)
	defer expire.Stop()
	for {
		select {
		case m := <-n.q:
			n.send(m)
			if m.final {
				return
			}
		case <-n.s.done:
			return
		case <-expire.C:
			n.mu.Lock()
			n.final = true
			n.mu.Unlock()
			n.send(notifyMsg{frag: "SIP/2.0 408 Request Timeout", final: true})
			return
		}
	}
}

// send sends one NOTIFY in the REFER's dialog.
func (n *referNotifier) send(m notifyMsg) {
	s := n.s
	target, ok := s.side.remoteTarget()
	if !ok || s.ended() {
		return
	}
	req := sip.NewRequest(sip.NOTIFY, target)
	req.AppendHeader(s.contact)
	req.AppendHeader(sip.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(n.id), 10)))
	state := "active;expires=" + strconv.Itoa(int(referSubExpires/time.Second))
	if m.final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(m.frag + "\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.side.do(ctx, req); err != nil {
		s.c.log.Debug("transfer NOTIFY", "leg", string(s.id), "err", err)
	}
}
