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
	// Signals delivers what the leg's far end does mid-call: hold and
	// retrieve, DTMF digits (however they arrived), transfer requests. It
	// is never closed (use Done); a leg drops signals nobody reads rather
	// than block its signalling.
	Signals() <-chan Signal
	// SendDTMF plays a digit to the leg's far end in the leg's own DTMF
	// mode (RFC 4733 events, SIP INFO or in-band tones); d is the tone's
	// length (zero: DefaultDTMFDuration). It returns once sent.
	SendDTMF(digit rune, d time.Duration) error
	// DTMFMode is how the leg sends and receives digits.
	DTMFMode() DTMFMode
}

// Refuser is a leg that can tell its caller why the box refused the call:
// a SIP reason phrase, a line on the softphone page. Refuse ends the leg
// like Hangup; reason is a BlockedError's Reason ("international",
// "blacklist"…).
type Refuser interface {
	Refuse(cause Cause, reason string)
}

// DTMFMode is how a leg carries digits.
type DTMFMode uint8

// DTMF modes; the zero value is RFC 4733 (telephone-event in RTP), what
// nearly every phone and carrier does.
const (
	DTMFRFC4733 DTMFMode = iota // RTP telephone-event packets
	DTMFInfo                    // SIP INFO (application/dtmf-relay)
	DTMFInband                  // tones in the audio
)

func (m DTMFMode) String() string {
	switch m {
	case DTMFInfo:
		return "info"
	case DTMFInband:
		return "inband"
	}
	return "rfc4733"
}

// ParseDTMFMode reads a mode's name ("" is RFC 4733).
func ParseDTMFMode(s string) (DTMFMode, bool) {
	switch s {
	case "", "rfc4733":
		return DTMFRFC4733, true
	case "info":
		return DTMFInfo, true
	case "inband":
		return DTMFInband, true
	}
	return DTMFRFC4733, false
}

// DefaultDTMFDuration is how long a digit sounds when the sender does not
// say (long enough for every detector, short enough for fast dialing).
const DefaultDTMFDuration = 100 * time.Millisecond

// SignalKind is what a leg's far end did mid-call.
type SignalKind uint8

// Signal kinds.
const (
	SignalUnknown  SignalKind = iota
	SignalHold                // put the call on hold (sendonly, inactive or c=0.0.0.0)
	SignalRetrieve            // took it off hold
	SignalDTMF                // pressed a digit: Signal.Digit
	SignalTransfer            // asked to transfer the other party: Signal.Transfer
)

func (k SignalKind) String() string {
	switch k {
	case SignalHold:
		return "hold"
	case SignalRetrieve:
		return "retrieve"
	case SignalDTMF:
		return "dtmf"
	case SignalTransfer:
		return "transfer"
	}
	return "unknown"
}

// Signal is one mid-call signal from a leg.
type Signal struct {
	Kind     SignalKind
	Digit    rune          // SignalDTMF: 0-9, *, #, A-D
	Duration time.Duration // SignalDTMF: how long it sounded, when known
	Transfer *Transfer     // SignalTransfer
}

// Transfer is a leg's request to connect the party it talks to elsewhere
// (a SIP REFER): blind to a number, or attended, replacing the requester's
// own leg in another call (Replaces) with this call's other party.
type Transfer struct {
	// Target is the number to transfer to (blind); for an attended
	// transfer it is informational.
	Target string
	// Replaces is the requester's leg in the other call (attended), "" for
	// a blind transfer.
	Replaces ChannelID
	// Progress reports to the requester how the transfer goes (SIP:
	// NOTIFY with a sipfrag): TransferTrying, TransferRinging, then
	// TransferDone with CauseNormal on success or the failure's cause. It
	// is called from the call's owner and must not block for long.
	Progress func(state TransferState, cause Cause)
}

// TransferState is how far a transfer got.
type TransferState uint8

// Transfer states.
const (
	TransferTrying TransferState = iota
	TransferRinging
	TransferDone
)

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

// Dialer rings a target's device: one Outgoing per reachable contact, all
// ringing at once (for a DevicePSTN target, one leg through its trunks in
// turn). No contact to ring is ErrUnavailable.
type Dialer interface {
	Dial(ctx context.Context, t Target, from Party, offerFrom Channel) ([]Outgoing, error)
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

// Forwarding is where an extension's calls go instead (numbers; "" off).
type Forwarding struct {
	Always   string // every call, without ringing
	Busy     string // when busy (at its call limit, every contact busy, or DND)
	NoAnswer string // when it does not answer within NoAnswerAfter, or is unreachable
	// NoAnswerAfter is the ring time before the no-answer forward (zero:
	// DefaultNoAnswerAfter).
	NoAnswerAfter time.Duration
}

// DefaultNoAnswerAfter is the ring time before a no-answer forward when the
// extension sets none.
const DefaultNoAnswerAfter = 20 * time.Second

// MaxForwardHops bounds a forwarding chain; a longer chain, or one that
// comes back to a number it passed, stops at the number it reached.
const MaxForwardHops = 5

// Sound is something the box plays to a leg.
type Sound uint8

// Sounds the call layer plays.
const (
	SoundHold     Sound = iota + 1 // music on hold
	SoundRingback                  // ring-back tone while a transfer target rings
	SoundBeep                      // a feature code worked
	SoundError                     // a feature code failed
)

// Player plays sounds into legs' media (media/player behind it).
type Player interface {
	// Play sends s to ep's far end, in ep's codec, looping or once.
	Play(ep *rtp.Endpoint, s Sound, loop bool) Playback
}

// Playback is one sound being played.
type Playback interface {
	Stop()                 // idempotent; nothing more is sent once it returns
	Done() <-chan struct{} // closed at the end of a sound played once, or on Stop
}
