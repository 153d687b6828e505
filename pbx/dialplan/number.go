package dialplan

import (
	"fmt"
	"unicode/utf8"
)

// NumberPlan is the country the appliance sits in: how numbers are written
// there. The zero value means China's plan (DefaultNumberPlan).
type NumberPlan struct {
	CountryCode         string // without '+': "86"
	NationalPrefix      string // trunk prefix dialled before an area code: "0"
	InternationalPrefix string // dialled before a country code: "00"
	// AreaCode is the appliance's own area code ("10" or "010" for Beijing),
	// or "" (the default). When set, a bare 7–8 digit subscriber number — as
	// carriers deliver local callers — is read as a landline of this area, so
	// that "87654321" and "010-87654321" compare equal.
	AreaCode string
}

// DefaultNumberPlan is China's: +86, national prefix 0, international prefix 00.
func DefaultNumberPlan() NumberPlan {
	return NumberPlan{CountryCode: "86", NationalPrefix: "0", InternationalPrefix: "00"}
}

func (p NumberPlan) withDefaults() NumberPlan {
	d := DefaultNumberPlan()
	if p.CountryCode == "" {
		p.CountryCode = d.CountryCode
	}
	if p.NationalPrefix == "" {
		p.NationalPrefix = d.NationalPrefix
	}
	if p.InternationalPrefix == "" {
		p.InternationalPrefix = d.InternationalPrefix
	}
	if len(p.AreaCode) > len(p.NationalPrefix) && p.AreaCode[:len(p.NationalPrefix)] == p.NationalPrefix {
		p.AreaCode = p.AreaCode[len(p.NationalPrefix):]
	}
	return p
}

// china says whether the plan's numbers follow China's forms (mobile, area
// codes, service numbers); other plans only get prefix handling.
func (p NumberPlan) china() bool { return p.CountryCode == "86" }

// NumberKind says what a number is. The zero value is KindUnknown.
type NumberKind uint8

const (
	KindUnknown       NumberKind = iota // digits that fit no form below
	KindExtension                       // a short internal number (2–6 digits)
	KindMobile                          // 1[3-9] and 9 more digits
	KindLandline                        // 0, an area code, a 7–8 digit subscriber number
	KindService                         // 110/119/120/122, 1XX, 1XXXX, 95xxx/96xxx, 400/800
	KindInternational                   // another country's number
)

var kindNames = [...]string{
	KindUnknown:       "unknown",
	KindExtension:     "extension",
	KindMobile:        "mobile",
	KindLandline:      "landline",
	KindService:       "service",
	KindInternational: "international",
}

