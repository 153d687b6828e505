package store

import (
	"errors"
	"time"
)

// DefaultEmergency lists the emergency numbers every policy keeps (police,
// fire, ambulance, traffic accidents): they go out whatever lock or limit
// applies.
func DefaultEmergency() []string { return []string{"110", "119", "120", "122"} }

// DefaultExtensionCallsPerMinute is an extension's outbound call rate limit
// when OutboundPolicy.ExtensionCallsPerMinute is 0.
const DefaultExtensionCallsPerMinute = 10

// BusinessHours is the weekly window in which outbound calls are open when
// OutboundPolicy.LockOutsideHours is set.
type BusinessHours struct {
	Days     [7]bool `json:"days"`               // indexed by time.Weekday: Days[time.Sunday]…
	From     int     `json:"from"`               // minutes since midnight, 0-1439
	To       int     `json:"to"`                 // minutes since midnight, From < To ≤ 1440
	Timezone string  `json:"timezone,omitempty"` // IANA name; "" = the box's local time
}

// Span is the window as durations since midnight, as dialplan.BusinessHours takes it.
func (h BusinessHours) Span() (from, to time.Duration) {
	return time.Duration(h.From) * time.Minute, time.Duration(h.To) * time.Minute
}

// OutboundPolicy is the box-wide toll-fraud guard for outbound calls.
type OutboundPolicy struct {
	// Emergency numbers always go out. It always holds DefaultEmergency
	// (provision refuses a list without them) and may add others.
	Emergency     []string `json:"emergency"`
	AllowPrefixes []string `json:"allow_prefixes,omitempty"` // national-form prefixes allowed even if denied (longest prefix wins)
	DenyPrefixes  []string `json:"deny_prefixes,omitempty"`  // national-form prefixes refused
	International bool     `json:"international,omitempty"`  // international numbers allowed; default false
	Premium       bool     `json:"premium,omitempty"`        // premium-rate numbers allowed; default false
	// PremiumPrefixes overrides the call layer's list of premium-rate
	// prefixes; empty = its built-in list.
	PremiumPrefixes []string `json:"premium_prefixes,omitempty"`

	ExtensionCallsPerMinute int `json:"extension_calls_per_minute,omitempty"` // per extension; 0 = DefaultExtensionCallsPerMinute
	ExtensionMaxOutbound    int `json:"extension_max_outbound,omitempty"`     // concurrent outbound calls per extension; 0 = the extension's CallLimit

	LockOutsideHours bool          `json:"lock_outside_hours,omitempty"` // refuse non-emergency outbound calls outside BusinessHours
	BusinessHours    BusinessHours `json:"business_hours"`

	Updated time.Time `json:"updated"` // zero when never stored
}

// DefaultOutboundPolicy is the policy of a box whose admin set none:
// emergency numbers only as DefaultEmergency, international and premium
// off, no lock; business hours Monday to Friday 09:00-18:00 (used only
// when the lock is switched on).
func DefaultOutboundPolicy() OutboundPolicy {
	p := OutboundPolicy{Emergency: DefaultEmergency()}
	for d := time.Monday; d <= time.Friday; d++ {
		p.BusinessHours.Days[d] = true
	}
	p.BusinessHours.From, p.BusinessHours.To = 9*60, 18*60
	return p
}

// CallsPerMinute is the per-extension rate limit in force.
func (p OutboundPolicy) CallsPerMinute() int {
	if p.ExtensionCallsPerMinute <= 0 {
		return DefaultExtensionCallsPerMinute
	}
	return p.ExtensionCallsPerMinute
}

// OutboundPolicy returns the stored policy, or DefaultOutboundPolicy.
func (tx *Tx) OutboundPolicy() (OutboundPolicy, error) {
	var p OutboundPolicy
	err := tx.getJSON([]byte(keyOutboundPolicy), &p)
	if errors.Is(err, ErrNotFound) {
		return DefaultOutboundPolicy(), nil
	}
	return p, err
}

// PutOutboundPolicy replaces the policy (Updated set to now). provision
// holds the rules.
func (tx *Tx) PutOutboundPolicy(p OutboundPolicy) error {
	p.Updated = tx.db.now()
	return tx.putJSON([]byte(keyOutboundPolicy), p, 0)
}
