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
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// outLeg is a leg we dial: a client dialog to one contact of an extension,
// or to a carrier through a trunk.
type outLeg struct {
	legState
	dev     call.Device
	ext     Extension
	binding Binding
	auth    sipgo.AnswerOptions // credentials for a carrier's challenge
	dlg     *sipgo.DialogClientSession
	key     string
	events  chan call.EventKind

	// heard is set at the first response of any kind; status is the final
	// failure status (0: none came). A trunk's failover reads both.
	heard    atomic.Bool
	progress atomic.Bool // 180 or 183 came: too late to fail over
	status   atomic.Int32

	cancel   context.CancelFunc // stops ringing (sends CANCEL)
	mu2      sync.Mutex
	answered bool
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
	// username and password answer a carrier's 401/407 to the INVITE.
	username, password string
}

// dial builds and sends an INVITE from spec and returns its leg, ringing.
func (c *Calls) dial(spec outSpec) (*outLeg, error) {
	b := spec.binding
	ua, err := c.dialogUA(b.Transport)
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
		auth:     sipgo.AnswerOptions{Username: spec.username, Password: spec.password},
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
	req.SetDestination(b.Source)
	req.SetTransport(b.Transport.String())

	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	// The INVITE is sent from the leg's own goroutine, which lives only
	// until the answer: the SIP stack's send path is deep, and a stack
	// grown on the call's owner goroutine would stay grown for the whole
	// call (a goroutine's stack shrinks only at a GC, and a call's media
	// path allocates nothing, so none comes).
	sent := make(chan error, 1)
	go l.run(ctx, ua, req, tag, sent)
	if err := <-sent; err != nil {
		cancel()
		ep.Close()
		return nil, fmt.Errorf("INVITE %s at %s: %w", spec.uri.User, b.Source, err)
	}
	return l, nil
}

// invite sends the INVITE and registers the leg for in-dialog requests.
func (l *outLeg) invite(ctx context.Context, ua *sipgo.DialogUA, req *sip.Request, tag string) error {
	dlg, err := ua.WriteInvite(ctx, req)
	if err != nil {
		return err
	}
	l.dlg = dlg
	l.key = dialogKey(req.CallID().Value(), tag)
	l.c.legs.Store(l.key, l)
	return nil
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
// answer, relaying progress, and once answered leaves the end of the dialog
// to a callback: no goroutine stays parked for the length of the call.
func (l *outLeg) run(ctx context.Context, ua *sipgo.DialogUA, req *sip.Request, tag string, sent chan<- error) {
	if err := l.invite(ctx, ua, req, tag); err != nil {
		sent <- err
		return
	}
	sent <- nil
	early := false
	opts := l.auth
	opts.OnResponse = func(res *sip.Response) error {
		l.heard.Store(true)
		switch {
		case res.StatusCode == sip.StatusRinging:
			l.progress.Store(true)
			l.emit(call.EventRinging)
		case res.StatusCode == sip.StatusSessionInProgress && len(res.Body()) > 0 && !early:
			if s, err := sdp.Parse(res.Body()); err == nil {
				if cd, err := applyRemote(l.ep, s); err == nil {
					l.setCodec(cd)
					early = true
					l.progress.Store(true)
					l.emit(call.EventEarlyMedia)
				}
			}
		}
		return nil
	}
	err := l.dlg.WaitAnswer(ctx, opts)
	if err != nil {
		var de *sipgo.ErrDialogResponse
		cause := call.CauseFailed
		switch {
		case errors.As(err, &de):
			l.status.Store(int32(de.Res.StatusCode))
			cause = causeFromStatus(de.Res.StatusCode)
		case ctx.Err() != nil:
			l.mu2.Lock()
			cause = l.wanted
			l.mu2.Unlock()
		}
		l.end(cause)
		return
	}
	res := l.dlg.InviteResponse
	if s, err := sdp.Parse(res.Body()); err == nil {
		if cd, err := applyRemote(l.ep, s); err == nil {
			l.setCodec(cd)
		}
	}
	if err := l.dlg.Ack(context.Background()); err != nil {
		l.c.log.Debug("ACK", "err", err)
	}
	l.mu2.Lock()
	l.answered = true
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
	l.watchDialog(l.dlg.Context(), func() { l.end(call.CauseNormal) })
	l.emit(call.EventAnswered)
}

func (l *outLeg) end(cause call.Cause) {
	if l.finish(cause) {
		l.c.legs.Delete(l.key)
		l.cancel()
		l.dlg.Close()
	}
}

func (l *outLeg) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.dlg.Bye(ctx); err != nil {
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
	l.c.srv.metrics.responses.WithLabelValues("2xx").Inc()
	if err := l.dlg.ReadBye(req, tx); err != nil {
		l.c.srv.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
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
	l.mu2.Unlock()
	l.setTimer(startSessionTimer(se, weRefresh,
		func(ctx context.Context) error {
			return sendUpdate(ctx, l.dlg.Do, l.dlg.InviteResponse.Contact().Address, l.contact, se)
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
	return l.dlg.Do(ctx, req)
}

// remoteTarget is the callee's Contact from its 200 (our requests before
// the answer would have no To tag to go by).
func (l *outLeg) remoteTarget() (sip.Uri, bool) {
	l.mu2.Lock()
	answered := l.answered
	l.mu2.Unlock()
	if !answered {
		return sip.Uri{}, false
	}
	if c := l.dlg.InviteResponse.Contact(); c != nil {
		return c.Address, true
	}
	return l.dlg.InviteRequest.Recipient, true
}