func (k NumberKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Number is a phone number read by Normalize, in the forms comparisons need.
type Number struct {
	Raw      string     // as dialled or received
	National string     // national form: mobile "13800138000", landline with its 0 "01012345678", service "95555"; "" for international, extension, unknown
	E164     string     // without '+': "8613800138000"; "" for service, extension and unknown numbers
	Kind     NumberKind //
}

// Key is what every comparison uses (DIDs, blacklist, region lookup, screen
// pop, reports): E164 when known, else National, else the bare digits of Raw.
// Two spellings of one number ("+86 138 0013 8000", "013800138000") share it.
func (n Number) Key() string {
	switch {
	case n.E164 != "":
		return n.E164
	case n.National != "":
		return n.National
	}
	var buf [maxNumberLen]byte
	d, _, err := cleanDigits(n.Raw, buf[:0])
	if err != nil {
		return ""
	}
	return string(d)
}

// AreaCode is a landline's area code with its national prefix ("010",
// "0755"), or "" for any other number.
func (n Number) AreaCode() string {
	if n.Kind != KindLandline || len(n.National) < 3 {
		return ""
	}
	if l := areaCodeLen(n.National[1:]); l > 0 && 1+l <= len(n.National) {
		return n.National[:1+l]
	}
	return ""
}

// maxNumberLen bounds what Normalize reads, in characters: longer strings
// are not phone numbers (E.164 allows 15 digits; separators and prefixes
// leave room to spare).
const maxNumberLen = 32

// Normalize reads a number in any of the forms people and carriers use:
// "+8613800138000", "008613800138000", "8613800138000" (86 then a valid
// mobile or landline without its 0), "013800138000" (a mobile with a stray 0),
// "13800138000", "010-1234 5678", "(010)12345678", "+86 (0)10 12345678". It
// drops spaces, dashes, dots and parentheses, and reads full-width digits
// (as Chinese input methods type them) as digits. Route prefixes are not
// stripped here: routes do that. Digits that fit no known form are returned
// as KindUnknown without an error; ErrBadNumber is only for what is not a
// number at all.
func (p NumberPlan) Normalize(s string) (Number, error) {
	n := Number{Raw: s}
	if s == "" || utf8.RuneCountInString(s) > maxNumberLen {
		return n, fmt.Errorf("normalize %q: %w", s, ErrBadNumber)
	}
	var buf [maxNumberLen]byte
	b, plus, err := cleanDigits(s, buf[:0])
	if err != nil {
		return n, fmt.Errorf("normalize %q: %w", s, err)
	}
	p = p.withDefaults()
	d := string(b)
	switch {
	case plus:
		p.readE164(&n, d)
	case hasPrefix(d, p.InternationalPrefix):
		p.readE164(&n, d[len(p.InternationalPrefix):])
	default:
		p.readNational(&n, d)
	}
	return n, nil
}

// cleanDigits appends the digits of s to dst, dropping separators; plus
// reports a leading '+'. Anything else is ErrBadNumber.
func cleanDigits(s string, dst []byte) (digits []byte, plus bool, err error) {
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			dst = append(dst, byte(r))
		case r >= '０' && r <= '９':
			dst = append(dst, byte(r-'０'+'0'))
		case r == '+' || r == '＋':
			if plus || len(dst) > 0 {
				return nil, false, ErrBadNumber
			}
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\t' ||
			r == '\u3000' || r == '（' || r == '）' || r == '－' || r == '—':
		default:
			return nil, false, ErrBadNumber
		}
		if len(dst) > maxNumberLen {
			return nil, false, ErrBadNumber
		}
	}
	if len(dst) == 0 {
		return nil, false, ErrBadNumber
	}
	return dst, plus, nil
}

// readE164 reads d, a country code and a national significant number (what
// follows '+' or the international prefix).
func (p NumberPlan) readE164(n *Number, d string) {
	if hasPrefix(d, p.CountryCode) {
		nsn := d[len(p.CountryCode):]
		// "+86 (0)10 …": the national prefix written after the country code.
		if p.readNSN(n, nsn) || (hasPrefix(nsn, p.NationalPrefix) && p.readNSN(n, nsn[len(p.NationalPrefix):])) {
			return
		}
		return // unknown: Key falls back to the digits
	}
	if len(d) >= 7 && len(d) <= 15 && d[0] != '0' {
		n.Kind = KindInternational
		n.E164 = d
	}
}

// readNational reads d written as people dial inside the country.
func (p NumberPlan) readNational(n *Number, d string) {
	if !p.china() {
		p.readOther(n, d)
		return
	}
	switch {
	case isMobile(d):
		p.setMobile(n, d)
		return
	case hasPrefix(d, p.NationalPrefix) && len(d) > len(p.NationalPrefix):
		rest := d[len(p.NationalPrefix):]
		if isMobile(rest) { // a stray 0 before a mobile: old habit, some carriers send it
			p.setMobile(n, rest)
			return
		}
		if isFreephone(rest) { // 0 before 400/800 (no area code is 400 or 800)
			n.Kind, n.National = KindService, rest
			return
		}
		if isLandlineNSN(rest) {
			p.setLandline(n, rest)
		}
		return
	case isService(d):
		n.Kind, n.National = KindService, d
		return
	case hasPrefix(d, p.CountryCode) && len(d) >= 11:
		// "8613800138000" or "861012345678": a + lost on the way.
		nsn := d[len(p.CountryCode):]
		if isMobile(nsn) || isLandlineNSN(nsn) {
			p.readNSN(n, nsn)
			return
		}
		if hasPrefix(nsn, p.NationalPrefix) {
			if r := nsn[len(p.NationalPrefix):]; isMobile(r) || isLandlineNSN(r) {
				p.readNSN(n, r)
			}
		}
		return
	case p.AreaCode != "" && (len(d) == 7 || len(d) == 8) && d[0] != '0' && isLandlineNSN(p.AreaCode+d):
		p.setLandline(n, p.AreaCode+d)
		return
	case len(d) >= 2 && len(d) <= 6 && d[0] != '0':
		n.Kind = KindExtension
	}
}

