package rtp

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxLoops caps the relay loops of a pool: one per core is enough to use
// them all, and more would only thin out each loop's batches.
const maxLoops = 4

// Batch sizes. eventBatch is how many ready sockets one epoll_wait reports
// (a phone sends every 20 ms, so with many calls most wake-ups find many);
// recvBatchSize is how many datagrams one socket gives up per turn before
// the loop moves on to the next, which keeps a flooding peer from starving
// the others (the loop comes back to the socket on its next turn).
// discardBatch is how many datagrams one call throws away from a parked
// pair, and discardRounds bounds the calls of a drain before reuse: more
// than a socket's default receive buffer holds.
const (
	eventBatch    = 256
	recvBatchSize = 8
	discardBatch  = 64
	discardRounds = 64
)

// loop is one relay event loop: a goroutine waiting on an epoll set of the
// sockets of many endpoints, which reads whatever is ready and relays it
// in place. One wake-up serves every packet that arrived meanwhile, where
// a goroutine per socket costs a scheduler wake-up per packet.
//
// The epoll set holds every pair of sockets the loop was given, attached to
// an endpoint or parked (see PortPool), from bind to close: attaching and
// detaching an endpoint costs no epoll_ctl and no command to the goroutine.
// The loop reads a pair's sockets holding the pair's mutex, and detaching
// takes it to clear the pair's endpoint, so once detach returns the loop
// never touches that endpoint again. An event names its pair by slot in
// the pool's table, never by descriptor, so a stale event of a pair closed
// meanwhile (whose descriptor number may already be another socket's)
// finds the pair closed and reads nothing.
//
// The goroutine runs only while the loop has endpoints attached: it starts
// with the first and ends after the last is detached; the epoll descriptor
// lives as long as the goroutine or a pair, so an idle pool whose parked
// pairs are closed holds no goroutine and no file descriptor.
type loop struct {
	pool  *PortPool
	index int // in pool.loops

	// live counts attached endpoints; it changes under mu and is read
	// without it by the goroutine before it parks.
	live atomic.Int32

	mu      sync.Mutex
	running bool
	ep      *os.File // the epoll descriptor, open while running or len(pairs) > 0
	raw     syscall.RawConn
	epfd    int     // ep's number (ep.Fd would make it blocking)
	pairs   []*pair // every open pair in the epoll set, for the timeout checks
}

// pair is an even port's RTP socket and its RTCP neighbour, open for as
// long as the pool keeps them: attached to an endpoint, or parked between
// endpoints. Its sockets are in one loop's epoll set from bind to close.
type pair struct {
	idx, port     int // slot in pool.slots, RTP port
	rtpFD, rtcpFD int
	loop          *loop
	li            int   // position in loop.pairs; loop.mu
	parkedAt      int64 // pool clock, unix nanoseconds; pool.mu

	// mu is held by the loop while it reads the sockets or checks the
	// endpoint's timeout, and by attach, detach and close.
	mu     sync.Mutex
	ep     *Endpoint // nil while parked: the loop discards what arrives
	closed bool
}

// ErrLoopStart is returned by Allocate when a relay loop cannot get its
// epoll descriptor or register a socket with it (the process is out of
// descriptors or memory).
var ErrLoopStart = errors.New("cannot start RTP relay loop")

// loopCount is how many loops a pool runs when PoolConfig.Loops is zero.
func loopCount() int { return min(runtime.GOMAXPROCS(0), maxLoops) }

// socketEvents registers the sockets edge-triggered: epoll reports a socket
// when a datagram arrives, and the loop reads until a recvmmsg comes back
// short (the queue is empty) instead of epoll polling every reported socket
// once more on the next wait to see whether it is still readable.
const socketEvents = unix.EPOLLIN | unix.EPOLLET

// eventKey is what an epoll event carries: the pair's slot, and whether the
// socket is the RTCP one.
func eventKey(ev *unix.EpollEvent) uint64 { return uint64(uint32(ev.Fd))<<1 | uint64(ev.Pad&1) }

