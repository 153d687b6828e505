package rtp

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
	"golang.org/x/sys/unix"
)

// ssrcSink records the SSRC of each packet it is given.
type ssrcSink struct {
	mu    sync.Mutex
	ssrcs []uint32
}

func (s *ssrcSink) WriteRTP(_ *Endpoint, pkt *Packet) {
	s.mu.Lock()
	s.ssrcs = append(s.ssrcs, pkt.SSRC)
	s.mu.Unlock()
}

func (s *ssrcSink) got() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.ssrcs...)
}

// goroutineRunning reports whether the loop's goroutine runs.
func (l *loop) goroutineRunning() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running
}

// settledFDs counts the process's open descriptors once no relay loop of
// any pool runs: a loop that ends closes its epoll descriptor on its way
// out, which would otherwise land inside the next count.
func settledFDs(t testing.TB) int {
	t.Helper()
	buf := make([]byte, 1<<20)
	eventually(t, "relay loops ended", func() bool {
		return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "rtp.(*loop).run")
	})
	// And until the count holds still: a descriptor of an earlier test
	// may still be on its way to closed.
	n, same := openFDs(t), 0
	eventually(t, "descriptor count steady", func() bool {
		time.Sleep(10 * time.Millisecond)
		m := openFDs(t)
		if m == n {
			same++
		} else {
			n, same = m, 0
		}
		return same >= 3
	})
	return n
}

// openFDs counts the process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// fdList names the process's open descriptors.
func fdList(t testing.TB) string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out = append(out, e.Name()+"→"+target)
	}
	return strings.Join(out, " ")
}

// loopsRunning reports which relay loops have a goroutine.
func (p *PortPool) loopsRunning() []bool {
	var out []bool
	for _, l := range p.loops {
		out = append(out, l.goroutineRunning())
	}
	return out
}

// queued is how many bytes the next datagram on fd holds (0: none queued).
func queued(t testing.TB, fd int) int {
	t.Helper()
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// portFree reports whether another socket can bind port on 127.0.0.1, that
// is whether the pool closed its socket there.
func portFree(port uint16) bool {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)))
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// TestParkedPairReuse: a released pair is handed out again, and what the
// previous call's peer sent to it before reuse (RTP and RTCP) reaches
// neither the new endpoint's sink nor its latching; the new peer's first
// packet latches. Either way the stale packets meet the pair: queued in the
// socket while no loop runs (drained by Allocate), or read and discarded by
// a loop running for another endpoint.
func TestParkedPairReuse(t *testing.T) {
	tests := []struct {
		name       string
		loopRuns   bool // an anchor endpoint keeps the parked pair's loop running
		wantQueued bool
	}{
		{"queued while no loop runs", false, true},
		{"discarded by the running loop", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			pool, _ := newTestPool(t, func(c *PoolConfig) {
				c.Now = clock.Now
				c.Loops = 2
			})
			// The anchor keeps the pool from closing parked pairs when
			// the test's endpoint closes; on loop 0, the test's pairs
			// go to loop 1 unless a second anchor keeps loop 1 busy.
			allocate(t, pool)
			if tc.loopRuns {
				allocate(t, pool)
			}
			x := allocate(t, pool)
			if tc.loopRuns && x.pair.loop.live.Load() < 2 {
				t.Fatal("test endpoint not on a loop with an anchor")
			}
			addr, rtpFD, rtcpFD := x.LocalAddr(), x.rtpFD, x.rtcpFD
			_ = x.Close()
			if pool.parkedPairs() != 1 {
				t.Fatalf("%d pairs parked, want 1", pool.parkedPairs())
			}
			if !tc.loopRuns {
				eventually(t, "the loop's goroutine ended", func() bool { return !x.pair.loop.goroutineRunning() })
			}

			stale := newPhone(t, "127.0.0.4")
			for i := range 5 {
				stale.send(x, Header{SSRC: 0xdead, Sequence: uint16(i)}, frame)
			}
			rtcp := AppendPacket(nil, Header{SSRC: 0xdead}, frame)
			rtcp[1] = 200 // an RTCP sender report's packet type
			if _, err := stale.conn.WriteToUDPAddrPort(rtcp, netip.AddrPortFrom(addr.Addr(), addr.Port()+1)); err != nil {
				t.Fatal(err)
			}
			if tc.wantQueued {
				if queued(t, rtpFD) == 0 || queued(t, rtcpFD) == 0 {
					t.Fatal("stale packets not queued on the parked pair")
				}
			} else {
				eventually(t, "stale packets discarded", func() bool { return queued(t, rtpFD) == 0 && queued(t, rtcpFD) == 0 })
			}

			clock.Advance(DefaultReuseAfter)
			y := allocate(t, pool)
			if y.LocalAddr() != addr {
				t.Fatalf("Allocate bound %v, want the parked pair %v", y.LocalAddr(), addr)
			}
			if queued(t, rtpFD) != 0 || queued(t, rtcpFD) != 0 {
				t.Fatal("reused pair handed out with packets queued")
			}
			sink := &ssrcSink{}
			y.SetSink(sink)
			fresh := newPhone(t, "127.0.0.5")
			fresh.send(y, Header{SSRC: 0xbeef, Sequence: 1}, frame)
			eventually(t, "new peer's packet", func() bool { return len(sink.got()) > 0 })
			if got := sink.got(); len(got) != 1 || got[0] != 0xbeef {
				t.Errorf("sink got SSRCs %x, want only beef", got)
			}
			s := y.Stats()
			if s.Remote != fresh.addr() || !s.Latched {
				t.Errorf("latched onto %v (latched %v), want the new peer %v", s.Remote, s.Latched, fresh.addr())
			}
			if s.PacketsIn != 1 || s.RTCPIn != 0 || s.Dropped != 0 {
				t.Errorf("stats %+v: a stale packet was counted", s)
			}
		})
	}
}

