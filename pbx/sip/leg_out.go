package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/sdp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
)

// outLeg is a leg we dial: a client dialog to one contact of an extension,
// or to a carrier through a trunk.
type outLeg struct {
	legState
	dev     call.Device
	ext     Extension
	binding Binding
	creds   digestCreds // answer a carrier's challenge to the INVITE
	key     string
	events  chan call.EventKind
	// responses are the INVITE's responses when it went over UDP without
	// a transaction (sendInvite); strayResponse delivers them.
	responses chan *sip.Response

	// heard is set at the first response of any kind; status is the final
	// failure status (0: none came). A trunk's failover reads both.
	heard    atomic.Bool
	progress atomic.Bool // 180 or 183 came: too late to fail over
	status   atomic.Int32

	cancel   context.CancelFunc // stops ringing (sends CANCEL)
	mu2      sync.Mutex
	answered bool
	dlg      *dialog    // set once answered
	wanted   call.Cause // the cause Hangup asked for before the answer

	seInterval time.Duration // the agreed session timer (0: none)
}

// Dial rings every available contact of a SIP device (call.Dialer). The
// offer puts the caller's codec first, so the legs match without
// transcoding when the callee accepts it.
func (c *Calls) Dial(ctx context.Context, t call.Target, from call.Party, offerFrom call.Channel) ([]call.Outgoing, error) {
	d, to := t.Device, t.Party
	if d.Kind == call.DevicePSTN {
		return c.dialPSTN(t, from, offerFrom)
	}
	if d.Kind != call.DeviceSIP {
		return nil, fmt.Errorf("sip: cannot dial a %s device", d.Kind)
	}
	ext := Extension(d.ID)
	bindings := c.srv.Lookup(ext)
	if len(bindings) == 0 {
		return nil, call.ErrUnavailable
	}
	info, err := c.dir.CallerInfo(ext)
	if err != nil {
		return nil, call.ErrUnavailable
	}
	codecs := codecsOf(info)
	mode := info.DTMFMode
	if offerFrom != nil {
		if first := codec.FromName(offerFrom.Codec(), codec.ClockRate); first != codec.Unknown {
			codecs = preferFirst(codecs, first)
		}
	}
	var legs []call.Outgoing
	var errs []error
	for _, b := range bindings {
		l, err := c.dialOne(ext, b, from, to, codecs, mode)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		legs = append(legs, l)
	}
	if len(legs) == 0 {
		c.log.Debug("dial", "ext", string(ext), "err", errors.Join(errs...))
		return nil, call.ErrUnavailable
	}
	return legs, nil
}

// preferFirst moves first to the front of cs, adding it if missing: an
// extension limited to one codec still gets offered only that one.
func preferFirst(cs []codec.Codec, first codec.Codec) []codec.Codec {
	found := false
	out := []codec.Codec{first}
	for _, c := range cs {
		if c == first {
			found = true
			continue
		}
		out = append(out, c)
	}
	if !found {
		return cs
	}
	return out
}

func (c *Calls) dialOne(ext Extension, b Binding, from, to call.Party, codecs []codec.Codec, mode call.DTMFMode) (*outLeg, error) {
	var uri sip.Uri
	if err := sip.ParseUri(b.Contact, &uri); err != nil {
		return nil, fmt.Errorf("contact %q: %w", b.Contact, err)
	}
	return c.dial(outSpec{
		dev: call.Device{Kind: call.DeviceSIP, ID: string(ext)}, ext: ext, binding: b, uri: uri,
		from: from, to: to, fromHost: c.srv.cfg.Realm, toHost: c.srv.cfg.Realm,
		codecs: codecs, mode: mode,
	})
}

// outSpec is an INVITE the box sends: to a phone's contact or, through a
// trunk, to a carrier.
type outSpec struct {
	dev              call.Device // what the leg is, for the call layer
	ext              Extension   // the extension rung ("" through a trunk)
	binding          Binding     // where it goes (Source) and over what
	uri              sip.Uri     // the Request-URI
	from, to         call.Party
	fromHost, toHost string
	pai              bool // also P-Asserted-Identity with the caller (carriers read it)
	codecs           []codec.Codec
	mode             call.DTMFMode
	// creds answer a carrier's 401/407 to the INVITE.
	creds digestCreds
}

