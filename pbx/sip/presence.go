package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// DeviceStates is where presence reads device states (call.Devices
// implements it).
type DeviceStates interface {
	State(d call.Device) call.DeviceState
}

// PresenceConfig configures busy lamps. Zero values take the defaults
// written on each field.
type PresenceConfig struct {
	// MaxSubscriptions bounds the subscriptions of the whole box (503 with
	// Retry-After over it). Zero: 10000.
	MaxSubscriptions int
	// MaxPerSubscriber bounds one extension's subscriptions (403 over it):
	// a phone with a sidecar of BLF keys needs dozens, not thousands. Zero: 200.
	MaxPerSubscriber int
	// MinExpires is the shortest subscription accepted (423 below it). Zero: 60 s.
	MinExpires time.Duration
	// MaxExpires caps a subscription's lifetime. Zero: 3600 s.
	MaxExpires time.Duration
	// DefaultExpires applies when a SUBSCRIBE names none. Zero: 600 s.
	DefaultExpires time.Duration
	// Advertise is the address phones reach the appliance at, written in
	// our Contact (as CallConfig.Advertise). Zero: the listener's address
	// when it is a specific one, else the local address routed to the phone.
	Advertise netip.Addr
	// NotifyTimeout is how long a NOTIFY may go unanswered. Zero: 5 s.
	NotifyTimeout time.Duration
	// SweepInterval is how often expired subscriptions are dropped. Zero: 1 s.
	SweepInterval time.Duration
	// Workers is how many NOTIFYs may be in flight at once. Zero: 8.
	Workers int
	// Registerer receives pbx_sip_subscriptions; nil: no metric.
	Registerer prometheus.Registerer
}

func (c PresenceConfig) withDefaults() PresenceConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defi := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	defi(&c.MaxSubscriptions, 10000)
	defi(&c.MaxPerSubscriber, 200)
	defi(&c.Workers, 8)
	def(&c.MinExpires, 60*time.Second)
	def(&c.MaxExpires, 3600*time.Second)
	def(&c.DefaultExpires, 600*time.Second)
	def(&c.NotifyTimeout, 5*time.Second)
	def(&c.SweepInterval, time.Second)
	return c
}

// maxNotifyFailures is how many NOTIFYs in a row may fail (no answer, or
// an error status) before the subscription is dropped; the phone
// subscribes again when its refresh gets 481.
const maxNotifyFailures = 3

// Presence is the notifier of the dialog event package (RFC 6665, RFC
// 4235): busy lamp keys on desk phones SUBSCRIBE to an extension and get a
// NOTIFY each time it starts ringing, answers and hangs up.
//
// Subscriptions live in memory only. Close stops sending without a final
// NOTIFY: after a restart the phones' refreshes get 481 and they subscribe
// again, which is what every desk phone does.
type Presence struct {
	srv    *Server
	states DeviceStates
	exists func(ext Extension) bool
	cfg    PresenceConfig
	log    *slog.Logger
	gauge  prometheus.Gauge // nil without a Registerer

	ctx    context.Context // ends at Close: NOTIFYs in flight give up
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards everything below and every subscription's fields.
	mu      sync.Mutex
	wake    *sync.Cond // on mu: ready grew or closed
	closed  bool
	subs    map[string]*subscription // dialog key → subscription
	watched map[Extension]*watched
	per     map[Extension]int // subscriber → its subscriptions
	ready   []*subscription   // subscriptions with a NOTIFY to send, each at most once
}

// watched is what the lamps of one extension show, shared by its subscribers.
type watched struct {
	lamp lampState
	id   string // the current dialog's id while lamp is active
	seq  uint64 // numbers the dialog ids
	subs map[*subscription]struct{}
}

