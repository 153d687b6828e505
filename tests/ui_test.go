package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/tests/browser"
	"github.com/ccbox/ccbox/tests/harness"
)

// TestLoginPageInBrowser logs in through the real login page over HTTPS
// (self-signed certificate) in headless Chromium: a wrong password shows an
// error, the right one leads to the admin's home with its tiles and a live
// WebSocket, and the language switch turns the page into Chinese.
func TestLoginPageInBrowser(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	ctx := browser.New(t, browser.Options{})

	do(t, ctx, "open the login page and try a wrong password",
		chromedp.Navigate(app.HTTPSURL()+"/login"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		waitText("#system-title", "CCBox"),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "wrong-password"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("login-error")),
	)
	if text := get(t, ctx, chromedp.Text(chromedp.ID("login-error"))); strings.TrimSpace(text) == "" {
		t.Fatal("a wrong password showed no error text")
	}
	if visible := get(t, ctx, chromedp.Evaluate[bool](`(() => { const n = document.getElementById('https-notice'); return !n.hidden && getComputedStyle(n).display !== 'none'; })()`)); visible {
		t.Error("the HTTPS notice shows on an HTTPS page")
	}
	browser.Screenshot(t, ctx, "login-error")

	do(t, ctx, "log in",
		chromedp.Clear(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), harness.DefaultAdminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("me-name")),
		waitText("#me-name", "Administrator"),
		chromedp.WaitVisible(chromedp.CSS(`[data-tile="admin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-tile="workbench"]`)),
		waitAttr("#ws-status", "data-state", "open"),
	)
	browser.Screenshot(t, ctx, "home-admin")

	do(t, ctx, "switch the login page to Chinese",
		chromedp.Navigate(app.HTTPSURL()+"/login"),
		chromedp.WaitVisible(chromedp.ID("lang-select")),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-select'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText("#login-submit", "登录"),
	)
	browser.Screenshot(t, ctx, "login-zh")
}

// TestPlainHTTPFromAnotherHostExplainsHTTPS opens the login page over plain
// HTTP under a host name that is not local (mapped to loopback inside the
// browser), where browsers refuse the microphone: the page says so and
// links to the HTTPS address of the same host.
func TestPlainHTTPFromAnotherHostExplainsHTTPS(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	ctx := browser.New(t, browser.Options{ExtraFlags: []string{"--host-resolver-rules=MAP pbx.example.test 127.0.0.1"}})
	port := app.URL()[strings.LastIndex(app.URL(), ":"):]
	httpsPort := app.HTTPSURL()[strings.LastIndex(app.HTTPSURL(), ":"):]

	do(t, ctx, "open over plain HTTP",
		chromedp.Navigate("http://pbx.example.test"+port+"/login"),
		chromedp.WaitVisible(chromedp.ID("https-notice")),
		chromedp.WaitVisible(chromedp.ID("https-link")),
	)
	browser.Screenshot(t, ctx, "login-http-notice")
	href := get(t, ctx, chromedp.AttributeValue(chromedp.ID("https-link"), "href"))
	if want := "https://pbx.example.test" + httpsPort + "/login"; !strings.HasPrefix(href.Value, want) {
		t.Errorf("HTTPS link %q, want %q", href.Value, want)
	}
}

// do runs browser steps with a bound on the time they take.
func do(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// get runs one browser action and returns its value.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// clickSel clicks the element sel selects from the page itself, once it
// exists: a table that re-renders on events can replace the node CDP found
// before CDP's own click lands.
func clickSel(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](`(sel) => { const e = document.querySelector(sel); if (!e) return false; e.click(); return true; }`,
		chromedp.WithPollingArgs(sel), chromedp.WithPollingInterval(50*time.Millisecond))
}

// waitText polls until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](`(sel, want) => { const e = document.querySelector(sel); return !!e && e.textContent.includes(want); }`,
		chromedp.WithPollingArgs(sel, want), chromedp.WithPollingInterval(50*time.Millisecond))
}

// waitAttr polls until the element's attribute equals want.
func waitAttr(sel, attr, want string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](`(sel, attr, want) => { const e = document.querySelector(sel); return !!e && e.getAttribute(attr) === want; }`,
		chromedp.WithPollingArgs(sel, attr, want), chromedp.WithPollingInterval(50*time.Millisecond))
}

// TestAdminConsoleInBrowser: the admin console creates a user through its
// form (a refused field shows its error next to the field), and a user
// created elsewhere appears in the open table through the event WebSocket.
func TestAdminConsoleInBrowser(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	ctx := browser.New(t, browser.Options{})
	api := app.Client(t)
	if err := api.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "log in and open the admin console",
		chromedp.Navigate(app.HTTPSURL()+"/login?next=/admin"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), harness.DefaultAdminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("users-table")),
		waitText("#users-body", "admin"),
		waitAttr("#ws-status", "data-state", "open"),
	)

	do(t, ctx, "a too-short password is refused next to its field",
		chromedp.Click(chromedp.ID("user-new")),
		chromedp.WaitVisible(chromedp.ID("user-create-form")),
		chromedp.SendKeys(chromedp.ID("new-user-name"), "agent7"),
		chromedp.SendKeys(chromedp.ID("new-user-display-name"), "Agent Seven"),
		chromedp.SendKeys(chromedp.ID("new-user-password"), "short"),
		chromedp.Click(chromedp.ID("user-create-submit")),
		chromedp.WaitVisible(chromedp.ID("new-user-password-error")),
	)
	browser.Screenshot(t, ctx, "admin-user-error")

	do(t, ctx, "a good password creates the user",
		chromedp.Clear(chromedp.ID("new-user-password")),
		chromedp.SendKeys(chromedp.ID("new-user-password"), "agent7-password"),
		chromedp.Click(chromedp.ID("user-create-submit")),
		waitText("#users-body", "agent7"),
	)
	if status, err := api.Do("GET", "/api/v1/users/agent7", nil, nil); err != nil || status != 200 {
		t.Fatalf("the form's user is not in the store: %d %v", status, err)
	}

	// Created by another admin session: the open page learns it by event.
	if _, err := api.Do("POST", "/api/v1/users", map[string]string{"name": "live1", "role": "supervisor", "password": "live1-password"}, nil); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "a user created elsewhere appears live", waitText("#users-body", "live1"))
	browser.Screenshot(t, ctx, "admin-users")
}
