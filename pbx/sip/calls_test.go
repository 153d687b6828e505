package sip

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
)

const (
	callerIP = "127.0.0.2" // 1001
	calleeIP = "127.0.0.3" // 1002
	tagA     = 0xA1        // the caller's counter stream
	tagB     = 0xB2        // the callee's
)

func TestCallBasic(t *testing.T) {
	tests := []struct {
		name     string
		byCaller bool
		alg      string
	}{
		{"caller hangs up, SHA-256", true, "SHA-256"},
		{"callee hangs up, MD5", false, "MD5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := startCalls(t, callOpts{})
			a := ce.registered(t, callerIP, "1001")
			b := ce.registered(t, calleeIP, "1002")
			b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer, Delay: 200 * time.Millisecond,
				Stream: &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagB}})
			ca := ce.dial(t, a, "1002", func(d *siptest.Dial) {
				d.Algorithm = tt.alg
				d.Stream = &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagA}
			})
			cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			res, err := ca.WaitFinal(ctxT(t, 5*time.Second))
			if err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("caller's final response %v, %v; statuses %v", res, err, ca.Statuses())
			}
			if err := cb.WaitAnswered(ctxT(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if from := cb.Invite().From(); from == nil || from.Address.User != "1001" {
				t.Errorf("callee sees the call from %v, want 1001", from)
			}
			checkSDPs(t, "caller", ca)
			checkSDPs(t, "callee", cb)
			if ca.Remote() == cb.Remote() {
				t.Errorf("both legs use the same media port %v", ca.Remote())
			}

			// Half a second of audio each way, through the relay.
			pa := waitPackets(t, a, 25, "caller receives the callee's audio")
			pb := waitPackets(t, b, 25, "callee receives the caller's audio")
			checkCounterStream(t, "caller", pa, tagB, ca.Remote())
			checkCounterStream(t, "callee", pb, tagA, cb.Remote())

			hanger, other := ca, cb
			if !tt.byCaller {
				hanger, other = cb, ca
			}
			if err := hanger.Hangup(ctxT(t, 5*time.Second)); err != nil {
				t.Fatalf("BYE: %v", err)
			}
			if err := other.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
				t.Fatalf("the other side got no BYE: %v", err)
			}
			cdr := ce.waitCDR(t, 1)
			if cdr.Result != "answered" || cdr.Caller != "1001" || cdr.Callee != "1002" || cdr.Answer.IsZero() {
				t.Errorf("CDR %+v", cdr)
			}
			wantBy := "callee"
			if tt.byCaller {
				wantBy = "caller"
			}
			if cdr.HangupBy != wantBy || cdr.Cause != "normal_clearing" {
				t.Errorf("CDR hang-up by %q cause %q, want %q normal_clearing", cdr.HangupBy, cdr.Cause, wantBy)
			}
			if len(cdr.Legs) != 2 || cdr.Legs[0].Device != "sip:1001" || cdr.Legs[1].Device != "sip:1002" ||
				cdr.Legs[0].Codec != "PCMU" || cdr.Legs[1].Codec != "PCMU" {
				t.Errorf("CDR legs %+v", cdr.Legs)
			}
		})
	}
}

