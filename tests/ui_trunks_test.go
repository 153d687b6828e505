package tests

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/tests/browser"
	"github.com/ccbox/ccbox/tests/harness"
)

// fakeCarrierAddr is where the test's carrier answers OPTIONS: an address
// of its own, so the trunk is not confused with the box or the phones.
const fakeCarrierAddr = "127.0.0.61:0"

// fakeCarrier answers every SIP OPTIONS on a UDP socket with 200 OK until
// stopped: enough for the box to mark a trunk up.
type fakeCarrier struct {
	conn net.PacketConn
	done chan struct{}
}

func startFakeCarrier(t *testing.T) *fakeCarrier {
	t.Helper()
	conn, err := net.ListenPacket("udp", fakeCarrierAddr)
	if err != nil {
		t.Fatalf("fake carrier: %v", err)
	}
	c := &fakeCarrier{conn: conn, done: make(chan struct{})}
	go c.serve()
	t.Cleanup(c.stop)
	return c
}

func (c *fakeCarrier) port() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

// stop closes the socket (the carrier stops answering) and waits for serve.
func (c *fakeCarrier) stop() {
	_ = c.conn.Close()
	<-c.done
}

func (c *fakeCarrier) serve() {
	defer close(c.done)
	buf := make([]byte, 64<<10)
	for {
		n, from, err := c.conn.ReadFrom(buf)
		if err != nil {
			return // closed by stop
		}
		if resp := optionsAnswer(string(buf[:n])); resp != "" {
			_, _ = c.conn.WriteTo([]byte(resp), from)
		}
	}
}

