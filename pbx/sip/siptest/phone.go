// Package siptest is a small sipgo-based SIP phone for tests of the
// registrar and the call layer: it registers with MD5 or SHA-256 digest,
// answers OPTIONS (or stays silent on purpose), places calls (with or
// without an SDP offer, answering digest challenges), takes calls by a
// Behaviour (ring then answer, early media, reject, never answer), hangs up
// and cancels, and has an RTP socket that sends a PCMU or PCMA stream (a
// tone or a counter pattern) and records what it receives. Mid-call it
// holds and retrieves (re-INVITE), transfers (REFER, blind or with
// Replaces, collecting the NOTIFY sipfrags), and sends and records DTMF by
// SIP INFO and RFC 4733 events (features.go). It sends
// requests that neither baresip nor SIPp can (SHA-256 digest, hostile
// traffic). SDP and G.711 are its own, independent of media/*.
//
// It lives under pbx/sip because only pbx/sip may import sipgo. It imports
// nothing of the appliance, and no production package may import it.
package siptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// ErrNoChallenge is returned by Register when a 401 offers no challenge in
// the requested algorithm.
var ErrNoChallenge = errors.New("siptest: no challenge for the algorithm")

// Phone is one test phone bound to a loopback address.
type Phone struct {
	// Addr is the host:port the phone listens on (UDP) or its listener (TCP).
	Addr      string
	Transport string // "udp" or "tcp"

	ua     *sipgo.UserAgent
	client *sipgo.Client
	server *sipgo.Server
	conn   net.PacketConn
	ln     net.Listener
	wg     sync.WaitGroup

	silent  atomic.Bool
	options atomic.Int64
	updates atomic.Int64

	// RTP is the phone's media socket, on the phone's IP.
	RTP       *RTP
	dua       *sipgo.DialogUA
	ctx       context.Context // ends at Close: calls in progress give up
	stop      context.CancelFunc
	calls     sync.Map // Call-ID → *Call
	behaviour atomic.Pointer[Behaviour]
	incoming  chan *Call
	feat      features // INFO digits, NOTIFY routing (features.go)

	mu     sync.Mutex
	callID string
	cseq   uint32
}

// New starts a phone listening on listen (e.g. "127.0.0.5:0") over
// transport "udp" or "tcp".
//
// A "tls" phone trusts any certificate and does not listen; listen is then
// only the host:port written in its Contact.
func New(transport, listen string, log *slog.Logger) (*Phone, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("siptest"),
		sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}), //nolint:gosec // test phone against a self-signed box
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		return nil, err
	}
	p := &Phone{ua: ua, Transport: transport, callID: sip.GenerateTagN(16) + "@siptest",
		incoming: make(chan *Call, 16)}
	p.ctx, p.stop = context.WithCancel(context.Background())
	p.server, err = sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		return nil, err
	}
	p.server.OnInvite(p.onInvite)
	p.server.OnAck(p.onAck)
	p.server.OnBye(p.onBye)
	p.registerFeatures()
	p.server.OnUpdate(func(req *sip.Request, tx sip.ServerTransaction) {
		p.updates.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	p.server.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		p.options.Add(1)
		if p.silent.Load() {
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	switch transport {
	case "udp":
		c, err := net.ListenPacket("udp", listen)
		if err != nil {
			return nil, err
		}
		p.conn, p.Addr = c, c.LocalAddr().String()
		p.wg.Add(1)
		go func() { defer p.wg.Done(); _ = p.server.ServeUDP(c) }()
		// Requests leave from the listening socket only once sipgo has
		// pooled it; before that it would try to bind the port again.
		if !waitPooled(ua.TransportLayer().Pool("udp"), p.Addr) {
			return nil, fmt.Errorf("siptest: UDP listener %s not ready", p.Addr)
		}
		p.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientConnectionAddr(p.Addr))
		if err != nil {
			return nil, err
		}
	case "tls":
		// A TLS phone only dials: requests to it come back over its connection.
		p.Addr = listen
		p.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log))
		if err != nil {
			return nil, err
		}
	case "tcp":
		l, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, err
		}
		p.ln, p.Addr = l, l.Addr().String()
		p.wg.Add(1)
		go func() { defer p.wg.Done(); _ = p.server.ServeTCP(l) }()
		host, _, _ := net.SplitHostPort(p.Addr)
		p.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientHostname(host))
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("siptest: transport %q", transport)
	}
	host, _, err := net.SplitHostPort(p.Addr)
	if err != nil {
		return nil, err
	}
	if p.RTP, err = NewRTP(host); err != nil {
		p.Close()
		return nil, err
	}
	p.dua = &sipgo.DialogUA{Client: p.client, ContactHDR: *p.contactHeader("siptest"), RewriteContact: true}
	return p, nil
}