// subscription is one dialog created by a SUBSCRIBE (RFC 6665 §4.2.1).
type subscription struct {
	key        string
	subscriber Extension
	target     Extension
	w          *watched

	callID     string
	localTag   string  // ours: the To tag of the 200 and the From tag of NOTIFYs
	remoteTag  string  // the subscriber's From tag
	local      sip.Uri // the SUBSCRIBE's To address
	remote     sip.Uri // the SUBSCRIBE's From address
	event      string  // the Event value NOTIFYs carry ("dialog", with its id)
	dest       Binding // where NOTIFYs go: Contact, source address, transport
	contact    *sip.ContactHeader
	expires    time.Time
	remoteCSeq uint32

	cseq     uint32 // our last NOTIFY's
	version  uint32 // the next document's version (RFC 4235 §4.1: from 0)
	shown    lampState
	shownID  string
	ready    bool   // the 200 OK has gone: NOTIFYs may follow
	dirty    bool   // the state shown changed since the last NOTIFY
	queued   bool   // in ready or held by a worker
	ending   string // the terminated reason of the final NOTIFY, once ended
	dropped  bool   // ended without a final NOTIFY: send nothing more
	failures int
}

// NewPresence adds the dialog event package to srv: it handles SUBSCRIBE
// (initial, refreshes, and Expires: 0 to end) and starts the NOTIFY
// workers and the expiry sweep, which run until Close. states gives the
// initial state of a watched extension, exists tells which extensions
// may be watched.
func NewPresence(srv *Server, states DeviceStates, exists func(ext Extension) bool, cfg PresenceConfig) (*Presence, error) {
	switch {
	case srv == nil:
		return nil, fmt.Errorf("Server: %w", ErrMissingDependency)
	case states == nil:
		return nil, fmt.Errorf("DeviceStates: %w", ErrMissingDependency)
	case exists == nil:
		return nil, fmt.Errorf("exists: %w", ErrMissingDependency)
	}
	cfg = cfg.withDefaults()
	p := &Presence{srv: srv, states: states, exists: exists, cfg: cfg,
		log:  srv.log.With("component", "presence"),
		subs: map[string]*subscription{}, watched: map[Extension]*watched{}, per: map[Extension]int{}}
	if cfg.Registerer != nil {
		p.gauge = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pbx_sip_subscriptions", Help: "Active dialog event (busy lamp) subscriptions.",
		})
		if err := cfg.Registerer.Register(p.gauge); err != nil {
			return nil, fmt.Errorf("presence metrics: %w", err)
		}
	}
	p.wake = sync.NewCond(&p.mu)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(cfg.Workers + 1)
	for range cfg.Workers {
		go func() { defer p.wg.Done(); p.worker() }()
	}
	go func() { defer p.wg.Done(); p.sweepLoop() }()
	srv.Handle(sip.SUBSCRIBE, p.onSubscribe)
	return p, nil
}

// Close stops the workers and the sweep and waits for them; NOTIFYs in
// flight are abandoned and no final NOTIFY is sent (see Presence). Call it
// before the server's Run returns, so no NOTIFY is sent through closing
// transports. SUBSCRIBEs after Close are answered 503.
func (p *Presence) Close() {
	p.mu.Lock()
	p.closed = true
	p.wake.Broadcast()
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// Count is how many subscriptions are active.
func (p *Presence) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.subs)
}

// DeviceChanged is told each device state change (device.state_changed).
// When what the lamps of that extension show changes, every subscriber
// gets a NOTIFY; it only queues them and returns.
func (p *Presence) DeviceChanged(d call.Device, state call.DeviceState) {
	if d.Kind != call.DeviceSIP {
		return
	}
	lamp := lampOf(state)
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.watch(Extension(d.ID), lamp)
	if w.lamp == lamp {
		return
	}
	if lamp.active() && !w.lamp.active() {
		// A new call: a new dialog id, kept from ringing to answered.
		w.seq++
		w.id = d.ID + "-" + strconv.FormatUint(w.seq, 10)
	}
	w.lamp = lamp
	for s := range w.subs {
		p.markDirty(s)
	}
}

// watch returns ext's entry, created showing lamp. Entries stay after
// their last subscriber leaves so the state DeviceChanged reported is
// kept; there is one per extension at most. p.mu held.
func (p *Presence) watch(ext Extension, lamp lampState) *watched {
	w := p.watched[ext]
	if w == nil {
		w = &watched{lamp: lamp, subs: map[*subscription]struct{}{}}
		if lamp.active() {
			w.seq = 1
			w.id = string(ext) + "-1"
		}
		p.watched[ext] = w
	}
	return w
}

// markDirty queues a NOTIFY for s. p.mu held.
func (p *Presence) markDirty(s *subscription) {
	s.dirty = true
	if !s.ready || s.queued || p.closed {
		return
	}
	s.queued = true
	p.ready = append(p.ready, s)
	p.wake.Signal()
}

