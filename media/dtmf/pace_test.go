package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestPace(t *testing.T) {
	pkts := [][]byte{{1}, {2}, {3}}
	var got []byte
	start := time.Now()
	if err := Pace(pkts, func(b []byte) error { got = append(got, b[0]); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if string(got) != "\x01\x02\x03" || time.Since(start) < 2*PacketInterval {
		t.Fatalf("sent %v in %v, want 3 packets over 2 intervals", got, time.Since(start))
	}
	stop := make(chan struct{})
	close(stop)
	n := 0
	if err := Pace(pkts, func([]byte) error { n++; return nil }, stop); !errors.Is(err, ErrStopped) || n != 1 {
		t.Fatalf("stopped: %v after %d packets, want ErrStopped after 1", err, n)
	}
	bad := errors.New("send failed")
	if err := Pace(pkts, func([]byte) error { return bad }, nil); !errors.Is(err, bad) {
		t.Fatalf("send error: %v", err)
	}
}
