package player

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/prometheus/client_golang/prometheus"
)

// newPool returns an RTP port pool on 127.0.0.1 with a fresh registry.
func newPool(t testing.TB) *rtp.PortPool {
	t.Helper()
	m, err := rtp.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	p, err := rtp.NewPortPool(rtp.PoolConfig{
		IP:      netip.MustParseAddr("127.0.0.1"),
		Ports:   config.PortRange{First: 43000, Last: 43999},
		Metrics: m,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func allocate(t testing.TB, p *rtp.PortPool) *rtp.Endpoint {
	t.Helper()
	e, err := p.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// phone is a plain UDP socket standing in for a phone's RTP port.
type phone struct {
	t    testing.TB
	conn *net.UDPConn
	buf  []byte
}

func newPhone(t testing.TB, ip string) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ip+":0")))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(1 << 20)
	t.Cleanup(func() { _ = c.Close() })
	return &phone{t: t, conn: c, buf: make([]byte, 2048)}
}

func (ph *phone) addr() netip.AddrPort { return ph.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// recv returns the next packet, copied, or nil when none comes within wait.
func (ph *phone) recv(wait time.Duration) *rtp.Packet {
	ph.t.Helper()
	_ = ph.conn.SetReadDeadline(time.Now().Add(wait))
	n, _, err := ph.conn.ReadFromUDPAddrPort(ph.buf)
	if err != nil {
		return nil
	}
	var p rtp.Packet
	if err := p.Unmarshal(append([]byte(nil), ph.buf[:n]...)); err != nil {
		ph.t.Fatal(err)
	}
	return &p
}

// must returns the next packet or fails.
func (ph *phone) must() *rtp.Packet {
	ph.t.Helper()
	p := ph.recv(3 * time.Second)
	if p == nil {
		ph.t.Fatal("no packet")
	}
	return p
}

// TestPlayHoldMusic: a phone hears the hold music's notes at 50 packets a
// second, one stream with timestamps stepping by 160, in the leg's codec;
// Stop stops it at once.
func TestPlayHoldMusic(t *testing.T) {
	for _, c := range []codec.Codec{codec.Unknown, codec.PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			pool := newPool(t)
			ep := allocate(t, pool)
			ph := newPhone(t, "127.0.0.5")
			ep.SetRemote(ph.addr())
			ep.SetCodec(c, 101, true)
			wantPT, wantCodec := uint8(0), codec.PCMU
			if c == codec.PCMA {
				wantPT, wantCodec = 8, codec.PCMA
			}
			p := New(nil)
			defer p.Close()
			pb := p.Play(ep, HoldMusic(), true)

			const n = 150 // 3 s: several notes
			var pcm []int16
			first := ph.must()
			start := time.Now()
			prev := first
			for i := 1; i < n; i++ {
				got := ph.must()
				if got.SSRC != first.SSRC || got.Sequence != prev.Sequence+1 || got.Timestamp != prev.Timestamp+FrameSamples {
					t.Fatalf("packet %d: ssrc %d seq %d ts %d after ssrc %d seq %d ts %d",
						i, got.SSRC, got.Sequence, got.Timestamp, prev.SSRC, prev.Sequence, prev.Timestamp)
				}
				if got.PayloadType != wantPT || len(got.Payload()) != FrameSamples {
					t.Fatalf("packet %d: pt %d, %d bytes", i, got.PayloadType, len(got.Payload()))
				}
				pcm = codec.DecodeG711(wantCodec, got.Payload(), pcm)
				prev = got
			}
			// 149 intervals of 20 ms: 2.98 s. Never faster than catching up
			// allows; slower only when the machine starves the clock (the
			// schedule slips rather than bursting), so that bound is loose.
			if el := time.Since(start); el < (n-1-maxCatchUp)*FrameDuration || el > 2*(n-1)*FrameDuration {
				t.Errorf("%d packets took %v, want about 2.98 s", n-1, el)
			}
			heard := map[float64]bool{}
			for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
				if f, ok := dominant(pcm[i:i+FrameSamples], HoldMusicNotes); ok {
					heard[f] = true
				}
			}
			if len(heard) < 4 {
				t.Errorf("heard notes %v in 3 s", heard)
			}

			pb.Stop()
			pb.Stop() // idempotent
			select {
			case <-pb.Done():
			default:
				t.Fatal("Done not closed by Stop")
			}
			sent := ep.Stats().PacketsOut
			received := uint64(n)
			for ph.recv(100*time.Millisecond) != nil { // what was on the way
				received++
			}
			if received != sent || ep.Stats().PacketsOut != sent {
				t.Errorf("after Stop: %d sent at Stop, %d now, %d received", sent, ep.Stats().PacketsOut, received)
			}
		})
	}
}

