package webrtc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// ErrClosed is returned by Answer after Engine.Close.
var ErrClosed = errors.New("webrtc engine closed")

// ErrBadOffer is returned by Answer for an offer that is not valid SDP or
// that pion cannot apply (bad ICE or DTLS attributes).
var ErrBadOffer = errors.New("invalid WebRTC offer")

// ErrNoAudio is returned by Answer for an offer without an active audio
// media section.
var ErrNoAudio = errors.New("WebRTC offer has no audio")

// ErrNoCodec is returned by Answer for an offer whose audio has neither
// PCMU nor PCMA at 8000 Hz.
var ErrNoCodec = errors.New("WebRTC offer has no G.711 codec")

// ICE timers (consent freshness): a keepalive every second while no media
// flows, disconnected after 3 s of silence (the seat shows unavailable and
// is not rung), failed after 15 s (the seat goes offline).
const (
	iceKeepalive    = time.Second
	iceDisconnected = 3 * time.Second
	iceFailed       = 15 * time.Second
)

// gatherTimeout bounds Answer's wait for our candidates. With host
// candidates on one muxed socket gathering takes microseconds; the bound
// only matters if something is badly wrong.
const gatherTimeout = 2 * time.Second

// Payload types registered in the media engine. The browser's offer decides
// the types actually used (pion answers with the offerer's numbers): the
// negotiated ones are read back from the transceiver.
const (
	ptPCMU  = 0
	ptPCMA  = 8
	ptEvent = 101
)

// Config configures an Engine.
type Config struct {
	// Listen is the one UDP address every seat uses (the ICE UDP mux);
	// port 0 picks one (read it back with Addr).
	Listen netip.AddrPort
	// PublicIP, when valid, is advertised in candidates instead of
	// Listen's address (a box behind a 1:1 NAT).
	PublicIP netip.Addr
	// Loopback offers and accepts loopback candidates (tests, a box used
	// from a browser on itself).
	Loopback bool
	// Log is the engine's logger; nil discards.
	Log *slog.Logger
}

// Engine holds what every seat's PeerConnection shares: the UDP socket, its
// ICE mux and the pion API. It is safe for concurrent use.
type Engine struct {
	log  *slog.Logger
	conn *net.UDPConn
	mux  *ice.UDPMuxDefault
	api  *webrtc.API
	addr netip.AddrPort

	mu     sync.Mutex
	peers  map[*Peer]struct{}
	closed bool
}

// NewEngine binds the UDP port and builds the pion API: G.711 PCMU and PCMA
// and telephone-event/8000 only, RTCP reports, host candidates on the one
// socket.
func NewEngine(cfg Config) (*Engine, error) {
	if !cfg.Listen.IsValid() {
		return nil, fmt.Errorf("webrtc engine: no listen address")
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "webrtc")

	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: ptPCMU},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000, Channels: 1}, PayloadType: ptPCMA},
		// No fmtp: the browser's telephone-event/8000 usually carries
		// "0-15" or nothing, and the match is on name and rate.
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, Channels: 1}, PayloadType: ptEvent},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtc engine: register %s: %w", c.MimeType, err)
		}
	}
	// Sender and receiver reports only: the browser's receiver reports give
	// RTT, loss and jitter of our stream; ours let the browser measure its
	// own. NACK and TWCC are for video and cost per packet.
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, fmt.Errorf("webrtc engine: rtcp reports: %w", err)
	}

	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(cfg.Listen))
	if err != nil {
		return nil, fmt.Errorf("webrtc engine: listen %v: %w", cfg.Listen, err)
	}
	lf := &logFactory{log: log}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: lf.NewLogger("ice-mux"), UDPConn: conn})

	s := webrtc.SettingEngine{LoggerFactory: lf}
	s.SetICEUDPMux(mux)
	nets := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if cfg.Listen.Addr().Is6() && !cfg.Listen.Addr().Is4In6() {
		nets = append(nets, webrtc.NetworkTypeUDP6)
	}
	s.SetNetworkTypes(nets)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(cfg.Loopback)
	s.SetICETimeouts(iceDisconnected, iceFailed, iceKeepalive)
	if cfg.PublicIP.IsValid() {
		if err := s.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{cfg.PublicIP.String()},
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			_ = mux.Close()
			return nil, fmt.Errorf("webrtc engine: public IP %v: %w", cfg.PublicIP, err)
		}
	}

	e := &Engine{
		log:   log,
		conn:  conn,
		mux:   mux,
		api:   webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(s), webrtc.WithInterceptorRegistry(reg)),
		addr:  conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		peers: map[*Peer]struct{}{},
	}
	log.Info("webrtc engine listening", "addr", e.addr, "public_ip", cfg.PublicIP, "loopback", cfg.Loopback)
	return e, nil
}

// Addr returns the bound UDP address.
func (e *Engine) Addr() netip.AddrPort { return e.addr }

// Close closes every peer, then the socket. Peers go first: closing a
// PeerConnection sends the browser a DTLS close_notify over the socket.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	peers := make([]*Peer, 0, len(e.peers))
	for p := range e.peers {
		peers = append(peers, p)
	}
	e.mu.Unlock()
	var errs []error
	for _, p := range peers {
		errs = append(errs, p.Close())
	}
	errs = append(errs, e.mux.Close())
	return errors.Join(errs...)
}

// Peers returns the number of open peers.
func (e *Engine) Peers() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.peers)
}

// add registers p unless the engine is closed.
func (e *Engine) add(p *Peer) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.peers[p] = struct{}{}
	return true
}

func (e *Engine) remove(p *Peer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.peers, p)
}
