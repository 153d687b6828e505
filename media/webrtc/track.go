package webrtc

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	mrtp "github.com/ccbox/ccbox/media/rtp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// ErrNotConnected is returned by Peer.WriteRTP before pion has bound the
// outbound track (the answer is not applied yet) or after it was unbound.
var ErrNotConnected = errors.New("WebRTC peer not connected")

// ErrNoTrackCodec is returned to pion by the outbound track's Bind when
// the negotiated codecs hold none the seat chose (not expected: Answer
// chose from the same list).
var ErrNoTrackCodec = errors.New("negotiated codecs lack the seat's codec")

// localTrack is the seat's outbound audio. Unlike pion's TrackLocalStaticRTP
// it keeps each packet's payload type, so telephone-event reaches the
// browser with its negotiated number next to the audio codec's; it only
// puts in the binding's SSRC. Sequence numbers and timestamps come from the
// relay, which already keeps one continuous stream across calls.
type localTrack struct {
	id, stream string
	mime       string // the audio codec chosen in Answer

	mu   sync.Mutex // serializes writers: the header and view are reused
	w    webrtc.TrackLocalWriter
	ssrc uint32
	hdr  rtp.Header
	pkt  mrtp.Packet

	bound   atomic.Uint32 // the SSRC once bound, for RTCP matching; 0 before
	packets atomic.Uint64
}

// Bind implements webrtc.TrackLocal: it takes the writer and SSRC pion
// negotiated and picks the codec Answer chose.
func (t *localTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, t.mime) {
			t.mu.Lock()
			t.w, t.ssrc = ctx.WriteStream(), uint32(ctx.SSRC())
			t.mu.Unlock()
			t.bound.Store(uint32(ctx.SSRC()))
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, ErrNoTrackCodec
}

// Unbind implements webrtc.TrackLocal.
func (t *localTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	t.w = nil
	t.mu.Unlock()
	return nil
}

// ID implements webrtc.TrackLocal.
func (t *localTrack) ID() string { return t.id }

// RID implements webrtc.TrackLocal: no simulcast.
func (t *localTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal.
func (t *localTrack) StreamID() string { return t.stream }

// Kind implements webrtc.TrackLocal.
func (t *localTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// write sends one RTP packet: header fields kept, SSRC replaced, CSRCs and
// header extensions left out (a browser needs neither from a relay).
func (t *localTrack) write(b []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return ErrNotConnected
	}
	if err := t.pkt.Unmarshal(b); err != nil {
		return err
	}
	t.hdr = rtp.Header{
		Version:        2,
		Marker:         t.pkt.Marker,
		PayloadType:    t.pkt.PayloadType,
		SequenceNumber: t.pkt.Sequence,
		Timestamp:      t.pkt.Timestamp,
		SSRC:           t.ssrc,
	}
	if _, err := t.w.WriteRTP(&t.hdr, t.pkt.Payload()); err != nil {
		return err
	}
	t.packets.Add(1)
	return nil
}
