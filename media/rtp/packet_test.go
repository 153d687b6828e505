package rtp

import (
	"bytes"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// nilRegisterer accepts every collector, for tests that need Metrics but
// not their values.
type nilRegisterer struct{}

func (nilRegisterer) Register(prometheus.Collector) error  { return nil }
func (nilRegisterer) MustRegister(...prometheus.Collector) {}
func (nilRegisterer) Unregister(prometheus.Collector) bool { return true }

func TestUnmarshal(t *testing.T) {
	base := AppendPacket(nil, Header{PayloadType: 8, Marker: true, Sequence: 0xBEEF, Timestamp: 0xDEADBEEF, SSRC: 42}, []byte{1, 2, 3})
	withCSRC := append([]byte{0x82}, base[1:12]...)
	withCSRC = append(withCSRC, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3)
	withExt := append([]byte{0x90}, base[1:12]...)
	withExt = append(withExt, 0xBE, 0xDE, 0, 1, 9, 9, 9, 9, 1, 2, 3)
	withPad := append([]byte{0xA0}, base[1:]...)
	withPad = append(withPad, 0, 2)
	tests := []struct {
		name    string
		b       []byte
		payload []byte
		err     error
	}{
		{"plain", base, []byte{1, 2, 3}, nil},
		{"csrc", withCSRC, []byte{1, 2, 3}, nil},
		{"extension", withExt, []byte{1, 2, 3}, nil},
		{"padding", withPad, []byte{1, 2, 3}, nil},
		{"short", base[:11], nil, ErrInvalidPacket},
		{"version 1", append([]byte{0x40}, base[1:]...), nil, ErrInvalidPacket},
		{"csrc overrun", append([]byte{0x8F}, base[1:]...), nil, ErrInvalidPacket},
		{"extension overrun", append([]byte{0x90}, base[1:12]...), nil, ErrInvalidPacket},
		{"zero padding", append(append([]byte{0xA0}, base[1:]...), 0), nil, ErrInvalidPacket},
		{"padding overrun", append(append([]byte{0xA0}, base[1:12]...), 200), nil, ErrInvalidPacket},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			err := p.Unmarshal(tc.b)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(p.Payload(), tc.payload) {
				t.Errorf("payload % x", p.Payload())
			}
			if p.PayloadType != 8 || !p.Marker || p.Sequence != 0xBEEF || p.Timestamp != 0xDEADBEEF || p.SSRC != 42 {
				t.Errorf("header %+v", p.Header)
			}
		})
	}
}

// FuzzUnmarshal: any bytes parse or fail cleanly; an accepted packet's
// payload lies inside it and its header survives a rewrite.
func FuzzUnmarshal(f *testing.F) {
	f.Add(AppendPacket(nil, Header{PayloadType: 0, Sequence: 1, Timestamp: 160, SSRC: 7}, make([]byte, 160)))
	f.Add([]byte{0xB1, 0x80, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 0, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if p.Unmarshal(b) != nil {
			return
		}
		if p.payloadStart < HeaderSize || p.payloadStart > p.payloadEnd || p.payloadEnd > len(b) {
			t.Fatalf("payload [%d:%d] of %d bytes", p.payloadStart, p.payloadEnd, len(b))
		}
		h := p.Header
		p.writeHeader()
		var q Packet
		if err := q.Unmarshal(b); err != nil || q.Header != h {
			t.Fatalf("rewrite changed the header: %+v -> %+v (%v)", h, q.Header, err)
		}
	})
}
