package sip

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/sdp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
)

// inLeg is the caller's leg: a server dialog from an INVITE.
type inLeg struct {
	legState
	ext  Extension
	dev  call.Device // set for a carrier's leg; else the extension's sip device
	dlg  *dialog
	key  string
	peer string

	// invite and its transaction tx are what the INVITE's responses are
	// built from and sent in, until the 2xx has its ACK (guarded by mu).
	invite *sip.Request
	tx     sip.ServerTransaction

	// lateOffer is set when the INVITE had no offer: ourSDP (sent in 183
	// and 200) is then our offer, and the answer comes in the ACK.
	lateOffer bool

	// The session timer agreed in the 200 OK: interval (0: none) and who
	// refreshes, as RFC 4028 names the roles of the INVITE ("uac" is the
	// caller, "uas" us).
	seInterval  time.Duration
	seRefresher string

	answered chan struct{} // closed once 200 OK is being sent
	ansOnce  sync.Once
	// confirmed is closed once the 200 OK has been acknowledged (or given
	// up on): the INVITE transaction has its final response.
	confirmed chan struct{}
	confOnce  sync.Once
	// acked is closed by the 2xx's ACK.
	acked   chan struct{}
	ackOnce sync.Once
	// byeReceived is set when the caller sent BYE.
	byeReceived atomic.Bool
}

// newInLeg accepts the INVITE's media and builds the leg; on failure it
// returns the status to answer.
func (c *Calls) newInLeg(req *sip.Request, tx sip.ServerTransaction, ext Extension, info CallerInfo) (*inLeg, int, string) {
	t := transportOf(req)
	snd, err := c.dialogSender(t)
	if err != nil {
		return nil, sip.StatusServiceUnavailable, "Service Unavailable"
	}
	var offer *sdp.Session
	if len(req.Body()) > 0 {
		if offer, err = sdp.Parse(req.Body()); err != nil {
			return nil, sip.StatusBadRequest, "Bad SDP"
		}
	}
	ep, err := c.pool.Allocate()
	if err != nil {
		c.log.Warn("no RTP port for a call", "err", err)
		return nil, sip.StatusServiceUnavailable, "Service Unavailable"
	}
	peer := peerAddr(req)
	l := &inLeg{
		legState:  newLegState(c, c.nextID("in-"), ep, info.DTMFMode, c.contact(peer, t)),
		ext:       ext,
		peer:      req.Source(),
		answered:  make(chan struct{}),
		confirmed: make(chan struct{}),
		acked:     make(chan struct{}),
	}
	l.side = l
	l.local = sdp.Local{Addr: c.advertise(peer, t), Port: int(ep.LocalAddr().Port()), Codecs: codecsOf(info),
		TelephoneEvent: telephoneEvent(c.cfg, info.DTMFMode)}
	if offer != nil {
		ans, err := sdp.Answer(offer, l.local)
		if err == nil {
			var cd = ans.Media[ans.Audio()]
			if c0, ok := cd.Codec(); ok {
				dtmf, has := cd.TelephoneEvent()
				ep.SetRemote(offer.Addr(offer.Audio()))
				ep.SetCodec(c0, dtmf, has)
				l.setCodec(c0)
			}
			l.ourSDP = l.origin.Marshal(ans)
		} else {
			ep.Close()
			if errors.Is(err, sdp.ErrNoCommonCodec) || errors.Is(err, sdp.ErrNoAudio) {
				return nil, sip.StatusNotAcceptableHere, "Not Acceptable Here"
			}
			return nil, sip.StatusBadRequest, "Bad SDP"
		}
	} else {
		l.lateOffer = true
		l.ourSDP = l.origin.Marshal(sdp.Offer(l.local))
	}
	l.seInterval, l.seRefresher = c.negotiateInbound(req)
	tag := sip.GenerateTagN(16)
	l.invite, l.tx = req, tx
	l.dlg = uasDialog(snd, req, tag, l.contact)
	l.key = dialogKey(req.CallID().Value(), tag)
	// A CANCEL (the transaction answers it, and the INVITE 487), or the
	// transaction's end before our final response, ends the leg. The
	// callbacks run inside the transaction: the leg ends on its own
	// goroutine.
	canceled := func() {
		if !l.isAnswered() {
			go l.dialogEnded()
		}
	}
	if !tx.OnCancel(func(*sip.Request) { canceled() }) || !tx.OnTerminate(func(string, error) { canceled() }) {
		ep.Close()
		return nil, sip.StatusRequestTerminated, "Request Terminated"
	}
	l.listenDTMF()
	c.legs.Store(l.key, l)
	c.legs.Store(inviteKey(req), l)
	ep.SetTimeout(c.cfg.MediaTimeout, func() { go l.Hangup(call.CauseMediaTimeout) })
	return l, 0, ""
}

func (l *inLeg) Device() call.Device {
	if l.dev.Kind != "" {
		return l.dev
	}
	return call.Device{Kind: call.DeviceSIP, ID: string(l.ext)}
}
func (l *inLeg) Address() string { return l.peer }

