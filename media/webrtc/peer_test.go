package webrtc

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	mrtp "github.com/ccbox/ccbox/media/rtp"
	"github.com/pion/webrtc/v4"
)

// connect answers c's offer on e and waits for the connection.
func connect(t *testing.T, e *Engine, c *client, trickle bool) (*Peer, *states) {
	t.Helper()
	var st states
	p, answer, err := e.Answer(c.offer, st.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	c.accept(answer)
	if trickle {
		c.trickleTo(p)
	}
	eventually(t, 10*time.Second, "connected", func() bool { return st.has(StateConnected) })
	if got := st.list(); got[0] != StateConnecting {
		t.Fatalf("states %v, want connecting first", got)
	}
	return p, &st
}

// exchange proves RTP both ways between p and c with payloads derived
// from seed, and telephone-event from p arriving with the negotiated PT.
func exchange(t *testing.T, p *Peer, c *client, seed byte) {
	t.Helper()
	// Browser → engine.
	in := make(chan []byte, 256)
	p.SetReceiver(func(b []byte) {
		select {
		case in <- append([]byte(nil), b...):
		default:
		}
	})
	defer p.SetReceiver(nil)
	up := pattern(seed)
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for found := false; !found; {
		if time.Now().After(deadline) {
			t.Fatal("no RTP from the client")
		}
		select {
		case b := <-in:
			var pkt mrtp.Packet
			if err := pkt.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			found = pkt.PayloadType == 0 && bytes.Equal(pkt.Payload(), up)
		case <-tick.C:
			c.send(up)
		}
	}

	// Engine → browser: audio, then an RFC 4733 event with PT 126.
	down := pattern(seed + 100)
	seq, ts := uint16(1000), uint32(8000)
	write := func(pt uint8, payload []byte) func() {
		return func() {
			seq++
			ts += 160
			// The relay's packets come in buffers it reuses.
			b := mrtp.AppendPacket(nil, mrtp.Header{PayloadType: pt, Sequence: seq, Timestamp: ts, SSRC: 77}, payload)
			if err := p.WriteRTP(b); err != nil && !errors.Is(err, ErrNotConnected) {
				t.Errorf("WriteRTP: %v", err)
			}
		}
	}
	got := c.waitPayload(0, down, write(0, down))
	if got.SSRC == 77 {
		t.Error("SSRC not replaced")
	}
	f := p.Format()
	if f != (Format{Codec: codec.PCMU, DTMF: 126, HasDTMF: true}) {
		t.Fatalf("format %+v", f)
	}
	event := []byte{5, 0x0a, 0, 160}
	ev := c.waitPayload(126, event, write(f.DTMF, event))
	if ev.SSRC != got.SSRC {
		t.Errorf("event SSRC %d, audio SSRC %d", ev.SSRC, got.SSRC)
	}
}

// TestPeerConnects: one client, candidates in the offer; RTP both ways,
// telephone-event with the negotiated PT; closing the client is noticed.
func TestPeerConnects(t *testing.T) {
	e := newTestEngine(t)
	c := newClient(t, chromiumCodecs, false)
	p, st := connect(t, e, c, false)
	exchange(t, p, c, 1)
	if e.Peers() != 1 {
		t.Errorf("Peers %d", e.Peers())
	}
	c.close()
	eventually(t, 20*time.Second, "peer gone", func() bool {
		return st.has(StateDisconnected, StateFailed, StateClosed)
	})
	_ = p.Close()
	eventually(t, 5*time.Second, "closed reported", func() bool { return st.has(StateClosed) })
	if e.Peers() != 0 {
		t.Errorf("Peers %d after close", e.Peers())
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Transitions are reported once each, closed last.
	got := st.list()
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("state %v reported twice in a row: %v", got[i], got)
		}
	}
	if got[len(got)-1] != StateClosed {
		t.Errorf("last state %v: %v", got[len(got)-1], got)
	}
}

