package tests

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/player"
	"github.com/ccbox/ccbox/tests/audiotest"
	"github.com/ccbox/ccbox/tests/baresip"
	"github.com/ccbox/ccbox/tests/harness"
)

// Each phone's tone: none is a hold-music note, and none is a DTMF pair.
const (
	toneA = 1000.0
	toneB = 1209.0
	toneC = 1800.0
	toneD = 2200.0
)

// featurePhones starts one baresip per extension, each on its own
// address and sending its own tone (a 90 s WAV, longer than any call here).
func featurePhones(t *testing.T, app *harness.App, auto bool, exts map[string]float64) map[string]*baresip.Phone {
	t.Helper()
	dir := t.TempDir()
	phones := map[string]*baresip.Phone{}
	ip := 2
	for _, ext := range []string{"1001", "1002", "1003", "1004"} {
		f, ok := exts[ext]
		if !ok {
			continue
		}
		wav := filepath.Join(dir, ext+".wav")
		if err := audiotest.WriteToneWAV(wav, 8000, 90*time.Second, f); err != nil {
			t.Fatal(err)
		}
		phones[ext] = baresip.Start(t, baresip.Options{IP: fmt.Sprintf("127.0.0.%d", ip), Ext: ext, Password: "secret-" + ext,
			Server: app.SIPAddr(), ToneWAV: wav, AutoAnswer: auto})
		ip++
	}
	return phones
}

// segment returns samples between from and to (from the recording's start).
func segment(samples []int16, rate int, from, to time.Duration) []int16 {
	i, j := int(from.Seconds()*float64(rate)), int(to.Seconds()*float64(rate))
	if j > len(samples) {
		j = len(samples)
	}
	if i >= j {
		return nil
	}
	return samples[i:j]
}

// musicShare is the share of the non-silent 20 ms frames of samples whose
// energy is mostly (over half) at one of the hold music's notes.
func musicShare(samples []int16, rate int) float64 {
	frame := rate / 50
	music, voiced := 0, 0
	for i := 0; i+frame <= len(samples); i += frame {
		f := samples[i : i+frame]
		var energy float64
		for _, s := range f {
			energy += float64(s) * float64(s)
		}
		energy /= float64(len(f))
		if energy < 100 { // about -50 dBFS: silence
			continue
		}
		voiced++
		for _, n := range player.HoldMusicNotes {
			if audiotest.Power(f, rate, n) > energy/2 {
				music++
				break
			}
		}
	}
	if voiced == 0 {
		return 0
	}
	return float64(music) / float64(voiced)
}

// TestHoldPlaysMusicAndRetrieveReconnects: 1001 (baresip) puts 1002
// (baresip) on hold; 1002 hears the box's hold music and not 1001's tone;
// after retrieve it hears 1001 again. 1001 never hears the music.
func TestHoldPlaysMusicAndRetrieveReconnects(t *testing.T) {
	app, _ := callBox(t, "1001", "1002")
	phones := featurePhones(t, app, true, map[string]float64{"1001": toneA, "1002": toneB})
	a, b := phones["1001"], phones["1002"]

	a.Dial("1002")
	a.WaitOutput("Call established", 15*time.Second)
	b.WaitOutput("Call established", 15*time.Second)
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	a.Hold()
	held := time.Since(t0)
	time.Sleep(3 * time.Second)
	a.Resume()
	resumed := time.Since(t0)
	time.Sleep(2500 * time.Millisecond)
	a.Hangup()
	b.WaitOutput("terminated", 10*time.Second)

	samples, rate, err := audiotest.ReadWAV(b.Received())
	if err != nil {
		t.Fatal(err)
	}
	before := segment(samples, rate, 500*time.Millisecond, held-200*time.Millisecond)
	during := segment(samples, rate, held+800*time.Millisecond, resumed-200*time.Millisecond)
	after := segment(samples, rate, resumed+1000*time.Millisecond, resumed+2200*time.Millisecond)
	if !audiotest.HasTone(before, rate, toneA) {
		t.Errorf("before hold 1002 does not hear 1001: %v", audiotest.Detect(before, rate, toneA, 20*time.Millisecond))
	}
	t.Logf("hold music share on hold: %.2f, before: %.2f", musicShare(during, rate), musicShare(before, rate))
	if share := musicShare(during, rate); share < 0.5 {
		t.Errorf("on hold, %.0f%% of what 1002 hears is hold music, want most", share*100)
	}
	if !audiotest.Absent(during, rate, toneA) {
		t.Errorf("on hold 1002 still hears 1001: %v", audiotest.Detect(during, rate, toneA, 20*time.Millisecond))
	}
	if !audiotest.HasTone(after, rate, toneA) {
		t.Errorf("after retrieve 1002 does not hear 1001: %v", audiotest.Detect(after, rate, toneA, 20*time.Millisecond))
	}
	heard, rate, err := audiotest.ReadWAV(a.Received())
	if err != nil {
		t.Fatal(err)
	}
	if share := musicShare(heard, rate); share > 0.05 {
		t.Errorf("the holder heard the hold music (%.0f%% of its audio)", share*100)
	}
}

