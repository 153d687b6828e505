package main

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestReadProbe(t *testing.T) {
	pkt := func(cc int, ext bool, magic bool) []byte {
		b := make([]byte, rtpHeaderLen+4*cc, 400)
		b[0] = 0x80 | byte(cc)
		if ext {
			b[0] |= 0x10
			b = append(b, 0xbe, 0xde, 0, 1, 1, 2, 3, 4) // one word of extension
		}
		p := make([]byte, frameSamples)
		probe{stream: 7, seq: 9, sent: 123456789}.put(p)
		if !magic {
			p[0] = 0
		}
		return append(b, p...)
	}
	want := probe{stream: 7, seq: 9, sent: 123456789}
	tests := []struct {
		name    string
		pkt     []byte
		wantErr bool
	}{
		{"plain", pkt(0, false, true), false},
		{"with CSRCs", pkt(2, false, true), false},
		{"with an extension", pkt(0, true, true), false},
		{"foreign payload", pkt(0, false, false), true},
		{"short", pkt(0, false, true)[:rtpHeaderLen+probeLen-1], true},
		{"RTP version 1", func() []byte { b := pkt(0, false, true); b[0] = 0x40; return b }(), true},
		{"extension runs off the end", func() []byte { b := pkt(0, true, true); binary.BigEndian.PutUint16(b[14:], 500); return b }(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readProbe(tt.pkt)
			if tt.wantErr {
				if !errors.Is(err, errNotProbe) {
					t.Fatalf("readProbe = %+v, %v; want errNotProbe", got, err)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("readProbe = %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	h := make([]uint64, 10)
	h[0], h[4], h[9] = 98, 1, 1
	tests := []struct {
		q    float64
		want float64
	}{{0.5, 1}, {0.98, 1}, {0.99, 5}, {1, 10}}
	for _, tt := range tests {
		if got := percentile(h, tt.q); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := percentile(make([]uint64, 3), 0.5); got != 0 {
		t.Errorf("empty histogram: %v", got)
	}
}

// TestMediaLoopback sends between two leg sockets pointed at each other
// (standing in for the relay) and checks the counts over a window.
func TestMediaLoopback(t *testing.T) {
	m, err := newMedia(2, "127.0.0.1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	if err := m.activate(0, "127.0.0.1", m.legs[1].port); err != nil {
		t.Fatal(err)
	}
	if err := m.activate(1, "127.0.0.1", m.legs[0].port); err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, rtpHeaderLen+frameSamples)
	// Probe time starts a second back, so a packet "sent" 80 ms ago is
	// still inside the window.
	m.start = m.start.Add(-time.Second)
	m.winStart.Store(1)
	// Drive the accounting directly, without the pacer's clock: two
	// packets from leg 0 arrive at leg 1, one late; one from leg 1 at leg 0.
	pkt[0] = 0x80
	for _, p := range []struct {
		to   int
		pr   probe
		late bool
	}{{1, probe{stream: 0, seq: 0, sent: 10}, false}, {1, probe{stream: 0, seq: 1, sent: 20}, true}, {0, probe{stream: 1, seq: 0, sent: 10}, false}} {
		p.pr.put(pkt[rtpHeaderLen:])
		if p.late {
			binary.BigEndian.PutUint64(pkt[rtpHeaderLen+12:], uint64(m.now()-int64(2*lateAfter)))
		} else {
			binary.BigEndian.PutUint64(pkt[rtpHeaderLen+12:], uint64(m.now()))
		}
		m.account(p.to, pkt)
	}
	m.legs[0].sentWin, m.legs[1].sentWin = 3, 1 // leg 0 sent one more that never came
	r := m.result()
	if r.Sent != 4 || r.Received != 3 || r.Lost != 1 || r.Late != 1 || r.Crossed != 0 || r.Deaf != 0 {
		t.Fatalf("result %+v", r)
	}
	// A packet of stream 0 arriving at leg 0 itself is crossed media.
	probe{stream: 0, seq: 5, sent: m.now()}.put(pkt[rtpHeaderLen:])
	m.account(1, pkt)
	m.account(0, pkt)
	if r := m.result(); r.Crossed != 1 {
		t.Fatalf("crossed = %d, want 1", r.Crossed)
	}
}
