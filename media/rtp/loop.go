package rtp

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"time"

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
const (
	eventBatch    = 256
	recvBatchSize = 8
)

// loop is one relay event loop: a goroutine waiting on an epoll set of the
// sockets of many endpoints, which reads whatever is ready and relays it
// in place. One wake-up serves every packet that arrived meanwhile, where
// a goroutine per socket costs a scheduler wake-up per packet.
//
// The goroutine runs only while the loop has endpoints: it starts with the
// first and ends after the last is removed, so an idle pool holds no
// goroutine and no file descriptor. Endpoints are added and removed by
// commands the goroutine carries out between batches, so its socket table
// needs no lock and a removed socket is never read after Remove returns.
type loop struct {
	pool *PortPool

	mu      sync.Mutex
	running bool
	epfd    int // the running goroutine's epoll and eventfd
	wakefd  int
	cmds    []loopCmd
}

// loopCmd adds or removes an endpoint; done is closed once it is carried out.
type loopCmd struct {
	e      *Endpoint
	remove bool
	done   chan struct{}
}

// fdEntry is what a ready socket belongs to.
type fdEntry struct {
	e    *Endpoint
	rtcp bool
}

// ErrLoopStart is returned by Allocate when a relay loop cannot get its
// epoll or eventfd descriptor (the process is out of descriptors).
var ErrLoopStart = errors.New("cannot start RTP relay loop")

// loopCount is how many loops a pool runs when PoolConfig.Loops is zero.
func loopCount() int { return min(runtime.GOMAXPROCS(0), maxLoops) }

// add hands e's sockets to the loop, starting its goroutine if needed. It
// does not wait: packets queue in the socket until the loop takes them.
func (l *loop) add(e *Endpoint) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.running {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return errors.Join(ErrLoopStart, err)
		}
		// Non-blocking, so os.NewFile registers it with Go's netpoller.
		_ = unix.SetNonblock(epfd, true)
		wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			_ = unix.Close(epfd)
			return errors.Join(ErrLoopStart, err)
		}
		if err := epollAdd(epfd, wakefd, unix.EPOLLIN); err != nil {
			_ = unix.Close(epfd)
			_ = unix.Close(wakefd)
			return errors.Join(ErrLoopStart, err)
		}
		l.epfd, l.wakefd, l.running = epfd, wakefd, true
		go l.run(epfd, wakefd)
	}
	l.post(loopCmd{e: e})
	return nil
}

// remove takes e's sockets out of the loop and returns once the loop will
// not touch them again, so the caller may close them.
func (l *loop) remove(e *Endpoint) {
	done := make(chan struct{})
	l.mu.Lock()
	l.post(loopCmd{e: e, remove: true, done: done})
	l.mu.Unlock()
	<-done
}

// post queues a command and wakes the loop. l.mu is held, so the goroutine
// cannot end (and close wakefd) between the two.
func (l *loop) post(c loopCmd) {
	l.cmds = append(l.cmds, c)
	one := [8]byte{1}
	_, _ = unix.Write(l.wakefd, one[:]) // EAGAIN only if already signalled 2^64-2 times
}

