package sip

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/dtmf"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
)

// sdpVersion is the version field of an SDP's o= line.
func sdpVersion(t *testing.T, b []byte) uint64 {
	t.Helper()
	for _, line := range strings.Split(string(b), "\r\n") {
		if f := strings.Fields(strings.TrimPrefix(line, "o=")); strings.HasPrefix(line, "o=") && len(f) >= 3 {
			v, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				t.Fatalf("o= line %q", line)
			}
			return v
		}
	}
	t.Fatalf("no o= line in %q", b)
	return 0
}

func TestHold(t *testing.T) {
	tests := []struct {
		name     string
		byCaller bool // the caller holds (else the callee)
		dir      string
		wantDir  string
	}{
		{"caller sendonly", true, "sendonly", "recvonly"},
		{"callee sendonly", false, "sendonly", "recvonly"},
		{"caller inactive", true, "inactive", "inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := startFeatures(t, nil)
			a := newPhone(t, "udp", callerIP+":0")
			b := newPhone(t, "udp", calleeIP+":0")
			fe.registerAs(t, a, "1001")
			fe.registerAs(t, b, "1002")
			c := fe.connect(t, a, b, nil)
			holder, leg := c.ca, c.in
			if !tt.byCaller {
				holder, leg = c.cb, call.Channel(c.out)
			}
			before := len(holder.SDPs())
			res, dir, err := holder.Reinvite(ctxT(t, 5*time.Second), tt.dir)
			if err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("hold: %v %v", res, err)
			}
			if dir != tt.wantDir {
				t.Errorf("hold answered %s, want %s", dir, tt.wantDir)
			}
			if s := nextSignal(t, leg); s.Kind != call.SignalHold {
				t.Errorf("signal %v, want hold", s.Kind)
			}
			sdps := holder.SDPs()
			if len(sdps) < before+1 {
				t.Fatalf("no SDP in the hold's answer")
			}
			held := sdps[len(sdps)-1]
			if v0, v1 := sdpVersion(t, sdps[0]), sdpVersion(t, held); v1 <= v0 {
				t.Errorf("SDP version %d after %d: not incremented", v1, v0)
			}
			if s0, s1 := mustSDP(t, sdps[0]), mustSDP(t, held); s0.Addr != s1.Addr || s1.PTs[0] != s0.PTs[0] {
				t.Errorf("hold answer %v %v, first answer %v %v: port or codec changed", s1.Addr, s1.PTs, s0.Addr, s0.PTs)
			}

			// Held again (a refresh while held): no second signal.
			if _, _, err := holder.Reinvite(ctxT(t, 5*time.Second), tt.dir); err != nil {
				t.Fatal(err)
			}
			noSignal(t, leg, "second hold")

			dir, err = holder.Retrieve(ctxT(t, 5*time.Second))
			if err != nil || dir != "sendrecv" {
				t.Fatalf("retrieve answered %q, %v", dir, err)
			}
			if s := nextSignal(t, leg); s.Kind != call.SignalRetrieve {
				t.Errorf("signal %v, want retrieve", s.Kind)
			}
			noSignal(t, leg, "after retrieve")
		})
	}
}

