package siptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// ErrNotAnswered is returned by Hangup on a call that was never answered.
var ErrNotAnswered = errors.New("siptest: call not answered")

// ErrNoCommonCodec is what an incoming call fails with when the offer lists
// none of the phone's payload types (the phone answers 488).
var ErrNoCommonCodec = errors.New("siptest: no common payload type")

// Dial describes an outgoing call.
type Dial struct {
	Server    string // the appliance's host:port
	To        string // the number dialed
	Ext       string // the caller's extension, digest username
	Password  string // "" answers no challenge (the 401 is the final response)
	Algorithm string // "MD5" (default) or "SHA-256"
	// NoSDP sends the INVITE without an offer: the 200 then carries the
	// appliance's offer and the ACK the phone's answer.
	NoSDP bool
	// PTs are the payload types offered or accepted, most preferred first
	// (nil: PCMU, PCMA).
	PTs []uint8
	// SDPAddr, when valid, is written in the SDP instead of the phone's RTP
	// socket (a phone behind NAT); RTP still leaves from the socket.
	SDPAddr netip.AddrPort
	// Stream, when set, starts sending once the call is answered, to the
	// address the appliance's SDP names, in the negotiated payload type.
	Stream *Stream
	// Headers are added to the INVITE (Session-Expires, Supported...).
	Headers []sip.Header
}

// Action is what a phone does with an incoming call after ringing.
type Action uint8

// Actions. The zero value is ActionUnknown, treated as ActionAnswer.
const (
	ActionUnknown Action = iota
	ActionAnswer         // 200 OK after Behaviour.Delay
	ActionReject         // Behaviour.Status after Behaviour.Delay
	ActionIgnore         // ring until cancelled
)

func (a Action) String() string {
	switch a {
	case ActionAnswer:
		return "answer"
	case ActionReject:
		return "reject"
	case ActionIgnore:
		return "ignore"
	}
	return "unknown"
}

// Behaviour is how a phone treats incoming calls.
type Behaviour struct {
	Action Action
	// Early sends 183 with SDP (and starts Stream) instead of 180.
	Early bool
	// Delay is how long the phone rings before acting.
	Delay time.Duration
	// Status is the final response of ActionReject (e.g. 486).
	Status int
	// PTs are the payload types accepted, most preferred first (nil: PCMU, PCMA).
	PTs []uint8
	// Stream, when set, starts at the answer (or at the 183 when Early).
	Stream *Stream
	// AnswerHeaders are added to the 200 OK (Session-Expires, Allow...).
	AnswerHeaders []sip.Header
}

func ptsOr(p []uint8) []uint8 {
	if len(p) == 0 {
		return []uint8{PCMU, PCMA}
	}
	return p
}

// Call is one call of a phone, outgoing or incoming.
type Call struct {
	p        *Phone
	Incoming bool
	CallID   string

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	uac       *sipgo.DialogClientSession
	uas       *sipgo.DialogServerSession
	invite    *sip.Request // incoming: the INVITE as received
	responses []*sip.Response
	final     *sip.Response
	sdps      [][]byte
	remote    netip.AddrPort
	pt        uint8
	answered  bool
	cancelled bool
	ended     bool
	err       error

	referStatuses []int // sipfrag status codes of transfer NOTIFYs
	referDone     bool  // a NOTIFY ended the transfer's subscription

	ring context.CancelFunc // outgoing: cancels the INVITE (CANCEL)
	done chan struct{}      // closed when the call has ended
}

func newCall(p *Phone, incoming bool, callID string) *Call {
	return &Call{p: p, Incoming: incoming, CallID: callID, changed: make(chan struct{}), done: make(chan struct{})}
}

