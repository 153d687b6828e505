package webrtc

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/pion/webrtc/v4"
)

// receiveMTU is the read buffer for one RTP or RTCP packet.
const receiveMTU = 1500

// Candidate is an ICE candidate the browser trickles (RTCIceCandidateInit).
type Candidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

// Format is what a seat's audio negotiated.
type Format struct {
	Codec   codec.Codec // PCMU or PCMA, the browser's preference among them
	DTMF    uint8       // telephone-event/8000 payload type, when HasDTMF
	HasDTMF bool
}

// Peer is one seat's PeerConnection. Its methods are safe for concurrent
// use.
type Peer struct {
	e       *Engine
	pc      *webrtc.PeerConnection
	log     *slog.Logger
	track   *localTrack
	format  Format
	onState func(State)

	recv     atomic.Pointer[func([]byte)]
	stateSig chan struct{} // coalesced "the state may have changed"
	q        quality

	mu   sync.Mutex     // orders starting read loops against Close
	done chan struct{}  // closed by Close, under mu
	wg   sync.WaitGroup // the read loops (not the state goroutine: onState may call Close)

	closeOnce sync.Once
	closeErr  error
}

// Answer answers the browser's offer: a new PeerConnection with one audio
// transceiver, sendrecv. The answer SDP carries our candidates (we do not
// trickle); the browser may trickle its own with AddCandidate. onState
// (nil: none) is called on every state change, in order, on a goroutine of
// the peer's own, starting with StateConnecting and ending with
// StateClosed (possibly just after Close returns); it may call Close. On
// error nothing is left open and onState is never called.
func (e *Engine) Answer(offer string, onState func(State)) (*Peer, string, error) {
	if err := checkOffer(offer); err != nil {
		return nil, "", err
	}
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	p := &Peer{
		e:        e,
		pc:       pc,
		log:      e.log,
		track:    &localTrack{id: "audio", stream: "ccbox"},
		onState:  onState,
		stateSig: make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	if !e.add(p) {
		_ = pc.Close()
		return nil, "", ErrClosed
	}
	fail := func(err error) (*Peer, string, error) {
		_ = p.Close()
		return nil, "", err
	}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(webrtc.PeerConnectionState) { p.signal() })
	pc.OnICEConnectionStateChange(func(webrtc.ICEConnectionState) { p.signal() })

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrBadOffer, err))
	}
	var tr *webrtc.RTPTransceiver
	for _, t := range pc.GetTransceivers() {
		if t.Kind() == webrtc.RTPCodecTypeAudio {
			tr = t
			break
		}
	}
	if tr == nil {
		return fail(ErrNoAudio)
	}
	prefs, f, ok := choose(tr.Receiver().GetParameters().Codecs)
	if !ok {
		return fail(ErrNoCodec)
	}
	p.format = f
	p.track.mime = prefs[0].MimeType
	// One audio codec in the answer, so the browser sends what Format says
	// (a browser may send any codec the answer lists).
	if err := tr.SetCodecPreferences(prefs); err != nil {
		return fail(fmt.Errorf("codec preferences: %w", err))
	}
	sender, err := pc.AddTrack(p.track)
	if err != nil {
		return fail(fmt.Errorf("add track: %w", err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(fmt.Errorf("%w: create answer: %w", ErrBadOffer, err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(fmt.Errorf("%w: set answer: %w", ErrBadOffer, err))
	}
	timer := time.NewTimer(gatherTimeout)
	select {
	case <-gathered:
		timer.Stop()
	case <-timer.C:
		p.log.Warn("webrtc candidate gathering incomplete", "after", gatherTimeout)
	}
	local := pc.LocalDescription()
	if local == nil {
		return fail(fmt.Errorf("%w: no local description", ErrBadOffer))
	}

	// The RTCP of our stream (the browser's receiver reports) comes in
	// on the sender; it must be read for the interceptors to see it.
	if !p.start(1) {
		return fail(ErrClosed) // the engine closed meanwhile
	}
	go p.readRTCP(func(b []byte) (int, error) { n, _, err := sender.Read(b); return n, err })
	go p.deliverStates()
	return p, local.SDP, nil
}

// choose picks, from the negotiated audio codecs (in the browser's order),
// the first G.711 codec and telephone-event/8000, and returns them as codec
// preferences (audio codec first) with the matching Format.
func choose(negotiated []webrtc.RTPCodecParameters) ([]webrtc.RTPCodecParameters, Format, bool) {
	var f Format
	var prefs []webrtc.RTPCodecParameters
	var event *webrtc.RTPCodecParameters
	for i, c := range negotiated {
		name, _ := strings.CutPrefix(strings.ToLower(c.MimeType), "audio/")
		if f.Codec == codec.Unknown {
			if k := codec.FromName(name, int(c.ClockRate)); k != codec.Unknown {
				f.Codec = k
				prefs = append(prefs, c)
				continue
			}
		}
		if event == nil && strings.EqualFold(c.MimeType, mimeTelephoneEvent) && c.ClockRate == codec.ClockRate {
			event = &negotiated[i]
		}
	}
	if f.Codec == codec.Unknown {
		return nil, Format{}, false
	}
	if event != nil {
		prefs = append(prefs, *event)
		f.DTMF, f.HasDTMF = uint8(event.PayloadType), true
	}
	return prefs, f, true
}

// signal notes a possible state change without blocking pion.
func (p *Peer) signal() {
	select {
	case p.stateSig <- struct{}{}:
	default:
	}
}

// deliverStates reports state changes to onState, in order, from one
// goroutine. Pion calls its connection-state handler on a new goroutine per
// change, so the order of those calls is not the order of the changes: this
// goroutine reads the current state on each signal instead, so the last
// report is always the true state, and consecutive duplicates are dropped.
func (p *Peer) deliverStates() {
	last := StateConnecting
	if p.onState != nil {
		p.onState(last)
	}
	for {
		var closing bool
		select {
		case <-p.stateSig:
		case <-p.done:
			closing = true
		}
		s := stateOf(p.pc.ConnectionState(), p.pc.ICEConnectionState())
		if closing {
			s = StateClosed
		}
		if s != last {
			last = s
			if p.onState != nil {
				p.onState(s)
			}
		}
		if s == StateClosed {
			return
		}
	}
}

// onTrack runs (on a goroutine pion starts) when the browser's first RTP
// packet arrives: it reads the track until the peer closes.
func (p *Peer) onTrack(track *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	if track.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	if !p.start(2) {
		return
	}
	defer p.wg.Done()
	go p.readRTCP(func(b []byte) (int, error) { n, _, err := r.Read(b); return n, err })
	buf := make([]byte, receiveMTU)
	audioPT := uint8(0)
	if pt, ok := p.format.Codec.PayloadType(); ok {
		audioPT = pt
	}
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			if n == 0 || errors.Is(err, io.EOF) {
				return // closed
			}
			continue // a payload type not negotiated (comfort noise): dropped
		}
		if n < 12 {
			continue
		}
		b := buf[:n]
		p.q.received(b, audioPT, time.Now())
		if fn := p.recv.Load(); fn != nil {
			(*fn)(b)
		}
	}
}

// start counts n read loops about to start, unless the peer is closed.
func (p *Peer) start(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return false
	default:
		p.wg.Add(n)
		return true
	}
}

