package rtp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
)

var frame = make([]byte, 160) // 20 ms of G.711

// TestRelayContinuity: the phone at B sees one SSRC with continuous
// sequence numbers and timestamps while A's phone changes SSRC, pauses for
// 2 s with silence suppression, and changes ptime.
func TestRelayContinuity(t *testing.T) {
	clock := newFakeClock()
	pool, reg := newTestPool(t, func(c *PoolConfig) { c.Now = clock.Now })
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	b.SetRemote(phoneB.addr())
	Bridge(a, b)

	type step struct {
		name    string
		h       Header
		advance time.Duration // fake time before sending
		tsStep  uint32        // expected output timestamp advance
		marker  bool
		payload int
	}
	var steps []step
	seq, ts := uint16(65530), uint32(1000) // sequence numbers wrap on the way
	for i := range 10 {
		steps = append(steps, step{"first ssrc", Header{SSRC: 111, Sequence: seq, Timestamp: ts}, 20 * time.Millisecond, 160, i == 0, 160})
		seq++
		ts += 160
	}
	// The phone restarts its stream with a new SSRC and random numbering.
	seq, ts = 9000, 5_000_000
	for i := range 10 {
		steps = append(steps, step{"new ssrc", Header{SSRC: 222, Sequence: seq, Timestamp: ts}, 20 * time.Millisecond, 160, i == 0, 160})
		seq++
		ts += 160
	}
	// 2 s of silence suppression: sequence continues, timestamp jumps.
	ts += 16000
	steps = append(steps, step{"after silence", Header{SSRC: 222, Sequence: seq, Timestamp: ts, Marker: true}, 2 * time.Second, 16160, true, 160})
	seq++
	ts += 160
	// ptime 10 then 40 ms.
	for _, n := range []int{80, 80, 320, 320} {
		steps = append(steps, step{"ptime change", Header{SSRC: 222, Sequence: seq, Timestamp: ts}, time.Duration(n/8) * time.Millisecond, uint32(n), false, n})
		seq++
		ts += uint32(n)
	}
	// Phone stops after 1.5 s and restarts with yet another SSRC: the
	// timestamp advances by the wall-clock gap.
	steps = append(steps, step{"restart after gap", Header{SSRC: 333, Sequence: 7, Timestamp: 7}, 1500 * time.Millisecond, 1500 * 8, true, 160})

	var outSSRC uint32
	var lastSeq uint16
	var lastTS uint32
	for i, st := range steps {
		clock.Advance(st.advance)
		phoneA.send(a, st.h, make([]byte, st.payload))
		got := phoneB.recv()
		if i == 0 {
			outSSRC, lastSeq, lastTS = got.SSRC, got.Sequence, got.Timestamp
			continue
		}
		if got.SSRC != outSSRC {
			t.Fatalf("step %d (%s): SSRC %d, want %d", i, st.name, got.SSRC, outSSRC)
		}
		if got.Sequence != lastSeq+1 {
			t.Errorf("step %d (%s): seq %d after %d", i, st.name, got.Sequence, lastSeq)
		}
		// The first step of a run is taken from the previous packet's length.
		want := st.tsStep
		if st.name == "ptime change" && steps[i-1].name != "ptime change" {
			want = 160
		} else if st.name == "ptime change" {
			want = uint32(steps[i-1].payload)
		}
		if got.Timestamp-lastTS != want {
			t.Errorf("step %d (%s): timestamp advanced %d, want %d", i, st.name, got.Timestamp-lastTS, want)
		}
		if got.Marker != st.marker {
			t.Errorf("step %d (%s): marker %v, want %v", i, st.name, got.Marker, st.marker)
		}
		if len(got.Payload()) != st.payload {
			t.Errorf("step %d (%s): payload %d bytes", i, st.name, len(got.Payload()))
		}
		lastSeq, lastTS = got.Sequence, got.Timestamp
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.PacketsIn != uint64(len(steps)) || sb.PacketsOut != uint64(len(steps)) || sa.Lost != 0 {
		t.Errorf("stats a %+v b %+v", sa, sb)
	}
	if sa.LastPacket.IsZero() || !sa.Latched || sa.Remote != phoneA.addr() {
		t.Errorf("a did not latch onto its phone: %+v", sa)
	}
	if in, out := sampleValue(t, reg, "pbx_rtp_packets_total", "in"), sampleValue(t, reg, "pbx_rtp_packets_total", "out"); in != float64(len(steps)) || out != in {
		t.Errorf("metrics in %v out %v, want %d", in, out, len(steps))
	}
}

// TestLatching: B's SDP names an address where nothing listens (a phone
// behind NAT); once B's phone sends, it hears A.
func TestLatching(t *testing.T) {
	pool, _ := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB, stranger := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3"), newPhone(t, "127.0.0.4")
	dead := netip.MustParseAddrPort("127.0.0.9:9")
	a.SetRemote(phoneA.addr())
	b.SetRemote(dead)
	Bridge(a, b)

	phoneA.send(a, Header{SSRC: 1, Sequence: 1, Timestamp: 160}, frame) // goes to the dead address
	eventually(t, "packet sent to SDP address", func() bool { return b.Stats().PacketsOut == 1 })
	if s := b.Stats(); s.Latched || s.Remote != dead {
		t.Fatalf("b before latching: %+v", s)
	}

	phoneB.send(b, Header{SSRC: 2, Sequence: 1, Timestamp: 160}, frame)
	if got := phoneA.recv(); got.SSRC == 2 {
		t.Fatal("SSRC not rewritten")
	}
	if s := b.Stats(); !s.Latched || s.Remote != phoneB.addr() {
		t.Fatalf("b did not latch: %+v", s)
	}
	phoneA.send(a, Header{SSRC: 1, Sequence: 2, Timestamp: 320}, frame)
	if got := phoneB.recv(); len(got.Payload()) != len(frame) {
		t.Fatalf("payload %d bytes", len(got.Payload()))
	}

	// A stranger cannot take the stream over while B's phone is talking.
	dropped := b.Stats().Dropped
	stranger.send(b, Header{SSRC: 3, Sequence: 1, Timestamp: 160}, frame)
	eventually(t, "stranger's packet dropped", func() bool { return b.Stats().Dropped == dropped+1 })
	if s := b.Stats(); s.Remote != phoneB.addr() {
		t.Fatalf("hijacked: %+v", s)
	}
	phoneA.expectNothing()
}

// TestRelatch: after the latched source has been silent for RelatchAfter,
// a new source (the phone's NAT mapping changed) takes over.
func TestRelatch(t *testing.T) {
	clock := newFakeClock()
	pool, _ := newTestPool(t, func(c *PoolConfig) { c.Now = clock.Now; c.RelatchAfter = time.Second })
	e := allocate(t, pool)
	first, second := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	first.send(e, Header{SSRC: 1, Sequence: 1}, frame)
	eventually(t, "latched on first", func() bool { return e.Stats().Remote == first.addr() })
	clock.Advance(1500 * time.Millisecond)
	second.send(e, Header{SSRC: 1, Sequence: 2}, frame)
	eventually(t, "latched on second", func() bool { return e.Stats().Remote == second.addr() })
}

// TestTranscodeAndDTMF: a PCMU leg bridged to a PCMA leg; audio arrives as
// A-law with the same sound, telephone-event is renumbered and reported.
func TestTranscodeAndDTMF(t *testing.T) {
	pool, _ := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	a.SetCodec(codec.PCMU, 101, true)
	b.SetCodec(codec.PCMA, 96, true)
	b.SetRemote(phoneB.addr())
	events := make(chan byte, 4)
	a.OnEvent(func(p *Packet) { events <- p.Payload()[0] })
	Bridge(a, b)

	pcmu := make([]byte, 160)
	for i := range pcmu {
		pcmu[i] = codec.EncodeUlaw(int16((i*997)%16000 - 8000)) // a sawtooth
	}
	phoneA.send(a, Header{PayloadType: 0, SSRC: 5, Sequence: 1, Timestamp: 160}, pcmu)
	got := phoneB.recv()
	if got.PayloadType != 8 {
		t.Fatalf("payload type %d, want 8", got.PayloadType)
	}
	for i, x := range got.Payload() {
		sent, recv := int(codec.DecodeUlaw(pcmu[i])), int(codec.DecodeAlaw(x))
		// A-law's step at this level is at most 2^(seg+1): allow 3 % + 16.
		if d := recv - sent; d*d > (sent*sent)/1000+256 {
			t.Fatalf("sample %d: sent %d, received %d", i, sent, recv)
		}
	}

	// RFC 4733 event "5", volume 10, duration 160.
	phoneA.send(a, Header{PayloadType: 101, SSRC: 5, Sequence: 2, Timestamp: 320, Marker: true}, []byte{5, 10, 0, 160})
	got = phoneB.recv()
	if got.PayloadType != 96 || got.Payload()[0] != 5 {
		t.Fatalf("event relayed as PT %d payload % x", got.PayloadType, got.Payload())
	}
	select {
	case ev := <-events:
		if ev != 5 {
			t.Errorf("event %d, want 5", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("event hook not called")
	}

	// Unnegotiated telephone-event is not sent to a leg that cannot take it.
	b.SetCodec(codec.PCMA, 0, false)
	phoneA.send(a, Header{PayloadType: 101, SSRC: 5, Sequence: 3, Timestamp: 320}, []byte{5, 10, 1, 64})
	phoneB.expectNothing()
}

// TestTimeout: the callback fires once packets stop for the set time, not
// while they flow.
func TestTimeout(t *testing.T) {
	clock := newFakeClock()
	pool, _ := newTestPool(t, func(c *PoolConfig) { c.Now = clock.Now; c.CheckInterval = 5 * time.Millisecond })
	e := allocate(t, pool)
	ph := newPhone(t, "127.0.0.2")
	fired := make(chan struct{}, 4)
	e.SetTimeout(time.Second, func() { fired <- struct{}{} })

	for i := range 100 { // 2 s of fake time with packets
		clock.Advance(20 * time.Millisecond)
		ph.send(e, Header{SSRC: 1, Sequence: uint16(i)}, frame)
		eventually(t, "packet counted", func() bool { return e.Stats().PacketsIn == uint64(i+1) })
	}
	select {
	case <-fired:
		t.Fatal("timeout fired while packets flowed")
	default:
	}
	clock.Advance(1100 * time.Millisecond)
	select {
	case <-fired:
	case <-time.After(3 * time.Second):
		t.Fatal("timeout did not fire")
	}
	// Once per silence: no second call without new packets.
	select {
	case <-fired:
		t.Fatal("fired twice for one silence")
	case <-time.After(50 * time.Millisecond):
	}
	e.SetTimeout(0, nil)
	clock.Advance(10 * time.Second)
	select {
	case <-fired:
		t.Fatal("fired after being disabled")
	case <-time.After(50 * time.Millisecond):
	}
}

// TestUnbridgeSendRebridge: after Unbridge the call layer plays into B
// itself, then bridges B to a new leg C (a transfer): B's phone sees one
// continuous stream throughout.
func TestUnbridgeSendRebridge(t *testing.T) {
	pool, _ := newTestPool(t)
	a, b, c := allocate(t, pool), allocate(t, pool), allocate(t, pool)
	phoneA, phoneB, phoneC := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3"), newPhone(t, "127.0.0.4")
	b.SetRemote(phoneB.addr())
	Bridge(a, b)
	phoneA.send(a, Header{SSRC: 10, Sequence: 100, Timestamp: 100}, frame)
	first := *phoneB.recv()

	Unbridge(a, b)
	phoneA.send(a, Header{SSRC: 10, Sequence: 101, Timestamp: 260}, frame)
	phoneB.expectNothing()

	// Hold music, made by the call layer with its own numbering.
	var buf []byte
	for i := range 3 {
		buf = AppendPacket(buf[:0], Header{SSRC: 99, Sequence: uint16(50 + i), Timestamp: uint32(i * 160)}, frame)
		if err := b.Send(buf); err != nil {
			t.Fatal(err)
		}
	}
	Bridge(c, b)
	phoneC.send(c, Header{SSRC: 20, Sequence: 5000, Timestamp: 9}, frame)

	prev := first
	for i := range 4 {
		got := phoneB.recv()
		if got.SSRC != first.SSRC || got.Sequence != prev.Sequence+1 || got.Timestamp-prev.Timestamp < 80 {
			t.Fatalf("packet %d: ssrc %d seq %d ts %d after ssrc %d seq %d ts %d",
				i, got.SSRC, got.Sequence, got.Timestamp, prev.SSRC, prev.Sequence, prev.Timestamp)
		}
		prev = *got
	}
	if a.Stats().PacketsIn != 2 {
		t.Errorf("a counted %d packets", a.Stats().PacketsIn)
	}
}

// TestLossAndRTCP: sequence gaps count as loss; RTCP on port+1 is counted
// and not relayed.
func TestLossAndRTCP(t *testing.T) {
	pool, reg := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	b.SetRemote(phoneB.addr())
	Bridge(a, b)
	for _, seq := range []uint16{1, 2, 5, 5, 4, 6} { // 3 and 4 missing at first; 5 duplicated; 4 late
		phoneA.send(a, Header{SSRC: 1, Sequence: seq, Timestamp: uint32(seq) * 160}, frame)
	}
	eventually(t, "packets in", func() bool { return a.Stats().PacketsIn == 6 })
	if s := a.Stats(); s.Lost != 2 {
		t.Errorf("lost %d, want 2", s.Lost)
	}
	if v := sampleValue(t, reg, "pbx_rtp_packets_lost_total", ""); v != 2 {
		t.Errorf("lost metric %v", v)
	}

	rtcp := []byte{0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	port := a.LocalAddr().Port() + 1
	if _, err := phoneA.conn.WriteToUDPAddrPort(rtcp, netip.AddrPortFrom(a.LocalAddr().Addr(), port)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "RTCP counted", func() bool { return a.Stats().RTCPIn == 1 })
	for range 6 {
		phoneB.recv()
	}
	phoneB.expectNothing()
}
