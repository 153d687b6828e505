package sip

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"net/netip"

	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
)

func TestRegisterTransportsAndAlgorithms(t *testing.T) {
	e := startServer(t, nil, nil)
	tests := []struct {
		transport, phoneAddr, alg string
		want                      Transport
	}{
		{"udp", "127.0.0.2:0", "MD5", TransportUDP},
		{"udp", "127.0.0.3:0", "SHA-256", TransportUDP},
		{"tcp", "127.0.0.4:0", "MD5", TransportTCP},
		{"tcp", "127.0.0.5:0", "SHA-256", TransportTCP},
		{"tls", "127.0.0.6:5061", "SHA-256", TransportTLS},
	}
	for _, tt := range tests {
		t.Run(tt.transport+"/"+tt.alg, func(t *testing.T) {
			p := newPhone(t, tt.transport, tt.phoneAddr)
			server := e.udp
			if tt.transport == "tls" {
				server = e.tls
			}
			res, err := p.Register(ctxT(t, 5*time.Second), siptest.Register{
				Server: server, Ext: "1001", Password: testPasswords["1001"], Algorithm: tt.alg, Expires: 120,
			})
			if err != nil {
				t.Fatalf("register: %v", err)
			}
			if res.StatusCode != sip.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			i := slices.IndexFunc(e.srv.Lookup("1001"), func(b Binding) bool { return b.Contact == p.ContactURI("1001") })
			if i < 0 {
				t.Fatalf("binding %s not found in %+v", p.ContactURI("1001"), e.srv.Lookup("1001"))
			}
			b := e.srv.Lookup("1001")[i]
			if b.Transport != tt.want {
				t.Errorf("transport %v, want %v", b.Transport, tt.want)
			}
			if tt.transport == "udp" && b.Source != p.Addr {
				t.Errorf("source %s, want the phone's socket %s", b.Source, p.Addr)
			}
			if !strings.Contains(contactsOf(res), p.ContactURI("1001")) {
				t.Errorf("200 does not list the contact: %q", contactsOf(res))
			}
		})
	}
	if got := value(t, e.srv.metrics.registrations); got != float64(len(tests)) {
		t.Errorf("pbx_registrations = %v, want %d", got, len(tests))
	}
	if got := value(t, e.srv.metrics.requests.WithLabelValues("REGISTER")); got < float64(2*len(tests)) {
		t.Errorf("REGISTER requests = %v", got)
	}
	if got := value(t, e.srv.metrics.responses.WithLabelValues("2xx")); got < float64(len(tests)) {
		t.Errorf("2xx responses = %v", got)
	}
}

func contactsOf(res *sip.Response) string {
	var parts []string
	for _, h := range res.GetHeaders("Contact") {
		parts = append(parts, h.Value())
	}
	return strings.Join(parts, ", ")
}

// headerNames is the shape of a response: status and header names, in order.
func headerNames(res *sip.Response) string {
	var names []string
	for _, h := range res.Headers() {
		names = append(names, h.Name())
	}
	return strconv.Itoa(res.StatusCode) + " " + strings.Join(names, ",")
}

func TestRegisterFailuresLookAlike(t *testing.T) {
	e := startServer(t, nil, nil)
	tests := []struct{ name, ext, password string }{
		{"wrong password", "1001", "wrong"},
		{"unknown extension", "7777", "whatever"},
	}
	var shapes [2][]string
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPhone(t, "udp", "127.0.0.2:0")
			ch, err := p.Register(ctxT(t, 5*time.Second), siptest.Register{Server: e.udp, Ext: tt.ext, Expires: 120})
			if err != nil {
				t.Fatal(err)
			}
			if ch.StatusCode != sip.StatusUnauthorized || len(ch.GetHeaders("WWW-Authenticate")) != 2 {
				t.Fatalf("challenge: %d with %d challenges", ch.StatusCode, len(ch.GetHeaders("WWW-Authenticate")))
			}
			res, err := p.Register(ctxT(t, 5*time.Second), siptest.Register{Server: e.udp, Ext: tt.ext, Password: tt.password, Algorithm: "MD5", Expires: 120})
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != sip.StatusForbidden {
				t.Fatalf("status %d, want 403", res.StatusCode)
			}
			shapes[i] = []string{headerNames(ch), headerNames(res)}
		})
	}
	if !slices.Equal(shapes[0], shapes[1]) {
		t.Errorf("known and unknown extensions answered differently:\n%q\n%q", shapes[0], shapes[1])
	}
	if got := value(t, e.srv.metrics.authFailures); got != 2 {
		t.Errorf("pbx_auth_failures_total = %v, want 2", got)
	}
}

