package main

import (
	"encoding/binary"
	"testing"
)

// seatPacket is an RTP packet (with cc CSRCs and, when ext, a one-word
// header extension) carrying a seat probe whose t1 is zero.
func seatPacket(cc int, ext bool) []byte {
	pkt := []byte{0x80 | byte(cc), 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4}
	pkt = append(pkt, make([]byte, 4*cc)...)
	if ext {
		pkt[0] |= 0x10
		pkt = append(pkt, 0xbe, 0xde, 0, 1, 1, 2, 3, 4)
	}
	probe := make([]byte, 160)
	binary.BigEndian.PutUint32(probe, seatProbeMagic)
	binary.BigEndian.PutUint64(probe[12:], 111)
	return append(pkt, probe...)
}

func TestStampEcho(t *testing.T) {
	plain := seatPacket(0, false)
	notProbe := seatPacket(0, false)
	notProbe[rtpHeaderLen] = 'x'
	tests := []struct {
		name string
		pkt  []byte
		off  int // where the probe starts; -1: not a probe
	}{
		{"plain header", plain, rtpHeaderLen},
		{"two CSRCs", seatPacket(2, false), rtpHeaderLen + 8},
		{"header extension", seatPacket(0, true), rtpHeaderLen + 8},
		{"another payload", notProbe, -1},
		{"truncated probe", plain[:rtpHeaderLen+seatProbeLen-1], -1},
		{"not RTP version 2", append([]byte{0x40}, plain[1:]...), -1},
		{"short header", plain[:5], -1},
		{"extension past the end", []byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := append([]byte(nil), tt.pkt...)
			got := stampEcho(pkt, 42)
			if got != (tt.off >= 0) {
				t.Fatalf("stampEcho = %v, want %v", got, tt.off >= 0)
			}
			if tt.off < 0 {
				if string(pkt) != string(tt.pkt) {
					t.Errorf("stampEcho changed a packet that carries no probe")
				}
				return
			}
			if t1 := binary.BigEndian.Uint64(pkt[tt.off+seatProbeEcho:]); t1 != 42 {
				t.Errorf("t1 = %d, want 42", t1)
			}
			if t0 := binary.BigEndian.Uint64(pkt[tt.off+12:]); t0 != 111 {
				t.Errorf("t0 changed to %d", t0)
			}
		})
	}
}

func FuzzStampEcho(f *testing.F) {
	f.Add(seatPacket(0, false))
	f.Add(seatPacket(3, true))
	f.Add([]byte{0x9f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		n := len(b)
		stampEcho(b, 1)
		if len(b) != n {
			t.Fatal("length changed")
		}
	})
}
