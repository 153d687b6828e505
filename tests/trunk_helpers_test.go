package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/audiotest"
	"github.com/ccbox/ccbox/tests/harness"
	"github.com/ccbox/ccbox/tests/sipp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The carriers and the other peers of the trunk tests, each on its own
// loopback address: the box tells a carrier from a phone by the address a
// request comes from, and a carrier's SIPp sees only what the box sent it.
const (
	carrierInIP    = "127.0.0.30" // an IP trunk's carrier calling the box
	carrierOutIP   = "127.0.0.31" // an IP trunk's carrier taking the box's calls
	carrierRegIP   = "127.0.0.32" // a carrier the box registers with
	carrierAIP     = "127.0.0.33" // the first trunk of a failover route
	carrierBIP     = "127.0.0.34" // the second
	carrierPingIP  = "127.0.0.35" // a carrier that stops answering OPTIONS
	fraudIP        = "127.0.0.40" // neither a phone nor a carrier
	trunkCallerIP  = "127.0.0.41" // SIPp as extension 1002
	trunkCallerExt = "1002"
)

// The tones: the carrier's (played from a pcap by SIPp) and the desk
// phone's. Neither is a DTMF pair or a hold-music note.
const (
	carrierTone = 1500.0
	deskTone    = 800.0
)

// The numbers the trunk tests use.
const (
	trunkDID       = "02161230000" // the box's number at the carrier
	trunkMainLine  = "02161230000" // the caller number the mobile route presents
	dialledMobile  = "913800138000"
	sentMobile     = "13800138000" // dialledMobile after the route strips the 9
	blockedMobile  = "13900000000"
	carrierCaller  = "13812345678" // an ordinary caller reaching the DID
	carrierTimeout = 40 * time.Second
)

// carrierRuns is SIPp's -m for a carrier scenario: SIPp counts each OPTIONS
// keep-alive as a call, and the scenario stops SIPp itself once the call
// under test is over.
const carrierRuns = "1000"

// trunkBox starts a box with extensions 1001 and 1002 (secrets
// secret-NUMBER) and applies doc, a configuration-as-code document, through
// the API.
func trunkBox(t *testing.T, doc string) (*harness.App, *harness.Client) {
	t.Helper()
	app, admin := callBox(t, "1001", "1002")
	applyDoc(t, admin, doc)
	return app, admin
}

// applyDoc posts a YAML document to /api/v1/config/apply.
func applyDoc(t *testing.T, admin *harness.Client, doc string) {
	t.Helper()
	var out struct {
		Changes []struct{ Action, Kind, Name string } `json:"changes"`
	}
	if status, err := admin.Do(http.MethodPost, "/api/v1/config/apply", []byte(doc), &out); err != nil || status != http.StatusOK {
		t.Fatalf("apply the trunk configuration: %d %v\n%s", status, err, doc)
	}
	if len(out.Changes) == 0 {
		t.Fatalf("applying the trunk configuration changed nothing\n%s", doc)
	}
}

// importRegions replaces the box's region table with a CSV upload
// (POST /api/v1/regions, text/csv: the client's Do sends JSON only).
func importRegions(t *testing.T, admin *harness.Client, csv string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, admin.BaseURL+"/api/v1/regions", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(harness.CSRFHeader, admin.CSRF)
	resp, err := admin.HTTP.Do(req)
	if err != nil {
		t.Fatalf("import the region table: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		t.Fatalf("import the region table: %d %s", resp.StatusCode, body)
	}
}

// tonePcap writes d of the tone freq as a PCMU pcap SIPp plays.
func tonePcap(t *testing.T, freq float64, d time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("tone-%.0f.pcap", freq))
	if err := sipp.WritePcap(path, audiotest.PayloadPCMU, audiotest.Tone(8000, d, freq)); err != nil {
		t.Fatal(err)
	}
	return path
}

