package sip

import (
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
)

// TestCallOverTCP: both phones register and call over TCP; the box reaches
// the callee over the connection its REGISTER came on, and media flows.
func TestCallOverTCP(t *testing.T) {
	ce := startCalls(t, callOpts{})
	phone := func(ip, ext string) *siptest.Phone {
		p := newPhone(t, "tcp", ip+":0")
		res, err := p.Register(ctxT(t, 5*time.Second), siptest.Register{
			Server: ce.udp, Ext: ext, Password: testPasswords[Extension(ext)], Algorithm: "SHA-256", Expires: 300,
		})
		if err != nil || res.StatusCode != sip.StatusOK {
			t.Fatalf("register %s over TCP: %v %v", ext, res, err)
		}
		return p
	}
	a, b := phone(callerIP, "1001"), phone(calleeIP, "1002")
	if bs := ce.srv.Lookup("1002"); len(bs) != 1 || bs[0].Transport != TransportTCP {
		t.Fatalf("callee binding %+v, want one over TCP", bs)
	}
	b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer,
		Stream: &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagB}})
	ca := ce.dial(t, a, "1002", func(d *siptest.Dial) {
		d.Stream = &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagA}
	})
	if res, err := ca.WaitFinal(ctxT(t, 5*time.Second)); err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", res, err)
	}
	cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Invite().Transport() != "TCP" {
		t.Errorf("INVITE reached the callee over %s, want TCP", cb.Invite().Transport())
	}
	checkSDPs(t, "caller", ca)
	checkSDPs(t, "callee", cb)
	checkCounterStream(t, "caller", waitPackets(t, a, 25, "caller receives audio"), tagB, ca.Remote())
	checkCounterStream(t, "callee", waitPackets(t, b, 25, "callee receives audio"), tagA, cb.Remote())
	if err := cb.Hangup(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := ca.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("caller got no BYE over TCP: %v", err)
	}
	if cdr := ce.waitCDR(t, 1); cdr.Result != "answered" || cdr.HangupBy != "callee" {
		t.Fatalf("CDR %+v", cdr)
	}
}
