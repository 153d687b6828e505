package sip

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// SIP trace on demand (OPS-2): for a while, every SIP message exchanged over
// UDP with a trunk's carrier is written to the log whole, so an admin can
// see what the carrier sends and gets without a packet capture. The trace
// sits on the SIP UDP socket (TracePacketConn), where both the carrier's
// requests and the box's pass; with no trace running it costs one atomic
// load per datagram.

// MaxTrace bounds one trace: a forgotten trace must not fill the log.
const MaxTrace = time.Hour

// tracer knows which carrier addresses are traced until when.
type tracer struct {
	on    atomic.Int32 // traces running (a fast "none")
	mu    sync.Mutex
	until map[string]time.Time // trunk name → end
	addrs map[netip.Addr]string
}

// Trace logs every SIP message over UDP to and from trunk name's addresses
// (its host's and Addresses) for d (at most MaxTrace; zero stops a trace).
func (t *Trunks) Trace(name string, d time.Duration) error {
	t.mu.Lock()
	tr, ok := t.trunks[name]
	var addrs []netip.Addr
	if ok {
		addrs = append(addrs, tr.resolved...)
		if a, err := netip.ParseAddr(tr.cfg.Host); err == nil {
			addrs = append(addrs, a.Unmap())
		}
		for _, p := range tr.cfg.Addresses {
			if p.IsSingleIP() {
				addrs = append(addrs, p.Addr().Unmap())
			}
		}
	}
	t.mu.Unlock()
	if !ok {
		return ErrNoSuchTrunk
	}
	d = min(d, MaxTrace)
	tc := &t.trace
	tc.mu.Lock()
	if tc.until == nil {
		tc.until, tc.addrs = map[string]time.Time{}, map[netip.Addr]string{}
	}
	if d <= 0 {
		delete(tc.until, name)
	} else {
		tc.until[name] = t.opts.Now().Add(d)
		for _, a := range addrs {
			tc.addrs[a] = name
		}
	}
	tc.on.Store(int32(len(tc.until)))
	tc.mu.Unlock()
	t.log.Info("sip trace", "trunk", name, "for", d, "addresses", addrs)
	return nil
}

// traced returns the trunk whose carrier addr is, when it is being traced.
func (t *Trunks) traced(addr net.Addr) (string, bool) {
	tc := &t.trace
	if tc.on.Load() == 0 {
		return "", false
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return "", false
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return "", false
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	name, ok := tc.addrs[ip.Unmap()]
	if !ok {
		return "", false
	}
	end, running := tc.until[name]
	if !running || t.opts.Now().After(end) {
		delete(tc.until, name)
		tc.on.Store(int32(len(tc.until)))
		return "", false
	}
	return name, true
}

// TracePacketConn wraps the SIP UDP socket so traces see its datagrams.
func (t *Trunks) TracePacketConn(c net.PacketConn) net.PacketConn {
	return &tracedConn{PacketConn: c, t: t}
}

type tracedConn struct {
	net.PacketConn
	t *Trunks
}

func (c *tracedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil && n > 0 {
		if name, ok := c.t.traced(addr); ok {
			c.t.log.Info("sip trace", "trunk", name, "dir", "in", "peer", addr.String(), "message", string(b[:n]))
		}
	}
	return n, addr, err
}

func (c *tracedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if name, ok := c.t.traced(addr); ok {
		c.t.log.Info("sip trace", "trunk", name, "dir", "out", "peer", addr.String(), "message", string(b))
	}
	return c.PacketConn.WriteTo(b, addr)
}
