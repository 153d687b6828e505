package tests

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/ccbox/ccbox/tests/harness"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Secrets of the extensions the registration test provisions.
var regSecrets = map[string]string{
	"1001": "baresip-secret-1001",
	"1002": "sipp-secret-1002",
	"1003": "tls-secret-1003",
}

// regContact is one contact in GET /api/v1/registrations.
type regContact struct {
	Contact   string    `json:"contact"`
	Source    string    `json:"source"`
	Transport string    `json:"transport"`
	Expires   time.Time `json:"expires"`
	UserAgent string    `json:"user_agent"`
	Available bool      `json:"available"`
}

type regReply struct {
	Realm         string `json:"realm"`
	Registrations []struct {
		Extension string       `json:"extension"`
		State     string       `json:"state"`
		Contacts  []regContact `json:"contacts"`
	} `json:"registrations"`
}

// contacts returns ext's contacts.
func (r regReply) contacts(ext string) []regContact {
	for _, e := range r.Registrations {
		if e.Extension == ext {
			return e.Contacts
		}
	}
	return nil
}

// TestSIPRegistration provisions extensions through the API and registers
// real phones against the built box, each from its own loopback address:
// baresip (MD5 over UDP), SIPp (MD5 over UDP) and the sipgo test phone
// (SHA-256 over TLS, with the HTTPS certificate). The API lists each
// contact with the address its REGISTER came from; a wrong secret and an
// unknown extension are both refused 403 and counted; the registrations
// survive a restart.
func TestSIPRegistration(t *testing.T) {
	baresip := regTool(t, "baresip", "baresip")
	sipp := regTool(t, "sipp", "sip-tester")

	app := harness.Start(t, harness.Options{})
	admin := app.Client(t)
	if err := admin.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"1001", "1002", "1003"} {
		if _, err := admin.Do(http.MethodPost, "/api/v1/extensions",
			map[string]any{"number": ext, "secret": regSecrets[ext]}, nil); err != nil {
			t.Fatalf("create extension %s: %v", ext, err)
		}
	}
	var regs regReply
	if _, err := admin.Do(http.MethodGet, "/api/v1/registrations", nil, &regs); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(regs.Realm, "ccbox-") || len(regs.contacts("1001")) != 0 {
		t.Fatalf("before any phone: %+v", regs)
	}
	realmLine := app.WaitLog(t, "sip_realm=", time.Second)
	if !strings.Contains(realmLine, "sip_realm="+regs.Realm) {
		t.Errorf("the log shows another realm than the API (%s): %s", regs.Realm, realmLine)
	}

	// baresip: 1001 from 127.0.0.2.
	bPort := regFreeUDP(t, "127.0.0.2")
	stopBaresip := regBaresip(t, baresip, "1001", app.SIPAddr(), net.JoinHostPort("127.0.0.2", strconv.Itoa(bPort)))
	bSource := fmt.Sprintf("127.0.0.2:%d", bPort)
	regWaitContact(t, admin, "1001", func(c regContact) bool { return c.Source == bSource && c.Transport == "udp" })

	// SIPp: 1002 from 127.0.0.3, the register scenario run once.
	sPort := regFreeUDP(t, "127.0.0.3")
	regSIPp(t, sipp, app.SIPAddr(), "1002", regSecrets["1002"], "127.0.0.3", sPort)
	sSource := fmt.Sprintf("127.0.0.3:%d", sPort)
	regWaitContact(t, admin, "1002", func(c regContact) bool { return c.Source == sSource && c.UserAgent == "SIPp" })

	// The test phone: 1003 with SHA-256 over TLS from 127.0.0.4.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	discard := slog.New(slog.DiscardHandler)
	tlsPhone, err := siptest.New("tls", "127.0.0.4:5061", discard)
	if err != nil {
		t.Fatal(err)
	}
	defer tlsPhone.Close()
	res, err := tlsPhone.Register(ctx, siptest.Register{
		Server: app.SIPTLSAddr(), Ext: "1003", Password: regSecrets["1003"], Algorithm: "SHA-256", Expires: 600,
	})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("SHA-256 register over TLS: %v %v", res, err)
	}
	regWaitContact(t, admin, "1003", func(c regContact) bool { return c.Transport == "tls" })

	// A wrong secret and an unknown extension get the same 403, and both
	// count as authentication failures.
	before := regMetric(t, app, "pbx_auth_failures_total")
	udpPhone, err := siptest.New("udp", "127.0.0.5:0", discard)
	if err != nil {
		t.Fatal(err)
	}
	defer udpPhone.Close()
	for _, r := range []siptest.Register{
		{Server: app.SIPAddr(), Ext: "1001", Password: "not-the-secret", Algorithm: "MD5", Expires: 300},
		{Server: app.SIPAddr(), Ext: "1999", Password: "whatever-secret", Algorithm: "MD5", Expires: 300},
	} {
		res, err := udpPhone.Register(ctx, r)
		if err != nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("register %s with a wrong secret: %v %v, want 403", r.Ext, res, err)
		}
	}
	if after := regMetric(t, app, "pbx_auth_failures_total"); after < before+2 {
		t.Errorf("pbx_auth_failures_total went from %v to %v, want +2", before, after)
	}
	if n := regMetric(t, app, "pbx_registrations"); n != 3 {
		t.Errorf("pbx_registrations = %v, want 3", n)
	}
	if got := regList(t, admin).contacts("1001"); len(got) != 1 || got[0].Source != bSource {
		t.Errorf("1001 after the refused REGISTER: %+v, want only baresip's contact", got)
	}

	// Registrations survive a restart: baresip is gone (killed, so it did
	// not unregister) and SIPp exited, yet both contacts are still listed.
	stopBaresip()
	again := app.Restart(t)
	c := again.Client(t)
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	after := regList(t, c)
	t.Logf("registrations after restart: %+v", after)
	for ext, source := range map[string]string{"1001": bSource, "1002": sSource} {
		got := after.contacts(ext)
		if len(got) != 1 || got[0].Source != source {
			t.Errorf("%s after restart: %+v, want the contact from %s", ext, got, source)
		}
	}
	if got := after.contacts("1003"); len(got) != 1 || got[0].Transport != "tls" {
		t.Errorf("1003 after restart: %+v", got)
	}
	if n := regMetric(t, again, "pbx_registrations"); n != 3 {
		t.Errorf("pbx_registrations after restart = %v, want 3", n)
	}
}

