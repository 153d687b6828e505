package webrtc

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// client is a browser stand-in: a pion PeerConnection offering audio the
// way Chromium does (telephone-event/8000 as 126), on loopback only.
type client struct {
	t      testing.TB
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticRTP
	got    chan *rtp.Packet // RTP from the engine
	offer  string
	cands  chan webrtc.ICECandidateInit // trickled, when trickle
	seq    uint16
	ts     uint32
	mu     sync.Mutex
	closed bool
}

type clientCodec struct {
	mime string
	pt   webrtc.PayloadType
	rate uint32
	ch   uint16
}

var chromiumCodecs = []clientCodec{
	{webrtc.MimeTypePCMU, 0, 8000, 1},
	{webrtc.MimeTypePCMA, 8, 8000, 1},
	{mimeTelephoneEvent, 126, 8000, 1},
}

// newClient makes a client and its offer. With trickle the offer carries no
// candidates: they arrive on c.cands (the zero value last).
func newClient(t testing.TB, codecs []clientCodec, trickle bool) *client {
	t.Helper()
	m := &webrtc.MediaEngine{}
	for _, c := range codecs {
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: c.mime, ClockRate: c.rate, Channels: c.ch},
			PayloadType:        c.pt,
		}, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		t.Fatal(err)
	}
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	s.SetICETimeouts(iceDisconnected, iceFailed, iceKeepalive)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(s), webrtc.WithInterceptorRegistry(reg))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, pc: pc, got: make(chan *rtp.Packet, 1024), cands: make(chan webrtc.ICECandidateInit, 64)}
	t.Cleanup(c.close)
	c.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{
		MimeType: codecs[0].mime, ClockRate: codecs[0].rate, Channels: codecs[0].ch,
	}, "mic", "page")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pc.AddTransceiverFromTrack(c.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		t.Fatal(err)
	}
	go func() { // RTCP of the client's stream, for its interceptors
		for {
			if _, _, err := tr.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	pc.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		go func() { // our sender reports, for the client's receiver reports
			for {
				if _, _, err := r.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case c.got <- p:
			default: // the test is not reading this one
			}
		}
	})
	if trickle {
		pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand == nil {
				c.cands <- webrtc.ICECandidateInit{}
				return
			}
			c.cands <- cand.ToJSON()
		})
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if trickle {
		c.offer = offer.SDP
		return c
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		t.Fatal("client gathering")
	}
	c.offer = pc.LocalDescription().SDP
	return c
}

func (c *client) accept(answer string) {
	c.t.Helper()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		c.t.Fatal(err)
	}
}

// trickleTo hands the client's candidates to p until the end marker.
func (c *client) trickleTo(p *Peer) {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ci := <-c.cands:
			if err := p.AddCandidate(Candidate{Candidate: ci.Candidate, SDPMid: ci.SDPMid, SDPMLineIndex: ci.SDPMLineIndex}); err != nil {
				c.t.Fatal(err)
			}
			if ci.Candidate == "" {
				return
			}
		case <-deadline:
			c.t.Fatal("no end of candidates")
		}
	}
}

// send writes one 20 ms packet with payload.
func (c *client) send(payload []byte) {
	c.seq++
	c.ts += 160
	_ = c.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: c.seq, Timestamp: c.ts}, Payload: payload})
}

func (c *client) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		_ = c.pc.Close()
	}
}

// states records what a peer reports.
type states struct {
	mu  sync.Mutex
	all []State
}

func (s *states) add(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, st)
}

func (s *states) list() []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]State(nil), s.all...)
}

func (s *states) has(want ...State) bool {
	for _, st := range s.list() {
		for _, w := range want {
			if st == w {
				return true
			}
		}
	}
	return false
}

// eventually polls cond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// pattern is a recognisable 160-byte payload.
func pattern(seed byte) []byte {
	b := make([]byte, 160)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// waitPayload waits for a packet from the engine with payload want and
// payload type pt, while poke keeps something sending.
func (c *client) waitPayload(pt uint8, want []byte, poke func()) *rtp.Packet {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case p := <-c.got:
			if p.PayloadType == pt && bytes.Equal(p.Payload, want) {
				return p
			}
		case <-tick.C:
			poke()
		}
	}
	c.t.Fatalf("no packet PT %d with the expected payload", pt)
	return nil
}
