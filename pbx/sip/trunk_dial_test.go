package sip

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeTrunkRouter routes every carrier call to 1002, declining one caller.
type fakeTrunkRouter struct{}

func (fakeTrunkRouter) Inbound(trunk, caller, called string) (string, int, string) {
	switch {
	case caller == "13900000000":
		return "", 603, "Decline"
	case called != "02161230000":
		return "", 404, "Not Found"
	}
	return "1002", 0, ""
}

// carrierPhone is a sipgo test phone standing in for a carrier's SIP server.
func carrierPhone(t *testing.T, ip string, b siptest.Behaviour) (*siptest.Phone, int) {
	t.Helper()
	p, err := siptest.New("udp", ip+":0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.SetBehaviour(b)
	_, port, _ := net.SplitHostPort(p.Addr)
	n, _ := strconv.Atoi(port)
	return p, n
}

// trunkEnv is the B2BUA with two IP trunks, a and b, to two carriers.
func trunkEnv(t *testing.T, ba, bb siptest.Behaviour) (*featEnv, *siptest.Phone, *siptest.Phone) {
	t.Helper()
	fe := startFeatures(t, nil)
	ca, pa := carrierPhone(t, "127.0.0.31", ba)
	cb, pb := carrierPhone(t, "127.0.0.32", bb)
	trunks, err := NewTrunks(fe.srv, TrunkOptions{Log: testLog(), Registerer: prometheus.NewRegistry(), OptionsMisses: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trunks.Close)
	trunks.Set([]TrunkConfig{
		{Name: "a", Kind: TrunkIP, Host: "127.0.0.31", Port: pa, OptionsInterval: time.Hour},
		{Name: "b", Kind: TrunkIP, Host: "127.0.0.32", Port: pb, OptionsInterval: time.Hour},
	})
	fe.calls.SetTrunks(trunks, fakeTrunkRouter{})
	return fe, ca, cb
}

func dialOut(t *testing.T, fe *featEnv) call.Outgoing {
	t.Helper()
	legs, err := fe.calls.Dial(ctxT(t, 5*time.Second), call.Target{
		Device: call.Device{Kind: call.DevicePSTN, ID: "13800138000"}, Party: call.Party{Number: "13800138000"},
		Trunks: []string{"a", "b"},
	}, call.Party{Number: "02188880000"}, nil)
	if err != nil || len(legs) != 1 {
		t.Fatalf("dial out: %v (%d legs)", err, len(legs))
	}
	return legs[0]
}

func waitLegEvent(t *testing.T, o call.Outgoing, want call.EventKind) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-o.Events():
			if ev == want {
				return
			}
		case <-o.Done():
			t.Fatalf("the leg ended (%v) before %v", o.Cause(), want)
		case <-deadline:
			t.Fatalf("no %v", want)
		}
	}
}

// TestTrunkFailover: carrier a answers 503 (without ringing first), so the
// call goes on through b; each carrier gets the number as dialed with the
// caller number in From and P-Asserted-Identity.
func TestTrunkFailover(t *testing.T) {
	fe := startFeatures(t, nil)
	ca := newRawCarrier(t, "127.0.0.31", 503)
	cb, pb := carrierPhone(t, "127.0.0.32", siptest.Behaviour{Action: siptest.ActionAnswer})
	setTwoTrunks(t, fe, "127.0.0.31", ca.port, "127.0.0.32", pb)
	out := dialOut(t, fe)
	waitLegEvent(t, out, call.EventAnswered)
	var reqA *sip.Request
	select {
	case reqA = <-ca.invites:
	case <-time.After(5 * time.Second):
		t.Fatal("carrier a got no INVITE")
	}
	in, err := cb.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatalf("carrier b got no INVITE: %v", err)
	}
	for name, req := range map[string]*sip.Request{"a": reqA, "b": in.Invite()} {
		if req.Recipient.User != "13800138000" || req.From().Address.User != "02188880000" {
			t.Fatalf("carrier %s got %s from %s", name, req.Recipient.String(), req.From().Address.String())
		}
		if h := req.GetHeader("P-Asserted-Identity"); h == nil || h.Value() != "<sip:02188880000@127.0.0."+map[string]string{"a": "31", "b": "32"}[name]+">" {
			t.Fatalf("carrier %s P-Asserted-Identity %v", name, h)
		}
	}
	if out.Device().Kind != call.DevicePSTN || out.Media() == nil {
		t.Fatalf("leg device %v media %v", out.Device(), out.Media())
	}
	out.Hangup(call.CauseNormal)
	select {
	case <-out.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the leg did not end")
	}
}

