package tests

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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

// pageHears polls the page's analyser until freq is heard (bounded), and
// checks that notFreq (the page's own tone) is well below it.
func pageHears(t *testing.T, ctx context.Context, freq, notFreq float64) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		l := pageLevel(t, ctx, freq)
		if l > toneLevel {
			own := pageLevel(t, ctx, notFreq)
			t.Logf("page hears %v Hz at %.1f dB, its own %v Hz at %.1f dB", freq, l, notFreq, own)
			if own > l-20 {
				t.Fatalf("the page hears its own %v Hz tone at %.1f dB (the far end's at %.1f dB)", notFreq, own, l)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never heard the %v Hz tone (level %.1f dB)", freq, l)
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

	phone.Dial(seatExt)
	callState(t, ctx, "ringing")
	if !get(t, ctx, chromedp.Evaluate[bool]("window.softphone.ringing()")) {
		t.Fatal("the ring tone is not playing")
	}
	browser.Screenshot(t, ctx, "softphone-ringing")
	do(t, ctx, "answer", clickJS("answer"))
	callState(t, ctx, "talking")
	phone.WaitOutput("Call established", 10*time.Second)

	pageHears(t, ctx, toneB, seatTone)
	do(t, ctx, "quality figures shown", chromedp.WaitVisible(`#quality`))
	time.Sleep(3 * time.Second) // three seconds of the page's tone in the phone's recording
	browser.Screenshot(t, ctx, "softphone-talking")
	if !regexp.MustCompile(`pbx_seat_rtt_seconds\{extension="1001"\}`).MatchString(metricsText(t, app)) {
		t.Error("/metrics has no RTT for the seat")
	}
	do(t, ctx, "hang up", clickJS("hangup"))
	phone.WaitOutput("terminated", 10*time.Second)
	callState(t, ctx, "none")
	phoneHeard(t, phone, toneB)

	cdrs := cdrList(t, admin, 1)
	if c := cdrs[0]; c.Result != "answered" || c.Caller != "1002" || c.Callee != seatExt {
		t.Fatalf("CDR %+v", c)
	}
}
