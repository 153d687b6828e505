package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ccbox/ccbox/tests/browser"
	"github.com/ccbox/ccbox/tests/harness"
)

// softphoneControls are the element ids the seat end-to-end tests drive
// (the design's list): the page must always have every one of them.
var softphoneControls = []string{
	"go-online", "go-offline", "seat-state", "seat-extension", "ring-on",
	"dial-number", "dial", "redial", "call-panel", "call-remote", "call-timer",
	"answer", "hangup", "hold", "mute", "transfer-number", "transfer",
	"mic-error", "mic-retry", "quality", "remote-audio",
}

const softphoneAgent, softphoneAgentPassword = "agent1", "agent1-password"

// newSoftphoneAgent creates an agent owning extension 1001.
func newSoftphoneAgent(t *testing.T, app *harness.App) {
	t.Helper()
	api := app.Client(t)
	if err := api.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Do(http.MethodPost, "/api/v1/users", map[string]string{
		"name": softphoneAgent, "display_name": "Agent One", "role": "agent", "password": softphoneAgentPassword,
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Do(http.MethodPost, "/api/v1/extensions", map[string]any{
		"number": "1001", "secret": "secret-of-1001", "user": softphoneAgent,
	}, nil); err != nil {
		t.Fatal(err)
	}
}

// signInTo opens base+next, which sends a signed-out browser to the login
// page, signs in as the agent and waits for the softphone to be ready.
func signInTo(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	do(t, ctx, "sign in and open the softphone",
		chromedp.Navigate(base+"/softphone"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), softphoneAgent),
		chromedp.SendKeys(chromedp.ID("password"), softphoneAgentPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		waitAttr("body", "data-ready", "true"),
		chromedp.WaitVisible(chromedp.ID("go-online")),
	)
}

// TestUISoftphonePage: the home page of an agent offers the softphone
// first; the page has every control the seat tests use, in English and
// in Chinese, offline until the user goes online.
func TestUISoftphonePage(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	newSoftphoneAgent(t, app)
	ctx := browser.New(t, browser.Options{})

	do(t, ctx, "sign in: the agent's home shows the softphone tile first",
		chromedp.Navigate(app.HTTPSURL()+"/login"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), softphoneAgent),
		chromedp.SendKeys(chromedp.ID("password"), softphoneAgentPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#tiles a[data-tile="softphone"]`)),
	)
	first := get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#tiles a').dataset.tile`))
	if first != "softphone" {
		t.Errorf("an agent's first tile is %q, want softphone", first)
	}

	if href := get(t, ctx, chromedp.AttributeValue(chromedp.CSS(`#tiles a[data-tile="softphone"]`), "href")); href.Value != "/softphone" {
		t.Errorf("the softphone tile links to %q", href.Value)
	}
	do(t, ctx, "open the softphone",
		chromedp.Navigate(app.HTTPSURL()+"/softphone"),
		waitAttr("body", "data-ready", "true"),
		chromedp.WaitVisible(chromedp.ID("go-online")),
		waitAttr("#ws-status", "data-state", "open"),
		waitAttr("#seat-state", "data-state", "offline"),
		waitAttr("#call-panel", "data-state", "none"),
	)
	for _, id := range softphoneControls {
		if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#`+id+`').length`)); n != 1 {
			t.Errorf("#%s: %d elements, want 1", id, n)
		}
	}
	for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"} {
		sel := `button[data-digit="` + d + `"]`
		if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+sel+`').length`)); n != 1 {
			t.Errorf("dialpad key %s: %d buttons, want 1", d, n)
		}
	}
	hooks := get(t, ctx, chromedp.Evaluate[string](`['dropSocket','remoteTone','ringing'].map(k => typeof window.softphone[k]).join(',')`))
	if hooks != "function,function,function" {
		t.Errorf("test hooks: %s", hooks)
	}
	if ringing := get(t, ctx, chromedp.Evaluate[bool](`window.softphone.ringing()`)); ringing {
		t.Error("an offline softphone rings")
	}
	do(t, ctx, "English",
		waitText("#go-online", "Go online"),
		waitText("#seat-state", "Offline"),
		waitText("#shortcuts", "Ctrl"),
		waitText(`#ring-on option[value="seat"]`, "Softphone only"),
	)
	// The dialpad types into the number while there is no call.
	do(t, ctx, "the dialpad types the number",
		chromedp.Click(chromedp.CSS(`button[data-digit="1"]`)),
		chromedp.Click(chromedp.CSS(`button[data-digit="0"]`)),
		waitValue("#dial-number", "10"),
	)
	browser.Screenshot(t, ctx, "softphone-en")

	// What the page sends is recorded at the socket (and kept from the
	// box): going online offers G.711 with telephone-event in seat.online,
	// trickles candidates and pings; going offline says so.
	do(t, ctx, "go online and offline",
		chromedp.Evaluate[chromedp.Void](`(() => {
			window.sentSeat = [];
			const orig = WebSocket.prototype.send;
			WebSocket.prototype.send = function (data) {
				// Seat messages are recorded, not sent: this test plays the
				// box's side itself (the seat tests drive the real one).
				try { const m = JSON.parse(data); if (String(m.type).startsWith('seat.')) { window.sentSeat.push(m); return; } } catch {}
				return orig.call(this, data);
			};
			// Stands in for the box's pongs, so the page's heartbeat does
			// not find this silent socket dead.
			setInterval(() => window.softphone.receive({type: 'seat.pong'}), 1000);
		})()`),
		chromedp.Click(chromedp.ID("go-online")),
		chromedp.WaitVisible(chromedp.ID("go-offline")),
		chromedp.PollFunction[chromedp.Void](`() => window.sentSeat.some(m => m.type === 'seat.ping') && window.sentSeat.some(m => m.type === 'seat.candidate')`),
	)
	if st := get(t, ctx, chromedp.AttributeValue(chromedp.ID("seat-state"), "data-state")); st.Value != "connecting" && st.Value != "idle" {
		t.Errorf("seat state after going online: %q", st.Value)
	}
	offer := get(t, ctx, chromedp.Evaluate[string](`(window.sentSeat.find(m => m.type === 'seat.online') || {}).sdp || ''`))
	for _, want := range []string{"m=audio", "PCMU/8000", "PCMA/8000", "telephone-event/8000", "a=sendrecv"} {
		if !strings.Contains(offer, want) {
			t.Errorf("the offer has no %q:\n%s", want, offer)
		}
	}
	if strings.Contains(strings.ToLower(offer), "opus") {
		t.Errorf("the offer has opus:\n%s", offer)
	}

	// The call panel and the shortcuts, with the box's messages played in.
	do(t, ctx, "an incoming call rings; Enter answers",
		chromedp.Evaluate[chromedp.Void](`window.softphone.receive({type: 'seat.state', seat: {state: 'idle', extension: '1001', name: 'Agent One', ring_on: 'both', token: 'tok1'}, call: null, quality: null})`),
		waitAttr("#seat-state", "data-state", "idle"),
		waitText("#seat-extension", "1001"),
		chromedp.Evaluate[chromedp.Void](`window.softphone.receive({type: 'seat.state', seat: {state: 'ringing', extension: '1001', ring_on: 'both', token: 'tok1'}, call: {id: 'c1', direction: 'in', state: 'ringing', remote: {number: '1002', name: 'Bob'}, started: Date.now(), answered: 0}, quality: null})`),
		waitAttr("#call-panel", "data-state", "ringing"),
		waitText("#call-remote", "Bob (1002)"),
		chromedp.PollFunction[chromedp.Void](`() => window.softphone.ringing() && !document.getElementById('answer').disabled`),
		chromedp.KeyEvent("\r"),
		chromedp.PollFunction[chromedp.Void](`() => window.sentSeat.some(m => m.type === 'seat.answer_call') && !window.softphone.ringing()`),
	)
	browser.Screenshot(t, ctx, "softphone-ringing")
	do(t, ctx, "talking: timer, quality, Ctrl+M mutes, Ctrl+H holds, Esc hangs up",
		chromedp.Evaluate[chromedp.Void](`window.softphone.receive({type: 'seat.state', seat: {state: 'in_call', extension: '1001', ring_on: 'both', token: 'tok1'}, call: {id: 'c1', direction: 'in', state: 'talking', remote: {number: '1002', name: 'Bob'}, started: Date.now() - 70000, answered: Date.now() - 65000}, quality: {rtt_ms: 12, loss_in: 0.01, loss_out: 0, jitter_in_ms: 3, jitter_out_ms: 4}})`),
		waitAttr("#call-panel", "data-state", "talking"),
		waitText("#call-timer", "01:0"),
		waitText("#quality", "12 ms"),
		chromedp.PollFunction[chromedp.Void](`() => window.softphone.state().sendingMic`),
		chromedp.KeyEvent("m", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		waitAttr("#mute", "aria-pressed", "true"),
		chromedp.KeyEvent("h", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.PollFunction[chromedp.Void](`() => window.sentSeat.some(m => m.type === 'seat.hold')`),
	)
	browser.Screenshot(t, ctx, "softphone-talking")
	do(t, ctx, "Esc hangs up; the call ends",
		chromedp.KeyEvent(kb.Escape),
		chromedp.PollFunction[chromedp.Void](`() => window.sentSeat.some(m => m.type === 'seat.hangup')`),
		chromedp.Evaluate[chromedp.Void](`window.softphone.receive({type: 'seat.state', seat: {state: 'idle', extension: '1001', ring_on: 'both', token: 'tok1'}, call: null, quality: null})`),
		waitAttr("#call-panel", "data-state", "none"),
		waitAttr("#mute", "aria-pressed", "false"),
		chromedp.PollFunction[chromedp.Void](`() => !window.softphone.state().sendingMic`),
	)
	do(t, ctx, "a dropped socket reconnects and resumes the seat with its token",
		chromedp.Evaluate[chromedp.Void](`window.softphone.dropSocket()`),
		chromedp.PollFunction[chromedp.Void](`() => window.sentSeat.some(m => m.type === 'seat.resume' && m.token === 'tok1')`),
		waitAttr("#ws-status", "data-state", "open"),
		chromedp.Evaluate[chromedp.Void](`window.softphone.receive({type: 'seat.state', seat: {state: 'idle', extension: '1001', ring_on: 'seat', token: 'tok2'}, call: null, quality: null})`),
		chromedp.WaitNotVisible(chromedp.ID("seat-banner")),
		waitValue("#ring-on", "seat"),
	)
	do(t, ctx, "go offline",
		chromedp.Click(chromedp.ID("go-offline")),
		waitAttr("#seat-state", "data-state", "offline"),
		chromedp.WaitVisible(chromedp.ID("go-online")),
		chromedp.PollFunction[chromedp.Void](`() => window.sentSeat.some(m => m.type === 'seat.offline')`),
	)

	do(t, ctx, "Chinese",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-select'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText("#go-online", "上线"),
		waitText("#seat-state", "已下线"),
		waitText("#answer", "接听"),
		waitText("#hangup", "挂机"),
		waitText("#shortcuts-heading", "键盘快捷键"),
	)
	browser.Screenshot(t, ctx, "softphone-zh")
}

// TestUISoftphoneMicrophoneDenied: with the microphone refused (no fake
// permission UI; prompts denied) going online shows the error page that
// says how to allow it, with a retry button, and the phone is hidden.
func TestUISoftphoneMicrophoneDenied(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	newSoftphoneAgent(t, app)
	ctx := browser.New(t, browser.Options{ExtraFlags: []string{
		"--use-fake-ui-for-media-stream=false",
		"--deny-permission-prompts",
	}})
	signInTo(t, ctx, app.HTTPSURL())

	do(t, ctx, "go online: the microphone is refused",
		chromedp.Click(chromedp.ID("go-online")),
		chromedp.WaitVisible(chromedp.CSS(`#mic-error[data-reason="denied"]`)),
		chromedp.WaitVisible(chromedp.ID("mic-retry")),
		chromedp.WaitNotVisible(chromedp.ID("dial-number")),
		waitText("#mic-error-steps", "Microphone"),
		waitAttr("#seat-state", "data-state", "offline"),
	)
	browser.Screenshot(t, ctx, "softphone-mic-denied")

	do(t, ctx, "retry: still refused, still explained",
		chromedp.Click(chromedp.ID("mic-retry")),
		chromedp.WaitVisible(chromedp.CSS(`#mic-error[data-reason="denied"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-select'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText("#mic-error-title", "麦克风"),
		waitText("#mic-retry", "重新上线"),
	)
	browser.Screenshot(t, ctx, "softphone-mic-denied-zh")
}

// TestUISoftphoneInsecure: over plain HTTP under a name that is not local
// the browser offers no microphone; going online says HTTPS is needed and
// links to the softphone on the box's HTTPS port.
func TestUISoftphoneInsecure(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	newSoftphoneAgent(t, app)
	hostPort := strings.TrimPrefix(app.URL(), "http://")
	ip := hostPort[:strings.LastIndex(hostPort, ":")]
	port := hostPort[strings.LastIndex(hostPort, ":"):]
	httpsPort := app.HTTPSURL()[strings.LastIndex(app.HTTPSURL(), ":"):]
	ctx := browser.New(t, browser.Options{ExtraFlags: []string{"--host-resolver-rules=MAP softphone.test " + ip}})
	signInTo(t, ctx, "http://softphone.test"+port)

	do(t, ctx, "go online over plain HTTP",
		chromedp.Click(chromedp.ID("go-online")),
		chromedp.WaitVisible(chromedp.CSS(`#mic-error[data-reason="insecure"]`)),
		chromedp.WaitVisible(chromedp.ID("mic-error-link")),
		chromedp.WaitVisible(chromedp.ID("mic-retry")),
	)
	browser.Screenshot(t, ctx, "softphone-insecure")
	href := get(t, ctx, chromedp.AttributeValue(chromedp.ID("mic-error-link"), "href"))
	if want := "https://softphone.test" + httpsPort + "/softphone"; href.Value != want {
		t.Errorf("HTTPS link %q, want %q", href.Value, want)
	}
}
