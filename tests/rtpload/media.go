package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The stream every leg sends: G.711 PCMU, 20 ms frames.
const (
	frameInterval = 20 * time.Millisecond
	frameSamples  = 160 // 20 ms at 8 kHz: the payload size and timestamp step
	rtpHeaderLen  = 12
	// lateAfter is when a packet counts as late: two frames behind.
	lateAfter = 40 * time.Millisecond
	// probeMagic marks a payload written by this generator.
	probeMagic = 0x72746c64 // "rtld"
	// probeLen is the part of the payload that carries the probe.
	probeLen = 20
	// latencyBuckets is the size of the 1 ms latency histogram; the last
	// bucket holds everything slower.
	latencyBuckets = 201
)

// probe is what each payload carries: who sent it, its number in the
// stream, and when (nanoseconds on the generator's monotonic clock). The
// relay forwards payloads untouched between legs of one codec, so the
// receiver reads them back exactly.
type probe struct {
	stream uint32
	seq    uint32
	sent   int64
}

func (p probe) put(b []byte) {
	binary.BigEndian.PutUint32(b[0:], probeMagic)
	binary.BigEndian.PutUint32(b[4:], p.stream)
	binary.BigEndian.PutUint32(b[8:], p.seq)
	binary.BigEndian.PutUint64(b[12:], uint64(p.sent))
}

// errNotProbe is returned by readProbe for a packet this generator did not
// write (or a truncated one).
var errNotProbe = errors.New("not a probe packet")

// readProbe reads the probe from an RTP packet.
func readProbe(pkt []byte) (probe, error) {
	if len(pkt) < rtpHeaderLen || pkt[0]>>6 != 2 {
		return probe{}, errNotProbe
	}
	// Skip CSRCs and an extension header, should a relay add them.
	off := rtpHeaderLen + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < off+4 {
			return probe{}, errNotProbe
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(pkt[off+2:]))
	}
	if len(pkt) < off+probeLen || binary.BigEndian.Uint32(pkt[off:]) != probeMagic {
		return probe{}, errNotProbe
	}
	b := pkt[off:]
	return probe{stream: binary.BigEndian.Uint32(b[4:]), seq: binary.BigEndian.Uint32(b[8:]),
		sent: int64(binary.BigEndian.Uint64(b[12:]))}, nil
}

// leg is one call leg's media socket and its counters. The sender fields
// are written by the pacer only, the receiver fields by the receive loop
// only; both are read after the two have stopped.
type leg struct {
	fd   int
	ip   string
	port int
	peer unix.SockaddrInet4 // the box's port for this leg, set before active
	// active is set once the leg's call is up, after peer.
	active atomic.Bool
	// For the diagnosis of a leg that heard nothing: the call it was
	// given to (set before active), how often it was activated, and when
	// (probe time) a BYE deactivated it.
	callID      string
	activations atomic.Int32
	stoppedAt   atomic.Int64

	// Sender side.
	ssrc    uint32
	seq     uint16
	ts      uint32
	n       uint32 // probe sequence
	sentWin uint64 // packets sent inside the window
	sendErr uint64 // packets the kernel refused (a full buffer, a bad peer)

	// Receiver side, about packets this leg sent (indexed by sender).
	recvWin, lateWin uint64
	// Receiver side, about this leg's socket.
	firstFrom int64 // sender stream of the first packet + 1; 0 before any
	crossed   bool  // another stream arrived here too
	got       uint64
}

// media owns every leg socket: one pacer sends each active leg's packet
// every 20 ms, one loop polls them all every millisecond.
type media struct {
	legs  []*leg
	epfd  int
	start time.Time // the zero of probe send times

	winStart, winEnd atomic.Int64 // the window, in probe time; 0: not set

	// Receive-loop results.
	latency    [latencyBuckets]uint64
	maxLatency time.Duration
	foreign    uint64 // packets that carried no probe
	// Pacer results.
	maxLag time.Duration // how late a tick started, at worst
}

// newMedia binds n leg sockets: the first half on ipA, the rest on ipB.
func newMedia(n int, ipA, ipB string) (*media, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	m := &media{epfd: epfd, start: time.Now()}
	for i := range n {
		ip := ipA
		if i >= n/2 {
			ip = ipB
		}
		l, err := bindLeg(ip)
		if err != nil {
			m.close()
			return nil, err
		}
		l.ssrc = uint32(0x10000000 + i)
		m.legs = append(m.legs, l)
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, l.fd, &ev); err != nil {
			m.close()
			return nil, fmt.Errorf("epoll add: %w", err)
		}
	}
	return m, nil
}

// bindLeg opens a non-blocking UDP socket on ip, port chosen by the kernel.
func bindLeg(ip string) (*leg, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return nil, fmt.Errorf("leg address %q: not IPv4", ip)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: a.As4()}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", ip, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &leg{fd: fd, ip: ip, port: sa.(*unix.SockaddrInet4).Port}, nil
}

func (m *media) close() {
	for _, l := range m.legs {
		unix.Close(l.fd)
	}
	unix.Close(m.epfd)
}

// legIP returns the address leg i is bound to.
func (m *media) legIP(i int) string { return m.legs[i].ip }

// now is the probe clock.
func (m *media) now() int64 { return int64(time.Since(m.start)) }

// inWindow reports whether probe time t is inside the measured window.
func (m *media) inWindow(t int64) bool {
	s, e := m.winStart.Load(), m.winEnd.Load()
	return s != 0 && t >= s && (e == 0 || t < e)
}

// activate starts sending on leg i towards the box's ip:port.
func (m *media) activate(i int, ip string, port int) error {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return fmt.Errorf("media address %q: %w", ip, errSDP)
	}
	l := m.legs[i]
	l.peer = unix.SockaddrInet4{Addr: a.As4(), Port: port}
	l.activations.Add(1)
	l.active.Store(true)
	return nil
}