// register adds a freshly bound pair's sockets to the loop's epoll set,
// creating the set if the loop has none. The goroutine need not know: the
// set is the kernel's.
func (l *loop) register(pr *pair) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ep == nil {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return errors.Join(ErrLoopStart, err)
		}
		// Non-blocking, so os.NewFile registers it with Go's netpoller.
		_ = unix.SetNonblock(epfd, true)
		l.ep, l.epfd = os.NewFile(uintptr(epfd), "rtp-epoll"), epfd
		l.raw, _ = l.ep.SyscallConn() // fails only for a nil *os.File
	}
	for i, fd := range [2]int{pr.rtpFD, pr.rtcpFD} {
		ev := unix.EpollEvent{Events: socketEvents, Fd: int32(pr.idx), Pad: int32(i)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			// Closing the sockets takes the one added out of the set.
			l.closeIdleEpoll()
			return errors.Join(ErrLoopStart, err)
		}
	}
	pr.li = len(l.pairs)
	l.pairs = append(l.pairs, pr)
	return nil
}

// unregister forgets a pair whose sockets were closed (which took them out
// of the epoll set).
func (l *loop) unregister(pr *pair) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := l.pairs[len(l.pairs)-1]
	l.pairs[pr.li], last.li = last, pr.li
	l.pairs[len(l.pairs)-1] = nil
	l.pairs = l.pairs[:len(l.pairs)-1]
	l.closeIdleEpoll()
}

// closeIdleEpoll closes the epoll descriptor if nothing needs it. l.mu is
// held.
func (l *loop) closeIdleEpoll() {
	if len(l.pairs) == 0 && !l.running && l.ep != nil {
		_ = l.ep.Close()
		l.ep, l.raw, l.epfd = nil, nil, -1
	}
}

// attach counts an endpoint attached to one of the loop's pairs, starting
// the goroutine if it is not running.
func (l *loop) attach() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live.Add(1)
	if !l.running {
		l.running = true
		go l.run(l.ep, l.raw, l.epfd)
	}
}

// detach counts an endpoint gone; after the last, it wakes the goroutine
// to end by moving its read deadline into the past (see run).
func (l *loop) detach() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live.Add(-1) == 0 && l.running {
		_ = l.ep.SetReadDeadline(time.Unix(1, 0))
	}
}

// exit ends the goroutine if no endpoint is attached: it reports false if
// one was attached meanwhile.
func (l *loop) exit() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live.Load() > 0 {
		return false
	}
	l.running = false
	l.closeIdleEpoll()
	return true
}

// run is the loop's goroutine. ep, raw and epfd stay open while it runs.
func (l *loop) run(ep *os.File, raw syscall.RawConn, epfd int) {
	var (
		events = make([]unix.EpollEvent, eventBatch)
		batch  = newRecvBatch(recvBatchSize)
		pairs  []*pair // the timeout check's copy of l.pairs
		pkt    Packet
	)
	// The goroutine does not block in epoll_wait: a thread blocked in a
	// system call keeps the runtime's sysmon polling every 20 µs and costs
	// a P hand-off. It asks with a zero timeout and, when nothing is ready,
	// parks in Go's own netpoller on the epoll descriptor itself, which
	// is readable whenever one of its sockets is. The read deadline wakes
	// it for the timeout checks, and detach moves it into the past to wake
	// it to end: detach stores live before it sets the deadline, and the
	// goroutine sets the deadline before it loads live, so either it sees
	// live at zero or its park is woken at once.
	var n int
	poll := func(fd uintptr) bool {
		var err error
		n, err = epollPoll(int(fd), events)
		if err != nil {
			n = 0 // EINTR: a signal; try again
		}
		return n > 0
	}
	interval := l.pool.cfg.CheckInterval
	nextCheck := time.Now().Add(interval)
	// A deadline is refused only if the netpoller did not take the
	// descriptor; then the loop blocks in epoll_wait itself instead, and
	// ends up to CheckInterval after its last endpoint.
	parked := ep.SetReadDeadline(nextCheck) == nil
	if !parked {
		l.pool.log.Warn("rtp relay loop polls without the netpoller")
	}
	// more holds sockets whose last read filled the batch, to read again
	// next turn; turn is the list being served while more fills.
	var more, turn []uint64
	rearm := false
	for {
		if !poll(uintptr(epfd)) && len(more) == 0 {
			if l.live.Load() == 0 && l.exit() {
				return
			}
			// Nothing ready: park until something is, or the deadline.
			if !parked {
				n, _ = unix.EpollWait(epfd, events, max(int(time.Until(nextCheck)/time.Millisecond), 1))
				n = max(n, 0) // -1 on EINTR
			} else if err := raw.Read(poll); err != nil {
				// os.ErrDeadlineExceeded: time for the checks below,
				// or detach's wake-up (an early deadline to undo).
				n, rearm = 0, true
			}
		}
		turn, more = more, turn[:0]
		for i := range events[:n] {
			if k := eventKey(&events[i]); l.serve(k, batch, &pkt) {
				more = append(more, k)
			}
		}
		for _, k := range turn {
			if l.serve(k, batch, &pkt) {
				more = append(more, k)
			}
		}
		if now := time.Now(); !now.Before(nextCheck) {
			pairs = l.checkTimeouts(pairs)
			nextCheck, rearm = now.Add(interval), true
		}
		if rearm && parked {
			_ = ep.SetReadDeadline(nextCheck)
			rearm = false
		}
	}
}

