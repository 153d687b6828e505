package tests

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/audiotest"
	"github.com/ccbox/ccbox/tests/baresip"
	"github.com/ccbox/ccbox/tests/harness"
)

// callBox starts a box with extensions 1001 and 1002 and returns it with
// an admin client.
func callBox(t *testing.T, exts ...string) (*harness.App, *harness.Client) {
	t.Helper()
	app := harness.Start(t, harness.Options{Env: []string{"APPLIANCE_RTP_PORTS=21000-21999"}})
	admin := app.Client(t)
	if err := admin.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	for _, ext := range exts {
		body := map[string]any{"number": ext, "name": "Phone " + ext, "secret": "secret-" + ext}
		if status, err := admin.Do(http.MethodPost, "/api/v1/extensions", body, nil); err != nil || status != http.StatusCreated {
			t.Fatalf("create extension %s: %d %v", ext, status, err)
		}
	}
	return app, admin
}

// TestBaresipCallThroughTheBox: two baresip desk phones, each on its own
// loopback address, register and call each other through the box. Each
// sends its own tone; each hears the other's tone and not its own, which
// proves the media went through the appliance's relay (the SDPs they get
// name the appliance) and arrived intact.
func TestBaresipCallThroughTheBox(t *testing.T) {
	app, admin := callBox(t, "1001", "1002")
	dir := t.TempDir()
	toneA, toneB := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	const freqA, freqB = 697.0, 1209.0
	for path, f := range map[string]float64{toneA: freqA, toneB: freqB} {
		if err := audiotest.WriteToneWAV(path, 8000, 60*time.Second, f); err != nil {
			t.Fatal(err)
		}
	}
	a := baresip.Start(t, baresip.Options{IP: "127.0.0.2", Ext: "1001", Password: "secret-1001", Server: app.SIPAddr(), ToneWAV: toneA})
	b := baresip.Start(t, baresip.Options{IP: "127.0.0.3", Ext: "1002", Password: "secret-1002", Server: app.SIPAddr(), ToneWAV: toneB, AutoAnswer: true})

	a.Dial("1002")
	a.WaitOutput("Call established", 15*time.Second)
	b.WaitOutput("Call established", 15*time.Second)
	// Both sides name the appliance as where their media comes from.
	for _, p := range []*baresip.Phone{a, b} {
		p.WaitOutput("incoming rtp for 'audio' established", 10*time.Second)
	}
	time.Sleep(3 * time.Second) // let three seconds of audio flow; the tones are 60 s long
	a.Hangup()
	b.WaitOutput("terminated", 10*time.Second)

	for _, tc := range []struct {
		name       string
		p          *baresip.Phone
		want, self float64
	}{
		{"1001 hears 1002", a, freqB, freqA},
		{"1002 hears 1001", b, freqA, freqB},
	} {
		samples, rate, err := audiotest.ReadWAV(tc.p.Received())
		if err != nil {
			t.Fatal(err)
		}
		if len(samples) < rate {
			t.Errorf("%s: only %d samples received", tc.name, len(samples))
			continue
		}
		if !audiotest.HasTone(samples, rate, tc.want) {
			t.Errorf("%s: the other phone's %v Hz tone is not in what it received: %v", tc.name, tc.want, audiotest.Detect(samples, rate, tc.want, 20*time.Millisecond))
		}
		if !audiotest.Absent(samples, rate, tc.self) {
			t.Errorf("%s: its own %v Hz tone came back", tc.name, tc.self)
		}
	}

	// The phones' media went through the box: no phone saw the other's address.
	for _, p := range []*baresip.Phone{a, b} {
		for _, other := range []string{"127.0.0.2", "127.0.0.3"} {
			if strings.Contains(p.Output(), "receiving from "+other) {
				t.Errorf("a phone received RTP straight from %s", other)
			}
		}
	}

	// The CDR is there, answered, with both legs.
	var cdrs struct {
		CDRs []struct {
			Serial, Caller, Callee, Result string
			Legs                           []struct{ Role, Device string }
		} `json:"cdrs"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := admin.Do(http.MethodGet, "/api/v1/cdrs", nil, &cdrs); err != nil {
			t.Fatal(err)
		}
		if len(cdrs.CDRs) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the CDR is written as the call ends; bounded
	}
	if len(cdrs.CDRs) != 1 || cdrs.CDRs[0].Result != "answered" || cdrs.CDRs[0].Caller != "1001" || cdrs.CDRs[0].Callee != "1002" || len(cdrs.CDRs[0].Legs) != 2 {
		t.Fatalf("CDRs: %+v", cdrs.CDRs)
	}

	metrics := metricsText(t, app)
	for _, want := range []string{`pbx_calls_total{result="answered"} 1`, `pbx_rtp_packets_total{direction="in"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func metricsText(t *testing.T, app *harness.App) string {
	t.Helper()
	var body string
	if _, err := harness.NewClient(t, app.URL()).Do(http.MethodGet, "/metrics", nil, &body); err != nil {
		t.Fatal(err)
	}
	return body
}
