package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/sipp"
)

// The trunk tests put SIPp where the carriers are, each on its own loopback
// address, and check what each carrier was sent: the Request-URI, the
// caller number in From or P-Asserted-Identity, the answers to its digest
// challenges, and that nothing reaches it that must not. Desk phones are
// baresip (they prove the audio) or SIPp as extension 1002 (signalling).
// Each test starts its own box and applies its configuration as code.

// trunkEntry is a trunks: entry of kind (ip or register) for a carrier at
// ip:port; extra are more of its keys ("key: value").
func trunkEntry(name, kind, ip string, port int, extra ...string) string {
	s := fmt.Sprintf("  %s:\n    kind: %s\n    host: %s\n    port: %d\n", name, kind, ip, port)
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

// ipTrunk is an IP trunk's entry.
func ipTrunk(name, ip string, port int, extra ...string) string {
	return trunkEntry(name, "ip", ip, port, extra...)
}

// TestTrunkInboundDID: a carrier on an IP trunk calls the box's DID, which
// rings extension 1001 (baresip, auto-answer): the phone hears the
// carrier's tone. A caller on the inbound blacklist is refused before
// anything rings; a number no DID names gets 404 (no inbound default).
func TestTrunkInboundDID(t *testing.T) {
	port := sipp.FreeUDPPort(t, carrierInIP)
	app, _ := trunkBox(t, "version: 1\ntrunks:\n"+ipTrunk("carrier-in", carrierInIP, port)+
		fmt.Sprintf("dids:\n  %q:\n    trunk: carrier-in\n    destination: {type: extension, target: \"1001\"}\n    description: main line\n", trunkDID)+
		fmt.Sprintf("blacklist:\n  - {number: %q, direction: inbound, description: nuisance caller}\n", blockedMobile))
	phone := featurePhones(t, app, true, map[string]float64{"1001": deskTone})["1001"]

	t.Run("DID rings the extension and the phone hears the carrier", func(t *testing.T) {
		c := carrierCall(t, app, "sipp-carrier-call.xml", carrierInIP, port, trunkDID, carrierCaller,
			map[string]string{"PCAP_FILE": tonePcap(t, carrierTone, 3*time.Second)})
		phone.WaitOutput("Call established", 15*time.Second)
		if !sippOK(t, c, "carrier calling the DID") {
			return
		}
		carrierSaw(t, c, "carrier", "answer_addr", "127.0.0.1") // the box anchors the media
		phone.WaitOutput("terminated", 10*time.Second)
		heardTone(t, "1001 answering the DID", phone.Received(), carrierTone)
		waitMetric(t, app, "pbx_trunk_calls_total", map[string]string{"trunk": "carrier-in", "direction": "inbound", "result": "answered"}, 1, 5*time.Second)
	})

	t.Run("blacklisted caller refused before anything rings", func(t *testing.T) {
		rang := phone.Count("ncoming call")
		c := carrierCall(t, app, "sipp-carrier-refused.xml", carrierInIP, port, trunkDID, blockedMobile, refusedSubst(603, 403))
		if sippOK(t, c, "blacklisted caller") {
			t.Logf("the blacklisted caller was refused with %s", sippLogged(c, "final"))
		}
		if n := phone.Count("ncoming call"); n != rang {
			t.Errorf("1001 was rung for a blacklisted caller (%d incoming calls, before %d)", n, rang)
		}
		waitMetric(t, app, "pbx_calls_blocked_total", map[string]string{"reason": "blacklist"}, 1, 5*time.Second)
	})

	t.Run("unknown DID gets 404", func(t *testing.T) {
		rang := phone.Count("ncoming call")
		c := carrierCall(t, app, "sipp-carrier-refused.xml", carrierInIP, port, "02169999999", carrierCaller, refusedSubst(404, 404))
		sippOK(t, c, "call to an unknown DID")
		if n := phone.Count("ncoming call"); n != rang {
			t.Errorf("1001 was rung for an unknown DID")
		}
	})
}

// mobileRoute is the outbound route the tests dial mobiles through: 9 and
// a mobile number, the 9 stripped, the main line presented.
func mobileRoute(trunks string) string {
	return fmt.Sprintf("  mobile:\n    order: 10\n    patterns: [\"91[3-9]XXXXXXXXX\"]\n    strip: 1\n    trunks: [%s]\n    caller_number: {mode: fixed, number: %q}\n", trunks, trunkMainLine)
}

// TestTrunkOutboundIP: desk phone 1001 (baresip) dials 9 and a mobile; the
// carrier behind the IP trunk gets the number without the 9 and the route's
// caller number, answers and plays its tone, which the phone hears.
func TestTrunkOutboundIP(t *testing.T) {
	port := sipp.FreeUDPPort(t, carrierOutIP)
	carrier := startCarrier(t, "sipp-carrier-answer.xml", carrierOutIP, port, answerSubst(t, sentMobile, trunkMainLine))
	app, _ := trunkBox(t, "version: 1\ntrunks:\n"+ipTrunk("carrier-out", carrierOutIP, port)+"outbound_routes:\n"+mobileRoute("carrier-out"))
	phone := featurePhones(t, app, false, map[string]float64{"1001": deskTone})["1001"]

	phone.Dial(dialledMobile)
	phone.WaitOutput("Call established", 15*time.Second)
	time.Sleep(3 * time.Second) // three seconds of the carrier's tone (its pcap is 3 s long)
	phone.Hangup()
	if !sippOK(t, carrier, "carrier") {
		return
	}
	carrierSaw(t, carrier, "carrier", "ruri_user", sentMobile)
	carrierSaw(t, carrier, "carrier", "verdict", "ok")
	carrierSaw(t, carrier, "carrier", "offer_addr", "127.0.0.1")
	t.Logf("the carrier saw From user %q, P-Asserted-Identity user %q", sippLogged(carrier, "from_user"), sippLogged(carrier, "pai_user"))
	heardTone(t, "1001 calling out", phone.Received(), carrierTone)
	waitMetric(t, app, "pbx_trunk_calls_total", map[string]string{"trunk": "carrier-out", "direction": "outbound", "result": "answered"}, 1, 5*time.Second)
}

// TestTrunkRegistration: the box registers with a carrier that challenges
// REGISTER with 401 and grants 5 s, so it registers again within the test;
// an outbound call through that trunk is challenged with 401 as well and
// answered with the trunk's credentials.
func TestTrunkRegistration(t *testing.T) {
	const user, secret = "02161239999", "carrier-secret-32"
	port := sipp.FreeUDPPort(t, carrierRegIP)
	carrier := startCarrier(t, "sipp-carrier-registrar.xml", carrierRegIP, port,
		map[string]string{"TRUNK_USER": user, "TRUNK_SECRET": secret, "EXPECT_CALLED": sentMobile})
	app, admin := trunkBox(t, "version: 1\ntrunks:\n"+
		trunkEntry("carrier-reg", "register", carrierRegIP, port, "username: \""+user+"\"", "secret: \""+secret+"\"", "expires: 60")+
		"outbound_routes:\n"+mobileRoute("carrier-reg"))
	carrier.WaitLog(t, "register_auth=", 15*time.Second)
	carrierSaw(t, carrier, "registrar", "register_auth", "ok")
	carrierSaw(t, carrier, "registrar", "register_user", user)
	carrier.WaitLog(t, "reregistered=1", 12*time.Second)
	v := waitTrunk(t, admin, "carrier-reg", "registered", 5*time.Second, func(v trunkStatusView) bool { return v.Registered })
	t.Logf("carrier-reg status after re-registration: %+v", v)

	c := extCall(t, app, dialledMobile, "sipp-call.xml", nil)
	sippOK(t, c, "1002 calling out through the registration trunk")
	if !sippOK(t, carrier, "registrar") {
		return
	}
	carrierSaw(t, carrier, "registrar", "invite_auth", "ok")
	carrierSaw(t, carrier, "registrar", "ruri_user", sentMobile)
}

// TestTrunkFailover: a route with trunks [fo-a, fo-b]. fo-a answering 503
// moves the call to fo-b, which answers; fo-a answering 486 does not: the
// caller hears busy and fo-b never gets an INVITE.
func TestTrunkFailover(t *testing.T) {
	portA, portB := sipp.FreeUDPPort(t, carrierAIP), sipp.FreeUDPPort(t, carrierBIP)
	doc := "version: 1\ntrunks:\n" + ipTrunk("fo-a", carrierAIP, portA) + ipTrunk("fo-b", carrierBIP, portB) +
		"outbound_routes:\n" + mobileRoute("fo-a, fo-b")

	a := startCarrier(t, "sipp-carrier-reject.xml", carrierAIP, portA, map[string]string{"FINAL_STATUS": "503"})
	b := startCarrier(t, "sipp-carrier-answer.xml", carrierBIP, portB, answerSubst(t, sentMobile, trunkMainLine))
	app, _ := trunkBox(t, doc)

	t.Run("503 fails over", func(t *testing.T) {
		c := extCall(t, app, dialledMobile, "sipp-call.xml", nil)
		sippOK(t, c, "1002 calling out")
		if sippOK(t, a, "fo-a (503)") {
			carrierSaw(t, a, "fo-a", "ruri_user", sentMobile)
		}
		if sippOK(t, b, "fo-b") {
			carrierSaw(t, b, "fo-b", "verdict", "ok")
		}
	})

	t.Run("486 does not", func(t *testing.T) {
		a := startCarrier(t, "sipp-carrier-reject.xml", carrierAIP, portA, map[string]string{"FINAL_STATUS": "486"})
		b := startCarrier(t, "sipp-carrier-answer.xml", carrierBIP, portB, answerSubst(t, sentMobile, trunkMainLine))
		extRefused(t, app, dialledMobile, 486)
		if sippOK(t, a, "fo-a (486)") {
			carrierSaw(t, a, "fo-a", "refused", "486")
		}
		noInvite(t, b, "fo-b after a 486")
	})
}

// TestTrunkCallerNumberByRegion: the route presents a number of the pool
// in the callee's city, else in its province, else any; the regions come
// from the table imported through the API, the pool's numbers carry none
// of their own.
func TestTrunkCallerNumberByRegion(t *testing.T) {
	const shenzhen, guangzhou, beijing = "075588880001", "02088880001", "01088880001"
	port := sipp.FreeUDPPort(t, carrierOutIP)
	app, admin := trunkBox(t, "version: 1\ntrunks:\n"+ipTrunk("carrier-out", carrierOutIP, port)+
		"caller_pools:\n  main:\n    numbers:\n"+
		fmt.Sprintf("      - {number: %q}\n      - {number: %q}\n      - {number: %q}\n", shenzhen, guangzhou, beijing)+
		"outbound_routes:\n  landline:\n    order: 10\n    patterns: [\"0Z.\"]\n    trunks: [carrier-out]\n    caller_number: {mode: pool_region, pool: main}\n")
	importRegions(t, admin, "prefix,province,city\n0755,广东,深圳\n020,广东,广州\n0769,广东,东莞\n010,北京,北京\n0571,浙江,杭州\n")

	for _, tc := range []struct {
		name, callee, callerRE string
	}{
		{"same city", "075512345678", shenzhen},
		{"same province", "076912345678", "(" + shenzhen + "|" + guangzhou + ")"},
		{"another city", "01012345678", beijing},
		{"nowhere near", "057112345678", "(" + shenzhen + "|" + guangzhou + "|" + beijing + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			carrier := startCarrier(t, "sipp-carrier-answer.xml", carrierOutIP, port, answerSubst(t, tc.callee, tc.callerRE))
			c := extCall(t, app, tc.callee, "sipp-call.xml", nil)
			sippOK(t, c, "1002 calling "+tc.callee)
			if sippOK(t, carrier, "carrier") {
				carrierSaw(t, carrier, "carrier", "verdict", "ok")
			}
			t.Logf("calling %s the carrier saw From %q, P-Asserted-Identity %q", tc.callee,
				sippLogged(carrier, "from_user"), sippLogged(carrier, "pai_user"))
		})
	}
}

