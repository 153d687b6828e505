package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/media/sdp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// CallManager takes authenticated incoming calls (pbx/call.Manager).
type CallManager interface {
	Incoming(in call.Channel, from call.Party, dialed string, callerLimit int)
	// Replace takes an INVITE with Replaces (RFC 3891): in is to take the
	// place of the existing leg replaced (an attended transfer completed
	// by the target phone, or a phone picking up a call); earlyOnly asks
	// that only a leg not yet answered be replaced.
	Replace(in call.Channel, from call.Party, replaced call.ChannelID, earlyOnly bool)
	// IncomingFromTrunk takes a carrier's call to one of the box's numbers
	// (a DID's destination).
	IncomingFromTrunk(in call.Channel, from call.Party, dialed, trunk string)
}

// CallerInfo is what the call layer needs of an extension.
type CallerInfo struct {
	Name     string
	MaxCalls int           // concurrent calls; 0: no limit
	Codecs   []codec.Codec // in preference order; empty: PCMU, PCMA
	// DTMFMode is how the extension's phones send and expect digits.
	DTMFMode call.DTMFMode
}

// CallDirectory looks extensions up for calls.
type CallDirectory interface {
	CallerInfo(ext Extension) (CallerInfo, error)
}

// CallConfig configures the B2BUA.
type CallConfig struct {
	// Advertise is the address phones reach the appliance's signalling
	// and media at (the configured public IP). Zero: the SIP listener's
	// address when it is a specific one, else the local address the
	// kernel routes towards the phone.
	Advertise netip.Addr
	// MediaTimeout hangs up a call whose leg has sent no RTP for this long
	// (a phone that died). Zero: 60 s.
	MediaTimeout time.Duration
	// TelephoneEvent is the payload type offered for RFC 4733 (0: 101).
	TelephoneEvent uint8
	// SessionExpires is the session timer interval we ask for (RFC 4028;
	// zero: DefaultSessionExpires); MinSE the shortest we accept (zero:
	// MinSessionExpires).
	SessionExpires, MinSE time.Duration
}

// Calls is the B2BUA's SIP side: it turns INVITEs into call.Channels for
// the call layer and dials extensions' contacts for it (call.Dialer). Media
// is always anchored: every SDP a phone receives names the appliance and a
// port of the RTP pool.
type Calls struct {
	srv  *Server
	pool *rtp.PortPool
	dir  CallDirectory
	cfg  CallConfig
	log  *slog.Logger
	// mgr is set once, after the server may already serve (SetManager):
	// read atomically.
	mgr atomic.Pointer[CallManager]

	seq atomic.Uint64

	senderMu sync.Mutex
	senders  map[Transport]*sender

	contactMu sync.Mutex
	contacts  map[contactKey]*sip.ContactHeader // shared, read-only (contact)

	legs sync.Map // dialog key (Call-ID + our tag) → leg

	// failureAcks are the ACKs of failures to INVITEs sent over UDP,
	// kept for Timer D to send again (ackFailure); failureAckCount
	// bounds them.
	failureAcks     sync.Map // failureKey → *failureAck
	failureAckCount atomic.Int64

	// The trunks, once SetTrunks gave them: carriers' calls and calls
	// to outside numbers.
	trunkMu     sync.Mutex
	trunks      *Trunks
	trunkRouter TrunkRouter
}

// leg is what in-dialog requests are routed to.
type leg interface {
	onBye(req *sip.Request, tx sip.ServerTransaction)
	onReinvite(req *sip.Request, tx sip.ServerTransaction)
	onAck(req *sip.Request)
	onUpdate(req *sip.Request, tx sip.ServerTransaction)
	// base is the part INFO and REFER handling share.
	base() *legState
}

// dialogSide is how a leg sends requests in its dialog (INFO digits,
// NOTIFYs of a transfer).
type dialogSide interface {
	// do sends req in the dialog and waits for its final response.
	do(ctx context.Context, req *sip.Request) (*sip.Response, error)
	// remoteTarget is the peer's Contact, the Request-URI of our requests;
	// ok is false while the dialog is not established.
	remoteTarget() (sip.Uri, bool)
}

// allowedMethods is the Allow header of our INVITEs and 200s: what a phone
// may send us in a call's dialog.
const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, REFER, INFO, NOTIFY"

