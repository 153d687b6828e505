package seat

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/dtmf"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/prometheus/client_golang/prometheus"
)

const offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 8 126\r\n"

// fakePeer stands in for a browser's WebRTC peer.
type fakePeer struct {
	onState func(webrtc.State)

	mu      sync.Mutex
	recv    func([]byte)
	sent    [][]byte
	closed  bool
	cands   []webrtc.Candidate
	quality webrtc.Quality
}

func (p *fakePeer) AddCandidate(c webrtc.Candidate) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.Candidate == "bad" {
		return errors.New("bad candidate")
	}
	p.cands = append(p.cands, c)
	return nil
}
func (p *fakePeer) Format() webrtc.Format {
	return webrtc.Format{Codec: codec.PCMU, DTMF: 126, HasDTMF: true}
}
func (p *fakePeer) SetReceiver(fn func([]byte)) { p.mu.Lock(); p.recv = fn; p.mu.Unlock() }
func (p *fakePeer) WriteRTP(b []byte) error {
	p.mu.Lock()
	p.sent = append(p.sent, append([]byte(nil), b...))
	p.mu.Unlock()
	return nil
}
func (p *fakePeer) Quality() webrtc.Quality { p.mu.Lock(); defer p.mu.Unlock(); return p.quality }
func (p *fakePeer) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return nil
}
func (p *fakePeer) receiver() func([]byte) { p.mu.Lock(); defer p.mu.Unlock(); return p.recv }
func (p *fakePeer) isClosed() bool         { p.mu.Lock(); defer p.mu.Unlock(); return p.closed }

type fakeMedia struct {
	mu    sync.Mutex
	peers []*fakePeer
	fail  bool
	// block, when set, holds the next Answer (once) until it is closed;
	// entered is told when that Answer has started, blocked is its peer.
	block   chan struct{}
	entered chan struct{}
	blocked *fakePeer
}

func (m *fakeMedia) Answer(offer string, onState func(webrtc.State)) (Peer, string, error) {
	if m.fail {
		return nil, "", errors.New("no G.711")
	}
	p := &fakePeer{onState: onState}
	m.mu.Lock()
	block := m.block
	m.block = nil
	if block != nil {
		m.blocked = p
	}
	m.peers = append(m.peers, p)
	m.mu.Unlock()
	if block != nil {
		m.entered <- struct{}{}
		<-block
	}
	return p, "answer-sdp", nil
}

func (m *fakeMedia) last() *fakePeer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peers[len(m.peers)-1]
}

type fakeDir struct {
	mu     sync.Mutex
	ringOn map[string]string
}

func (d *fakeDir) Owned(user string) ([]Extension, error) {
	switch user {
	case "alice":
		return []Extension{{Number: "1001", Name: "Alice", RingOn: "both", MaxCalls: 2}, {Number: "1005", Name: "Alice 2"}}, nil
	case "bob":
		return []Extension{{Number: "1002", Name: "Bob"}}, nil
	}
	return nil, nil
}

func (d *fakeDir) SetRingOn(number, ringOn, _ string) error {
	if ringOn != "both" && ringOn != "phone" && ringOn != "seat" {
		return errors.New("must be both, phone or seat")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ringOn[number] = ringOn
	return nil
}

type incoming struct {
	ch     call.Channel
	from   call.Party
	dialed string
	limit  int
}

type fakeCalls struct{ c chan incoming }

func (f fakeCalls) Incoming(in call.Channel, from call.Party, dialed string, limit int) {
	f.c <- incoming{in, from, dialed, limit}
}

// page is one fake softphone page's socket.
type page struct {
	t    *testing.T
	conn *Conn
	msgs chan map[string]any

	mu     sync.Mutex
	killed bool
}

func (p *page) send(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	p.conn.Handle(b)
}

// next returns the next message of type typ, skipping others.
func (p *page) next(typ string) map[string]any {
	p.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-p.msgs:
			if m["type"] == typ {
				return m
			}
		case <-deadline:
			p.t.Fatalf("no %s message", typ)
		}
	}
}

