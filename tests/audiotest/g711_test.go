package audiotest

import (
	"math"
	"testing"
)

func TestG711RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		pt   uint8
		in   int16
	}{
		{"PCMU zero", PayloadPCMU, 0},
		{"PCMU small", PayloadPCMU, 100},
		{"PCMU negative", PayloadPCMU, -1000},
		{"PCMU loud", PayloadPCMU, 30000},
		{"PCMU full scale", PayloadPCMU, math.MinInt16},
		{"PCMA zero", PayloadPCMA, 0},
		{"PCMA small", PayloadPCMA, 100},
		{"PCMA negative", PayloadPCMA, -1000},
		{"PCMA loud", PayloadPCMA, 30000},
		{"PCMA full scale", PayloadPCMA, math.MinInt16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DecodeG711(tt.pt, EncodeG711(tt.pt, []int16{tt.in}))[0]
			// G.711 keeps about 4 bits of mantissa: the error is within
			// 1/16 of the value, plus the smallest step near zero.
			if d := math.Abs(float64(got) - float64(tt.in)); d > math.Abs(float64(tt.in))/16+16 {
				t.Errorf("%d → %d, off by %v", tt.in, got, d)
			}
		})
	}
}

// TestG711KnownCodes pins a few codes of the ITU-T tables, so the encoder
// cannot drift along with the decoder.
func TestG711KnownCodes(t *testing.T) {
	tests := []struct {
		name string
		pt   uint8
		in   int16
		want byte
	}{
		{"PCMU silence", PayloadPCMU, 0, 0xff},
		{"PCMU positive peak", PayloadPCMU, 32767, 0x80},
		{"PCMU negative peak", PayloadPCMU, -32768, 0x00},
		{"PCMA silence", PayloadPCMA, 0, 0xd5},
		{"PCMA positive peak", PayloadPCMA, 32767, 0xaa},
		{"PCMA negative peak", PayloadPCMA, -32768, 0x2a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeG711(tt.pt, []int16{tt.in})[0]; got != tt.want {
				t.Errorf("EncodeG711(%d) = %#x, want %#x", tt.in, got, tt.want)
			}
		})
	}
}
