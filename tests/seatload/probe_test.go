package main

import (
	"errors"
	"testing"
	"time"
)

func TestReadProbe(t *testing.T) {
	good := make([]byte, payloadLen)
	want := probe{seat: 7, seq: 1234, t0: 1_700_000_000_000_000_000, t1: 1_700_000_000_000_500_000}
	want.put(good)
	badMagic := append([]byte(nil), good...)
	badMagic[0] = 'x'
	tests := []struct {
		name    string
		payload []byte
		want    probe
		wantErr bool
	}{
		{"whole frame", good, want, false},
		{"just the probe", good[:probeLen], want, false},
		{"truncated", good[:probeLen-1], probe{}, true},
		{"another payload", badMagic, probe{}, true},
		{"empty", nil, probe{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readProbe(tt.payload)
			if tt.wantErr {
				if !errors.Is(err, errNotProbe) {
					t.Fatalf("readProbe = %+v, %v; want errNotProbe", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("readProbe = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzReadProbe(f *testing.F) {
	b := make([]byte, payloadLen)
	probe{seat: 1, seq: 2, t0: 3, t1: 4}.put(b)
	f.Add(b)
	f.Add([]byte("seat"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := readProbe(b)
		if err != nil {
			return
		}
		out := make([]byte, probeLen)
		p.put(out)
		if q, err := readProbe(out); err != nil || q != p {
			t.Fatalf("round trip: %+v, %v; want %+v", q, err, p)
		}
	})
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		name    string
		add     []time.Duration
		q       float64
		want    time.Duration
		wantMax time.Duration
	}{
		{"empty", nil, 0.5, 0, 0},
		{"one value rounds up to its bucket", []time.Duration{15 * time.Microsecond}, 0.5, 20 * time.Microsecond, 15 * time.Microsecond},
		{"median", []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}, 0.5, 2*time.Millisecond + histStep, 3 * time.Millisecond},
		{"p99 of two is the larger", []time.Duration{0, time.Millisecond}, 0.99, time.Millisecond + histStep, time.Millisecond},
		{"slower than the range lands in the last bucket", []time.Duration{time.Second}, 0.5, histBuckets * histStep, time.Second},
		{"negative counts as zero", []time.Duration{-time.Millisecond}, 0.5, histStep, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &histogram{}
			for _, d := range tt.add {
				h.add(d)
			}
			if got := h.quantile(tt.q); got != tt.want {
				t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
			if got := time.Duration(h.max.Load()); got != tt.wantMax {
				t.Errorf("max = %v, want %v", got, tt.wantMax)
			}
		})
	}
}
