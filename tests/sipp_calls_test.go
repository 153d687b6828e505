package tests

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
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

// The peers of the SIPp call tests, each on its own loopback address so
// that no phone can reach another except through the box.
const (
	sippCallerIP = "127.0.0.4"
	sippCalleeIP = "127.0.0.5"
)

// The tones of the two ends: each side checks it hears the other's.
const (
	sippCallerTone = 697.0
	sippCalleeTone = 1209.0
)

// sippRTPRange is the box's RTP port range in these tests; the SDP it sends
// must name a port of it.
const sippRTPRange = "23000-23999"

// sippExt is an extension a test box is provisioned with.
type sippExt struct {
	number string
	codecs []string // nil: the default
}

func (e sippExt) secret() string { return "sipp-secret-" + e.number }

// sippBox starts a box with a 5 s ring timeout (the shortest allowed, for
// the no-answer case) and the given extensions, created through the API.
// Each test gets its own box, so the RTP counters start from zero and no
// OPTIONS ping (every 30 s) reaches a SIPp that only expects an INVITE.
func sippBox(t *testing.T, exts ...sippExt) *harness.App {
	t.Helper()
	app := harness.Start(t, harness.Options{Env: []string{
		"APPLIANCE_RTP_PORTS=" + sippRTPRange,
		"APPLIANCE_RING_TIMEOUT=5s",
	}})
	admin := app.Client(t)
	if err := admin.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	for _, e := range exts {
		body := map[string]any{"number": e.number, "name": "SIPp " + e.number, "secret": e.secret()}
		if e.codecs != nil {
			body["codecs"] = e.codecs
		}
		if status, err := admin.Do(http.MethodPost, "/api/v1/extensions", body, nil); err != nil || status != http.StatusCreated {
			t.Fatalf("create extension %s: %d %v", e.number, status, err)
		}
	}
	return app
}

// sippScenario is the absolute path of a scenario in testdata.
func sippScenario(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sippRegister registers ext from ip with SIPp's register scenario and
// returns the SIP port it used, where the callee scenario must listen next.
func sippRegister(t *testing.T, app *harness.App, ext sippExt, ip string) int {
	t.Helper()
	p := sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, "sipp-register.xml"),
		Remote:   app.SIPAddr(), IP: ip, Service: ext.number,
		User: ext.number, Password: ext.secret(), AuthURI: "sip:" + app.SIPAddr(),
	})
	if r := p.Wait(); r.ExitCode != 0 {
		t.Fatalf("SIPp could not register %s: exit %d\n%s", ext.number, r.ExitCode, p.Report())
	}
	return p.Port()
}

// sippCallee registers ext from sippCalleeIP and then runs scenario on the
// same port, to take the call the box will send there. It returns once
// SIPp listens.
func sippCallee(t *testing.T, app *harness.App, ext sippExt, scenario string, keys, subst map[string]string) *sipp.Process {
	t.Helper()
	port := sippRegister(t, app, ext, sippCalleeIP)
	p := sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, scenario), Substitute: subst,
		IP: sippCalleeIP, Port: port, Service: ext.number, Keys: keys,
	})
	p.WaitListening(t, 5*time.Second)
	return p
}

// sippCall runs a caller scenario from sippCallerIP as from, calling to.
func sippCall(t *testing.T, app *harness.App, from sippExt, to, scenario string, keys, subst map[string]string) *sipp.Process {
	t.Helper()
	all := map[string]string{"caller": from.number}
	for k, v := range keys {
		all[k] = v
	}
	return sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, scenario), Substitute: subst,
		Remote: app.SIPAddr(), IP: sippCallerIP, Service: to, Keys: all,
		User: from.number, Password: from.secret(), AuthURI: "sip:" + to + "@" + app.SIPAddr(),
	})
}

// sippSucceeded waits for p and fails the test with its trace unless every
// expectation of its scenario held.
func sippSucceeded(t *testing.T, p *sipp.Process, who string) sipp.Result {
	t.Helper()
	r := p.Wait()
	if r.ExitCode != 0 {
		t.Errorf("%s: SIPp exit status %d (%v), want 0: a response or request differs from its scenario\n%s", who, r.ExitCode, r.Err, p.Report())
	}
	return r
}

