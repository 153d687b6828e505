package sip

import (
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
)

func TestSessionExpiresHeader(t *testing.T) {
	for _, tc := range []struct {
		value     string
		want      time.Duration
		refresher string
	}{
		{"1800", 1800 * time.Second, ""},
		{"1800;refresher=uac", 1800 * time.Second, "uac"},
		{" 90 ; Refresher = UAS", 90 * time.Second, "uas"},
		{"abc", 0, ""},
		{"-5", 0, ""},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "x"})
		req.AppendHeader(sip.NewHeader("Session-Expires", tc.value))
		got, ref := sessionExpires(req)
		if got != tc.want || ref != tc.refresher {
			t.Errorf("%q: %v %q, want %v %q", tc.value, got, ref, tc.want, tc.refresher)
		}
	}
}

// TestSessionTimerCallerVanishes: the caller asks for a 2 s session timer
// and refreshes itself, then never does: the box ends the call with a BYE
// to both sides, and the CDR says why.
func TestSessionTimerCallerVanishes(t *testing.T) {
	ce := startCalls(t, callOpts{sessionExpires: 2 * time.Second})
	a := ce.registered(t, callerIP, "1001")
	b := ce.registered(t, calleeIP, "1002")
	b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer})
	ca := ce.dial(t, a, "1002", func(d *siptest.Dial) {
		d.Headers = []sip.Header{sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "2;refresher=uac")}
	})
	res, err := ca.WaitFinal(ctxT(t, 5*time.Second))
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", res, err)
	}
	if se, ref := sessionExpires(res); se != 2*time.Second || ref != "uac" || !hasToken(res, "Require", "timer") {
		t.Fatalf("200 OK session timer %v %q (Require timer %v)", se, ref, hasToken(res, "Require", "timer"))
	}
	cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("caller not hung up after its session expired: %v", err)
	}
	if err := cb.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("callee not hung up: %v", err)
	}
	if cdr := ce.waitCDR(t, 1); cdr.Cause != "session_expired" {
		t.Fatalf("CDR cause %q, want session_expired", cdr.Cause)
	}
}

// TestSessionTimerWeRefresh: the callee's 200 makes us the refresher; the
// box refreshes with UPDATE every half interval and the call stays up.
func TestSessionTimerWeRefresh(t *testing.T) {
	ce := startCalls(t, callOpts{sessionExpires: 2 * time.Second})
	a := ce.registered(t, callerIP, "1001")
	b := ce.registered(t, calleeIP, "1002")
	b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer, AnswerHeaders: []sip.Header{
		sip.NewHeader("Session-Expires", "2;refresher=uac"), sip.NewHeader("Require", "timer"),
		sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE")}})
	ca := ce.dial(t, a, "1002", nil)
	if res, err := ca.WaitFinal(ctxT(t, 5*time.Second)); err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", res, err)
	}
	cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if se, _ := sessionExpires(cb.Invite()); se != 2*time.Second || !hasToken(cb.Invite(), "Supported", "timer") {
		t.Fatalf("INVITE to the callee asks for %v (Supported timer %v)", se, hasToken(cb.Invite(), "Supported", "timer"))
	}
	eventually(t, 5*time.Second, "two UPDATE refreshes", func() bool { return b.UpdatesReceived() >= 2 })
	select {
	case <-cb.Done():
		t.Fatal("the refreshed call ended")
	default:
	}
	if err := ca.Hangup(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := cb.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// TestSessionIntervalTooSmall: below Min-SE the INVITE gets 422 with Min-SE.
func TestSessionIntervalTooSmall(t *testing.T) {
	ce := startCalls(t, callOpts{})
	a := ce.registered(t, callerIP, "1001")
	ca := ce.dial(t, a, "1002", func(d *siptest.Dial) {
		d.Headers = []sip.Header{sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "30")}
	})
	res, err := ca.WaitFinal(ctxT(t, 5*time.Second))
	if err != nil || res.StatusCode != 422 || res.GetHeader("Min-SE") == nil {
		t.Fatalf("final %v %v, want 422 with Min-SE", res, err)
	}
}
