package tests

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/dtmf"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/ccbox/ccbox/tests/audiotest"
	"github.com/ccbox/ccbox/tests/baresip"
	"github.com/ccbox/ccbox/tests/harness"
	"github.com/ccbox/ccbox/tests/sipp"
)

// infoPhone registers a sipgo test phone as ext from ip, answering calls
// after answerAfter.
func infoPhone(t *testing.T, app *harness.App, ip, ext string, answerAfter time.Duration) *siptest.Phone {
	t.Helper()
	p, err := siptest.New("udp", ip+":0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.SetBehaviour(siptest.Behaviour{Action: siptest.ActionAnswer, Delay: answerAfter})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.Register(ctx, siptest.Register{Server: app.SIPAddr(), Ext: ext, Password: "secret-" + ext, Algorithm: "MD5", Expires: 600})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("register %s: %v %v", ext, res, err)
	}
	return p
}

// waitDigits waits until the phone has received want by SIP INFO.
func waitDigits(t *testing.T, p *siptest.Phone, want []rune) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !slices.Equal(p.InfoDigits(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("digits received by INFO: %q, want %q", string(p.InfoDigits()), string(want))
		}
		time.Sleep(20 * time.Millisecond) // bounded poll
	}
}

// TestRFC4733FromSIPpArrivesAsINFOAndLampsFollow: SIPp (1001) calls a
// phone that takes digits as SIP INFO (1002) and plays SIPp's RFC 4733
// capture of "1"; the phone gets INFO Signal=1. Meanwhile a third phone
// (1003) watching 1002's busy lamp gets NOTIFYs through ringing (early),
// answered (confirmed) and hung up (terminated).
func TestRFC4733FromSIPpArrivesAsINFOAndLampsFollow(t *testing.T) {
	app, admin := callBox(t, "1001", "1002", "1003")
	setExt(t, admin, "1002", map[string]any{"dtmf_mode": "info"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	w, err := siptest.NewWatcher("udp", "127.0.0.6:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sub, res, err := w.Subscribe(ctx, siptest.Subscribe{Server: app.SIPAddr(), Target: "1002", Ext: "1003", Password: "secret-1003", Expires: 600})
	if err != nil {
		t.Fatalf("SUBSCRIBE: %v %v", res, err)
	}
	lamp := func(want string) {
		t.Helper()
		if _, err := sub.WaitNotify(ctx, want, func(n siptest.Notify) bool { return n.Lamp() == want }); err != nil {
			t.Fatalf("lamp %s: %v (NOTIFYs so far: %d)", want, err, len(sub.Notifies()))
		}
	}
	lamp("idle")

	phone := infoPhone(t, app, "127.0.0.5", "1002", time.Second)
	p := sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, "sipp-call-dtmf.xml"), Substitute: map[string]string{"PCAP_FILE": "/usr/share/sip-tester/dtmf_2833_1.pcap"},
		Remote: app.SIPAddr(), IP: "127.0.0.4", Service: "1002", Keys: map[string]string{"caller": "1001"},
		User: "1001", Password: "secret-1001", AuthURI: "sip:1002@" + app.SIPAddr(),
	})
	lamp("early")
	lamp("confirmed")
	waitDigits(t, phone, []rune{'1'})
	sippSucceeded(t, p, "SIPp caller")
	lamp("terminated")
}