func TestCallFailures(t *testing.T) {
	tests := []struct {
		name       string
		to         string
		callee     *siptest.Behaviour // nil: 1002 not registered
		cancel     bool               // the caller cancels once it rings
		want       int
		wantCancel bool // the callee receives CANCEL
		wantResult string
	}{
		{"busy", "1002", &siptest.Behaviour{Action: siptest.ActionReject, Status: sip.StatusBusyHere, Delay: 100 * time.Millisecond},
			false, sip.StatusBusyHere, false, "busy"},
		{"declined", "1002", &siptest.Behaviour{Action: siptest.ActionReject, Status: sip.StatusGlobalDecline},
			false, sip.StatusGlobalDecline, false, "rejected"},
		{"no answer", "1002", &siptest.Behaviour{Action: siptest.ActionIgnore},
			false, sip.StatusTemporarilyUnavailable, true, "no_answer"},
		{"caller cancels", "1002", &siptest.Behaviour{Action: siptest.ActionIgnore},
			true, sip.StatusRequestTerminated, true, "cancelled"},
		{"unknown number", "1999", nil, false, sip.StatusNotFound, false, "unavailable"},
		{"unregistered", "1003", nil, false, sip.StatusTemporarilyUnavailable, false, "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring := time.Second // the no-answer case waits for it
			if tt.cancel {
				// Long enough that a loaded machine's slow 180 does not
				// let the ring timeout win over the caller's CANCEL.
				ring = 10 * time.Second
			}
			ce := startCalls(t, callOpts{ringTimeout: ring})
			a := ce.registered(t, callerIP, "1001")
			var b *siptest.Phone
			if tt.callee != nil {
				b = ce.registered(t, calleeIP, "1002")
				b.SetBehaviour(*tt.callee)
			}
			ca := ce.dial(t, a, tt.to, nil)
			if tt.cancel {
				if _, err := ca.WaitStatus(ctxT(t, 5*time.Second), sip.StatusRinging); err != nil {
					t.Fatal(err)
				}
				ca.Cancel()
			}
			res, err := ca.WaitFinal(ctxT(t, 10*time.Second))
			if res == nil {
				t.Fatalf("no final response: %v", err)
			}
			if res.StatusCode != tt.want {
				t.Errorf("caller got %d, want %d (statuses %v)", res.StatusCode, tt.want, ca.Statuses())
			}
			if b != nil {
				cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				if err := cb.WaitEnded(ctxT(t, 10*time.Second)); err != nil {
					t.Fatal(err)
				}
				if cb.Cancelled() != tt.wantCancel {
					t.Errorf("callee cancelled = %v, want %v", cb.Cancelled(), tt.wantCancel)
				}
			}
			if cdr := ce.waitCDR(t, 1); cdr.Result != tt.wantResult {
				t.Errorf("CDR result %q cause %q, want %q", cdr.Result, cdr.Cause, tt.wantResult)
			}
		})
	}
}

func TestCallEarlyMedia(t *testing.T) {
	ce := startCalls(t, callOpts{})
	a := ce.registered(t, callerIP, "1001")
	b := ce.registered(t, calleeIP, "1002")
	b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer, Early: true, Delay: 2 * time.Second,
		Stream: &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagB}})
	ca := ce.dial(t, a, "1002", nil)
	res, err := ca.WaitStatus(ctxT(t, 5*time.Second), sip.StatusSessionInProgress)
	if err != nil {
		t.Fatalf("no 183: %v (statuses %v)", err, ca.Statuses())
	}
	if len(res.Body()) == 0 {
		t.Fatal("183 without SDP")
	}
	// The callee's ringback reaches the caller before the answer.
	pa := waitPackets(t, a, 10, "early media at the caller")
	if final, _ := ca.WaitFinal(ctxT(t, time.Millisecond)); final != nil {
		t.Fatalf("answered (%d) before early media was checked", final.StatusCode)
	}
	checkCounterStream(t, "caller (early)", pa, tagB, ca.Remote())
	checkSDPs(t, "caller", ca)
	if final, err := ca.WaitFinal(ctxT(t, 5*time.Second)); err != nil || final.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", final, err)
	}
	if err := ca.Hangup(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	ce.waitCDR(t, 1)
}

func TestCallLateOffer(t *testing.T) {
	ce := startCalls(t, callOpts{})
	a := ce.registered(t, callerIP, "1001")
	b := ce.registered(t, calleeIP, "1002")
	b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer,
		Stream: &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagB}})
	ca := ce.dial(t, a, "1002", func(d *siptest.Dial) {
		d.NoSDP = true
		d.Stream = &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagA}
	})
	res, err := ca.WaitFinal(ctxT(t, 5*time.Second))
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", res, err)
	}
	if len(res.Body()) == 0 {
		t.Fatal("200 to an INVITE without SDP carries no offer")
	}
	checkSDPs(t, "caller", ca)
	cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	checkCounterStream(t, "caller", waitPackets(t, a, 25, "audio at the caller"), tagB, ca.Remote())
	checkCounterStream(t, "callee", waitPackets(t, b, 25, "audio at the callee"), tagA, cb.Remote())
	if err := cb.Hangup(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := ca.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	ce.waitCDR(t, 1)
}