// dial builds and sends an INVITE from spec and returns its leg, ringing.
func (c *Calls) dial(spec outSpec) (*outLeg, error) {
	b := spec.binding
	snd, err := c.dialogSender(b.Transport)
	if err != nil {
		return nil, err
	}
	ep, err := c.pool.Allocate()
	if err != nil {
		return nil, err
	}
	peer := addrOf(b.Source)
	l := &outLeg{
		legState: newLegState(c, c.nextID("out-"), ep, spec.mode, c.contact(peer, b.Transport)),
		dev:      spec.dev,
		ext:      spec.ext,
		binding:  b,
		creds:    spec.creds,
		events:   make(chan call.EventKind, 4),
	}
	l.side = l
	l.local = sdp.Local{Addr: c.advertise(peer, b.Transport), Port: int(ep.LocalAddr().Port()), Codecs: spec.codecs,
		TelephoneEvent: telephoneEvent(c.cfg, spec.mode)}
	l.ourSDP = l.origin.Marshal(sdp.Offer(l.local))
	l.listenDTMF()

	from, to := spec.from, spec.to
	req := sip.NewRequest(sip.INVITE, spec.uri)
	req.SetBody(l.ourSDP)
	req.AppendHeader(sdpHeader())
	fromHdr := &sip.FromHeader{DisplayName: from.Name,
		Address: sip.Uri{Scheme: "sip", User: from.Number, Host: spec.fromHost}, Params: sip.NewParams()}
	tag := sip.GenerateTagN(16)
	fromHdr.Params.Add("tag", tag)
	req.AppendHeader(fromHdr)
	req.AppendHeader(&sip.ToHeader{DisplayName: to.Name, Address: sip.Uri{Scheme: "sip", User: to.Number, Host: spec.toHost}})
	if spec.pai && from.Number != "" {
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+from.Number+"@"+spec.fromHost+">"))
	}
	req.AppendHeader(l.contact)
	req.AppendHeader(sip.NewHeader("User-Agent", c.srv.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", c.allow()))
	req.AppendHeader(sip.NewHeader("Supported", supported))
	req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(int(c.cfg.SessionExpires/time.Second))))
	req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(c.cfg.MinSE/time.Second))))
	callID := sip.CallIDHeader(sip.GenerateTagN(32))
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.SetDestination(b.Source)
	req.SetTransport(b.Transport.String())
	l.key = dialogKey(string(callID), tag)
	if b.Transport == TransportUDP {
		l.responses = make(chan *sip.Response, 8)
	}

	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	// The INVITE is sent from the leg's own goroutine, which lives only
	// until the answer: the SIP stack's send path is deep, and a stack
	// grown on the call's owner goroutine would stay grown for the whole
	// call (a goroutine's stack shrinks only at a GC, and a call's media
	// path allocates nothing, so none comes).
	sent := make(chan error, 1)
	go l.run(ctx, snd, req, sent)
	if err := <-sent; err != nil {
		cancel()
		ep.Close()
		return nil, fmt.Errorf("INVITE %s at %s: %w", spec.uri.User, b.Source, err)
	}
	return l, nil
}

// invite registers the leg for its responses and in-dialog requests and
// sends the INVITE.
func (l *outLeg) invite(ctx context.Context, snd *sender, req *sip.Request) (sip.ClientTransaction, error) {
	l.c.legs.Store(l.key, l)
	tx, err := l.sendInvite(ctx, snd, req)
	if err != nil {
		l.c.legs.Delete(l.key)
		return nil, err
	}
	return tx, nil
}

// sendInvite sends an INVITE: over TCP and TLS in a sipgo client
// transaction; over UDP without one (tx is nil), the leg retransmitting it
// and acknowledging a failure itself (RFC 3261 §17.1.1), its responses
// arriving as stray ones. sipgo keeps an INVITE client transaction
// reachable 32 s after the 2xx (Timer M is not stopped when it ends), with
// the INVITE and the 2xx: the larger part of what a call held after its
// answer. A failure response repeated because its ACK was lost is
// acknowledged again by Calls (ackFailure), the leg ended or not.
func (l *outLeg) sendInvite(ctx context.Context, snd *sender, req *sip.Request) (sip.ClientTransaction, error) {
	if l.responses != nil {
		return nil, snd.write(req)
	}
	return snd.transaction(ctx, req)
}

func (l *outLeg) Device() call.Device           { return l.dev }
func (l *outLeg) Address() string               { return l.binding.Source }
func (l *outLeg) Events() <-chan call.EventKind { return l.events }
func (l *outLeg) Progress(bool) error           { return nil }
func (l *outLeg) Answer(context.Context) error  { return nil }

