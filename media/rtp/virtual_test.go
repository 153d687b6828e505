package rtp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
)

// recorder is a Transport that keeps copies of what it is given.
type recorder struct {
	mu   sync.Mutex
	pkts [][]byte
	err  error
}

func (r *recorder) send(b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, append([]byte(nil), b...))
	return r.err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pkts)
}

// packet returns packet i, parsed.
func (r *recorder) packet(t testing.TB, i int) *Packet {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var p Packet
	if err := p.Unmarshal(r.pkts[i]); err != nil {
		t.Fatal(err)
	}
	return &p
}

// TestVirtualBridge: a socket endpoint bridged to a virtual one relays both
// ways, transcoding PCMU↔PCMA and mapping telephone-event payload types as
// between two socket endpoints.
func TestVirtualBridge(t *testing.T) {
	pool, _ := newTestPool(t)
	sock := allocate(t, pool)
	var rec recorder
	v := pool.Virtual(rec.send)
	t.Cleanup(func() { _ = v.Close() })
	ph := newPhone(t, "127.0.0.2")
	sock.SetCodec(codec.PCMA, 96, true)
	v.SetCodec(codec.PCMU, 126, true)
	events := make(chan byte, 4)
	v.OnEvent(func(p *Packet) { events <- p.Payload()[0] })
	Bridge(sock, v)

	if v.LocalAddr().IsValid() {
		t.Errorf("virtual LocalAddr %v, want invalid", v.LocalAddr())
	}
	if !v.Virtual() || sock.Virtual() {
		t.Error("Virtual() wrong")
	}

	alaw := make([]byte, 160)
	for i := range alaw {
		alaw[i] = codec.EncodeAlaw(int16((i*997)%16000 - 8000))
	}

	// Phone → socket endpoint → transport: A-law arrives as µ-law PT 0.
	ph.send(sock, Header{PayloadType: 8, SSRC: 7, Sequence: 100, Timestamp: 800}, alaw)
	eventually(t, "packet at the transport", func() bool { return rec.count() == 1 })
	got := rec.packet(t, 0)
	if got.PayloadType != 0 || len(got.Payload()) != 160 {
		t.Fatalf("transport got PT %d, %d bytes", got.PayloadType, len(got.Payload()))
	}
	for i, x := range got.Payload() {
		if want := codec.AlawToUlaw(alaw[i]); x != want {
			t.Fatalf("sample %d: %#x, want %#x", i, x, want)
		}
	}
	ph.send(sock, Header{PayloadType: 96, SSRC: 7, Sequence: 101, Timestamp: 960, Marker: true}, []byte{3, 10, 0, 160})
	eventually(t, "event at the transport", func() bool { return rec.count() == 2 })
	if got := rec.packet(t, 1); got.PayloadType != 126 || got.Payload()[0] != 3 {
		t.Fatalf("event relayed as PT %d payload % x", got.PayloadType, got.Payload())
	}

	// Transport → virtual endpoint → socket endpoint → phone: the socket
	// endpoint latched onto the phone, so it knows where to send.
	ulaw := make([]byte, 160)
	for i := range ulaw {
		ulaw[i] = codec.EncodeUlaw(int16((i*331)%12000 - 6000))
	}
	in := AppendPacket(nil, Header{PayloadType: 0, SSRC: 99, Sequence: 5, Timestamp: 1600}, ulaw)
	v.Receive(in)
	p := ph.recv()
	if p.PayloadType != 8 {
		t.Fatalf("phone got PT %d, want 8", p.PayloadType)
	}
	for i, x := range p.Payload() {
		if want := codec.UlawToAlaw(ulaw[i]); x != want {
			t.Fatalf("sample %d: %#x, want %#x", i, x, want)
		}
	}
	v.Receive(AppendPacket(nil, Header{PayloadType: 126, SSRC: 99, Sequence: 6, Timestamp: 1760, Marker: true}, []byte{9, 10, 0, 160}))
	if p := ph.recv(); p.PayloadType != 96 || p.Payload()[0] != 9 {
		t.Fatalf("event to phone as PT %d payload % x", p.PayloadType, p.Payload())
	}
	select {
	case ev := <-events:
		if ev != 9 {
			t.Errorf("event %d, want 9", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("event hook not called")
	}

	// A sequence gap on the virtual input counts as loss; garbage is dropped.
	v.Receive(AppendPacket(nil, Header{PayloadType: 0, SSRC: 99, Sequence: 9, Timestamp: 2240}, ulaw))
	ph.recv()
	v.Receive([]byte{1, 2, 3})
	st := v.Stats()
	if st.PacketsIn != 3 || st.Lost != 2 || st.Dropped != 1 || st.PacketsOut != 2 || st.Latched {
		t.Errorf("virtual stats %+v", st)
	}
	if sock.Stats().PacketsOut != 3 {
		t.Errorf("socket endpoint sent %d, want 3", sock.Stats().PacketsOut)
	}
}

// TestVirtualSendAndClose: Send goes to the transport in the endpoint's own
// stream; SetRemote cannot redirect it; a transport error counts as dropped;
// Close is idempotent, touches no port, and stops the output.
func TestVirtualSendAndClose(t *testing.T) {
	pool, _ := newTestPool(t)
	var rec recorder
	v := pool.Virtual(rec.send)
	v.SetCodec(codec.PCMU, 101, true)
	v.SetRemote(netip.MustParseAddrPort("127.0.0.9:4000"))
	v.SetTimeout(time.Millisecond, func() { t.Error("timeout on a virtual endpoint") })
	if pool.InUse() != 0 {
		t.Fatalf("InUse %d with only a virtual endpoint", pool.InUse())
	}
	for i := range 3 {
		if err := v.Send(AppendPacket(nil, Header{PayloadType: 0, SSRC: 1, Sequence: uint16(i), Timestamp: uint32(160 * i)}, frame)); err != nil {
			t.Fatal(err)
		}
	}
	if rec.count() != 3 {
		t.Fatalf("transport got %d packets", rec.count())
	}
	first := rec.packet(t, 0)
	for i := 1; i < 3; i++ {
		p := rec.packet(t, i)
		if p.SSRC != first.SSRC || p.Sequence != first.Sequence+uint16(i) || p.SSRC == 1 {
			t.Errorf("packet %d: ssrc %d seq %d after ssrc %d seq %d", i, p.SSRC, p.Sequence, first.SSRC, first.Sequence)
		}
	}
	if st := v.Stats(); st.PacketsOut != 3 || !st.Remote.IsValid() || st.Latched {
		t.Errorf("stats %+v", st)
	}

	errBroken := errors.New("peer gone")
	rec.err = errBroken
	if err := v.Send(AppendPacket(nil, Header{SSRC: 1, Sequence: 3}, frame)); !errors.Is(err, errBroken) {
		t.Errorf("Send with failing transport: %v", err)
	}
	rec.err = nil

	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := v.Send(AppendPacket(nil, Header{SSRC: 1, Sequence: 4}, frame)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if st := v.Stats(); st.Dropped != 2 {
		t.Errorf("dropped %d, want 2", st.Dropped)
	}
	if rec.count() != 4 {
		t.Errorf("transport got %d packets, want 4", rec.count())
	}

	// A nil transport is allowed: output is dropped.
	n := pool.Virtual(nil)
	if err := n.Send(AppendPacket(nil, Header{SSRC: 1}, frame)); !errors.Is(err, ErrNoRemote) {
		t.Errorf("Send with nil transport: %v", err)
	}
	_ = n.Close()
}

// TestVirtualCloseWhileBridged: a socket endpoint relaying into a closed
// virtual endpoint drops the packets; the virtual one's Receive after Close
// reaches nothing.
func TestVirtualCloseWhileBridged(t *testing.T) {
	pool, _ := newTestPool(t)
	sock := allocate(t, pool)
	var rec recorder
	v := pool.Virtual(rec.send)
	ph := newPhone(t, "127.0.0.2")
	Bridge(sock, v)
	ph.send(sock, Header{SSRC: 1, Sequence: 1}, frame)
	eventually(t, "first packet", func() bool { return rec.count() == 1 })
	_ = v.Close()
	ph.send(sock, Header{SSRC: 1, Sequence: 2}, frame)
	eventually(t, "drop after close", func() bool { return v.Stats().Dropped == 1 })
	v.Receive(AppendPacket(nil, Header{SSRC: 2, Sequence: 1}, frame))
	ph.expectNothing()
	if rec.count() != 1 {
		t.Errorf("transport got %d packets after close", rec.count())
	}
}

// TestVirtualReceiveAllocs: Receive allocates nothing, relaying into another
// virtual endpoint (transcoding on the way) or into nothing.
func TestVirtualReceiveAllocs(t *testing.T) {
	pool, _ := newTestPool(t)
	sent := 0
	a := pool.Virtual(func([]byte) error { return nil })
	b := pool.Virtual(func([]byte) error { sent++; return nil })
	a.SetCodec(codec.PCMU, 101, true)
	b.SetCodec(codec.PCMA, 96, true)
	a.SetTap(func(*Packet) {})
	Bridge(a, b)
	buf := AppendPacket(nil, Header{PayloadType: 0, SSRC: 3, Sequence: 1, Timestamp: 160}, frame)
	seq := uint16(1)
	run := func() {
		seq++
		buf[2], buf[3] = byte(seq>>8), byte(seq)
		buf[1] = 0 // the sink rewrote the PT in place
		a.Receive(buf)
	}
	run()
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("%v allocations per bridged Receive", allocs)
	}
	Unbridge(a, b)
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("%v allocations per unbridged Receive", allocs)
	}
	if sent < 1000 {
		t.Errorf("sent %d, want over 1000", sent)
	}
}

// BenchmarkVirtualReceive is the cost of one packet through two bridged
// virtual endpoints (parse, count, transcode, renumber, hand to transport).
func BenchmarkVirtualReceive(b *testing.B) {
	pool, _ := newTestPool(b)
	x := pool.Virtual(func([]byte) error { return nil })
	y := pool.Virtual(func([]byte) error { return nil })
	x.SetCodec(codec.PCMU, 101, true)
	y.SetCodec(codec.PCMA, 96, true)
	Bridge(x, y)
	buf := AppendPacket(nil, Header{PayloadType: 0, SSRC: 3, Sequence: 1, Timestamp: 160}, frame)
	b.ReportAllocs()
	for i := range b.N {
		buf[1] = 0
		buf[2], buf[3] = byte(i>>8), byte(i)
		x.Receive(buf)
	}
}
