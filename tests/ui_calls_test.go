package tests

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/tests/audiotest"
	"github.com/ccbox/ccbox/tests/baresip"
	"github.com/ccbox/ccbox/tests/browser"
	"github.com/ccbox/ccbox/tests/harness"
)

// TestAdminCallsInBrowser watches a real call from the admin console: two
// baresip phones register (the Extensions tab shows them registered, with
// the phone's address in the details), 1001 calls 1002, which answers by
// itself, and 1002's state turns "in a call" without a reload; the Calls
// tab, open while the call goes on, shows the answered call from 1001 to
// 1002 as soon as it ends; and the same in Chinese.
func TestAdminCallsInBrowser(t *testing.T) {
	app, admin := callBox(t, "1001", "1002")
	dir := t.TempDir()
	toneA, toneB := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	for path, f := range map[string]float64{toneA: 697, toneB: 1209} {
		if err := audiotest.WriteToneWAV(path, 8000, 60*time.Second, f); err != nil {
			t.Fatal(err)
		}
	}
	a := baresip.Start(t, baresip.Options{IP: "127.0.0.2", Ext: "1001", Password: "secret-1001", Server: app.SIPAddr(), ToneWAV: toneA})
	b := baresip.Start(t, baresip.Options{IP: "127.0.0.3", Ext: "1002", Password: "secret-1002", Server: app.SIPAddr(), ToneWAV: toneB, AutoAnswer: true})
	ctx := browser.New(t, browser.Options{})

	status := func(ext string) string {
		return `#extensions-body tr[data-extension="` + ext + `"] td[data-col="status"]`
	}

	do(t, ctx, "log in and open the Extensions tab",
		chromedp.Navigate(app.HTTPSURL()+"/login?next=%2Fadmin%23extensions"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), harness.DefaultAdminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("extensions-table")),
		waitAttr("#ws-status", "data-state", "open"),
	)

	do(t, ctx, "both phones show registered, one phone each",
		waitAttr(status("1001"), "data-state", "idle"),
		waitText(status("1001"), "Registered"),
		waitText(status("1001"), "1 phone"),
		waitAttr(status("1002"), "data-state", "idle"),
	)

	do(t, ctx, "1001's details list its phone with its address and user agent",
		chromedp.Click(chromedp.CSS(status("1001")+` button[data-action="phones"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#extensions-body tr[data-details-for="1001"]`)),
		waitText(`#extensions-body tr[data-details-for="1001"]`, "127.0.0.2"),
		waitText(`#extensions-body tr[data-details-for="1001"]`, "UDP"),
		waitText(`#extensions-body tr[data-details-for="1001"]`, "baresip"),
		waitAttr(status("1001")+` button[data-action="phones"]`, "aria-expanded", "true"),
	)
	browser.Screenshot(t, ctx, "extensions-registered")

	a.Dial("1002")
	a.WaitOutput("Call established", 15*time.Second)
	b.WaitOutput("Call established", 15*time.Second)
	do(t, ctx, "1002 turns in a call live",
		waitAttr(status("1002"), "data-state", "in_use"),
		waitText(status("1002"), "In a call"),
	)
	browser.Screenshot(t, ctx, "extensions-in-call")

	do(t, ctx, "the Calls tab, opened during the call, has no call yet",
		chromedp.Click(chromedp.ID("tab-calls")),
		chromedp.WaitVisible(chromedp.ID("panel-calls")),
		waitAttr("#tab-calls", "aria-selected", "true"),
		waitAttr(`#panel-calls button[data-range="today"]`, "aria-pressed", "true"),
		waitText("#calls-body", "No calls in this period."),
	)

	a.Hangup()
	// 1002 learns of the hang-up by BYE from the box.
	b.WaitOutput("session closed", 10*time.Second)

	do(t, ctx, "the ended call appears live",
		chromedp.WaitVisible(chromedp.CSS(`#calls-body tr[data-serial]`)),
	)
	var cdrs struct {
		CDRs []struct {
			Serial, Caller, Callee, Result string
		} `json:"cdrs"`
	}
	if _, err := admin.Do(http.MethodGet, "/api/v1/cdrs", nil, &cdrs); err != nil {
		t.Fatal(err)
	}
	if len(cdrs.CDRs) != 1 || cdrs.CDRs[0].Result != "answered" {
		t.Fatalf("CDRs after the call: %+v", cdrs.CDRs)
	}
	row := `#calls-body tr[data-serial="` + cdrs.CDRs[0].Serial + `"]`
	do(t, ctx, "the call is the stored one, answered, from 1001 to 1002",
		chromedp.WaitVisible(chromedp.CSS(row)),
		waitText(row+` [data-role="caller"]`, "1001"),
		waitText(row+` [data-role="callee"]`, "1002"),
		waitAttr(row+` td[data-result]`, "data-result", "answered"),
		waitText(row, "Answered"),
		waitText(row, "Normal hang-up"),
	)
	browser.Screenshot(t, ctx, "calls")

	do(t, ctx, "yesterday has no calls; today has the call again",
		chromedp.Click(chromedp.CSS(`#panel-calls button[data-range="yesterday"]`)),
		waitText("#calls-body", "No calls in this period."),
		chromedp.Click(chromedp.CSS(`#panel-calls button[data-range="today"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)

	do(t, ctx, "1002 is idle again on the Extensions tab",
		chromedp.Click(chromedp.ID("tab-extensions")),
		waitAttr(status("1002"), "data-state", "idle"),
		waitAttr(status("1001"), "data-state", "idle"),
	)

	do(t, ctx, "the same in Chinese",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-select'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText(status("1002"), "空闲"),
		waitText("#tab-calls", "通话记录"),
		chromedp.Click(chromedp.ID("tab-calls")),
		waitText(row, "已接通"),
		waitText(row, "正常挂断"),
	)
	browser.Screenshot(t, ctx, "calls-zh")
}