// update changes the call under its lock and wakes waiters.
func (c *Call) update(f func()) {
	c.mu.Lock()
	f()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// WaitFor waits until cond (called under the call's lock) holds.
func (c *Call) WaitFor(ctx context.Context, what string, cond func(c *Call) bool) error {
	for {
		c.mu.Lock()
		ok, ch := cond(c), c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("siptest: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// WaitStatus waits for a response with code (outgoing calls) and returns it.
func (c *Call) WaitStatus(ctx context.Context, code int) (*sip.Response, error) {
	var got *sip.Response
	err := c.WaitFor(ctx, "status "+strconv.Itoa(code), func(c *Call) bool {
		for _, r := range c.responses {
			if r.StatusCode == code {
				got = r
				return true
			}
		}
		return false
	})
	return got, err
}

// WaitFinal waits for the final response of an outgoing call (after any
// challenge was answered).
func (c *Call) WaitFinal(ctx context.Context) (*sip.Response, error) {
	var got *sip.Response
	err := c.WaitFor(ctx, "final response", func(c *Call) bool {
		got = c.final
		return got != nil || c.err != nil
	})
	if err == nil && got == nil {
		c.mu.Lock()
		err = c.err
		c.mu.Unlock()
	}
	return got, err
}

// WaitAnswered waits until the call is answered (ACK sent or received).
func (c *Call) WaitAnswered(ctx context.Context) error {
	return c.WaitFor(ctx, "answer", func(c *Call) bool { return c.answered })
}

// WaitEnded waits until the call has ended.
func (c *Call) WaitEnded(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("siptest: waiting for the end of %s: %w", c.CallID, ctx.Err())
	}
}

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Statuses lists the status codes of the responses received, in order.
func (c *Call) Statuses() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, len(c.responses))
	for i, r := range c.responses {
		out[i] = r.StatusCode
	}
	return out
}

// SDPs returns every SDP body the phone received in this call.
func (c *Call) SDPs() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.sdps...)
}

// Remote is where the appliance wants this call's audio (from the last SDP).
func (c *Call) Remote() netip.AddrPort { c.mu.Lock(); defer c.mu.Unlock(); return c.remote }

// PayloadType is the payload type negotiated.
func (c *Call) PayloadType() uint8 { c.mu.Lock(); defer c.mu.Unlock(); return c.pt }

// Cancelled reports whether an incoming call was cancelled by the appliance.
func (c *Call) Cancelled() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.cancelled }

// Invite is an incoming call's INVITE.
func (c *Call) Invite() *sip.Request { return c.invite }

// Cancel gives up an outgoing call that is ringing (CANCEL).
func (c *Call) Cancel() {
	if c.ring != nil {
		c.ring()
	}
}

// Hangup sends BYE on an answered call and waits for its response.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	answered, uac, uas := c.answered, c.uac, c.uas
	c.mu.Unlock()
	if !answered {
		return ErrNotAnswered
	}
	c.p.RTP.StopSending()
	var err error
	if uac != nil {
		err = uac.Bye(ctx)
	} else {
		err = uas.Bye(ctx)
	}
	c.end(err)
	return err
}

func (c *Call) end(err error) {
	c.update(func() {
		if c.ended {
			return
		}
		c.ended = true
		if c.err == nil {
			c.err = err
		}
		close(c.done)
	})
	c.p.calls.Delete(c.CallID)
}

// sawSDP records a body received and the media it names.
func (c *Call) sawSDP(body []byte) (SDP, error) {
	s, err := ParseSDP(body)
	c.update(func() {
		c.sdps = append(c.sdps, append([]byte(nil), body...))
		if err == nil {
			c.remote = s.Addr
		}
	})
	return s, err
}

func (c *Call) sdpAddr(d netip.AddrPort) netip.AddrPort {
	if d.IsValid() {
		return d
	}
	return c.p.RTP.Addr()
}

// Invite places a call. It returns once the INVITE is sent; the call then
// proceeds on its own: a challenge (401/407) is answered once with the
// chosen algorithm, a 2xx is acknowledged (with the answer when the INVITE
// had no offer) and Dial.Stream started.
func (p *Phone) Invite(ctx context.Context, d Dial) (*Call, error) {
	host, portText, err := net.SplitHostPort(d.Server)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portText)
	recipient := sip.Uri{Scheme: "sip", User: d.To, Host: host, Port: port}
	req := sip.NewRequest(sip.INVITE, recipient)
	req.SetTransport(p.Transport)
	req.SetDestination(d.Server)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: d.Ext, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: d.To, Host: host}})
	callID := sip.CallIDHeader(sip.GenerateTagN(16) + "@siptest")
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	req.AppendHeader(p.contactHeader(d.Ext))
	req.AppendHeader(sip.NewHeader("User-Agent", "siptest"))
	for _, h := range d.Headers {
		req.AppendHeader(h)
	}
	c := newCall(p, false, string(callID))
	pts := ptsOr(d.PTs)
	if !d.NoSDP {
		req.SetBody(buildSDP(c.sdpAddr(d.SDPAddr), pts))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	ringCtx, cancel := context.WithCancel(p.ctx)
	c.ring = cancel
	dlg, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		cancel()
		return nil, err
	}
	c.uac = dlg
	p.calls.Store(c.CallID, c)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cancel()
		c.runOutgoing(ringCtx, d, req, pts)
	}()
	return c, nil
}