// Close stops the phone: calls in progress are abandoned without BYE.
func (p *Phone) Close() {
	p.stop()
	if p.RTP != nil {
		p.RTP.Close()
	}
	if p.conn != nil {
		_ = p.conn.Close()
	}
	if p.ln != nil {
		_ = p.ln.Close()
	}
	// The transaction layer goes first: calls still ringing then give up
	// at once instead of waiting for responses that cannot come.
	_ = p.ua.Close()
	p.wg.Wait()
}

// SetSilent makes the phone ignore (true) or answer (false) OPTIONS.
func (p *Phone) SetSilent(s bool) { p.silent.Store(s) }

// UpdatesReceived is how many UPDATE requests (session refreshes) the
// phone has answered.
func (p *Phone) UpdatesReceived() int64 { return p.updates.Load() }

// OptionsReceived is how many OPTIONS the phone has seen.
func (p *Phone) OptionsReceived() int64 { return p.options.Load() }

// Register describes one REGISTER.
type Register struct {
	Server    string // registrar host:port
	Ext       string // extension, digest username
	Password  string // "" sends no credentials even when challenged
	Algorithm string // "MD5" or "SHA-256"
	// Expires is the Expires header in seconds; negative leaves it out.
	Expires int
	// Contact overrides the Contact value ("*" to remove all); empty means
	// the phone's own address.
	Contact string
	// AOR, when set, is the user of To and From instead of Ext.
	AOR string
	// Realm, when set, overrides the challenge's realm in the answer.
	Realm string
}

// ContactURI is the phone's own contact for ext.
func (p *Phone) ContactURI(ext string) string {
	return fmt.Sprintf("sip:%s@%s;transport=%s", ext, p.Addr, p.Transport)
}

// Register sends a REGISTER and, when challenged and a password is given,
// answers the challenge of the requested algorithm. It returns the final
// response (the 401 when no password is given).
func (p *Phone) Register(ctx context.Context, r Register) (*sip.Response, error) {
	host, _, err := net.SplitHostPort(r.Server)
	if err != nil {
		return nil, err
	}
	recipient := sip.Uri{Scheme: "sip", Host: host, UriParams: sip.NewParams()}
	if _, port, err := net.SplitHostPort(r.Server); err == nil {
		recipient.Port, _ = strconv.Atoi(port)
	}
	recipient.UriParams.Add("transport", p.Transport)
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.SetTransport(strings.ToUpper(p.Transport))
	req.SetDestination(r.Server)
	user := r.Ext
	if r.AOR != "" {
		user = r.AOR
	}
	aor := sip.Uri{Scheme: "sip", User: user, Host: host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	cid := sip.CallIDHeader(p.callID)
	req.AppendHeader(&cid)
	p.mu.Lock()
	p.cseq++
	cseq := p.cseq
	p.mu.Unlock()
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	contact := r.Contact
	if contact == "" {
		contact = "<" + p.ContactURI(r.Ext) + ">"
	}
	req.AppendHeader(sip.NewHeader("Contact", contact))
	if r.Expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(r.Expires)))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", "siptest"))
	res, err := p.client.Do(ctx, req)
	if err != nil || res.StatusCode != sip.StatusUnauthorized || r.Password == "" {
		return res, err
	}
	chal, err := pickChallenge(res, r.Algorithm)
	if err != nil {
		return res, err
	}
	if r.Realm != "" {
		chal.Realm = r.Realm
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: "REGISTER", URI: recipient.String(), Username: r.Ext, Password: r.Password, Count: 1,
	})
	if err != nil {
		return nil, err
	}
	req.RemoveHeader("Authorization")
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	p.mu.Lock()
	p.cseq++
	req.CSeq().SeqNo = p.cseq
	p.mu.Unlock()
	req.RemoveHeader("Via")
	return p.client.Do(ctx, req, sipgo.ClientRequestAddVia)
}

// pickChallenge returns the WWW-Authenticate challenge of algorithm alg.
func pickChallenge(res *sip.Response, alg string) (*digest.Challenge, error) {
	return pickChallengeIn(res, "WWW-Authenticate", alg)
}

// pickChallengeIn returns the challenge of algorithm alg among res's
// headers named hdr (WWW-Authenticate or Proxy-Authenticate).
func pickChallengeIn(res *sip.Response, hdr, alg string) (*digest.Challenge, error) {
	for _, h := range res.GetHeaders(hdr) {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		if strings.EqualFold(c.Algorithm, alg) || (alg == "MD5" && c.Algorithm == "") {
			return c, nil
		}
	}
	return nil, ErrNoChallenge
}

// Do sends any request through the phone and returns the final response.
func (p *Phone) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return p.client.Do(ctx, req)
}

// waitPooled waits (at most 2 s) until sipgo's pool holds the connection of addr.
func waitPooled(pool *sip.ConnectionPool, addr string) bool {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if c := pool.Get(addr); c != nil {
			_, _ = c.TryClose() // Get took a reference
			return true
		}
		time.Sleep(time.Millisecond) // polling interval, bounded by the deadline
	}
	return false
}
