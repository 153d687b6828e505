package siptest

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Watcher is the busy lamp side of a desk phone: a user agent that
// SUBSCRIBEs to extensions' dialog event package (RFC 6665, RFC 4235),
// answers the NOTIFYs and records them. It is a user agent of its own
// rather than a Phone because sipgo's handlers must all be set before it
// serves; it authenticates with digest like a Phone and needs no
// registration.
type Watcher struct {
	// Addr is the host:port the watcher listens on (its Contact).
	Addr      string
	Transport string // "udp" or "tcp"

	ua     *sipgo.UserAgent
	client *sipgo.Client
	conn   net.PacketConn
	ln     net.Listener
	wg     sync.WaitGroup
	subs   sync.Map // Call-ID → *Subscription
}

// NewWatcher starts a watcher listening on listen (e.g. "127.0.0.7:0")
// over transport "udp" or "tcp". Over TCP the NOTIFYs come back on the
// connection the SUBSCRIBE went out on.
func NewWatcher(transport, listen string, log *slog.Logger) (*Watcher, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("siptest-blf"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		return nil, err
	}
	w := &Watcher{ua: ua, Transport: transport}
	server, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	server.OnNotify(w.onNotify)
	server.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	switch transport {
	case "udp":
		c, err := net.ListenPacket("udp", listen)
		if err != nil {
			_ = ua.Close()
			return nil, err
		}
		w.conn, w.Addr = c, c.LocalAddr().String()
		w.wg.Add(1)
		go func() { defer w.wg.Done(); _ = server.ServeUDP(c) }()
		if !waitPooled(ua.TransportLayer().Pool("udp"), w.Addr) {
			w.Close()
			return nil, fmt.Errorf("siptest: UDP listener %s not ready", w.Addr)
		}
		w.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientConnectionAddr(w.Addr))
	case "tcp":
		l, err := net.Listen("tcp", listen)
		if err != nil {
			_ = ua.Close()
			return nil, err
		}
		w.ln, w.Addr = l, l.Addr().String()
		w.wg.Add(1)
		go func() { defer w.wg.Done(); _ = server.ServeTCP(l) }()
		host, _, _ := net.SplitHostPort(w.Addr)
		w.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientHostname(host))
	default:
		_ = ua.Close()
		return nil, fmt.Errorf("siptest: transport %q", transport)
	}
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops the watcher; its subscriptions are abandoned.
func (w *Watcher) Close() {
	if w.conn != nil {
		_ = w.conn.Close()
	}
	if w.ln != nil {
		_ = w.ln.Close()
	}
	_ = w.ua.Close()
	w.wg.Wait()
}

// Subscribe describes one SUBSCRIBE.
type Subscribe struct {
	Server    string // the appliance's host:port
	Target    string // the extension watched (Request-URI and To user)
	Ext       string // the subscriber's extension, digest username
	Password  string // "" answers no challenge (the 401 is the final response)
	Algorithm string // "MD5" (default) or "SHA-256"
	// Expires is the Expires header in seconds; negative leaves it out.
	Expires int
	// Event is the Event header ("": "dialog").
	Event string
	// Accept is the Accept header ("": application/dialog-info+xml,
	// "-": none).
	Accept string
}

// Notify is one NOTIFY a subscription received.
type Notify struct {
	// State is the Subscription-State value: "active", "pending" or
	// "terminated"; Expires and Reason its parameters (Expires -1: none).
	State   string
	Expires int
	Reason  string
	Event   string
	CSeq    uint32
	// Info is the parsed body; Err is set when it did not parse.
	Info DialogInfo
	Err  error
	Body []byte
	// Request is the NOTIFY as received.
	Request *sip.Request
}

// Lamp is what a phone's lamp shows after this NOTIFY: the state of the
// document's first dialog ("early", "confirmed", "terminated"), or "idle"
// when it lists none.
func (n Notify) Lamp() string {
	if len(n.Info.Dialogs) == 0 {
		return "idle"
	}
	return n.Info.Dialogs[0].State
}

