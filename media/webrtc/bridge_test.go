package webrtc

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/media/codec"
	mrtp "github.com/ccbox/ccbox/media/rtp"
	"github.com/prometheus/client_golang/prometheus"
)

// seatLeg wires a peer to a virtual endpoint the way the call layer does.
func seatLeg(t testing.TB, pool *mrtp.PortPool, p *Peer) *mrtp.Endpoint {
	t.Helper()
	v := pool.Virtual(p.WriteRTP)
	f := p.Format()
	v.SetCodec(f.Codec, f.DTMF, f.HasDTMF)
	p.SetReceiver(v.Receive)
	t.Cleanup(func() { p.SetReceiver(nil); _ = v.Close() })
	return v
}

func newPool(t testing.TB) *mrtp.PortPool {
	t.Helper()
	m, err := mrtp.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pool, err := mrtp.NewPortPool(mrtp.PoolConfig{IP: netip.MustParseAddr("127.0.0.1"), Ports: config.PortRange{First: 43000, Last: 43999}, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestSeatBridgedToPhone: a seat (PCMU) bridged through a virtual endpoint
// to a SIP phone's socket endpoint (PCMA): audio is transcoded both ways.
func TestSeatBridgedToPhone(t *testing.T) {
	e := newTestEngine(t)
	c := newClient(t, chromiumCodecs, false)
	p, _ := connect(t, e, c, false)
	pool := newPool(t)
	v := seatLeg(t, pool, p)
	sock, err := pool.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	sock.SetCodec(codec.PCMA, 101, true)
	ph, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.2:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer ph.Close()
	mrtp.Bridge(sock, v)

	// Phone → seat: A-law in, µ-law at the browser.
	alaw := pattern(40)
	want := make([]byte, len(alaw))
	for i, x := range alaw {
		want[i] = codec.AlawToUlaw(x)
	}
	seq := uint16(0)
	c.waitPayload(0, want, func() {
		seq++
		b := mrtp.AppendPacket(nil, mrtp.Header{PayloadType: 8, Sequence: seq, Timestamp: uint32(seq) * 160, SSRC: 5}, alaw)
		_, _ = ph.WriteToUDPAddrPort(b, sock.LocalAddr())
	})

	// Seat → phone: the socket endpoint latched onto the phone.
	ulaw := pattern(90)
	buf := make([]byte, 2048)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("nothing from the seat at the phone")
		}
		c.send(ulaw)
		_ = ph.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, _, err := ph.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		var pkt mrtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 8 {
			continue
		}
		ok := true
		for i, x := range pkt.Payload() {
			ok = ok && x == codec.UlawToAlaw(ulaw[i])
		}
		if ok && len(pkt.Payload()) == len(ulaw) {
			break
		}
	}
	// The relay loop counts a packet after its send returns: on a loaded
	// machine the count may trail the packet's arrival, so poll (bounded).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := v.Stats()
		if st.PacketsIn > 0 && st.PacketsOut > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("virtual endpoint stats %+v", st)
			break
		}
	}
}

// BenchmarkPeerRTP measures a packet's round trip client → engine peer →
// virtual endpoint bridged to a second virtual endpoint that echoes → back
// to the client. cpu-ns/rtt is the whole process's CPU (client and engine,
// both pion: about half is the engine's) per round trip.
func BenchmarkPeerRTP(b *testing.B) {
	e := newTestEngine(b)
	c := newClient(b, chromiumCodecs, false)
	var st states
	p, answer, err := e.Answer(c.offer, st.add)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	c.accept(answer)
	eventually(b, 10*time.Second, "connected", func() bool { return st.has(StateConnected) })
	pool := newPool(b)
	v := seatLeg(b, pool, p)
	// The echo: what the seat sends comes back to it, as if from a phone.
	var echo *mrtp.Endpoint
	echo = pool.Virtual(func(pkt []byte) error { echo.Receive(pkt); return nil })
	echo.SetCodec(codec.PCMU, 101, true)
	mrtp.Bridge(v, echo)
	payload := pattern(7)
	c.waitPayload(0, payload, func() { c.send(payload) })
	for len(c.got) > 0 {
		<-c.got
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuNS(b)
	for range b.N {
		c.send(payload)
		select {
		case <-c.got:
		case <-time.After(time.Second):
			b.Fatal("packet lost on loopback")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuNS(b)-cpu0)/float64(b.N), "cpu-ns/rtt")
}

func cpuNS(b testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
