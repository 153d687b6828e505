package rtp

import (
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
)

// TestTap: the tap sees every audio packet, before the bridge transcodes
// it, and no telephone-event packet.
func TestTap(t *testing.T) {
	pool, _ := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	a.SetCodec(codec.PCMU, 101, true)
	b.SetCodec(codec.PCMA, 96, true)
	b.SetRemote(phoneB.addr())
	type seen struct {
		pt    uint8
		first byte
	}
	tapped := make(chan seen, 8)
	events := make(chan uint8, 8)
	a.SetTap(func(p *Packet) { tapped <- seen{p.PayloadType, p.Payload()[0]} })
	a.OnEvent(func(p *Packet) { events <- p.Payload()[0] })
	Bridge(a, b)

	audio := make([]byte, 160)
	for i := range audio {
		audio[i] = codec.EncodeUlaw(int16(i * 50))
	}
	phoneA.send(a, Header{PayloadType: 0, SSRC: 1, Sequence: 1, Timestamp: 160}, audio)
	phoneA.send(a, Header{PayloadType: 101, SSRC: 1, Sequence: 2, Timestamp: 320, Marker: true}, []byte{7, 10, 0, 160})
	phoneA.send(a, Header{PayloadType: 0, SSRC: 1, Sequence: 3, Timestamp: 480}, audio)
	for range 3 {
		phoneB.recv()
	}

	for i := range 2 {
		select {
		case s := <-tapped:
			if s.pt != 0 || s.first != audio[0] {
				t.Errorf("tap %d: pt %d first byte %#x, want pt 0 byte %#x (untranscoded)", i, s.pt, s.first, audio[0])
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("tap %d not called", i)
		}
	}
	select {
	case s := <-tapped:
		t.Errorf("tap called for %+v", s)
	default:
	}
	if ev := <-events; ev != 7 {
		t.Errorf("event %d, want 7", ev)
	}

	// Removed: packets still flow, the tap is not called.
	a.SetTap(nil)
	phoneA.send(a, Header{PayloadType: 0, SSRC: 1, Sequence: 4, Timestamp: 640}, audio)
	phoneB.recv()
	select {
	case s := <-tapped:
		t.Errorf("removed tap called for %+v", s)
	default:
	}
}

// TestMuteRelay: a muted leg drops what the bridge relays into it but sends
// the call layer's own packets, and the phone sees one stream across the
// switches.
func TestMuteRelay(t *testing.T) {
	pool, _ := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	b.SetRemote(phoneB.addr())
	Bridge(a, b)

	phoneA.send(a, Header{SSRC: 10, Sequence: 100, Timestamp: 100}, frame)
	prev := *phoneB.recv()

	b.MuteRelay(true)
	dropped := b.Stats().Dropped
	phoneA.send(a, Header{SSRC: 10, Sequence: 101, Timestamp: 260}, frame)
	phoneB.expectNothing()
	eventually(t, "relayed packet dropped", func() bool { return b.Stats().Dropped == dropped+1 })

	buf := AppendPacket(nil, Header{SSRC: 77, Sequence: 1, Timestamp: 1}, frame)
	if err := b.Send(buf); err != nil {
		t.Fatal(err)
	}
	got := phoneB.recv()
	if got.SSRC != prev.SSRC || got.Sequence != prev.Sequence+1 {
		t.Fatalf("own packet while muted: ssrc %d seq %d after ssrc %d seq %d", got.SSRC, got.Sequence, prev.SSRC, prev.Sequence)
	}
	prev = *got

	b.MuteRelay(false)
	phoneA.send(a, Header{SSRC: 10, Sequence: 102, Timestamp: 420}, frame)
	got = phoneB.recv()
	if got.SSRC != prev.SSRC || got.Sequence != prev.Sequence+1 || int32(got.Timestamp-prev.Timestamp) <= 0 {
		t.Fatalf("relay after unmute: ssrc %d seq %d ts %d after ssrc %d seq %d ts %d",
			got.SSRC, got.Sequence, got.Timestamp, prev.SSRC, prev.Sequence, prev.Timestamp)
	}
}

// TestSendEventTimestamps: an RFC 4733 event's packets share one timestamp
// (section 2.5.1.2); Send renumbers them into the output stream keeping it
// shared, with increasing sequence numbers, and audio around them keeps its
// own timestamps.
func TestSendEventTimestamps(t *testing.T) {
	pool, _ := newTestPool(t)
	e := allocate(t, pool)
	ph := newPhone(t, "127.0.0.2")
	e.SetRemote(ph.addr())
	e.SetCodec(codec.PCMU, 101, true)
	if pt, ok := e.DTMFPayloadType(); !ok || pt != 101 {
		t.Fatalf("DTMFPayloadType = %d, %v", pt, ok)
	}

	send := func(h Header, payload []byte) *Packet {
		t.Helper()
		if err := e.Send(AppendPacket(nil, h, payload)); err != nil {
			t.Fatal(err)
		}
		return ph.recv()
	}
	audio := send(Header{PayloadType: 0, SSRC: 1, Sequence: 10, Timestamp: 1000}, frame)
	lastSeq := audio.Sequence
	var eventTS uint32
	durations := []uint16{160, 320, 480, 640, 640, 640}
	for i, d := range durations {
		payload := []byte{1, 10, byte(d >> 8), byte(d)}
		if i >= 3 {
			payload[1] |= 0x80 // the end bit
		}
		got := send(Header{PayloadType: 101, SSRC: 2, Sequence: uint16(500 + i), Timestamp: 90000, Marker: i == 0}, payload)
		if i == 0 {
			eventTS = got.Timestamp
		} else if got.Timestamp != eventTS {
			t.Errorf("event packet %d: timestamp %d, want %d", i, got.Timestamp, eventTS)
		}
		if got.Sequence != lastSeq+1 {
			t.Errorf("event packet %d: seq %d after %d", i, got.Sequence, lastSeq)
		}
		lastSeq = got.Sequence
	}
	after := send(Header{PayloadType: 0, SSRC: 1, Sequence: 11, Timestamp: 1160}, frame)
	if after.Sequence != lastSeq+1 || int32(after.Timestamp-eventTS) <= 0 {
		t.Errorf("audio after the event: seq %d ts %d, event seq %d ts %d", after.Sequence, after.Timestamp, lastSeq, eventTS)
	}

	e.SetCodec(codec.PCMA, 0, false)
	if _, ok := e.DTMFPayloadType(); ok {
		t.Error("DTMFPayloadType reports one after SetCodec without telephone-event")
	}
}