// startCarrier runs a carrier's answering scenario (sipp-carrier-answer,
// -reject or -registrar) on ip:port, where the box's trunk points, and
// waits until it listens.
func startCarrier(t *testing.T, scenario, ip string, port int, subst map[string]string) *sipp.Process {
	t.Helper()
	p := sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, scenario), Substitute: subst,
		IP: ip, Port: port, Timeout: carrierTimeout,
		Args: []string{"-m", carrierRuns},
	})
	p.WaitListening(t, 5*time.Second)
	reportOnFailure(t, p, "carrier at "+p.Addr())
	return p
}

// reportOnFailure logs what p saw and sent when the test fails, whatever
// step failed first (a phone's wait ends the test before the carrier's
// verdict is read).
func reportOnFailure(t *testing.T, p *sipp.Process, who string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s, its log:\n%s\n%s", who, p.Logs(), p.Report())
		}
	})
}

// answerSubst are the substitutions of sipp-carrier-answer.xml: the
// Request-URI user it must get, a regular expression the user of From or
// P-Asserted-Identity must match, and the tone it plays.
func answerSubst(t *testing.T, called, callerRE string) map[string]string {
	return map[string]string{"EXPECT_CALLED": called, "EXPECT_CALLER": callerRE,
		"PCAP_FILE": tonePcap(t, carrierTone, 3*time.Second)}
}

// carrierCall runs a carrier's calling scenario (sipp-carrier-call,
// -refused or -fraud) from ip:port to the box: service is the Request-URI
// user, caller the From user. -aa answers the box's OPTIONS keep-alives
// that reach a calling carrier.
func carrierCall(t *testing.T, app *harness.App, scenario, ip string, port int, service, caller string, subst map[string]string) *sipp.Process {
	t.Helper()
	p := sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, scenario), Substitute: subst,
		Remote: app.SIPAddr(), IP: ip, Port: port, Service: service,
		Keys: map[string]string{"caller": caller}, Timeout: 30 * time.Second,
		Args: []string{"-aa"},
	})
	reportOnFailure(t, p, "carrier calling from "+p.Addr())
	return p
}

// refusedSubst are the final statuses sipp-carrier-refused.xml and
// sipp-carrier-fraud.xml accept.
func refusedSubst(a, b int) map[string]string {
	return map[string]string{"FINAL_A": strconv.Itoa(a), "FINAL_B": strconv.Itoa(b)}
}

// extCall calls to from extension 1002 with SIPp on trunkCallerIP (it
// answers the box's digest challenge), a Go RTP peer's address in its SDP.
func extCall(t *testing.T, app *harness.App, to, scenario string, subst map[string]string) *sipp.Process {
	t.Helper()
	keys := peerKeys(sipp.NewPeer(t, trunkCallerIP), audiotest.PayloadPCMU)
	keys["caller"] = trunkCallerExt
	p := sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, scenario), Substitute: subst,
		Remote: app.SIPAddr(), IP: trunkCallerIP, Service: to, Keys: keys,
		User: trunkCallerExt, Password: "secret-" + trunkCallerExt, AuthURI: "sip:" + to + "@" + app.SIPAddr(),
		Timeout: 30 * time.Second,
	})
	reportOnFailure(t, p, "extension "+trunkCallerExt+" calling "+to)
	return p
}

// extRefused has extension 1002 call to and expects the final status.
func extRefused(t *testing.T, app *harness.App, to string, status int) {
	t.Helper()
	p := extCall(t, app, to, "sipp-call-refused.xml", map[string]string{"FINAL_STATUS": strconv.Itoa(status)})
	if r := p.Wait(); r.ExitCode != 0 {
		t.Errorf("1002 calling %s: want %d, SIPp exit status %d", to, status, r.ExitCode)
	}
}