// TestParkedPairReuseOrder: parked pairs come back oldest first, and one
// parked for less than ReuseAfter only when no other port is free.
func TestParkedPairReuseOrder(t *testing.T) {
	clock := newFakeClock()
	// Four pairs: 41400 .. 41406.
	pool, reg := newTestPool(t, func(c *PoolConfig) {
		c.Now = clock.Now
		c.Ports = config.PortRange{First: 41400, Last: 41407}
	})
	allocate(t, pool) // 41400, the anchor
	a, b := allocate(t, pool), allocate(t, pool)
	_ = a.Close() // 41402 parked first
	_ = b.Close() // 41404 after it
	if u, k := sampleValue(t, reg, "pbx_rtp_socket_pairs", "in_use"), sampleValue(t, reg, "pbx_rtp_socket_pairs", "parked"); u != 1 || k != 2 {
		t.Errorf("pbx_rtp_socket_pairs in_use %v parked %v, want 1 and 2", u, k)
	}
	if e := allocate(t, pool); e.LocalAddr().Port() != 41406 {
		t.Fatalf("young parked pairs: got %v, want the unused 41406", e.LocalAddr())
	}
	if e := allocate(t, pool); e.LocalAddr().Port() != 41402 {
		t.Fatalf("no free port: got %v, want the oldest parked 41402", e.LocalAddr())
	}
	clock.Advance(DefaultReuseAfter)
	if e := allocate(t, pool); e.LocalAddr().Port() != 41404 {
		t.Fatalf("got %v, want parked 41404", e.LocalAddr())
	}
}

// TestParkedIdleClose: a pair parked for IdleClose is closed, by the next
// Allocate or release when there is one (the injected clock) and by the
// pool's sweep timer when there is none.
func TestParkedIdleClose(t *testing.T) {
	t.Run("on the next allocate", func(t *testing.T) {
		clock := newFakeClock()
		pool, _ := newTestPool(t, func(c *PoolConfig) { c.Now = clock.Now; c.IdleClose = time.Minute })
		allocate(t, pool)
		x := allocate(t, pool)
		port := x.LocalAddr().Port()
		_ = x.Close()
		clock.Advance(time.Minute - time.Nanosecond)
		if e := allocate(t, pool); e.LocalAddr().Port() != port {
			t.Fatalf("got %v, want the parked pair on %d", e.LocalAddr(), port)
		}
		y := allocate(t, pool)
		port = y.LocalAddr().Port()
		_ = y.Close()
		clock.Advance(time.Minute)
		allocate(t, pool)
		if n := pool.parkedPairs(); n != 0 {
			t.Fatalf("%d pairs parked after IdleClose", n)
		}
		if !portFree(port) {
			t.Fatalf("port %d still bound after IdleClose", port)
		}
	})
	t.Run("by the sweep", func(t *testing.T) {
		goroutines := runtime.NumGoroutine()
		fds := settledFDs(t)
		clock := newFakeClock()
		// The sweep's timer runs every IdleClose of real time; the pairs'
		// ages are the injected clock's, which only the test moves.
		pool, _ := newTestPool(t, func(c *PoolConfig) {
			c.Ports = config.PortRange{First: 41500, Last: 41799}
			c.IdleClose = 20 * time.Millisecond
			c.Now = clock.Now
		})
		// Churn, so the last Close leaves the pairs parked.
		for range 2 * churnAllocs {
			e, err := pool.Allocate()
			if err != nil {
				t.Fatal(err)
			}
			_ = e.Close()
		}
		eventually(t, "relay loops gone", func() bool { return runtime.NumGoroutine() <= goroutines })
		if pool.parkedPairs() == 0 {
			t.Fatal("a pool under churn parked nothing")
		}
		clock.Advance(20 * time.Millisecond)
		eventually(t, "parked pairs closed", func() bool { return pool.parkedPairs() == 0 })
		if n := openFDs(t); n != fds {
			t.Fatalf("%d descriptors open after the sweep, %d before the pool", n, fds)
		}
	})
}