// TestTwoPeersOnePort: two clients at once on the engine's one port, one of
// them trickling its candidates, each hears its own stream.
func TestTwoPeersOnePort(t *testing.T) {
	e := newTestEngine(t)
	c1 := newClient(t, chromiumCodecs, false)
	c2 := newClient(t, chromiumCodecs, true)
	p1, _ := connect(t, e, c1, false)
	p2, _ := connect(t, e, c2, true)
	var wg sync.WaitGroup
	for i, pc := range []struct {
		p *Peer
		c *client
	}{{p1, c1}, {p2, c2}} {
		wg.Go(func() { exchange(t, pc.p, pc.c, byte(10*(i+1))) })
	}
	wg.Wait()
	if e.Peers() != 2 {
		t.Errorf("Peers %d", e.Peers())
	}
}

// TestQuality: after a few seconds of RTP both ways the browser's receiver
// reports give an RTT, and the counters move.
func TestQuality(t *testing.T) {
	e := newTestEngine(t)
	c := newClient(t, chromiumCodecs, false)
	p, _ := connect(t, e, c, false)
	n := 0
	p.SetReceiver(func([]byte) {})
	payload := pattern(3)
	seq := uint16(0)
	eventually(t, 15*time.Second, "RTT", func() bool {
		n++
		if n%4 == 0 { // every 20 ms
			c.send(payload)
			seq++
			_ = p.WriteRTP(mrtp.AppendPacket(nil, mrtp.Header{Sequence: seq, Timestamp: uint32(seq) * 160, SSRC: 1}, payload))
		}
		return p.Quality().RTT > 0
	})
	q := p.Quality()
	t.Logf("quality %+v", q)
	if q.PacketsIn == 0 || q.PacketsOut == 0 || q.LossIn < 0 || q.LossIn > 1 || q.LossOut < 0 || q.LossOut > 1 {
		t.Errorf("quality %+v", q)
	}
	if q.RTT > time.Second {
		t.Errorf("loopback RTT %v", q.RTT)
	}
}

// TestAnswerRejects: offers that cannot be answered fail with a sentinel
// and leave nothing open.
func TestAnswerRejects(t *testing.T) {
	e := newTestEngine(t)
	opus := newClient(t, []clientCodec{{webrtc.MimeTypeOpus, 111, 48000, 2}}, false)
	video := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n"
	rejected := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\n"
	noICE := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:0 PCMU/8000\r\n"
	for _, tc := range []struct {
		name, offer string
		want        error
	}{
		{"opus only", opus.offer, ErrNoCodec},
		{"garbage", "this is not SDP", ErrBadOffer},
		{"empty", "", ErrBadOffer},
		{"video only", video, ErrNoAudio},
		{"audio rejected", rejected, ErrNoAudio},
		{"no ICE or DTLS", noICE, ErrBadOffer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			p, answer, err := e.Answer(tc.offer, func(State) { called = true })
			if !errors.Is(err, tc.want) || p != nil || answer != "" {
				t.Fatalf("Answer: %v, %v, %q; want %v", p, err, answer, tc.want)
			}
			if e.Peers() != 0 {
				t.Errorf("Peers %d after a refused offer", e.Peers())
			}
			if called {
				t.Error("onState called for a refused offer")
			}
		})
	}
}

// TestEngineClose closes its peers, then refuses offers.
func TestEngineClose(t *testing.T) {
	e := newTestEngine(t)
	c := newClient(t, chromiumCodecs, false)
	_, st := connect(t, e, c, false)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "closed", func() bool { return st.has(StateClosed) })
	if e.Peers() != 0 {
		t.Errorf("Peers %d", e.Peers())
	}
	c2 := newClient(t, chromiumCodecs, false)
	if _, _, err := e.Answer(c2.offer, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Answer after Close: %v", err)
	}
}

