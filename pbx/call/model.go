package call

import (
	"context"
	"time"

	"github.com/ccbox/ccbox/media/rtp"
)

// ChannelID names one leg, unique in the process.
type ChannelID string

// Serial is a call's serial number (话务流水号): sortable by start time and
// unique, shown in reports and CDRs.
type Serial string

// DeviceKind is what kind of thing a device is.
type DeviceKind string

// Device kinds.
const (
	DeviceSIP  DeviceKind = "sip"  // an extension's registered contacts
	DeviceSeat DeviceKind = "seat" // a browser seat
	DevicePSTN DeviceKind = "pstn" // a number reached through a route
)

// Device is anything that can be rung: {sip 1001}.
type Device struct {
	Kind DeviceKind `json:"kind"`
	ID   string     `json:"id"`
}

func (d Device) String() string { return string(d.Kind) + ":" + d.ID }

// DeviceState is what a device is doing, as queues and busy lamps see it.
type DeviceState uint8

// Device states; the zero value is Unknown.
const (
	DeviceUnknown DeviceState = iota
	DeviceUnavailable
	DeviceIdle
	DeviceRinging
	DeviceInUse
)

func (s DeviceState) String() string {
	switch s {
	case DeviceUnavailable:
		return "unavailable"
	case DeviceIdle:
		return "idle"
	case DeviceRinging:
		return "ringing"
	case DeviceInUse:
		return "in_use"
	}
	return "unknown"
}

// Party is who calls or is called, as the other side is shown it.
type Party struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
}

// Channel is one leg of a call.
type Channel interface {
	ID() ChannelID
	Device() Device
	// Address is where the leg's signalling comes from, for the CDR.
	Address() string
	// Codec names the codec the leg negotiated ("PCMU", "PCMA"), "" before.
	Codec() string
	// Media is the leg's anchored RTP endpoint (nil when it has none yet).
	Media() *rtp.Endpoint
	// Progress tells an incoming leg's caller that the call rings; with
	// early it also opens early media (183 with SDP).
	Progress(early bool) error
	// Answer accepts an incoming leg.
	Answer(ctx context.Context) error
	// Hangup ends the leg with cause; it is idempotent.
	Hangup(cause Cause)
	// Done is closed when the leg has ended, by either side.
	Done() <-chan struct{}
	// Cause says why the leg ended; valid once Done is closed.
	Cause() Cause
}

// EventKind is what happened on a leg being dialed.
type EventKind uint8

// Outgoing leg events.
const (
	EventUnknown EventKind = iota
	EventRinging
	EventEarlyMedia
	EventAnswered
)

func (k EventKind) String() string {
	switch k {
	case EventRinging:
		return "ringing"
	case EventEarlyMedia:
		return "early_media"
	case EventAnswered:
		return "answered"
	}
	return "unknown"
}

// Outgoing is a leg being dialed. Its end (busy, no answer…) shows as Done
// with a Cause.
type Outgoing interface {
	Channel
	// Events delivers progress; it is never closed (use Done).
	Events() <-chan EventKind
}

// Dialer rings a device: one Outgoing per reachable contact, all ringing at
// once. No contact to ring is ErrUnavailable.
type Dialer interface {
	Dial(ctx context.Context, d Device, from Party, to Party, offerFrom Channel) ([]Outgoing, error)
}

// Bridger joins two legs' media (either may be only ringing: early media)
// and returns a func that parts them.
type Bridger interface {
	Bridge(a, b Channel) (unbridge func(), err error)
}

// Limits are the call layer's timers and limits (config passed down).
type Limits struct {
	// RingTimeout is how long a callee rings before the caller hears
	// no-answer (zero: 60 s).
	RingTimeout time.Duration
}