// readNSN classifies a Chinese national significant number (no prefix).
func (p NumberPlan) readNSN(n *Number, nsn string) bool {
	if !p.china() {
		if len(nsn) < 4 {
			return false
		}
		n.Kind = KindLandline
		n.National = p.NationalPrefix + nsn
		n.E164 = p.CountryCode + nsn
		return true
	}
	switch {
	case isMobile(nsn):
		p.setMobile(n, nsn)
	case isFreephone(nsn):
		n.Kind, n.National = KindService, nsn
	case isLandlineNSN(nsn):
		p.setLandline(n, nsn)
	case isService(nsn):
		n.Kind, n.National = KindService, nsn
	default:
		return false
	}
	return true
}

// readOther handles plans other than China's: prefix handling only.
func (p NumberPlan) readOther(n *Number, d string) {
	switch {
	case hasPrefix(d, p.NationalPrefix) && len(d) > len(p.NationalPrefix)+3:
		n.Kind = KindLandline
		n.National = d
		n.E164 = p.CountryCode + d[len(p.NationalPrefix):]
	case len(d) >= 2 && len(d) <= 6 && !hasPrefix(d, p.NationalPrefix):
		n.Kind = KindExtension
	}
}

func (p NumberPlan) setMobile(n *Number, m string) {
	e := p.CountryCode + m // one allocation serves both forms
	n.Kind, n.E164, n.National = KindMobile, e, e[len(p.CountryCode):]
}

func (p NumberPlan) setLandline(n *Number, nsn string) {
	n.Kind = KindLandline
	n.E164 = p.CountryCode + nsn
	n.National = p.NationalPrefix + nsn
}

// isMobile: 11 digits, 1[3-9]XXXXXXXXX.
func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' && allDigits(d)
}

// areaCodeLen is the length of the area code at the start of a national
// significant number (no 0): 2 for 10 (Beijing) and 2X (Shanghai 21,
// Guangzhou 20, …), 3 for [3-9]XX (Shenzhen 755, Urumqi 991); 0 if none.
func areaCodeLen(nsn string) int {
	if len(nsn) < 2 {
		return 0
	}
	switch c := nsn[0]; {
	case c == '1':
		if nsn[1] == '0' {
			return 2
		}
	case c == '2':
		return 2
	case c >= '3' && c <= '9':
		return 3
	}
	return 0
}

// isLandlineNSN: an area code then a 7–8 digit subscriber number that does not
// start with 0.
func isLandlineNSN(d string) bool {
	l := areaCodeLen(d)
	if l == 0 || !allDigits(d) {
		return false
	}
	sub := len(d) - l
	return (sub == 7 || sub == 8) && d[l] != '0'
}

// isService: the short and special numbers of China's plan: 3-digit 1XX
// (110, 119, 120, 122, 114), 5-digit 1XXXX (10086, 12345, 12306), 95/96
// numbers of 5–10 digits (95555, 95588), and 400/800 numbers (10 digits).
func isService(d string) bool {
	if !allDigits(d) {
		return false
	}
	switch {
	case len(d) == 3 && d[0] == '1', len(d) == 5 && d[0] == '1':
		return true
	case len(d) >= 5 && len(d) <= 10 && d[0] == '9' && (d[1] == '5' || d[1] == '6'):
		return true
	}
	return isFreephone(d)
}

// isFreephone: 400 and 800 numbers, 10 digits.
func isFreephone(d string) bool {
	return len(d) == 10 && (d[:3] == "400" || d[:3] == "800") && allDigits(d)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

func hasPrefix(s, prefix string) bool {
	return prefix != "" && len(s) >= len(prefix) && s[:len(prefix)] == prefix
}