// Subscription is one dialog-event subscription of a Watcher.
type Subscription struct {
	w      *Watcher
	server string
	ext    string
	callID string

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every NOTIFY
	fromTag  string
	toTag    string
	from, to sip.Uri
	target   sip.Uri // the appliance's Contact: where in-dialog requests go
	cseq     uint32
	notifies []Notify
	seen     int // NOTIFYs already returned by WaitNotify
	answer   int // status for NOTIFYs; 0: 200, negative: no answer
}

// ErrRefused is returned by Subscribe when the final response is not 2xx;
// the response is returned beside it.
var ErrRefused = errors.New("siptest: SUBSCRIBE refused")

// Subscribe sends a SUBSCRIBE, answering one digest challenge when a
// password is given. On a 2xx it returns the subscription, which records
// every NOTIFY from then on (one may arrive before the 200). Otherwise it
// returns the final response with ErrRefused.
func (w *Watcher) Subscribe(ctx context.Context, s Subscribe) (*Subscription, *sip.Response, error) {
	host, portText, err := net.SplitHostPort(s.Server)
	if err != nil {
		return nil, nil, err
	}
	port, _ := strconv.Atoi(portText)
	sub := &Subscription{w: w, server: s.Server, ext: s.Ext, callID: sip.GenerateTagN(16) + "@siptest-blf",
		changed: make(chan struct{}), fromTag: sip.GenerateTagN(8),
		from:   sip.Uri{Scheme: "sip", User: s.Ext, Host: host},
		to:     sip.Uri{Scheme: "sip", User: s.Target, Host: host},
		target: sip.Uri{Scheme: "sip", User: s.Target, Host: host, Port: port},
	}
	hs := []sip.Header{}
	ev := s.Event
	if ev == "" {
		ev = "dialog"
	}
	hs = append(hs, sip.NewHeader("Event", ev))
	switch s.Accept {
	case "":
		hs = append(hs, sip.NewHeader("Accept", "application/dialog-info+xml"))
	case "-":
	default:
		hs = append(hs, sip.NewHeader("Accept", s.Accept))
	}
	if s.Expires >= 0 {
		hs = append(hs, sip.NewHeader("Expires", strconv.Itoa(s.Expires)))
	}
	w.subs.Store(sub.callID, sub)
	res, err := sub.do(ctx, s.Password, s.Algorithm, hs)
	if err != nil {
		w.subs.Delete(sub.callID)
		return nil, res, err
	}
	if !res.IsSuccess() {
		w.subs.Delete(sub.callID)
		return nil, res, fmt.Errorf("%w: %d", ErrRefused, res.StatusCode)
	}
	sub.mu.Lock()
	if tag, ok := res.To().Params.Get("tag"); ok {
		sub.toTag = tag
	}
	if c := res.Contact(); c != nil {
		sub.target = c.Address
	}
	sub.mu.Unlock()
	return sub, res, nil
}

// do sends a SUBSCRIBE in the subscription (initial when there is no To
// tag yet) and answers one digest challenge.
func (s *Subscription) do(ctx context.Context, password, alg string, hs []sip.Header) (*sip.Response, error) {
	req := s.request(hs)
	res, err := s.w.client.Do(ctx, req)
	if err != nil || password == "" ||
		(res.StatusCode != sip.StatusUnauthorized && res.StatusCode != sip.StatusProxyAuthRequired) {
		return res, err
	}
	if alg == "" {
		alg = "MD5"
	}
	hdr, authz := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		hdr, authz = "Proxy-Authenticate", "Proxy-Authorization"
	}
	chal, err := pickChallengeIn(res, hdr, alg)
	if err != nil {
		return res, err
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: "SUBSCRIBE", URI: req.Recipient.String(), Username: s.ext, Password: password, Count: 1,
	})
	if err != nil {
		return nil, err
	}
	next := s.request(hs)
	next.AppendHeader(sip.NewHeader(authz, cred.String()))
	return s.w.client.Do(ctx, next)
}

