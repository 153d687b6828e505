package main

import (
	"encoding/binary"
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// The probe at the start of every payload a seat sends (rtpload echo
// writes t1 at the same offset): magic, seat, sequence, t0, t1, big
// endian, times in nanoseconds since the Unix epoch.
const (
	probeMagic = 0x73656174 // "seat"
	probeLen   = 28
	// payloadLen is a 20 ms G.711 frame.
	payloadLen = 160
	// histStep and histBuckets make the latency histograms: 10 µs steps
	// up to 200 ms; the last bucket holds everything slower.
	histStep    = 10 * time.Microsecond
	histBuckets = 20001
)

// probe is what a payload carries.
type probe struct {
	seat, seq uint32
	t0, t1    int64 // sent by the seat; received by the SIP side (0: not yet)
}

func (p probe) put(b []byte) {
	binary.BigEndian.PutUint32(b[0:], probeMagic)
	binary.BigEndian.PutUint32(b[4:], p.seat)
	binary.BigEndian.PutUint32(b[8:], p.seq)
	binary.BigEndian.PutUint64(b[12:], uint64(p.t0))
	binary.BigEndian.PutUint64(b[20:], uint64(p.t1))
}

// errNotProbe is returned by readProbe for a payload this program did not
// write (or a truncated one).
var errNotProbe = errors.New("not a seat probe")

// readProbe reads the probe at the start of an RTP payload.
func readProbe(payload []byte) (probe, error) {
	if len(payload) < probeLen || binary.BigEndian.Uint32(payload) != probeMagic {
		return probe{}, errNotProbe
	}
	return probe{seat: binary.BigEndian.Uint32(payload[4:]), seq: binary.BigEndian.Uint32(payload[8:]),
		t0: int64(binary.BigEndian.Uint64(payload[12:])), t1: int64(binary.BigEndian.Uint64(payload[20:]))}, nil
}

// histogram counts durations in histStep buckets; safe for concurrent use.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	max     atomic.Int64
}

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0 // clocks are one; a negative delay is rounding
	}
	h.buckets[min(int(d/histStep), histBuckets-1)].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// quantile returns the q quantile (0 < q ≤ 1) as the upper bound of its
// bucket, by nearest rank; 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := max(uint64(math.Ceil(q*float64(total))), 1)
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= want {
			return time.Duration(i+1) * histStep
		}
	}
	return histBuckets * histStep
}

// latency is a histogram's summary in the result, in ms.
type latency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func (h *histogram) summary() latency {
	return latency{P50: msOf(h.quantile(0.50)), P99: msOf(h.quantile(0.99)), Max: msOf(time.Duration(h.max.Load()))}
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