// optionsAnswer is the 200 OK to an OPTIONS request, "" for anything else.
func optionsAnswer(req string) string {
	lines := strings.Split(req, "\r\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "OPTIONS ") {
		return ""
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, l := range lines[1:] {
		name, _, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v", "from", "f", "call-id", "i", "cseq":
			b.WriteString(l + "\r\n")
		case "to", "t":
			b.WriteString(l + ";tag=fake-carrier\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

func TestUITrunksFakeCarrierAnswersOptions(t *testing.T) {
	tests := []struct {
		name, req string
		want      []string
	}{
		{"not options", "INVITE sip:x SIP/2.0\r\nVia: a\r\n\r\n", nil},
		{"options", "OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nTo: <sip:h>\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n",
			[]string{"SIP/2.0 200 OK\r\n", "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n", "To: <sip:h>;tag=fake-carrier\r\n", "CSeq: 1 OPTIONS\r\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := optionsAnswer(tc.req)
			if tc.want == nil && got != "" {
				t.Fatalf("answered %q", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer %q lacks %q", got, w)
				}
			}
			if strings.Contains(got, "Max-Forwards") {
				t.Errorf("answer %q copies Max-Forwards", got)
			}
		})
	}
}

// doWithin runs browser steps with a bound of its own, for a step that
// waits on the box's timers (a trunk marked down after missed OPTIONS).
func doWithin(t *testing.T, ctx context.Context, d time.Duration, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// TestUITrunksRoutingAndGuards drives the Trunks, Numbers & routes and
// Call guards tabs in headless Chromium as an admin: an IP trunk is
// created through its dialog (a bad host refused beside the field first)
// and goes up and down live as its carrier answers OPTIONS and stops; a
// route through it, reordered; a DID to an extension; the trunk's delete
// refused while the route uses it; a trace started; a blacklist entry (a
// 21-digit number refused beside the field); the outbound policy changed;
// a region CSV with a bad line refused with the line shown and nothing
// imported, then a good one imported; a number looked up. Everything is
// read back through the API, and the pages speak Chinese.
func TestUITrunksRoutingAndGuards(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	carrier := startFakeCarrier(t)
	ctx := browser.New(t, browser.Options{Timeout: 4 * time.Minute})
	api := app.Client(t)
	if err := api.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Do(http.MethodPost, "/api/v1/extensions", map[string]any{"number": "1001", "name": "Front desk", "secret": "secret-of-1001"}, nil); err != nil {
		t.Fatal(err)
	}
	trunkRow := `#trunks-body tr[data-trunk="carrier1"]`
	stateCell := trunkRow + ` td[data-col="state"]`

	do(t, ctx, "log in and open the Trunks tab",
		chromedp.Navigate(app.HTTPSURL()+"/login?next=%2Fadmin%23trunks"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), harness.DefaultAdminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("trunks-table")),
		waitText("#trunks-body", "No trunks yet"),
		waitAttr("#ws-status", "data-state", "open"),
	)

	do(t, ctx, "a bad host is refused beside its field",
		chromedp.Click(chromedp.ID("trunk-new")),
		chromedp.WaitVisible(chromedp.ID("trunk-dialog")),
		chromedp.SendKeys(chromedp.ID("trunk-name"), "carrier1"),
		chromedp.SetValue(chromedp.ID("trunk-kind"), "ip"),
		chromedp.SendKeys(chromedp.ID("trunk-host"), "bad host!"),
		chromedp.SendKeys(chromedp.ID("trunk-port"), strconv.Itoa(carrier.port())),
		chromedp.SendKeys(chromedp.ID("trunk-options"), "5"),
		chromedp.SendKeys(chromedp.ID("trunk-max-calls"), "30"),
		chromedp.SetValue(chromedp.ID("trunk-codecs"), "PCMA"),
		chromedp.SetValue(chromedp.ID("trunk-caller-from"), "pai"),
		chromedp.Click(chromedp.ID("trunk-submit")),
		waitText("#trunk-host-error", "host"),
		waitAttr("#trunk-host", "aria-invalid", "true"),
	)
	browser.Screenshot(t, ctx, "trunk-bad-host")
	if status, err := api.Do(http.MethodGet, "/api/v1/trunks/carrier1", nil, nil); status != http.StatusNotFound {
		t.Fatalf("the refused trunk was stored: %d %v", status, err)
	}

	do(t, ctx, "fixed, the trunk is created and goes up live",
		clearInput("trunk-host"),
		chromedp.SendKeys(chromedp.ID("trunk-host"), "127.0.0.61"),
		chromedp.Click(chromedp.ID("trunk-submit")),
		chromedp.WaitNotVisible(chromedp.ID("trunk-dialog")),
		chromedp.WaitVisible(chromedp.CSS(trunkRow)),
		waitText(trunkRow, "IP (fixed addresses)"),
		waitAttr(stateCell, "data-state", "up"),
		waitText(stateCell, "Up"),
	)
	browser.Screenshot(t, ctx, "trunks")
	var trunk struct {
		Kind            string   `json:"kind"`
		Host            string   `json:"host"`
		Port            int      `json:"port"`
		MaxCalls        int      `json:"max_calls"`
		Codecs          []string `json:"codecs"`
		CallerFrom      string   `json:"caller_from"`
		OptionsInterval int      `json:"options_interval"`
		HasSecret       bool     `json:"has_secret"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/trunks/carrier1", nil, &trunk); err != nil {
		t.Fatal(err)
	}
	if trunk.Kind != "ip" || trunk.Host != "127.0.0.61" || trunk.Port != carrier.port() || trunk.MaxCalls != 30 ||
		!slices.Equal(trunk.Codecs, []string{"PCMA"}) || trunk.CallerFrom != "pai" || trunk.OptionsInterval != 5 || trunk.HasSecret {
		t.Errorf("stored trunk %+v", trunk)
	}

	do(t, ctx, "a 5-minute trace starts with a toast",
		chromedp.Click(chromedp.CSS(trunkRow+` button[data-action="trace"]`)),
		waitText("#toasts", "Tracing carrier1 for 5 minutes"),
	)

	do(t, ctx, "the edit dialog keeps the secret and changes one field",
		chromedp.Click(chromedp.CSS(trunkRow+` button[data-action="edit"]`)),
		chromedp.WaitVisible(chromedp.ID("trunk-dialog")),
		waitValue("#trunk-host", "127.0.0.61"),
		waitValue("#trunk-caller-from", "pai"),
		waitText("#trunk-secret-hint", "Leave empty"),
		clearInput("trunk-max-calls"),
		chromedp.SendKeys(chromedp.ID("trunk-max-calls"), "40"),
		chromedp.Click(chromedp.ID("trunk-submit")),
		chromedp.WaitNotVisible(chromedp.ID("trunk-dialog")),
	)
	if _, err := api.Do(http.MethodGet, "/api/v1/trunks/carrier1", nil, &trunk); err != nil {
		t.Fatal(err)
	}
	if trunk.MaxCalls != 40 || trunk.Kind != "ip" || trunk.CallerFrom != "pai" || trunk.OptionsInterval != 5 {
		t.Errorf("trunk after the edit %+v", trunk)
	}

	// A second route, made elsewhere, to reorder against.
	if _, err := api.Do(http.MethodPost, "/api/v1/outbound-routes", map[string]any{
		"name": "local", "patterns": []string{"0XXXXXXXXXX"}, "trunks": []string{"carrier1"}}, nil); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "a route through the trunk is created in its dialog",
		chromedp.Click(chromedp.ID("tab-routing")),
		chromedp.WaitVisible(chromedp.ID("routes-table")),
		waitText("#routes-body", "local"),
		chromedp.Click(chromedp.ID("route-new")),
		chromedp.WaitVisible(chromedp.ID("route-dialog")),
		chromedp.SendKeys(chromedp.ID("route-name"), "mobile"),
		chromedp.SendKeys(chromedp.ID("route-patterns"), "1[3-9]XXXXXXXXX\n91[3-9]XXXXXXXXX"),
		chromedp.SendKeys(chromedp.ID("route-strip"), "0"),
		chromedp.SendKeys(chromedp.ID("route-trunks"), "carrier1"),
		chromedp.SendKeys(chromedp.ID("route-allow-ext"), "1001"),
		chromedp.SetValue(chromedp.ID("route-caller-mode"), "fixed"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('route-caller-mode').dispatchEvent(new Event('change', {bubbles: true}))`),
		chromedp.WaitVisible(chromedp.ID("route-caller-number")),
		chromedp.SendKeys(chromedp.ID("route-caller-number"), "02150001234"),
		chromedp.Click(chromedp.ID("route-submit")),
		chromedp.WaitNotVisible(chromedp.ID("route-dialog")),
		waitText(`#routes-body tr[data-route="mobile"]`, "carrier1"),
	)
	do(t, ctx, "the new route moves up before the other",
		chromedp.Click(chromedp.CSS(`#routes-body tr[data-route="mobile"] button[data-action="up"]`)),
		waitText(`#routes-body tr:first-child`, "mobile"),
	)
	var routes struct {
		Routes []struct {
			Name            string                        `json:"name"`
			Patterns        []string                      `json:"patterns"`
			Trunks          []string                      `json:"trunks"`
			AllowExtensions []string                      `json:"allow_extensions"`
			CallerNumber    struct{ Mode, Number string } `json:"caller_number"`
		} `json:"outbound_routes"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/outbound-routes", nil, &routes); err != nil {
		t.Fatal(err)
	}
	if len(routes.Routes) != 2 || routes.Routes[0].Name != "mobile" || routes.Routes[1].Name != "local" {
		t.Fatalf("routes after the reorder: %+v", routes.Routes)
	}
	if r := routes.Routes[0]; !slices.Equal(r.Patterns, []string{"1[3-9]XXXXXXXXX", "91[3-9]XXXXXXXXX"}) || !slices.Equal(r.Trunks, []string{"carrier1"}) ||
		!slices.Equal(r.AllowExtensions, []string{"1001"}) || r.CallerNumber.Mode != "fixed" || r.CallerNumber.Number != "02150001234" {
		t.Errorf("stored route %+v", r)
	}

	do(t, ctx, "a DID to an extension is created in its dialog",
		chromedp.Click(chromedp.ID("did-new")),
		chromedp.WaitVisible(chromedp.ID("did-dialog")),
		chromedp.SendKeys(chromedp.ID("did-number"), "021-5000 1234"),
		chromedp.SetValue(chromedp.ID("did-dest-target"), "1001"),
		chromedp.SendKeys(chromedp.ID("did-description"), "front desk line"),
		chromedp.Click(chromedp.ID("did-submit")),
		chromedp.WaitNotVisible(chromedp.ID("did-dialog")),
		waitText(`#dids-body tr[data-did="862150001234"]`, "Extension 1001"),
	)
	var did struct {
		Number      string
		Trunk       string
		Destination struct{ Type, Target string }
		Description string
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/dids/02150001234", nil, &did); err != nil {
		t.Fatal(err)
	}
	if did.Number != "862150001234" || did.Destination.Type != "extension" || did.Destination.Target != "1001" || did.Description != "front desk line" {
		t.Errorf("stored DID %+v", did)
	}
	do(t, ctx, "the inbound default and a caller pool",
		chromedp.SetValue(chromedp.ID("inbound-type"), "extension"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('inbound-type').dispatchEvent(new Event('change', {bubbles: true}))`),
		chromedp.WaitVisible(chromedp.ID("inbound-target")),
		chromedp.SetValue(chromedp.ID("inbound-target"), "1001"),
		chromedp.Click(chromedp.ID("inbound-save")),
		waitText("#toasts", "Default destination saved."),
		chromedp.Click(chromedp.ID("pool-new")),
		chromedp.WaitVisible(chromedp.ID("pool-dialog")),
		chromedp.SendKeys(chromedp.ID("pool-name"), "sales"),
		chromedp.SendKeys(chromedp.ID("pool-numbers"), "02150001234,10\n075512345678"),
		chromedp.Click(chromedp.ID("pool-submit")),
		chromedp.WaitNotVisible(chromedp.ID("pool-dialog")),
		waitText(`#pools-body tr[data-pool="sales"]`, "2 number(s)"),
	)
	var inbound struct{ Type, Target string }
	if _, err := api.Do(http.MethodGet, "/api/v1/inbound-default", nil, &inbound); err != nil || inbound.Type != "extension" || inbound.Target != "1001" {
		t.Errorf("stored inbound default %+v (%v)", inbound, err)
	}
	var pool struct {
		Numbers []struct {
			Number   string `json:"number"`
			MaxCalls int    `json:"max_calls"`
		} `json:"numbers"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/caller-pools/sales", nil, &pool); err != nil || len(pool.Numbers) != 2 ||
		pool.Numbers[0].MaxCalls != 10 || pool.Numbers[1].MaxCalls != 0 {
		t.Errorf("stored pool %+v (%v)", pool, err)
	}
	browser.Screenshot(t, ctx, "numbers-and-routes")

	do(t, ctx, "deleting the trunk a route uses is refused, naming the route",
		chromedp.Click(chromedp.ID("tab-trunks")),
		chromedp.Click(chromedp.CSS(trunkRow+` button[data-action="delete"]`)),
		chromedp.WaitVisible(chromedp.ID("rt-delete-dialog")),
		chromedp.Click(chromedp.ID("rt-delete-ok")),
		waitText("#rt-delete-dialog .form-error", "outbound route"),
	)
	browser.Screenshot(t, ctx, "trunk-in-use")
	do(t, ctx, "cancel",
		chromedp.Click(chromedp.CSS(`#rt-delete-dialog [data-close]`)),
		chromedp.WaitNotVisible(chromedp.ID("rt-delete-dialog")),
	)
	if status, err := api.Do(http.MethodGet, "/api/v1/trunks/carrier1", nil, nil); status != http.StatusOK {
		t.Fatalf("the trunk in use is gone: %d %v", status, err)
	}

	// The carrier stops answering: three missed OPTIONS (5 s apart) later
	// the trunk is down, which the page learns by event while the test
	// goes on; the last step checks it.
	carrier.stop()

	do(t, ctx, "a 21-digit number is refused beside the field",
		chromedp.Click(chromedp.ID("tab-guards")),
		chromedp.WaitVisible(chromedp.ID("blacklist-form")),
		waitText("#blacklist-body", "No blocked numbers"),
		chromedp.SendKeys(chromedp.ID("bl-number"), "123456789012345678901"),
		chromedp.Click(chromedp.ID("bl-add")),
		waitText("#bl-number-error", "20"),
		waitAttr("#bl-number", "aria-invalid", "true"),
	)
	do(t, ctx, "a good number is blacklisted",
		clearInput("bl-number"),
		chromedp.SendKeys(chromedp.ID("bl-number"), "13800138000"),
		chromedp.SetValue(chromedp.ID("bl-direction"), "outbound"),
		chromedp.SendKeys(chromedp.ID("bl-description"), "fraud attempts"),
		chromedp.Click(chromedp.ID("bl-add")),
		waitText(`#blacklist-body tr[data-entry="outbound:13800138000"]`, "fraud attempts"),
	)
	var bl struct {
		Blacklist []struct{ Number, Direction, Description string } `json:"blacklist"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/blacklist", nil, &bl); err != nil {
		t.Fatal(err)
	}
	if len(bl.Blacklist) != 1 || bl.Blacklist[0].Number != "13800138000" || bl.Blacklist[0].Direction != "outbound" || bl.Blacklist[0].Description != "fraud attempts" {
		t.Errorf("stored blacklist %+v", bl.Blacklist)
	}

	do(t, ctx, "the outbound policy is changed",
		waitValue("#policy-from", "09:00"),
		chromedp.Click(chromedp.ID("policy-international")),
		chromedp.SendKeys(chromedp.ID("policy-cpm"), "5"),
		chromedp.SendKeys(chromedp.ID("policy-deny"), "0900, 1900"),
		chromedp.SendKeys(chromedp.ID("policy-emergency"), "12395"),
		chromedp.Click(chromedp.ID("policy-lock")),
		chromedp.Click(chromedp.ID("policy-day-sat")),
		chromedp.SendKeys(chromedp.ID("policy-tz"), "Asia/Shanghai"),
		chromedp.Click(chromedp.ID("policy-save")),
		waitText("#toasts", "Outbound policy saved."),
		waitText("#policy-updated", "Saved"),
	)
	var policy struct {
		Emergency               []string `json:"emergency"`
		DenyPrefixes            []string `json:"deny_prefixes"`
		International           bool     `json:"international"`
		Premium                 bool     `json:"premium"`
		ExtensionCallsPerMinute int      `json:"extension_calls_per_minute"`
		LockOutsideHours        bool     `json:"lock_outside_hours"`
		BusinessHours           struct {
			Days     []string `json:"days"`
			From, To string
			Timezone string `json:"timezone"`
		} `json:"business_hours"`
	}
	if _, err := api.Do(http.MethodGet, "/api/v1/outbound-policy", nil, &policy); err != nil {
		t.Fatal(err)
	}
	if !policy.International || policy.Premium || policy.ExtensionCallsPerMinute != 5 || !policy.LockOutsideHours ||
		!slices.Equal(policy.DenyPrefixes, []string{"0900", "1900"}) ||
		!slices.Equal(policy.Emergency, []string{"110", "119", "120", "122", "12395"}) ||
		!slices.Equal(policy.BusinessHours.Days, []string{"mon", "tue", "wed", "thu", "fri", "sat"}) ||
		policy.BusinessHours.From != "09:00" || policy.BusinessHours.To != "18:00" || policy.BusinessHours.Timezone != "Asia/Shanghai" {
		t.Errorf("stored policy %+v", policy)
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(bad, []byte("prefix,province,city\n1380013,上海,上海\n13800x4,北京,北京\n0755,广东,深圳\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("prefix,province,city\n1380013,上海,上海\n0755,广东,深圳\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type regionInfo struct {
		Count int `json:"count"`
	}
	do(t, ctx, "a region CSV with a bad line is refused with the line shown",
		waitText("#regions-info", "No region table imported yet"),
		chromedp.SetUploadFiles(chromedp.ID("region-file"), []string{bad}),
		chromedp.Click(chromedp.ID("region-import")),
		waitText(`#region-lines li[data-line="3"]`, "Line 3:"),
		waitText("#region-import-form .form-error", "nothing was imported"),
	)
	browser.Screenshot(t, ctx, "region-bad-line")
	var info regionInfo
	if _, err := api.Do(http.MethodGet, "/api/v1/regions", nil, &info); err != nil || info.Count != 0 {
		t.Fatalf("after the refused file the table has %d rows (%v)", info.Count, err)
	}
	do(t, ctx, "a good file is imported and counted",
		chromedp.SetUploadFiles(chromedp.ID("region-file"), []string{good}),
		chromedp.Click(chromedp.ID("region-import")),
		waitText("#regions-info", "2 prefixes"),
		chromedp.WaitNotVisible(chromedp.ID("region-lines")),
	)
	if _, err := api.Do(http.MethodGet, "/api/v1/regions", nil, &info); err != nil || info.Count != 2 {
		t.Fatalf("after the good file the table has %d rows (%v)", info.Count, err)
	}
	do(t, ctx, "a number is looked up",
		chromedp.SendKeys(chromedp.ID("region-number"), "+86 138 0013 8000"),
		chromedp.Click(chromedp.ID("region-lookup")),
		waitText("#region-result", "上海 上海"),
		clearInput("region-number"),
		chromedp.SendKeys(chromedp.ID("region-number"), "0755-12345678"),
		chromedp.Click(chromedp.ID("region-lookup")),
		waitText("#region-result", "广东 深圳"),
	)
	browser.Screenshot(t, ctx, "call-guards")

	do(t, ctx, "the tabs in Chinese",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-select'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText("#tab-trunks", "中继"),
		waitText("#tab-routing", "号码与路由"),
		waitText("#tab-guards", "呼叫防护"),
		waitText(`#blacklist-body tr[data-entry="outbound:13800138000"]`, "呼出"),
		waitText(`label[for="bl-number"]`, "号码"),
		waitText("#policy-hours legend", "工作时间"),
		waitText("#regions-info", "共 2 个前缀"),
	)
	browser.Screenshot(t, ctx, "call-guards-zh")
	do(t, ctx, "numbers and routes in Chinese",
		chromedp.Click(chromedp.ID("tab-routing")),
		waitText(`#dids-body tr[data-did="862150001234"]`, "分机 1001"),
		waitText(`#routes-body tr[data-route="mobile"]`, "固定号码"),
	)
	browser.Screenshot(t, ctx, "numbers-and-routes-zh")
	doWithin(t, ctx, time.Minute, "the trunk whose carrier went silent is shown down, live",
		chromedp.Click(chromedp.ID("tab-trunks")),
		waitText("#trunks-table th", "名称"),
		waitAttr(stateCell, "data-state", "down"),
		waitText(stateCell, "断开"),
	)
	browser.Screenshot(t, ctx, "trunks-zh")
	var status struct{ State string }
	if _, err := api.Do(http.MethodGet, "/api/v1/trunks/carrier1/status", nil, &status); err != nil || status.State != "down" {
		t.Errorf("trunk status %q (%v), want down", status.State, err)
	}
}