// sippLogged returns the value the scenario logged as key=value (the last
// one), or "" when it logged none.
func sippLogged(p *sipp.Process, key string) string {
	v := ""
	for _, line := range strings.Split(p.Logs(), "\n") {
		if i := strings.Index(line, key+"="); i >= 0 {
			v = strings.TrimSpace(line[i+len(key)+1:])
		}
	}
	return v
}

// sippCheckBoxSDP fails the test unless what p logged under prefix (offer,
// answer or early) names the box: 127.0.0.1 and a port of the RTP range.
func sippCheckBoxSDP(t *testing.T, p *sipp.Process, who, prefix string) {
	t.Helper()
	addr, port := sippLogged(p, prefix+"_addr"), sippLogged(p, prefix+"_port")
	n, err := strconv.Atoi(port)
	if addr != "127.0.0.1" || err != nil || n < 23000 || n > 23999 {
		t.Errorf("%s: the %s SDP names %s port %s, want the box: 127.0.0.1 and a port in %s\n%s", who, prefix, addr, port, sippRTPRange, p.Logs())
	}
}

// sippBoxMedia is where p's logged SDP (prefix: offer, answer, early) tells
// it to send RTP.
func sippBoxMedia(t *testing.T, p *sipp.Process, prefix string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(net.JoinHostPort(sippLogged(p, prefix+"_addr"), sippLogged(p, prefix+"_port")))
	if err != nil {
		t.Fatalf("the %s SDP has no usable address: %v\n%s", prefix, err, p.Logs())
	}
	return ap
}

