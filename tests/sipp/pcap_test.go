package sipp

import (
	"encoding/binary"
	"github.com/ccbox/ccbox/tests/audiotest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWritePcap reads back the file the way SIPp does: global header, then
// per record the Ethernet, IPv4 and UDP headers around an RTP packet, with
// timestamps Ptime apart.
func TestWritePcap(t *testing.T) {
	tests := []struct {
		name    string
		pt      uint8
		samples int
		packets int
	}{
		{"PCMU one second", audiotest.PayloadPCMU, 8000, 50},
		{"PCMA with a short last packet", audiotest.PayloadPCMA, 8000 + 80, 51},
		{"empty", audiotest.PayloadPCMU, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.pcap")
			samples := make([]int16, tt.samples)
			for i := range samples {
				samples[i] = int16(i * 7)
			}
			if err := WritePcap(path, tt.pt, samples); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			le := binary.LittleEndian
			if len(b) < 24 || le.Uint32(b) != 0xa1b2c3d4 || le.Uint32(b[20:]) != 1 {
				t.Fatalf("bad global header % x", b[:min(24, len(b))])
			}
			off, n := 24, 0
			var decoded []int16
			for ; off < len(b) && n < tt.packets+1; n++ {
				if len(b) < off+16 {
					t.Fatalf("record %d: truncated header", n)
				}
				at := time.Duration(le.Uint32(b[off:]))*time.Second + time.Duration(le.Uint32(b[off+4:]))*time.Microsecond
				if at != time.Duration(n)*Ptime {
					t.Errorf("record %d at %v, want %v", n, at, time.Duration(n)*Ptime)
				}
				size := int(le.Uint32(b[off+8:]))
				frame := b[off+16 : off+16+size]
				off += 16 + size
				if binary.BigEndian.Uint16(frame[12:]) != 0x0800 || frame[14] != 0x45 || frame[23] != 17 {
					t.Fatalf("record %d: not Ethernet/IPv4/UDP", n)
				}
				if ipChecksum(frame[14:34]) != 0 {
					t.Errorf("record %d: bad IPv4 checksum", n)
				}
				udp := frame[34:]
				if int(binary.BigEndian.Uint16(udp[4:])) != len(udp) {
					t.Errorf("record %d: UDP length %d, frame has %d", n, binary.BigEndian.Uint16(udp[4:]), len(udp))
				}
				pkt, ok := ParseRTP(udp[8:])
				if !ok || pkt.PT != tt.pt || pkt.Seq != uint16(n) {
					t.Fatalf("record %d: RTP %+v %v", n, pkt, ok)
				}
				decoded = append(decoded, audiotest.DecodeG711(pkt.PT, pkt.Payload)...)
			}
			if n != tt.packets || off != len(b) {
				t.Errorf("%d records ending at %d of %d bytes, want %d records", n, off, len(b), tt.packets)
			}
			if len(decoded) != tt.samples {
				t.Errorf("%d samples in the file, want %d", len(decoded), tt.samples)
			}
		})
	}
}
