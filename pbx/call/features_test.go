package call

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/event"
)

// deviceDialer makes a fresh leg each time a device is dialed, and lets the
// test find it.
type deviceDialer struct {
	mu    sync.Mutex
	legs  map[string][]*fakeLeg
	fresh chan *fakeLeg
	down  map[string]bool // devices with nothing registered
	// What each device was dialed with, last.
	targets map[string]Target
	froms   map[string]Party
}

func newDeviceDialer() *deviceDialer {
	return &deviceDialer{legs: map[string][]*fakeLeg{}, fresh: make(chan *fakeLeg, 16), down: map[string]bool{},
		targets: map[string]Target{}, froms: map[string]Party{}}
}

func (d *deviceDialer) Dial(ctx context.Context, t Target, from Party, offer Channel) ([]Outgoing, error) {
	dev := t.Device
	d.mu.Lock()
	defer d.mu.Unlock()
	d.targets[dev.ID], d.froms[dev.ID] = t, from
	if d.down[dev.ID] {
		return nil, ErrUnavailable
	}
	l := newLeg("out-"+dev.ID, dev)
	d.legs[dev.ID] = append(d.legs[dev.ID], l)
	d.fresh <- l
	return []Outgoing{l}, nil
}

// next waits for the next leg dialed and checks its device.
func (d *deviceDialer) next(t *testing.T, dev string) *fakeLeg {
	t.Helper()
	select {
	case l := <-d.fresh:
		if l.dev.ID != dev {
			t.Fatalf("dialed %s, want %s", l.dev.ID, dev)
		}
		return l
	case <-time.After(5 * time.Second):
		t.Fatalf("%s was not dialed", dev)
	}
	return nil
}

// recBridger records which pairs are bridged now.
type recBridger struct {
	mu      sync.Mutex
	bridged map[[2]ChannelID]bool
}

func (b *recBridger) Bridge(x, y Channel) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := [2]ChannelID{x.ID(), y.ID()}
	b.bridged[k] = true
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.bridged, k)
	}, nil
}

func (b *recBridger) joined(x, y *fakeLeg) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bridged[[2]ChannelID{x.id, y.id}] || b.bridged[[2]ChannelID{y.id, x.id}]
}

// fakeFeatures keeps extension settings in memory.
type fakeFeatures struct {
	mu      sync.Mutex
	dir     fakeDirectory
	groups  map[string]string
	origins []lookup // every Lookup, in order
	// handedOut counts outside targets not yet given back (Target.Done).
	handedOut int
}

func (f *fakeFeatures) FeatureCodes() (FeatureCodes, error) {
	return FeatureCodes{ForwardAlwaysOn: "*72", ForwardAlwaysOff: "*73", ForwardBusyOn: "*90", ForwardBusyOff: "*91",
		ForwardNoAnswerOn: "*52", ForwardNoAnswerOff: "*53", DNDOn: "*78", DNDOff: "*79", GroupPickup: "*8", DirectedPickup: "**"}, nil
}

var errBadTarget = errors.New("no such extension")

func (f *fakeFeatures) SetForward(ext string, kind ForwardKind, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.dir[to]; to != "" && (!ok || to == ext) {
		return errBadTarget
	}
	t := f.dir[ext]
	switch kind {
	case ForwardAlways:
		t.Forward.Always = to
	case ForwardBusy:
		t.Forward.Busy = to
	case ForwardNoAnswer:
		t.Forward.NoAnswer = to
	}
	f.dir[ext] = t
	return nil
}

func (f *fakeFeatures) SetDND(ext string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.dir[ext]
	t.DND = on
	f.dir[ext] = t
	return nil
}

func (f *fakeFeatures) PickupGroup(ext string) (string, error) { return f.groups[ext], nil }

// Lookup resolves extensions, and numbers starting with 0 as outside
// numbers through two trunks with the caller number 01088880000: refused
// to calls from a trunk and to extension 1005. Every lookup's origin is
// kept.
func (f *fakeFeatures) Lookup(n string, o Origin) (Target, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.origins = append(f.origins, lookup{n, o})
	if len(n) < 5 || n[0] != '0' {
		return f.dir.Lookup(n, o)
	}
	switch {
	case o.Trunk != "":
		return Target{}, &BlockedError{Reason: "trunk_origin"}
	case o.Extension == "1005":
		return Target{}, &BlockedError{Reason: "not_allowed"}
	}
	f.handedOut++
	return Target{Device: Device{DevicePSTN, n}, Party: Party{Number: n}, Trunks: []string{"t1", "t2"},
		Caller: &Party{Number: "01088880000"}, Done: func() {
			f.mu.Lock()
			f.handedOut--
			f.mu.Unlock()
		}}, nil
}