func (l *outLeg) emit(k call.EventKind) {
	select {
	case l.events <- k:
	default: // the call layer only needs the first of each kind
	}
}

// run sends the INVITE (its outcome to sent), waits for the callee's
// answer, relaying progress, and once answered returns: the dialog's later
// requests come through the handlers, and no goroutine stays parked for
// the length of the call.
func (l *outLeg) run(ctx context.Context, snd *sender, req *sip.Request, sent chan<- error) {
	tx, err := l.invite(ctx, snd, req)
	if err != nil {
		sent <- err
		return
	}
	sent <- nil
	res, req, tx, err := l.waitAnswer(ctx, snd, tx, req)
	if err != nil {
		cause := call.CauseFailed
		var se *statusError
		switch {
		case errors.As(err, &se):
			l.status.Store(int32(se.code))
			cause = causeFromStatus(se.code)
		case ctx.Err() != nil:
			l.mu2.Lock()
			cause = l.wanted
			l.mu2.Unlock()
		}
		l.end(cause)
		return
	}
	d := uacDialog(snd, req, res, l.contact)
	if s, err := sdp.Parse(res.Body()); err == nil {
		if cd, err := applyRemote(l.ep, s); err == nil {
			l.setCodec(cd)
		}
	}
	if err := d.ack(); err != nil {
		l.c.log.Debug("ACK", "err", err)
	}
	// A lost ACK is the dialog's to repeat, on the 2xx's retransmission
	// (strayResponse), not the transaction's: ended now, it would keep the
	// INVITE and its 2xx 32 s longer (RFC 6026 §7.2).
	if tx != nil {
		tx.Terminate()
	}
	l.mu2.Lock()
	l.answered = true
	l.dlg = d
	hungUp := l.wanted != call.CauseUnknown
	l.mu2.Unlock()
	if hungUp {
		// Hung up while the 200 was on its way: end the dialog it made.
		l.bye()
		l.end(l.wanted)
		return
	}
	l.ep.SetTimeout(l.c.cfg.MediaTimeout, func() { go l.Hangup(call.CauseMediaTimeout) })
	l.startSessionTimer(res)
	l.emit(call.EventAnswered)
}

// maxChallenges is how many 401/407s to one INVITE are answered: a second
// one may ask again with a fresh nonce (stale=true).
const maxChallenges = 2

// waitAnswer waits for the INVITE's final response, relaying 180 and 183,
// and answers a carrier's challenge with a new INVITE. It returns the 2xx
// with the INVITE it answers and that INVITE's transaction (nil over UDP);
// a failure status as a *statusError.
func (l *outLeg) waitAnswer(ctx context.Context, snd *sender, tx sip.ClientTransaction, req *sip.Request) (*sip.Response, *sip.Request, sip.ClientTransaction, error) {
	w := newInviteWait(tx, l.responses)
	defer func() { w.stop() }()
	early := false
	challenges := 0
	for {
		select {
		case res := <-w.responses:
			if res.CSeq() == nil || res.CSeq().SeqNo != req.CSeq().SeqNo {
				continue // to an INVITE answered before (a challenged one)
			}
			l.heard.Store(true)
			w.heard()
			switch {
			case res.IsProvisional():
				l.onProgress(res, &early)
				continue
			case res.IsSuccess():
				return res, req, tx, nil
			}
			if tx == nil {
				l.c.ackFailure(snd, req, res)
			}
			if l.creds.Password != "" && challenges < maxChallenges &&
				(res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) {
				if next, err := answerChallenge(req, res, l.creds); err == nil {
					challenges++
					if tx != nil {
						tx.Terminate()
					}
					req = next
					var err error
					if tx, err = l.sendInvite(ctx, snd, req); err != nil {
						return nil, req, nil, err
					}
					w.stop()
					w = newInviteWait(tx, l.responses)
					continue
				}
			}
			// Over TCP and TLS the transaction has acknowledged the
			// failure and stays to do it again should the response be
			// repeated (Timer D); over UDP ackFailure sent it above
			// and keeps it for the repeats.
			return nil, req, tx, &statusError{code: res.StatusCode}
		case <-w.resend():
			if err := snd.write(req); err != nil {
				l.c.log.Debug("INVITE again", "err", err)
			}
			w.resent()
		case <-w.timedOut():
			return nil, req, tx, errNoResponse
		case <-w.done:
			return nil, req, tx, errors.Join(errNoResponse, tx.Err())
		case <-ctx.Done():
			l.cancelInvite(snd, tx, req, w)
			return nil, req, tx, ctx.Err()
		}
	}
}

