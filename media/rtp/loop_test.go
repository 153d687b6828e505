package rtp

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"

	"github.com/ccbox/ccbox/config"
	"golang.org/x/sys/unix"
)

// TestLoopsManyCallsWithChurn: many bridged pairs share a few relay loops
// while other endpoints are allocated and closed all the time, so socket
// numbers are reused under the loops. Every packet reaches its own call's
// far phone, none another's, and the loops end with the last endpoint.
func TestLoopsManyCallsWithChurn(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	pool, _ := newTestPool(t, func(c *PoolConfig) {
		c.Ports = config.PortRange{First: 42000, Last: 42999}
		c.Loops = 2
	})
	const pairs, rounds = 24, 100
	type call struct {
		a, b           *Endpoint
		phoneA, phoneB *phone
	}
	calls := make([]call, pairs)
	for i := range calls {
		c := &calls[i]
		c.a, c.b = allocate(t, pool), allocate(t, pool)
		c.phoneA, c.phoneB = newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
		c.b.SetRemote(c.phoneB.addr())
		Bridge(c.a, c.b)
	}

	stop := make(chan struct{})
	var churn sync.WaitGroup
	for range 2 {
		churn.Go(func() {
			for n := 0; n < 100_000; n++ { // bounded; ends at stop long before
				select {
				case <-stop:
					return
				default:
				}
				e, err := pool.Allocate()
				if err != nil {
					t.Error(err)
					return
				}
				_ = e.Close()
			}
		})
	}

	payload := make([]byte, 160)
	for r := range rounds {
		for i := range calls {
			binary.BigEndian.PutUint32(payload, uint32(i))
			calls[i].phoneA.send(calls[i].a, Header{SSRC: uint32(1000 + i), Sequence: uint16(r), Timestamp: uint32(r * 160)}, payload)
		}
		for i := range calls {
			got := calls[i].phoneB.recv()
			if from := binary.BigEndian.Uint32(got.Payload()); from != uint32(i) {
				t.Fatalf("round %d: call %d's phone got call %d's audio", r, i, from)
			}
		}
	}
	close(stop)
	churn.Wait()

	for i := range calls {
		if s := calls[i].b.Stats(); s.PacketsOut != rounds {
			t.Errorf("call %d relayed %d packets, want %d", i, s.PacketsOut, rounds)
		}
		_ = calls[i].a.Close()
		_ = calls[i].b.Close()
	}
	if n := pool.InUse(); n != 0 {
		t.Fatalf("InUse %d after closing all", n)
	}
	eventually(t, "relay loops gone", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// TestLoopSocketReadAfterBurst: a burst larger than one read batch is all
// relayed (the loop comes back to a socket whose read filled the batch,
// with no new datagram to report it again).
func TestLoopSocketReadAfterBurst(t *testing.T) {
	pool, _ := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	b.SetRemote(phoneB.addr())
	Bridge(a, b)
	const burst = 5*recvBatchSize + 3
	for i := range burst {
		phoneA.send(a, Header{SSRC: 7, Sequence: uint16(i), Timestamp: uint32(i * 160)}, frame)
	}
	for range burst {
		phoneB.recv()
	}
	eventually(t, "all counted", func() bool { return a.Stats().PacketsIn == burst })
	if s := a.Stats(); s.Lost != 0 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestCloseWhileRelaying: closing one leg while its peer is relaying into
// it neither blocks nor sends on a closed socket; the peer counts drops.
func TestCloseWhileRelaying(t *testing.T) {
	pool, _ := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	phoneA, phoneB := newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.3")
	b.SetRemote(phoneB.addr())
	Bridge(a, b)
	phoneA.send(a, Header{SSRC: 7, Sequence: 1}, frame)
	phoneB.recv()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			phoneA.send(a, Header{SSRC: 7, Sequence: uint16(2 + i)}, frame)
		}
	}()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	eventually(t, "a read everything", func() bool { return a.Stats().PacketsIn == 201 })
	if err := b.Send(AppendPacket(nil, Header{SSRC: 1}, frame)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close: %v, want net.ErrClosed", err)
	}
	if s := b.Stats(); s.PacketsOut+s.Dropped < 201 {
		t.Errorf("b accounted for %d of 201 packets: %+v", s.PacketsOut+s.Dropped, s)
	}
}

// TestSockaddr: addresses survive the trip through the kernel's layout for
// either socket family, and an IPv6 peer cannot be sent to from IPv4.
func TestSockaddr(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		v6      bool
		want    string // after the round trip; "" when putSockaddr refuses
		wantLen uintptr
	}{
		{"ipv4", "127.0.0.5:4000", false, "127.0.0.5:4000", unix.SizeofSockaddrInet4},
		{"mapped ipv4 on ipv4 socket", "[::ffff:127.0.0.5]:4000", false, "127.0.0.5:4000", unix.SizeofSockaddrInet4},
		{"ipv6", "[2001:db8::1]:65535", true, "[2001:db8::1]:65535", unix.SizeofSockaddrInet6},
		{"ipv4 on ipv6 socket", "127.0.0.5:1", true, "[::ffff:127.0.0.5]:1", unix.SizeofSockaddrInet6},
		{"ipv6 on ipv4 socket", "[2001:db8::1]:4000", false, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sa sockaddr
			n, err := putSockaddr(&sa, netip.MustParseAddrPort(tc.addr), tc.v6)
			if tc.want == "" {
				if !errors.Is(err, errAddrFamily) {
					t.Fatalf("err %v, want errAddrFamily", err)
				}
				return
			}
			if err != nil || n != tc.wantLen {
				t.Fatalf("len %d err %v", n, err)
			}
			if got := parseSockaddr(&sa); got != netip.MustParseAddrPort(tc.want) {
				t.Errorf("round trip %v, want %v", got, tc.want)
			}
		})
	}
	var unknown sockaddr
	if got := parseSockaddr(&unknown); got.IsValid() {
		t.Errorf("unknown family parsed as %v", got)
	}
}