// request builds the next SUBSCRIBE of the dialog.
func (s *Subscription) request(hs []sip.Header) *sip.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cseq++
	req := sip.NewRequest(sip.SUBSCRIBE, s.target)
	req.SetTransport(strings.ToUpper(s.w.Transport))
	req.SetDestination(s.server)
	from := &sip.FromHeader{Address: s.from, Params: sip.NewParams()}
	from.Params.Add("tag", s.fromTag)
	to := &sip.ToHeader{Address: s.to, Params: sip.NewParams()}
	if s.toTag != "" {
		to.Params.Add("tag", s.toTag)
	}
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.cseq, MethodName: sip.SUBSCRIBE})
	req.AppendHeader(s.w.contact(s.ext))
	req.AppendHeader(sip.NewHeader("User-Agent", "siptest-blf"))
	for _, h := range hs {
		req.AppendHeader(h)
	}
	return req
}

// contact is the watcher's Contact for ext.
func (w *Watcher) contact(ext string) *sip.ContactHeader {
	host, port, _ := net.SplitHostPort(w.Addr)
	n, _ := strconv.Atoi(port)
	h := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: host, Port: n}}
	if w.Transport != "udp" {
		h.Address.UriParams = sip.NewParams()
		h.Address.UriParams.Add("transport", w.Transport)
	}
	return h
}

// Refresh sends a SUBSCRIBE in the dialog with a new Expires (0 ends the
// subscription) and returns the final response.
func (s *Subscription) Refresh(ctx context.Context, expires int) (*sip.Response, error) {
	return s.do(ctx, "", "", []sip.Header{
		sip.NewHeader("Event", "dialog"),
		sip.NewHeader("Accept", "application/dialog-info+xml"),
		sip.NewHeader("Expires", strconv.Itoa(expires)),
	})
}

// Unsubscribe ends the subscription (Expires: 0); the appliance then sends
// a final NOTIFY with Subscription-State terminated.
func (s *Subscription) Unsubscribe(ctx context.Context) (*sip.Response, error) {
	return s.Refresh(ctx, 0)
}

// SetNotifyAnswer sets the status later NOTIFYs get: 0 for 200, a code
// (481 for a phone that forgot the subscription), or negative for none.
func (s *Subscription) SetNotifyAnswer(code int) {
	s.mu.Lock()
	s.answer = code
	s.mu.Unlock()
}

// Notifies returns every NOTIFY received so far.
func (s *Subscription) Notifies() []Notify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notify(nil), s.notifies...)
}

// WaitNotify waits for a NOTIFY satisfying cond among those that arrived
// after the last one WaitNotify returned, and returns it; NOTIFYs it
// passes over are skipped for later calls too.
func (s *Subscription) WaitNotify(ctx context.Context, what string, cond func(n Notify) bool) (Notify, error) {
	for {
		s.mu.Lock()
		for s.seen < len(s.notifies) {
			n := s.notifies[s.seen]
			s.seen++
			if cond(n) {
				s.mu.Unlock()
				return n, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Notify{}, fmt.Errorf("siptest: waiting for NOTIFY %s: %w", what, ctx.Err())
		}
	}
}

func (w *Watcher) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	var sub *Subscription
	if req.CallID() != nil {
		if v, ok := w.subs.Load(req.CallID().Value()); ok {
			sub = v.(*Subscription)
		}
	}
	if sub == nil || req.To() == nil || req.From() == nil || req.CSeq() == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist", nil))
		return
	}
	n := Notify{Expires: -1, CSeq: req.CSeq().SeqNo, Body: req.Body(), Request: req}
	if h := req.GetHeader("Subscription-State"); h != nil {
		n.State, n.Expires, n.Reason = parseSubscriptionState(h.Value())
	}
	if h := req.GetHeader("Event"); h != nil {
		n.Event = h.Value()
	}
	n.Info, n.Err = ParseDialogInfo(req.Body())
	toTag, _ := req.To().Params.Get("tag")
	fromTag, _ := req.From().Params.Get("tag")
	sub.mu.Lock()
	if toTag != sub.fromTag {
		sub.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist", nil))
		return
	}
	if sub.toTag == "" {
		// The NOTIFY overtook the 200 (RFC 6665 §4.1.2.4).
		sub.toTag = fromTag
	}
	sub.notifies = append(sub.notifies, n)
	close(sub.changed)
	sub.changed = make(chan struct{})
	answer := sub.answer
	sub.mu.Unlock()
	switch {
	case answer < 0:
	case answer == 0:
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	default:
		_ = tx.Respond(sip.NewResponseFromRequest(req, answer, "Test Answer", nil))
	}
}