type lookup struct {
	number string
	origin Origin
}

func (f *fakeFeatures) lookups() []lookup {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]lookup(nil), f.origins...)
}

// fakePlayer records what plays to which endpoint... legs have no media in
// these tests, so it records nothing; hold is checked through the bridge.

type frig struct {
	m       *Manager
	dialer  *deviceDialer
	bridger *recBridger
	records *fakeRecords
	feat    *fakeFeatures
	sub     *event.Subscription
}

func newFRig(t *testing.T) *frig {
	dir := fakeDirectory{}
	for _, n := range []string{"1001", "1002", "1003", "1004", "1005"} {
		dir[n] = Target{Device: Device{DeviceSIP, n}, Party: Party{Number: n}, MaxCalls: 2}
	}
	r := &frig{dialer: newDeviceDialer(), bridger: &recBridger{bridged: map[[2]ChannelID]bool{}}, records: &fakeRecords{},
		feat: &fakeFeatures{dir: dir, groups: map[string]string{}}}
	bus := event.NewBus(nil)
	r.sub = bus.Subscribe(200)
	r.m = NewManager(Options{
		Dialer: r.dialer, Bridger: r.bridger, Directory: r.feat, Records: r.records, Bus: bus,
		Devices: NewDevices(nil), Features: r.feat,
		Limits: Limits{RingTimeout: 300 * time.Millisecond},
	})
	return r
}

func (r *frig) setTarget(n string, f func(*Target)) {
	r.feat.mu.Lock()
	defer r.feat.mu.Unlock()
	t := r.feat.dir[n]
	f(&t)
	r.feat.dir[n] = t
}

// call places a call from ext to number and returns the caller's leg.
func (r *frig) call(from, to string) *fakeLeg {
	in := newLeg("in-"+from+"-"+to, Device{DeviceSIP, from})
	r.m.Incoming(in, Party{Number: from}, to, 0)
	return in
}

func (r *frig) wait(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	go func() { r.m.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("calls did not end")
	}
}