// setTwoTrunks gives fe IP trunks a and b to the carriers at hostA:portA
// and hostB:portB.
func setTwoTrunks(t *testing.T, fe *featEnv, hostA string, portA int, hostB string, portB int) *Trunks {
	t.Helper()
	trunks, err := NewTrunks(fe.srv, TrunkOptions{Log: testLog(), Registerer: prometheus.NewRegistry(), OptionsMisses: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trunks.Close)
	trunks.Set([]TrunkConfig{
		{Name: "a", Kind: TrunkIP, Host: hostA, Port: portA, OptionsInterval: time.Hour},
		{Name: "b", Kind: TrunkIP, Host: hostB, Port: portB, OptionsInterval: time.Hour},
	})
	fe.calls.SetTrunks(trunks, fakeTrunkRouter{})
	return trunks
}

// TestTrunkNoFailoverOnBusy: a busy callee is busy; the next trunk is not
// tried.
func TestTrunkNoFailoverOnBusy(t *testing.T) {
	fe, ca, cb := trunkEnv(t,
		siptest.Behaviour{Action: siptest.ActionReject, Status: 486},
		siptest.Behaviour{Action: siptest.ActionAnswer})
	out := dialOut(t, fe)
	select {
	case <-out.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the leg did not end")
	}
	if out.Cause() != call.CauseBusy {
		t.Fatalf("cause %v, want busy", out.Cause())
	}
	if _, err := ca.NextIncoming(ctxT(t, time.Second)); err != nil {
		t.Fatalf("carrier a got no INVITE: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := cb.NextIncoming(ctx); err == nil {
		t.Fatal("carrier b got an INVITE after a busy")
	}
}

// TestTrunkInbound: a carrier's INVITE is not challenged; it reaches the
// DID's extension as a pstn leg of the caller's number; a blacklisted
// caller is declined and an unknown DID is 404, before any leg exists.
func TestTrunkInbound(t *testing.T) {
	fe, ca, _ := trunkEnv(t, siptest.Behaviour{}, siptest.Behaviour{})
	c, err := ca.Invite(ctxT(t, 5*time.Second), siptest.Dial{Server: fe.udp, To: "02161230000", Ext: "13800138000"})
	if err != nil {
		t.Fatal(err)
	}
	ic := fe.nextIncoming(t)
	if ic.dialed != "1002" || ic.from.Number != "13800138000" || ic.in.Device() != (call.Device{Kind: call.DevicePSTN, ID: "13800138000"}) {
		t.Fatalf("incoming %+v device %v", ic, ic.in.Device())
	}
	ic.in.Hangup(call.CauseBusy)
	if res, err := c.WaitFinal(ctxT(t, 5*time.Second)); err != nil || res.StatusCode != 486 {
		t.Fatalf("final %v %v", res, err)
	}
	for to, status := range map[string]int{"02161230000": 603, "02100000000": 404} {
		ext := "13800138000"
		if status == 603 {
			ext = "13900000000"
		}
		c, err := ca.Invite(ctxT(t, 5*time.Second), siptest.Dial{Server: fe.udp, To: to, Ext: ext})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := c.WaitFinal(ctxT(t, 5*time.Second)); err != nil || res.StatusCode != status {
			t.Fatalf("to %s from %s: final %v %v, want %d", to, ext, res, err, status)
		}
	}
	select {
	case ic := <-fe.mgr.ins:
		t.Fatalf("a refused call reached the call layer: %+v", ic)
	default:
	}
}

// TestRefusedCallSaysWhy: a call the box refused ends 403 with the reason
// in the phrase, which phones show.
func TestRefusedCallSaysWhy(t *testing.T) {
	fe := startFeatures(t, nil)
	p, err := siptest.New("udp", "127.0.0.33:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	c := fe.invite(t, p, "1001", "004420123456", nil)
	ic := fe.nextIncoming(t)
	r, ok := ic.in.(call.Refuser)
	if !ok {
		t.Fatal("a SIP leg cannot say why it is refused")
	}
	r.Refuse(call.CauseBlocked, "international")
	res, err := c.WaitFinal(ctxT(t, 5*time.Second))
	if err != nil || res.StatusCode != 403 || res.Reason != "Blocked: International Calls Off" {
		t.Fatalf("final %v %v", res, err)
	}
}

// rawCarrier is a carrier that answers an INVITE with a bare final
// response, no 100 or 180 first (siptest phones always ring first, and a
// call that rang never fails over): status 0 answers nothing. INVITEs
// received are passed on invites (buffered, dropped when full).
type rawCarrier struct {
	port    int
	status  atomic.Int32
	invites chan *sip.Request
}

func newRawCarrier(t *testing.T, ip string, status int) *rawCarrier {
	t.Helper()
	conn, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &rawCarrier{port: conn.LocalAddr().(*net.UDPAddr).Port, invites: make(chan *sip.Request, 16)}
	c.status.Store(int32(status))
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			msg, err := sip.ParseMessage(buf[:n])
			req, ok := msg.(*sip.Request)
			if err != nil || !ok || req.Method != sip.INVITE {
				continue
			}
			select {
			case c.invites <- req:
			default:
			}
			if st := int(c.status.Load()); st != 0 {
				res := sip.NewResponseFromRequest(req, st, "Unavailable", nil)
				_, _ = conn.WriteTo([]byte(res.String()), from)
			}
		}
	}()
	return c
}

// TestTrunkFailoverOnSilence: carrier a does not answer the INVITE at all
// (not even 100 Trying); the call goes on through b after attemptTimeout,
// not after the INVITE transaction's own 32 s. a's attempt keeps its place
// in a's call count until its transaction ends (here: a wakes up and
// answers 503).
func TestTrunkFailoverOnSilence(t *testing.T) {
	fe := startFeatures(t, nil)
	ca := newRawCarrier(t, "127.0.0.34", 0)
	cb, pb := carrierPhone(t, "127.0.0.32", siptest.Behaviour{Action: siptest.ActionAnswer})
	trunks := setTwoTrunks(t, fe, "127.0.0.34", ca.port, "127.0.0.32", pb)
	start := time.Now()
	out := dialOut(t, fe)
	if _, err := cb.NextIncoming(ctxT(t, attemptTimeout+5*time.Second)); err != nil {
		t.Fatalf("carrier b got no INVITE %v after the dial: %v", time.Since(start), err)
	}
	waitLegEvent(t, out, call.EventAnswered)
	if s := trunkStatus(t, trunks, "a"); s.CallsActive != 1 {
		t.Fatalf("trunk a: %d calls active while its INVITE is pending, want 1", s.CallsActive)
	}
	ca.status.Store(503) // a wakes up: its INVITE's retransmission gets 503
	eventually(t, 10*time.Second, "trunk a's attempt ended", func() bool { return trunkStatus(t, trunks, "a").CallsActive == 0 })
	out.Hangup(call.CauseNormal)
	select {
	case <-out.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the leg did not end")
	}
}

// TestTrunkInboundSessionTooShort: a carrier's INVITE is held to the same
// session-timer floor as a phone's (RFC 4028 422).
func TestTrunkInboundSessionTooShort(t *testing.T) {
	fe, ca, _ := trunkEnv(t, siptest.Behaviour{}, siptest.Behaviour{})
	c, err := ca.Invite(ctxT(t, 5*time.Second), siptest.Dial{Server: fe.udp, To: "02161230000", Ext: "13800138000",
		Headers: []sip.Header{sip.NewHeader("Session-Expires", "30")}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.WaitFinal(ctxT(t, 5*time.Second))
	if err != nil || res.StatusCode != 422 || res.GetHeader("Min-SE") == nil {
		t.Fatalf("final %v %v, want 422 with Min-SE", res, err)
	}
}