func TestHoldLateOffer(t *testing.T) {
	fe := startFeatures(t, nil)
	a := newPhone(t, "udp", callerIP+":0")
	b := newPhone(t, "udp", calleeIP+":0")
	fe.registerAs(t, a, "1001")
	fe.registerAs(t, b, "1002")
	c := fe.connect(t, a, b, nil)
	// The answer in the ACK puts the call on hold: the ACK is not
	// answered, so the signal is polled for.
	res, dir, err := c.ca.ReinviteLate(ctxT(t, 5*time.Second), "sendonly")
	if err != nil || res.StatusCode != sip.StatusOK || dir != "sendrecv" {
		t.Fatalf("late re-INVITE: %v %q %v", res, dir, err)
	}
	if offer := mustSDP(t, res.Body()); !inRange(offer.Addr) || offer.PTs[0] != siptest.PCMU {
		t.Errorf("our offer %v %v: want our port and the call's codec first", offer.Addr, offer.PTs)
	}
	if s := nextSignal(t, c.in); s.Kind != call.SignalHold {
		t.Errorf("signal %v, want hold", s.Kind)
	}
	if _, err := c.ca.Retrieve(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if s := nextSignal(t, c.in); s.Kind != call.SignalRetrieve {
		t.Errorf("signal %v, want retrieve", s.Kind)
	}
}

func mustSDP(t *testing.T, b []byte) siptest.SDP {
	t.Helper()
	s, err := siptest.ParseSDP(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// registerAs registers phone p as ext.
func (fe *featEnv) registerAs(t *testing.T, p *siptest.Phone, ext string) {
	t.Helper()
	res, err := p.Register(ctxT(t, 5*time.Second), siptest.Register{
		Server: fe.udp, Ext: ext, Password: testPasswords[Extension(ext)], Algorithm: "MD5", Expires: 300,
	})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register %s: %v %v", ext, res, err)
	}
}

func TestDTMFInfo(t *testing.T) {
	fe := startFeatures(t, map[string]call.DTMFMode{"1001": call.DTMFInfo, "1002": call.DTMFInfo})
	a := newPhone(t, "udp", callerIP+":0")
	b := newPhone(t, "udp", calleeIP+":0")
	fe.registerAs(t, a, "1001")
	fe.registerAs(t, b, "1002")
	c := fe.connect(t, a, b, nil)

	// INFO legs negotiate no telephone-event.
	for who, cl := range map[string]*siptest.Call{"caller": c.ca, "callee": c.cb} {
		for _, body := range cl.SDPs() {
			if slices.Contains(mustSDP(t, body).PTs, 101) {
				t.Errorf("%s's SDP offers telephone-event: %q", who, body)
			}
		}
	}

	tests := []struct {
		name      string
		ctype     string
		body      string
		want      int
		wantDigit rune
		wantDur   time.Duration
	}{
		{"dtmf-relay", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200, '5', 160 * time.Millisecond},
		{"dtmf-relay code 11", "application/dtmf-relay", "Signal=11\r\nDuration=100\r\n", 200, '#', 100 * time.Millisecond},
		{"dtmf-relay no duration", "application/dtmf-relay", "Signal=*\r\n", 200, '*', 0},
		{"dtmf", "application/dtmf", "7", 200, '7', 0},
		{"keepalive", "", "", 200, 0, 0},
		{"unknown type", "text/plain", "hello", sip.StatusUnsupportedMediaType, 0, 0},
		{"bad signal", "application/dtmf-relay", "Signal=X\r\n", sip.StatusBadRequest, 0, 0},
		{"no signal", "application/dtmf-relay", "Duration=100\r\n", sip.StatusBadRequest, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			res, err := c.ca.SendInfoBody(ctxT(t, 5*time.Second), tt.ctype, body)
			if err != nil || res.StatusCode != tt.want {
				t.Fatalf("INFO answered %v, %v; want %d", res, err, tt.want)
			}
			if tt.wantDigit == 0 {
				noSignal(t, c.in, "INFO without a digit")
				return
			}
			s := nextSignal(t, c.in)
			if s.Kind != call.SignalDTMF || s.Digit != tt.wantDigit || s.Duration != tt.wantDur {
				t.Errorf("signal %v %q %v, want dtmf %q %v", s.Kind, s.Digit, s.Duration, tt.wantDigit, tt.wantDur)
			}
		})
	}

	t.Run("send", func(t *testing.T) {
		for _, d := range "9#" {
			if err := c.out.SendDTMF(d, 0); err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
		}
		if got := b.InfoDigits(); string(got) != "9#" {
			t.Errorf("callee got INFO digits %q, want 9#", string(got))
		}
		if err := c.out.SendDTMF('x', 0); !errors.Is(err, dtmf.ErrBadDigit) {
			t.Errorf("bad digit: %v", err)
		}
	})
}

func TestDTMFRFC4733(t *testing.T) {
	fe := startFeatures(t, nil)
	a := newPhone(t, "udp", callerIP+":0")
	b := newPhone(t, "udp", calleeIP+":0")
	fe.registerAs(t, a, "1001")
	fe.registerAs(t, b, "1002")
	c := fe.connect(t, a, b, nil)

	// Events from the caller: one signal per key press, however many
	// packets carry it.
	for _, d := range "12" {
		if err := a.RTP.SendEvent(ctxT(t, 5*time.Second), c.ca.Remote(), 101, d, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		s := nextSignal(t, c.in)
		if s.Kind != call.SignalDTMF || s.Digit != d || s.Duration != 100*time.Millisecond {
			t.Errorf("signal %v %q %v, want dtmf %q 100ms", s.Kind, s.Digit, s.Duration, d)
		}
	}
	noSignal(t, c.in, "after two key presses")

	// A digit sent to the callee: one event, one timestamp, an end bit.
	if err := c.out.SendDTMF('4', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var evs []siptest.Event
	eventually(t, 5*time.Second, "events of 4 at the callee", func() bool {
		evs = evs[:0]
		for _, e := range b.RTP.Events(101) {
			if e.Digit == '4' {
				evs = append(evs, e)
			}
		}
		return len(evs) > 0 && evs[len(evs)-1].End && len(evs) >= 7
	})
	ends := 0
	for i, e := range evs {
		if e.Timestamp != evs[0].Timestamp {
			t.Errorf("event packet %d timestamp %d, first %d", i, e.Timestamp, evs[0].Timestamp)
		}
		if e.End {
			ends++
		}
	}
	if ends < 1 || !evs[0].Marker {
		t.Errorf("events %+v: want a marker first and an end", evs)
	}
}

func TestDTMFInband(t *testing.T) {
	fe := startFeatures(t, map[string]call.DTMFMode{"1001": call.DTMFInband, "1002": call.DTMFInband})
	a := newPhone(t, "udp", callerIP+":0")
	b := newPhone(t, "udp", calleeIP+":0")
	fe.registerAs(t, a, "1001")
	fe.registerAs(t, b, "1002")
	c := fe.connect(t, a, b, nil)
	for _, body := range c.ca.SDPs() {
		if slices.Contains(mustSDP(t, body).PTs, 101) {
			t.Errorf("in-band leg offered telephone-event: %q", body)
		}
	}

	pcm, err := dtmf.Tone('8', 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	pcm = append(pcm, make([]int16, 1600)...) // 200 ms of silence after it
	var frames [][]byte
	for off := 0; off+160 <= len(pcm); off += 160 {
		f := make([]byte, 160)
		for i, v := range pcm[off : off+160] {
			f[i] = siptest.EncodeUlaw(v)
		}
		frames = append(frames, f)
	}
	if err := a.RTP.SendFrames(ctxT(t, 5*time.Second), c.ca.Remote(), siptest.PCMU, frames); err != nil {
		t.Fatal(err)
	}
	if s := nextSignal(t, c.in); s.Kind != call.SignalDTMF || s.Digit != '8' {
		t.Errorf("signal %v %q, want dtmf 8", s.Kind, s.Digit)
	}
	noSignal(t, c.in, "after one tone")

	// A digit sent in-band: the callee hears its two frequencies.
	b.RTP.Reset()
	if err := c.out.SendDTMF('1', 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	pkts := waitPackets(t, b, 10, "tone at the callee")
	var got []int16
	for _, p := range pkts {
		for _, x := range p.Payload {
			got = append(got, siptest.DecodeUlaw(x))
		}
	}
	low, high, _ := dtmf.Frequencies('1')
	if l, h := siptest.ToneLevel(got, low), siptest.ToneLevel(got, high); l < 0.2 || h < 0.2 {
		t.Errorf("tone levels %.2f at %v Hz, %.2f at %v Hz: not a 1", l, low, h, high)
	}
}

func TestReferBlind(t *testing.T) {
	tests := []struct {
		name     string
		byCaller bool
		cause    call.Cause
		want     []int
	}{
		{"caller transfers, success", true, call.CauseNormal, []int{100, 180, 200}},
		{"callee transfers, busy", false, call.CauseBusy, []int{100, 180, 486}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := startFeatures(t, nil)
			a := newPhone(t, "udp", callerIP+":0")
			b := newPhone(t, "udp", calleeIP+":0")
			fe.registerAs(t, a, "1001")
			fe.registerAs(t, b, "1002")
			c := fe.connect(t, a, b, nil)
			ok200, err := c.ca.WaitFinal(ctxT(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []interface{ GetHeader(string) sip.Header }{c.cb.Invite(), ok200} {
				allow, sup := m.GetHeader("Allow"), m.GetHeader("Supported")
				if allow == nil || !strings.Contains(allow.Value(), "REFER") || !strings.Contains(allow.Value(), "INFO") ||
					sup == nil || !strings.Contains(sup.Value(), "replaces") {
					t.Errorf("Allow %v, Supported %v: want REFER, INFO and replaces", allow, sup)
				}
			}
			from, leg := c.ca, c.in
			if !tt.byCaller {
				from, leg = c.cb, call.Channel(c.out)
			}
			res, err := from.Refer(ctxT(t, 5*time.Second), "1003", nil)
			if err != nil || res.StatusCode != sip.StatusAccepted {
				t.Fatalf("REFER answered %v, %v", res, err)
			}
			s := nextSignal(t, leg)
			if s.Kind != call.SignalTransfer || s.Transfer == nil || s.Transfer.Target != "1003" || s.Transfer.Replaces != "" {
				t.Fatalf("signal %+v, want a blind transfer to 1003", s)
			}
			eventually(t, 5*time.Second, "NOTIFY 100", func() bool { return len(from.ReferStatuses()) >= 1 })
			s.Transfer.Progress(call.TransferRinging, call.CauseUnknown)
			s.Transfer.Progress(call.TransferDone, tt.cause)
			s.Transfer.Progress(call.TransferDone, call.CauseNormal) // after the end: ignored
			got, err := from.WaitReferDone(ctxT(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("NOTIFY statuses %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReferNoSub(t *testing.T) {
	fe := startFeatures(t, nil)
	a := newPhone(t, "udp", callerIP+":0")
	b := newPhone(t, "udp", calleeIP+":0")
	fe.registerAs(t, a, "1001")
	fe.registerAs(t, b, "1002")
	c := fe.connect(t, a, b, nil)
	res, err := c.ca.Refer(ctxT(t, 5*time.Second), "1003", nil, sip.NewHeader("Refer-Sub", "false"))
	if err != nil || res.StatusCode != sip.StatusAccepted {
		t.Fatalf("REFER answered %v, %v", res, err)
	}
	if h := res.GetHeader("Refer-Sub"); h == nil || h.Value() != "false" {
		t.Errorf("202 Refer-Sub %v, want false", h)
	}
	s := nextSignal(t, c.in)
	if s.Kind != call.SignalTransfer || s.Transfer.Target != "1003" {
		t.Fatalf("signal %+v", s)
	}
	s.Transfer.Progress(call.TransferDone, call.CauseNormal)
	// A NOTIFY would be sent before a later request's answer: an INFO
	// round trip orders the check.
	if _, err := c.ca.SendInfoBody(ctxT(t, 5*time.Second), "", nil); err != nil {
		t.Fatal(err)
	}
	if got := c.ca.ReferStatuses(); len(got) != 0 {
		t.Errorf("NOTIFYs %v despite Refer-Sub: false", got)
	}
}

func TestReferAttended(t *testing.T) {
	fe := startFeatures(t, nil)
	a := newPhone(t, "udp", callerIP+":0")
	b := newPhone(t, "udp", calleeIP+":0")
	fe.registerAs(t, a, "1001")
	fe.registerAs(t, b, "1002")
	first := fe.connect(t, a, b, nil)
	second := fe.connect(t, a, b, nil)

	res, err := second.ca.Refer(ctxT(t, 5*time.Second), "1002", first.ca)
	if err != nil || res.StatusCode != sip.StatusAccepted {
		t.Fatalf("REFER answered %v, %v", res, err)
	}
	s := nextSignal(t, second.in)
	if s.Kind != call.SignalTransfer || s.Transfer.Replaces != first.in.ID() {
		t.Fatalf("signal %+v, want a transfer replacing %s", s, first.in.ID())
	}
	s.Transfer.Progress(call.TransferDone, call.CauseNormal)
	if got, err := second.ca.WaitReferDone(ctxT(t, 5*time.Second)); err != nil || !slices.Equal(got, []int{100, 200}) {
		t.Errorf("NOTIFY statuses %v, %v", got, err)
	}

	tests := []struct {
		name    string
		referTo string
		want    int
	}{
		{"unknown dialog", "<sip:1002@127.0.0.1?Replaces=" + url.QueryEscape("nope@x;to-tag=a;from-tag=b") + ">", sip.StatusCallTransactionDoesNotExists},
		{"no target", "<sip:127.0.0.1>", sip.StatusBadRequest},
		{"garbage", "<http://x", sip.StatusBadRequest},
		{"missing", "", sip.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.REFER, sip.Uri{})
			if tt.referTo != "" {
				req.AppendHeader(sip.NewHeader("Refer-To", tt.referTo))
			}
			res, err := second.ca.Do(ctxT(t, 5*time.Second), req)
			if err != nil || res.StatusCode != tt.want {
				t.Errorf("REFER answered %v, %v; want %d", res, err, tt.want)
			}
			noSignal(t, second.in, "refused REFER")
		})
	}
}

func TestInviteReplaces(t *testing.T) {
	tests := []struct {
		name      string
		byCallee  bool // the callee's phone replaces (else the caller's)
		unknown   bool
		earlyOnly bool
	}{
		{"caller names the in leg", false, false, false},
		{"callee names the out leg, early-only", true, false, true},
		{"unknown dialog", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := startFeatures(t, nil)
			a := newPhone(t, "udp", callerIP+":0")
			b := newPhone(t, "udp", calleeIP+":0")
			fe.registerAs(t, a, "1001")
			fe.registerAs(t, b, "1002")
			c := fe.connect(t, a, b, nil)
			p, ext, named, want := a, "1001", c.ca, c.in.ID()
			if tt.byCallee {
				p, ext, named, want = b, "1002", c.cb, c.out.ID()
			}
			value := named.ReplacesValue()
			if tt.unknown {
				value = "nope@x;to-tag=a;from-tag=b"
			}
			if tt.earlyOnly {
				value += ";early-only"
			}
			nc := fe.invite(t, p, ext, "1002", func(d *siptest.Dial) {
				d.Headers = append(d.Headers, sip.NewHeader("Replaces", value))
			})
			if tt.unknown {
				res, err := nc.WaitFinal(ctxT(t, 5*time.Second))
				if res == nil || res.StatusCode != sip.StatusCallTransactionDoesNotExists {
					t.Fatalf("final %v, %v; want 481", res, err)
				}
				return
			}
			var rc replaceCall
			select {
			case rc = <-fe.mgr.reps:
			case <-time.After(5 * time.Second):
				t.Fatal("Replace not called")
			}
			if rc.replaced != want || rc.earlyOnly != tt.earlyOnly || rc.from.Number != ext {
				t.Errorf("Replace(%s, from %s, early-only %v), want %s from %s early-only %v",
					rc.replaced, rc.from.Number, rc.earlyOnly, want, ext, tt.earlyOnly)
			}
			rc.in.Hangup(call.CauseRejected)
			if res, _ := nc.WaitFinal(ctxT(t, 5*time.Second)); res == nil || res.StatusCode != sip.StatusGlobalDecline {
				t.Errorf("replacing INVITE final %v, want 603", res)
			}
		})
	}
}

func TestParseDTMFInfo(t *testing.T) {
	tests := []struct {
		ctype, body string
		digit       rune
		dur         time.Duration
		res         infoResult
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, infoDigit},
		{"Application/DTMF-Relay; charset=x", "signal = a\nduration= 80", 'A', 80 * time.Millisecond, infoDigit},
		{"application/dtmf-relay", "Signal=10\r\n", '*', 0, infoDigit},
		{"application/dtmf-relay", "Signal=15\r\n", 'D', 0, infoDigit},
		{"application/dtmf-relay", "Signal=16\r\n", 0, 0, infoBad},
		{"application/dtmf-relay", "Signal=5\r\nDuration=-1\r\n", 0, 0, infoBad},
		{"application/dtmf-relay", "garbage", 0, 0, infoBad},
		{"application/dtmf", " # ", '#', 0, infoDigit},
		{"application/dtmf", "55", 0, 0, infoBad},
		{"application/sdp", "v=0", 0, 0, infoUnsupported},
		{"", "5", 0, 0, infoUnsupported},
		{"application/dtmf-relay", "  \r\n", 0, 0, infoEmpty},
	}
	for _, tt := range tests {
		d, dur, res := parseDTMFInfo(tt.ctype, []byte(tt.body))
		if d != tt.digit || dur != tt.dur || res != tt.res {
			t.Errorf("parseDTMFInfo(%q, %q) = %q %v %d, want %q %v %d", tt.ctype, tt.body, d, dur, res, tt.digit, tt.dur, tt.res)
		}
	}
}

func TestParseReferTo(t *testing.T) {
	rep := url.QueryEscape("abc@host;to-tag=T1;from-tag=F1")
	tests := []struct {
		in       string
		target   string
		replaces *dialogID
		bad      bool
	}{
		{"<sip:1003@10.0.0.1>", "1003", nil, false},
		{"sip:1003@10.0.0.1;transport=udp", "1003", nil, false},
		{`"Bob" <sip:1003@10.0.0.1;user=phone>;param=x`, "1003", nil, false},
		{"<sip:1002@box?Replaces=" + rep + ">", "1002", &dialogID{callID: "abc@host", toTag: "T1", fromTag: "F1"}, false},
		{"<sip:1002@box?Replaces=abc%3Bto-tag%3DT1%3Bfrom-tag%3DF1%3Bearly-only>", "1002",
			&dialogID{callID: "abc", toTag: "T1", fromTag: "F1", earlyOnly: true}, false},
		{"<tel:+861012345>", "+861012345", nil, false},
		{"<sip:box>", "", nil, true},
		{"<sip:1002@box?Replaces=abc%3Bto-tag%3DT1>", "", nil, true},
		{"<sip:1002@box", "", nil, true},
		{"mailto:x@y", "", nil, true},
		{"", "", nil, true},
	}
	for _, tt := range tests {
		r, err := parseReferTo(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("parseReferTo(%q) error %v, want bad %v", tt.in, err, tt.bad)
			continue
		}
		if tt.bad {
			continue
		}
		if r.target != tt.target || (r.replaces == nil) != (tt.replaces == nil) ||
			(r.replaces != nil && *r.replaces != *tt.replaces) {
			t.Errorf("parseReferTo(%q) = %q %+v, want %q %+v", tt.in, r.target, r.replaces, tt.target, tt.replaces)
		}
	}
}

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("11"))
	f.Add("text/plain; x=\"", []byte("Signal="))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		d, dur, res := parseDTMFInfo(ctype, body)
		if res == infoDigit {
			if _, ok := dtmf.Code(d); !ok {
				t.Fatalf("digit %q from %q", d, body)
			}
			if dur < 0 {
				t.Fatalf("duration %v", dur)
			}
		} else if d != 0 || dur != 0 {
			t.Fatalf("result %d with digit %q %v", res, d, dur)
		}
	})
}

func FuzzParseReferTo(f *testing.F) {
	f.Add("<sip:1002@box?Replaces=abc%3Bto-tag%3DT1%3Bfrom-tag%3DF1>")
	f.Add(`"x" <sip:1003@h>;a=b`)
	f.Add("sip:1003@h;transport=tcp")
	f.Fuzz(func(t *testing.T, v string) {
		r, err := parseReferTo(v)
		if err != nil {
			return
		}
		if r.target == "" && r.replaces == nil {
			t.Fatalf("%q: accepted with neither target nor Replaces", v)
		}
		if r.replaces != nil && (r.replaces.callID == "" || r.replaces.toTag == "" || r.replaces.fromTag == "") {
			t.Fatalf("%q: incomplete Replaces %+v", v, r.replaces)
		}
	})
}
