package rtp

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"golang.org/x/sys/unix"
)

// ErrNoRemote is returned by Endpoint.Send when the endpoint does not yet
// know where to send: no SetRemote and no packet received.
var ErrNoRemote = errors.New("RTP endpoint has no remote address")

// readBufferSize holds any RTP packet that fits an Ethernet frame, with room
// to spare for phones that send jumbo frames on loopback.
const readBufferSize = 2048

// Sink takes the RTP packets an endpoint receives. An Endpoint is a Sink
// (Bridge makes each leg the other's); a mixer or a recorder can be one.
type Sink interface {
	// WriteRTP is called on from's relay loop for each packet. pkt
	// and its buffer are valid only during the call; the sink may change
	// them in place but must not keep them, and must not block.
	WriteRTP(from *Endpoint, pkt *Packet)
}

// EventFunc is called with each packet of an endpoint's telephone-event
// payload type (RFC 4733), on its relay loop, before the packet goes
// to the sink. It must not keep pkt and must not block: it hands the event
// to the call's owner.
type EventFunc func(pkt *Packet)

// Stats are an endpoint's counters.
type Stats struct {
	PacketsIn, BytesIn   uint64 // valid RTP packets accepted
	PacketsOut, BytesOut uint64 // RTP packets sent
	Lost                 uint64 // sequence numbers never received
	RTCPIn               uint64 // RTCP packets received on RTP port + 1
	Dropped              uint64 // invalid, from a source other than the latched one, or with nowhere to go
	LastPacket           time.Time
	Remote               netip.AddrPort // where packets are sent
	Latched              bool           // Remote was learnt from received packets
}

// remoteState is where an endpoint sends, replaced as a whole so readers
// see a consistent pair.
type remoteState struct {
	addr    netip.AddrPort
	latched bool
}

// format is an endpoint's negotiated codec and telephone-event payload type.
type format struct {
	codec   codec.Codec
	pt      uint8 // the codec's payload type
	dtmf    uint8
	hasDTMF bool
}

// packFormat and unpackFormat keep a format in one atomic word, so the hot
// path reads both legs' formats without a lock.
func packFormat(c codec.Codec, dtmf uint8, hasDTMF bool) uint32 {
	v := uint32(c) | uint32(dtmf&0x7f)<<8
	if hasDTMF {
		v |= 1 << 16
	}
	return v
}

func unpackFormat(v uint32) format {
	c := codec.Codec(v & 0xff)
	pt, _ := c.PayloadType()
	return format{codec: c, pt: pt, dtmf: uint8(v>>8) & 0x7f, hasDTMF: v&(1<<16) != 0}
}

// Endpoint is one call leg's RTP socket (and its RTCP neighbour) in the
// appliance. Its methods are safe for concurrent use.
type Endpoint struct {
	pool   *PortPool
	pair   *pair  // the sockets, the pool's again after Close; nil if virtual
	id     uint64 // identifies this endpoint as a source of another's output stream
	port   int
	rtpFD  int // non-blocking UDP sockets, read by the pair's loop, written by any goroutine
	rtcpFD int
	v6     bool // the sockets are AF_INET6
	local  netip.AddrPort
	m      *Metrics
	now    func() time.Time

	// transport, when set, makes this a virtual endpoint (see
	// PortPool.Virtual): no sockets, no loop, no port; send hands packets
	// to it and Receive takes the transport's input.
	transport Transport
	vpkt      Packet // Receive's reused packet view

	remote  atomic.Pointer[remoteState]
	format  atomic.Uint32
	sink    atomic.Pointer[sinkBox]
	sinkMu  sync.Mutex // serializes sink changes (Unbridge compares, then swaps)
	onEvent atomic.Pointer[EventFunc]
	tap     atomic.Pointer[Tap] // see SetTap
	muted   atomic.Bool         // see MuteRelay

	timeout   atomic.Int64 // nanoseconds; 0 disables
	armedAt   atomic.Int64 // when the timeout was set, in Now's unix nanoseconds
	onTimeout atomic.Pointer[func()]

	pktIn, bytesIn, pktOut, bytesOut atomic.Uint64
	lost, rtcpIn, dropped            atomic.Uint64
	lastRecv                         atomic.Int64 // unix nanoseconds of the last accepted packet

	// out's mutex also guards sends against Close: once closed is set
	// under it, nothing writes to rtpFD, which the pool then parks for
	// another endpoint or closes.
	out    outStream
	closed bool

	// The receive side's state, touched only by the relay loop.
	seqSSRC uint32 // the stream whose sequence numbers are followed for loss
	lastSeq uint16
	haveSeq bool
	firedAt int64 // the silence the timeout callback was last called for

	closeOnce sync.Once
}