// TestTrunkOutboundPolicy: with the outbound lock on outside business
// hours (and the hours closed all of today and tomorrow), a blacklisted
// number, an international number and an ordinary mobile are refused with
// 403 and never reach the carrier; the emergency number 110 goes out.
func TestTrunkOutboundPolicy(t *testing.T) {
	port := sipp.FreeUDPPort(t, carrierOutIP)
	carrier := startCarrier(t, "sipp-carrier-answer.xml", carrierOutIP, port, answerSubst(t, "110", "[0-9]+"))
	// Open only on a day that is neither today nor tomorrow, in UTC.
	day := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	app, _ := trunkBox(t, "version: 1\ntrunks:\n"+ipTrunk("carrier-out", carrierOutIP, port)+
		"outbound_routes:\n"+mobileRoute("carrier-out")+
		"  international:\n    order: 20\n    patterns: [\"00.\"]\n    trunks: [carrier-out]\n    caller_number: {mode: fixed, number: \""+trunkMainLine+"\"}\n"+
		"  emergency:\n    order: 5\n    patterns: [\"1XX\"]\n    trunks: [carrier-out]\n    caller_number: {mode: fixed, number: \""+trunkMainLine+"\"}\n"+
		fmt.Sprintf("blacklist:\n  - {number: %q, direction: outbound, description: never call}\n", blockedMobile)+
		fmt.Sprintf("outbound_policy:\n  lock_outside_hours: true\n  business_hours: {days: [%s], from: \"09:00\", to: \"18:00\", timezone: UTC}\n", day))

	for _, tc := range []struct{ name, dial, reason string }{
		{"blacklisted", "9" + blockedMobile, "blacklist"},
		{"international", "0044201234567", "international"},
		{"locked outside hours", dialledMobile, "locked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extRefused(t, app, tc.dial, 403)
			waitMetric(t, app, "pbx_calls_blocked_total", map[string]string{"reason": tc.reason}, 1, 5*time.Second)
		})
	}
	t.Run("emergency goes out during the lock", func(t *testing.T) {
		c := extCall(t, app, "110", "sipp-call.xml", nil)
		sippOK(t, c, "1002 calling 110")
		if sippOK(t, carrier, "carrier") {
			carrierSaw(t, carrier, "carrier", "ruri_user", "110")
		}
		for _, uri := range invitesTo(carrier) {
			if !strings.HasPrefix(uri, "sip:110@") {
				t.Errorf("the carrier got an INVITE for %s", uri)
			}
		}
	})
}