// TestInbandDigitsAreDetected: a baresip phone set to in-band DTMF plays
// the tones of 4 and 7 in its audio; the box hears them and the callee,
// which takes digits as SIP INFO, gets 4 then 7.
func TestInbandDigitsAreDetected(t *testing.T) {
	app, admin := callBox(t, "1001", "1002")
	setExt(t, admin, "1001", map[string]any{"dtmf_mode": "inband"})
	setExt(t, admin, "1002", map[string]any{"dtmf_mode": "info"})

	// Two seconds of silence (the call settles), the two digits 400 ms
	// apart, then silence.
	var audio []int16
	audio = append(audio, make([]int16, 16000)...)
	for _, d := range []rune{'4', '7'} {
		tone, err := dtmf.Tone(d, 150*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		audio = append(audio, tone...)
		audio = append(audio, make([]int16, 3200)...)
	}
	audio = append(audio, make([]int16, 8000*20)...)
	wav := filepath.Join(t.TempDir(), "digits.wav")
	if err := audiotest.WriteWAV(wav, 8000, audio); err != nil {
		t.Fatal(err)
	}

	phone := infoPhone(t, app, "127.0.0.5", "1002", 0)
	a := baresip.Start(t, baresip.Options{IP: "127.0.0.2", Ext: "1001", Password: "secret-1001", Server: app.SIPAddr(), ToneWAV: wav})
	a.Dial("1002")
	a.WaitOutput("Call established", 15*time.Second)
	waitDigits(t, phone, []rune{'4', '7'})
	a.Hangup()
}

// TestAttendedTransferWithTestPhones: 1001 calls 1002; 1002 holds it,
// calls 1003 (consultation), then sends REFER with Replaces naming the
// consultation call. 1001 and 1003 end up talking (RTP both ways through
// the box), 1002's two calls end, and the original call keeps its serial.
func TestAttendedTransferWithTestPhones(t *testing.T) {
	app, admin := callBox(t, "1001", "1002", "1003")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := infoPhone(t, app, "127.0.0.2", "1001", 0)
	b := infoPhone(t, app, "127.0.0.3", "1002", 0)
	c := infoPhone(t, app, "127.0.0.4", "1003", 0)
	dial := func(from *siptest.Phone, ext, to string) *siptest.Call {
		t.Helper()
		call, err := from.Invite(ctx, siptest.Dial{Server: app.SIPAddr(), To: to, Ext: ext, Password: "secret-" + ext})
		if err != nil {
			t.Fatal(err)
		}
		if err := call.WaitAnswered(ctx); err != nil {
			t.Fatalf("%s → %s: %v", ext, to, err)
		}
		return call
	}
	first := dial(a, "1001", "1002")
	bFirst, err := b.NextIncoming(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bFirst.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bFirst.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	consult := dial(b, "1002", "1003")
	cCall, err := c.NextIncoming(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cCall.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := bFirst.Refer(ctx, "1003", consult); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("REFER with Replaces: %v %v", res, err)
	}
	statuses, err := bFirst.WaitReferDone(ctx)
	if err != nil || len(statuses) == 0 || statuses[len(statuses)-1] != http.StatusOK {
		t.Fatalf("transfer progress %v %v, want a final 200", statuses, err)
	}
	// 1002's legs are hung up by the box (its phone does not hang up).
	for _, call := range []*siptest.Call{bFirst, consult} {
		if err := call.WaitEnded(ctx); err != nil {
			t.Fatalf("1002's call did not end: %v", err)
		}
	}
	// 1001 and 1003 hear each other: tones both ways through the box.
	checkTalk(ctx, t, a, first, c, cCall)
	if err := first.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cCall.WaitEnded(ctx); err != nil {
		t.Fatal(err)
	}
	cdrs := cdrList(t, admin, 2)
	var transferred, kept int
	for _, cdr := range cdrs {
		switch cdr.Cause {
		case "transferred":
			transferred++
		case "normal_clearing":
			kept++
			if cdr.Caller != "1001" {
				t.Errorf("the kept call is %+v", cdr)
			}
		}
	}
	if transferred != 1 || kept != 1 {
		t.Errorf("CDRs %+v", cdrs)
	}
}

// checkTalk sends a different tone from each side's RTP socket and checks
// that each hears the other's.
func checkTalk(ctx context.Context, t *testing.T, px *siptest.Phone, x *siptest.Call, py *siptest.Phone, y *siptest.Call) {
	t.Helper()
	px.RTP.Reset()
	py.RTP.Reset()
	const fx, fy = 1000.0, 1500.0
	px.RTP.Send(x.Remote(), siptest.Stream{PayloadType: x.PayloadType(), Pattern: siptest.PatternTone, Freq: fx})
	py.RTP.Send(y.Remote(), siptest.Stream{PayloadType: y.PayloadType(), Pattern: siptest.PatternTone, Freq: fy})
	defer px.RTP.StopSending()
	defer py.RTP.StopSending()
	select {
	case <-time.After(1500 * time.Millisecond): // a second and a half of audio each way
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	for _, tc := range []struct {
		name string
		p    *siptest.Phone
		want float64
	}{{"the transferee hears the target", px, fy}, {"the target hears the transferee", py, fx}} {
		var samples []int16
		for _, pkt := range tc.p.RTP.Received() {
			samples = append(samples, siptest.Decode(pkt.PayloadType, pkt.Payload)...)
		}
		if len(samples) < 4000 || !audiotest.HasTone(samples, 8000, tc.want) {
			t.Errorf("%s: %d samples, %v", tc.name, len(samples), audiotest.Detect(samples, 8000, tc.want, 20*time.Millisecond))
		}
	}
}

// TestInviteWithReplacesTakesOverACall: 1001 talks to 1002; a phone of
// 1003 sends an INVITE with Replaces naming 1002's dialog (as a phone
// completing an attended transfer, or picking up from a busy lamp, does).
// 1003 takes 1002's place: it talks to 1001 and 1002 is hung up.
func TestInviteWithReplacesTakesOverACall(t *testing.T) {
	app, _ := callBox(t, "1001", "1002", "1003")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := infoPhone(t, app, "127.0.0.2", "1001", 0)
	b := infoPhone(t, app, "127.0.0.3", "1002", 0)
	c := infoPhone(t, app, "127.0.0.4", "1003", 0)
	first, err := a.Invite(ctx, siptest.Dial{Server: app.SIPAddr(), To: "1002", Ext: "1001", Password: "secret-1001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	bCall, err := b.NextIncoming(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bCall.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	d := siptest.Dial{Server: app.SIPAddr(), To: "1002", Ext: "1003", Password: "secret-1003"}
	d.Headers = append(d.Headers, siptest.Header("Replaces", bCall.ReplacesValue()))
	taker, err := c.Invite(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := taker.WaitAnswered(ctx); err != nil {
		t.Fatalf("INVITE with Replaces: %v (statuses %v)", err, taker.Statuses())
	}
	if err := bCall.WaitEnded(ctx); err != nil {
		t.Fatalf("the replaced leg did not end: %v", err)
	}
	checkTalk(ctx, t, a, first, c, taker)
	if err := first.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := taker.WaitEnded(ctx); err != nil {
		t.Fatal(err)
	}
}
