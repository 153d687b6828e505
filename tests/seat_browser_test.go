package tests

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/pbx/seat"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/ccbox/ccbox/tests/audiotest"
	"github.com/ccbox/ccbox/tests/baresip"
	"github.com/ccbox/ccbox/tests/browser"
	"github.com/ccbox/ccbox/tests/harness"
)

// The browser seat's end-to-end tests: headless Chromium with a fake
// microphone playing seatTone is alice's softphone on extension 1001;
// baresip desk phones, each on its own loopback address with its own tone,
// call it and are called. Audio is proven both ways by the tones: the
// phone's in the page (WebAudio analyser on the remote stream), the page's
// in the phone's recording, and each side's own tone absent.

const (
	seatTone  = 1500.0 // what alice's microphone plays
	seatUser  = "alice"
	seatPass  = "alice-secret-1"
	seatExt   = "1001"
	toneLevel = -75.0 // dB in the page's analyser: a tone heard (the processing lowers steady tones)
)

// seatBox starts the box with alice owning 1001 (ringing only her seat) and
// desk-phone extensions.
func seatBox(t *testing.T, phones ...string) (*harness.App, *harness.Client) {
	t.Helper()
	app, admin := callBox(t, append([]string{seatExt}, phones...)...)
	if status, err := admin.Do(http.MethodPost, "/api/v1/users",
		map[string]any{"name": seatUser, "role": "agent", "password": seatPass, "display_name": "Alice"}, nil); err != nil || status != http.StatusCreated {
		t.Fatalf("create alice: %d %v", status, err)
	}
	setExt(t, admin, seatExt, map[string]any{"user": seatUser, "ring_on": "seat"})
	return app, admin
}

// seatBrowser starts Chromium with the seat's tone as its microphone.
func seatBrowser(t *testing.T) context.Context {
	t.Helper()
	wav := filepath.Join(t.TempDir(), "seat.wav")
	// 48 kHz like a headset; longer than any test here.
	if err := audiotest.WriteToneWAV(wav, 48000, 150*time.Second, seatTone); err != nil {
		t.Fatal(err)
	}
	return browser.New(t, browser.Options{FakeAudioWAV: wav, Timeout: 4 * time.Minute})
}

// goOnline signs alice in on the softphone page and takes her seat online.
func goOnline(t *testing.T, ctx context.Context, app *harness.App) {
	t.Helper()
	do(t, ctx, "sign in and open the softphone",
		chromedp.Navigate(app.HTTPSURL()+"/login?next=%2Fsoftphone"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), seatUser),
		chromedp.SendKeys(chromedp.ID("password"), seatPass),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("dial-number")),
	)
	do(t, ctx, "the softphone is ready",
		// The softphone's module has bound its controls once it set its hooks.
		chromedp.PollFunction[chromedp.Void](`() => !!window.softphone && document.body.dataset.ready === "true"`,
			chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	do(t, ctx, "click go online", clickJS("go-online"))
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, waitAttr("#seat-state", "data-state", "idle")); err != nil {
		state := get(t, ctx, chromedp.Evaluate[string](`JSON.stringify(window.softphone.state())`))
		t.Fatalf("the seat did not go online: %v; page state %s", err, state)
	}
}

