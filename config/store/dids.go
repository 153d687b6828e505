package store

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// DestinationType is where an inbound call goes.
type DestinationType string

// The destination types. The type system is open ahead of the features:
// queue, IVR, voicemail and time-condition destinations are stored and
// read, and provision refuses them until the call layer serves them
// (DestinationType.Available).
const (
	DestExtension     DestinationType = "extension"      // Target: an extension number
	DestHangup        DestinationType = "hangup"         // no Target: the call is refused
	DestQueue         DestinationType = "queue"          // Target: a queue name
	DestIVR           DestinationType = "ivr"            // Target: an IVR name
	DestVoicemail     DestinationType = "voicemail"      // Target: an extension number's mailbox
	DestTimeCondition DestinationType = "time_condition" // Target: a time condition's name
)

// Valid reports whether t is a known type.
func (t DestinationType) Valid() bool {
	switch t {
	case DestExtension, DestHangup, DestQueue, DestIVR, DestVoicemail, DestTimeCondition:
		return true
	}
	return false
}

// Available reports whether calls can reach a destination of type t in
// this build. Change it as each kind lands.
func (t DestinationType) Available() bool { return t == DestExtension || t == DestHangup }

func (t DestinationType) String() string { return string(t) }

// Destination is where an inbound call is sent.
type Destination struct {
	Type   DestinationType `json:"type"`
	Target string          `json:"target,omitempty"` // per Type; "" for hangup
}

// DID is an inbound number and where its calls go.
type DID struct {
	// Number is the key: the number as the document or the API gave it
	// (digits, optionally after a +). The call layer compares numbers in
	// their normalized form (dialplan's Number.Key), so either way of
	// writing a number matches the same calls.
	Number      string      `json:"number"`
	Trunk       string      `json:"trunk,omitempty"` // only calls from this trunk; "" = any trunk
	Destination Destination `json:"destination"`
	Description string      `json:"description,omitempty"`
	Created     time.Time   `json:"created"`
	Updated     time.Time   `json:"updated"`
}

// DID returns the DID with this number, or ErrNotFound.
func (tx *Tx) DID(number string) (DID, error) {
	var d DID
	if !validKeyPart(number) {
		return d, ErrNotFound
	}
	err := tx.getJSON(didKey(number), &d)
	return d, err
}

// DIDs returns every DID, sorted by number (NumberLess).
func (tx *Tx) DIDs() ([]DID, error) {
	var out []DID
	err := scanJSON(tx, prefixDID, func(d DID) { out = append(out, d) })
	sort.SliceStable(out, func(i, j int) bool { return NumberLess(out[i].Number, out[j].Number) })
	return out, err
}

// PutDID creates or replaces the DID d.Number.
func (tx *Tx) PutDID(d DID) error {
	if !validKeyPart(d.Number) {
		return fmt.Errorf("put DID: %w: number %q", ErrInvalid, d.Number)
	}
	stamp(tx, &d.Created, &d.Updated)
	return tx.putJSON(didKey(d.Number), d, 0)
}

// DeleteDID removes the DID, or returns ErrNotFound.
func (tx *Tx) DeleteDID(number string) error { return tx.deleteExisting(didKey(number), number) }

// InboundDefault is where calls to a number no DID names go; nil when none
// is set (the call is refused with 404).
func (tx *Tx) InboundDefault() (*Destination, error) {
	var d Destination
	err := tx.getJSON([]byte(keyInboundDefault), &d)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// SetInboundDefault stores the default destination; nil removes it.
func (tx *Tx) SetInboundDefault(d *Destination) error {
	if d == nil {
		ok, err := tx.exists([]byte(keyInboundDefault))
		if err != nil || !ok {
			return err
		}
		return tx.delete([]byte(keyInboundDefault))
	}
	return tx.putJSON([]byte(keyInboundDefault), *d, 0)
}