func waitAnswered(t *testing.T, l *fakeLeg) {
	t.Helper()
	select {
	case <-l.answeredCh:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s not answered", l.id)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// connected sets up 1001 → 1002 answered and returns both legs.
func (r *frig) connected(t *testing.T) (*fakeLeg, *fakeLeg) {
	t.Helper()
	in := r.call("1001", "1002")
	out := r.dialer.next(t, "1002")
	out.events <- EventAnswered
	waitAnswered(t, in)
	waitFor(t, "bridge", func() bool { return r.bridger.joined(in, out) })
	return in, out
}

func TestForwarding(t *testing.T) {
	t.Run("always", func(t *testing.T) {
		r := newFRig(t)
		r.setTarget("1002", func(t *Target) { t.Forward.Always = "1003" })
		in := r.call("1001", "1002")
		out := r.dialer.next(t, "1003")
		out.events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
		if c := r.records.cdrs[0]; c.Result != "answered" || c.Legs[1].Device != "sip:1003" {
			t.Fatalf("CDR %+v", c)
		}
	})
	t.Run("busy and DND", func(t *testing.T) {
		r := newFRig(t)
		r.setTarget("1002", func(t *Target) { t.DND = true; t.Forward.Busy = "1004" })
		in := r.call("1001", "1002")
		r.dialer.next(t, "1004").events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
	})
	t.Run("DND without forward is busy", func(t *testing.T) {
		r := newFRig(t)
		r.setTarget("1002", func(t *Target) { t.DND = true })
		in := r.call("1001", "1002")
		waitDone(t, in)
		if in.Cause() != CauseBusy {
			t.Fatalf("cause %v", in.Cause())
		}
		r.wait(t)
	})
	t.Run("busy response", func(t *testing.T) {
		r := newFRig(t)
		r.setTarget("1002", func(t *Target) { t.Forward.Busy = "1003" })
		in := r.call("1001", "1002")
		r.dialer.next(t, "1002").Hangup(CauseBusy)
		r.dialer.next(t, "1003").events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
	})
	t.Run("no answer", func(t *testing.T) {
		r := newFRig(t)
		r.setTarget("1002", func(t *Target) { t.Forward.NoAnswer = "1003"; t.Forward.NoAnswerAfter = 50 * time.Millisecond })
		in := r.call("1001", "1002")
		first := r.dialer.next(t, "1002")
		second := r.dialer.next(t, "1003")
		waitDone(t, first)
		if first.Cause() != CauseNoAnswer {
			t.Errorf("first leg cause %v", first.Cause())
		}
		select {
		case <-in.Done():
			t.Fatal("caller hung up at the no-answer forward")
		default:
		}
		second.events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
		if n := len(r.records.cdrs[0].Legs); n != 3 {
			t.Errorf("%d CDR legs, want 3", n)
		}
	})
	t.Run("unregistered goes to the no-answer forward", func(t *testing.T) {
		r := newFRig(t)
		r.dialer.down["1002"] = true
		r.setTarget("1002", func(t *Target) { t.Forward.NoAnswer = "1003" })
		in := r.call("1001", "1002")
		r.dialer.next(t, "1003").events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
	})
	t.Run("loop stops", func(t *testing.T) {
		r := newFRig(t)
		r.setTarget("1002", func(t *Target) { t.Forward.Always = "1003" })
		r.setTarget("1003", func(t *Target) { t.Forward.Always = "1002" })
		in := r.call("1001", "1002")
		// 1002 → 1003 → back to 1002: the chain stops at 1003, which rings.
		r.dialer.next(t, "1003").events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
	})
	t.Run("chain limit", func(t *testing.T) {
		r := newFRig(t)
		for _, p := range [][2]string{{"1001", "1002"}, {"1002", "1003"}, {"1003", "1004"}, {"1004", "1005"}, {"1005", "1001"}} {
			r.setTarget(p[0], func(t *Target) { t.Forward.Always = p[1] })
		}
		in := newLeg("in", Device{DeviceSIP, "1009"})
		r.m.Incoming(in, Party{Number: "1009"}, "1001", 0)
		// Five hops at most: 1001 1002 1003 1004 1005 — 1005 rings.
		r.dialer.next(t, "1005").events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
	})
}

func TestFeatureCodesChangeSettings(t *testing.T) {
	r := newFRig(t)
	for _, tc := range []struct {
		dial  string
		check func(Target) bool
		cause Cause
	}{
		{"*721003", func(t Target) bool { return t.Forward.Always == "1003" }, CauseNormal},
		{"*73", func(t Target) bool { return t.Forward.Always == "" }, CauseNormal},
		{"*901004", func(t Target) bool { return t.Forward.Busy == "1004" }, CauseNormal},
		{"*521005", func(t Target) bool { return t.Forward.NoAnswer == "1005" }, CauseNormal},
		{"*78", func(t Target) bool { return t.DND }, CauseNormal},
		{"*79", func(t Target) bool { return !t.DND }, CauseNormal},
		{"*729999", func(t Target) bool { return t.Forward.Always == "" }, CauseNormal}, // refused: error tone
	} {
		in := r.call("1002", tc.dial)
		waitDone(t, in)
		if !in.answered || in.Cause() != tc.cause {
			t.Errorf("%s: answered %v cause %v", tc.dial, in.answered, in.Cause())
		}
		tg, _ := r.feat.Lookup("1002", Origin{})
		if !tc.check(tg) {
			t.Errorf("%s: settings now %+v", tc.dial, tg)
		}
	}
	r.wait(t)
	if len(r.records.cdrs) != 0 {
		t.Errorf("feature codes wrote %d CDRs", len(r.records.cdrs))
	}
}

func TestPickup(t *testing.T) {
	for _, code := range []string{"*8", "**1002"} {
		t.Run(code, func(t *testing.T) {
			r := newFRig(t)
			r.feat.groups["1003"] = "sales"
			r.setTarget("1002", func(t *Target) { t.PickupGroup = "sales" })
			in := r.call("1001", "1002")
			ringing := r.dialer.next(t, "1002")
			waitFor(t, "ringing", func() bool { return r.m.ringingFor(func(ringInfo) bool { return true }) != nil })
			picker := r.call("1003", code)
			waitDone(t, ringing)
			if ringing.Cause() != CauseAnsweredElsewhere {
				t.Errorf("ringing leg cause %v", ringing.Cause())
			}
			waitAnswered(t, picker)
			waitAnswered(t, in)
			waitFor(t, "bridge", func() bool { return r.bridger.joined(in, picker) })
			picker.Hangup(CauseNormal)
			r.wait(t)
			c := r.records.cdrs[0]
			if c.Result != "answered" || c.Legs[len(c.Legs)-1].Role != "pickup" {
				t.Fatalf("CDR %+v", c)
			}
		})
	}
	t.Run("nothing to pick up", func(t *testing.T) {
		r := newFRig(t)
		r.feat.groups["1003"] = "sales"
		picker := r.call("1003", "*8")
		waitDone(t, picker)
		if picker.Cause() != CauseUnavailable {
			t.Errorf("cause %v", picker.Cause())
		}
	})
}

func TestHoldUnbridgesAndRetrieveRejoins(t *testing.T) {
	r := newFRig(t)
	in, out := r.connected(t)
	in.sig <- Signal{Kind: SignalHold}
	waitFor(t, "unbridged", func() bool { return !r.bridger.joined(in, out) })
	in.sig <- Signal{Kind: SignalRetrieve}
	waitFor(t, "bridged again", func() bool { return r.bridger.joined(in, out) })
	in.Hangup(CauseNormal)
	r.wait(t)
	var types []string
	for len(r.sub.C()) > 0 {
		types = append(types, (<-r.sub.C()).Type)
	}
	if !contains(types, "call.held") || !contains(types, "call.retrieved") {
		t.Errorf("events %v", types)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestDTMFInterworking(t *testing.T) {
	r := newFRig(t)
	in, out := r.connected(t)
	// No media endpoints here, so nothing is native: the digit is sent.
	out.mode = DTMFInfo
	in.sig <- Signal{Kind: SignalDTMF, Digit: '5'}
	select {
	case d := <-out.sent:
		if d != '5' {
			t.Fatalf("sent %q", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("digit not sent to the other leg")
	}
	in.Hangup(CauseNormal)
	r.wait(t)
}

func TestNativeDTMF(t *testing.T) {
	x, y := newLeg("x", Device{}), newLeg("y", Device{})
	if nativeDTMF(x, y) {
		t.Error("legs without media are native")
	}
	x.mode, y.mode = DTMFInband, DTMFInband
	if !nativeDTMF(x, y) {
		t.Error("two in-band legs are not native")
	}
}

func TestBlindTransfer(t *testing.T) {
	type progress struct {
		s TransferState
		c Cause
	}
	run := func(t *testing.T, answer bool) (*frig, *fakeLeg, *fakeLeg, *fakeLeg, []progress) {
		r := newFRig(t)
		in, out := r.connected(t)
		var mu sync.Mutex
		var got []progress
		tr := &Transfer{Target: "1003", Progress: func(s TransferState, c Cause) {
			mu.Lock()
			got = append(got, progress{s, c})
			mu.Unlock()
		}}
		// 1002 (the callee) transfers 1001 to 1003.
		out.sig <- Signal{Kind: SignalTransfer, Transfer: tr}
		target := r.dialer.next(t, "1003")
		target.events <- EventRinging
		if answer {
			target.events <- EventAnswered
		} else {
			target.Hangup(CauseBusy)
		}
		waitFor(t, "transfer done", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) > 0 && got[len(got)-1].s == TransferDone
		})
		mu.Lock()
		defer mu.Unlock()
		return r, in, out, target, append([]progress(nil), got...)
	}
	t.Run("answered", func(t *testing.T) {
		r, in, out, target, got := run(t, true)
		if got[len(got)-1].c != CauseNormal {
			t.Fatalf("progress %v", got)
		}
		waitFor(t, "bridge", func() bool { return r.bridger.joined(in, target) })
		waitDone(t, out) // the transferor is hung up after the grace
		in.Hangup(CauseNormal)
		r.wait(t)
		c := r.records.cdrs[0]
		if len(r.records.cdrs) != 1 || c.Legs[len(c.Legs)-1].Role != "transfer_target" {
			t.Fatalf("CDRs %+v", r.records.cdrs)
		}
	})
	t.Run("the transferor hangs up and is rung back", func(t *testing.T) {
		r, in, out, _, got := run(t, false)
		if got[len(got)-1].c != CauseBusy {
			t.Fatalf("progress %v", got)
		}
		out.Hangup(CauseNormal)
		back := r.dialer.next(t, "1002")
		back.events <- EventAnswered
		waitFor(t, "bridged to the recall", func() bool { return r.bridger.joined(in, back) })
		in.Hangup(CauseNormal)
		r.wait(t)
		if c := r.records.cdrs[0]; c.Legs[len(c.Legs)-1].Role != "recall" {
			t.Fatalf("CDR %+v", c)
		}
	})
	t.Run("busy target reconnects", func(t *testing.T) {
		r, in, out, _, got := run(t, false)
		if got[len(got)-1].c != CauseBusy {
			t.Fatalf("progress %v", got)
		}
		waitFor(t, "bridge again", func() bool { return r.bridger.joined(in, out) })
		in.Hangup(CauseNormal)
		r.wait(t)
	})
}

// attendedTransfer has from ask to transfer its other party to the call
// of leg replaces, and waits for the transfer to succeed.
func attendedTransfer(t *testing.T, from *fakeLeg, replaces ChannelID) {
	t.Helper()
	done := make(chan Cause, 1)
	from.sig <- Signal{Kind: SignalTransfer, Transfer: &Transfer{Replaces: replaces, Progress: func(s TransferState, cause Cause) {
		if s == TransferDone {
			done <- cause
		}
	}}}
	select {
	case cause := <-done:
		if cause != CauseNormal {
			t.Fatalf("transfer ended %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no transfer result")
	}
}

func TestAttendedTransfer(t *testing.T) {
	r := newFRig(t)
	a, b := r.connected(t) // 1001 → 1002
	// 1002 consults 1003.
	consult := r.call("1002", "1003")
	c := r.dialer.next(t, "1003")
	c.events <- EventAnswered
	waitAnswered(t, consult)
	attendedTransfer(t, b, consult.id)
	waitFor(t, "1001 joined with 1003", func() bool { return r.bridger.joined(a, c) })
	waitDone(t, b)
	waitDone(t, consult)
	a.Hangup(CauseNormal)
	r.wait(t)
	if len(r.records.cdrs) != 2 {
		t.Fatalf("%d CDRs", len(r.records.cdrs))
	}
}

func TestReplaceAnsweredLeg(t *testing.T) {
	r := newFRig(t)
	a, b := r.connected(t)
	w := newLeg("w", Device{DeviceSIP, "1004"})
	r.m.Replace(w, Party{Number: "1004"}, b.id, false)
	waitAnswered(t, w)
	waitDone(t, b)
	waitFor(t, "bridge", func() bool { return r.bridger.joined(a, w) })
	// early-only on an answered call is refused.
	x := newLeg("x", Device{DeviceSIP, "1005"})
	r.m.Replace(x, Party{Number: "1005"}, w.id, true)
	waitDone(t, x)
	a.Hangup(CauseNormal)
	r.wait(t)
}

// TestAttendedTransferOfACallerLeg: the party handed over is the caller
// of the consultation call; it goes on in the kept call and is not hung up
// when the consultation call ends.
func TestAttendedTransferOfACallerLeg(t *testing.T) {
	r := newFRig(t)
	a, b := r.connected(t) // 1001 → 1002
	z := r.call("1003", "1002")
	b2 := r.dialer.next(t, "1002")
	b2.events <- EventAnswered
	waitAnswered(t, z)
	attendedTransfer(t, b, b2.id)
	waitFor(t, "1001 joined with 1003", func() bool { return r.bridger.joined(a, z) })
	waitDone(t, b2)
	waitDone(t, b)
	select {
	case <-z.Done():
		t.Fatalf("the handed-over caller was hung up: %v", z.Cause())
	case <-time.After(100 * time.Millisecond):
	}
	z.Hangup(CauseNormal)
	r.wait(t)
	waitDone(t, a)
}

func (f *fakeFeatures) outstanding() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handedOut
}