// parseSubscriptionState reads "active;expires=599" or
// "terminated;reason=timeout" (RFC 6665 §8.2.3); expires is -1 when absent
// or unreadable.
func parseSubscriptionState(v string) (state string, expires int, reason string) {
	expires = -1
	parts := strings.Split(v, ";")
	state = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(p, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "expires":
			if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n >= 0 {
				expires = n
			}
		case "reason":
			reason = strings.TrimSpace(val)
		}
	}
	return state, expires, reason
}

// DialogInfo is a dialog-info document (RFC 4235 §4.1), as much of it as
// busy lamps read.
type DialogInfo struct {
	XMLName xml.Name     `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	Version uint32       `xml:"version,attr"`
	State   string       `xml:"state,attr"` // "full" or "partial"
	Entity  string       `xml:"entity,attr"`
	Dialogs []InfoDialog `xml:"dialog"`
}

// InfoDialog is one dialog element of a DialogInfo.
type InfoDialog struct {
	ID        string `xml:"id,attr"`
	Direction string `xml:"direction,attr"` // "initiator", "recipient" or ""
	State     string `xml:"state"`          // trying, proceeding, early, confirmed, terminated
}

// ErrBadDialogInfo is returned by ParseDialogInfo for a body that is not a
// valid dialog-info document.
var ErrBadDialogInfo = errors.New("siptest: bad dialog-info document")

// maxDialogInfo bounds the documents ParseDialogInfo reads.
const maxDialogInfo = 64 << 10

// ParseDialogInfo parses a dialog-info body and checks what RFC 4235
// requires of it: the namespace, a version, state full or partial, an
// entity, and each dialog's id and known state.
func ParseDialogInfo(b []byte) (DialogInfo, error) {
	var d DialogInfo
	if len(b) > maxDialogInfo {
		return d, fmt.Errorf("%d bytes: %w", len(b), ErrBadDialogInfo)
	}
	if err := xml.Unmarshal(b, &d); err != nil {
		return DialogInfo{}, fmt.Errorf("%w: %w", ErrBadDialogInfo, err)
	}
	if d.State != "full" && d.State != "partial" {
		return DialogInfo{}, fmt.Errorf("state %q: %w", d.State, ErrBadDialogInfo)
	}
	if d.Entity == "" {
		return DialogInfo{}, fmt.Errorf("no entity: %w", ErrBadDialogInfo)
	}
	for i := range d.Dialogs {
		dl := &d.Dialogs[i]
		dl.State = strings.TrimSpace(dl.State)
		switch dl.State {
		case "trying", "proceeding", "early", "confirmed", "terminated":
		default:
			return DialogInfo{}, fmt.Errorf("dialog state %q: %w", dl.State, ErrBadDialogInfo)
		}
		if dl.ID == "" {
			return DialogInfo{}, fmt.Errorf("dialog without id: %w", ErrBadDialogInfo)
		}
	}
	return d, nil
}
