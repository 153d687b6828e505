package call

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/pbx/event"
)

// fakeLeg is a Channel/Outgoing driven by the test.
type fakeLeg struct {
	id     ChannelID
	dev    Device
	events chan EventKind
	sig    chan Signal
	mode   DTMFMode
	sent   chan rune

	mu         sync.Mutex
	done       chan struct{}
	cause      Cause
	answered   bool
	progress   []bool
	answeredCh chan struct{}
	refused    string // the reason Refuse gave
}

func newLeg(id string, dev Device) *fakeLeg {
	return &fakeLeg{id: ChannelID(id), dev: dev, events: make(chan EventKind, 4), done: make(chan struct{}), answeredCh: make(chan struct{}),
		sig: make(chan Signal, 4), sent: make(chan rune, 16)}
}

func (l *fakeLeg) ID() ChannelID            { return l.id }
func (l *fakeLeg) Device() Device           { return l.dev }
func (l *fakeLeg) Address() string          { return "127.0.0.1:5060" }
func (l *fakeLeg) Codec() string            { return "PCMU" }
func (l *fakeLeg) Media() *rtp.Endpoint     { return nil }
func (l *fakeLeg) Events() <-chan EventKind { return l.events }
func (l *fakeLeg) Done() <-chan struct{}    { return l.done }
func (l *fakeLeg) Signals() <-chan Signal   { return l.sig }
func (l *fakeLeg) DTMFMode() DTMFMode       { return l.mode }
func (l *fakeLeg) SendDTMF(d rune, _ time.Duration) error {
	l.sent <- d
	return nil
}
func (l *fakeLeg) Progress(early bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.progress = append(l.progress, early)
	return nil
}
func (l *fakeLeg) Answer(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.answered {
		l.answered = true
		close(l.answeredCh)
	}
	return nil
}
func (l *fakeLeg) Hangup(c Cause) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
	default:
		l.cause = c
		close(l.done)
	}
}

// Refuse records why the box refused the call, then hangs up.
func (l *fakeLeg) Refuse(c Cause, reason string) {
	l.mu.Lock()
	l.refused = reason
	l.mu.Unlock()
	l.Hangup(c)
}

func (l *fakeLeg) Cause() Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

type fakeDialer struct {
	legs []*fakeLeg
	err  error
}

func (d *fakeDialer) Dial(ctx context.Context, t Target, from Party, offer Channel) ([]Outgoing, error) {
	out := make([]Outgoing, len(d.legs))
	for i, l := range d.legs {
		out[i] = l
	}
	return out, d.err
}

type fakeBridger struct {
	mu      sync.Mutex
	bridged int
}

func (b *fakeBridger) Bridge(x, y Channel) (func(), error) {
	b.mu.Lock()
	b.bridged++
	b.mu.Unlock()
	return func() {}, nil
}

type fakeDirectory map[string]Target

func (d fakeDirectory) Lookup(n string, _ Origin) (Target, error) {
	t, ok := d[n]
	if !ok {
		return Target{}, ErrNotFound
	}
	return t, nil
}

type fakeRecords struct {
	mu   sync.Mutex
	cdrs []store.CDR
}

func (r *fakeRecords) AddCDR(c store.CDR) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cdrs = append(r.cdrs, c)
	return nil
}

type rig struct {
	m       *Manager
	dialer  *fakeDialer
	records *fakeRecords
	bus     *event.Bus
	sub     *event.Subscription
}

func newRig(t *testing.T, legs ...*fakeLeg) *rig {
	r := &rig{dialer: &fakeDialer{legs: legs}, records: &fakeRecords{}, bus: event.NewBus(nil)}
	r.sub = r.bus.Subscribe(100)
	r.m = NewManager(Options{
		Dialer:    r.dialer,
		Bridger:   &fakeBridger{},
		Directory: fakeDirectory{"1002": {Device: Device{DeviceSIP, "1002"}, Party: Party{Number: "1002"}, MaxCalls: 1}},
		Records:   r.records,
		Bus:       r.bus,
		Limits:    Limits{RingTimeout: 200 * time.Millisecond},
	})
	return r
}

// cdr waits for the call to end and returns its record.
func (r *rig) cdr(t *testing.T) store.CDR {
	t.Helper()
	done := make(chan struct{})
	go func() { r.m.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("call did not end")
	}
	if len(r.records.cdrs) != 1 {
		t.Fatalf("%d CDRs, want 1", len(r.records.cdrs))
	}
	return r.records.cdrs[0]
}

