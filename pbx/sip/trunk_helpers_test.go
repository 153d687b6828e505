package sip

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	carrierRealm    = "carrier.test"
	carrierUser     = "acct1"
	carrierAuthUser = "auth-acct1"
	carrierSecret   = "trunk-secret"
)

// carrier is a SIP carrier for trunk tests: a sipgo UAS on its own
// loopback address that challenges REGISTER (401, one algorithm), checks
// the digest response, grants Expires, or answers every REGISTER with
// failCode; and answers OPTIONS unless silent.
type carrier struct {
	t    *testing.T
	addr string // host:port (UDP)
	ua   *sipgo.UserAgent

	alg      string         // "MD5" or "SHA-256"
	grant    int            // Expires granted, in seconds
	failCode atomic.Int32   // non-zero: every REGISTER gets this
	silent   atomic.Bool    // OPTIONS unanswered
	options  atomic.Int64   // OPTIONS received
	failed   atomic.Int64   // REGISTERs answered failCode
	badAuth  atomic.Int64   // wrong digest responses seen
	nonce    atomic.Value   // the nonce of the last challenge
	mu       sync.Mutex     // guards the fields below
	regs     []carrierReg   // accepted REGISTERs, in order
	contacts map[string]int // contact → expires of the last accepted REGISTER
}

// carrierReg is one REGISTER the carrier accepted.
type carrierReg struct {
	at      time.Time
	expires int
	contact string
	cseq    uint32
	callID  string
}

func newCarrier(t *testing.T, ip, alg string, grant int) *carrier {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("carrier"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(testLog())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(testLog())))
	if err != nil {
		t.Fatal(err)
	}
	c := &carrier{t: t, ua: ua, alg: alg, grant: grant, contacts: map[string]int{}}
	c.nonce.Store("")
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(testLog()))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(c.onRegister)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		c.options.Add(1)
		if c.silent.Load() {
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	conn, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = conn.LocalAddr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		_ = conn.Close()
		_ = ua.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("carrier did not stop")
		}
	})
	return c
}

func (c *carrier) hostPort() (string, int) {
	h, p, _ := net.SplitHostPort(c.addr)
	n, _ := strconv.Atoi(p)
	return h, n
}

func (c *carrier) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	if code := c.failCode.Load(); code != 0 {
		c.failed.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, int(code), "Service Unavailable", nil))
		return
	}
	h := req.GetHeader("Authorization")
	if h == nil || !c.authOK(req, h.Value()) {
		if h != nil {
			c.badAuth.Add(1)
		}
		nonce := sip.GenerateTagN(16)
		c.nonce.Store(nonce)
		chal := digest.Challenge{Realm: carrierRealm, Nonce: nonce, Algorithm: c.alg, QOP: []string{"auth"}}
		res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
		_ = tx.Respond(res)
		return
	}
	expires := c.grant
	if e := req.GetHeader("Expires"); e != nil {
		if n, err := strconv.Atoi(e.Value()); err == nil && n < expires {
			expires = n
		}
	}
	contact := ""
	if ch := req.Contact(); ch != nil {
		contact = ch.Address.String()
	}
	c.mu.Lock()
	c.regs = append(c.regs, carrierReg{at: time.Now(), expires: expires, contact: contact,
		cseq: req.CSeq().SeqNo, callID: req.CallID().Value()})
	if expires == 0 {
		delete(c.contacts, contact)
	} else {
		c.contacts[contact] = expires
	}
	c.mu.Unlock()
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if ch := req.Contact(); ch != nil && expires > 0 {
		back := ch.Clone()
		back.Params = sip.NewParams()
		back.Params.Add("expires", strconv.Itoa(expires))
		res.AppendHeader(back)
	}
	_ = tx.Respond(res)
}

// authOK checks a REGISTER's digest response against the trunk's secret,
// the carrier's realm and the last nonce issued.
func (c *carrier) authOK(req *sip.Request, v string) bool {
	cr, err := parseCredentials(v)
	if err != nil || cr.Realm != carrierRealm || cr.Nonce != c.nonce.Load().(string) ||
		!strings.EqualFold(cr.Algorithm, c.alg) || cr.Username != carrierAuthUser {
		return false
	}
	want := expectedResponse(hasher(c.alg), HA1(c.alg, carrierAuthUser, carrierRealm, carrierSecret), "REGISTER", cr)
	return want == cr.Response && cr.URI == req.Recipient.String()
}

func (c *carrier) accepted() []carrierReg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]carrierReg(nil), c.regs...)
}

func (c *carrier) bound() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.contacts)
}

// statusLog records OnChange calls.
type statusLog struct {
	mu  sync.Mutex
	all []TrunkStatus
}

func (l *statusLog) on(s TrunkStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, s)
}

func (l *statusLog) seen(f func(TrunkStatus) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.all {
		if f(s) {
			return true
		}
	}
	return false
}

// newTestTrunks builds trunks on e's server with fast timers, closed when
// the test ends (before the server stops: cleanups run in reverse).
func newTestTrunks(t *testing.T, e *env, reg prometheus.Registerer, log *statusLog) *Trunks {
	t.Helper()
	opts := TrunkOptions{Log: testLog(), Registerer: reg, RetryMin: 100 * time.Millisecond,
		RetryMax: 400 * time.Millisecond, Timeout: 2 * time.Second}
	if log != nil {
		opts.OnChange = log.on
	}
	tr, err := NewTrunks(e.srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func trunkStatus(t *testing.T, tr *Trunks, name string) TrunkStatus {
	t.Helper()
	s, ok := tr.TrunkStatus(name)
	if !ok {
		t.Fatalf("trunk %s not configured", name)
	}
	return s
}