// allow is allowedMethods plus SUBSCRIBE when busy lamps are served.
func (c *Calls) allow() string {
	c.srv.handlersMu.RLock()
	_, sub := c.srv.handlers[sip.SUBSCRIBE]
	c.srv.handlersMu.RUnlock()
	if sub {
		return allowedMethods + ", SUBSCRIBE"
	}
	return allowedMethods
}

// supported is the Supported header of our INVITEs and 200s.
const supported = "replaces, timer"

// NewCalls adds call handling to srv. SetManager must be called before
// Run.
func NewCalls(srv *Server, pool *rtp.PortPool, dir CallDirectory, cfg CallConfig) *Calls {
	if cfg.MediaTimeout <= 0 {
		cfg.MediaTimeout = 60 * time.Second
	}
	if cfg.TelephoneEvent == 0 {
		cfg.TelephoneEvent = 101
	}
	if cfg.SessionExpires <= 0 {
		cfg.SessionExpires = DefaultSessionExpires
	}
	if cfg.MinSE <= 0 {
		cfg.MinSE = MinSessionExpires
	}
	c := &Calls{srv: srv, pool: pool, dir: dir, cfg: cfg, log: srv.log.With("component", "calls"),
		senders: map[Transport]*sender{}, contacts: map[contactKey]*sip.ContactHeader{}}
	srv.Handle(sip.INVITE, c.onInvite)
	srv.Handle(sip.ACK, c.onAck)
	srv.Handle(sip.BYE, c.onBye)
	srv.Handle(sip.UPDATE, c.onUpdate)
	srv.Handle(sip.INFO, c.onInfo)
	srv.Handle(sip.REFER, c.onRefer)
	// A CANCEL that matched an INVITE was answered by the transaction
	// layer; one that reaches the handler matched nothing.
	srv.Handle(sip.CANCEL, c.noDialog)
	srv.onStrayResponse(c.strayResponse)
	return c
}

// strayResponse takes a response that matched no transaction: those to
// an INVITE we sent over UDP, which has none (outLeg.sendInvite), and a
// 2xx repeated because our ACK was lost, which gets the ACK again (RFC
// 3261 §13.2.2.4).
func (c *Calls) strayResponse(res *sip.Response) {
	cseq, from, callID := res.CSeq(), res.From(), res.CallID()
	if cseq == nil || cseq.MethodName != sip.INVITE || from == nil || callID == nil {
		return
	}
	tag, _ := from.Params.Get("tag")
	if res.StatusCode >= 300 {
		if v, ok := c.failureAcks.Load(failureKey(callID.Value(), tag, cseq.SeqNo)); ok {
			v.(*failureAck).send(c.log)
			return
		}
	}
	v, ok := c.legs.Load(dialogKey(callID.Value(), tag))
	if !ok {
		return
	}
	l, ok := v.(*outLeg)
	if !ok {
		return
	}
	if d := l.dialog(); d != nil {
		if res.IsSuccess() && d.inviteCSeq == cseq.SeqNo {
			if err := d.ack(); err != nil {
				c.log.Debug("ACK again", "err", err)
			}
		}
		return
	}
	if l.responses != nil {
		select {
		case l.responses <- res:
		default: // repeats nobody waits for
		}
	}
}

// Keeping failures' ACKs (ackFailure).
const (
	// failureAckHold is Timer D over UDP (RFC 3261 §17.1.1.2): how long
	// the callee may still repeat a failure response.
	failureAckHold = 32 * time.Second
	// maxFailureAcks bounds the ACKs kept at once (about 1 KB each):
	// 1,000 failed calls a second for Timer D. Past it a repeated failure
	// goes unacknowledged, and its sender stops after 64×T1.
	maxFailureAcks = 32000
)

// failureAck is a failure's ACK and the sender it went out on.
type failureAck struct {
	mu  sync.Mutex // a repeat is handled on a goroutine of its own
	snd *sender
	ack *sip.Request
}

func (a *failureAck) send(log *slog.Logger) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.snd.write(a.ack); err != nil {
		log.Debug("ACK again", "err", err)
	}
}

func failureKey(callID, fromTag string, cseq uint32) string {
	return callID + "\x00" + fromTag + "\x00" + strconv.FormatUint(uint64(cseq), 10)
}

