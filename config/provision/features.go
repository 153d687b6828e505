package provision

import (
	"errors"
	"strings"

	"github.com/ccbox/ccbox/config/store"
)

// Limits of call-feature values.
const (
	minForwardDigits   = 2
	maxForwardDigits   = 20
	minNoAnswerSeconds = 5
	maxNoAnswerSeconds = 300
	maxPickupGroupLen  = 32
	maxFeatureCodeLen  = 8
)

// CheckDTMFMode: "" or "rfc4733" (the default), "info" or "inband".
func CheckDTMFMode(mode string) error {
	switch mode {
	case "", "rfc4733", "info", "inband":
		return nil
	}
	return problem("unknown DTMF mode %q (rfc4733, info or inband)", mode)
}

// NormalDTMFMode is how a valid DTMF mode is stored: the default, RFC 4733,
// as "" whichever way it was written, so that applying "rfc4733" twice is
// no change.
func NormalDTMFMode(mode string) string {
	if mode == "rfc4733" {
		return ""
	}
	return mode
}

// CheckForward: a forward target of extension number: "" (off), or 2-20
// digits with an optional leading +, and not the extension itself. Outside
// numbers are accepted so a forward can be kept when trunks arrive; today
// the call layer reaches only extensions.
func CheckForward(number, target string) error {
	if target == "" {
		return nil
	}
	if !digits(strings.TrimPrefix(target, "+"), minForwardDigits, maxForwardDigits) {
		return problem("must be %d-%d digits, optionally after a +", minForwardDigits, maxForwardDigits)
	}
	if target == number {
		return problem("must not be the extension's own number")
	}
	return nil
}

// CheckNoAnswerSeconds: 0 (the default, 20 s) or 5 to 300 seconds.
func CheckNoAnswerSeconds(n int) error {
	if n != 0 && (n < minNoAnswerSeconds || n > maxNoAnswerSeconds) {
		return problem("must be 0 (default %d) or %d to %d seconds", store.DefaultNoAnswerSeconds, minNoAnswerSeconds, maxNoAnswerSeconds)
	}
	return nil
}

// CheckPickupGroup: "" (in no group) or 1-32 of A-Z a-z 0-9 _ -.
func CheckPickupGroup(group string) error {
	if len(group) > maxPickupGroupLen {
		return problem("must be at most %d characters of A-Z a-z 0-9 _ -", maxPickupGroupLen)
	}
	for i := 0; i < len(group); i++ {
		c := group[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return problem("must be at most %d characters of A-Z a-z 0-9 _ -", maxPickupGroupLen)
		}
	}
	return nil
}

// CheckRingOn: where an extension's calls ring: "" or "both" (the default:
// its desk phone contacts and its browser seat together), "phone" (only the
// SIP contacts) or "seat" (only the browser seat).
func CheckRingOn(ringOn string) error {
	switch ringOn {
	case "", store.RingOnBoth, store.RingOnPhone, store.RingOnSeat:
		return nil
	}
	return problem("unknown value %q (both, phone or seat)", ringOn)
}

// NormalRingOn is how a valid ring_on is stored: the default, both, as ""
// whichever way it was written (as NormalDTMFMode does for rfc4733), so
// that applying "both" twice is no change. store.Extension.RingTarget reads
// it back as "both".
func NormalRingOn(ringOn string) string {
	if ringOn == store.RingOnBoth {
		return ""
	}
	return ringOn
}

// CheckFeatureCode: one code of the table: "" (the feature is disabled) or
// 1-8 characters of 0-9 * #, starting with * or #. The first character
// keeps codes apart from the numbering plan, whose numbers are all digits.
func CheckFeatureCode(code string) error {
	if code == "" {
		return nil
	}
	if len(code) > maxFeatureCodeLen || (code[0] != '*' && code[0] != '#') {
		return problem("must be 1-%d characters of 0-9 * #, starting with * or #", maxFeatureCodeLen)
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; c != '*' && c != '#' && (c < '0' || c > '9') {
			return problem("must be 1-%d characters of 0-9 * #, starting with * or #", maxFeatureCodeLen)
		}
	}
	return nil
}

// CheckFeatureCodes checks the whole table: each code per CheckFeatureCode,
// all distinct, and none a prefix of another (a phone's digits are matched
// against the codes as they come, and a code that takes a number would
// swallow a longer code). It returns nil or errors.Join of *FieldError, one
// per bad field, whose Path is the field's key ("dnd_on"), in table order.
func CheckFeatureCodes(fc store.FeatureCodes) error {
	var errs []error
	rows := fc.Table()
	for i, r := range rows {
		err := CheckFeatureCode(r.Code)
		if err == nil && r.Code != "" {
			for _, o := range rows[:i] {
				switch {
				case o.Code == "" || CheckFeatureCode(o.Code) != nil:
				case o.Code == r.Code:
					err = problem("%s is already the code of %s", r.Code, o.Key)
				case strings.HasPrefix(r.Code, o.Code), strings.HasPrefix(o.Code, r.Code):
					err = problem("%s and the code of %s (%s) must not begin with one another", r.Code, o.Key, o.Code)
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			errs = append(errs, &FieldError{Path: r.Key, Problem: problemOf(err)})
		}
	}
	return errors.Join(errs...)
}

// featureCodeRef returns the field of fc named by its key, or nil for an
// unknown key.
func featureCodeRef(fc *store.FeatureCodes, key string) *string {
	switch key {
	case "forward_always_on":
		return &fc.ForwardAlwaysOn
	case "forward_always_off":
		return &fc.ForwardAlwaysOff
	case "forward_busy_on":
		return &fc.ForwardBusyOn
	case "forward_busy_off":
		return &fc.ForwardBusyOff
	case "forward_no_answer_on":
		return &fc.ForwardNoAnswerOn
	case "forward_no_answer_off":
		return &fc.ForwardNoAnswerOff
	case "dnd_on":
		return &fc.DNDOn
	case "dnd_off":
		return &fc.DNDOff
	case "group_pickup":
		return &fc.GroupPickup
	case "directed_pickup":
		return &fc.DirectedPickup
	}
	return nil
}

// featureCodeKeys lists the keys in table order, for messages.
func featureCodeKeys() string {
	var keys []string
	for _, r := range (store.FeatureCodes{}).Table() {
		keys = append(keys, r.Key)
	}
	return strings.Join(keys, ", ")
}
