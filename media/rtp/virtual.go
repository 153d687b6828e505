package rtp

import (
	"math/rand/v2"
	"net/netip"
)

// Transport sends an RTP packet a virtual endpoint's output stream made (b
// is valid only during the call). It is called with the endpoint's output
// lock held, from whichever goroutine feeds the endpoint: it must not block
// for long and must not call back into the endpoint.
type Transport func(b []byte) error

// virtualRemote is the remote a virtual endpoint reports: valid, so the
// send path that refuses an endpoint with nowhere to send lets its packets
// through to the transport, and unspecified, so it names no real peer.
var virtualRemote = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)

// Virtual returns an endpoint with no socket of its own: what it sends goes
// to out, what it receives is handed to Receive by the transport's reader.
// Bridging, Send, SetCodec, OnEvent, SetTap, MuteRelay, Stats and the
// metrics work as for a socket endpoint; LocalAddr is invalid; SetRemote
// and SetTimeout have no effect (no relay loop watches a virtual endpoint;
// the transport knows when its peer is gone). A browser seat's
// PeerConnection is such a transport: each call bridges a virtual endpoint
// onto the seat, so answering costs no ICE or DTLS round trip.
//
// A virtual endpoint holds no port and is not counted by InUse.
func (p *PortPool) Virtual(out Transport) *Endpoint {
	if out == nil {
		out = func([]byte) error { return ErrNoRemote }
	}
	e := &Endpoint{
		pool:      p,
		id:        p.nextID.Add(1),
		rtpFD:     -1,
		rtcpFD:    -1,
		m:         p.cfg.Metrics,
		now:       p.cfg.Now,
		firedAt:   -1,
		transport: out,
	}
	e.remote.Store(&remoteState{addr: virtualRemote})
	e.out.ssrc = rand.Uint32()
	e.out.seq = uint16(rand.Uint32())
	e.out.ts = rand.Uint32()
	return e
}

// Receive handles one RTP packet received by a virtual endpoint's transport
// (parse, count, loss, event hook, tap, sink). Call it from one goroutine at
// a time. It allocates nothing. b may be changed: the sink rewrites the
// packet in place. On a socket endpoint it does nothing (its relay loop
// reads its socket).
func (e *Endpoint) Receive(b []byte) {
	if e.transport == nil {
		return
	}
	e.receive(b, virtualRemote, e.now().UnixNano(), &e.vpkt)
}

// Virtual reports whether e was made by PortPool.Virtual.
func (e *Endpoint) Virtual() bool { return e.transport != nil }