// until returns the first seat.state for which ok holds.
func (p *page) until(ok func(seat, callState string) bool) map[string]any {
	p.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-p.msgs:
			if m["type"] != "seat.state" {
				continue
			}
			cs := ""
			if c, _ := m["call"].(map[string]any); c != nil {
				cs, _ = c["state"].(string)
			}
			if ok(m["seat"].(map[string]any)["state"].(string), cs) {
				return m
			}
		case <-deadline:
			p.t.Fatal("the expected seat.state never came")
		}
	}
}

func (p *page) isKilled() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.killed }

type fixture struct {
	t       *testing.T
	r       *Registry
	media   *fakeMedia
	dir     *fakeDir
	calls   fakeCalls
	devices *call.Devices
	reg     *prometheus.Registry

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	m, err := rtp.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pool, err := rtp.NewPortPool(rtp.PoolConfig{IP: netip.MustParseAddr("127.0.0.1"),
		Ports: config.PortRange{First: 42000, Last: 42099}, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, media: &fakeMedia{}, dir: &fakeDir{ringOn: map[string]string{}},
		calls: fakeCalls{c: make(chan incoming, 4)}, devices: call.NewDevices(nil),
		reg: prometheus.NewRegistry(), now: time.Unix(1_800_000_000, 0)}
	f.r, err = New(Options{Media: f.media, Pool: pool, Directory: f.dir, Calls: f.calls,
		Devices: f.devices, Registerer: f.reg, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.r.Close)
	return f
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) page(user string) *page {
	p := &page{t: f.t, msgs: make(chan map[string]any, 64)}
	p.conn = f.r.Connect(user, "127.0.0.9", func(v any) bool {
		b, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		select {
		case p.msgs <- m:
			return true
		default:
			return false
		}
	}, func() { p.mu.Lock(); p.killed = true; p.mu.Unlock() })
	return p
}

// online takes user's page online and connects its media.
func (f *fixture) online(user string) (*page, *fakePeer) {
	f.t.Helper()
	p := f.page(user)
	p.send(map[string]any{"type": "seat.online", "id": "1", "sdp": offer})
	if a := p.next("seat.answer"); a["sdp"] != "answer-sdp" {
		f.t.Fatalf("answer = %v", a)
	}
	if r := p.next("seat.result"); r["ok"] != true {
		f.t.Fatalf("online refused: %v", r)
	}
	peer := f.media.last()
	peer.onState(webrtc.StateConnected)
	p.until(func(s, _ string) bool { return s == "idle" })
	return p, peer
}

func TestSeatOnlineAndRung(t *testing.T) {
	f := newFixture(t)
	p, peer := f.online("alice")
	dev := call.Device{Kind: call.DeviceSeat, ID: "1001"}
	if st := f.devices.State(dev); st != call.DeviceIdle {
		t.Fatalf("device state = %v, want idle", st)
	}
	if !f.r.Available("1001") {
		t.Fatal("seat not available")
	}
	if got := seatsGauge(t, f.reg, "idle"); got != 1 {
		t.Fatalf("pbx_seats{state=idle} = %v", got)
	}

	legs, err := f.r.Dial(context.Background(), call.Target{Device: dev, Party: call.Party{Number: "1001"}}, call.Party{Number: "1002", Name: "Bob"}, nil)
	if err != nil || len(legs) != 1 {
		t.Fatalf("Dial = %v, %v", legs, err)
	}
	l := legs[0]
	if ev := <-l.Events(); ev != call.EventRinging {
		t.Fatalf("first event %v", ev)
	}
	m := p.until(func(s, c string) bool { return s == "ringing" && c == "ringing" })
	if r := m["call"].(map[string]any)["remote"].(map[string]any); r["number"] != "1002" || r["name"] != "Bob" {
		t.Fatalf("remote = %v", r)
	}
	// Ringing: a second call is not offered to the seat.
	if _, err := f.r.Dial(context.Background(), call.Target{Device: dev}, call.Party{Number: "1003"}, nil); !errors.Is(err, call.ErrUnavailable) {
		t.Fatalf("second Dial err = %v", err)
	}

	p.send(map[string]any{"type": "seat.answer_call"})
	if ev := <-l.Events(); ev != call.EventAnswered {
		t.Fatalf("event %v, want answered", ev)
	}
	m = p.until(func(s, c string) bool { return s == "in_call" && c == "talking" })
	if m["call"].(map[string]any)["answered"].(float64) == 0 {
		t.Fatal("answered time missing")
	}

	// The page's dialpad: RFC 4733 events through the peer become a digit.
	recv := peer.receiver()
	if recv == nil {
		t.Fatal("no receiver on the peer during the call")
	}
	pkts, err := dtmf.EventPackets('7', 100*time.Millisecond, 126)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range pkts {
		recv(b)
	}
	if sig := nextSignal(t, l); sig.Kind != call.SignalDTMF || sig.Digit != '7' {
		t.Fatalf("signal %+v, want digit 7", sig)
	}
	// A digit the call sends the seat goes out as events with the seat's PT.
	if err := l.SendDTMF('5', 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	peer.mu.Lock()
	sent := peer.sent
	peer.mu.Unlock()
	if len(sent) == 0 || sent[0][1]&0x7f != 126 {
		t.Fatalf("sent %d packets, first PT %v", len(sent), sent)
	}

	p.send(map[string]any{"type": "seat.hold"})
	if sig := nextSignal(t, l); sig.Kind != call.SignalHold {
		t.Fatalf("signal %v, want hold", sig.Kind)
	}
	p.until(func(_, c string) bool { return c == "held" })
	p.send(map[string]any{"type": "seat.retrieve"})
	if sig := nextSignal(t, l); sig.Kind != call.SignalRetrieve {
		t.Fatalf("signal %v, want retrieve", sig.Kind)
	}

	p.send(map[string]any{"type": "seat.hangup"})
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leg not ended by the page's hang-up")
	}
	if l.Cause() != call.CauseNormal {
		t.Fatalf("cause %v", l.Cause())
	}
	ended := p.until(func(_, c string) bool { return c == "ended" })
	if ended["call"].(map[string]any)["cause"] != "normal_clearing" {
		t.Fatalf("ended = %v", ended)
	}
	p.until(func(s, c string) bool { return s == "idle" && c == "" })
	if peer.receiver() != nil {
		t.Fatal("the peer still feeds the ended call")
	}
}

func TestSeatRejectsWhileRinging(t *testing.T) {
	f := newFixture(t)
	p, _ := f.online("bob")
	legs, err := f.r.Dial(context.Background(), call.Target{Device: call.Device{Kind: call.DeviceSeat, ID: "1002"}}, call.Party{Number: "1001"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.until(func(s, _ string) bool { return s == "ringing" })
	p.send(map[string]any{"type": "seat.hangup"})
	<-legs[0].Done()
	if c := legs[0].Cause(); c != call.CauseRejected {
		t.Fatalf("cause %v, want rejected", c)
	}
}

func TestSeatDialsOut(t *testing.T) {
	f := newFixture(t)
	p, _ := f.online("alice")
	p.send(map[string]any{"type": "seat.dial", "id": "d", "number": "1002"})
	in := <-f.calls.c
	if in.dialed != "1002" || in.from.Number != "1001" || in.from.Name != "Alice" || in.limit != 2 {
		t.Fatalf("incoming %+v", in)
	}
	if in.ch.Device() != (call.Device{Kind: call.DeviceSeat, ID: "1001"}) || in.ch.Codec() != "PCMU" {
		t.Fatalf("device %v codec %q", in.ch.Device(), in.ch.Codec())
	}
	p.until(func(s, c string) bool { return s == "in_call" && c == "dialing" })
	if err := in.ch.Progress(true); err != nil {
		t.Fatal(err)
	}
	p.until(func(_, c string) bool { return c == "early" })
	if err := in.ch.Answer(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.until(func(_, c string) bool { return c == "talking" })

	// A second dial while in a call is refused.
	p.send(map[string]any{"type": "seat.dial", "id": "d2", "number": "1003"})
	if r := result(p, "d2"); r["ok"] != false || r["error"].(map[string]any)["code"] != "busy" {
		t.Fatalf("second dial: %v", r)
	}

	p.send(map[string]any{"type": "seat.transfer", "id": "x", "target": "1003"})
	sig := nextSignal(t, in.ch)
	if sig.Kind != call.SignalTransfer || sig.Transfer.Target != "1003" {
		t.Fatalf("signal %+v", sig)
	}
	sig.Transfer.Progress(call.TransferRinging, call.CauseUnknown)
	if m := p.next("seat.transfer"); m["state"] != "ringing" {
		t.Fatalf("transfer msg %v", m)
	}
	sig.Transfer.Progress(call.TransferDone, call.CauseBusy)
	if m := p.next("seat.transfer"); m["state"] != "failed" || m["cause"] != "busy" {
		t.Fatalf("transfer msg %v", m)
	}

	in.ch.Hangup(call.CauseNormal)
	p.until(func(s, c string) bool { return s == "idle" && c == "" })
}

func TestSeatCancelsDialing(t *testing.T) {
	f := newFixture(t)
	p, _ := f.online("alice")
	p.send(map[string]any{"type": "seat.dial", "number": "1002"})
	in := <-f.calls.c
	p.send(map[string]any{"type": "seat.hangup"})
	<-in.ch.Done()
	if c := in.ch.Cause(); c != call.CauseCancelled {
		t.Fatalf("cause %v, want cancelled", c)
	}
}

func TestSeatLiveness(t *testing.T) {
	f := newFixture(t)
	p, peer := f.online("alice")
	token := f.r.seat("1001").token // the page had it in its seat.state
	dev := call.Device{Kind: call.DeviceSeat, ID: "1001"}

	// A page that pings stays attached.
	f.advance(DetachAfter - time.Second)
	p.send(map[string]any{"type": "seat.ping"})
	p.next("seat.pong")
	f.advance(DetachAfter - time.Second)
	f.r.checkAll(f.clock(), false)
	if !f.r.Available("1001") || p.isKilled() {
		t.Fatal("a pinging page was detached")
	}
	// Silent for longer than DetachAfter: detached, not rung, socket cut.
	f.advance(2 * time.Second)
	f.r.checkAll(f.clock(), false)
	if f.r.Available("1001") || !p.isKilled() {
		t.Fatal("a silent page still counts as attached")
	}
	if st := f.devices.State(dev); st != call.DeviceUnavailable {
		t.Fatalf("device %v, want unavailable", st)
	}
	if _, err := f.r.Dial(context.Background(), call.Target{Device: dev}, call.Party{Number: "1002"}, nil); !errors.Is(err, call.ErrUnavailable) {
		t.Fatalf("Dial a detached seat: %v", err)
	}

	// The page reconnects and resumes with its token.
	p2 := f.page("alice")
	p2.send(map[string]any{"type": "seat.resume", "id": "r", "token": token})
	p2.until(func(s, _ string) bool { return s == "idle" })
	if !f.r.Available("1001") {
		t.Fatal("resumed seat not available")
	}
	// Someone else's page cannot take it with the token.
	p3 := f.page("bob")
	p3.send(map[string]any{"type": "seat.resume", "id": "r", "token": token})
	if r := result(p3, "r"); r["error"].(map[string]any)["code"] != "seat_gone" {
		t.Fatalf("bob resumed alice's seat: %v", r)
	}

	// ICE consent lost: unavailable; back: idle again.
	peer.onState(webrtc.StateDisconnected)
	p2.until(func(s, _ string) bool { return s == "unavailable" })
	peer.onState(webrtc.StateConnected)
	p2.until(func(s, _ string) bool { return s == "idle" })

	// Socket closed and no resume within GoneAfter: offline, peer closed.
	p2.conn.Close()
	f.advance(GoneAfter + time.Second)
	f.r.checkAll(f.clock(), false)
	if f.r.Online("1001") || !peer.isClosed() {
		t.Fatal("a seat gone for GoneAfter is still online")
	}
	if st := f.devices.State(dev); st != call.DeviceUnavailable {
		t.Fatalf("device %v after offline", st)
	}
}

func TestSeatMediaFailureHangsUp(t *testing.T) {
	f := newFixture(t)
	p, peer := f.online("alice")
	p.send(map[string]any{"type": "seat.dial", "number": "1002"})
	in := <-f.calls.c
	peer.onState(webrtc.StateFailed)
	select {
	case <-in.ch.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("call not hung up when the seat's media failed")
	}
	p.until(func(s, _ string) bool { return s == "offline" })
	if f.r.Online("1001") {
		t.Fatal("seat still online")
	}
}

func TestSeatOneWindowPerExtension(t *testing.T) {
	f := newFixture(t)
	p1, peer1 := f.online("alice")
	p2 := f.page("alice")
	p2.send(map[string]any{"type": "seat.online", "id": "o", "sdp": offer})
	if r := result(p2, "o"); r["error"].(map[string]any)["code"] != "seat_in_use" {
		t.Fatalf("second window: %v", r)
	}
	// The first page's socket closes (a reload): the new page takes over.
	p1.conn.Close()
	p2.send(map[string]any{"type": "seat.online", "id": "o2", "sdp": offer})
	if r := result(p2, "o2"); r["ok"] != true {
		t.Fatalf("reload refused: %v", r)
	}
	if !peer1.isClosed() {
		t.Fatal("the replaced seat's peer stays open")
	}
	// Another extension of the same user is a separate seat.
	p3 := f.page("alice")
	p3.send(map[string]any{"type": "seat.online", "id": "o3", "sdp": offer, "extension": "1005"})
	if r := result(p3, "o3"); r["ok"] != true {
		t.Fatalf("second extension refused: %v", r)
	}
}

func TestSeatRefusals(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, user string
		msg        map[string]any
		code       string
	}{
		{"not online", "alice", map[string]any{"type": "seat.dial", "number": "1002"}, "not_online"},
		{"no extension", "carol", map[string]any{"type": "seat.online", "sdp": offer}, "no_extension"},
		{"not hers", "alice", map[string]any{"type": "seat.online", "sdp": offer, "extension": "1002"}, "no_extension"},
		{"no audio", "alice", map[string]any{"type": "seat.online", "sdp": "v=0\r\n"}, "bad_request"},
		{"unknown type", "alice", map[string]any{"type": "seat.fly"}, "bad_request"},
		{"no call", "alice", map[string]any{"type": "seat.answer_call"}, "not_online"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.page(tc.user)
			tc.msg["id"] = "q"
			p.send(tc.msg)
			r := result(p, "q")
			if r["ok"] != false || r["error"].(map[string]any)["code"] != tc.code {
				t.Fatalf("got %v, want %s", r, tc.code)
			}
		})
	}
	p := f.page("alice")
	p.conn.Handle([]byte("{not json"))
	if r := p.next("seat.result"); r["error"].(map[string]any)["code"] != "bad_request" {
		t.Fatalf("bad JSON: %v", r)
	}

	p, peer := f.online("alice")
	for _, tc := range []struct {
		msg  map[string]any
		code string
	}{
		{map[string]any{"type": "seat.dial", "number": "10a2"}, "bad_number"},
		{map[string]any{"type": "seat.dial", "number": ""}, "bad_number"},
		{map[string]any{"type": "seat.hangup"}, "no_call"},
		{map[string]any{"type": "seat.candidate"}, "bad_request"},
		{map[string]any{"type": "seat.candidate", "candidate": map[string]any{"candidate": "bad"}}, "media"},
		{map[string]any{"type": "seat.ring_on", "ring_on": "everywhere"}, "bad_request"},
	} {
		tc.msg["id"] = "q"
		p.send(tc.msg)
		if r := result(p, "q"); r["ok"] != false || r["error"].(map[string]any)["code"] != tc.code {
			t.Fatalf("%v: got %v, want %s", tc.msg, r, tc.code)
		}
	}
	p.send(map[string]any{"type": "seat.candidate", "id": "c", "candidate": map[string]any{"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host"}})
	if r := result(p, "c"); r["ok"] != true || len(peer.cands) != 1 {
		t.Fatalf("candidate: %v", r)
	}
	p.send(map[string]any{"type": "seat.ring_on", "id": "g", "ring_on": "seat"})
	if r := result(p, "g"); r["ok"] != true || f.dir.ringOn["1001"] != "seat" {
		t.Fatalf("ring_on: %v %v", r, f.dir.ringOn)
	}

	f.media.fail = true
	p2 := f.page("bob")
	p2.send(map[string]any{"type": "seat.online", "id": "m", "sdp": offer})
	if r := result(p2, "m"); r["error"].(map[string]any)["code"] != "media" {
		t.Fatalf("media failure: %v", r)
	}
	if f.r.Online("1002") {
		t.Fatal("a seat whose offer failed stays registered")
	}
}

func result(p *page, id string) map[string]any {
	p.t.Helper()
	for {
		r := p.next("seat.result")
		if r["id"] == id {
			return r
		}
	}
}

func nextSignal(t *testing.T, ch call.Channel) call.Signal {
	t.Helper()
	select {
	case s := <-ch.Signals():
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no signal")
	}
	return call.Signal{}
}

// seatsGauge reads pbx_seats{state}.
func seatsGauge(t *testing.T, reg *prometheus.Registry, state string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "pbx_seats" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == state {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("pbx_seats{state=%q} missing", state)
	return 0
}

// TestSeatReplacedWhileAnswering: a second window takes the extension over
// while the first window's offer is still being answered (its seat has no
// page yet, so it may be replaced); the first window's peer, made after its
// seat went offline, is closed and the first window is told the seat is
// gone rather than being attached to it.
func TestSeatReplacedWhileAnswering(t *testing.T) {
	f := newFixture(t)
	block := make(chan struct{})
	f.media.mu.Lock()
	f.media.block, f.media.entered = block, make(chan struct{}, 1)
	f.media.mu.Unlock()
	p1 := f.page("alice")
	done := make(chan struct{})
	go func() {
		defer close(done)
		p1.send(map[string]any{"type": "seat.online", "id": "o1", "sdp": offer})
	}()
	select {
	case <-f.media.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first offer was never answered")
	}
	p2 := f.page("alice")
	p2.send(map[string]any{"type": "seat.online", "id": "o2", "sdp": offer})
	if r := result(p2, "o2"); r["ok"] != true {
		t.Fatalf("second window: %v", r)
	}
	close(block)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the first online never returned")
	}
	if r := result(p1, "o1"); r["ok"] != false || r["error"].(map[string]any)["code"] != "seat_gone" {
		t.Fatalf("first window: %v, want seat_gone", r)
	}
	f.media.mu.Lock()
	peer1 := f.media.blocked
	f.media.mu.Unlock()
	if !peer1.isClosed() {
		t.Fatal("the peer of a seat that went offline while answering stays open")
	}
	if p1.conn.current() != nil {
		t.Fatal("the first window is attached to a seat that is offline")
	}
	if !f.r.Online("1001") || f.r.seat("1001").peer.(*fakePeer).isClosed() {
		t.Fatal("the second window's seat is not the one online")
	}
}

// TestSeatGoneDialsNothing: a seat that went offline places no call, even
// when a request from its page is still on its way.
func TestSeatGoneDialsNothing(t *testing.T) {
	f := newFixture(t)
	p, _ := f.online("alice")
	s := p.conn.current()
	s.drop(call.CauseNormal, "went offline")
	if err := s.dial("1002"); err == nil {
		t.Fatal("an offline seat dialed")
	}
	select {
	case in := <-f.calls.c:
		t.Fatalf("an offline seat's call reached the call layer: %+v", in)
	default:
	}
	if _, err := s.current(); err == nil {
		t.Fatal("an offline seat has a call")
	}
}