// dialogEnded ends the leg when its dialog ends from the caller's side:
// CANCEL before the answer, or the transaction dying.
func (l *inLeg) dialogEnded() {
	cause := call.CauseCancelled
	if l.isAnswered() {
		cause = call.CauseNormal
	}
	l.end(cause)
}

func (l *inLeg) isAnswered() bool {
	select {
	case <-l.answered:
		return true
	default:
		return false
	}
}

// end ends the leg with cause, reporting whether this call did.
func (l *inLeg) end(cause call.Cause) bool {
	if !l.finish(cause) {
		return false
	}
	l.c.legs.Delete(l.key)
	tag, _ := l.dlg.remote.Params.Get("tag")
	l.c.legs.Delete(inviteKeyOf(l.dlg.callID.Value(), tag))
	return true
}

// inviteKey identifies the INVITE that made a leg, as a copy of it would
// arrive: Call-ID and the caller's tag (RFC 3261 §8.2.2.2).
func inviteKey(req *sip.Request) string {
	tag, _ := req.From().Params.Get("tag")
	return inviteKeyOf(req.CallID().Value(), tag)
}

func inviteKeyOf(callID, fromTag string) string { return "\x01" + callID + "\x00" + fromTag }

// pending is the INVITE and its transaction while they are answered.
func (l *inLeg) pending() (*sip.Request, sip.ServerTransaction) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.invite, l.tx
}

// settle drops the INVITE and its transaction once the 2xx has its ACK:
// the dialog needs neither.
func (l *inLeg) settle() {
	l.mu.Lock()
	l.invite, l.tx = nil, nil
	l.mu.Unlock()
}

func (l *inLeg) respond(code int, reason string, body []byte, extra ...sip.Header) error {
	inv, tx := l.pending()
	if tx == nil {
		return errLegEnded // answered already
	}
	res := sip.NewResponseFromRequest(inv, code, reason, body)
	if to := res.To(); to != nil && code > 100 {
		tag, _ := l.dlg.local.Params.Get("tag")
		to.Params.Add("tag", tag)
	}
	if body != nil {
		res.AppendHeader(sdpHeader())
	}
	for _, h := range extra {
		res.AppendHeader(h)
	}
	res.AppendHeader(l.contact)
	res.AppendHeader(sip.NewHeader("Server", l.c.srv.cfg.UserAgent))
	l.c.srv.metrics.responses.WithLabelValues(codeClass(code)).Inc()
	if res.IsSuccess() {
		return l.send2xx(tx, res)
	}
	return tx.Respond(res)
}

// send2xx sends the INVITE's 2xx and repeats it until its ACK, as the
// UAS core does (RFC 3261 §13.3.1.4): every T1, doubling up to T2, for
// 64×T1 at most. The INVITE's transaction is ended first, and the 2xx goes
// straight to the transport: through the transaction, sipgo would keep it
// reachable, with the INVITE, the 2xx and the ACK, for 32 s after the ACK
// (its Timer L outlives the transaction), which was a third of a call's
// memory. A copy of the INVITE arriving after that is recognised by
// onInvite.
func (l *inLeg) send2xx(tx sip.ServerTransaction, res *sip.Response) error {
	if err := tx.Err(); err != nil {
		return err // cancelled meanwhile: the transaction answered 487
	}
	tx.Terminate()
	send := func() error { return l.c.srv.srv.WriteResponse(res) }
	if err := send(); err != nil {
		return err
	}
	interval := sip.T1
	retry := time.NewTimer(interval)
	defer retry.Stop()
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	for {
		select {
		case <-l.acked:
			return nil
		case <-l.done:
			return errLegEnded
		case <-retry.C:
			if err := send(); err != nil {
				return err
			}
			interval = min(2*interval, sip.T2)
			retry.Reset(interval)
		case <-giveUp.C:
			return errNoAck
		}
	}
}

// errNoAck is a 2xx that was never acknowledged: the call cannot go on
// (RFC 3261 §13.3.1.4).
var errNoAck = errors.New("sip: no ACK for the 200 OK")

// Progress sends 180 Ringing, or 183 with our SDP for early media (only
// when the caller made an offer: a late-offer INVITE gets 180).
func (l *inLeg) Progress(early bool) error {
	if l.ended() {
		return errLegEnded
	}
	if early && !l.lateOffer {
		return l.respond(sip.StatusSessionInProgress, "Session Progress", l.sdpBody())
	}
	return l.respond(sip.StatusRinging, "Ringing", nil)
}