func waitDone(t *testing.T, l *fakeLeg) {
	t.Helper()
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("leg %s not hung up", l.id)
	}
}

func TestAnsweredCall(t *testing.T) {
	in := newLeg("in", Device{DeviceSIP, "1001"})
	out := newLeg("out", Device{DeviceSIP, "1002"})
	r := newRig(t, out)
	r.m.Incoming(in, Party{Number: "1001"}, "1002", 2)
	out.events <- EventRinging
	out.events <- EventAnswered
	// The caller hangs up after the answer.
	select {
	case <-in.answeredCh:
	case <-time.After(5 * time.Second):
		t.Fatal("caller not answered")
	}
	in.Hangup(CauseNormal)
	waitDone(t, out)
	c := r.cdr(t)
	if c.Result != "answered" || c.Cause != "normal_clearing" || c.HangupBy != "caller" || c.Answer.IsZero() || len(c.Legs) != 2 {
		t.Fatalf("CDR = %+v", c)
	}
	if len(in.progress) == 0 || in.progress[0] {
		t.Errorf("caller progress %v, want a 180 first", in.progress)
	}
	var types []string
	for len(r.sub.C()) > 0 {
		types = append(types, (<-r.sub.C()).Type)
	}
	want := []string{"call.started", "call.ringing", "call.answered", "call.ended"}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}
}

func TestUnansweredOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		dial       string
		legCauses  []Cause // each leg ends with this (Unknown: keeps ringing)
		dialErr    error
		cancel     bool
		wantResult string
		wantCause  Cause
	}{
		{"busy", "1002", []Cause{CauseBusy}, nil, false, "busy", CauseBusy},
		{"busy beats unavailable", "1002", []Cause{CauseUnavailable, CauseBusy}, nil, false, "busy", CauseBusy},
		{"no answer", "1002", []Cause{CauseUnknown}, nil, false, "no_answer", CauseNoAnswer},
		{"not registered", "1002", nil, ErrUnavailable, false, "unavailable", CauseUnavailable},
		{"unknown number", "9999", nil, nil, false, "unavailable", CauseNotFound},
		{"caller cancels", "1002", []Cause{CauseUnknown}, nil, true, "cancelled", CauseCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var legs []*fakeLeg
			for i := range tc.legCauses {
				legs = append(legs, newLeg(string(rune('a'+i)), Device{DeviceSIP, "1002"}))
			}
			r := newRig(t, legs...)
			r.dialer.err = tc.dialErr
			in := newLeg("in", Device{DeviceSIP, "1001"})
			r.m.Incoming(in, Party{Number: "1001"}, tc.dial, 0)
			for i, c := range tc.legCauses {
				if c != CauseUnknown {
					legs[i].Hangup(c)
				}
			}
			if tc.cancel {
				in.Hangup(CauseCancelled)
			}
			c := r.cdr(t)
			if c.Result != tc.wantResult || c.Cause != tc.wantCause.String() {
				t.Fatalf("CDR result %s cause %s, want %s %s", c.Result, c.Cause, tc.wantResult, tc.wantCause)
			}
			waitDone(t, in)
			if in.Cause() != tc.wantCause {
				t.Errorf("caller hung up with %v, want %v", in.Cause(), tc.wantCause)
			}
			for _, l := range legs {
				waitDone(t, l)
			}
		})
	}
}

func TestForkingAnswerElsewhere(t *testing.T) {
	a := newLeg("desk", Device{DeviceSIP, "1002"})
	b := newLeg("soft", Device{DeviceSIP, "1002"})
	r := newRig(t, a, b)
	in := newLeg("in", Device{DeviceSIP, "1001"})
	r.m.Incoming(in, Party{Number: "1001"}, "1002", 0)
	b.events <- EventAnswered
	waitDone(t, a)
	if a.Cause() != CauseAnsweredElsewhere {
		t.Fatalf("other contact ended with %v", a.Cause())
	}
	b.Hangup(CauseNormal)
	waitDone(t, in)
	if c := r.cdr(t); c.Result != "answered" || c.HangupBy != "callee" {
		t.Fatalf("CDR %+v", c)
	}
}