// sippMetric reads the series name{label=value} from /metrics (0 when it
// is not there yet).
func sippMetric(t *testing.T, app *harness.App, name, label, value string) float64 {
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
	for _, m := range families[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				if c := m.GetCounter(); c != nil {
					return c.GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// sippCallResult waits (up to 5 s: the box counts a call once its CDR is
// written) until pbx_calls_total counts one call with result, and no other.
func sippCallResult(t *testing.T, app *harness.App, result string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for sippMetric(t, app, "pbx_calls_total", "result", result) < 1 {
		if time.Now().After(deadline) {
			var all []string
			for _, r := range []string{"answered", "busy", "no_answer", "unavailable", "cancelled", "rejected", "failed"} {
				all = append(all, fmt.Sprintf("%s=%v", r, sippMetric(t, app, "pbx_calls_total", "result", r)))
			}
			t.Errorf("pbx_calls_total{result=%q} did not count the call within 5 s: %s", result, strings.Join(all, " "))
			return
		}
		time.Sleep(50 * time.Millisecond) // polling /metrics, bounded by the deadline
	}
}

// sippRelayed fails the test unless the box's relay counted at least min
// RTP packets in and out.
func sippRelayed(t *testing.T, app *harness.App, min float64) {
	t.Helper()
	for _, dir := range []string{"in", "out"} {
		if n := sippMetric(t, app, "pbx_rtp_packets_total", "direction", dir); n < min {
			t.Errorf("pbx_rtp_packets_total{direction=%q} = %v, want ≥ %v", dir, n, min)
		}
	}
}

// sippHears fails the test unless peer received, from the box, at least
// min packets of payload type pt that carry the tone freq.
func sippHears(t *testing.T, peer *sipp.Peer, who string, pt uint8, minPackets int, freq float64) {
	t.Helper()
	pkts := peer.Received()
	n := 0
	for _, p := range pkts {
		if p.PT == pt && p.From.Addr() == netip.MustParseAddr("127.0.0.1") {
			n++
		}
	}
	if n < minPackets {
		other := map[uint8]int{}
		for _, p := range pkts {
			other[p.PT]++
		}
		t.Errorf("%s received %d packets of payload type %d from 127.0.0.1, want ≥ %d (all by payload type: %v)", who, n, pt, minPackets, other)
		return
	}
	samples := sipp.Audio(pkts, pt)
	if !audiotest.HasTone(samples, 8000, freq) {
		t.Errorf("%s: the other side's %v Hz tone is not in what it received: %v", who, freq, audiotest.Detect(samples, 8000, freq, 20*time.Millisecond))
	}
}

// sippSend sends a second and a half of tone from peer to the box in the
// background; the returned channel yields the result.
func sippSend(peer *sipp.Peer, to netip.AddrPort, pt uint8, freq float64) <-chan error {
	done := make(chan error, 1)
	samples := audiotest.Tone(8000, 1500*time.Millisecond, freq)
	go func() { done <- peer.Send(to, pt, samples) }()
	return done
}

// peerKeys are the SDP keys naming a Go RTP peer with payload type pt.
func peerKeys(peer *sipp.Peer, pt uint8) map[string]string {
	codec := "PCMU"
	if pt == audiotest.PayloadPCMA {
		codec = "PCMA"
	}
	return map[string]string{
		"sdp_addr": peer.Addr().Addr().String(), "sdp_port": strconv.Itoa(int(peer.Addr().Port())),
		"pt": strconv.Itoa(int(pt)), "codec": codec,
	}
}

// TestSIPpCalls drives the box with SIPp phones, each on its own loopback
// address: the caller on 127.0.0.4, the callee on 127.0.0.5. SIPp checks
// every status code and that every SDP it receives names the box; where
// audio matters, Go RTP peers stand in for the phones' media sockets (SIPp
// cannot tell what it received) and prove each side's tone reached the
// other through the box, in its own codec. Each case checks the call's
// result in pbx_calls_total, and the cases with media the relay's
// pbx_rtp_packets_total. Every case starts its own box (about 0.1 s).
func TestSIPpCalls(t *testing.T) {
	caller, callee := sippExt{number: "1001"}, sippExt{number: "1002"}
	// refused calls to with SIPp's failing-call scenario, which passes only
	// when the final response is status.
	refused := func(t *testing.T, app *harness.App, to string, status int) sipp.Result {
		t.Helper()
		a := sippCall(t, app, caller, to, "sipp-call-refused.xml", peerKeys(sipp.NewPeer(t, sippCallerIP), audiotest.PayloadPCMU),
			map[string]string{"FINAL_STATUS": strconv.Itoa(status)})
		return sippSucceeded(t, a, "caller")
	}
	// exchange has a caller and a callee Go RTP peer send each other their
	// tone through the box, to the ports their SIPp's logged SDPs name.
	exchange := func(t *testing.T, callerRTP *sipp.Peer, callerTo netip.AddrPort, callerPT uint8, calleeRTP *sipp.Peer, calleeTo netip.AddrPort, calleePT uint8) {
		t.Helper()
		sentA := sippSend(callerRTP, callerTo, callerPT, sippCallerTone)
		sentB := sippSend(calleeRTP, calleeTo, calleePT, sippCalleeTone)
		for _, ch := range []<-chan error{sentA, sentB} {
			if err := <-ch; err != nil {
				t.Error(err)
			}
		}
	}

	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"caller cancels while the callee rings", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			b := sippCallee(t, app, callee, "sipp-callee-ring.xml", nil, nil)
			a := sippCall(t, app, caller, callee.number, "sipp-call-cancel.xml", peerKeys(sipp.NewPeer(t, sippCallerIP), audiotest.PayloadPCMU), nil)
			sippSucceeded(t, a, "caller (CANCEL → 200, 487)")
			sippSucceeded(t, b, "callee (must get the CANCEL)")
			sippCheckBoxSDP(t, b, "callee", "offer")
			sippCallResult(t, app, "cancelled")
		}},
		{"callee busy", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			b := sippCallee(t, app, callee, "sipp-callee-busy.xml", nil, nil)
			refused(t, app, callee.number, 486)
			sippSucceeded(t, b, "callee")
			sippCheckBoxSDP(t, b, "callee", "offer")
			sippCallResult(t, app, "busy")
		}},
		{"no answer within the ring timeout", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			b := sippCallee(t, app, callee, "sipp-callee-ring.xml", nil, nil)
			r := refused(t, app, callee.number, 480)
			// The box rings for its 5 s ring timeout; the caller's run also
			// holds its digest round trip.
			if r.Elapsed < 4500*time.Millisecond || r.Elapsed > 9*time.Second {
				t.Errorf("the caller got 480 after %v, want about the 5 s ring timeout", r.Elapsed)
			}
			sippSucceeded(t, b, "callee (must get the CANCEL)")
			sippCallResult(t, app, "no_answer")
		}},
		{"early media before the answer", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			pcap := filepath.Join(t.TempDir(), "ringback.pcap")
			if err := sipp.WritePcap(pcap, audiotest.PayloadPCMU, audiotest.Tone(8000, 1500*time.Millisecond, sippCalleeTone)); err != nil {
				t.Fatal(err)
			}
			callerRTP := sipp.NewPeer(t, sippCallerIP)
			b := sippCallee(t, app, callee, "sipp-callee-early.xml", nil, map[string]string{"PCAP_FILE": pcap})
			a := sippCall(t, app, caller, callee.number, "sipp-call.xml", peerKeys(callerRTP, audiotest.PayloadPCMU), nil)
			a.WaitLog(t, "answer_port=", 10*time.Second)
			// SIPp logged the 200 within a poll (20 ms) of its arrival: what
			// the caller had by then came before the answer.
			beforeAnswer := len(callerRTP.Received())
			sippSucceeded(t, a, "caller (183 with SDP, then 200)")
			sippSucceeded(t, b, "callee")
			sippCheckBoxSDP(t, a, "caller", "early")
			sippCheckBoxSDP(t, a, "caller", "answer")
			sippCheckBoxSDP(t, b, "callee", "offer")
			// The ringback (1.5 s of tone, played during the 2 s before the
			// 200) reached the caller before the answer.
			sippHears(t, callerRTP, "the caller, before the answer", audiotest.PayloadPCMU, 50, sippCalleeTone)
			if beforeAnswer < 50 {
				t.Errorf("the caller had %d RTP packets when the 200 came, want ≥ 50 of the 75 of ringback", beforeAnswer)
			}
			// In: the callee's ringback; out: the same towards the caller.
			sippRelayed(t, app, 50)
			sippCallResult(t, app, "answered")
		}},
		{"INVITE without SDP", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			callerRTP, calleeRTP := sipp.NewPeer(t, sippCallerIP), sipp.NewPeer(t, sippCalleeIP)
			b := sippCallee(t, app, callee, "sipp-callee.xml", peerKeys(calleeRTP, audiotest.PayloadPCMU), nil)
			a := sippCall(t, app, caller, callee.number, "sipp-call-no-sdp.xml", peerKeys(callerRTP, audiotest.PayloadPCMU), nil)
			a.WaitLog(t, "offer_port=", 10*time.Second)
			b.WaitLog(t, "offer_port=", time.Second)
			exchange(t, callerRTP, sippBoxMedia(t, a, "offer"), audiotest.PayloadPCMU, calleeRTP, sippBoxMedia(t, b, "offer"), audiotest.PayloadPCMU)
			sippSucceeded(t, a, "caller (offer in the 200, answer in the ACK, BYE)")
			sippSucceeded(t, b, "callee (BYE after the caller's)")
			sippCheckBoxSDP(t, a, "caller", "offer")
			sippCheckBoxSDP(t, b, "callee", "offer")
			if pts := strings.Fields(sippLogged(a, "offer_pts")); !slices.Contains(pts, "0") {
				t.Errorf("the box's offer to the caller has payload types %v, want PCMU (0) among them", pts)
			}
			sippHears(t, calleeRTP, "the callee", audiotest.PayloadPCMU, 50, sippCallerTone)
			sippHears(t, callerRTP, "the caller", audiotest.PayloadPCMU, 50, sippCalleeTone)
			sippRelayed(t, app, 120)
			sippCallResult(t, app, "answered")
		}},
		{"PCMU caller to PCMA callee", func(t *testing.T) {
			pcmaCallee := sippExt{number: callee.number, codecs: []string{"PCMA"}}
			app := sippBox(t, caller, pcmaCallee)
			callerRTP, calleeRTP := sipp.NewPeer(t, sippCallerIP), sipp.NewPeer(t, sippCalleeIP)
			b := sippCallee(t, app, pcmaCallee, "sipp-callee.xml", peerKeys(calleeRTP, audiotest.PayloadPCMA), nil)
			a := sippCall(t, app, caller, callee.number, "sipp-call.xml", peerKeys(callerRTP, audiotest.PayloadPCMU), nil)
			a.WaitLog(t, "answer_port=", 10*time.Second)
			b.WaitLog(t, "offer_port=", time.Second)
			exchange(t, callerRTP, sippBoxMedia(t, a, "answer"), audiotest.PayloadPCMU, calleeRTP, sippBoxMedia(t, b, "offer"), audiotest.PayloadPCMA)
			sippSucceeded(t, a, "caller")
			sippSucceeded(t, b, "callee")
			sippCheckBoxSDP(t, a, "caller", "answer")
			sippCheckBoxSDP(t, b, "callee", "offer")
			if got := sippLogged(a, "answer_pts"); got != "0" {
				t.Errorf("the caller's answer has payload types %q, want PCMU alone (0)", got)
			}
			if pts := strings.Fields(sippLogged(b, "offer_pts")); len(pts) == 0 || pts[0] != "8" || slices.Contains(pts, "0") {
				t.Errorf("the callee's offer has payload types %v, want PCMA (8) and no PCMU", pts)
			}
			// Transcoded both ways: each hears the other's tone in its own codec.
			sippHears(t, calleeRTP, "the PCMA callee", audiotest.PayloadPCMA, 50, sippCallerTone)
			sippHears(t, callerRTP, "the PCMU caller", audiotest.PayloadPCMU, 50, sippCalleeTone)
			sippRelayed(t, app, 120)
			sippCallResult(t, app, "answered")
		}},
		{"caller behind NAT: its SDP names an address where nothing listens", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			callerRTP, calleeRTP := sipp.NewPeer(t, sippCallerIP), sipp.NewPeer(t, sippCalleeIP)
			b := sippCallee(t, app, callee, "sipp-callee.xml", peerKeys(calleeRTP, audiotest.PayloadPCMU), nil)
			natKeys := map[string]string{"sdp_addr": "127.0.0.99", "sdp_port": "4000", "pt": "0", "codec": "PCMU"}
			a := sippCall(t, app, caller, callee.number, "sipp-call.xml", natKeys, nil)
			a.WaitLog(t, "answer_port=", 10*time.Second)
			b.WaitLog(t, "offer_port=", time.Second)
			// The caller's RTP leaves from its real socket, not the one its
			// SDP names: the box must latch onto it and send the callee's
			// audio there.
			exchange(t, callerRTP, sippBoxMedia(t, a, "answer"), audiotest.PayloadPCMU, calleeRTP, sippBoxMedia(t, b, "offer"), audiotest.PayloadPCMU)
			sippSucceeded(t, a, "caller")
			sippSucceeded(t, b, "callee")
			sippCheckBoxSDP(t, a, "caller", "answer")
			sippCheckBoxSDP(t, b, "callee", "offer")
			sippHears(t, callerRTP, "the caller's real socket", audiotest.PayloadPCMU, 50, sippCalleeTone)
			sippHears(t, calleeRTP, "the callee", audiotest.PayloadPCMU, 50, sippCallerTone)
			sippRelayed(t, app, 120)
			sippCallResult(t, app, "answered")
		}},
		{"unknown number", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			refused(t, app, "1999", 404)
			sippCallResult(t, app, "unavailable")
		}},
		{"unregistered extension", func(t *testing.T) {
			app := sippBox(t, caller, callee)
			refused(t, app, callee.number, 480)
			sippCallResult(t, app, "unavailable")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