func epollAdd(epfd, fd int, events uint32) error {
	return unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

// socketEvents registers the sockets edge-triggered: epoll reports a socket
// when a datagram arrives, and the loop reads until a recvmmsg comes back
// short (the queue is empty) instead of epoll polling every reported socket
// once more on the next wait to see whether it is still readable.
const socketEvents = unix.EPOLLIN | unix.EPOLLET

// run is the loop's goroutine.
func (l *loop) run(epfd, wakefd int) {
	var (
		events  = make([]unix.EpollEvent, eventBatch)
		batch   = newRecvBatch(recvBatchSize)
		table   []fdEntry   // indexed by file descriptor
		members []*Endpoint // for the timeout checks
		pkt     Packet
		wakeBuf [8]byte
	)
	// The goroutine does not block in epoll_wait: a thread blocked in a
	// system call keeps the runtime's sysmon polling every 20 µs and costs
	// a P hand-off. It asks with a zero timeout and, when nothing is ready,
	// parks in Go's own netpoller on the epoll descriptor itself, which
	// is readable whenever one of its sockets is. The read deadline wakes
	// it for the timeout checks.
	ep := os.NewFile(uintptr(epfd), "rtp-epoll")
	raw, _ := ep.SyscallConn() // fails only for a nil *os.File
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
	// descriptor; then the loop blocks in epoll_wait itself instead.
	parked := ep.SetReadDeadline(nextCheck) == nil
	if !parked {
		l.pool.log.Warn("rtp relay loop polls without the netpoller")
	}
	// more holds sockets whose last read filled the batch, to read again
	// next turn; turn is the list being served while more fills.
	var more, turn []int
	for {
		if !poll(uintptr(epfd)) && len(more) == 0 {
			// Nothing ready: park until something is, or the deadline.
			if !parked {
				n, _ = unix.EpollWait(epfd, events, max(int(time.Until(nextCheck)/time.Millisecond), 1))
				n = max(n, 0) // -1 on EINTR
			} else if err := raw.Read(poll); err != nil {
				n = 0 // os.ErrDeadlineExceeded: time for the checks below
			}
		}
		// Commands first: a removed socket may still be among this batch's
		// events, and must be dropped from the table before they are read.
		for _, ev := range events[:n] {
			if int(ev.Fd) != wakefd {
				continue
			}
			_, _ = unix.Read(wakefd, wakeBuf[:])
			l.mu.Lock()
			cmds := l.cmds
			l.cmds = nil
			if len(cmds) == 0 && len(members) == 0 {
				l.running = false
				l.mu.Unlock()
				_ = ep.Close() // and epfd with it
				_ = unix.Close(wakefd)
				return
			}
			l.mu.Unlock()
			table, members = l.apply(epfd, cmds, table, members)
			if len(members) == 0 {
				// Come back to the wake-up check above with nothing to
				// read, to end (or take the commands queued meanwhile).
				one := [8]byte{1}
				_, _ = unix.Write(wakefd, one[:])
			}
			break
		}
		turn, more = more, turn[:0]
		for _, ev := range events[:n] {
			if fd := int(ev.Fd); fd != wakefd && drain(table, fd, batch, &pkt) {
				more = append(more, fd)
			}
		}
		for _, fd := range turn {
			// A socket removed meanwhile has no entry; one added on the
			// same number since is read early, which is harmless.
			if drain(table, fd, batch, &pkt) {
				more = append(more, fd)
			}
		}
		if now := time.Now(); !now.Before(nextCheck) {
			for _, e := range members {
				e.checkTimeout()
			}
			nextCheck = now.Add(interval)
			if parked {
				_ = ep.SetReadDeadline(nextCheck)
			}
		}
	}
}

// drain reads from the socket fd and reports whether it may hold more.
func drain(table []fdEntry, fd int, batch *recvBatch, pkt *Packet) bool {
	if fd >= len(table) {
		return false
	}
	switch ent := table[fd]; {
	case ent.e == nil: // removed in this turn
		return false
	case ent.rtcp:
		return ent.e.drainRTCP(fd, batch)
	default:
		return ent.e.drainRTP(fd, batch, pkt)
	}
}

// apply carries out commands and returns the updated socket table and
// member list.
func (l *loop) apply(epfd int, cmds []loopCmd, table []fdEntry, members []*Endpoint) ([]fdEntry, []*Endpoint) {
	for _, c := range cmds {
		e := c.e
		if c.remove {
			for _, fd := range [2]int{e.rtpFD, e.rtcpFD} {
				_ = unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil)
				if fd < len(table) {
					table[fd] = fdEntry{}
				}
			}
			for i, m := range members {
				if m == e {
					members[i] = members[len(members)-1]
					members[len(members)-1] = nil
					members = members[:len(members)-1]
					break
				}
			}
			close(c.done)
			continue
		}
		for _, s := range [2]fdEntry{{e: e}, {e: e, rtcp: true}} {
			fd := e.rtpFD
			if s.rtcp {
				fd = e.rtcpFD
			}
			if fd >= len(table) {
				table = append(table, make([]fdEntry, fd+1-len(table))...)
			}
			table[fd] = s
			if err := epollAdd(epfd, fd, socketEvents); err != nil {
				// Not expected for a fresh socket; the leg is deaf,
				// and its RTP timeout will end the call.
				e.log.Error("rtp socket not polled", "err", err)
			}
		}
		members = append(members, e)
	}
	return table, members
}
