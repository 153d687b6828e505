package rtp

import (
	"sync"

	"github.com/ccbox/ccbox/media/codec"
)

// Re-anchoring thresholds: a packet from the current source whose sequence
// number moved further than this is taken as a new stream (RFC 3550
// appendix A.1: MAX_DROPOUT forward, MAX_MISORDER back).
const (
	maxMisorder = 100
	frameStep   = codec.ClockRate / 100 // 10 ms: timestamp steps are rounded to it
)

// outStream is the numbering of one endpoint's outgoing RTP: its own SSRC,
// and sequence numbers and timestamps that continue across changes of source
// (another leg, a player, an SSRC change of the same phone), so the phone
// receiving them sees one stream. Within one source, offsets are constant:
// the source's own gaps (loss, silence suppression) pass through unchanged.
type outStream struct {
	mu sync.Mutex

	ssrc uint32
	seq  uint16 // last sequence number sent
	ts   uint32 // last timestamp sent
	at   int64  // when it was sent, unix nanoseconds
	sent bool

	src     uint64 // the source feeding the stream: an endpoint id, 0 for local packets
	srcSSRC uint32
	srcSeq  uint16 // the source's highest sequence number seen
	haveSrc bool
	seqOff  uint16
	tsOff   uint32
}

// rewrite renumbers p (received at now) into the stream. The caller holds
// o.mu (it also guards the send that follows).
func (o *outStream) rewrite(p *Packet, src uint64, now int64) {
	same := o.haveSrc && src == o.src && p.SSRC == o.srcSSRC
	if same {
		if d := int32(int16(p.Sequence - o.srcSeq)); d < -maxMisorder || d > maxDropout {
			same = false
		}
	}
	if !same {
		// A new source: continue from the last packet sent, the timestamp
		// advanced by the time that passed, so the receiver's jitter buffer
		// sees a pause rather than a jump; the marker bit starts a talkspurt.
		seq, ts := o.seq+1, o.ts
		if o.sent {
			step := int64(frameStep)
			if elapsed := (now - o.at) * codec.ClockRate / 1e9; elapsed > step {
				step = (elapsed + frameStep/2) / frameStep * frameStep
			}
			ts += uint32(step)
		}
		o.seqOff, o.tsOff = seq-p.Sequence, ts-p.Timestamp
		o.src, o.srcSSRC, o.srcSeq, o.haveSrc = src, p.SSRC, p.Sequence, true
		p.Marker = true
	} else if int16(p.Sequence-o.srcSeq) > 0 {
		o.srcSeq = p.Sequence
	}
	p.Sequence += o.seqOff
	p.Timestamp += o.tsOff
	p.SSRC = o.ssrc
	if !o.sent || int16(p.Sequence-o.seq) > 0 {
		// The time of the last packet is kept with the timestamp it
		// carried: packets that repeat a timestamp (an RFC 4733 event's
		// continuation and end packets) must not move it, or the next
		// source would continue from a timestamp too early.
		if !o.sent || int32(p.Timestamp-o.ts) > 0 {
			o.ts, o.at = p.Timestamp, now
		}
		o.seq, o.sent = p.Sequence, true
	}
}
