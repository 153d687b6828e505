package dtmf

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// Packet train parameters (RFC 4733 section 2.5).
const (
	// PacketInterval is how often the packets of EventPackets are meant to
	// be sent: one per 20 ms, like the audio they replace.
	PacketInterval = 20 * time.Millisecond
	// EndRepeats is how many times the end packet is sent (section
	// 2.5.1.4 recommends three, for loss).
	EndRepeats = 3
	// eventVolume is the power level in -dBm0 put in each packet.
	eventVolume   = 10
	intervalUnits = ClockRate / 50 // PacketInterval in timestamp units
	rtpHeaderSize = 12
	packetSize    = rtpHeaderSize + eventPayloadSize
)

// EventPackets builds the RTP telephone-event packets of one key press
// held for d: one every PacketInterval with the duration so far, the first
// with the marker bit, then the final duration EndRepeats times with the E
// bit. They are whole RTP packets (12-byte header, payload type pt, one
// timestamp for all, increasing sequence numbers) for rtp.Endpoint.Send,
// which renumbers them into the leg's stream: the SSRC is random so each
// press is a new source there, and the caller paces them.
func EventPackets(digit rune, d time.Duration, pt uint8) ([][]byte, error) {
	code, ok := Code(digit)
	if !ok {
		return nil, ErrBadDigit
	}
	total := int64(d) * ClockRate / int64(time.Second)
	if total <= 0 || total > 0xffff {
		return nil, ErrBadDuration
	}
	var durations []uint16
	for u := int64(intervalUnits); u < total; u += intervalUnits {
		durations = append(durations, uint16(u))
	}
	ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
	n := len(durations) + EndRepeats
	buf := make([]byte, n*packetSize) // one allocation for the train
	out := make([][]byte, 0, n)
	for i := range n {
		dur, flags := uint16(total), byte(eventVolume)
		if i < len(durations) {
			dur = durations[i]
		} else {
			flags |= endBit
		}
		b := buf[:packetSize:packetSize]
		buf = buf[packetSize:]
		b[0] = 0x80 // version 2
		b[1] = pt & 0x7f
		if i == 0 {
			b[1] |= 0x80 // marker: the start of the event
		}
		binary.BigEndian.PutUint16(b[2:], seq+uint16(i))
		binary.BigEndian.PutUint32(b[4:], ts)
		binary.BigEndian.PutUint32(b[8:], ssrc)
		b[12], b[13] = code, flags
		binary.BigEndian.PutUint16(b[14:], dur)
		out = append(out, b)
	}
	return out, nil
}