// clickJS clicks an element by id from the page itself: the softphone
// re-renders its controls on every state message, and a node found by
// CDP may be replaced before CDP's own click lands.
func clickJS(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).click()`, id))
}

// callState waits until the call panel shows state.
func callState(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	do(t, ctx, "call "+state, waitAttr("#call-panel", "data-state", state))
}

// pageLevel is the level, in dB, of freq in what the page receives.
func pageLevel(t *testing.T, ctx context.Context, freq float64) float64 {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[float64](fmt.Sprintf("window.softphone.remoteTone(%v)", freq)))
}

// pageHears polls the page's analyser (bounded) until freq is heard and
// notFreq (the page's own tone) is at least 20 dB below it.
func pageHears(t *testing.T, ctx context.Context, freq, notFreq float64) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		l, own := pageLevel(t, ctx, freq), pageLevel(t, ctx, notFreq)
		if l > toneLevel && own < l-20 {
			t.Logf("page hears %v Hz at %.1f dB, its own %v Hz at %.1f dB", freq, l, notFreq, own)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page does not hear the %v Hz tone clearly: %.1f dB, its own %v Hz at %.1f dB", freq, l, notFreq, own)
		}
		time.Sleep(200 * time.Millisecond) // bounded poll of the analyser
	}
}

// phoneHeard checks a baresip recording: the seat's tone in it, the
// phone's own absent.
func phoneHeard(t *testing.T, p *baresip.Phone, own float64) {
	t.Helper()
	samples, rate, err := audiotest.ReadWAV(p.Received())
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < rate {
		t.Fatalf("the phone received only %d samples", len(samples))
	}
	if r := audiotest.Detect(samples, rate, seatTone, 20*time.Millisecond); r.PresentFrames() < len(r.Frames)/3 {
		t.Errorf("the phone does not hear the page's %v Hz tone: %v", seatTone, r)
	}
	if !audiotest.Absent(samples, rate, own) {
		t.Errorf("the phone hears its own %v Hz tone", own)
	}
}

// seatsGauge reads pbx_seats{state} from /metrics.
func seatsGauge(t *testing.T, app *harness.App, state string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^pbx_seats\{state="` + state + `"\} (\d+)`).FindStringSubmatch(metricsText(t, app))
	if m == nil {
		t.Fatalf("/metrics has no pbx_seats{state=%q}", state)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestSeatAnswersADeskPhone: a baresip phone calls alice's extension; the
// page rings, the test clicks answer, and each side hears the other's tone
// and not its own. Quality figures reach the page and /metrics.
func TestSeatAnswersADeskPhone(t *testing.T) {
	app, admin := seatBox(t, "1002")
	ctx := seatBrowser(t)
	phones := featurePhones(t, app, false, map[string]float64{"1002": toneB})
	phone := phones["1002"]
	goOnline(t, ctx, app)
	if n := seatsGauge(t, app, "idle"); n != 1 {
		t.Fatalf("pbx_seats{state=idle} = %d, want 1", n)
	}

	// A busy lamp on 1001 follows the seat as it would a desk phone.
	wctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := siptest.NewWatcher("udp", "127.0.0.6:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sub, res, err := w.Subscribe(wctx, siptest.Subscribe{Server: app.SIPAddr(), Target: seatExt, Ext: "1002", Password: "secret-1002", Expires: 600})
	if err != nil {
		t.Fatalf("SUBSCRIBE: %v %v", res, err)
	}
	lamp := func(want string) {
		t.Helper()
		if _, err := sub.WaitNotify(wctx, want, func(n siptest.Notify) bool { return n.Lamp() == want }); err != nil {
			t.Fatalf("lamp %s: %v (NOTIFYs so far: %d)", want, err, len(sub.Notifies()))
		}
	}
	lamp("idle")

	phone.Dial(seatExt)
	callState(t, ctx, "ringing")
	lamp("early")
	if !get(t, ctx, chromedp.Evaluate[bool]("window.softphone.ringing()")) {
		t.Fatal("the ring tone is not playing")
	}
	browser.Screenshot(t, ctx, "softphone-ringing")
	do(t, ctx, "answer", clickJS("answer"))
	callState(t, ctx, "talking")
	phone.WaitOutput("Call established", 10*time.Second)

	lamp("confirmed")
	pageHears(t, ctx, toneB, seatTone)
	do(t, ctx, "quality figures shown", chromedp.WaitVisible(`#quality`))
	time.Sleep(3 * time.Second) // three seconds of the page's tone in the phone's recording
	browser.Screenshot(t, ctx, "softphone-talking")
	if !regexp.MustCompile(`pbx_seat_rtt_seconds\{extension="1001"\}`).MatchString(metricsText(t, app)) {
		t.Error("/metrics has no RTT for the seat")
	}
	do(t, ctx, "hang up", clickJS("hangup"))
	phone.WaitOutput("session closed", 10*time.Second)
	callState(t, ctx, "none")
	lamp("terminated")
	phoneHeard(t, phone, toneB)

	cdrs := cdrList(t, admin, 1)
	if c := cdrs[0]; c.Result != "answered" || c.Caller != "1002" || c.Callee != seatExt {
		t.Fatalf("CDR %+v", c)
	}
}

// TestSeatCallsPhonesHoldsSendsDigitsAndTransfers: the seat dials a desk
// phone; hold gives the phone the box's music and retrieve gives it the
// page again. Then it dials a phone that takes digits as SIP INFO and
// presses 1, 2, # on the dialpad (RFC 4733 from the browser, INFO at the
// phone), and transfers that phone to the first one, which rings and talks.
func TestSeatCallsPhonesHoldsSendsDigitsAndTransfers(t *testing.T) {
	app, admin := seatBox(t, "1002", "1003")
	setExt(t, admin, "1003", map[string]any{"dtmf_mode": "info"})
	ctx := seatBrowser(t)
	phone := featurePhones(t, app, true, map[string]float64{"1002": toneB})["1002"]
	info := infoPhone(t, app, "127.0.0.9", "1003", 0)
	goOnline(t, ctx, app)

	do(t, ctx, "dial 1002",
		chromedp.SendKeys(chromedp.ID("dial-number"), "1002"),
		clickJS("dial"),
	)
	callState(t, ctx, "talking")
	phone.WaitOutput("Call established", 10*time.Second)
	t0 := time.Now()
	pageHears(t, ctx, toneB, seatTone)
	time.Sleep(time.Until(t0.Add(2 * time.Second)))
	do(t, ctx, "hold", clickJS("hold"), waitAttr("#hold", "aria-pressed", "true"))
	callState(t, ctx, "held")
	held := time.Since(t0)
	time.Sleep(3 * time.Second)
	do(t, ctx, "retrieve", clickJS("hold"), waitAttr("#hold", "aria-pressed", "false"))
	callState(t, ctx, "talking")
	resumed := time.Since(t0)
	time.Sleep(2500 * time.Millisecond)
	do(t, ctx, "hang up", clickJS("hangup"))
	phone.WaitOutput("session closed", 10*time.Second)
	callState(t, ctx, "none")

	samples, rate, err := audiotest.ReadWAV(phone.Received())
	if err != nil {
		t.Fatal(err)
	}
	during := segment(samples, rate, held+800*time.Millisecond, resumed-200*time.Millisecond)
	after := segment(samples, rate, resumed+1000*time.Millisecond, resumed+2200*time.Millisecond)
	if share := musicShare(during, rate); share < 0.5 {
		t.Errorf("on hold, %.0f%% of what the phone hears is hold music, want most", share*100)
	}
	if !audiotest.Absent(during, rate, seatTone) {
		t.Errorf("on hold the phone still hears the page")
	}
	if !audiotest.HasTone(after, rate, seatTone) {
		t.Errorf("after retrieve the phone does not hear the page: %v", audiotest.Detect(after, rate, seatTone, 20*time.Millisecond))
	}

	do(t, ctx, "dial 1003 (digits by INFO)",
		clearInput("dial-number"),
		chromedp.SendKeys(chromedp.ID("dial-number"), "1003"),
		clickJS("dial"),
	)
	callState(t, ctx, "talking")
	time.Sleep(500 * time.Millisecond) // the microphone is on the sender before the first digit
	for _, d := range []string{"1", "2", "#"} {
		do(t, ctx, "press "+d, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('button[data-digit=%q]').click()`, d)))
		time.Sleep(300 * time.Millisecond) // one digit after the other, as a person presses them
	}
	waitDigits(t, info, []rune("12#"))

	do(t, ctx, "blind transfer 1003 to 1002",
		chromedp.SendKeys(chromedp.ID("transfer-number"), "1002"),
		clickJS("transfer"),
	)
	callState(t, ctx, "none")
	phone.WaitCount("Call established", 2, 15*time.Second)
	phone.Hangup() // the transferred call ends; its CDR is written
	cdrs := cdrList(t, admin, 2)
	roles := map[string]string{}
	for _, l := range cdrs[0].Legs {
		roles[l.Role] = l.Device
	}
	if roles["caller"] != "seat:1001" || roles["transfer_target"] == "" {
		t.Fatalf("the transfer's CDR legs: %+v", cdrs[0].Legs)
	}
}

// TestSeatSurvivesASocketCutAndGoesWithItsTab: during a call the page's
// WebSocket is cut; the page reconnects, resumes the seat and still shows
// the call, whose audio never stopped. Then the tab is closed: the seat is
// gone within the stated time, and a call to the extension is not rung.
func TestSeatSurvivesASocketCutAndGoesWithItsTab(t *testing.T) {
	app, admin := seatBox(t, "1002")
	ctx := seatBrowser(t)
	phone := featurePhones(t, app, false, map[string]float64{"1002": toneB})["1002"]
	goOnline(t, ctx, app)

	phone.Dial(seatExt)
	callState(t, ctx, "ringing")
	do(t, ctx, "answer", clickJS("answer"))
	callState(t, ctx, "talking")
	phone.WaitOutput("Call established", 10*time.Second)
	pageHears(t, ctx, toneB, seatTone)

	do(t, ctx, "cut the socket", chromedp.Evaluate[chromedp.Void](`window.softphone.dropSocket()`))
	app.WaitLog(t, "seat resumed", 15*time.Second)
	callState(t, ctx, "talking")
	do(t, ctx, "seat state in the call", waitAttr("#seat-state", "data-state", "in_call"))
	pageHears(t, ctx, toneB, seatTone)
	if strings.Contains(phone.Output(), "session closed") {
		t.Fatal("the phone's call ended while the page reconnected")
	}
	do(t, ctx, "hang up", clickJS("hangup"))
	phone.WaitOutput("session closed", 10*time.Second)
	do(t, ctx, "idle again", waitAttr("#seat-state", "data-state", "idle"))

	closed := time.Now()
	if _, err := chromedp.Call(ctx, page.Close, cdp.Empty{}); err != nil {
		t.Fatalf("close the tab: %v", err)
	}
	for seatsGauge(t, app, "idle") != 0 {
		if time.Since(closed) > seat.DetachAfter+2*time.Second {
			t.Fatalf("the seat is still available %v after its tab closed", time.Since(closed))
		}
		time.Sleep(100 * time.Millisecond) // bounded poll of /metrics
	}
	t.Logf("seat unavailable %v after its tab closed", time.Since(closed).Round(10*time.Millisecond))
	// The page said goodbye as it closed: the seat is offline, not merely
	// waiting for a resume.
	app.WaitLog(t, "seat offline", 5*time.Second)

	phone.Dial(seatExt)
	phone.WaitCount("session closed", 2, 10*time.Second)
	cdrs := cdrList(t, admin, 2)
	if c := cdrs[0]; c.Result != "unavailable" || len(c.Legs) != 1 {
		t.Fatalf("a call to the gone seat: %+v", c)
	}
}

// TestSeatRingsBesideTheDeskPhone: alice has a desk phone on 1001 too.
// With ring_on "both" a call rings the phone and the page; the page
// answers and the phone stops ringing. Switched to "phone" from the page,
// a call rings only the desk phone; the seat stays idle.
func TestSeatRingsBesideTheDeskPhone(t *testing.T) {
	app, admin := seatBox(t, "1002")
	setExt(t, admin, seatExt, map[string]any{"ring_on": "both"})
	ctx := seatBrowser(t)
	phones := featurePhones(t, app, false, map[string]float64{seatExt: toneA, "1002": toneB})
	desk, caller := phones[seatExt], phones["1002"]
	goOnline(t, ctx, app)
	const incoming = "Incoming call from"

	caller.Dial(seatExt)
	desk.WaitCount(incoming, 1, 10*time.Second)
	callState(t, ctx, "ringing")
	do(t, ctx, "answer on the page", clickJS("answer"))
	callState(t, ctx, "talking")
	desk.WaitCount("session closed", 1, 10*time.Second) // answered elsewhere: CANCEL
	pageHears(t, ctx, toneB, seatTone)
	do(t, ctx, "hang up", clickJS("hangup"))
	caller.WaitCount("session closed", 1, 10*time.Second)
	if c := cdrList(t, admin, 1)[0]; c.Result != "answered" {
		t.Fatalf("CDR %+v", c)
	}

	do(t, ctx, "calls ring the desk phone only",
		chromedp.SetValue(chromedp.ID("ring-on"), "phone"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('ring-on').dispatchEvent(new Event('change', {bubbles: true}))`),
	)
	deadline := time.Now().Add(5 * time.Second)
	for getExt(t, admin, seatExt).RingOn != "phone" {
		if time.Now().After(deadline) {
			t.Fatal("the page's ring_on choice was not stored")
		}
		time.Sleep(50 * time.Millisecond) // bounded poll of the API
	}
	caller.Dial(seatExt)
	desk.WaitCount(incoming, 2, 10*time.Second)
	desk.Accept()
	caller.WaitCount("Call established", 2, 10*time.Second)
	if st := get(t, ctx, chromedp.AttributeValue(chromedp.ID("seat-state"), "data-state")); st.Value != "idle" {
		t.Fatalf("the seat is %q while ring_on is phone", st.Value)
	}
	caller.Hangup()
	desk.WaitCount("session closed", 2, 10*time.Second)
}
