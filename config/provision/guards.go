package provision

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/store"
)

// BlacklistEntry is one blocked number in the document.
type BlacklistEntry struct {
	Number      string `yaml:"number"`
	Direction   string `yaml:"direction"` // inbound, outbound or both
	Description string `yaml:"description,omitempty"`
}

// OutboundPolicy is the toll-fraud guard in the document. Set exactly as
// written: an omitted key means its default.
type OutboundPolicy struct {
	Emergency               []string       `yaml:"emergency,omitempty,flow"` // default 110, 119, 120, 122; those four are always kept
	AllowPrefixes           []string       `yaml:"allow_prefixes,omitempty,flow"`
	DenyPrefixes            []string       `yaml:"deny_prefixes,omitempty,flow"`
	International           bool           `yaml:"international,omitempty"`
	Premium                 bool           `yaml:"premium,omitempty"`
	PremiumPrefixes         []string       `yaml:"premium_prefixes,omitempty,flow"` // empty: the built-in list
	ExtensionCallsPerMinute int            `yaml:"extension_calls_per_minute,omitempty"`
	ExtensionMaxOutbound    int            `yaml:"extension_max_outbound,omitempty"`
	LockOutsideHours        bool           `yaml:"lock_outside_hours,omitempty"`
	BusinessHours           *BusinessHours `yaml:"business_hours,omitempty"` // default Monday-Friday 09:00-18:00
}

// BusinessHours is the weekly window of the outbound lock.
type BusinessHours struct {
	Days     []string `yaml:"days,flow"` // mon tue wed thu fri sat sun
	From     string   `yaml:"from"`      // "09:00"
	To       string   `yaml:"to"`        // "18:00"; "24:00" is the end of the day
	Timezone string   `yaml:"timezone,omitempty"`
}

// Limits of guard values.
const (
	maxBlacklistNumber     = 20
	maxBlacklistDescLen    = 50
	maxPrefixDigits        = 20
	maxPrefixes            = 200
	minEmergencyDigits     = 2
	maxEmergencyDigits     = 8
	maxExtensionCPM        = 1000
	maxExtensionOutbound   = 100
	minutesPerDay          = 24 * 60
	blacklistDirectionList = "inbound, outbound or both"
)

// dayNames are the document's day names, indexed by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// CheckBlacklistEntry: number 1-20 of 0-9 + * #, a known direction, and a
// description of at most 50 characters.
func CheckBlacklistEntry(e store.BlacklistEntry) error {
	var errs []error
	add := subErrors(&errs)
	if !dialString(e.Number, maxBlacklistNumber) {
		add("number", problem("must be 1-%d of 0-9 + * #", maxBlacklistNumber))
	}
	switch {
	case e.Direction == "":
		add("direction", problem("is required (%s)", blacklistDirectionList))
	case !e.Direction.Valid():
		add("direction", problem("unknown direction %q (%s)", e.Direction, blacklistDirectionList))
	}
	add("description", checkText(e.Description, maxBlacklistDescLen))
	return errors.Join(errs...)
}

// CheckOutboundPolicy checks the policy: prefixes of digits, the four
// default emergency numbers kept, limits in range, business hours From <
// To within the day and a known time zone, and a lock only with some
// business day.
func CheckOutboundPolicy(p store.OutboundPolicy) error {
	var errs []error
	add := subErrors(&errs)
	add("emergency", checkPrefixList(p.Emergency, minEmergencyDigits, maxEmergencyDigits))
	for _, n := range store.DefaultEmergency() {
		if !slices.Contains(p.Emergency, n) {
			add("emergency", problem("must keep %s (110, 119, 120 and 122 always go out); add others beside them", n))
			break
		}
	}
	add("allow_prefixes", checkPrefixList(p.AllowPrefixes, 1, maxPrefixDigits))
	add("deny_prefixes", checkPrefixList(p.DenyPrefixes, 1, maxPrefixDigits))
	add("premium_prefixes", checkPrefixList(p.PremiumPrefixes, 1, maxPrefixDigits))
	if p.ExtensionCallsPerMinute < 0 || p.ExtensionCallsPerMinute > maxExtensionCPM {
		add("extension_calls_per_minute", problem("must be 0 (%d) to %d", store.DefaultExtensionCallsPerMinute, maxExtensionCPM))
	}
	if p.ExtensionMaxOutbound < 0 || p.ExtensionMaxOutbound > maxExtensionOutbound {
		add("extension_max_outbound", problem("must be 0 (the extension's max_calls) to %d", maxExtensionOutbound))
	}
	h := p.BusinessHours
	if h.From < 0 || h.From >= minutesPerDay || h.To <= h.From || h.To > minutesPerDay {
		add("business_hours", problem("from must be before to, within one day (00:00 to 24:00)"))
	}
	if h.Timezone != "" {
		if _, err := time.LoadLocation(h.Timezone); err != nil {
			add("business_hours.timezone", problem("unknown time zone %q (an IANA name such as Asia/Shanghai)", h.Timezone))
		}
	}
	if p.LockOutsideHours && !slices.Contains(h.Days[:], true) {
		add("business_hours.days", problem("the lock needs at least one business day"))
	}
	return errors.Join(errs...)
}