func TestRegisterOtherExtensionForbidden(t *testing.T) {
	e := startServer(t, nil, nil)
	p := newPhone(t, "udp", "127.0.0.2:0")
	// 1001's credentials for 1002's address of record.
	res, err := p.Register(ctxT(t, 5*time.Second), siptest.Register{Server: e.udp, Ext: "1001", Password: "secret-1001", Algorithm: "MD5", Expires: 120, Contact: "<sip:1002@127.0.0.2:5060>"})
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("own AOR: %v %v", res, err)
	}
	res, err = p.Register(ctxT(t, 5*time.Second), siptest.Register{Server: e.udp, Ext: "1001", AOR: "1002", Password: "secret-1001", Algorithm: "MD5", Expires: 120})
	if err != nil || res.StatusCode != sip.StatusForbidden {
		t.Fatalf("other AOR: %v %v", res, err)
	}
	if n := len(e.srv.Bindings("1002")); n != 0 {
		t.Errorf("1002 got %d bindings", n)
	}
}

func TestBanAndTrusted(t *testing.T) {
	tests := []struct {
		name    string
		trusted bool
	}{
		{"untrusted source is banned", false},
		{"trusted source is never banned", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startServer(t, func(c *Config) {
				c.BanThreshold = 3
				c.BanTime = time.Minute
				if tt.trusted {
					c.Trusted = []netip.Prefix{mustPrefix("127.0.0.0/8")}
				}
			}, nil)
			p := newPhone(t, "udp", "127.0.0.2:0")
			bad := siptest.Register{Server: e.udp, Ext: "1001", Password: "nope", Algorithm: "MD5", Expires: 120}
			for i := 0; i < 3; i++ {
				res, err := p.Register(ctxT(t, 5*time.Second), bad)
				if err != nil || res.StatusCode != sip.StatusForbidden {
					t.Fatalf("failure %d: %v %v", i, res, err)
				}
			}
			good := siptest.Register{Server: e.udp, Ext: "1001", Password: "secret-1001", Algorithm: "MD5", Expires: 120}
			res, err := p.Register(ctxT(t, 700*time.Millisecond), good)
			if tt.trusted {
				if err != nil || res.StatusCode != sip.StatusOK {
					t.Fatalf("trusted source: %v %v", res, err)
				}
				if got := value(t, e.srv.metrics.banned); got != 0 {
					t.Errorf("pbx_banned_sources = %v", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("banned source got an answer: %d", res.StatusCode)
			}
			if got := value(t, e.srv.metrics.banned); got != 1 {
				t.Errorf("pbx_banned_sources = %v, want 1", got)
			}
			// Another address is not affected.
			q := newPhone(t, "udp", "127.0.0.3:0")
			if res, err := q.Register(ctxT(t, 5*time.Second), good); err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("other source: %v %v", res, err)
			}
			e.clock.Advance(time.Minute + time.Second)
			e.srv.bans.sweep()
			if res, err := p.Register(ctxT(t, 5*time.Second), good); err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("after the ban: %v %v", res, err)
			}
			if got := value(t, e.srv.metrics.banned); got != 0 {
				t.Errorf("pbx_banned_sources after ban = %v", got)
			}
		})
	}
}