func TestCallTranscoding(t *testing.T) {
	ce := startCalls(t, callOpts{codecs: map[string][]codec.Codec{"1002": {codec.PCMA}}})
	a := ce.registered(t, callerIP, "1001")
	b := ce.registered(t, calleeIP, "1002")
	const toneA, toneB = 1000.0, 400.0
	b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer, PTs: []uint8{siptest.PCMA},
		Stream: &siptest.Stream{Pattern: siptest.PatternTone, Freq: toneB}})
	ca := ce.dial(t, a, "1002", func(d *siptest.Dial) {
		d.PTs = []uint8{siptest.PCMU}
		d.Stream = &siptest.Stream{Pattern: siptest.PatternTone, Freq: toneA}
	})
	if res, err := ca.WaitFinal(ctxT(t, 5*time.Second)); err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", res, err)
	}
	cb, err := b.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.WaitAnswered(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ca.PayloadType() != siptest.PCMU || cb.PayloadType() != siptest.PCMA {
		t.Fatalf("negotiated %d and %d, want PCMU and PCMA", ca.PayloadType(), cb.PayloadType())
	}
	check := func(who string, pkts []siptest.Packet, pt uint8, want, other float64) {
		t.Helper()
		var samples []int16
		for _, p := range pkts {
			if p.PayloadType != pt {
				t.Fatalf("%s received payload type %d, want %d", who, p.PayloadType, pt)
			}
			samples = append(samples, siptest.Decode(pt, p.Payload)...)
		}
		if l := siptest.ToneLevel(samples, want); l < 0.8 {
			t.Errorf("%s: %v Hz at %.2f of the power, want most of it", who, want, l)
		}
		if l := siptest.ToneLevel(samples, other); l > 0.05 {
			t.Errorf("%s hears its own %v Hz tone (%.2f)", who, other, l)
		}
	}
	check("callee", waitPackets(t, b, 25, "audio at the callee"), siptest.PCMA, toneA, toneB)
	check("caller", waitPackets(t, a, 25, "audio at the caller"), siptest.PCMU, toneB, toneA)
	if err := ca.Hangup(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if cdr := ce.waitCDR(t, 1); len(cdr.Legs) != 2 || cdr.Legs[0].Codec != "PCMU" || cdr.Legs[1].Codec != "PCMA" {
		t.Errorf("CDR legs %+v", cdr.Legs)
	}
}

func TestCallNAT(t *testing.T) {
	ce := startCalls(t, callOpts{})
	a := ce.registered(t, callerIP, "1001")
	b := ce.registered(t, calleeIP, "1002")
	b.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer,
		Stream: &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagB}})
	ca := ce.dial(t, a, "1002", func(d *siptest.Dial) {
		d.SDPAddr = netip.MustParseAddrPort("127.0.0.99:4000") // nothing listens there
		d.Stream = &siptest.Stream{Pattern: siptest.PatternCounter, Tag: tagA}
	})
	if res, err := ca.WaitFinal(ctxT(t, 5*time.Second)); err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", res, err)
	}
	pa := waitPackets(t, a, 25, "audio at the caller behind NAT")
	// Packets the relay sent before the caller's first packet went to the
	// SDP's address; what arrives is one stream, from the appliance.
	checkCounterStream(t, "caller", pa, tagB, ca.Remote())
	if err := ca.Hangup(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	ce.waitCDR(t, 1)
}

func TestCallTwoContacts(t *testing.T) {
	ce := startCalls(t, callOpts{})
	a := ce.registered(t, callerIP, "1001")
	b1 := ce.registered(t, calleeIP, "1002")
	b2 := ce.registered(t, "127.0.0.4", "1002")
	b1.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer, Delay: 300 * time.Millisecond})
	b2.SetBehaviour(siptest.Behaviour{Action: siptest.ActionIgnore})
	if n := len(ce.srv.Lookup("1002")); n != 2 {
		t.Fatalf("1002 has %d contacts, want 2", n)
	}
	ca := ce.dial(t, a, "1002", nil)
	c1, err := b1.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := b2.NextIncoming(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ca.WaitFinal(ctxT(t, 5*time.Second)); err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("final %v %v", res, err)
	}
	if err := c2.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !c2.Cancelled() {
		t.Error("the contact that did not answer got no CANCEL")
	}
	if err := c1.WaitAnswered(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := ca.Hangup(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c1.WaitEnded(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if cdr := ce.waitCDR(t, 1); len(cdr.Legs) != 3 || cdr.Result != "answered" {
		t.Errorf("CDR %+v", cdr)
	}
}

func TestCallAuth(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     int
	}{
		{"no credentials", "", sip.StatusUnauthorized},
		{"wrong password", "not-the-secret", sip.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := startCalls(t, callOpts{})
			a := ce.registered(t, callerIP, "1001")
			ce.registered(t, calleeIP, "1002")
			ca := ce.dial(t, a, "1002", func(d *siptest.Dial) { d.Password = tt.password })
			res, err := ca.WaitFinal(ctxT(t, 5*time.Second))
			if res == nil {
				t.Fatalf("no final response: %v", err)
			}
			if res.StatusCode != tt.want {
				t.Errorf("got %d, want %d", res.StatusCode, tt.want)
			}
			if n := len(ce.records.all()); n != 0 {
				t.Errorf("%d CDRs for a call never let in", n)
			}
		})
	}
}
