package sip

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/prometheus/client_golang/prometheus"
)

// featDir is the extension directory of the feature tests: 1001 and 1002
// with a DTMF mode each.
type featDir struct{ modes map[string]call.DTMFMode }

func (d featDir) CallerInfo(ext Extension) (CallerInfo, error) {
	switch ext {
	case "1001", "1002":
		return CallerInfo{Name: "ext " + string(ext), DTMFMode: d.modes[string(ext)]}, nil
	}
	return CallerInfo{}, ErrNoSuchExtension
}

// incomingCall is one CallManager.Incoming the fake manager was given.
type incomingCall struct {
	in     call.Channel
	from   call.Party
	dialed string
}

// replaceCall is one CallManager.Replace the fake manager was given.
type replaceCall struct {
	in        call.Channel
	from      call.Party
	replaced  call.ChannelID
	earlyOnly bool
}

// fakeMgr hands the legs the B2BUA makes to the test, which plays the
// call layer by hand.
type fakeMgr struct {
	ins  chan incomingCall
	reps chan replaceCall
}

func (m *fakeMgr) Incoming(in call.Channel, from call.Party, dialed string, _ int) {
	select {
	case m.ins <- incomingCall{in, from, dialed}:
	default:
		in.Hangup(call.CauseCongestion)
	}
}

// IncomingFromTrunk hands a carrier's call to the test like any other.
func (m *fakeMgr) IncomingFromTrunk(in call.Channel, from call.Party, dialed, trunk string) {
	m.Incoming(in, from, dialed, 0)
}

func (m *fakeMgr) Replace(in call.Channel, from call.Party, replaced call.ChannelID, earlyOnly bool) {
	select {
	case m.reps <- replaceCall{in, from, replaced, earlyOnly}:
	default:
		in.Hangup(call.CauseCongestion)
	}
}

// featEnv is a running B2BUA with the fake manager.
type featEnv struct {
	*env
	pool  *rtp.PortPool
	calls *Calls
	mgr   *fakeMgr
}

// startFeatures runs a B2BUA on 127.0.0.1 whose extensions use the given
// DTMF modes, and checks at the end that every RTP port and goroutine it
// started is gone.
func startFeatures(t *testing.T, modes map[string]call.DTMFMode) *featEnv {
	t.Helper()
	checkGoroutines(t)
	e := startServer(t, nil, nil)
	eventually(t, 5*time.Second, "UDP listener ready", func() bool { return e.srv.listenAddr(TransportUDP).IsValid() })
	m, err := rtp.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pool, err := rtp.NewPortPool(rtp.PoolConfig{IP: netip.MustParseAddr("127.0.0.1"), Ports: rtpPorts,
		Metrics: m, Log: testLog(), CheckInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	calls := NewCalls(e.srv, pool, featDir{modes: modes}, CallConfig{})
	mgr := &fakeMgr{ins: make(chan incomingCall, 8), reps: make(chan replaceCall, 8)}
	calls.SetManager(mgr)
	t.Cleanup(func() {
		eventually(t, 5*time.Second, "RTP ports released", func() bool { return pool.InUse() == 0 })
	})
	return &featEnv{env: e, pool: pool, calls: calls, mgr: mgr}
}

// invite places a call from ext on phone p.
func (fe *featEnv) invite(t *testing.T, p *siptest.Phone, ext, to string, mod func(*siptest.Dial)) *siptest.Call {
	t.Helper()
	d := siptest.Dial{Server: fe.udp, To: to, Ext: ext, Password: testPasswords[Extension(ext)], Algorithm: "MD5"}
	if mod != nil {
		mod(&d)
	}
	c, err := p.Invite(ctxT(t, 5*time.Second), d)
	if err != nil {
		t.Fatalf("invite %s: %v", to, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Hangup(ctx)
	})
	return c
}

// connected is a call the test connected by hand: phone a (1001) called
// 1002 on phone b; in and out are the B2BUA's legs, bridged.
type connected struct {
	ca, cb *siptest.Call
	in     call.Channel
	out    call.Outgoing
}

// nextIncoming waits for the B2BUA to hand over an incoming leg.
func (fe *featEnv) nextIncoming(t *testing.T) incomingCall {
	t.Helper()
	select {
	case ic := <-fe.mgr.ins:
		return ic
	case <-time.After(5 * time.Second):
		t.Fatal("no incoming leg")
	}
	return incomingCall{}
}

// connect places a call from a (1001) to b (1002), answers it and bridges
// the two legs.
func (fe *featEnv) connect(t *testing.T, a, b *siptest.Phone, mod func(*siptest.Dial)) *connected {
	t.Helper()
	ca := fe.invite(t, a, "1001", "1002", mod)
	ic := fe.nextIncoming(t)
	c := &connected{ca: ca, in: ic.in}
	t.Cleanup(func() {
		c.in.Hangup(call.CauseNormal)
		if c.out != nil {
			c.out.Hangup(call.CauseNormal)
		}
	})
	outs, err := fe.calls.Dial(ctxT(t, 5*time.Second), call.Target{Device: call.Device{Kind: call.DeviceSIP, ID: "1002"},
		Party: call.Party{Number: "1002"}}, ic.from, ic.in)
	if err != nil || len(outs) != 1 {
		t.Fatalf("dial 1002: %v (%d legs)", err, len(outs))
	}
	c.out = outs[0]
	cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c.cb = cb
	waitEvent(t, c.out, call.EventAnswered)
	if err := c.in.Answer(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if err := ca.WaitAnswered(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := cb.WaitAnswered(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	rtp.Bridge(c.in.Media(), c.out.Media())
	return c
}

// waitEvent waits for an outgoing leg's event k.
func waitEvent(t *testing.T, o call.Outgoing, k call.EventKind) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-o.Events():
			if got == k {
				return
			}
		case <-o.Done():
			t.Fatalf("leg ended (%v) waiting for %v", o.Cause(), k)
		case <-deadline:
			t.Fatalf("no %v", k)
		}
	}
}

// nextSignal waits for a leg's next signal.
func nextSignal(t *testing.T, ch call.Channel) call.Signal {
	t.Helper()
	select {
	case s := <-ch.Signals():
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no signal")
	}
	return call.Signal{}
}

// noSignal fails if a signal is pending on the leg now.
func noSignal(t *testing.T, ch call.Channel, what string) {
	t.Helper()
	select {
	case s := <-ch.Signals():
		t.Errorf("%s: unexpected signal %v", what, s.Kind)
	default:
	}
}
