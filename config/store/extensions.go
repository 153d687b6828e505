package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// DefaultMaxCalls is an extension's concurrent-call limit when MaxCalls is 0.
const DefaultMaxCalls = 2

// defaultCodecs is an extension's codec preference when Codecs is empty.
var defaultCodecs = []string{"PCMU", "PCMA"}

// DefaultCodecs returns the codec preference of an extension that sets none
// (a fresh slice: callers may keep it).
func DefaultCodecs() []string { return append([]string(nil), defaultCodecs...) }

// Extension is a SIP account: what a desk phone registers as. Its secret is
// kept only as the digest HA1 of each algorithm the registrar offers,
// HA1 = H(Number ":" realm ":" secret), so a stolen database does not yield
// the plaintext and changing the realm invalidates every secret.
type Extension struct {
	Number    string   `json:"number"`           // the key; digits (rules in provision.CheckExtensionNumber)
	Name      string   `json:"name,omitempty"`   // display name, sent as the caller name
	User      string   `json:"user,omitempty"`   // owning user's name; "" = nobody
	HA1MD5    string   `json:"ha1_md5"`          // lowercase hex MD5 HA1
	HA1SHA256 string   `json:"ha1_sha256"`       // lowercase hex SHA-256 HA1
	MaxCalls  int      `json:"max_calls"`        // concurrent calls; 0 = DefaultMaxCalls
	Codecs    []string `json:"codecs,omitempty"` // preference order; empty = DefaultCodecs
	Disabled  bool     `json:"disabled,omitempty"`

	// Call features. Every zero value is the behaviour of an extension that
	// sets none; provision holds the rules (CheckDTMFMode, CheckForward…).

	// DTMFMode is how the phone sends and receives digits: "" or "rfc4733"
	// (telephone-event in RTP), "info" (SIP INFO) or "inband" (tones).
	DTMFMode string `json:"dtmf_mode,omitempty"`
	// DND (do not disturb): calls to the extension get busy, or its busy forward.
	DND bool `json:"dnd,omitempty"`
	// ForwardAlways, ForwardBusy and ForwardNoAnswer are numbers calls are
	// forwarded to ("" = off): always, when busy (or DND), after
	// NoAnswerSeconds of ringing.
	ForwardAlways   string `json:"forward_always,omitempty"`
	ForwardBusy     string `json:"forward_busy,omitempty"`
	ForwardNoAnswer string `json:"forward_no_answer,omitempty"`
	// NoAnswerSeconds is the ring time before the no-answer forward; 0 =
	// DefaultNoAnswerSeconds.
	NoAnswerSeconds int `json:"no_answer_seconds,omitempty"`
	// PickupGroup: extensions with the same non-empty group pick up each
	// other's ringing calls with the group pickup code; "" = in no group.
	PickupGroup string `json:"pickup_group,omitempty"`
	// RingOn is where the extension's calls ring: "" or RingOnBoth (its
	// desk phone contacts and its browser seat together), RingOnPhone
	// (only the SIP contacts) or RingOnSeat (only the browser seat).
	// RingTarget gives the value in force.
	RingOn string `json:"ring_on,omitempty"`
	// OutboundNumber is the caller number sent for the extension's outside
	// calls through a route whose caller-number mode is "extension"; "" =
	// none (the trunk's default).
	OutboundNumber string `json:"outbound_number,omitempty"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// DefaultNoAnswerSeconds is the ring time before a no-answer forward when
// NoAnswerSeconds is 0.
const DefaultNoAnswerSeconds = 20

// NoAnswerTimeout is the ring time before the no-answer forward in force.
func (e Extension) NoAnswerTimeout() time.Duration {
	if e.NoAnswerSeconds <= 0 {
		return DefaultNoAnswerSeconds * time.Second
	}
	return time.Duration(e.NoAnswerSeconds) * time.Second
}

// The values of Extension.RingOn other than "" (which is RingOnBoth).
const (
	RingOnBoth  = "both"
	RingOnPhone = "phone"
	RingOnSeat  = "seat"
)

// RingTarget is where the extension's calls ring, as one of RingOnBoth,
// RingOnPhone and RingOnSeat ("" reads as RingOnBoth, and so does a value
// this build does not know, so that calls still reach a phone).
func (e Extension) RingTarget() string {
	switch e.RingOn {
	case RingOnPhone, RingOnSeat:
		return e.RingOn
	}
	return RingOnBoth
}

// RingsPhone reports whether the extension's calls ring its SIP contacts.
func (e Extension) RingsPhone() bool { return e.RingTarget() != RingOnSeat }

// RingsSeat reports whether the extension's calls ring its browser seat.
func (e Extension) RingsSeat() bool { return e.RingTarget() != RingOnPhone }

// CallLimit is the concurrent-call limit in force (MaxCalls, or the default).
func (e Extension) CallLimit() int {
	if e.MaxCalls <= 0 {
		return DefaultMaxCalls
	}
	return e.MaxCalls
}

// CodecPreference is the codec list in force, most preferred first.
func (e Extension) CodecPreference() []string {
	if len(e.Codecs) == 0 {
		return DefaultCodecs()
	}
	return append([]string(nil), e.Codecs...)
}

// Extension returns the extension with this number, or ErrNotFound.
func (tx *Tx) Extension(number string) (Extension, error) {
	var e Extension
	if !validKeyPart(number) {
		return e, ErrNotFound
	}
	err := tx.getJSON(extensionKey(number), &e)
	return e, err
}

// Extensions returns every extension in numeric order (shorter numbers
// first, then by digits, so 201 comes before 1001).
func (tx *Tx) Extensions() ([]Extension, error) {
	var exts []Extension
	err := tx.scan(prefixExt, func(key, val []byte) error {
		var e Extension
		if err := json.Unmarshal(val, &e); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		exts = append(exts, e)
		return nil
	})
	sort.SliceStable(exts, func(i, j int) bool { return NumberLess(exts[i].Number, exts[j].Number) })
	return exts, err
}

// ExtensionsOwnedBy returns the extensions whose User is user, in numeric
// order (as Extensions), so the first is the owner's lowest-numbered one.
// An empty user owns nothing: "" means no owner, not a user.
func (tx *Tx) ExtensionsOwnedBy(user string) ([]Extension, error) {
	if user == "" {
		return nil, nil
	}
	exts, err := tx.Extensions()
	if err != nil {
		return nil, err
	}
	owned := exts[:0]
	for _, e := range exts {
		if e.User == user {
			owned = append(owned, e)
		}
	}
	if len(owned) == 0 {
		return nil, nil
	}
	return owned, nil
}

// NumberLess orders dial numbers numerically when they are digit strings of
// different lengths, and as text otherwise.
func NumberLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// PutExtension creates or replaces the extension e.Number. Created is set to
// now when zero; Updated is always set to now. The store checks only what the
// key needs; provision holds the rules for the values.
func (tx *Tx) PutExtension(e Extension) error {
	if !validKeyPart(e.Number) {
		return fmt.Errorf("put extension: %w: number %q", ErrInvalid, e.Number)
	}
	now := tx.db.now()
	if e.Created.IsZero() {
		e.Created = now
	}
	e.Updated = now
	return tx.putJSON(extensionKey(e.Number), e, 0)
}

// UpdateExtension reads the extension number, lets f change it and writes it
// back in the same transaction (Updated set to now), returning what was
// written. It returns ErrNotFound if there is no such extension, and f's
// error (writing nothing) if f fails. f must not change the number.
func (tx *Tx) UpdateExtension(number string, f func(*Extension) error) (Extension, error) {
	e, err := tx.Extension(number)
	if err != nil {
		return Extension{}, err
	}
	if err := f(&e); err != nil {
		return Extension{}, err
	}
	if e.Number != number {
		return Extension{}, fmt.Errorf("update extension %q: %w: the number cannot change", number, ErrInvalid)
	}
	if err := tx.PutExtension(e); err != nil {
		return Extension{}, err
	}
	// PutExtension set Updated; read it back the way it did.
	return tx.Extension(number)
}

// DeleteExtension removes the extension and its registrations (a deleted
// account must not stay reachable until its contacts expire). It returns
// ErrNotFound if there is no such extension.
func (tx *Tx) DeleteExtension(number string) error {
	if !validKeyPart(number) {
		return ErrNotFound
	}
	ok, err := tx.exists(extensionKey(number))
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	if err := tx.deletePrefix(registrationPrefix(number)); err != nil {
		return err
	}
	return tx.delete(extensionKey(number))
}

// clearExtensionOwner detaches user's extensions from them: an extension
// outlives the person it was given to.
func (tx *Tx) clearExtensionOwner(user string) error {
	exts, err := tx.ExtensionsOwnedBy(user)
	if err != nil {
		return err
	}
	for _, e := range exts {
		e.User = ""
		if err := tx.PutExtension(e); err != nil {
			return err
		}
	}
	return nil
}

// validKeyPart: a non-empty key component that cannot reach into another
// record's key space.
func validKeyPart(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/\x00")
}