// deactivate stops sending on leg i (its call was hung up).
func (m *media) deactivate(i int) {
	l := m.legs[i]
	l.stoppedAt.Store(m.now())
	l.active.Store(false)
}

// pace sends one packet on every active leg each frameInterval until ctx
// ends. It keeps to an absolute schedule, so a slow tick is followed by a
// quick one rather than drifting.
func (m *media) pace(ctx context.Context) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pkt := make([]byte, rtpHeaderLen+frameSamples)
	for i := rtpHeaderLen + probeLen; i < len(pkt); i++ {
		pkt[i] = 0xff // µ-law silence after the probe
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if lag := time.Since(next); lag > m.maxLag {
			m.maxLag = lag
		}
		for i, l := range m.legs {
			if !l.active.Load() {
				continue
			}
			sent := m.now()
			pkt[0], pkt[1] = 0x80, 0 // V=2, PT 0 (PCMU)
			binary.BigEndian.PutUint16(pkt[2:], l.seq)
			binary.BigEndian.PutUint32(pkt[4:], l.ts)
			binary.BigEndian.PutUint32(pkt[8:], l.ssrc)
			probe{stream: uint32(i), seq: l.n, sent: sent}.put(pkt[rtpHeaderLen:])
			l.seq++
			l.ts += frameSamples
			l.n++
			// A full socket buffer drops the packet: the receiver counts
			// it lost, which is what it is.
			switch err := unix.Sendto(l.fd, pkt, 0, &l.peer); {
			case err != nil:
				l.sendErr++
			case m.inWindow(sent):
				l.sentWin++
			}
		}
		next = next.Add(frameInterval)
		timer.Reset(time.Until(next))
	}
}

// receivePoll is how often the receive loop looks for packets. It polls on
// a schedule instead of sleeping in epoll_wait until a packet arrives: on
// loopback, the sender of a packet pays for waking the thread that waits
// for it, so a waiting generator would put a wake-up per packet on the
// relay's CPU, which a relay sending to phones across a network never
// pays. Polling adds up to receivePoll to every measured delay.
const receivePoll = time.Millisecond

// receive reads every leg socket until ctx ends: every receivePoll, one
// read from each socket epoll reports readable (it is level-triggered: a
// socket with more queued is reported again by the next poll, which is
// cheaper than a read per socket that ends in EAGAIN).
func (m *media) receive(ctx context.Context) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 2048)
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now()
	for ctx.Err() == nil {
		n, err := unix.EpollWait(m.epfd, events, 0)
		if err != nil {
			continue // EINTR
		}
		for _, ev := range events[:n] {
			if k, err := unix.Read(m.legs[ev.Fd].fd, buf); err == nil {
				m.account(int(ev.Fd), buf[:k])
			}
		}
		if n == len(events) {
			continue // more may be ready now
		}
		next = next.Add(receivePoll)
		if wait := time.Until(next); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		} else if wait < -frameInterval {
			next = time.Now() // far behind: do not try to catch up on polls
		}
	}
}

// account counts one packet received on leg i.
func (m *media) account(i int, pkt []byte) {
	now := m.now()
	p, err := readProbe(pkt)
	if err != nil || int(p.stream) >= len(m.legs) {
		m.foreign++
		return
	}
	dst := m.legs[i]
	dst.got++
	switch from := int64(p.stream) + 1; {
	case dst.firstFrom == 0:
		dst.firstFrom = from
	case dst.firstFrom != from:
		dst.crossed = true
	}
	if !m.inWindow(p.sent) {
		return
	}
	src := m.legs[p.stream]
	src.recvWin++
	lat := time.Duration(now - p.sent)
	if lat > lateAfter {
		src.lateWin++
	}
	m.maxLatency = max(m.maxLatency, lat)
	m.latency[min(int(lat/time.Millisecond), latencyBuckets-1)]++
}

// mediaResult is what the window measured.
type mediaResult struct {
	Sent, Received, Lost, Late uint64
	Crossed                    int     // legs that received from more than one stream
	Deaf                       int     // active legs that received nothing at all
	P50, P99, Max              float64 // one-way latency, ms
	MaxTickLag                 float64 // ms
	Foreign                    uint64
}

// result sums the counters; call it after pace and receive have returned.
func (m *media) result() mediaResult {
	var r mediaResult
	for _, l := range m.legs {
		r.Sent += l.sentWin
		r.Received += l.recvWin
		r.Late += l.lateWin
		if l.crossed {
			r.Crossed++
		}
		if l.active.Load() && l.got == 0 {
			r.Deaf++
		}
	}
	if r.Sent > r.Received {
		r.Lost = r.Sent - r.Received
	}
	r.P50, r.P99 = percentile(m.latency[:], 0.50), percentile(m.latency[:], 0.99)
	r.Max = float64(m.maxLatency) / float64(time.Millisecond)
	r.MaxTickLag = float64(m.maxLag) / float64(time.Millisecond)
	r.Foreign = m.foreign
	return r
}

// percentile returns the q quantile, in ms, of a 1 ms histogram.
func percentile(h []uint64, q float64) float64 {
	var total uint64
	for _, c := range h {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(q*float64(total-1)) + 1
	var seen uint64
	for i, c := range h {
		seen += c
		if seen >= want {
			return float64(i + 1) // the bucket's upper bound
		}
	}
	return float64(len(h))
}

// runMedia runs the pacer and the receive loop until ctx ends.
func (m *media) run(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() { m.pace(ctx) })
	wg.Go(func() { m.receive(ctx) })
	return wg.Wait
}