// sinkBox lets an interface value live behind an atomic pointer.
type sinkBox struct{ s Sink }

// newEndpoint makes a socket endpoint on pr. It keeps no logger of its
// own: a child logger per endpoint cost an allocation and a copy of the
// pool's attributes per call leg, for the one debug line it may write
// (see accept).
func newEndpoint(p *PortPool, pr *pair) *Endpoint {
	e := &Endpoint{
		pool:    p,
		pair:    pr,
		id:      p.nextID.Add(1),
		port:    pr.port,
		rtpFD:   pr.rtpFD,
		rtcpFD:  pr.rtcpFD,
		v6:      p.cfg.IP.Is6(),
		local:   netip.AddrPortFrom(p.cfg.IP, uint16(pr.port)),
		m:       p.cfg.Metrics,
		now:     p.cfg.Now,
		firedAt: -1,
	}
	e.out.ssrc = rand.Uint32()
	e.out.seq = uint16(rand.Uint32())
	e.out.ts = rand.Uint32()
	return e
}

// LocalAddr is the address and port to put in SDP for this leg.
func (e *Endpoint) LocalAddr() netip.AddrPort { return e.local }

// SetRemote sets where to send, from the peer's SDP. It also forgets any
// latched address, so the next packet received latches afresh (a re-INVITE
// that moves the media). An unspecified address (hold) stops sending.
func (e *Endpoint) SetRemote(addr netip.AddrPort) {
	if e.transport != nil {
		return // a virtual endpoint's destination is its transport
	}
	if addr.Addr().IsUnspecified() || addr.Port() == 0 {
		addr = netip.AddrPort{}
	}
	e.remote.Store(&remoteState{addr: addr})
}

// SetCodec sets the leg's negotiated codec and telephone-event payload type
// (from its SDP; hasDTMF false when it offered none). A bridge maps payload
// types and transcodes between the two legs' settings.
func (e *Endpoint) SetCodec(c codec.Codec, dtmf uint8, hasDTMF bool) {
	e.format.Store(packFormat(c, dtmf, hasDTMF))
}

// Codec returns the codec set by SetCodec.
func (e *Endpoint) Codec() codec.Codec { return unpackFormat(e.format.Load()).codec }

// SetSink sets where received packets go (nil: counted and dropped) and
// returns the previous sink.
func (e *Endpoint) SetSink(s Sink) Sink {
	e.sinkMu.Lock()
	defer e.sinkMu.Unlock()
	return e.swapSink(s)
}

func (e *Endpoint) swapSink(s Sink) Sink {
	var box *sinkBox
	if s != nil {
		box = &sinkBox{s: s}
	}
	if old := e.sink.Swap(box); old != nil {
		return old.s
	}
	return nil
}

// OnEvent sets the telephone-event handler (nil removes it).
func (e *Endpoint) OnEvent(fn EventFunc) {
	if fn == nil {
		e.onEvent.Store(nil)
		return
	}
	e.onEvent.Store(&fn)
}

// SetTimeout arranges for fn to be called, once, when no RTP packet has been
// received for d (counted from now or from the last packet, whichever is
// later); it is called again only after packets came and stopped again.
// d == 0 disables it (a call on hold whose phone stops sending). fn runs on
// the relay loop and must not block.
func (e *Endpoint) SetTimeout(d time.Duration, fn func()) {
	if d <= 0 || fn == nil {
		e.timeout.Store(0)
		e.onTimeout.Store(nil)
		return
	}
	e.onTimeout.Store(&fn)
	e.armedAt.Store(e.now().UnixNano())
	e.timeout.Store(int64(d))
	// The relay loop looks every CheckInterval: no timer per endpoint.
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() Stats {
	s := Stats{
		PacketsIn: e.pktIn.Load(), BytesIn: e.bytesIn.Load(),
		PacketsOut: e.pktOut.Load(), BytesOut: e.bytesOut.Load(),
		Lost: e.lost.Load(), RTCPIn: e.rtcpIn.Load(), Dropped: e.dropped.Load(),
	}
	if t := e.lastRecv.Load(); t != 0 {
		s.LastPacket = time.Unix(0, t)
	}
	if r := e.remote.Load(); r != nil {
		s.Remote, s.Latched = r.addr, r.latched
	}
	return s
}

// Close stops reading and sending and returns the sockets to the pool,
// which parks them for a later endpoint or closes them (see PortPool).
// Unbridge first: a peer still bridged to a closed endpoint drops what it
// would send here. Close is idempotent. Once it returns the relay loop
// never touches e again; it waits for the loop to finish reading e's
// socket, so it must not be called from a Sink, EventFunc or timeout
// callback. A virtual endpoint has no socket or loop: Close only stops its
// output.
func (e *Endpoint) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.SetSink(nil)
		e.out.mu.Lock()
		e.closed = true
		e.out.mu.Unlock()
		if e.transport != nil {
			return // no socket, no loop, no port
		}
		err = e.pool.release(e)
	})
	return err
}