// inviteWait is what an INVITE's answer is waited on: its transaction's
// responses and end, or over UDP (no transaction) the leg's responses and
// the timers of RFC 3261 §17.1.1.2: the INVITE again after T1, 2×T1, 4×T1…
// until a response, and no answer at all after 64×T1 (Timer B).
type inviteWait struct {
	responses <-chan *sip.Response
	done      <-chan struct{} // the transaction's end (nil over UDP)
	interval  time.Duration
	retry     *time.Timer // nil once a response came
	giveUp    *time.Timer
}

func newInviteWait(tx sip.ClientTransaction, udp chan *sip.Response) *inviteWait {
	if tx != nil {
		return &inviteWait{responses: tx.Responses(), done: tx.Done()}
	}
	return &inviteWait{responses: udp, interval: sip.T1,
		retry: time.NewTimer(sip.T1), giveUp: time.NewTimer(64 * sip.T1)}
}

func (w *inviteWait) resend() <-chan time.Time {
	if w.retry == nil {
		return nil
	}
	return w.retry.C
}

func (w *inviteWait) timedOut() <-chan time.Time {
	if w.giveUp == nil {
		return nil
	}
	return w.giveUp.C
}

func (w *inviteWait) resent() {
	w.interval *= 2
	w.retry.Reset(w.interval)
}

// heard stops both timers: after a response the callee's side keeps the
// INVITE, and ringing has no time limit here (the call layer's).
func (w *inviteWait) heard() { w.stop() }

func (w *inviteWait) stop() {
	if w.retry != nil {
		w.retry.Stop()
		w.retry = nil
	}
	if w.giveUp != nil {
		w.giveUp.Stop()
		w.giveUp = nil
	}
}

// onProgress relays a provisional response: 180 as ringing, the first 183
// with SDP as early media.
func (l *outLeg) onProgress(res *sip.Response, early *bool) {
	switch {
	case res.StatusCode == sip.StatusRinging:
		l.progress.Store(true)
		l.emit(call.EventRinging)
	case res.StatusCode == sip.StatusSessionInProgress && len(res.Body()) > 0 && !*early:
		if s, err := sdp.Parse(res.Body()); err == nil {
			if cd, err := applyRemote(l.ep, s); err == nil {
				l.setCodec(cd)
				*early = true
				l.progress.Store(true)
				l.emit(call.EventEarlyMedia)
			}
		}
	}
}