// setExt changes an extension through the API.
func setExt(t *testing.T, admin *harness.Client, ext string, body map[string]any) {
	t.Helper()
	if status, err := admin.Do(http.MethodPatch, "/api/v1/extensions/"+ext, body, nil); err != nil || status != http.StatusOK {
		t.Fatalf("PATCH extension %s %v: %d %v", ext, body, status, err)
	}
}

type extSettings struct {
	DND             bool   `json:"dnd"`
	ForwardAlways   string `json:"forward_always"`
	ForwardBusy     string `json:"forward_busy"`
	ForwardNoAnswer string `json:"forward_no_answer"`
	RingOn          string `json:"ring_on"`
}

func getExt(t *testing.T, admin *harness.Client, ext string) extSettings {
	t.Helper()
	var e extSettings
	if _, err := admin.Do(http.MethodGet, "/api/v1/extensions/"+ext, nil, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// cdrRoles returns the roles of the newest CDR's legs, waiting for n CDRs.
func cdrList(t *testing.T, admin *harness.Client, n int) []cdrView {
	t.Helper()
	var cdrs struct {
		CDRs []cdrView `json:"cdrs"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := admin.Do(http.MethodGet, "/api/v1/cdrs", nil, &cdrs); err != nil {
			t.Fatal(err)
		}
		if len(cdrs.CDRs) >= n {
			return cdrs.CDRs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d CDRs, want %d", len(cdrs.CDRs), n)
		}
		time.Sleep(50 * time.Millisecond) // CDRs are written as calls end; bounded
	}
}

type cdrView struct {
	Serial, Caller, Callee, Result, Cause string
	Legs                                  []struct{ Role, Device, Cause string }
}

// TestBlindTransferFromBaresip: 1001 calls 1002; 1002 transfers 1001 to
// 1003 with baresip's transfer (REFER). First 1003 is on do-not-disturb:
// the transfer fails, baresip hangs up, the box rings it back and 1001 and
// 1002 talk again. Then it works: 1001
// hears 1003, 1002 is gone, and the call keeps one serial with every leg.
func TestBlindTransferFromBaresip(t *testing.T) {
	app, admin := callBox(t, "1001", "1002", "1003")
	phones := featurePhones(t, app, true, map[string]float64{"1001": toneA, "1002": toneB, "1003": toneC})
	a, b, c := phones["1001"], phones["1002"], phones["1003"]

	setExt(t, admin, "1003", map[string]any{"dnd": true})
	a.Dial("1002")
	a.WaitOutput("Call established", 15*time.Second)
	b.WaitOutput("Call established", 15*time.Second)
	time.Sleep(time.Second)
	b.Transfer("1003")
	b.WaitOutput("transfer failure", 10*time.Second)
	// baresip hangs up when its transfer fails; the box rings it back so
	// 1001 is not left alone, and they talk again.
	b.WaitCount("Call established", 2, 15*time.Second)
	time.Sleep(1500 * time.Millisecond)
	if a.Count("terminated") > 0 {
		t.Fatal("a failed transfer ended the caller's call")
	}

	setExt(t, admin, "1003", map[string]any{"dnd": false})
	b.Transfer("1003")
	c.WaitOutput("Call established", 15*time.Second)
	b.WaitCount("terminated", 2, 10*time.Second)
	time.Sleep(2 * time.Second)
	a.Hangup()
	c.WaitOutput("terminated", 10*time.Second)

	samples, rate, err := audiotest.ReadWAV(a.Received())
	if err != nil {
		t.Fatal(err)
	}
	end := time.Duration(len(samples)) * time.Second / time.Duration(rate)
	last := segment(samples, rate, end-1500*time.Millisecond, end-300*time.Millisecond)
	if !audiotest.HasTone(last, rate, toneC) {
		t.Errorf("after the transfer 1001 does not hear 1003: %v", audiotest.Detect(last, rate, toneC, 20*time.Millisecond))
	}
	if !audiotest.Absent(last, rate, toneB) {
		t.Errorf("after the transfer 1001 still hears 1002")
	}
	cdrs := cdrList(t, admin, 1)
	if len(cdrs) != 1 {
		t.Fatalf("%d CDRs for one transferred call: %+v", len(cdrs), cdrs)
	}
	roles := map[string]int{}
	for _, l := range cdrs[0].Legs {
		roles[l.Role]++
	}
	if cdrs[0].Result != "answered" || roles["caller"] != 1 || roles["callee"] != 1 || roles["recall"] != 1 || roles["transfer_target"] < 1 {
		t.Errorf("CDR %+v", cdrs[0])
	}
}

// TestForwardingDNDPickupFromDeskPhones drives forwarding, DND and pickup
// from baresip phones with feature codes and the API, answering by hand.
func TestForwardingDNDPickupFromDeskPhones(t *testing.T) {
	app, admin := callBox(t, "1001", "1002", "1003", "1004")
	phones := featurePhones(t, app, false, map[string]float64{"1001": toneA, "1002": toneB, "1003": toneC, "1004": toneD})
	a, b, c, d := phones["1001"], phones["1002"], phones["1003"], phones["1004"]
	incoming := "Incoming call from"
	hangAll := func() {
		t.Helper()
		a.Hangup()
		time.Sleep(300 * time.Millisecond)
	}

	// A feature code from the phone: busy forward to 1004. The box answers,
	// beeps and hangs up.
	b.Dial("*901004")
	b.WaitCount("session closed", 1, 10*time.Second)
	if got := getExt(t, admin, "1002"); got.ForwardBusy != "1004" {
		t.Fatalf("after *901004 the busy forward is %q", got.ForwardBusy)
	}

	// Busy: 1002 talks to 1001 at its limit of one call; 1003's call to
	// 1002 goes to 1004.
	setExt(t, admin, "1002", map[string]any{"max_calls": 1})
	a.Dial("1002")
	b.WaitCount(incoming, 1, 10*time.Second)
	b.Accept()
	a.WaitCount("Call established", 1, 10*time.Second)
	c.Dial("1002")
	d.WaitCount(incoming, 1, 10*time.Second)
	d.Accept()
	c.WaitCount("Call established", 1, 10*time.Second)
	c.Hangup()
	hangAll()

	// DND from the phone: callers go to the busy forward.
	b.Dial("*78")
	b.WaitCount("session closed", 3, 10*time.Second)
	if !getExt(t, admin, "1002").DND {
		t.Fatal("*78 did not set DND")
	}
	a.Dial("1002")
	d.WaitCount(incoming, 2, 10*time.Second)
	d.Accept()
	a.WaitCount("Call established", 2, 10*time.Second)
	hangAll()
	b.Dial("*79")
	b.WaitCount("session closed", 4, 10*time.Second)
	if getExt(t, admin, "1002").DND {
		t.Fatal("*79 did not clear DND")
	}

	// No answer: after 5 s of ringing 1002, 1003 rings.
	setExt(t, admin, "1002", map[string]any{"forward_no_answer": "1003", "no_answer_seconds": 5})
	a.Dial("1002")
	b.WaitCount(incoming, 2, 10*time.Second)
	start := time.Now()
	c.WaitCount(incoming, 1, 15*time.Second)
	if waited := time.Since(start); waited < 4*time.Second {
		t.Errorf("the no-answer forward came after %v, want about 5 s", waited)
	}
	c.Accept()
	a.WaitCount("Call established", 3, 10*time.Second)
	hangAll()

	// Directed pickup: 1002 rings, 1003 dials **1002 and gets the call.
	setExt(t, admin, "1002", map[string]any{"forward_no_answer": "", "forward_busy": ""})
	a.Dial("1002")
	b.WaitCount(incoming, 3, 10*time.Second)
	c.Dial("**1002")
	c.WaitCount("Call established", 2, 10*time.Second)
	a.WaitCount("Call established", 4, 10*time.Second)
	hangAll()

	// Group pickup: 1002 and 1004 are in "sales"; 1004 dials *8.
	setExt(t, admin, "1002", map[string]any{"pickup_group": "sales"})
	setExt(t, admin, "1004", map[string]any{"pickup_group": "sales"})
	a.Dial("1002")
	b.WaitCount(incoming, 4, 10*time.Second)
	d.Dial("*8")
	d.WaitCount("Call established", 3, 10*time.Second)
	a.WaitCount("Call established", 5, 10*time.Second)
	hangAll()

	// A forwarding loop (1002 → 1003 → 1002) stops at 1003, which rings.
	setExt(t, admin, "1002", map[string]any{"forward_always": "1003"})
	setExt(t, admin, "1003", map[string]any{"forward_always": "1002"})
	a.Dial("1002")
	c.WaitCount(incoming, 2, 10*time.Second)
	c.Accept()
	a.WaitCount("Call established", 6, 10*time.Second)
	hangAll()
	if n := b.Count(incoming); n != 4 {
		t.Errorf("1002 rang %d times, want 4 (never while forwarded)", n)
	}

	cdrs := cdrList(t, admin, 6)
	pickups := 0
	for _, cdr := range cdrs {
		for _, l := range cdr.Legs {
			if l.Role == "pickup" {
				pickups++
			}
		}
	}
	if pickups != 2 {
		t.Errorf("%d picked-up legs in the CDRs, want 2", pickups)
	}
}
