package rtp

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"

	"github.com/ccbox/ccbox/config"
)

func TestNewPortPoolRejects(t *testing.T) {
	m, _ := NewMetrics(nilRegisterer{})
	ip := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name string
		cfg  PoolConfig
	}{
		{"no ip", PoolConfig{Ports: config.PortRange{First: 41000, Last: 41010}, Metrics: m}},
		{"single port", PoolConfig{IP: ip, Ports: config.PortRange{First: 41000, Last: 41000}, Metrics: m}},
		{"odd pair only", PoolConfig{IP: ip, Ports: config.PortRange{First: 41001, Last: 41002}, Metrics: m}},
		{"no metrics", PoolConfig{IP: ip, Ports: config.PortRange{First: 41000, Last: 41010}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewPortPool(tc.cfg); !errors.Is(err, ErrPoolConfig) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestPortPool(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	// Three pairs: 41100, 41102, 41104; someone else holds 41102's RTCP port.
	busy, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:41103")))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pool, _ := newTestPool(t, func(c *PoolConfig) { c.Ports = config.PortRange{First: 41099, Last: 41105} })

	var eps []*Endpoint
	for range 2 {
		e, err := pool.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, e)
	}
	ports := []uint16{eps[0].LocalAddr().Port(), eps[1].LocalAddr().Port()}
	if ports[0] != 41100 || ports[1] != 41104 {
		t.Fatalf("ports %v, want [41100 41104]", ports)
	}
	if _, err := pool.Allocate(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third Allocate: %v, want ErrNoPorts", err)
	}
	if pool.InUse() != 2 {
		t.Fatalf("InUse %d", pool.InUse())
	}
	if err := eps[0].Close(); err != nil {
		t.Fatal(err)
	}
	if err := eps[0].Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	e, err := pool.Allocate()
	if err != nil || e.LocalAddr().Port() != 41100 {
		t.Fatalf("reallocate: %v %v", e, err)
	}
	_ = e.Close()
	_ = eps[1].Close()
	if pool.InUse() != 0 {
		t.Fatalf("InUse %d after closing all", pool.InUse())
	}
	eventually(t, "readers gone", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// TestPortPoolConcurrent: many goroutines allocate and close at once; no
// port is handed out twice.
func TestPortPoolConcurrent(t *testing.T) {
	pool, _ := newTestPool(t, func(c *PoolConfig) { c.Ports = config.PortRange{First: 41200, Last: 41299} })
	var mu sync.Mutex
	seen := map[uint16]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			e, err := pool.Allocate()
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			dup := seen[e.LocalAddr().Port()]
			seen[e.LocalAddr().Port()] = true
			mu.Unlock()
			if dup {
				errs <- errors.New("port handed out twice")
			}
			t.Cleanup(func() { _ = e.Close() })
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for p := range seen {
		if p%2 != 0 {
			t.Errorf("odd RTP port %d", p)
		}
	}
}