// Answer sends 200 OK with our SDP and waits for the ACK.
func (l *inLeg) Answer(ctx context.Context) error {
	if l.ended() {
		return errLegEnded
	}
	// Marked answered before the 200 goes out: a BYE may follow the ACK at
	// once, and must count as a normal hang-up, not a cancel.
	l.ansOnce.Do(func() { close(l.answered) })
	extra := []sip.Header{sip.NewHeader("Allow", l.c.allow()), sip.NewHeader("Supported", supported)}
	if l.seInterval > 0 {
		extra = append(extra, sessionExpiresHeader(l.seInterval, l.seRefresher))
		if l.seRefresher == "uac" {
			extra = append(extra, sip.NewHeader("Require", "timer"))
		}
	}
	err := l.respond(sip.StatusOK, "OK", l.sdpBody(), extra...)
	l.confOnce.Do(func() { close(l.confirmed) })
	l.settle()
	if err != nil && l.byeReceived.Load() {
		// The caller's BYE overtook its ACK (sipgo handles each message in
		// its own goroutine): the call was answered, and has ended.
		err = nil
	}
	if err == nil && l.seInterval > 0 {
		l.setTimer(startSessionTimer(l.seInterval, l.seRefresher == "uas",
			func(ctx context.Context) error {
				return sendUpdate(ctx, l.dlg.do, *l.dlg.target.Clone(), l.contact, l.seInterval)
			},
			func() { l.Hangup(call.CauseSessionExpired) }))
	}
	return err
}

// negotiateInbound decides an incoming call's session timer from its
// INVITE (RFC 4028 §9): the interval asked for, or ours when the caller
// supports timers without asking; the caller refreshes when it can, else
// we do with UPDATE if it allows UPDATE, else there is no session timer.
func (c *Calls) negotiateInbound(req *sip.Request) (time.Duration, string) {
	se, refresher := sessionExpires(req)
	supports := hasToken(req, "Supported", "timer")
	if se == 0 && supports {
		se = c.cfg.SessionExpires
	}
	if se == 0 {
		return 0, ""
	}
	canUpdate := hasToken(req, "Allow", "UPDATE")
	switch {
	case refresher == "uac" && supports:
	case refresher == "uas" && canUpdate:
	case supports:
		refresher = "uac"
	case canUpdate:
		refresher = "uas"
	default:
		return 0, ""
	}
	return se, refresher
}

// waitSettled blocks until the INVITE has its final response. The INVITE
// handler must not return before: sipgo terminates a server transaction
// whose handler returned without a final response, which ends the dialog
// (the call looked cancelled at once) and makes a retransmitted INVITE a
// new call.
func (l *inLeg) waitSettled() {
	select {
	case <-l.confirmed:
	case <-l.done:
	}
}

// Hangup answers an unanswered INVITE with the cause's status, or sends BYE.
func (l *inLeg) Hangup(cause call.Cause) { l.hangup(cause, "") }

// Refuse ends a call the box refused, naming why in the reason phrase
// ("403 Blocked: international"), which phones show.
func (l *inLeg) Refuse(cause call.Cause, why string) { l.hangup(cause, why) }

func (l *inLeg) hangup(cause call.Cause, why string) {
	if l.ended() {
		return
	}
	if !l.isAnswered() {
		code, reason := statusFor(cause)
		if why != "" {
			reason = "Blocked: " + refusalText(why)
		}
		if err := l.respond(code, reason, nil); err != nil {
			l.c.log.Debug("final response", "err", err)
		}
		l.end(cause)
		return
	}
	// Not before the 2xx has its ACK, or has given up on it (RFC 3261
	// §15); the leg ends after, so that the ACK still finds it.
	wait := time.NewTimer(5 * time.Second)
	select {
	case <-l.acked:
	case <-l.confirmed:
	case <-l.done:
	case <-wait.C:
	}
	wait.Stop()
	if !l.end(cause) {
		return // the caller hung up meanwhile
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.dlg.bye(ctx); err != nil {
		l.c.log.Debug("BYE to caller", "err", err)
	}
}

func (l *inLeg) onAck(req *sip.Request) {
	if req.CSeq() != nil && req.CSeq().SeqNo != l.dlg.inviteCSeq {
		// The ACK of a re-INVITE: it may carry the answer to our offer.
		l.ackAnswer(req.Body())
		return
	}
	if !l.isAnswered() {
		return
	}
	first := false
	l.ackOnce.Do(func() { first = true; close(l.acked) })
	if !first {
		return // a copy of the ACK the leg had
	}
	if l.lateOffer && len(req.Body()) > 0 {
		if ans, err := sdp.Parse(req.Body()); err == nil {
			if cd, err := applyRemote(l.ep, ans); err == nil {
				l.setCodec(cd)
			}
		}
	}
}

func (l *inLeg) onBye(req *sip.Request, tx sip.ServerTransaction) {
	l.byeReceived.Store(true)
	l.c.srv.Respond(tx, req, sip.StatusOK, "OK")
	l.end(call.CauseNormal)
}

// onReinvite answers a mid-call re-INVITE: a session refresh, a media
// change, hold or retrieve.
func (l *inLeg) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	l.refreshed()
	l.c.answerReinvite(&l.legState, req, tx, refreshAnswer(l.seInterval)...)
}

// onUpdate takes a session refresh, with or without SDP.
func (l *inLeg) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	l.refreshed()
	l.c.answerUpdate(&l.legState, req, tx, refreshAnswer(l.seInterval)...)
}

func (l *inLeg) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return l.dlg.do(ctx, req)
}

func (l *inLeg) remoteTarget() (sip.Uri, bool) {
	if !l.isAnswered() {
		return sip.Uri{}, false
	}
	return *l.dlg.target.Clone(), true
}