// ackFailure acknowledges a failure response to an INVITE sent over UDP,
// which has no client transaction (outLeg.sendInvite), and keeps the ACK
// for Timer D: the callee repeats its response until an ACK reaches it,
// also after the leg has ended, and strayResponse answers each repeat
// with the same ACK (§17.1.1.2).
func (c *Calls) ackFailure(snd *sender, inv *sip.Request, res *sip.Response) {
	a := &failureAck{snd: snd, ack: hopByHop(inv, sip.ACK, res.To())}
	a.send(c.log)
	tag, _ := inv.From().Params.Get("tag")
	key := failureKey(inv.CallID().Value(), tag, inv.CSeq().SeqNo)
	if c.failureAckCount.Add(1) > maxFailureAcks {
		c.failureAckCount.Add(-1)
		return
	}
	if _, loaded := c.failureAcks.LoadOrStore(key, a); loaded {
		c.failureAckCount.Add(-1)
		return
	}
	time.AfterFunc(failureAckHold, func() {
		c.failureAcks.Delete(key)
		c.failureAckCount.Add(-1)
	})
}

// SetManager attaches the call layer (built after the Dialer it needs).
func (c *Calls) SetManager(m CallManager) { c.mgr.Store(&m) }

func (c *Calls) manager() CallManager {
	if m := c.mgr.Load(); m != nil {
		return *m
	}
	return nil
}

func (c *Calls) nextID(prefix string) call.ChannelID {
	return call.ChannelID(prefix + strconv.FormatUint(c.seq.Add(1), 10))
}

// dialogSender returns what sends the calls' requests on a transport. UDP
// requests leave from the listening socket (the phone's NAT mapping is for
// that port); TCP and TLS requests reuse the phone's connection, found by
// its address.
func (c *Calls) dialogSender(t Transport) (*sender, error) {
	c.senderMu.Lock()
	defer c.senderMu.Unlock()
	if s := c.senders[t]; s != nil {
		return s, nil
	}
	s := &sender{}
	var opts []sipgo.ClientOption
	if t == TransportUDP {
		// The server learns its UDP address a moment after it starts
		// serving; a call in that moment waits for it (bounded).
		a := c.srv.listenAddr(TransportUDP)
		for i := 0; !a.IsValid() && i < 200; i++ {
			time.Sleep(5 * time.Millisecond)
			a = c.srv.listenAddr(TransportUDP)
		}
		if !a.IsValid() {
			return nil, ErrNotRunning
		}
		opts = append(opts, sipgo.WithClientConnectionAddr(a.String()))
		s.laddr = sip.Addr{IP: a.Addr().AsSlice(), Port: int(a.Port())}
	}
	opts = append(opts, sipgo.WithClientLogger(c.srv.log.With("lib", "sipgo")))
	client, err := sipgo.NewClient(c.srv.ua, opts...)
	if err != nil {
		return nil, err
	}
	s.client = client
	c.senders[t] = s
	return s, nil
}

// advertise is the address a peer at peer reaches us at.
func (c *Calls) advertise(peer netip.Addr, t Transport) netip.Addr {
	if c.cfg.Advertise.IsValid() {
		return c.cfg.Advertise
	}
	if a := c.srv.listenAddr(t); a.IsValid() && !a.Addr().IsUnspecified() {
		return a.Addr()
	}
	// Ask the kernel which source address it would use (no packet is sent).
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, 9)))
	if err == nil {
		defer conn.Close()
		if la, ok := conn.LocalAddr().(*net.UDPAddr); ok {
			if a, ok := netip.AddrFromSlice(la.IP); ok {
				return a.Unmap()
			}
		}
	}
	return netip.IPv4Unspecified()
}

// contactKey is what our Contact header depends on.
type contactKey struct {
	addr netip.Addr
	port uint16
	t    Transport
}

// maxOwnContacts bounds the shared Contact headers: a box has a few
// addresses; past the bound (addresses changed) they are built afresh.
const maxOwnContacts = 64