// TestTrunkTollFraud: an INVITE to an outside number from an address that
// is neither a phone nor a carrier is challenged and, with credentials the
// box does not know, refused; a carrier's call to an outside number is
// refused too, and never goes out again through another trunk.
func TestTrunkTollFraud(t *testing.T) {
	inPort, outPort := sipp.FreeUDPPort(t, carrierInIP), sipp.FreeUDPPort(t, carrierOutIP)
	carrier := startCarrier(t, "sipp-carrier-answer.xml", carrierOutIP, outPort, answerSubst(t, sentMobile, "[0-9]+"))
	app, _ := trunkBox(t, "version: 1\ntrunks:\n"+ipTrunk("carrier-in", carrierInIP, inPort)+ipTrunk("carrier-out", carrierOutIP, outPort)+
		fmt.Sprintf("dids:\n  %q:\n    trunk: carrier-in\n    destination: {type: extension, target: \"1001\"}\n", trunkDID)+
		"outbound_routes:\n"+mobileRoute("carrier-out"))

	t.Run("unauthenticated INVITE", func(t *testing.T) {
		p := sipp.Start(t, sipp.Options{
			Scenario: sippScenario(t, "sipp-carrier-fraud.xml"), Substitute: refusedSubst(403, 401),
			Remote: app.SIPAddr(), IP: fraudIP, Service: dialledMobile, Keys: map[string]string{"caller": trunkCallerExt},
			User: trunkCallerExt, Password: "guessed-wrong", AuthURI: "sip:" + dialledMobile + "@" + app.SIPAddr(),
			Timeout: 30 * time.Second,
		})
		reportOnFailure(t, p, "the INVITE from "+fraudIP)
		if sippOK(t, p, "INVITE without valid credentials") {
			t.Logf("challenged with %s, then refused with %s", sippLogged(p, "challenge"), sippLogged(p, "final"))
		}
	})
	for _, dial := range []string{dialledMobile, sentMobile} {
		t.Run("from the trunk to "+dial, func(t *testing.T) {
			c := carrierCall(t, app, "sipp-carrier-refused.xml", carrierInIP, inPort, dial, carrierCaller, refusedSubst(404, 403))
			sippOK(t, c, "carrier-in calling "+dial)
		})
	}
	noInvite(t, carrier, "carrier-out")
}