// serve reads from the socket an event named and reports whether it may
// hold more. A slot now empty or holding another loop's pair is a stale
// event of a pair closed since; one holding a new pair of this loop is
// read early, which is harmless.
func (l *loop) serve(key uint64, batch *recvBatch, pkt *Packet) bool {
	idx, rtcp := int(key>>1), key&1 != 0
	if idx >= len(l.pool.slots) {
		return false
	}
	pr := l.pool.slots[idx].Load()
	if pr == nil || pr.loop != l {
		return false
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	switch e := pr.ep; {
	case pr.closed:
		return false
	case e == nil: // parked: nobody's packets
		if rtcp {
			return discard(pr.rtcpFD)
		}
		return discard(pr.rtpFD)
	case rtcp:
		return e.drainRTCP(pr.rtcpFD, batch)
	default:
		return e.drainRTP(pr.rtpFD, batch, pkt)
	}
}

// checkTimeouts runs every CheckInterval: it gives each attached endpoint
// its timeout check, under its pair's mutex like a read. buf is reused
// between calls.
func (l *loop) checkTimeouts(buf []*pair) []*pair {
	l.mu.Lock()
	buf = append(buf[:0], l.pairs...)
	l.mu.Unlock()
	for _, pr := range buf {
		pr.mu.Lock()
		if e := pr.ep; e != nil {
			e.checkTimeout()
		}
		pr.mu.Unlock()
	}
	clear(buf) // keep no closed pair reachable
	return buf
}

// attach gives a pair to e. A pair that was parked is drained first: what
// queued on it belongs to no call, and the previous call's peer must not
// reach, or be latched onto by, the next.
func (pr *pair) attach(e *Endpoint, drain bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if drain {
		for _, fd := range [2]int{pr.rtpFD, pr.rtcpFD} {
			for i := 0; i < discardRounds && discard(fd); i++ {
			}
		}
	}
	pr.ep = e
}

// detach takes the pair's endpoint away; from its return the loop never
// touches that endpoint again.
func (pr *pair) detach() {
	pr.mu.Lock()
	pr.ep = nil
	pr.mu.Unlock()
}

// close closes the sockets (which takes them out of their epoll set); a
// stale event for them finds the pair closed.
func (pr *pair) close() error {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.closed = true
	return errors.Join(unix.Close(pr.rtpFD), unix.Close(pr.rtcpFD))
}

// discard takes up to discardBatch datagrams off fd without copying them:
// recvmmsg with no buffers truncates each to nothing. It reports whether
// the socket may hold more.
func discard(fd int) bool {
	var msgs [discardBatch]unix.Mmsghdr
	r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		discardBatch, unix.MSG_DONTWAIT, 0, 0)
	switch errno {
	case 0:
		return r == discardBatch
	case unix.EAGAIN:
		return false
	default: // EINTR, or a pending socket error (ICMP) that reading cleared
		return true
	}
}
