package siptest

import "testing"

func TestG711(t *testing.T) {
	tests := []struct {
		name   string
		enc    func(int16) byte
		dec    func(byte) int16
		silent byte
	}{
		{"ulaw", EncodeUlaw, DecodeUlaw, 0xFF},
		{"alaw", EncodeAlaw, DecodeAlaw, 0xD5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.enc(0); got != tt.silent {
				t.Errorf("encode(0) = %#x, want %#x", got, tt.silent)
			}
			for s := -32768; s <= 32767; s += 7 {
				got := int(tt.dec(tt.enc(int16(s))))
				// G.711 keeps 4 bits of mantissa: the error is under 1/16 of
				// the magnitude, plus the smallest step near zero.
				if d := abs(got - s); d > abs(s)/16+16 {
					t.Fatalf("%d decodes back as %d", s, got)
				}
			}
		})
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestToneLevel(t *testing.T) {
	samples := make([]int16, 0, 1600)
	for _, b := range toneBytes(1000, 10) {
		samples = append(samples, DecodeUlaw(b))
	}
	if l := ToneLevel(samples, 1000); l < 0.9 {
		t.Errorf("1000 Hz tone at %.2f", l)
	}
	if l := ToneLevel(samples, 400); l > 0.01 {
		t.Errorf("400 Hz in a 1000 Hz tone at %.2f", l)
	}
}

// toneBytes encodes a tone in packets of 20 ms, as the sender does.
func toneBytes(freq float64, packets int) []byte {
	var out []byte
	var phase float64
	for range packets {
		p := make([]byte, 160)
		phase = fillTone(p, PCMU, freq, phase)
		out = append(out, p...)
	}
	return out
}
