package dialplan

import (
	"fmt"
	"slices"
	"strings"
)

// Refusal is why an outbound call is refused. The zero value RefuseNone
// means it may go; String is the reason label of pbx_calls_blocked_total.
type Refusal uint8

const (
	RefuseNone          Refusal = iota
	RefuseBlacklist             // the number is on the blacklist
	RefuseInternational         // international calls are off
	RefusePremium               // premium-rate numbers are off
	RefuseDenied                // a deny prefix
	RefuseLocked                // outbound calling is locked outside business hours
	RefuseRateLimit             // calls-per-minute or concurrent-call limit
	RefuseNoRoute               // no route matches
	RefuseNotAllowed            // routes match, none is open to the caller
)

var refusalNames = [...]string{
	RefuseNone:          "none",
	RefuseBlacklist:     "blacklist",
	RefuseInternational: "international",
	RefusePremium:       "premium",
	RefuseDenied:        "denied",
	RefuseLocked:        "locked",
	RefuseRateLimit:     "rate_limit",
	RefuseNoRoute:       "no_route",
	RefuseNotAllowed:    "not_allowed",
}

func (r Refusal) String() string {
	if int(r) < len(refusalNames) {
		return refusalNames[r]
	}
	return "unknown"
}

// Refusals lists every Refusal but RefuseNone, so that a counter can be
// initialised for each reason label.
func Refusals() []Refusal {
	out := make([]Refusal, 0, len(refusalNames)-1)
	for r := RefuseBlacklist; int(r) < len(refusalNames); r++ {
		out = append(out, r)
	}
	return out
}

// builtinEmergency are China's emergency numbers: police 110, fire 119,
// ambulance 120, traffic police 122. They are always emergency numbers;
// Policy.Emergency adds to them and cannot remove them.
var builtinEmergency = [...]string{"110", "119", "120", "122"}

// DefaultPremiumPrefixes are the premium-rate prefixes used when
// Policy.PremiumPrefixes is nil: 16 (160/168 voice-information services),
// 1900 and 0900 (premium ranges as most plans write them), and 95 numbers of
// 9 digits or more (the short 95xxx are banks' and carriers' service lines,
// which call centres do call). Mobile numbers are never premium (16x and 19x
// are mobile ranges too).
func DefaultPremiumPrefixes() []string {
	return []string{"16", "1900", "0900", "95XXXXXXX!"}
}

// Policy is the prefix side of the toll-fraud guards. Entries of
// AllowPrefixes, DenyPrefixes and PremiumPrefixes are national-form prefixes
// ("0755", "400"); international numbers are written with 00 and the country
// code ("0044", or "+44" which means the same); an entry with pattern
// characters is a dial pattern ("95XXXXXXX!": 95 and at least 7 more digits).
type Policy struct {
	Emergency       []string // added to 110, 119, 120, 122: always allowed, whatever lock or limit
	AllowPrefixes   []string // allowed even if denied below or international/premium (longest prefix wins; allow wins a tie)
	DenyPrefixes    []string // refused (RefuseDenied)
	International   bool     // false (default): KindInternational refused
	Premium         bool     // false (default): premium-rate numbers refused
	PremiumPrefixes []string // nil: DefaultPremiumPrefixes
}

// DefaultPolicy refuses international and premium-rate numbers and nothing
// else; emergency numbers always go.
func DefaultPolicy() Policy { return Policy{} }

// Validate checks every prefix entry; errors are *FieldError naming the list
// and index ("deny_prefixes[2]").
func (p Policy) Validate() error {
	for _, l := range []struct {
		name    string
		entries []string
	}{
		{"emergency", p.Emergency},
		{"allow_prefixes", p.AllowPrefixes},
		{"deny_prefixes", p.DenyPrefixes},
		{"premium_prefixes", p.PremiumPrefixes},
	} {
		for i, e := range l.entries {
			field := fmt.Sprintf("%s[%d]", l.name, i)
			if l.name == "emergency" {
				if len(e) < 2 || len(e) > 8 || !allDigits(e) {
					return fieldErr(field, "an emergency number is 2-8 digits", ErrBadNumber)
				}
				continue
			}
			if _, err := parseRule(e); err != nil {
				return fieldErr(field, "not a prefix or dial pattern", err)
			}
		}
	}
	return nil
}