// contact is our Contact header towards a peer. It is never modified once
// built, so all legs and requests towards the same address of ours share
// one instead of carrying a copy each for the length of their calls.
func (c *Calls) contact(peer netip.Addr, t Transport) *sip.ContactHeader {
	k := contactKey{addr: c.advertise(peer, t), port: c.srv.listenAddr(t).Port(), t: t}
	c.contactMu.Lock()
	defer c.contactMu.Unlock()
	if h := c.contacts[k]; h != nil {
		return h
	}
	h := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "ccbox", Host: k.addr.String(), Port: int(k.port)}}
	if t == TransportTCP || t == TransportTLS {
		h.Address.UriParams = sip.NewParams()
		h.Address.UriParams.Add("transport", t.String())
	}
	if len(c.contacts) >= maxOwnContacts {
		clear(c.contacts)
	}
	c.contacts[k] = h
	return h
}

// dialogKey identifies a dialog by Call-ID and our own tag, which is the
// To tag of every in-dialog request we receive, whichever side we are.
func dialogKey(callID, ourTag string) string { return callID + "\x00" + ourTag }

func requestKey(req *sip.Request) string {
	to := req.To()
	if to == nil || req.CallID() == nil {
		return ""
	}
	tag, _ := to.Params.Get("tag")
	return dialogKey(req.CallID().Value(), tag)
}

func (c *Calls) findLeg(req *sip.Request) leg {
	if v, ok := c.legs.Load(requestKey(req)); ok {
		return v.(leg)
	}
	return nil
}

func (c *Calls) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if l := c.findLeg(req); l != nil {
		l.onAck(req)
	}
}

func (c *Calls) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if l := c.findLeg(req); l != nil {
		l.onBye(req, tx)
		return
	}
	c.noDialog(req, tx)
}

func (c *Calls) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	if l := c.findLeg(req); l != nil {
		l.onUpdate(req, tx)
		return
	}
	c.noDialog(req, tx)
}

// noDialog answers an in-dialog request that matches no call.
func (c *Calls) noDialog(req *sip.Request, tx sip.ServerTransaction) {
	c.srv.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
}