// Send sends a packet the call layer made (a prompt, hold music) in b,
// which it rewrites in place into the endpoint's output stream. The payload
// must already be in the endpoint's codec.
func (e *Endpoint) Send(b []byte) error {
	var p Packet
	if err := p.Unmarshal(b); err != nil {
		return err
	}
	if r := e.remote.Load(); r == nil || !r.addr.IsValid() {
		return ErrNoRemote
	}
	p.at = e.now().UnixNano()
	return e.send(&p, 0)
}

// WriteRTP implements Sink: it relays pkt, received by from, out of e —
// telephone-event payload types mapped, PCMU↔PCMA transcoded in place when
// the legs differ, and SSRC, sequence and timestamp rewritten into e's own
// stream. from == nil means the packet is e's own (already in its codec).
func (e *Endpoint) WriteRTP(from *Endpoint, pkt *Packet) {
	var src uint64
	if from != nil {
		if e.muted.Load() {
			e.dropped.Add(1) // the call layer is playing over this leg
			return
		}
		src = from.id
		ff, ef := unpackFormat(from.format.Load()), unpackFormat(e.format.Load())
		switch {
		case ff.hasDTMF && pkt.PayloadType == ff.dtmf:
			if !ef.hasDTMF {
				e.dropped.Add(1) // the peer did not negotiate telephone-event
				return
			}
			pkt.PayloadType = ef.dtmf
		case ff.codec != codec.Unknown && pkt.PayloadType == ff.pt && ef.codec != codec.Unknown:
			if ef.codec != ff.codec {
				if tab, ok := codec.Translation(ff.codec, ef.codec); ok {
					tab.Apply(pkt.Payload())
				}
			}
			pkt.PayloadType = ef.pt
		}
	}
	if pkt.at == 0 {
		pkt.at = e.now().UnixNano()
	}
	_ = e.send(pkt, src)
}

// send rewrites pkt into e's output stream and writes it to the remote.
// It returns net.ErrClosed after Close.
func (e *Endpoint) send(pkt *Packet, src uint64) error {
	r := e.remote.Load()
	if r == nil || !r.addr.IsValid() {
		e.dropped.Add(1)
		return ErrNoRemote
	}
	e.out.mu.Lock()
	if e.closed {
		e.out.mu.Unlock()
		e.dropped.Add(1)
		return net.ErrClosed
	}
	e.out.rewrite(pkt, src, pkt.at)
	pkt.writeHeader()
	// Still under the lock, so Close cannot close the socket meanwhile
	// (and its number be reused). Only the relay loop feeding this leg
	// and the call layer's player ever contend for it.
	var n int
	var err error
	if e.transport != nil {
		n, err = len(pkt.Buf), e.transport(pkt.Buf)
	} else {
		n, err = sendTo(e.rtpFD, pkt.Buf, r.addr, e.v6)
	}
	e.out.mu.Unlock()
	if err != nil {
		e.dropped.Add(1)
		return err
	}
	e.pktOut.Add(1)
	e.bytesOut.Add(uint64(n))
	e.m.out.Add(1)
	return nil
}

// drainRTP reads one batch of what is queued on the RTP socket and
// handles each packet; it reports whether the socket may hold more (the
// loop comes back for them after serving the other ready sockets). Called
// only by the loop.
func (e *Endpoint) drainRTP(fd int, b *recvBatch, pkt *Packet) bool {
	n, err := b.recv(fd)
	if err != nil {
		if err != unix.EAGAIN && err != unix.EINTR {
			e.dropped.Add(1) // a pending socket error; reading cleared it
			return true      // and the queue behind it is still to read
		}
		return err == unix.EINTR
	}
	now := e.now().UnixNano() // the batch arrived together
	for i := range n {
		buf, from, whole := b.packet(i)
		if !whole {
			e.dropped.Add(1) // larger than any RTP packet we relay
			continue
		}
		e.receive(buf, from, now, pkt)
	}
	return b.full(n)
}