// Errors of a SUBSCRIBE, mapped to responses by subscribeStatus.
var (
	// errBadEvent is returned by parseSubscribe for an event package other than dialog.
	errBadEvent = errors.New("sip: unsupported event package")
	// errNotAcceptable is returned by parseSubscribe when Accept excludes dialog-info.
	errNotAcceptable = errors.New("sip: dialog-info not acceptable")
	// errBadSubscribe is returned by parseSubscribe for a malformed SUBSCRIBE.
	errBadSubscribe = errors.New("sip: malformed SUBSCRIBE")
)

// subscribeStatus maps a parseSubscribe error onto the response.
func subscribeStatus(err error) (int, string, []sip.Header) {
	switch {
	case errors.Is(err, errBadEvent):
		// RFC 6665 §8.2.2: 489 lists the packages we do support.
		return 489, "Bad Event", []sip.Header{sip.NewHeader("Allow-Events", "dialog")}
	case errors.Is(err, errNotAcceptable):
		return sip.StatusNotAcceptable, "Not Acceptable", []sip.Header{sip.NewHeader("Accept", dialogInfoType)}
	}
	return sip.StatusBadRequest, "Bad Request", nil
}

// subscribeRequest is what a SUBSCRIBE asks for.
type subscribeRequest struct {
	eventID    string        // the Event header's id parameter, echoed in NOTIFYs
	expires    time.Duration // the Expires header
	hasExpires bool
}

// parseSubscribe reads Event, Accept and Expires of a SUBSCRIBE (RFC 6665
// §4.1.2, §8.2.1): the dialog package only (any parameters), a body type we
// can send, and a sane duration. Mandatory headers are checked too.
func parseSubscribe(req *sip.Request) (subscribeRequest, error) {
	var r subscribeRequest
	if req.To() == nil || req.From() == nil || req.CallID() == nil || req.CSeq() == nil {
		return r, errBadSubscribe
	}
	ev := req.GetHeader("Event")
	if ev == nil {
		return r, fmt.Errorf("no Event: %w", errBadSubscribe)
	}
	pkg, params, _ := strings.Cut(ev.Value(), ";")
	if !strings.EqualFold(strings.TrimSpace(pkg), "dialog") {
		return r, errBadEvent
	}
	for _, kv := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(strings.TrimSpace(k), "id") {
			r.eventID = strings.TrimSpace(v)
		}
	}
	if !validToken(r.eventID) {
		return r, fmt.Errorf("Event id: %w", errBadSubscribe)
	}
	if accepts := req.GetHeaders("Accept"); len(accepts) > 0 && !acceptsDialogInfo(accepts) {
		return r, errNotAcceptable
	}
	if h := req.GetHeader("Expires"); h != nil {
		d, err := parseDelta(h.Value())
		if err != nil {
			return r, fmt.Errorf("Expires: %w", errBadSubscribe)
		}
		r.expires, r.hasExpires = d, true
	}
	return r, nil
}