func (c *Calls) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	// sipgo parses messages that lack these; a B2BUA cannot work without
	// them (RFC 3261 §8.1.1 makes them mandatory).
	if req.To() == nil || req.From() == nil || req.CallID() == nil || req.CSeq() == nil || req.Contact() == nil {
		c.srv.Respond(tx, req, sip.StatusBadRequest, "Missing Mandatory Header")
		return
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		if l := c.findLeg(req); l != nil {
			l.onReinvite(req, tx)
			return
		}
		c.noDialog(req, tx)
		return
	}
	if v, ok := c.legs.Load(inviteKey(req)); ok && v.(*inLeg).dlg.inviteCSeq == req.CSeq().SeqNo {
		// A late copy of an INVITE that was answered and acknowledged:
		// its transaction, which would have absorbed it, is over
		// (inLeg.settle). Not a new call.
		return
	}
	// A carrier's call comes from a trunk's address (or, on a
	// registration trunk, to its registered user): not challenged like a
	// phone, and it reaches the box's own numbers only.
	if trunks, router := c.trunkSide(); trunks != nil && router != nil {
		if name, ok := trunks.Match(req); ok {
			c.onTrunkInvite(req, tx, trunks, router, name)
			return
		}
	}
	ext, ok := c.srv.Authenticate(req, tx)
	if !ok {
		return
	}
	mgr := c.manager()
	if mgr == nil {
		c.srv.Respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	info, err := c.dir.CallerInfo(ext)
	if err != nil {
		c.srv.Respond(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	if c.tooShortSession(req, tx) {
		return
	}
	var replaced leg
	var earlyOnly bool
	if h := req.GetHeader("Replaces"); h != nil {
		id, err := parseReplaces(h.Value())
		if err != nil {
			c.srv.Respond(tx, req, sip.StatusBadRequest, "Bad Replaces")
			return
		}
		if replaced = c.findDialog(id); replaced == nil {
			c.srv.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
			return
		}
		earlyOnly = id.earlyOnly
	}
	in, code, reason := c.newInLeg(req, tx, ext, info)
	if in == nil {
		c.srv.Respond(tx, req, code, reason)
		return
	}
	from := call.Party{Number: string(ext), Name: info.Name}
	if replaced != nil {
		mgr.Replace(in, from, replaced.base().id, earlyOnly)
	} else {
		mgr.Incoming(in, from, req.Recipient.User, info.MaxCalls)
	}
	in.waitSettled()
}

// codecsOf is an extension's codec preference.
func codecsOf(info CallerInfo) []codec.Codec {
	if len(info.Codecs) > 0 {
		return info.Codecs
	}
	return []codec.Codec{codec.PCMU, codec.PCMA}
}

// applyRemote points an endpoint at the peer's SDP: address, codec and
// telephone-event payload type.
func applyRemote(ep *rtp.Endpoint, s *sdp.Session) (codec.Codec, error) {
	ai := s.Audio()
	if ai < 0 {
		return codec.Unknown, sdp.ErrNoAudio
	}
	m := &s.Media[ai]
	cd, ok := m.Codec()
	if !ok {
		return codec.Unknown, sdp.ErrNoCommonCodec
	}
	dtmf, hasDTMF := m.TelephoneEvent()
	ep.SetRemote(s.Addr(ai))
	ep.SetCodec(cd, dtmf, hasDTMF)
	return cd, nil
}

func sdpHeader() sip.Header { return sip.NewHeader("Content-Type", "application/sdp") }

// errLegEnded is returned by channel operations on a leg that has ended.
var errLegEnded = errors.New("sip: leg has ended")

// legState is what inLeg and outLeg share: the end, once; mid-call
// signals; the leg's own side of the SDP.
type legState struct {
	timer *sessionTimer // set once answered, when the leg has a session timer
	// unwatch stops the callback that ends the leg with its dialog
	// (context.AfterFunc rather than a goroutine parked on the dialog's
	// context: a parked goroutine costs a stack, 4-8 KB, for the whole call).
	unwatch func() bool
	id      call.ChannelID
	ep      *rtp.Endpoint
	done    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	cause   call.Cause
	codec   codec.Codec

	c        *Calls
	side     dialogSide
	contact  *sip.ContactHeader
	signals  chan call.Signal
	dtmfMode call.DTMFMode
	dtmf     dtmfState

	// local is what the leg says of its media (port, codecs, whether it
	// takes telephone-event); origin versions the SDP it sends.
	local  sdp.Local
	origin *sdp.Originator
	// ourSDP is our current SDP (guarded by mu): the answer or offer of
	// the INVITE, then the answer to the last mid-call offer.
	ourSDP []byte
	// held is set while the far end holds the call (guarded by mu).
	held bool
	// reofferPending is set when we offered in a 200 to a re-INVITE without
	// SDP: the answer comes in the ACK (guarded by mu).
	reofferPending bool
}

// newLegState builds the shared part of a leg.
func newLegState(c *Calls, id call.ChannelID, ep *rtp.Endpoint, mode call.DTMFMode, contact *sip.ContactHeader) legState {
	return legState{c: c, id: id, ep: ep, done: make(chan struct{}), signals: make(chan call.Signal, 8),
		dtmfMode: mode, contact: contact, origin: sdp.NewOriginator(uint64(time.Now().UnixNano()))}
}

func (s *legState) base() *legState             { return s }
func (s *legState) ID() call.ChannelID          { return s.id }
func (s *legState) Signals() <-chan call.Signal { return s.signals }
func (s *legState) DTMFMode() call.DTMFMode     { return s.dtmfMode }

// signal hands a mid-call signal to the call layer, dropping it when
// nobody reads (the call layer reads while the call is up). It never
// blocks: it runs on the relay loop for RFC 4733 and in-band digits.
func (s *legState) signal(sig call.Signal) {
	select {
	case s.signals <- sig:
	default:
	}
}

// telephoneEvent is the payload type the leg offers for RFC 4733: none
// for INFO and in-band legs, so the relay never sends them events.
func telephoneEvent(cfg CallConfig, mode call.DTMFMode) uint8 {
	if mode != call.DTMFRFC4733 {
		return 0
	}
	return cfg.TelephoneEvent
}

func (s *legState) sdpBody() []byte { s.mu.Lock(); defer s.mu.Unlock(); return s.ourSDP }

func (s *legState) setSDP(b []byte) { s.mu.Lock(); s.ourSDP = b; s.mu.Unlock() }

func (s *legState) currentCodec() codec.Codec { s.mu.Lock(); defer s.mu.Unlock(); return s.codec }

// setHeld records the far end's hold state from its latest SDP and tells
// the call layer when it changed: once on hold, once on retrieve.
func (s *legState) setHeld(held bool) {
	s.mu.Lock()
	changed := s.held != held
	s.held = held
	s.mu.Unlock()
	if !changed {
		return
	}
	if held {
		s.signal(call.Signal{Kind: call.SignalHold})
	} else {
		s.signal(call.Signal{Kind: call.SignalRetrieve})
	}
}

func (s *legState) Media() *rtp.Endpoint    { return s.ep }
func (s *legState) Done() <-chan struct{}   { return s.done }
func (s *legState) Cause() call.Cause       { s.mu.Lock(); defer s.mu.Unlock(); return s.cause }
func (s *legState) setCodec(cd codec.Codec) { s.mu.Lock(); s.codec = cd; s.mu.Unlock() }

// setTimer installs the leg's session timer (stopped at once if the leg
// ended meanwhile).
func (s *legState) setTimer(t *sessionTimer) {
	s.mu.Lock()
	s.timer = t
	s.mu.Unlock()
	if s.ended() {
		t.stop()
	}
}

// watchDialog ends the leg through ended when ctx (the dialog's) is done,
// until the leg finishes.
func (s *legState) watchDialog(ctx context.Context, ended func()) {
	stop := context.AfterFunc(ctx, ended)
	s.mu.Lock()
	s.unwatch = stop
	s.mu.Unlock()
	if s.ended() {
		stop()
	}
}

// refreshed restarts the session timer after the peer refreshed.
func (s *legState) refreshed() {
	s.mu.Lock()
	t := s.timer
	s.mu.Unlock()
	t.touch()
}
func (s *legState) Codec() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codec == codec.Unknown {
		return ""
	}
	return s.codec.String()
}

// finish records the cause and releases the media, once.
func (s *legState) finish(cause call.Cause) bool {
	first := false
	s.once.Do(func() {
		first = true
		s.mu.Lock()
		s.cause = cause
		s.mu.Unlock()
		if s.ep != nil {
			s.ep.Close()
		}
		// done is closed before the timer and the watch are read: set
		// after this read, they see the leg ended (setTimer, watchDialog).
		close(s.done)
		s.mu.Lock()
		t, unwatch := s.timer, s.unwatch
		s.mu.Unlock()
		t.stop()
		if unwatch != nil {
			// Unregistered, so a dialog that never ends does not keep
			// the leg reachable from its context.
			unwatch()
		}
	})
	return first
}

func (s *legState) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func peerAddr(req *sip.Request) netip.Addr { return addrOf(req.Source()) }

// addrOf is the IP of a host:port (zero when it is a name).
func addrOf(hostport string) netip.Addr {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// midCallOffer answers an offer in a re-INVITE or UPDATE: the same port,
// the leg's codec while the offer still lists it, the direction RFC 3264
// gives (sendonly → recvonly, inactive → inactive), telephone-event as the
// leg's DTMF mode allows. The endpoint follows the offer's address (c=0.0.0.0
// stops sending) and the hold state is reported.
func (s *legState) midCallOffer(body []byte) ([]byte, int, string) {
	offer, err := sdp.Parse(body)
	if err != nil {
		return nil, sip.StatusBadRequest, "Bad SDP"
	}
	ai := offer.Audio()
	if ai < 0 {
		return nil, sip.StatusNotAcceptableHere, "Not Acceptable Here"
	}
	local := s.local
	local.Direction = sdp.Unknown
	var ans *sdp.Session
	if cur := s.currentCodec(); cur != codec.Unknown {
		one := local
		one.Codecs = []codec.Codec{cur}
		ans, err = sdp.Answer(offer, one)
	}
	if ans == nil {
		// The codec changes (or none was agreed yet): any of ours.
		if ans, err = sdp.Answer(offer, local); err != nil {
			return nil, sip.StatusNotAcceptableHere, "Not Acceptable Here"
		}
	}
	am := &ans.Media[ans.Audio()]
	cd, _ := am.Codec()
	te, hasTE := am.TelephoneEvent()
	s.ep.SetRemote(offer.Addr(ai))
	s.ep.SetCodec(cd, te, hasTE)
	s.setCodec(cd)
	out := s.origin.Marshal(ans)
	s.setSDP(out)
	s.setHeld(offer.OnHold(ai))
	return out, 0, ""
}

// reoffer is our offer in the 200 to a re-INVITE without SDP (a late
// offer): the leg's codec first; the answer comes in the ACK.
func (s *legState) reoffer() []byte {
	local := s.local
	local.Direction = sdp.Unknown
	if cur := s.currentCodec(); cur != codec.Unknown {
		local.Codecs = preferFirst(local.Codecs, cur)
	}
	out := s.origin.Marshal(sdp.Offer(local))
	s.mu.Lock()
	s.ourSDP, s.reofferPending = out, true
	s.mu.Unlock()
	return out
}

// ackAnswer reads the answer to a reoffer from an ACK.
func (s *legState) ackAnswer(body []byte) {
	s.mu.Lock()
	pending := s.reofferPending
	s.reofferPending = false
	s.mu.Unlock()
	if !pending || len(body) == 0 {
		return
	}
	ans, err := sdp.Parse(body)
	if err != nil {
		return
	}
	cd, err := applyRemote(s.ep, ans)
	if err != nil {
		return
	}
	s.setCodec(cd)
	s.setHeld(ans.OnHold(ans.Audio()))
}

// answerReinvite answers a re-INVITE on either kind of leg: an offer gets
// midCallOffer's answer, no offer gets ours (late offer).
func (c *Calls) answerReinvite(s *legState, req *sip.Request, tx sip.ServerTransaction, extra ...sip.Header) {
	var body []byte
	if len(req.Body()) > 0 {
		var code int
		var reason string
		if body, code, reason = s.midCallOffer(req.Body()); body == nil {
			c.srv.Respond(tx, req, code, reason)
			return
		}
	} else {
		body = s.reoffer()
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	res.AppendHeader(sdpHeader())
	res.AppendHeader(s.contact)
	res.AppendHeader(sip.NewHeader("Allow", c.allow()))
	res.AppendHeader(sip.NewHeader("Supported", supported))
	for _, h := range extra {
		res.AppendHeader(h)
	}
	c.srv.RespondWith(tx, res)
}

// answerUpdate answers an UPDATE: a session refresh, and when it carries
// SDP an offer like a re-INVITE's (some phones hold with UPDATE).
func (c *Calls) answerUpdate(s *legState, req *sip.Request, tx sip.ServerTransaction, extra ...sip.Header) {
	if len(req.Body()) == 0 {
		c.srv.Respond(tx, req, sip.StatusOK, "OK", append(extra, s.contact)...)
		return
	}
	body, code, reason := s.midCallOffer(req.Body())
	if body == nil {
		c.srv.Respond(tx, req, code, reason)
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	res.AppendHeader(sdpHeader())
	res.AppendHeader(s.contact)
	for _, h := range extra {
		res.AppendHeader(h)
	}
	c.srv.RespondWith(tx, res)
}

// refreshAnswer is what a session refresh (re-INVITE or UPDATE) from the
// peer gets back: the interval confirmed, the peer still the refresher
// (RFC 4028 §9: refresher=uac names the sender of the refresh).
func refreshAnswer(interval time.Duration) []sip.Header {
	if interval <= 0 {
		return nil
	}
	return []sip.Header{sessionExpiresHeader(interval, "uac"), sip.NewHeader("Require", "timer")}
}

// sendUpdate refreshes a session with an UPDATE in the dialog.
func sendUpdate(ctx context.Context, do func(context.Context, *sip.Request) (*sip.Response, error), target sip.Uri, contact *sip.ContactHeader, interval time.Duration) error {
	req := sip.NewRequest(sip.UPDATE, target)
	req.AppendHeader(contact)
	req.AppendHeader(sessionExpiresHeader(interval, "uac"))
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
	res, err := do(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("session refresh answered %d", res.StatusCode)
	}
	return nil
}

// tooShortSession answers 422 (RFC 4028) to an INVITE whose session
// interval is below our Min-SE, and reports whether it did.
func (c *Calls) tooShortSession(req *sip.Request, tx sip.ServerTransaction) bool {
	if se, _ := sessionExpires(req); se > 0 && se < c.cfg.MinSE {
		c.srv.Respond(tx, req, 422, "Session Interval Too Small",
			sip.NewHeader("Min-SE", strconv.Itoa(int(c.cfg.MinSE/time.Second))))
		return true
	}
	return false
}