// cancelInvite stops a ringing INVITE (RFC 3261 §9.1): CANCEL once a
// provisional response came (none may be sent before), then the INVITE's
// final response, 64×T1 at most. A 2xx that crossed the CANCEL made a
// dialog, which is acknowledged and ended at once.
func (l *outLeg) cancelInvite(snd *sender, tx sip.ClientTransaction, req *sip.Request, w *inviteWait) {
	if tx != nil {
		defer tx.Terminate()
	}
	timeout := time.NewTimer(64 * sip.T1)
	defer timeout.Stop()
	final := func(res *sip.Response) {
		switch {
		case res.IsSuccess():
			d := uacDialog(snd, req, res, l.contact)
			if err := d.ack(); err != nil {
				l.c.log.Debug("ACK", "err", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := d.bye(ctx); err != nil {
				l.c.log.Debug("BYE after CANCEL", "err", err)
			}
		case tx == nil:
			l.c.ackFailure(snd, req, res)
		}
	}
	// next is the INVITE's next response, nil when none comes in time.
	next := func() *sip.Response {
		for {
			select {
			case res := <-w.responses:
				if res.CSeq() == nil || res.CSeq().SeqNo != req.CSeq().SeqNo {
					continue
				}
				return res
			case <-w.resend():
				if err := snd.write(req); err != nil {
					l.c.log.Debug("INVITE again", "err", err)
				}
				w.resent()
			case <-w.done:
				return nil
			case <-timeout.C:
				return nil
			}
		}
	}
	if !l.heard.Load() {
		res := next()
		if res == nil {
			return
		}
		w.heard()
		if !res.IsProvisional() {
			final(res)
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res, err := snd.transact(ctx, hopByHop(req, sip.CANCEL, req.To())); err != nil || !res.IsSuccess() {
		l.c.log.Debug("CANCEL", "err", err)
	}
	for {
		res := next()
		if res == nil {
			return
		}
		if !res.IsProvisional() {
			final(res)
			return
		}
	}
}

// hopByHop is a request of an INVITE's transaction (RFC 3261 §9.1,
// §17.1.1.3): its CANCEL, with the INVITE's To, or the ACK of a failure
// response, with the response's To. Both take the INVITE's Request-URI,
// top Via (its branch), From, Call-ID, CSeq number and Route, and go where
// it went.
func hopByHop(inv *sip.Request, method sip.RequestMethod, to *sip.ToHeader) *sip.Request {
	req := sip.NewRequest(method, inv.Recipient)
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(to))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	sip.CopyHeaders("Route", inv, req)
	req.SetBody(nil)
	req.SetDestination(inv.Destination())
	req.SetTransport(inv.Transport())
	req.SetSource(inv.Source())
	req.Laddr = inv.Laddr
	return req
}

func (l *outLeg) end(cause call.Cause) {
	if l.finish(cause) {
		l.c.legs.Delete(l.key)
		l.cancel()
	}
}

// dialog is the leg's dialog, nil until answered.
func (l *outLeg) dialog() *dialog {
	l.mu2.Lock()
	defer l.mu2.Unlock()
	return l.dlg
}

func (l *outLeg) bye() {
	d := l.dialog()
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.bye(ctx); err != nil {
		l.c.log.Debug("BYE to callee", "err", err)
	}
}

// Hangup cancels a ringing leg or sends BYE to an answered one.
func (l *outLeg) Hangup(cause call.Cause) {
	if l.ended() {
		return
	}
	l.mu2.Lock()
	answered := l.answered
	if l.wanted == call.CauseUnknown {
		l.wanted = cause
	}
	l.mu2.Unlock()
	if answered {
		// Ended first, so the BYE's own end of the dialog does not count
		// as the callee hanging up.
		l.end(cause)
		l.bye()
		return
	}
	// WaitAnswer sends CANCEL and run ends the leg with the wanted cause.
	l.cancel()
}

// onAck takes the ACK of a re-INVITE the callee sent, which may carry the
// answer to our offer.
func (l *outLeg) onAck(req *sip.Request) { l.ackAnswer(req.Body()) }

func (l *outLeg) onBye(req *sip.Request, tx sip.ServerTransaction) {
	l.c.srv.Respond(tx, req, sip.StatusOK, "OK")
	l.end(call.CauseNormal)
}

// startSessionTimer runs the timer the callee's 200 OK agreed to (RFC 4028
// §7.2): when it names us (refresher=uac) we refresh with UPDATE, if the
// callee allows it; when it names itself we end the leg if it stops.
func (l *outLeg) startSessionTimer(res *sip.Response) {
	se, refresher := sessionExpires(res)
	if se <= 0 {
		return
	}
	weRefresh := refresher == "uac"
	if weRefresh && !hasToken(res, "Allow", "UPDATE") {
		return // nothing we could refresh with; the RTP timeout still applies
	}
	l.mu2.Lock()
	l.seInterval = se
	d := l.dlg
	l.mu2.Unlock()
	l.setTimer(startSessionTimer(se, weRefresh,
		func(ctx context.Context) error {
			return sendUpdate(ctx, d.do, *d.target.Clone(), l.contact, se)
		},
		func() { l.Hangup(call.CauseSessionExpired) }))
}

func (l *outLeg) interval() time.Duration {
	l.mu2.Lock()
	defer l.mu2.Unlock()
	return l.seInterval
}

func (l *outLeg) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	l.refreshed()
	l.c.answerReinvite(&l.legState, req, tx, refreshAnswer(l.interval())...)
}

func (l *outLeg) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	l.refreshed()
	l.c.answerUpdate(&l.legState, req, tx, refreshAnswer(l.interval())...)
}

func (l *outLeg) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	d := l.dialog()
	if d == nil {
		return nil, errLegEnded
	}
	return d.do(ctx, req)
}

// remoteTarget is the callee's Contact from its 200 (our requests before
// the answer would have no To tag to go by).
func (l *outLeg) remoteTarget() (sip.Uri, bool) {
	d := l.dialog()
	if d == nil {
		return sip.Uri{}, false
	}
	return *d.target.Clone(), true
}