// checkPrefixList: each entry min-max digits, none twice, at most maxPrefixes.
func checkPrefixList(list []string, min, max int) error {
	if len(list) > maxPrefixes {
		return problem("at most %d entries", maxPrefixes)
	}
	seen := map[string]bool{}
	for _, s := range list {
		if !digits(s, min, max) {
			return problem("%q: each entry must be %d-%d digits", s, min, max)
		}
		if seen[s] {
			return problem("lists %s twice", s)
		}
		seen[s] = true
	}
	return nil
}

func blacklistToStore(e BlacklistEntry) store.BlacklistEntry {
	return store.BlacklistEntry{Number: e.Number, Direction: store.Direction(e.Direction), Description: e.Description}
}

func blacklistFromStore(e store.BlacklistEntry) BlacklistEntry {
	return BlacklistEntry{Number: e.Number, Direction: string(e.Direction), Description: e.Description}
}

// policyToStore converts the document's policy, filling defaults for what
// it leaves out. Day names and times that do not convert are returned as
// *FieldError with paths under outbound_policy.
func policyToStore(p OutboundPolicy) (store.OutboundPolicy, []error) {
	def := store.DefaultOutboundPolicy()
	out := store.OutboundPolicy{
		Emergency:               def.Emergency,
		AllowPrefixes:           nilIfEmpty(p.AllowPrefixes),
		DenyPrefixes:            nilIfEmpty(p.DenyPrefixes),
		International:           p.International,
		Premium:                 p.Premium,
		PremiumPrefixes:         nilIfEmpty(p.PremiumPrefixes),
		ExtensionCallsPerMinute: p.ExtensionCallsPerMinute,
		ExtensionMaxOutbound:    p.ExtensionMaxOutbound,
		LockOutsideHours:        p.LockOutsideHours,
		BusinessHours:           def.BusinessHours,
	}
	if len(p.Emergency) > 0 {
		out.Emergency = p.Emergency
	}
	var errs []error
	if h := p.BusinessHours; h != nil {
		var bh store.BusinessHours
		for _, d := range h.Days {
			i := slices.Index(dayNames[:], d)
			switch {
			case i < 0:
				errs = append(errs, &FieldError{Path: "business_hours.days", Problem: fmt.Sprintf("unknown day %q (%s)", d, strings.Join(weekOrder(), ", "))})
			case bh.Days[i]:
				errs = append(errs, &FieldError{Path: "business_hours.days", Problem: fmt.Sprintf("lists %s twice", d)})
			default:
				bh.Days[i] = true
			}
		}
		var err error
		if bh.From, err = parseClock(h.From); err != nil {
			errs = append(errs, &FieldError{Path: "business_hours.from", Problem: problemOf(err)})
		}
		if bh.To, err = parseClock(h.To); err != nil {
			errs = append(errs, &FieldError{Path: "business_hours.to", Problem: problemOf(err)})
		}
		bh.Timezone = h.Timezone
		out.BusinessHours = bh
	}
	return out, errs
}

// policyFromStore is the exported form: every key, days in week order from Monday.
func policyFromStore(p store.OutboundPolicy) OutboundPolicy {
	h := &BusinessHours{Days: []string{}, From: formatClock(p.BusinessHours.From), To: formatClock(p.BusinessHours.To), Timezone: p.BusinessHours.Timezone}
	for _, name := range weekOrder() {
		if p.BusinessHours.Days[slices.Index(dayNames[:], name)] {
			h.Days = append(h.Days, name)
		}
	}
	return OutboundPolicy{
		Emergency:               p.Emergency,
		AllowPrefixes:           p.AllowPrefixes,
		DenyPrefixes:            p.DenyPrefixes,
		International:           p.International,
		Premium:                 p.Premium,
		PremiumPrefixes:         p.PremiumPrefixes,
		ExtensionCallsPerMinute: p.ExtensionCallsPerMinute,
		ExtensionMaxOutbound:    p.ExtensionMaxOutbound,
		LockOutsideHours:        p.LockOutsideHours,
		BusinessHours:           h,
	}
}

// weekOrder is the day names from Monday, as people list them.
func weekOrder() []string { return append(dayNames[1:7:7], dayNames[0]) }

// parseClock reads "HH:MM" (00:00 to 24:00) as minutes since midnight.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 ||
		hh*60+mm > minutesPerDay {
		return 0, problem("must be a time of day as HH:MM (00:00 to 24:00)")
	}
	return hh*60 + mm, nil
}

func formatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }
