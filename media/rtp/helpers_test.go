package rtp

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock is an injected clock the test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type poolOpt func(*PoolConfig)

// newTestPool returns a pool on 127.0.0.1 with a fresh registry.
func newTestPool(t testing.TB, opts ...poolOpt) (*PortPool, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := PoolConfig{
		IP:      netip.MustParseAddr("127.0.0.1"),
		Ports:   config.PortRange{First: 41000, Last: 41999},
		Metrics: m,
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := NewPortPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Last of the test's cleanups (endpoints close first): a pool under
	// churn keeps its parked pairs for IdleClose, and the next test's
	// pool on the same range needs the ports.
	t.Cleanup(func() { _ = p.dropParked() })
	return p, reg
}

// dropParked closes every parked pair now.
func (p *PortPool) dropParked() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeParked()
}

func allocate(t testing.TB, p *PortPool) *Endpoint {
	t.Helper()
	e, err := p.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// phone is a fake SIP phone's RTP socket on its own loopback address.
type phone struct {
	t    testing.TB
	conn *net.UDPConn
	buf  []byte
	pkt  Packet
}

func newPhone(t testing.TB, ip string) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ip+":0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &phone{t: t, conn: c, buf: make([]byte, 2048)}
}

func (ph *phone) addr() netip.AddrPort { return ph.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends one RTP packet to the endpoint.
func (ph *phone) send(to *Endpoint, h Header, payload []byte) {
	ph.t.Helper()
	b := AppendPacket(ph.buf[:0], h, payload)
	if _, err := ph.conn.WriteToUDPAddrPort(b, to.LocalAddr()); err != nil {
		ph.t.Fatal(err)
	}
}

// recv waits (boundedly) for one RTP packet; the result is valid until the
// next call.
func (ph *phone) recv() *Packet {
	ph.t.Helper()
	_ = ph.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := ph.conn.ReadFromUDPAddrPort(ph.buf)
	if err != nil {
		ph.t.Fatalf("no packet: %v", err)
	}
	if err := ph.pkt.Unmarshal(ph.buf[:n]); err != nil {
		ph.t.Fatal(err)
	}
	return &ph.pkt
}

// expectNothing checks that no packet arrives within a short wait.
func (ph *phone) expectNothing() {
	ph.t.Helper()
	_ = ph.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := ph.conn.ReadFromUDPAddrPort(ph.buf); err == nil {
		ph.t.Fatalf("unexpected packet of %d bytes", n)
	}
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// counterValue reads one sample of a gathered counter.
func sampleValue(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label) {
				if g := m.GetGauge(); g != nil {
					return g.GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}