func (c *Call) onResponse(res *sip.Response) error {
	c.update(func() { c.responses = append(c.responses, res) })
	if res.StatusCode == sip.StatusSessionInProgress && len(res.Body()) > 0 {
		_, _ = c.sawSDP(res.Body())
	}
	return nil
}

func (c *Call) runOutgoing(ctx context.Context, d Dial, req *sip.Request, pts []uint8) {
	dlg := c.uac
	authed := false
	for {
		err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: c.onResponse})
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) && !authed && d.Password != "" &&
			(de.Res.StatusCode == sip.StatusUnauthorized || de.Res.StatusCode == sip.StatusProxyAuthRequired) {
			authed = true
			next, err := c.authorize(ctx, d, req, de.Res)
			if err != nil {
				c.update(func() { c.err = err })
				c.end(err)
				return
			}
			req = next
			dlg.Close()
			dlg, err = c.p.dua.WriteInvite(ctx, next)
			if err != nil {
				c.end(err)
				return
			}
			c.update(func() { c.uac = dlg })
			continue
		}
		if err != nil {
			c.update(func() {
				if de != nil {
					c.final = de.Res
				} else {
					c.final = dlg.InviteResponse
				}
			})
			c.end(err)
			dlg.Close()
			return
		}
		break
	}
	res := dlg.InviteResponse
	pt := uint8(0)
	s, sdpErr := c.sawSDP(res.Body())
	if sdpErr == nil {
		if d.NoSDP {
			pt, _ = choose(s.PTs, pts)
		} else if len(s.PTs) > 0 {
			pt = s.PTs[0]
		}
	}
	target := req.Recipient
	if cont := res.Contact(); cont != nil {
		target = cont.Address
	}
	ack := sip.NewRequest(sip.ACK, target)
	if d.NoSDP {
		ack.SetBody(buildSDP(c.sdpAddr(d.SDPAddr), []uint8{pt}))
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if err := dlg.WriteAck(context.Background(), ack); err != nil {
		c.update(func() { c.final = res })
		c.end(err)
		return
	}
	if d.Stream != nil && sdpErr == nil {
		st := *d.Stream
		st.PayloadType = pt
		c.p.RTP.Send(s.Addr, st)
	}
	// Final, answered and the payload type show together: a test that
	// saw the 200 can read all of them.
	c.update(func() { c.final, c.answered, c.pt = res, true, pt })
	select {
	case <-dlg.Context().Done():
	case <-c.p.ctx.Done():
	}
	c.end(nil)
	dlg.Close()
}

// authorize builds the INVITE again with credentials for res's challenge.
func (c *Call) authorize(ctx context.Context, d Dial, req *sip.Request, res *sip.Response) (*sip.Request, error) {
	alg := d.Algorithm
	if alg == "" {
		alg = "MD5"
	}
	hdr := "WWW-Authenticate"
	authz := "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		hdr, authz = "Proxy-Authenticate", "Proxy-Authorization"
	}
	chal, err := pickChallengeIn(res, hdr, alg)
	if err != nil {
		return nil, err
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: "INVITE", URI: req.Recipient.String(), Username: d.Ext, Password: d.Password, Count: 1,
	})
	if err != nil {
		return nil, err
	}
	next := req.Clone()
	next.RemoveHeader("Via")
	next.RemoveHeader(authz)
	next.AppendHeader(sip.NewHeader(authz, cred.String()))
	next.CSeq().SeqNo++
	return next, nil
}

// contactHeader is the phone's Contact for ext.
func (p *Phone) contactHeader(ext string) *sip.ContactHeader {
	host, port, _ := net.SplitHostPort(p.Addr)
	n, _ := strconv.Atoi(port)
	h := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: host, Port: n}}
	if p.Transport != "udp" {
		h.Address.UriParams = sip.NewParams()
		h.Address.UriParams.Add("transport", p.Transport)
	}
	return h
}