func TestCalleeAtItsLimitIsBusy(t *testing.T) {
	first := newLeg("first", Device{DeviceSIP, "1002"})
	r := newRig(t, first)
	in1 := newLeg("in1", Device{DeviceSIP, "1001"})
	r.m.Incoming(in1, Party{Number: "1001"}, "1002", 0)
	first.events <- EventAnswered
	select {
	case <-in1.answeredCh: // the callee is counted in the call from dial to hang-up
	case <-time.After(5 * time.Second):
		t.Fatal("first call not answered")
	}
	in2 := newLeg("in2", Device{DeviceSIP, "1003"})
	r.m.Incoming(in2, Party{Number: "1003"}, "1002", 0)
	waitDone(t, in2)
	if in2.Cause() != CauseBusy {
		t.Fatalf("second caller got %v, want busy", in2.Cause())
	}
	in1.Hangup(CauseNormal)
	r.m.Wait()
}

func TestSerialsAreUniqueAndSortable(t *testing.T) {
	var s serials
	now := time.Date(2026, 11, 21, 9, 30, 12, 345678000, time.UTC)
	a, b := s.next(now), s.next(now)
	if a != "20261121093012345678" || b != "20261121093012345679" {
		t.Fatalf("serials %s %s", a, b)
	}
	if c := s.next(now.Add(time.Second)); c <= b {
		t.Fatalf("later serial %s not after %s", c, b)
	}
}

func TestCauseResult(t *testing.T) {
	if got := CauseNormal.Result(true); got != "answered" {
		t.Fatal(got)
	}
	if got := CauseMediaTimeout.Result(false); got != "failed" {
		t.Fatal(got)
	}
}

func TestShutdownHangsUpCalls(t *testing.T) {
	out := newLeg("out", Device{DeviceSIP, "1002"})
	r := newRig(t, out)
	in := newLeg("in", Device{DeviceSIP, "1001"})
	r.m.Incoming(in, Party{Number: "1001"}, "1002", 0)
	out.events <- EventAnswered
	select {
	case <-in.answeredCh:
	case <-time.After(5 * time.Second):
		t.Fatal("not answered")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if in.Cause() != CauseShutdown || out.Cause() != CauseShutdown {
		t.Fatalf("causes %v %v, want shutdown", in.Cause(), out.Cause())
	}
	late := newLeg("late", Device{DeviceSIP, "1003"})
	r.m.Incoming(late, Party{Number: "1003"}, "1002", 0)
	waitDone(t, late)
	if late.Cause() != CauseShutdown {
		t.Fatalf("a call after shutdown: %v", late.Cause())
	}
}

// TestAnotherDeviceOfTheTargetAnswers: 1002's desk phone and its browser
// seat ring together; the seat answers. Both devices showed ringing, the
// seat is in use during the call and the call-limit slot moved to it, so
// when the call ends every count is back to zero.
func TestAnotherDeviceOfTheTargetAnswers(t *testing.T) {
	phone, seat := Device{DeviceSIP, "1002"}, Device{DeviceSeat, "1002"}
	desk, browser := newLeg("desk", phone), newLeg("seat", seat)
	r := newRig(t, desk, browser)
	devices := NewDevices(nil)
	r.m.opts.Devices = devices
	in := newLeg("in", Device{DeviceSIP, "1001"})
	r.m.Incoming(in, Party{Number: "1001"}, "1002", 2)
	desk.events <- EventRinging
	browser.events <- EventRinging
	waitFor(t, "both devices ring", func() bool {
		return devices.State(phone) == DeviceRinging && devices.State(seat) == DeviceRinging
	})
	browser.events <- EventAnswered
	waitDone(t, desk)
	if desk.Cause() != CauseAnsweredElsewhere {
		t.Fatalf("the desk phone ended with %v", desk.Cause())
	}
	waitFor(t, "the seat is in use, the desk phone not ringing", func() bool {
		return devices.State(seat) == DeviceInUse && devices.State(phone) != DeviceRinging
	})
	if n, m := r.m.Active(seat), r.m.Active(phone); n != 1 || m != 0 {
		t.Fatalf("active calls: seat %d, desk phone %d; want 1, 0", n, m)
	}
	in.Hangup(CauseNormal)
	waitDone(t, browser)
	c := r.cdr(t)
	if c.Result != "answered" || len(c.Legs) != 3 {
		t.Fatalf("CDR = %+v", c)
	}
	if n, m := r.m.Active(seat), r.m.Active(phone); n != 0 || m != 0 {
		t.Fatalf("after the call: seat %d, desk phone %d active", n, m)
	}
	if st := devices.State(seat); st == DeviceInUse || st == DeviceRinging {
		t.Fatalf("the seat is still %v", st)
	}
}
