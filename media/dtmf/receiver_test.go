package dtmf

import (
	"testing"
	"time"
)

// ev builds an RFC 4733 payload.
func ev(code uint8, end bool, duration uint16) []byte {
	flags := byte(10)
	if end {
		flags |= 0x80
	}
	return []byte{code, flags, byte(duration >> 8), byte(duration)}
}

type rx struct {
	payload []byte
	ts      uint32
}

// train is the packets of one press: continuations, then three ends.
func train(code uint8, ts uint32, steps int) []rx {
	var out []rx
	for i := 1; i <= steps; i++ {
		out = append(out, rx{ev(code, false, uint16(i*160)), ts})
	}
	for range 3 {
		out = append(out, rx{ev(code, true, uint16((steps+1)*160)), ts})
	}
	return out
}

func TestReceiver(t *testing.T) {
	cat := func(parts ...[]rx) []rx {
		var out []rx
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	drop := func(in []rx, idx ...int) []rx {
		skip := map[int]bool{}
		for _, i := range idx {
			skip[i] = true
		}
		var out []rx
		for i, p := range in {
			if !skip[i] {
				out = append(out, p)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		packets []rx
		want    string
		// durations of the reported events, when checked
		durations []time.Duration
	}{
		{"one press", train(5, 1000, 4), "5", []time.Duration{100 * time.Millisecond}},
		{"two presses same key", cat(train(1, 1000, 4), train(1, 3000, 4)), "11", nil},
		{"sequence", cat(train(1, 1000, 2), train(2, 3000, 2), train(11, 5000, 2), train(10, 7000, 2)), "12#*", nil},
		{"duplicated packets", cat(train(3, 1000, 3), train(3, 1000, 3)), "3", nil},
		{"all ends lost", cat(drop(train(7, 1000, 4), 4, 5, 6), train(8, 3000, 4)), "78", []time.Duration{80 * time.Millisecond, 100 * time.Millisecond}},
		{"only ends arrive", drop(train(9, 1000, 4), 0, 1, 2, 3), "9", nil},
		{"start lost", drop(train(4, 1000, 4), 0), "4", nil},
		{"reordered ends", func() []rx {
			p := train(6, 1000, 3)
			p[2], p[4] = p[4], p[2] // an end before a continuation
			return p
		}(), "6", nil},
		{"late packet of an earlier press", cat(train(1, 1000, 2), train(2, 3000, 1), []rx{{ev(1, true, 480), 1000}}, train(2, 3000, 1)), "12", nil},
		{"timestamp wraps", cat(train(1, 0xffffff00, 2), train(2, 0x100, 2)), "12", nil},
		{"stream restarted far behind", cat(train(1, 5_000_000, 2), train(2, 1000, 2)), "12", nil},
		{"malformed ignored", cat([]rx{{[]byte{1, 0x80, 0}, 1000}, {ev(16, true, 160), 1000}, {ev(200, true, 160), 2000}, {nil, 3000}}, train(0, 4000, 1)), "0", nil},
		{"other code on the same timestamp", cat([]rx{{ev(2, false, 160), 1000}, {ev(3, true, 320), 1000}}, train(2, 1000, 1)), "2", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Receiver
			var got []Event
			for _, p := range tc.packets {
				if e, ok := r.Packet(p.payload, p.ts); ok {
					got = append(got, e)
				}
			}
			var digits string
			for _, e := range got {
				digits += string(e.Digit)
			}
			if digits != tc.want {
				t.Fatalf("digits %q, want %q", digits, tc.want)
			}
			for i, d := range tc.durations {
				if got[i].Duration != d {
					t.Errorf("event %d: duration %v, want %v", i, got[i].Duration, d)
				}
			}
		})
	}
}

// TestReceiverEventPackets: what EventPackets makes, a Receiver reads as
// one press of the right length.
func TestReceiverEventPackets(t *testing.T) {
	for _, d := range "0123456789*#ABCD" {
		pkts, err := EventPackets(d, 120*time.Millisecond, 101)
		if err != nil {
			t.Fatal(err)
		}
		var r Receiver
		var got []Event
		for _, p := range pkts {
			ts := uint32(p[4])<<24 | uint32(p[5])<<16 | uint32(p[6])<<8 | uint32(p[7])
			if e, ok := r.Packet(p[12:], ts); ok {
				got = append(got, e)
			}
		}
		if len(got) != 1 || got[0].Digit != d || got[0].Duration != 120*time.Millisecond {
			t.Errorf("digit %q: got %+v", d, got)
		}
	}
}

// FuzzReceiverPacket: network input never panics, and a report is always
// a valid digit.
func FuzzReceiverPacket(f *testing.F) {
	f.Add([]byte{5, 0x8a, 0, 160}, uint32(1000), []byte{5, 0x0a, 0, 80}, uint32(1000))
	f.Add([]byte{16, 0x8a, 0, 160}, uint32(0), []byte{}, uint32(0))
	f.Add([]byte{1, 0, 0}, uint32(7), []byte{2, 0x80, 255, 255, 9, 9}, uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, a []byte, ta uint32, b []byte, tb uint32) {
		var r Receiver
		for _, p := range []rx{{a, ta}, {b, tb}, {a, ta}, {b, tb + 160}} {
			if e, ok := r.Packet(p.payload, p.ts); ok {
				if _, valid := Code(e.Digit); !valid || e.Duration < 0 {
					t.Fatalf("reported %+v", e)
				}
			}
		}
	})
}