// TestIdlePoolClosesParked: a pool not under churn whose last endpoint
// closes closes its parked pairs at once, so the ports are free for the
// next program (or the next test's pool) and nothing stays open.
func TestIdlePoolClosesParked(t *testing.T) {
	fds := settledFDs(t)
	pool, _ := newTestPool(t)
	a, b := allocate(t, pool), allocate(t, pool)
	ports := []uint16{a.LocalAddr().Port(), b.LocalAddr().Port()}
	_ = a.Close()
	if pool.parkedPairs() != 1 {
		t.Fatalf("%d parked with an endpoint open, want 1", pool.parkedPairs())
	}
	_ = b.Close()
	if pool.parkedPairs() != 0 {
		t.Fatalf("%d parked in an idle pool", pool.parkedPairs())
	}
	for _, p := range ports {
		if !portFree(p) {
			t.Errorf("port %d still bound", p)
		}
	}
	eventually(t, "descriptors closed", func() bool { return openFDs(t) == fds })
}

// TestParkedBound: no more than MaxParked pairs are parked; the others are
// closed as they are released, and negative MaxParked parks none.
func TestParkedBound(t *testing.T) {
	tests := []struct {
		name               string
		maxParked, release int
		want               int
	}{
		{"under the bound", 4, 3, 3},
		{"at the bound", 4, 10, 4},
		{"parking off", -1, 5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fds := settledFDs(t)
			pool, _ := newTestPool(t, func(c *PoolConfig) { c.MaxParked = tc.maxParked; c.Loops = 1 })
			allocate(t, pool) // the anchor: two sockets, and the loop's epoll
			var eps []*Endpoint
			for range tc.release {
				eps = append(eps, allocate(t, pool))
			}
			for _, e := range eps {
				_ = e.Close()
			}
			if n := pool.parkedPairs(); n != tc.want {
				t.Fatalf("%d parked, want %d", n, tc.want)
			}
			free := 0
			for _, e := range eps {
				if portFree(e.LocalAddr().Port()) {
					free++
				}
			}
			if free != tc.release-tc.want {
				t.Errorf("%d ports closed, want %d", free, tc.release-tc.want)
			}
			if n, want := openFDs(t)-fds, 2+1+2*tc.want; n != want {
				t.Errorf("%d descriptors open, want %d", n, want)
			}
		})
	}
}

// TestAllocateCloseNoLeak: many allocate/close cycles from two goroutines,
// with parking and closing past a small bound, leave the process with the
// descriptors it had once the pool is idle; meanwhile the count stays
// within what the parked bound allows.
func TestAllocateCloseNoLeak(t *testing.T) {
	const cycles, maxParked = 2000, 16
	fds := settledFDs(t)
	pool, _ := newTestPool(t, func(c *PoolConfig) {
		c.Ports = config.PortRange{First: 41800, Last: 41999}
		c.MaxParked = maxParked
		c.ReuseAfter = -1
		c.IdleClose = 30 * time.Millisecond
		c.Loops = 2
	})
	anchor := allocate(t, pool)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range cycles / 2 {
				e, err := pool.Allocate()
				if err != nil {
					t.Error(err)
					return
				}
				if err := e.Close(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, most := openFDs(t)-fds, 2+2+2*maxParked; n > most {
		t.Fatalf("%d descriptors open with one endpoint, at most %d expected", n, most)
	}
	_ = anchor.Close()
	// At most as many as before: one a previous test left closing may
	// have gone meanwhile.
	deadline := time.Now().Add(3 * time.Second)
	for openFDs(t) > fds {
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors open, %d before; parked %d, in use %d, loops running %v; open: %s",
				openFDs(t), fds, pool.parkedPairs(), pool.InUse(), pool.loopsRunning(), fdList(t))
		}
		time.Sleep(2 * time.Millisecond)
	}
	if pool.InUse() != 0 {
		t.Fatalf("InUse %d", pool.InUse())
	}
}

// TestDiscard: discard takes every queued datagram off a socket, without
// a buffer, and reports a socket it emptied.
func TestDiscard(t *testing.T) {
	fd, err := openUDP(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*unix.SockaddrInet4).Port))
	ph := newPhone(t, "127.0.0.2")
	const sent = discardBatch + 5
	for range sent {
		if _, err := ph.conn.WriteToUDPAddrPort(frame, to); err != nil {
			t.Fatal(err)
		}
	}
	if !discard(fd) {
		t.Fatal("a full batch reported the socket empty")
	}
	if discard(fd) {
		t.Fatal("a short batch reported more")
	}
	if n := queued(t, fd); n != 0 {
		t.Fatalf("%d bytes still queued", n)
	}
	if discard(fd) {
		t.Fatal("an empty socket reported more")
	}
}
