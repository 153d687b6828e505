package codec

import (
	"math"
	"testing"
)

// Values from the G.711 tables (and the G.191 reference code).
func TestKnownValues(t *testing.T) {
	decodes := []struct {
		name  string
		codec Codec
		in    byte
		want  int16
	}{
		{"ulaw +0", PCMU, 0xFF, 0},
		{"ulaw -0", PCMU, 0x7F, 0},
		{"ulaw max", PCMU, 0x80, 32124},
		{"ulaw min", PCMU, 0x00, -32124},
		{"ulaw smallest step", PCMU, 0xFE, 8},
		{"ulaw segment 1", PCMU, 0xEF, 132},
		{"alaw +small", PCMA, 0xD5, 8},
		{"alaw -small", PCMA, 0x55, -8},
		{"alaw max", PCMA, 0xAA, 32256},
		{"alaw min", PCMA, 0x2A, -32256},
		{"alaw segment 1", PCMA, 0xC5, 264},
	}
	for _, tc := range decodes {
		t.Run("decode "+tc.name, func(t *testing.T) {
			if got := tc.codec.Decode(tc.in); got != tc.want {
				t.Errorf("Decode(%#02x) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
	encodes := []struct {
		name  string
		codec Codec
		in    int16
		want  byte
	}{
		{"ulaw 0", PCMU, 0, 0xFF},
		{"ulaw -1", PCMU, -1, 0x7E},
		{"ulaw max", PCMU, math.MaxInt16, 0x80},
		{"ulaw min", PCMU, math.MinInt16, 0x00},
		{"ulaw 1000", PCMU, 1000, 0xCE},
		{"ulaw -1000", PCMU, -1000, 0x4E},
		{"alaw 0", PCMA, 0, 0xD5},
		{"alaw -1", PCMA, -1, 0x55},
		{"alaw max", PCMA, math.MaxInt16, 0xAA},
		{"alaw min", PCMA, math.MinInt16, 0x2A},
		{"alaw 1000", PCMA, 1000, 0xFA},
		{"alaw -1000", PCMA, -1000, 0x7A},
	}
	for _, tc := range encodes {
		t.Run("encode "+tc.name, func(t *testing.T) {
			if got := tc.codec.Encode(tc.in); got != tc.want {
				t.Errorf("Encode(%d) = %#02x, want %#02x", tc.in, got, tc.want)
			}
		})
	}
}

// Every code word decodes to a value that encodes back to the same word;
// µ-law's negative zero (0x7F) is the one word that comes back as +0.
func TestRoundTrip(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		for i := range 256 {
			b := byte(i)
			want := b
			if c == PCMU && b == 0x7F {
				want = 0xFF
			}
			if got := c.Encode(c.Decode(b)); got != want {
				t.Errorf("%v: Encode(Decode(%#02x)) = %#02x, want %#02x", c, b, got, want)
			}
		}
	}
}

// Encoding is monotonic over the whole 16-bit range: a louder sample never
// decodes quieter than a softer one.
func TestMonotonic(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		prev := c.Decode(c.Encode(math.MinInt16))
		for s := math.MinInt16 + 1; s <= math.MaxInt16; s++ {
			got := c.Decode(c.Encode(int16(s)))
			if got < prev {
				t.Fatalf("%v: sample %d decodes to %d, below %d", c, s, got, prev)
			}
			prev = got
		}
	}
}

func TestTranslation(t *testing.T) {
	tests := []struct {
		name     string
		from, to Codec
		ok       bool
	}{
		{"ulaw to alaw", PCMU, PCMA, true},
		{"alaw to ulaw", PCMA, PCMU, true},
		{"same codec", PCMU, PCMU, false},
		{"unknown", Unknown, PCMA, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, ok := Translation(tc.from, tc.to)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			for i := range 256 {
				want := tc.to.Encode(tc.from.Decode(byte(i)))
				if tab[i] != want {
					t.Errorf("table[%#02x] = %#02x, want %#02x", i, tab[i], want)
				}
			}
		})
	}
	// Silence maps to silence; full scale stays full scale.
	for _, tc := range []struct{ in, want byte }{{0xFF, 0xD5}, {0x7F, 0xD5}, {0x80, 0xAA}, {0x00, 0x2A}} {
		if got := UlawToAlaw(tc.in); got != tc.want {
			t.Errorf("UlawToAlaw(%#02x) = %#02x, want %#02x", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want byte }{{0xD5, 0xFE}, {0x55, 0x7E}, {0xAA, 0x80}, {0x2A, 0x00}} {
		if got := AlawToUlaw(tc.in); got != tc.want {
			t.Errorf("AlawToUlaw(%#02x) = %#02x, want %#02x", tc.in, got, tc.want)
		}
	}
	tab, _ := Translation(PCMU, PCMA)
	p := []byte{0xFF, 0x80, 0x00}
	tab.Apply(p)
	if p[0] != 0xD5 || p[1] != 0xAA || p[2] != 0x2A {
		t.Errorf("Apply = % x", p)
	}
}

func TestCodecNames(t *testing.T) {
	tests := []struct {
		c     Codec
		name  string
		pt    uint8
		hasPT bool
	}{
		{Unknown, "unknown", 0, false},
		{PCMU, "PCMU", 0, true},
		{PCMA, "PCMA", 8, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c.String() != tc.name {
				t.Errorf("String() = %q", tc.c.String())
			}
			pt, ok := tc.c.PayloadType()
			if pt != tc.pt || ok != tc.hasPT {
				t.Errorf("PayloadType() = %d, %v", pt, ok)
			}
			if ok && FromPayloadType(pt) != tc.c {
				t.Errorf("FromPayloadType(%d) = %v", pt, FromPayloadType(pt))
			}
			if ok && FromName(tc.name, 8000) != tc.c {
				t.Errorf("FromName(%q) = %v", tc.name, FromName(tc.name, 8000))
			}
		})
	}
	if FromName("pcmu", 8000) != PCMU || FromName("PCMU", 16000) != Unknown || FromPayloadType(18) != Unknown {
		t.Error("FromName/FromPayloadType mismatch")
	}
}

// TestSliceHelpers: DecodeG711 and EncodeG711 agree with the per-byte
// functions and append to what out holds.
func TestSliceHelpers(t *testing.T) {
	pcm := make([]int16, 320)
	for i := range pcm {
		pcm[i] = int16((i*211)%65536 - 32768)
	}
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			enc := EncodeG711(c, pcm, []byte{0xAA})
			if len(enc) != len(pcm)+1 || enc[0] != 0xAA {
				t.Fatalf("EncodeG711 did not append: len %d first %#x", len(enc), enc[0])
			}
			dec := DecodeG711(c, enc[1:], []int16{7})
			if len(dec) != len(pcm)+1 || dec[0] != 7 {
				t.Fatalf("DecodeG711 did not append: len %d first %d", len(dec), dec[0])
			}
			for i, s := range pcm {
				if enc[i+1] != c.Encode(s) {
					t.Fatalf("sample %d: encoded %#x, want %#x", i, enc[i+1], c.Encode(s))
				}
				if dec[i+1] != c.Decode(enc[i+1]) {
					t.Fatalf("byte %d: decoded %d, want %d", i, dec[i+1], c.Decode(enc[i+1]))
				}
			}
		})
	}
	if got := DecodeG711(Unknown, []byte{1, 2, 3}, nil); len(got) != 3 || got[0] != 0 || got[2] != 0 {
		t.Errorf("Unknown decoded as %v, want silence", got)
	}
	if got := EncodeG711(Unknown, []int16{100, -100}, nil); len(got) != 2 || got[0] != 0 {
		t.Errorf("Unknown encoded as %v, want zero bytes", got)
	}
}