// readRTCP reads RTCP with read until the peer closes, taking the report
// blocks about our stream.
func (p *Peer) readRTCP(read func([]byte) (int, error)) {
	defer p.wg.Done()
	buf := make([]byte, receiveMTU)
	for {
		n, err := read(buf)
		if err != nil {
			return
		}
		p.q.rtcp(buf[:n], p.track.bound.Load(), time.Now())
	}
}

// AddCandidate adds the browser's trickled candidate; an empty candidate
// marks the end of them.
func (p *Peer) AddCandidate(c Candidate) error {
	if err := p.pc.AddICECandidate(webrtc.ICECandidateInit{
		Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
	}); err != nil {
		return fmt.Errorf("%w: candidate: %w", ErrBadOffer, err)
	}
	return nil
}

// Format returns the negotiated codec and telephone-event payload type.
func (p *Peer) Format() Format { return p.format }

// SetReceiver sets where inbound RTP (decrypted) goes: fn is called on one
// goroutine, with a buffer it may change but must not keep. nil drops it.
func (p *Peer) SetReceiver(fn func(b []byte)) {
	if fn == nil {
		p.recv.Store(nil)
		return
	}
	p.recv.Store(&fn)
}

// WriteRTP sends an RTP packet to the browser: SSRC replaced by the
// sender's, payload type, sequence number and timestamp kept. It is an
// rtp.Transport. Before the connection is up it returns ErrNotConnected,
// or drops the packet silently while DTLS is still in progress.
func (p *Peer) WriteRTP(b []byte) error { return p.track.write(b) }

// Quality returns the connection's current RTT, loss and jitter.
func (p *Peer) Quality() Quality {
	return p.q.snapshot(p.track.packets.Load(), time.Now())
}

// Close closes the PeerConnection (the browser gets a DTLS close_notify)
// and waits for its read loops. onState gets StateClosed. It is
// idempotent and must not be called from the receiver function.
func (p *Peer) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		close(p.done)
		p.mu.Unlock()
		p.closeErr = p.pc.Close()
		p.wg.Wait()
		p.e.remove(p)
	})
	return p.closeErr
}
