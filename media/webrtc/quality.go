package webrtc

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/pion/rtcp"
)

// Quality is a seat connection's media quality.
type Quality struct {
	RTT       time.Duration // from the browser's receiver reports (LSR/DLSR); 0 until measured
	LossOut   float64       // fraction of what we send that the browser reports lost (0..1)
	JitterOut time.Duration // jitter the browser reports for our stream
	LossIn    float64       // fraction of the browser's packets we lost, over the last interval
	JitterIn  time.Duration // jitter of the browser's stream as we receive it (RFC 3550 A.8)

	PacketsIn, PacketsOut uint64
}

// lossInterval is the shortest interval LossIn is measured over: Quality is
// read every couple of seconds per seat, and a shorter window would report
// the loss of a handful of packets.
const lossInterval = time.Second

// quality keeps the statistics behind Quality. The inbound side is written
// only by the track's read loop and published through atomics; the
// outbound side is written from report blocks on the RTCP read loops.
type quality struct {
	// Read loop only.
	haveSeq  bool
	ssrc     uint32
	baseSeq  int64 // extended sequence number of the first packet of ssrc
	maxSeq   int64 // highest extended sequence number of ssrc
	prevExp  uint64
	haveTS   bool
	prevArr  int64 // arrival of the last audio packet, in RTP clock units
	prevTS   uint32
	jitter   float64 // RTP clock units
	expected atomic.Uint64
	packets  atomic.Uint64
	jitterIn atomic.Int64 // nanoseconds

	rtt       atomic.Int64  // nanoseconds
	lossOut   atomic.Uint32 // fraction lost, /256
	jitterOut atomic.Int64  // nanoseconds

	mu       sync.Mutex // the LossIn window
	winAt    time.Time
	winExp   uint64
	winRecv  uint64
	lossIn   float64
	measured bool
}

// received counts one inbound RTP packet (b is at least a fixed header)
// for loss and, when of the audio payload type, jitter. It allocates
// nothing.
func (q *quality) received(b []byte, audioPT uint8, now time.Time) {
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	ssrc := binary.BigEndian.Uint32(b[8:])
	if !q.haveSeq || ssrc != q.ssrc {
		// A new stream: what the old one expected stays counted.
		if q.haveSeq {
			q.prevExp += uint64(q.maxSeq - q.baseSeq + 1)
		}
		q.haveSeq, q.ssrc, q.haveTS = true, ssrc, false
		q.baseSeq, q.maxSeq = int64(seq), int64(seq)
	} else if d := int16(seq - uint16(q.maxSeq)); d > 0 {
		q.maxSeq += int64(d)
	}
	q.packets.Add(1)
	q.expected.Store(q.prevExp + uint64(q.maxSeq-q.baseSeq+1))

	// Interarrival jitter (RFC 3550 section 6.4.1, appendix A.8) over
	// the audio packets only: telephone-event packets repeat timestamps.
	if b[1]&0x7f != audioPT {
		return
	}
	arr := now.UnixNano() / (1e9 / codec.ClockRate)
	if q.haveTS {
		d := float64((arr - q.prevArr) - int64(int32(ts-q.prevTS)))
		q.jitter += (math.Abs(d) - q.jitter) / 16
		q.jitterIn.Store(int64(q.jitter * 1e9 / codec.ClockRate))
	}
	q.prevArr, q.prevTS, q.haveTS = arr, ts, true
}

// rtcp takes the report blocks about ssrc (our stream) from a compound
// RTCP packet that arrived at now. Unparseable packets are ignored: the
// browser's RTCP is checked by SRTCP, and what we cannot read only leaves
// the figures as they were.
func (q *quality) rtcp(b []byte, ssrc uint32, now time.Time) {
	if ssrc == 0 {
		return
	}
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, pkt := range pkts {
		var reports []rtcp.ReceptionReport
		switch r := pkt.(type) {
		case *rtcp.ReceiverReport:
			reports = r.Reports
		case *rtcp.SenderReport:
			reports = r.Reports
		}
		for _, rr := range reports {
			if rr.SSRC == ssrc {
				q.report(rr, now)
			}
		}
	}
}

// report takes one report block about our stream.
func (q *quality) report(rr rtcp.ReceptionReport, now time.Time) {
	q.lossOut.Store(uint32(rr.FractionLost))
	q.jitterOut.Store(int64(rr.Jitter) * 1e9 / codec.ClockRate)
	if rr.LastSenderReport == 0 {
		return // the browser has had no sender report from us yet
	}
	// RFC 3550 section 6.4.1: RTT = A - LSR - DLSR, in the middle 32 bits
	// of NTP time (1/65536 s). A measurement below that resolution (on
	// loopback) counts as one unit: zero means "not measured".
	units := int32(ntpShort(now) - rr.LastSenderReport - rr.Delay)
	if units < 0 {
		return // a report block from before a clock step
	}
	q.rtt.Store(max(int64(units), 1) * 1e9 >> 16)
}

// ntpEpochOffset is the seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpShort is t in NTP short format: the low 16 bits of the seconds and the
// high 16 bits of the fraction.
func ntpShort(t time.Time) uint32 {
	ns := t.UnixNano()
	secs := uint64(ns/1e9) + ntpEpochOffset
	frac := uint64(ns%1e9) << 32 / 1e9
	return uint32(secs<<16) | uint32(frac>>16)
}

// snapshot assembles Quality at now. LossIn is the fraction lost since the
// start of the current window; a window ends once it is lossInterval old.
func (q *quality) snapshot(packetsOut uint64, now time.Time) Quality {
	exp, recv := q.expected.Load(), q.packets.Load()
	q.mu.Lock()
	if !q.measured || now.Sub(q.winAt) >= lossInterval {
		if q.measured && exp > q.winExp {
			dExp, dRecv := exp-q.winExp, recv-q.winRecv
			q.lossIn = 0
			if dRecv < dExp {
				q.lossIn = float64(dExp-dRecv) / float64(dExp)
			}
		}
		q.winAt, q.winExp, q.winRecv, q.measured = now, exp, recv, true
	}
	lossIn := q.lossIn
	q.mu.Unlock()
	return Quality{
		RTT:        time.Duration(q.rtt.Load()),
		LossOut:    float64(q.lossOut.Load()) / 256,
		JitterOut:  time.Duration(q.jitterOut.Load()),
		LossIn:     lossIn,
		JitterIn:   time.Duration(q.jitterIn.Load()),
		PacketsIn:  recv,
		PacketsOut: packetsOut,
	}
}