// SetBehaviour sets how the phone treats the next incoming calls.
func (p *Phone) SetBehaviour(b Behaviour) { p.behaviour.Store(&b) }

// NextIncoming waits for the next incoming call.
func (p *Phone) NextIncoming(ctx context.Context) (*Call, error) {
	select {
	case c := <-p.incoming:
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("siptest: waiting for an incoming call: %w", ctx.Err())
	}
}

// onInvite handles an incoming INVITE by the phone's Behaviour. It holds
// the handler until the final response is sent: sipgo ends an INVITE
// transaction whose handler returns without one.
func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		// A re-INVITE: accept it with the call's current media.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", buildSDP(p.RTP.Addr(), []uint8{PCMU, PCMA})))
		return
	}
	b := Behaviour{Action: ActionAnswer}
	if v := p.behaviour.Load(); v != nil {
		b = *v
	}
	dlg, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	c := newCall(p, true, req.CallID().Value())
	c.uas, c.invite = dlg, req
	p.calls.Store(c.CallID, c)
	tx.OnCancel(func(*sip.Request) { c.update(func() { c.cancelled = true }) })
	select {
	case p.incoming <- c:
	default: // nobody is collecting calls
	}
	defer dlg.Close()

	pt, answer, err := c.answerOffer(req.Body(), ptsOr(b.PTs))
	if err != nil {
		_ = dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		c.end(err)
		return
	}
	if b.Early {
		_ = dlg.Respond(sip.StatusSessionInProgress, "Session Progress", answer, sip.NewHeader("Content-Type", "application/sdp"))
		c.startStream(b.Stream, pt)
	} else {
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
	}
	timer := time.NewTimer(b.Delay)
	defer timer.Stop()
	if b.Action == ActionIgnore {
		timer.Stop()
	}
	select {
	case <-dlg.Context().Done():
		p.RTP.StopSending()
		c.end(context.Cause(dlg.Context()))
		return
	case <-p.ctx.Done():
		c.end(p.ctx.Err())
		return
	case <-timer.C:
	}
	if b.Action == ActionReject {
		p.RTP.StopSending()
		_ = dlg.Respond(b.Status, "Rejected", nil)
		c.end(nil)
		return
	}
	err = dlg.Respond(sip.StatusOK, "OK", answer, append([]sip.Header{sip.NewHeader("Content-Type", "application/sdp")}, b.AnswerHeaders...)...)
	if err != nil {
		p.RTP.StopSending()
		c.end(err)
		return
	}
	c.update(func() { c.answered, c.pt = true, pt })
	if !b.Early {
		c.startStream(b.Stream, pt)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-dlg.Context().Done():
		case <-p.ctx.Done():
		}
		c.end(nil)
	}()
}

func (c *Call) startStream(s *Stream, pt uint8) {
	if s == nil {
		return
	}
	st := *s
	st.PayloadType = pt
	c.p.RTP.Send(c.Remote(), st)
}

// answerOffer picks a payload type from an offer and builds the answer.
func (c *Call) answerOffer(body []byte, pts []uint8) (uint8, []byte, error) {
	if len(body) == 0 {
		return pts[0], buildSDP(c.p.RTP.Addr(), pts), nil
	}
	s, err := c.sawSDP(body)
	if err != nil {
		return 0, nil, err
	}
	pt, ok := choose(s.PTs, pts)
	if !ok {
		return 0, nil, ErrNoCommonCodec
	}
	return pt, buildSDP(c.p.RTP.Addr(), []uint8{pt}), nil
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if v, ok := p.calls.Load(req.CallID().Value()); ok {
		c := v.(*Call)
		if c.uas != nil {
			if len(req.Body()) > 0 {
				_, _ = c.sawSDP(req.Body())
			}
			_ = c.uas.ReadAck(req, tx)
		}
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	v, ok := p.calls.Load(req.CallID().Value())
	if !ok {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	c := v.(*Call)
	c.mu.Lock()
	uac, uas := c.uac, c.uas
	c.mu.Unlock()
	var err error
	if uac != nil {
		err = uac.ReadBye(req, tx)
	} else {
		err = uas.ReadBye(req, tx)
	}
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	p.RTP.StopSending()
	c.end(nil)
}
