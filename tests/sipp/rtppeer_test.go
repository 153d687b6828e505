package sipp

import (
	"bytes"
	"github.com/ccbox/ccbox/tests/audiotest"
	"testing"
	"time"
)

func TestParseRTP(t *testing.T) {
	base := RTPPacket(audiotest.PayloadPCMA, 7, 160, 0xabcdef01, []byte{1, 2, 3})
	withCSRC := append([]byte{0x81, 8, 0, 7, 0, 0, 0, 160, 0xab, 0xcd, 0xef, 0x01, 9, 9, 9, 9}, 1, 2, 3)
	withExt := append([]byte{0x90, 8, 0, 7, 0, 0, 0, 160, 0xab, 0xcd, 0xef, 0x01, 0xbe, 0xde, 0, 1, 5, 5, 5, 5}, 1, 2, 3)
	padded := append(append([]byte{}, base...), 0, 2)
	padded[0] |= 0x20
	tests := []struct {
		name    string
		in      []byte
		ok      bool
		payload []byte
	}{
		{"plain", base, true, []byte{1, 2, 3}},
		{"CSRC", withCSRC, true, []byte{1, 2, 3}},
		{"extension", withExt, true, []byte{1, 2, 3}},
		{"padding", padded, true, []byte{1, 2, 3}},
		{"short", base[:11], false, nil},
		{"version 1", append([]byte{0x40}, base[1:]...), false, nil},
		{"CSRC past the end", []byte{0x8f, 8, 0, 7, 0, 0, 0, 160, 1, 2, 3, 4}, false, nil},
		{"padding past the header", []byte{0xa0, 8, 0, 7, 0, 0, 0, 160, 1, 2, 3, 4, 200}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := ParseRTP(tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if p.PT != audiotest.PayloadPCMA || p.Seq != 7 || p.SSRC != 0xabcdef01 || !bytes.Equal(p.Payload, tt.payload) {
				t.Errorf("got %+v", p)
			}
		})
	}
}

func FuzzParseRTP(f *testing.F) {
	f.Add(RTPPacket(audiotest.PayloadPCMU, 1, 2, 3, []byte{4, 5}))
	f.Add([]byte{0xbf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := ParseRTP(b)
		if ok && len(p.Payload) > len(b)-12 {
			t.Fatalf("payload of %d bytes from a %d-byte packet", len(p.Payload), len(b))
		}
	})
}

// TestPeer sends a tone from one peer to another on loopback and reads it
// back.
func TestPeer(t *testing.T) {
	a, b := NewPeer(t, "127.0.0.1"), NewPeer(t, "127.0.0.1")
	samples := make([]int16, 5*samplesPerPacket)
	for i := range samples {
		samples[i] = int16(i%64) * 100
	}
	if err := a.Send(b.Addr(), audiotest.PayloadPCMU, samples); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(b.Received()) < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the receiver, bounded by the deadline
	}
	got := b.Received()
	if len(got) != 5 {
		t.Fatalf("received %d packets, want 5", len(got))
	}
	for i, p := range got {
		if p.From != a.Addr() || p.PT != audiotest.PayloadPCMU || p.Seq != uint16(i) || len(p.Payload) != samplesPerPacket {
			t.Errorf("packet %d: %+v", i, p)
		}
	}
	if n := len(Audio(got, audiotest.PayloadPCMU)); n != len(samples) {
		t.Errorf("Audio: %d samples, want %d", n, len(samples))
	}
	if n := len(Audio(got, audiotest.PayloadPCMA)); n != 0 {
		t.Errorf("Audio of another payload type: %d samples, want 0", n)
	}
}