// receive handles one RTP packet: parse, latch, count, hand it to the event
// hook and the sink. It allocates nothing.
func (e *Endpoint) receive(buf []byte, from netip.AddrPort, now int64, pkt *Packet) {
	if pkt.Unmarshal(buf) != nil || !e.accept(from, now) {
		e.dropped.Add(1)
		return
	}
	e.pktIn.Add(1)
	e.bytesIn.Add(uint64(len(buf)))
	e.m.in.Add(1)
	e.lastRecv.Store(now)

	// Loss from sequence gaps (RFC 3550 appendix A.1's thresholds): a
	// jump forward of up to maxDropout counts the missing numbers; a
	// bigger jump or a new SSRC restarts the count.
	if e.haveSeq && pkt.SSRC == e.seqSSRC {
		d := pkt.Sequence - e.lastSeq
		switch {
		case d == 0 || d > 0x8000: // duplicate or late
		case d <= maxDropout:
			if d > 1 {
				e.lost.Add(uint64(d - 1))
				e.m.lost.Add(uint64(d - 1))
			}
			e.lastSeq = pkt.Sequence
		default:
			e.lastSeq = pkt.Sequence
		}
	} else {
		e.seqSSRC, e.lastSeq, e.haveSeq = pkt.SSRC, pkt.Sequence, true
	}

	f := unpackFormat(e.format.Load())
	if f.hasDTMF && pkt.PayloadType == f.dtmf {
		if fn := e.onEvent.Load(); fn != nil {
			(*fn)(pkt)
		}
	} else if tap := e.tap.Load(); tap != nil {
		// Before the sink, which may transcode the payload in place.
		(*tap)(pkt)
	}
	if box := e.sink.Load(); box != nil {
		pkt.at = now
		box.s.WriteRTP(e, pkt)
	}
}

// maxDropout is the largest forward sequence jump still taken as loss
// rather than a restart (RFC 3550 appendix A.1).
const maxDropout = 3000

// accept applies symmetric-RTP latching to a packet from addr and reports
// whether to take it. The first packet latches the endpoint onto its source,
// whatever the SDP said; afterwards another source is ignored until the
// latched one has been silent for RelatchAfter.
func (e *Endpoint) accept(addr netip.AddrPort, now int64) bool {
	if e.transport != nil {
		return true // the transport's peer is the only source
	}
	r := e.remote.Load()
	if r != nil && r.latched {
		if r.addr == addr {
			return true
		}
		if now-e.lastRecv.Load() < int64(e.pool.cfg.RelatchAfter) {
			return false
		}
	}
	e.remote.Store(&remoteState{addr: addr, latched: true})
	// Checked first: boxing the attributes would allocate even when
	// debug lines are dropped.
	if log := e.pool.log; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("rtp latched", "rtp_port", e.port, "remote", addr)
	}
	return true
}

// checkTimeout runs on the loop every CheckInterval: it calls the timeout
// callback if the endpoint has been silent long enough. firedAt remembers
// the silence it already reported.
func (e *Endpoint) checkTimeout() {
	d := e.timeout.Load()
	if d <= 0 {
		return
	}
	ref := max(e.lastRecv.Load(), e.armedAt.Load())
	if e.now().UnixNano()-ref >= d && e.firedAt != ref {
		e.firedAt = ref
		if fn := e.onTimeout.Load(); fn != nil {
			(*fn)()
		}
	}
}

// drainRTCP reads what is queued on the RTCP socket, counting valid
// packets. RTCP is not relayed: each leg's reports describe that leg's
// stream, which the relay renumbers. Binding the port at all keeps the
// kernel from answering the phone's reports with ICMP port unreachable.
func (e *Endpoint) drainRTCP(fd int, b *recvBatch) bool {
	n, err := b.recv(fd)
	if err != nil {
		return err != unix.EAGAIN
	}
	for i := range n {
		buf, _, whole := b.packet(i)
		if whole && len(buf) >= 8 && buf[0]>>6 == 2 {
			e.rtcpIn.Add(1)
		} else {
			e.dropped.Add(1)
		}
	}
	return b.full(n)
}