// TestPublicIP: the answer advertises the public address, not the bound
// one.
func TestPublicIP(t *testing.T) {
	e, err := NewEngine(Config{Listen: netip.MustParseAddrPort("127.0.0.1:0"), PublicIP: netip.MustParseAddr("203.0.113.7"), Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := newClient(t, chromiumCodecs, false)
	p, answer, err := e.Answer(c.offer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !bytes.Contains([]byte(answer), []byte("203.0.113.7")) || bytes.Contains([]byte(answer), []byte(" 127.0.0.1 ")) {
		t.Errorf("answer candidates:\n%s", answer)
	}
}

func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		s    State
		want string
	}{
		{StateUnknown, "unknown"}, {StateConnecting, "connecting"}, {StateConnected, "connected"},
		{StateDisconnected, "disconnected"}, {StateFailed, "failed"}, {StateClosed, "closed"}, {State(99), "unknown"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestStateOf(t *testing.T) {
	for _, tc := range []struct {
		pcs  webrtc.PeerConnectionState
		ics  webrtc.ICEConnectionState
		want State
	}{
		{webrtc.PeerConnectionStateNew, webrtc.ICEConnectionStateNew, StateConnecting},
		{webrtc.PeerConnectionStateConnecting, webrtc.ICEConnectionStateChecking, StateConnecting},
		{webrtc.PeerConnectionStateConnected, webrtc.ICEConnectionStateConnected, StateConnected},
		{webrtc.PeerConnectionStateDisconnected, webrtc.ICEConnectionStateDisconnected, StateDisconnected},
		{webrtc.PeerConnectionStateFailed, webrtc.ICEConnectionStateFailed, StateFailed},
		{webrtc.PeerConnectionStateClosed, webrtc.ICEConnectionStateClosed, StateClosed},
		{webrtc.PeerConnectionStateNew, webrtc.ICEConnectionStateFailed, StateFailed},
		{webrtc.PeerConnectionStateNew, webrtc.ICEConnectionStateClosed, StateClosed},
	} {
		if got := stateOf(tc.pcs, tc.ics); got != tc.want {
			t.Errorf("%v/%v: %v, want %v", tc.pcs, tc.ics, got, tc.want)
		}
	}
}

func TestChoose(t *testing.T) {
	pc := func(mime string, pt uint8, rate uint32) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: rate}, PayloadType: webrtc.PayloadType(pt)}
	}
	for _, tc := range []struct {
		name string
		in   []webrtc.RTPCodecParameters
		want Format
		ok   bool
	}{
		{"chromium", []webrtc.RTPCodecParameters{pc("audio/PCMU", 0, 8000), pc("audio/PCMA", 8, 8000), pc(mimeTelephoneEvent, 126, 8000)}, Format{codec.PCMU, 126, true}, true},
		{"pcma first", []webrtc.RTPCodecParameters{pc(mimeTelephoneEvent, 101, 8000), pc("audio/PCMA", 8, 8000), pc("audio/PCMU", 0, 8000)}, Format{codec.PCMA, 101, true}, true},
		{"no events", []webrtc.RTPCodecParameters{pc("audio/PCMU", 0, 8000)}, Format{Codec: codec.PCMU}, true},
		{"event at 48k only", []webrtc.RTPCodecParameters{pc("audio/PCMU", 0, 8000), pc(mimeTelephoneEvent, 110, 48000)}, Format{Codec: codec.PCMU}, true},
		{"none", []webrtc.RTPCodecParameters{pc(mimeTelephoneEvent, 126, 8000)}, Format{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefs, f, ok := choose(tc.in)
			if ok != tc.ok || f != tc.want {
				t.Fatalf("got %+v %v, want %+v %v", f, ok, tc.want, tc.ok)
			}
			if ok && (len(prefs) == 0 || codec.FromName(prefs[0].MimeType[len("audio/"):], 8000) != f.Codec) {
				t.Errorf("preferences %v", prefs)
			}
			if ok && f.HasDTMF && !slices.ContainsFunc(prefs, func(c webrtc.RTPCodecParameters) bool { return uint8(c.PayloadType) == f.DTMF }) {
				t.Errorf("preferences lack the event PT: %v", prefs)
			}
		})
	}
}
