package dtmf

import "testing"

func TestCodeDigit(t *testing.T) {
	for i, d := range "0123456789*#ABCD" {
		code, ok := Code(d)
		if !ok || int(code) != i {
			t.Errorf("Code(%q) = %d, %v; want %d", d, code, ok, i)
		}
		back, ok := Digit(code)
		if !ok || back != d {
			t.Errorf("Digit(%d) = %q, %v; want %q", code, back, ok, d)
		}
	}
	if code, ok := Code('c'); !ok || code != 14 {
		t.Errorf("Code('c') = %d, %v; want 14", code, ok)
	}
	for _, d := range "EFe xX+-" {
		if _, ok := Code(d); ok {
			t.Errorf("Code(%q) accepted", d)
		}
	}
	for _, c := range []uint8{16, 17, 255} {
		if _, ok := Digit(c); ok {
			t.Errorf("Digit(%d) accepted", c)
		}
	}
}
