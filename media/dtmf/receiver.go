package dtmf

import "encoding/binary"

// RFC 4733 section 2.3: event (8 bits), E (1), R (1), volume (6),
// duration (16).
const (
	eventPayloadSize = 4
	endBit           = 0x80
	maxCode          = 15 // the DTMF events; higher codes are other tones
	// staleWindow is how far behind the current event (in timestamp units)
	// a packet counts as a late one of an earlier event rather than a new
	// event of a restarted stream: 10 s.
	staleWindow = 10 * ClockRate
)

// Receiver turns the telephone-event payloads received on one stream into
// key presses: one Event per press, however many packets (start,
// continuations, three retransmitted ends) carry it. Events are told apart
// by their RTP timestamp (RFC 4733 section 2.5.1.2: all packets of one
// event share it). The zero value is ready; a Receiver is not safe for
// concurrent use (it belongs to one leg's event hook).
//
// Events of 8 s or more, which RFC 4733 section 2.5.1.3 splits into
// segments with new timestamps, are reported once per segment.
type Receiver struct {
	active   bool   // an event has been seen
	ts       uint32 // the current event's timestamp
	code     uint8
	duration uint16 // the longest duration seen for it
	reported bool
}

// Packet takes one telephone-event payload and its RTP timestamp. It
// reports a digit when the first end packet of its event arrives. When
// every end packet of an event was lost and a new event starts, it reports
// the lost-ended digit then (and the new one later, at its own end).
// Malformed payloads (shorter than 4 bytes, an event code above 15) and
// late packets of an earlier event are ignored.
func (r *Receiver) Packet(payload []byte, timestamp uint32) (Event, bool) {
	if len(payload) < eventPayloadSize || payload[0] > maxCode {
		return Event{}, false
	}
	code, end := payload[0], payload[1]&endBit != 0
	duration := binary.BigEndian.Uint16(payload[2:])

	var pending Event
	var havePending bool
	if !r.active || timestamp != r.ts {
		if r.active {
			if behind := r.ts - timestamp; behind != 0 && behind < staleWindow {
				return Event{}, false // a late packet of an earlier event
			}
			if !r.reported {
				pending, havePending = r.event(), true
			}
		}
		*r = Receiver{active: true, ts: timestamp, code: code}
	}
	if code != r.code {
		return Event{}, false // one timestamp, one event: a different code is damage
	}
	r.duration = max(r.duration, duration)
	if havePending {
		return pending, true
	}
	if end && !r.reported {
		r.reported = true
		return r.event(), true
	}
	return Event{}, false
}

func (r *Receiver) event() Event {
	d, _ := Digit(r.code)
	return Event{Digit: d, Duration: samplesToDuration(int(r.duration))}
}