// sippOK waits for p and fails the test with its trace unless every
// expectation of its scenario held.
func sippOK(t *testing.T, p *sipp.Process, who string) bool {
	t.Helper()
	if r := p.Wait(); r.ExitCode != 0 {
		t.Errorf("%s: SIPp exit status %d (%v), want 0: what it was sent differs from its scenario (its trace follows at the end)",
			who, r.ExitCode, r.Err)
		return false
	}
	return true
}

// carrierSaw fails the test unless the carrier's scenario logged key=want.
func carrierSaw(t *testing.T, p *sipp.Process, who, key, want string) {
	t.Helper()
	if got := sippLogged(p, key); got != want {
		t.Errorf("%s: %s = %q, want %q\n--- its log:\n%s", who, key, got, want, p.Logs())
	}
}

// invitesTo returns the Request-URIs of the INVITEs a SIPp received (its
// message trace; its own requests are never INVITEs in the carrier
// scenarios that take calls).
func invitesTo(p *sipp.Process) []string {
	var out []string
	for _, line := range strings.Split(p.Messages(), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "INVITE sip:") {
			out = append(out, strings.Fields(line)[1])
		}
	}
	return out
}

// noInvite fails the test when the carrier was sent any INVITE.
func noInvite(t *testing.T, p *sipp.Process, who string) {
	t.Helper()
	if inv := invitesTo(p); len(inv) > 0 {
		t.Errorf("%s got INVITEs it must never see: %v\n%s", who, inv, p.Report())
	}
}

// trunkStatusView is GET /api/v1/trunks/:name/status.
type trunkStatusView struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	Registered bool   `json:"registered"`
	OptionsUp  bool   `json:"options_up"`
	LastError  string `json:"last_error"`
}

func trunkStatus(t *testing.T, admin *harness.Client, name string) trunkStatusView {
	t.Helper()
	var v trunkStatusView
	if _, err := admin.Do(http.MethodGet, "/api/v1/trunks/"+name+"/status", nil, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// waitTrunk polls the trunk's status until ok holds, up to timeout.
func waitTrunk(t *testing.T, admin *harness.Client, name, what string, timeout time.Duration, ok func(trunkStatusView) bool) trunkStatusView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v := trunkStatus(t, admin, name)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("trunk %s is not %s within %v: %+v", name, what, timeout, v)
		}
		time.Sleep(200 * time.Millisecond) // polling the API, bounded by the deadline
	}
}

// metricValue reads the series name{labels} from /metrics; found is false
// when no series has those labels.
func metricValue(t *testing.T, app *harness.App, name string, labels map[string]string) (v float64, found bool) {
	t.Helper()
	var body []byte
	if _, err := harness.NewClient(t, app.URL()).Do(http.MethodGet, "/metrics", nil, &body); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	for _, m := range families[name].GetMetric() {
		match := 0
		for _, l := range m.GetLabel() {
			if want, ok := labels[l.GetName()]; ok && want == l.GetValue() {
				match++
			}
		}
		if match != len(labels) {
			continue
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue(), true
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

// waitMetric polls name{labels} until it equals want, up to timeout.
func waitMetric(t *testing.T, app *harness.App, name string, labels map[string]string, want float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, found := metricValue(t, app, name, labels)
		if found && v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s%v = %v (present: %v) within %v, want %v", name, labels, v, found, timeout, want)
			return
		}
		time.Sleep(100 * time.Millisecond) // polling /metrics, bounded by the deadline
	}
}

// heardTone fails the test unless the WAV a baresip recorded holds the tone.
func heardTone(t *testing.T, who, wav string, freq float64) {
	t.Helper()
	samples, rate, err := audiotest.ReadWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < rate {
		t.Errorf("%s: only %d samples received", who, len(samples))
		return
	}
	if !audiotest.HasTone(samples, rate, freq) {
		t.Errorf("%s: the carrier's %v Hz tone is not in what it received: %v", who, freq, audiotest.Detect(samples, rate, freq, 20*time.Millisecond))
	}
}