// TestTrunkOptionsDownAndUp: a carrier that stops answering OPTIONS is
// marked down (API status and pbx_trunk_up) and up again when it answers.
func TestTrunkOptionsDownAndUp(t *testing.T) {
	port := sipp.FreeUDPPort(t, carrierPingIP)
	// This carrier answers OPTIONS for 8 s, then SIPp ends (its -timeout).
	first := sipp.Start(t, sipp.Options{
		Scenario: sippScenario(t, "sipp-carrier-answer.xml"), Substitute: answerSubst(t, sentMobile, "[0-9]+"),
		IP: carrierPingIP, Port: port, Timeout: 8 * time.Second, Args: []string{"-m", carrierRuns},
	})
	first.WaitListening(t, 5*time.Second)
	reportOnFailure(t, first, "the first carrier")
	app, admin := trunkBox(t, "version: 1\ntrunks:\n"+ipTrunk("keepalive", carrierPingIP, port, "options_interval: 5"))
	up := func(v trunkStatusView) bool { return v.OptionsUp && v.State == "up" }

	waitTrunk(t, admin, "keepalive", "up", 8*time.Second, up)
	waitMetric(t, app, "pbx_trunk_up", map[string]string{"trunk": "keepalive"}, 1, 5*time.Second)

	select {
	case <-first.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("the first carrier did not stop\n%s", first.Report())
	}
	// Three OPTIONS unanswered, 5 s apart, each waited for up to 5 s.
	v := waitTrunk(t, admin, "keepalive", "down", 45*time.Second, func(v trunkStatusView) bool { return !v.OptionsUp })
	if v.State != "down" {
		t.Errorf("a trunk not answering OPTIONS has state %q, want down", v.State)
	}
	waitMetric(t, app, "pbx_trunk_up", map[string]string{"trunk": "keepalive"}, 0, 5*time.Second)

	startCarrier(t, "sipp-carrier-answer.xml", carrierPingIP, port, answerSubst(t, sentMobile, "[0-9]+"))
	waitTrunk(t, admin, "keepalive", "up again", 20*time.Second, up)
	waitMetric(t, app, "pbx_trunk_up", map[string]string{"trunk": "keepalive"}, 1, 5*time.Second)
}