func TestExpiryAndUnregister(t *testing.T) {
	e := startServer(t, nil, nil)
	p := newPhone(t, "udp", "127.0.0.2:0")
	q := newPhone(t, "udp", "127.0.0.3:0")
	reg := func(ph *siptest.Phone, expires int, contact string) *sip.Response {
		t.Helper()
		res, err := ph.Register(ctxT(t, 5*time.Second), siptest.Register{Server: e.udp, Ext: "1001", Password: "secret-1001", Algorithm: "SHA-256", Expires: expires, Contact: contact})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := reg(p, 30, ""); res.StatusCode != sip.StatusIntervalToBrief || res.GetHeader("Min-Expires") == nil || res.GetHeader("Min-Expires").Value() != "60" {
		t.Fatalf("too brief: %v", res)
	}
	if res := reg(p, 7200, ""); res.StatusCode != sip.StatusOK || !strings.Contains(contactsOf(res), "expires=3600") {
		t.Fatalf("capped: %v %q", res.StatusCode, contactsOf(res))
	}
	if res := reg(q, 60, ""); res.StatusCode != sip.StatusOK || len(res.GetHeaders("Contact")) != 2 {
		t.Fatalf("second contact: %v %q", res.StatusCode, contactsOf(res))
	}
	if n := len(e.srv.Lookup("1001")); n != 2 {
		t.Fatalf("two contacts ring together: got %d", n)
	}
	if n, _ := e.changes.get("1001"); n != 2 {
		t.Errorf("OnChange said %d", n)
	}
	// q's binding expires, p's stays.
	e.clock.Advance(61 * time.Second)
	e.srv.sweep()
	if got := e.srv.Lookup("1001"); len(got) != 1 || got[0].Contact != p.ContactURI("1001") {
		t.Fatalf("after expiry: %+v", got)
	}
	if n, _ := e.changes.get("1001"); n != 1 {
		t.Errorf("OnChange after expiry said %d", n)
	}
	// Expires: 0 removes one contact; Contact: * removes all.
	reg(q, 60, "")
	if res := reg(p, 0, ""); res.StatusCode != sip.StatusOK || len(e.srv.Lookup("1001")) != 1 {
		t.Fatalf("unregister one: %d, %d left", res.StatusCode, len(e.srv.Lookup("1001")))
	}
	if res := reg(q, 0, "*"); res.StatusCode != sip.StatusOK || len(e.srv.Lookup("1001")) != 0 {
		t.Fatalf("unregister all: %d, %d left", res.StatusCode, len(e.srv.Lookup("1001")))
	}
	if got := value(t, e.srv.metrics.registrations); got != 0 {
		t.Errorf("pbx_registrations = %v", got)
	}
	if n, _ := e.changes.get("1001"); n != 0 {
		t.Errorf("OnChange after unregister said %d", n)
	}
	if saved, _ := e.store.LoadBindings(); len(saved["1001"]) != 0 {
		t.Errorf("store still has %+v", saved["1001"])
	}
	// Contact: * without Expires: 0 is malformed.
	if res := reg(q, 60, "*"); res.StatusCode != sip.StatusBadRequest {
		t.Errorf("wildcard with expires: %d", res.StatusCode)
	}
}

func TestQualify(t *testing.T) {
	e := startServer(t, func(c *Config) {
		c.QualifyInterval = 100 * time.Millisecond
		c.QualifyTimeout = 300 * time.Millisecond
	}, nil)
	p := newPhone(t, "udp", "127.0.0.2:0")
	q := newPhone(t, "tcp", "127.0.0.3:0")
	for _, ph := range []*siptest.Phone{p, q} {
		res, err := ph.Register(ctxT(t, 5*time.Second), siptest.Register{Server: e.udp, Ext: "1002", Password: "secret-1002", Algorithm: "MD5", Expires: 600})
		if err != nil || res.StatusCode != sip.StatusOK {
			t.Fatalf("register: %v %v", res, err)
		}
	}
	eventually(t, 5*time.Second, "OPTIONS reach both phones", func() bool {
		return p.OptionsReceived() > 0 && q.OptionsReceived() > 0
	})
	p.SetSilent(true)
	eventually(t, 10*time.Second, "silent contact unavailable", func() bool {
		return len(e.srv.Lookup("1002")) == 1 && len(e.srv.Bindings("1002")) == 2
	})
	if got := e.srv.Lookup("1002")[0].Contact; got != q.ContactURI("1002") {
		t.Errorf("the answering contact should stay: %s", got)
	}
	if n, _ := e.changes.get("1002"); n != 1 {
		t.Errorf("OnChange said %d available", n)
	}
	p.SetSilent(false)
	eventually(t, 10*time.Second, "contact available again", func() bool { return len(e.srv.Lookup("1002")) == 2 })
}

func TestBindingsReloaded(t *testing.T) {
	now := time.Now()
	store := &fakeStore{saved: map[Extension][]Binding{
		"1001": {
			{Contact: "sip:1001@127.0.0.2:5060", Source: "127.0.0.2:5060", Transport: TransportUDP, Expires: now.Add(time.Hour), Available: true},
			{Contact: "sip:1001@127.0.0.3:5060", Source: "127.0.0.3:5060", Transport: TransportUDP, Expires: now.Add(-time.Second), Available: true},
		},
		"1002": {{Contact: "sip:1002@127.0.0.4:5060", Expires: now.Add(-time.Hour)}},
	}}
	e := startServer(t, nil, store)
	if got := e.srv.Lookup("1001"); len(got) != 1 || got[0].Contact != "sip:1001@127.0.0.2:5060" || got[0].Transport != TransportUDP {
		t.Errorf("1001 after reload: %+v", got)
	}
	if got := e.srv.Bindings("1002"); len(got) != 0 {
		t.Errorf("expired 1002 kept: %+v", got)
	}
	if got := value(t, e.srv.metrics.registrations); got != 1 {
		t.Errorf("pbx_registrations = %v", got)
	}
}

func TestOptionsAndUnhandled(t *testing.T) {
	e := startServer(t, nil, nil)
	tests := []struct {
		method string
		want   string
	}{
		{"OPTIONS", "SIP/2.0 200"},
		{"SUBSCRIBE", "SIP/2.0 501"},
		{"FOO", "SIP/2.0 501"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			raw := tt.method + " sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK" + tt.method + ";rport\r\n" +
				"From: <sip:x@127.0.0.9>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: " + tt.method + "\r\nCSeq: 1 " + tt.method + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
			got := rawExchange(t, e.udp, "127.0.0.9", raw)
			if !strings.HasPrefix(got, tt.want) {
				t.Fatalf("got %q, want %s", got, tt.want)
			}
			if !strings.Contains(got, "Allow:") {
				t.Errorf("no Allow header: %q", got)
			}
		})
	}
	if got := value(t, e.srv.metrics.requests.WithLabelValues("other")); got != 1 {
		t.Errorf("other requests = %v", got)
	}
}
