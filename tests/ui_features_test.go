package tests

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/tests/browser"
	"github.com/ccbox/ccbox/tests/harness"
)

// extensionFeatures is an extension's call features as the API reads them.
type extensionFeatures struct {
	DTMFMode        string `json:"dtmf_mode"`
	DND             bool   `json:"dnd"`
	ForwardAlways   string `json:"forward_always"`
	ForwardBusy     string `json:"forward_busy"`
	ForwardNoAnswer string `json:"forward_no_answer"`
	NoAnswerSeconds int    `json:"no_answer_seconds"`
	PickupGroup     string `json:"pickup_group"`
	RingOn          string `json:"ring_on"`
}

// TestCallFeaturesInBrowser drives the call-feature fields of the
// Extensions tab and the Feature codes tab in headless Chromium: DND,
// forwards, ring time, pickup group and DTMF mode set in the edit dialog
// are stored (read back through the API); a forward to the extension
// itself is refused beside its field; a new extension is created with a
// forward; a feature code is changed and a clashing one refused beside its
// field; and the new fields speak Chinese.
func TestCallFeaturesInBrowser(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	ctx := browser.New(t, browser.Options{})
	api := app.Client(t)
	if err := api.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"1001", "1002"} {
		if _, err := api.Do(http.MethodPost, "/api/v1/extensions", map[string]any{"number": n, "secret": "secret-of-" + n}, nil); err != nil {
			t.Fatal(err)
		}
	}
	row := `#extensions-body tr[data-extension="1001"]`
	readBack := func(number string) extensionFeatures {
		t.Helper()
		var f extensionFeatures
		if _, err := api.Do(http.MethodGet, "/api/v1/extensions/"+number, nil, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}

	do(t, ctx, "log in and open the Extensions tab",
		chromedp.Navigate(app.HTTPSURL()+"/login?next=%2Fadmin%23extensions"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), harness.DefaultAdminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)

	do(t, ctx, "a forward to the extension itself is refused beside the field",
		clickSel(row+` button[data-action="edit"]`),
		chromedp.WaitVisible(chromedp.ID("ext-edit-dialog")),
		chromedp.WaitVisible(chromedp.ID("edit-ext-features")),
		chromedp.SendKeys(chromedp.ID("edit-ext-fwd-always"), "1001"),
		chromedp.Click(chromedp.ID("ext-edit-submit")),
		chromedp.WaitVisible(chromedp.ID("edit-ext-fwd-always-error")),
		waitAttr("#edit-ext-fwd-always", "aria-invalid", "true"),
	)
	if f := readBack("1001"); f != (extensionFeatures{}) {
		t.Fatalf("the refused form saved %+v", f)
	}

	do(t, ctx, "DND, forwards, ring time, pickup group and DTMF mode are saved",
		clearInput("edit-ext-fwd-always"),
		chromedp.Click(chromedp.ID("edit-ext-dnd")),
		chromedp.SendKeys(chromedp.ID("edit-ext-fwd-busy"), "1002"),
		chromedp.SendKeys(chromedp.ID("edit-ext-fwd-no-answer"), "1002"),
		chromedp.SendKeys(chromedp.ID("edit-ext-ring-seconds"), "30"),
		chromedp.SendKeys(chromedp.ID("edit-ext-pickup-group"), "front-desk"),
		chromedp.SetValue(chromedp.ID("edit-ext-dtmf"), "info"),
		chromedp.SetValue(chromedp.ID("edit-ext-ring-on"), "seat"),
	)
	browser.Screenshot(t, ctx, "extension-call-features")
	do(t, ctx, "submit",
		chromedp.Click(chromedp.ID("ext-edit-submit")),
		chromedp.WaitNotVisible(chromedp.ID("ext-edit-dialog")),
	)
	want := extensionFeatures{DTMFMode: "info", DND: true, ForwardBusy: "1002", ForwardNoAnswer: "1002",
		NoAnswerSeconds: 30, PickupGroup: "front-desk", RingOn: "seat"}
	if f := readBack("1001"); f != want {
		t.Errorf("stored %+v\nwant %+v", f, want)
	}

	do(t, ctx, "the dialog shows the stored features and turns DND off",
		clickSel(row+` button[data-action="edit"]`),
		chromedp.WaitVisible(chromedp.ID("ext-edit-dialog")),
		waitValue("#edit-ext-fwd-busy", "1002"),
		waitValue("#edit-ext-pickup-group", "front-desk"),
		waitValue("#edit-ext-dtmf", "info"),
		waitValue("#edit-ext-ring-on", "seat"),
		chromedp.Click(chromedp.ID("edit-ext-dnd")),
		chromedp.Click(chromedp.ID("ext-edit-submit")),
		chromedp.WaitNotVisible(chromedp.ID("ext-edit-dialog")),
	)
	want.DND = false
	if f := readBack("1001"); f != want {
		t.Errorf("after turning DND off %+v\nwant %+v", f, want)
	}

	do(t, ctx, "a new extension with a forward and DND",
		chromedp.Click(chromedp.ID("extension-new")),
		chromedp.WaitVisible(chromedp.ID("extension-create-form")),
		chromedp.SendKeys(chromedp.ID("new-ext-number"), "1003"),
		chromedp.Click(chromedp.ID("new-ext-generate")),
		chromedp.SendKeys(chromedp.ID("new-ext-fwd-always"), "+8613800000000"),
		chromedp.Click(chromedp.ID("new-ext-dnd")),
		chromedp.Click(chromedp.ID("extension-create-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#extensions-body tr[data-extension="1003"]`)),
	)
	if f := readBack("1003"); f != (extensionFeatures{DND: true, ForwardAlways: "+8613800000000"}) {
		t.Errorf("created %+v", f)
	}

	do(t, ctx, "the Feature codes tab lists the defaults",
		chromedp.Click(chromedp.ID("tab-feature-codes")),
		chromedp.WaitVisible(chromedp.ID("feature-codes-table")),
		waitValue("#fc-forward-always-on", "*72"),
		waitText(`#feature-codes-body tr[data-key="forward_always_on"]`, "*72 + number"),
	)
	do(t, ctx, "a code clashing with another is refused beside its field",
		clearInput("fc-dnd-on"),
		chromedp.SendKeys(chromedp.ID("fc-dnd-on"), "*79"),
		chromedp.Click(chromedp.ID("feature-codes-save")),
		chromedp.WaitVisible(chromedp.ID("fc-dnd-off-error")),
		waitAttr("#fc-dnd-off", "aria-invalid", "true"),
	)
	do(t, ctx, "a changed code is saved",
		clearInput("fc-dnd-on"),
		chromedp.SendKeys(chromedp.ID("fc-dnd-on"), "#78"),
		chromedp.Click(chromedp.ID("feature-codes-save")),
		chromedp.WaitNotVisible(chromedp.ID("fc-dnd-off-error")),
		waitText("#toasts", "Feature codes saved."),
	)
	browser.Screenshot(t, ctx, "feature-codes")
	var codes struct {
		FeatureCodes []struct {
			Key  string `json:"key"`
			Code string `json:"code"`
		} `json:"feature_codes"`
	}
	stored := func() map[string]string {
		if _, err := api.Do(http.MethodGet, "/api/v1/feature-codes", nil, &codes); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range codes.FeatureCodes {
			m[r.Key] = r.Code
		}
		return m
	}
	if m := stored(); m["dnd_on"] != "#78" || m["dnd_off"] != "*79" || m["forward_always_on"] != "*72" {
		t.Errorf("stored codes %v, want dnd_on #78 and the rest unchanged", m)
	}

	do(t, ctx, "the new fields in Chinese",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-select'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText("#tab-feature-codes", "功能码"),
		waitText(`#feature-codes-body tr[data-key="dnd_on"]`, "开启免打扰"),
		chromedp.Click(chromedp.ID("tab-extensions")),
		clickSel(row+` button[data-action="edit"]`),
		chromedp.WaitVisible(chromedp.ID("ext-edit-dialog")),
		waitText("#edit-ext-features legend", "呼叫功能"),
		waitText(`label[for="edit-ext-fwd-busy"]`, "遇忙转移"),
	)
	browser.Screenshot(t, ctx, "extension-call-features-zh")
}

// waitValue waits until the form control sel holds want.
func waitValue(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](`(sel, want) => { const e = document.querySelector(sel); return !!e && e.value === want; }`,
		chromedp.WithPollingArgs(sel, want), chromedp.WithPollingInterval(50*time.Millisecond))
}

// clearInput empties the input with this id as typing would (an input event).
func clearInput(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`((id) => { const e = document.getElementById(id); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); })(` + strconv.Quote(id) + `)`)
}