// validToken reports whether s may be echoed in a header parameter: short,
// and only token characters (RFC 3261 §25.1), so a hostile id cannot
// break the NOTIFYs.
func validToken(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// acceptsDialogInfo reports whether Accept values admit dialog-info bodies.
func acceptsDialogInfo(hs []sip.Header) bool {
	for _, h := range hs {
		for _, r := range strings.Split(h.Value(), ",") {
			mt, _, _ := strings.Cut(r, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case dialogInfoType, "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

func (p *Presence) onSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	r, err := parseSubscribe(req)
	if err != nil {
		code, reason, hs := subscribeStatus(err)
		p.srv.Respond(tx, req, code, reason, hs...)
		return
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		p.refresh(req, tx, r)
		return
	}
	// RFC 6665 §4.1.2.1: the Contact is where NOTIFYs go.
	cont := req.Contact()
	if cont == nil || cont.Address.Host == "" {
		p.srv.Respond(tx, req, sip.StatusBadRequest, "Missing Contact")
		return
	}
	ext, ok := p.srv.Authenticate(req, tx)
	if !ok {
		return
	}
	// Only authenticated users get this far: 404 tells them nothing an
	// extension list would not.
	target := Extension(req.Recipient.User)
	if target == "" || !p.exists(target) {
		p.srv.Respond(tx, req, sip.StatusNotFound, "Not Found")
		return
	}
	exp, ok := p.expiry(req, tx, r)
	if !ok {
		return
	}
	// Read outside p.mu: the device tracker may call DeviceChanged under
	// its own lock.
	lamp := lampOf(p.states.State(call.Device{Kind: call.DeviceSIP, ID: string(target)}))

	from := req.From()
	remoteTag, _ := from.Params.Get("tag")
	t := transportOf(req)
	s := &subscription{
		subscriber: ext, target: target,
		callID: req.CallID().Value(), localTag: sip.GenerateTagN(16), remoteTag: remoteTag,
		local: req.To().Address, remote: from.Address,
		event:      eventValue(r.eventID),
		dest:       Binding{Contact: cont.Address.String(), Source: req.Source(), Transport: t},
		contact:    p.contact(peerAddr(req), t),
		expires:    p.srv.now().Add(exp),
		remoteCSeq: req.CSeq().SeqNo,
	}
	s.key = dialogKey(s.callID, s.localTag)

	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		p.srv.Respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "60"))
		return
	case exp > 0 && len(p.subs) >= p.cfg.MaxSubscriptions:
		p.mu.Unlock()
		p.log.Warn("subscription refused: box limit", "max", p.cfg.MaxSubscriptions)
		p.srv.Respond(tx, req, sip.StatusServiceUnavailable, "Too Many Subscriptions", sip.NewHeader("Retry-After", "60"))
		return
	case exp > 0 && p.per[ext] >= p.cfg.MaxPerSubscriber:
		p.mu.Unlock()
		p.srv.Respond(tx, req, sip.StatusForbidden, "Too Many Subscriptions")
		return
	}
	s.w = p.watch(target, lamp)
	if exp > 0 {
		p.add(s)
	} else {
		// A fetch (RFC 6665 §4.4.3): one NOTIFY with the state, terminated.
		s.ending = "timeout"
	}
	p.mu.Unlock()

	p.accept(req, tx, s, exp)
	p.log.Debug("subscribed", "subscriber", string(ext), "target", string(target), "expires", exp, "transport", t.String())
	p.mu.Lock()
	s.ready = true
	p.markDirty(s)
	p.mu.Unlock()
}

// expiry checks and clamps the requested duration; false when it has
// answered 423.
func (p *Presence) expiry(req *sip.Request, tx sip.ServerTransaction, r subscribeRequest) (time.Duration, bool) {
	exp := p.cfg.DefaultExpires
	if r.hasExpires {
		exp = r.expires
	}
	if exp != 0 && exp < p.cfg.MinExpires {
		p.srv.Respond(tx, req, sip.StatusIntervalToBrief, "Interval Too Brief",
			sip.NewHeader("Min-Expires", strconv.Itoa(int(p.cfg.MinExpires/time.Second))))
		return 0, false
	}
	return min(exp, p.cfg.MaxExpires), true
}

// eventValue is the Event header of our NOTIFYs: the package, with the
// subscription's id when it had one (RFC 6665 §8.2.1).
func eventValue(id string) string {
	if id == "" {
		return "dialog"
	}
	return "dialog;id=" + id
}

// accept answers 200 with our tag, Contact and the granted duration.
func (p *Presence) accept(req *sip.Request, tx sip.ServerTransaction, s *subscription, exp time.Duration) {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if to := res.To(); to != nil {
		// sipgo gives every response a fresh tag; ours names the dialog.
		to.Params.Add("tag", s.localTag)
	}
	res.AppendHeader(s.contact)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(exp/time.Second))))
	res.AppendHeader(sip.NewHeader("Allow-Events", "dialog"))
	res.AppendHeader(sip.NewHeader("Server", p.srv.cfg.UserAgent))
	p.srv.RespondWith(tx, res)
}

// add files s under its dialog, target and subscriber. p.mu held.
func (p *Presence) add(s *subscription) {
	p.subs[s.key] = s
	s.w.subs[s] = struct{}{}
	p.per[s.subscriber]++
	p.setGauge()
}