// regTool returns the path of a SIP tool the test needs, or fails naming
// the Debian package that has it.
func regTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required (Debian package %s): %v", name, pkg, err)
	}
	return p
}

// regFreeUDP returns a UDP port free on ip a moment ago.
func regFreeUDP(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// regBaresip starts baresip as extension ext on listen, registering with
// MD5 over UDP to box. The returned func kills it (idempotent); it is also
// called when the test ends.
func regBaresip(t *testing.T, bin, ext, box, listen string) (stop func()) {
	t.Helper()
	dir := t.TempDir()
	host, _, _ := net.SplitHostPort(listen)
	config := fmt.Sprintf("sip_listen\t\t%s\nmodule_path\t\t/usr/lib/baresip/modules\nmodule\t\t\tg711.so\n"+
		"module\t\t\taufile.so\nmodule_app\t\taccount.so\naudio_player\t\taufile,/dev/null\naudio_source\t\taufile,/dev/null\n", listen)
	account := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;regint=600\n", ext, box, regSecrets[ext])
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-n", host)
	cmd.Dir = dir
	out := &regOutput{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			cancel()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.tail(4000))
		}
	})
	return stop
}

// regSIPp runs SIPp's register scenario once from ip:port as ext.
func regSIPp(t *testing.T, bin, box, ext, secret, ip string, port int) {
	t.Helper()
	scenario, err := filepath.Abs("testdata/sipp-register.xml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, box,
		"-sf", scenario, "-s", ext, "-au", ext, "-ap", secret, "-auth_uri", "sip:"+box,
		"-i", ip, "-p", strconv.Itoa(port), "-m", "1", "-timeout", "20s", "-timeout_error",
		"-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp register: %v\n%s\n%s", err, regTail(out, 4000), regTail(errs, 4000))
	}
}

// regList reads GET /api/v1/registrations.
func regList(t *testing.T, c *harness.Client) regReply {
	t.Helper()
	var r regReply
	if _, err := c.Do(http.MethodGet, "/api/v1/registrations", nil, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// regWaitContact polls GET /api/v1/registrations (up to 20 s) until ext has a
// contact that ok accepts.
func regWaitContact(t *testing.T, c *harness.Client, ext string, ok func(regContact) bool) regContact {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got := regList(t, c).contacts(ext)
		for _, ct := range got {
			if ok(ct) {
				if !ct.Available || !ct.Expires.After(time.Now()) {
					t.Errorf("%s: fresh contact not available or expired: %+v", ext, ct)
				}
				return ct
			}
		}
		select {
		case <-deadline.C:
			t.Fatalf("%s: no matching contact within 20 s; contacts: %+v", ext, got)
		case <-tick.C:
		}
	}
}

// regMetric reads one unlabelled series from /metrics.
func regMetric(t *testing.T, app *harness.App, name string) float64 {
	t.Helper()
	resp, err := http.Get(app.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	f, ok := families[name]
	if !ok || len(f.GetMetric()) != 1 {
		t.Fatalf("/metrics has no single series %s", name)
	}
	m := f.GetMetric()[0]
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is neither a counter nor a gauge", name)
	return 0
}

// regOutput collects a child's output; safe for concurrent writes.
type regOutput struct {
	mu  sync.Mutex
	buf []byte
}

func (b *regOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the last 64 KB: enough to see why a phone failed.
	b.buf = append(b.buf, p...)
	if len(b.buf) > 64<<10 {
		b.buf = b.buf[len(b.buf)-64<<10:]
	}
	return len(p), nil
}

func (b *regOutput) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return regTail(b.buf, n)
}

func regTail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