// TestPlayOnce: a sound not looped plays each frame once and then closes
// Done; the clock goroutine exits when nothing plays.
func TestPlayOnce(t *testing.T) {
	pool := newPool(t)
	ep := allocate(t, pool)
	ph := newPhone(t, "127.0.0.5")
	ep.SetRemote(ph.addr())
	base := runtime.NumGoroutine()
	p := New(nil)
	defer p.Close()
	pb := p.Play(ep, Beep(), false)
	select {
	case <-pb.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("Done not closed")
	}
	count := 0
	for ph.recv(100*time.Millisecond) != nil {
		count++
	}
	if count != Beep().Frames() {
		t.Errorf("received %d packets, want %d", count, Beep().Frames())
	}
	waitFor(t, "clock goroutine to exit", func() bool { return runtime.NumGoroutine() <= base })
}

// TestPlayWithoutRemote: before the phone is known frames are dropped and
// counted as played, so the sound keeps its pace.
func TestPlayWithoutRemote(t *testing.T) {
	pool := newPool(t)
	ep := allocate(t, pool)
	p := New(nil)
	defer p.Close()
	pb := p.Play(ep, NewSound("short", make([]int16, 5*FrameSamples)), false)
	select {
	case <-pb.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("Done not closed")
	}
	if s := ep.Stats(); s.PacketsOut != 0 {
		t.Errorf("sent %d packets with no remote", s.PacketsOut)
	}
}

// TestPlayClosedEndpoint: a playback whose endpoint closes ends.
func TestPlayClosedEndpoint(t *testing.T) {
	pool := newPool(t)
	ep, err := pool.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	ph := newPhone(t, "127.0.0.5")
	ep.SetRemote(ph.addr())
	p := New(nil)
	defer p.Close()
	pb := p.Play(ep, HoldMusic(), true)
	ph.must()
	_ = ep.Close()
	select {
	case <-pb.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("playback into a closed endpoint did not end")
	}
}

// TestManyPlaybacks: 100 playbacks at once run on one goroutine, each at
// its own pace; Close stops them all.
func TestManyPlaybacks(t *testing.T) {
	const n = 100
	pool := newPool(t)
	ph := newPhone(t, "127.0.0.5")
	eps := make([]*rtp.Endpoint, n)
	for i := range eps {
		eps[i] = allocate(t, pool)
		eps[i].SetRemote(ph.addr())
	}
	base := runtime.NumGoroutine()
	p := New(nil)
	pbs := make([]*Playback, n)
	for i, ep := range eps {
		pbs[i] = p.Play(ep, HoldMusic(), true)
	}
	if g := runtime.NumGoroutine() - base; g != 1 {
		t.Errorf("%d goroutines for %d playbacks", g, n)
	}
	// One second of everything: every stream gets about 50 packets (at
	// least half that on a machine too busy to keep the clock).
	perSSRC := map[uint32]int{}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if pkt := ph.recv(time.Second); pkt != nil {
			perSSRC[pkt.SSRC]++
		}
	}
	if len(perSSRC) != n {
		t.Errorf("%d streams heard, want %d", len(perSSRC), n)
	}
	for ssrc, c := range perSSRC {
		if c < 25 || c > 50+maxCatchUp+1 {
			t.Errorf("stream %d: %d packets in 1 s, want about 50", ssrc, c)
		}
	}
	p.Close()
	for i, pb := range pbs {
		select {
		case <-pb.Done():
		default:
			t.Fatalf("playback %d not done after Close", i)
		}
	}
	if pb := p.Play(eps[0], Beep(), false); !isDone(pb) {
		t.Error("Play after Close is not done")
	}
	waitFor(t, "clock goroutine to exit", func() bool { return runtime.NumGoroutine() <= base })
}

func TestFramesDue(t *testing.T) {
	tests := []struct {
		name                 string
		start, sent, tick    int64
		wantFrames, wantFrom int64
	}{
		{"first tick", 10, 0, 10, 1, 10},
		{"on time", 10, 5, 15, 1, 10},
		{"early duplicate tick", 10, 6, 15, 0, 10},
		{"one late tick", 10, 5, 17, 3, 10},
		{"long stall slips", 10, 5, 115, maxCatchUp, 10 + 101 - maxCatchUp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, from := framesDue(tc.start, tc.sent, tc.tick)
			if n != tc.wantFrames || from != tc.wantFrom {
				t.Errorf("framesDue = %d, %d; want %d, %d", n, from, tc.wantFrames, tc.wantFrom)
			}
			// After sending them, the next tick sends one.
			if n2, _ := framesDue(from, tc.sent+n, tc.tick+1); n2 != 1 {
				t.Errorf("next tick sends %d", n2)
			}
		})
	}
}

func isDone(pb *Playback) bool {
	select {
	case <-pb.Done():
		return true
	default:
		return false
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
