package rtp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errAddrFamily is returned when a send names an address of the other IP
// family than the endpoint's socket (an IPv6 peer of an IPv4 relay).
var errAddrFamily = errors.New("RTP remote address family does not match the endpoint's socket")

// The endpoints' sockets are raw non-blocking file descriptors rather than
// net.UDPConns: Go's netpoller would wake one goroutine per packet (the cost
// that dominated the relay), and a socket registered there as well as in a
// relay loop's epoll would still wake the netpoller on every packet. The
// loops in loop.go read them; any goroutine may send on them.

// sockaddrSize holds a sockaddr_in6, the larger of the two families.
const sockaddrSize = unix.SizeofSockaddrInet6

// sockaddr is a sockaddr_in or sockaddr_in6 in its kernel layout.
type sockaddr [sockaddrSize]byte

// openUDP binds a non-blocking UDP socket on addr.
func openUDP(addr netip.AddrPort) (int, error) {
	family := unix.AF_INET
	if addr.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, err
	}
	var sa sockaddr
	n, err := putSockaddr(&sa, addr, family == unix.AF_INET6)
	if err == nil {
		err = bindRaw(fd, &sa, n)
	}
	if err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// putSockaddr encodes addr into sa for a socket of the given family and
// returns the length to pass to the kernel. An IPv4 address is mapped for
// an IPv6 socket; an IPv6 one cannot go out of an IPv4 socket.
func putSockaddr(sa *sockaddr, addr netip.AddrPort, v6 bool) (uintptr, error) {
	ip := addr.Addr()
	if !v6 {
		if !ip.Is4() && !ip.Is4In6() {
			return 0, errAddrFamily
		}
		binary.NativeEndian.PutUint16(sa[0:], unix.AF_INET)
		binary.BigEndian.PutUint16(sa[2:], addr.Port())
		a := ip.Unmap().As4()
		copy(sa[4:8], a[:])
		return unix.SizeofSockaddrInet4, nil
	}
	binary.NativeEndian.PutUint16(sa[0:], unix.AF_INET6)
	binary.BigEndian.PutUint16(sa[2:], addr.Port())
	a := ip.As16()
	copy(sa[8:24], a[:])
	return unix.SizeofSockaddrInet6, nil
}

// parseSockaddr decodes a sockaddr the kernel filled in. It ignores an IPv6
// scope: the relay's peers are not link-local, and a zone would allocate.
func parseSockaddr(sa *sockaddr) netip.AddrPort {
	port := binary.BigEndian.Uint16(sa[2:])
	switch binary.NativeEndian.Uint16(sa[0:]) {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), port)
	}
	return netip.AddrPort{}
}

// The raw calls below exist because x/sys's Sendto and Recvfrom take and
// return a Sockaddr interface, which allocates on every packet, and x/sys
// has no recvmmsg wrapper. Each passes its pointers to the kernel in the
// call expression itself, the one form the unsafe rules allow.
//
// The per-packet calls (sendto, recvmmsg, epoll_wait with no timeout) use
// RawSyscall: on non-blocking sockets they never wait, and telling the
// scheduler about each (entersyscall/exitsyscall) costs time and, when
// the kernel preempts the thread inside one, lets sysmon hand the P to
// another thread, which is then woken for nothing.

func bindRaw(fd int, sa *sockaddr, n uintptr) error {
	_, _, errno := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(sa)), n)
	if errno != 0 {
		return errno
	}
	return nil
}

// sendTo sends b to addr on a non-blocking socket. A full socket buffer
// (EAGAIN) drops the packet: late audio is worth nothing.
func sendTo(fd int, b []byte, addr netip.AddrPort, v6 bool) (int, error) {
	var sa sockaddr
	n, err := putSockaddr(&sa, addr, v6)
	if err != nil {
		return 0, err
	}
	if len(b) == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		0, uintptr(unsafe.Pointer(&sa)), n)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// recvBatch is a loop's receive buffers: one recvmmsg fills up to
// len(msgs) packets, so a socket with several queued costs one call, and a
// socket with one costs no extra call to learn that it is empty.
type recvBatch struct {
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []sockaddr
	bufs  [][]byte
}

func newRecvBatch(n int) *recvBatch {
	b := &recvBatch{
		msgs:  make([]unix.Mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]sockaddr, n),
		bufs:  make([][]byte, n),
	}
	for i := range n {
		b.bufs[i] = make([]byte, readBufferSize)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(readBufferSize)
		b.msgs[i].Hdr.Name = &b.names[i][0]
		b.msgs[i].Hdr.Iov = &b.iovs[i]
		b.msgs[i].Hdr.SetIovlen(1)
	}
	return b
}

// recv reads up to len(b.msgs) datagrams from fd without blocking and
// returns how many; 0 with EAGAIN when none is queued. Fewer than
// len(b.msgs) means the socket was emptied: with edge-triggered epoll, the
// next datagram to arrive reports it again.
func (b *recvBatch) recv(fd int) (int, error) {
	for i := range b.msgs {
		b.msgs[i].Hdr.Namelen = sockaddrSize
		b.msgs[i].Hdr.Flags = 0
	}
	r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.msgs[0])),
		uintptr(len(b.msgs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// full reports whether the last recv filled every buffer, so the socket
// may hold more.
func (b *recvBatch) full(n int) bool { return n == len(b.msgs) }

// epollPoll is epoll_wait with a zero timeout: it never blocks.
func epollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// packet returns datagram i of the last recv, its source, and whether it
// was whole (not cut short by the buffer).
func (b *recvBatch) packet(i int) ([]byte, netip.AddrPort, bool) {
	m := &b.msgs[i]
	return b.bufs[i][:m.Len], parseSockaddr(&b.names[i]), m.Hdr.Flags&unix.MSG_TRUNC == 0
}