// remove ends s. With a reason it gets a final NOTIFY (Subscription-State:
// terminated;reason=...); without one it is dropped silently (the phone
// is gone). p.mu held.
func (p *Presence) remove(s *subscription, reason string) {
	if _, ok := p.subs[s.key]; !ok {
		return
	}
	delete(p.subs, s.key)
	delete(s.w.subs, s)
	if p.per[s.subscriber]--; p.per[s.subscriber] <= 0 {
		delete(p.per, s.subscriber)
	}
	p.setGauge()
	if reason == "" {
		s.dropped = true
		return
	}
	s.ending = reason
	p.markDirty(s)
}

func (p *Presence) setGauge() {
	if p.gauge != nil {
		p.gauge.Set(float64(len(p.subs)))
	}
}

// refresh handles a SUBSCRIBE within a subscription (RFC 6665 §4.2.1.2):
// a new duration, or Expires: 0 to end it; either way a NOTIFY with the
// full state follows. In-dialog requests are not challenged, as Asterisk
// does not: they are bound to the subscription by our random tag, and
// several phones do not expect a challenge on a refresh.
func (p *Presence) refresh(req *sip.Request, tx sip.ServerTransaction, r subscribeRequest) {
	fromTag, _ := req.From().Params.Get("tag")
	p.mu.Lock()
	s := p.subs[requestKey(req)]
	if s == nil || s.remoteTag != fromTag {
		p.mu.Unlock()
		p.srv.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist")
		return
	}
	// RFC 3261 §12.2.2: an older CSeq is out of order.
	if req.CSeq().SeqNo <= s.remoteCSeq {
		p.mu.Unlock()
		p.srv.Respond(tx, req, sip.StatusInternalServerError, "CSeq Out of Order")
		return
	}
	p.mu.Unlock()
	exp, ok := p.expiry(req, tx, r)
	if !ok {
		return
	}
	p.mu.Lock()
	if p.subs[s.key] != s {
		// Ended while we looked at it.
		p.mu.Unlock()
		p.srv.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist")
		return
	}
	s.remoteCSeq = req.CSeq().SeqNo
	// SUBSCRIBE refreshes the remote target (RFC 6665 §4.1.2.1).
	if c := req.Contact(); c != nil && c.Address.Host != "" {
		s.dest = Binding{Contact: c.Address.String(), Source: req.Source(), Transport: transportOf(req)}
	}
	if exp == 0 {
		// Out of the table now, so no change can slip in after the 200;
		// the final NOTIFY waits for the 200 like the first one.
		s.ready = false
		p.remove(s, "timeout")
	} else {
		s.expires = p.srv.now().Add(exp)
		s.ready = false
	}
	p.mu.Unlock()

	p.accept(req, tx, s, exp)
	p.mu.Lock()
	s.ready = true
	p.markDirty(s)
	p.mu.Unlock()
}

// worker sends queued NOTIFYs, one subscription at a time, so each
// subscription's NOTIFYs leave in order and never more than Workers are
// in flight.
func (p *Presence) worker() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.ready) == 0 && !p.closed {
			p.wake.Wait()
		}
		if p.closed {
			return
		}
		s := p.ready[0]
		p.ready[0] = nil
		p.ready = p.ready[1:]
		if !s.dirty || !s.ready || s.dropped {
			// Nothing to say, or not yet (the 200 is on its way: the
			// handler queues it again), or nobody to say it to.
			s.queued = false
			continue
		}
		s.dirty = false
		final := s.ending != ""
		req, dest := p.notify(s)
		p.mu.Unlock()
		code, err := p.send(req, dest)
		p.mu.Lock()
		p.sent(s, final, code, err)
		if s.dirty && !final {
			// Changed while we sent: back of the queue, still queued.
			p.ready = append(p.ready, s)
			continue
		}
		s.queued = false
	}
}

// sent applies a NOTIFY's outcome (RFC 6665 §4.2.2): 481 ends the
// subscription at once, maxNotifyFailures failures in a row end it too.
// p.mu held.
func (p *Presence) sent(s *subscription, final bool, code int, err error) {
	if final {
		return
	}
	switch {
	case code >= 200 && code < 300:
		s.failures = 0
		return
	case code == sip.StatusCallTransactionDoesNotExists:
		p.log.Debug("subscription gone at the phone", "subscriber", string(s.subscriber), "target", string(s.target))
		p.remove(s, "")
		return
	}
	s.failures++
	p.log.Debug("notify failed", "subscriber", string(s.subscriber), "target", string(s.target), "status", code, "err", err, "failures", s.failures)
	if s.failures >= maxNotifyFailures {
		p.log.Info("subscription dropped: phone does not answer NOTIFY", "subscriber", string(s.subscriber), "target", string(s.target))
		p.remove(s, "")
	}
}

