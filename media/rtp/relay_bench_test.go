package rtp

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// relayRig is two fake phones bridged through the relay, with the phone
// sockets' calls alloc-free so allocation counts measure the relay.
type relayRig struct {
	a, b           *Endpoint
	phoneA, phoneB *phone
	out            []byte
}

func newRelayRig(t testing.TB) *relayRig {
	pool, _ := newTestPool(t)
	r := &relayRig{a: allocate(t, pool), b: allocate(t, pool), phoneA: newPhone(t, "127.0.0.2"), phoneB: newPhone(t, "127.0.0.3")}
	r.b.SetRemote(r.phoneB.addr())
	Bridge(r.a, r.b)
	r.out = AppendPacket(nil, Header{SSRC: 1, Sequence: 1, Timestamp: 160}, make([]byte, 160))
	_ = r.phoneB.conn.SetReadDeadline(time.Now().Add(time.Minute))
	return r
}

func (r *relayRig) sendOne(t testing.TB) {
	if _, err := r.phoneA.conn.WriteToUDPAddrPort(r.out, r.a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
}

func (r *relayRig) recvOne(t testing.TB) {
	if _, _, err := r.phoneB.conn.ReadFromUDPAddrPort(r.phoneB.buf); err != nil {
		t.Fatal(err)
	}
}

// TestRelayAllocs: relaying a packet allocates nothing, in any goroutine.
func TestRelayAllocs(t *testing.T) {
	r := newRelayRig(t)
	r.sendOne(t) // latch and warm up
	r.recvOne(t)
	allocs := testing.AllocsPerRun(500, func() {
		r.sendOne(t)
		r.recvOne(t)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per relayed packet", allocs)
	}
}

// BenchmarkRelay pushes packets from one phone through a bridge to another
// with up to 64 in flight, so the relay, not the round trip, sets the pace.
// ns/op is the time per relayed packet with the phones' own syscalls
// sharing the cores; cpu-ns/pkt is the whole process's CPU per packet (the
// phones' sendto and recvfrom included, so about half of it is the
// relay's recvfrom and sendto); allocs/op must be 0.
func BenchmarkRelay(b *testing.B) {
	r := newRelayRig(b)
	r.sendOne(b)
	r.recvOne(b)
	const window = 64
	credits := make(chan struct{}, window)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			if _, _, err := r.phoneB.conn.ReadFromUDPAddrPort(r.phoneB.buf); err != nil {
				return
			}
			<-credits
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		credits <- struct{}{}
		r.sendOne(b)
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/pkt")
	if got := r.b.Stats().PacketsOut; got < uint64(b.N) {
		b.Fatalf("relayed %d of %d", got, b.N)
	}
}