// rule is one prefix entry: a plain prefix or a pattern.
type rule struct {
	prefix  string // digits, with "00" for international
	pattern Pattern
}

func (r rule) weight() int {
	if r.pattern.IsZero() {
		return len(r.prefix)
	}
	return r.pattern.Fixed()
}

func parseRule(e string) (rule, error) {
	e = strings.TrimSpace(e)
	if strings.HasPrefix(e, "+") {
		e = "00" + e[1:]
	}
	if e == "" {
		return rule{}, ErrBadPattern
	}
	if allDigits(e) {
		return rule{prefix: e}, nil
	}
	pat, err := ParsePattern(e)
	if err != nil {
		return rule{}, err
	}
	return rule{pattern: pat}, nil
}

// policyForm is the string prefix rules are matched against: the national
// form, "00" and the E.164 digits for an international number, else the
// digits.
func policyForm(n Number) string {
	switch {
	case n.Kind == KindInternational && n.E164 != "":
		return "00" + n.E164
	case n.National != "":
		return n.National
	}
	return n.Key()
}

// longest is the weight of the longest entry of list matching form, or -1.
// Malformed entries match nothing (Validate keeps them out).
func longest(list []string, form string) int {
	best := -1
	for _, e := range list {
		r, err := parseRule(e)
		if err != nil {
			continue
		}
		var ok bool
		if r.pattern.IsZero() {
			ok = strings.HasPrefix(form, r.prefix)
		} else {
			ok = r.pattern.Match(form)
		}
		if ok && r.weight() > best {
			best = r.weight()
		}
	}
	return best
}

// IsEmergency says whether n is an emergency number: 110, 119, 120, 122 or
// one of p.Emergency, however it was written ("110", "+86 110").
func (p Policy) IsEmergency(n Number) bool {
	d := n.National
	if d == "" {
		if n.Kind == KindInternational {
			return false
		}
		d = n.Key()
	}
	return slices.Contains(builtinEmergency[:], d) || slices.Contains(p.Emergency, d)
}

// Check applies the prefix rules to an outbound number: emergency numbers
// and extensions always pass; then the longest matching allow or deny prefix
// decides (allow wins a tie, and an allow also lifts the international and
// premium switches); then international and premium-rate numbers are refused
// unless switched on. Locks, limits and the blacklist are the caller's to
// apply, emergency numbers first (IsEmergency).
func (p Policy) Check(n Number) Refusal {
	if p.IsEmergency(n) || n.Kind == KindExtension {
		return RefuseNone
	}
	form := policyForm(n)
	allow, deny := longest(p.AllowPrefixes, form), longest(p.DenyPrefixes, form)
	switch {
	case allow >= 0 && allow >= deny:
		return RefuseNone
	case deny >= 0:
		return RefuseDenied
	case n.Kind == KindInternational && !p.International:
		return RefuseInternational
	case !p.Premium && p.IsPremium(n):
		return RefusePremium
	}
	return RefuseNone
}

// IsPremium says whether n is a premium-rate number by p.PremiumPrefixes (or
// the default list). Mobile and international numbers never are: the first
// are priced as mobiles, the second have their own switch.
func (p Policy) IsPremium(n Number) bool {
	if n.Kind == KindMobile || n.Kind == KindInternational || n.Kind == KindExtension {
		return false
	}
	list := p.PremiumPrefixes
	if list == nil {
		list = DefaultPremiumPrefixes()
	}
	return longest(list, policyForm(n)) >= 0
}