// notify builds s's next NOTIFY (RFC 6665 §4.2.1) with the full state:
// within the subscription's dialog, to the subscriber's Contact. p.mu held.
func (p *Presence) notify(s *subscription) (*sip.Request, Binding) {
	now := p.srv.now()
	state := "terminated;reason=" + s.ending
	if s.ending == "" {
		left := max(s.expires.Sub(now), 0)
		state = "active;expires=" + strconv.Itoa(int((left+time.Second-1)/time.Second))
	}
	v := dialogView{version: s.version, entity: "sip:" + string(s.target) + "@" + p.srv.cfg.Realm, lamp: lampIdle}
	s.version++
	switch w := s.w; {
	case w.lamp.active():
		v.lamp, v.id = w.lamp, w.id
		s.shown, s.shownID = w.lamp, w.id
	case s.shown.active():
		// The call this subscriber saw has ended: say so once.
		v.ended, v.id = true, s.shownID
		s.shown = lampIdle
	}
	s.cseq++

	var uri sip.Uri
	if err := sip.ParseUri(s.dest.Contact, &uri); err != nil {
		// Checked when the SUBSCRIBE arrived; the parsed form re-parses.
		uri = s.remote
	}
	req := sip.NewRequest(sip.NOTIFY, uri)
	from := &sip.FromHeader{Address: s.local, Params: sip.NewParams()}
	from.Params.Add("tag", s.localTag)
	to := &sip.ToHeader{Address: s.remote, Params: sip.NewParams()}
	if s.remoteTag != "" {
		to.Params.Add("tag", s.remoteTag)
	}
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.cseq, MethodName: sip.NOTIFY})
	req.AppendHeader(s.contact)
	req.AppendHeader(sip.NewHeader("Event", s.event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("User-Agent", p.srv.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Content-Type", dialogInfoType))
	req.SetBody(dialogInfo(v))
	return req, s.dest
}

// errNoFinalResponse is what send reports when a NOTIFY's transaction
// ended without a final response.
var errNoFinalResponse = errors.New("sip: no final response to NOTIFY")

// send sends one NOTIFY and returns the final status (0 when none came).
func (p *Presence) send(req *sip.Request, dest Binding) (int, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.NotifyTimeout)
	defer cancel()
	tx, err := p.srv.Request(ctx, dest, req)
	if err != nil {
		return 0, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.StatusCode >= 200 {
				return res.StatusCode, nil
			}
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return 0, err
			}
			return 0, errNoFinalResponse
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// sweepLoop ends expired subscriptions each SweepInterval until Close.
func (p *Presence) sweepLoop() {
	t := time.NewTicker(p.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			p.sweep()
		}
	}
}

// sweep ends every subscription past its expiry with a final NOTIFY
// (RFC 6665 §4.2.2, reason timeout).
func (p *Presence) sweep() {
	now := p.srv.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.subs {
		if !now.Before(s.expires) {
			p.log.Debug("subscription expired", "subscriber", string(s.subscriber), "target", string(s.target))
			p.remove(s, "timeout")
		}
	}
}

// contact is our Contact towards a phone at peer, built as Calls builds
// it: the advertised address and the listener's port of the transport.
func (p *Presence) contact(peer netip.Addr, t Transport) *sip.ContactHeader {
	h := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "ccbox",
		Host: p.advertise(peer, t).String(), Port: int(p.srv.listenAddr(t).Port())}}
	if t == TransportTCP || t == TransportTLS {
		h.Address.UriParams = sip.NewParams()
		h.Address.UriParams.Add("transport", t.String())
	}
	return h
}

// advertise is the address a peer at peer reaches us at.
func (p *Presence) advertise(peer netip.Addr, t Transport) netip.Addr {
	if p.cfg.Advertise.IsValid() {
		return p.cfg.Advertise
	}
	if a := p.srv.listenAddr(t); a.IsValid() && !a.Addr().IsUnspecified() {
		return a.Addr()
	}
	if !peer.IsValid() {
		return netip.IPv4Unspecified()
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
