package dtmf

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
)

func TestEventPackets(t *testing.T) {
	tests := []struct {
		d         time.Duration
		durations []uint16 // expected duration field of each packet
	}{
		{100 * time.Millisecond, []uint16{160, 320, 480, 640, 800, 800, 800}},
		{50 * time.Millisecond, []uint16{160, 320, 400, 400, 400}},
		{20 * time.Millisecond, []uint16{160, 160, 160}},
		{10 * time.Millisecond, []uint16{80, 80, 80}},
	}
	for _, tc := range tests {
		t.Run(tc.d.String(), func(t *testing.T) {
			pkts, err := EventPackets('#', tc.d, 101)
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != len(tc.durations) {
				t.Fatalf("%d packets, want %d", len(pkts), len(tc.durations))
			}
			var first pionrtp.Packet
			for i, b := range pkts {
				var p pionrtp.Packet
				if err := p.Unmarshal(b); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if i == 0 {
					first = p
				}
				end := i >= len(pkts)-EndRepeats
				switch {
				case p.Version != 2 || p.PayloadType != 101 || len(p.Payload) != 4:
					t.Errorf("packet %d: version %d pt %d payload % x", i, p.Version, p.PayloadType, p.Payload)
				case p.Marker != (i == 0):
					t.Errorf("packet %d: marker %v", i, p.Marker)
				case p.Timestamp != first.Timestamp || p.SSRC != first.SSRC:
					t.Errorf("packet %d: ts %d ssrc %d, first ts %d ssrc %d", i, p.Timestamp, p.SSRC, first.Timestamp, first.SSRC)
				case p.SequenceNumber != first.SequenceNumber+uint16(i):
					t.Errorf("packet %d: seq %d, first %d", i, p.SequenceNumber, first.SequenceNumber)
				case p.Payload[0] != 11 || p.Payload[1]&0x3f != 10 || p.Payload[1]&0x40 != 0:
					t.Errorf("packet %d: payload % x", i, p.Payload)
				case (p.Payload[1]&0x80 != 0) != end:
					t.Errorf("packet %d: end bit %v", i, !end)
				case binary.BigEndian.Uint16(p.Payload[2:]) != tc.durations[i]:
					t.Errorf("packet %d: duration %d, want %d", i, binary.BigEndian.Uint16(p.Payload[2:]), tc.durations[i])
				}
			}
		})
	}
}

func TestEventPacketsErrors(t *testing.T) {
	if _, err := EventPackets('x', 100*time.Millisecond, 101); !errors.Is(err, ErrBadDigit) {
		t.Errorf("bad digit: %v", err)
	}
	for _, d := range []time.Duration{0, -time.Second, 9 * time.Second} {
		if _, err := EventPackets('1', d, 101); !errors.Is(err, ErrBadDuration) {
			t.Errorf("duration %v: %v", d, err)
		}
	}
	if _, err := Tone('x', time.Second); !errors.Is(err, ErrBadDigit) {
		t.Errorf("Tone bad digit: %v", err)
	}
	if _, err := Tone('1', 0); !errors.Is(err, ErrBadDuration) {
		t.Errorf("Tone zero duration: %v", err)
	}
}
