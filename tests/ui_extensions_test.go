package tests

import (
	"errors"
	"net/http"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/tests/browser"
	"github.com/ccbox/ccbox/tests/harness"
)

// generatedSecret is what the form's "Generate" button must produce: 16
// characters that survive being typed into a phone.
var generatedSecret = regexp.MustCompile(`^[A-Za-z0-9]{16}$`)

// TestExtensionsTabInBrowser drives the admin console's Extensions tab in
// headless Chromium against a real appliance: an extension created through
// the form (owner chosen from the users, generated secret) is listed and
// stored; the same number again is refused next to the number field; an
// extension created by another client appears live; and the shared
// numbering plan refuses a user whose agent number is that extension's,
// with the error next to the agent-number field.
func TestExtensionsTabInBrowser(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	ctx := browser.New(t, browser.Options{})
	api := app.Client(t)
	if err := api.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "log in and open the Extensions tab",
		chromedp.Navigate(app.HTTPSURL()+"/login?next=%2Fadmin%23extensions"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), harness.DefaultAdminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("panel-extensions")),
		waitAttr("#tab-extensions", "aria-selected", "true"),
		chromedp.WaitVisible(chromedp.ID("extensions-table")),
		waitAttr("#ws-status", "data-state", "open"),
		// The owner list is filled from the users once they are loaded.
		chromedp.WaitReady(chromedp.CSS(`#new-ext-user option[value="admin"]`)),
	)

	do(t, ctx, "fill the form with a generated secret",
		chromedp.Click(chromedp.ID("extension-new")),
		chromedp.WaitVisible(chromedp.ID("extension-create-form")),
		chromedp.SendKeys(chromedp.ID("new-ext-number"), "1001"),
		chromedp.SendKeys(chromedp.ID("new-ext-name"), "Front desk"),
		chromedp.SetValue(chromedp.ID("new-ext-user"), "admin"),
		chromedp.Click(chromedp.ID("new-ext-generate")),
		chromedp.SendKeys(chromedp.ID("new-ext-max-calls"), "3"),
		chromedp.SetValue(chromedp.ID("new-ext-codecs"), "PCMA,PCMU"),
	)
	secret := get(t, ctx, chromedp.Value(chromedp.ID("new-ext-secret")))
	if !generatedSecret.MatchString(secret) {
		t.Fatalf("generated secret %q, want 16 letters and digits", secret)
	}
	browser.Screenshot(t, ctx, "extension-form")

	do(t, ctx, "create extension 1001",
		chromedp.Click(chromedp.ID("extension-create-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#extensions-body tr[data-extension="1001"]`)),
		waitText(`#extensions-body tr[data-extension="1001"]`, "Front desk"),
		waitText(`#extensions-body tr[data-extension="1001"]`, "PCMA, PCMU"),
		chromedp.WaitNotVisible(chromedp.ID("extension-create-card")),
	)
	var stored struct {
		Number   string   `json:"number"`
		Name     string   `json:"name"`
		User     string   `json:"user"`
		MaxCalls int      `json:"max_calls"`
		Codecs   []string `json:"codecs"`
		Secret   *string  `json:"secret"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/extensions/1001", nil, &stored); err != nil {
		t.Fatalf("the form's extension is not in the store: %v", err)
	}
	if stored.User != "admin" || stored.MaxCalls != 3 || len(stored.Codecs) != 2 || stored.Codecs[0] != "PCMA" || stored.Secret != nil {
		t.Errorf("stored extension %+v, want owner admin, 3 calls, PCMA first, no secret", stored)
	}

	do(t, ctx, "the same number again is refused next to the number field",
		chromedp.Click(chromedp.ID("extension-new")),
		chromedp.WaitVisible(chromedp.ID("extension-create-form")),
		chromedp.SendKeys(chromedp.ID("new-ext-number"), "1001"),
		chromedp.Click(chromedp.ID("new-ext-generate")),
		chromedp.Click(chromedp.ID("extension-create-submit")),
		chromedp.WaitVisible(chromedp.ID("new-ext-number-error")),
		waitAttr("#new-ext-number", "aria-invalid", "true"),
	)
	if visible := get(t, ctx, chromedp.Evaluate[bool](`!document.getElementById('extension-create-card').hidden`)); !visible {
		t.Error("the refused form was closed")
	}
	browser.Screenshot(t, ctx, "extension-exists")

	// Created by another client: the open page learns it by event.
	body := map[string]any{"number": "1002", "name": "Warehouse", "secret": "warehouse-secret-1"}
	if _, err := api.Do(http.MethodPost, "/api/v1/extensions", body, nil); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "an extension created elsewhere appears live",
		chromedp.WaitVisible(chromedp.CSS(`#extensions-body tr[data-extension="1002"]`)),
		waitText(`#extensions-body tr[data-extension="1002"]`, "Warehouse"),
	)
	browser.Screenshot(t, ctx, "extensions")

	do(t, ctx, "a user whose agent number is extension 1001 is refused next to that field",
		chromedp.Click(chromedp.ID("tab-users")),
		chromedp.WaitVisible(chromedp.ID("users-table")),
		chromedp.Click(chromedp.ID("user-new")),
		chromedp.WaitVisible(chromedp.ID("user-create-form")),
		chromedp.SendKeys(chromedp.ID("new-user-name"), "agent1001"),
		chromedp.SendKeys(chromedp.ID("new-user-agent-number"), "1001"),
		chromedp.SendKeys(chromedp.ID("new-user-password"), "agent1001-password"),
		chromedp.Click(chromedp.ID("user-create-submit")),
		chromedp.WaitVisible(chromedp.ID("new-user-agent-number-error")),
		waitAttr("#new-user-agent-number", "aria-invalid", "true"),
	)
	browser.Screenshot(t, ctx, "user-agent-number-taken")
	var apiErr *harness.APIError
	if _, err := api.Do(http.MethodGet, "/api/v1/users/agent1001", nil, nil); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("the refused user exists after all: %v", err)
	}

	do(t, ctx, "a free agent number is accepted and shown",
		chromedp.Clear(chromedp.ID("new-user-agent-number")),
		chromedp.SendKeys(chromedp.ID("new-user-agent-number"), "8001"),
		chromedp.Click(chromedp.ID("user-create-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#users-body tr[data-user="agent1001"]`)),
		waitText(`#users-body tr[data-user="agent1001"]`, "8001"),
	)
}

// TestExtensionsDialogsInBrowser: the edit dialog changes an extension's
// owner and disables it, the secret dialog sets a generated secret (seen in
// the audit log, never in the API), delete asks first and removes the row,
// the user edit dialog sets an agent number, and the tab speaks Chinese.
func TestExtensionsDialogsInBrowser(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	ctx := browser.New(t, browser.Options{})
	api := app.Client(t)
	if err := api.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/users", map[string]any{"name": "alice", "display_name": "Alice", "role": "agent", "password": "alice-password"}},
		{"/api/v1/extensions", map[string]any{"number": "2001", "name": "Lobby", "secret": "lobby-secret-1"}},
	} {
		if _, err := api.Do(http.MethodPost, req.path, req.body, nil); err != nil {
			t.Fatal(err)
		}
	}
	row := `#extensions-body tr[data-extension="2001"]`

	do(t, ctx, "log in and open the Extensions tab",
		chromedp.Navigate(app.HTTPSURL()+"/login?next=%2Fadmin%23extensions"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), harness.DefaultAdminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.WaitReady(chromedp.CSS(`#edit-ext-user option[value="alice"]`)),
	)

	do(t, ctx, "the edit dialog gives the extension to alice and disables it",
		clickSel(row+` button[data-action="edit"]`),
		chromedp.WaitVisible(chromedp.ID("ext-edit-dialog")),
		chromedp.SetValue(chromedp.ID("edit-ext-user"), "alice"),
		chromedp.SetValue(chromedp.ID("edit-ext-codecs"), "PCMU"),
		chromedp.Click(chromedp.ID("edit-ext-disabled")),
		chromedp.Click(chromedp.ID("ext-edit-submit")),
		chromedp.WaitNotVisible(chromedp.ID("ext-edit-dialog")),
		waitText(row, "Alice (alice)"),
		waitAttr(row, "class", "is-disabled"),
	)
	var ext struct {
		User     string   `json:"user"`
		Codecs   []string `json:"codecs"`
		Disabled bool     `json:"disabled"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/extensions/2001", nil, &ext); err != nil {
		t.Fatal(err)
	}
	if ext.User != "alice" || !ext.Disabled || len(ext.Codecs) != 1 || ext.Codecs[0] != "PCMU" {
		t.Errorf("edited extension %+v, want owner alice, disabled, PCMU only", ext)
	}

	do(t, ctx, "a too-short secret is refused next to the field",
		// Clicked from the page: the row was just re-rendered by the
		// edit's event, and CDP's node may be replaced before its click.
		clickSel(row+` button[data-action="secret"]`),
		chromedp.WaitVisible(chromedp.ID("ext-secret-dialog")),
		chromedp.SendKeys(chromedp.ID("ext-secret"), "short"),
		chromedp.Click(chromedp.ID("ext-secret-submit")),
		chromedp.WaitVisible(chromedp.ID("ext-secret-error")),
		waitAttr("#ext-secret", "aria-invalid", "true"),
	)
	do(t, ctx, "a generated secret is set",
		chromedp.Click(chromedp.ID("ext-secret-generate")),
		chromedp.WaitNotVisible(chromedp.ID("ext-secret-error")),
		chromedp.Click(chromedp.ID("ext-secret-submit")),
		chromedp.WaitNotVisible(chromedp.ID("ext-secret-dialog")),
	)
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			Object string `json:"object"`
		} `json:"entries"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/audit-log", nil, &audit); err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, e := range audit.Entries {
		changed = changed || (e.Action == "extension.secret" && e.Object == "extension:2001")
	}
	if !changed {
		t.Errorf("no extension.secret entry for 2001 in the audit log: %+v", audit.Entries)
	}

	do(t, ctx, "delete asks first, then removes the row",
		clickSel(row+` button[data-action="delete"]`),
		chromedp.WaitVisible(chromedp.ID("ext-delete-dialog")),
		waitText("#ext-delete-body", "2001"),
		chromedp.Click(chromedp.ID("ext-delete-ok")),
		chromedp.WaitNotPresent(chromedp.CSS(row)),
	)
	var apiErr *harness.APIError
	if _, err := api.Do(http.MethodGet, "/api/v1/extensions/2001", nil, nil); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("the deleted extension is still there: %v", err)
	}

	do(t, ctx, "the user edit dialog sets an agent number",
		chromedp.Click(chromedp.ID("tab-users")),
		chromedp.Click(chromedp.CSS(`#users-body tr[data-user="alice"] button[data-action="edit"]`)),
		chromedp.WaitVisible(chromedp.ID("user-edit-dialog")),
		chromedp.SendKeys(chromedp.ID("edit-user-agent-number"), "8002"),
		chromedp.Click(chromedp.ID("user-edit-submit")),
		chromedp.WaitNotVisible(chromedp.ID("user-edit-dialog")),
		waitText(`#users-body tr[data-user="alice"]`, "8002"),
	)

	do(t, ctx, "the Extensions tab in Chinese",
		chromedp.Click(chromedp.ID("tab-extensions")),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-select'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText("#tab-extensions", "分机"),
		waitText("#extension-new", "新建分机"),
		waitText("#extensions-table thead", "所属用户"),
		waitText("#extensions-table thead", "最大并发通话"),
		waitText("#extensions-table thead", "编解码器"),
		chromedp.Click(chromedp.ID("extension-new")),
		waitText(`label[for="new-ext-secret"]`, "注册密码"),
		waitText(`label[for="new-ext-number"]`, "分机号"),
	)
	browser.Screenshot(t, ctx, "extensions-zh")
}
