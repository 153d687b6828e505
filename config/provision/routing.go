package provision

import (
	"errors"
	"fmt"

	"github.com/ccbox/ccbox/config/store"
)

// Destination is where an inbound call goes: type and target.
type Destination struct {
	Type   string `yaml:"type"`             // extension or hangup (queue, ivr, voicemail, time_condition: not available yet); none only for inbound_default
	Target string `yaml:"target,omitempty"` // extension: its number
}

// destinationNone is the document's way to say "no default destination".
const destinationNone = "none"

// DID is an inbound number in the document.
type DID struct {
	Trunk       string      `yaml:"trunk,omitempty"` // only calls from this trunk; omitted: any trunk
	Destination Destination `yaml:"destination"`
	Description string      `yaml:"description,omitempty"`
}

// OutboundRoute is an outbound route in the document.
type OutboundRoute struct {
	Order           int          `yaml:"order,omitempty"` // lower first; equal orders by name
	Patterns        []string     `yaml:"patterns,flow"`
	Strip           int          `yaml:"strip,omitempty"`
	Prepend         string       `yaml:"prepend,omitempty"`
	Trunks          []string     `yaml:"trunks,flow"`
	AllowExtensions []string     `yaml:"allow_extensions,omitempty,flow"`
	AllowRoles      []string     `yaml:"allow_roles,omitempty,flow"`
	CallerNumber    CallerNumber `yaml:"caller_number,omitempty"`
}

// CallerNumber is a route's caller-number rule.
type CallerNumber struct {
	Mode   string `yaml:"mode,omitempty"`   // extension (default), fixed or pool_region
	Number string `yaml:"number,omitempty"` // fixed
	Pool   string `yaml:"pool,omitempty"`   // pool_region
}

// CallerPool is a set of caller numbers in the document.
type CallerPool struct {
	Numbers []PoolNumber `yaml:"numbers"`
}

// PoolNumber is one number of a caller pool.
type PoolNumber struct {
	Number   string `yaml:"number"`
	Province string `yaml:"province,omitempty"` // empty: from the region table
	City     string `yaml:"city,omitempty"`
	MaxCalls int    `yaml:"max_calls,omitempty"` // 0 = no limit
}

// Limits of routing values.
const (
	minPhoneDigits      = 3
	maxPhoneDigits      = 20
	maxDescriptionLen   = 64
	maxPatternLen       = 64
	maxPatterns         = 32
	maxStrip            = 20
	maxPrependLen       = 20
	maxRouteTrunks      = 8
	maxPoolNumbers      = 1000
	maxRegionNameLen    = 32
	maxPoolNumberCalls  = 1000
	maxRouteOrder       = 100000
	destinationTypeList = "extension, hangup, queue, ivr, voicemail or time_condition"
)

// CheckPhoneNumber: an outside number as the box stores it (a DID, a caller
// number): 3-20 digits, optionally after a +.
func CheckPhoneNumber(n string) error {
	d := n
	if len(d) > 0 && d[0] == '+' {
		d = d[1:]
	}
	if !digits(d, minPhoneDigits, maxPhoneDigits) {
		return problem("must be %d-%d digits, optionally after a +", minPhoneDigits, maxPhoneDigits)
	}
	return nil
}

// CheckOutboundNumber: an extension's caller number for outside calls: ""
// (none) or a phone number per CheckPhoneNumber.
func CheckOutboundNumber(n string) error {
	if n == "" {
		return nil
	}
	return CheckPhoneNumber(n)
}

// CheckDestination: a known type that calls can reach in this build ("not
// available yet" for the others), with the target its type needs.
// Whether the target exists is CheckReferences' part.
func CheckDestination(d store.Destination) error {
	var errs []error
	switch {
	case d.Type == "":
		errs = append(errs, &FieldError{Path: "type", Problem: "is required (" + destinationTypeList + ")"})
	case !d.Type.Valid():
		errs = append(errs, &FieldError{Path: "type", Problem: fmt.Sprintf("unknown type %q (%s)", d.Type, destinationTypeList)})
	case !d.Type.Available():
		errs = append(errs, &FieldError{Path: "type", Problem: fmt.Sprintf("%s destinations are not available yet", d.Type)})
	case d.Type == store.DestHangup:
		if d.Target != "" {
			errs = append(errs, &FieldError{Path: "target", Problem: "must be left out for hangup"})
		}
	case d.Type == store.DestExtension:
		if d.Target == "" {
			errs = append(errs, &FieldError{Path: "target", Problem: "is required (an extension number)"})
		} else if err := CheckExtensionNumber(d.Target); err != nil {
			errs = append(errs, &FieldError{Path: "target", Problem: problemOf(err)})
		}
	}
	return errors.Join(errs...)
}

// CheckDID checks a DID's values; paths are document keys ("destination.type").
func CheckDID(d store.DID) error {
	var errs []error
	add := subErrors(&errs)
	add("", CheckPhoneNumber(d.Number))
	if d.Trunk != "" {
		add("trunk", CheckObjectName(d.Trunk))
	}
	add("destination", CheckDestination(d.Destination))
	add("description", checkText(d.Description, maxDescriptionLen))
	return errors.Join(errs...)
}

// CheckOutboundRoute checks a route's values (patterns, strip, prepend, the
// trunk list's shape, roles, caller-number rule); that its trunks,
// extensions and pool exist is CheckReferences' part.
func CheckOutboundRoute(r store.OutboundRoute) error {
	var errs []error
	add := subErrors(&errs)
	if r.Order < 0 || r.Order > maxRouteOrder {
		add("order", problem("must be 0 to %d", maxRouteOrder))
	}
	switch {
	case len(r.Patterns) == 0:
		add("patterns", problem("at least one pattern is required"))
	case len(r.Patterns) > maxPatterns:
		add("patterns", problem("at most %d patterns", maxPatterns))
	}
	for i, p := range r.Patterns {
		add(fmt.Sprintf("patterns[%d]", i), CheckPattern(p))
	}
	if r.Strip < 0 || r.Strip > maxStrip {
		add("strip", problem("must be 0 to %d digits", maxStrip))
	}
	if r.Prepend != "" && !dialString(r.Prepend, maxPrependLen) {
		add("prepend", problem("must be at most %d of 0-9 + * #", maxPrependLen))
	}
	switch {
	case len(r.Trunks) == 0:
		add("trunks", problem("at least one trunk is required"))
	case len(r.Trunks) > maxRouteTrunks:
		add("trunks", problem("at most %d trunks", maxRouteTrunks))
	}
	add("trunks", checkNameList(r.Trunks, CheckObjectName))
	add("allow_extensions", checkNameList(r.AllowExtensions, CheckExtensionNumber))
	add("allow_roles", checkNameList(r.AllowRoles, CheckRole))
	cn := r.CallerNumber
	switch {
	case !cn.Mode.Valid():
		add("caller_number.mode", problem("unknown mode %q (extension, fixed or pool_region)", cn.Mode))
	case cn.Mode.Mode() == store.CallerFixed:
		if cn.Number == "" {
			add("caller_number.number", problem("is required for mode fixed"))
		} else {
			add("caller_number.number", CheckPhoneNumber(cn.Number))
		}
		if cn.Pool != "" {
			add("caller_number.pool", problem("is only for mode pool_region"))
		}
	case cn.Mode.Mode() == store.CallerPoolRegion:
		if cn.Pool == "" {
			add("caller_number.pool", problem("is required for mode pool_region"))
		} else {
			add("caller_number.pool", CheckObjectName(cn.Pool))
		}
		if cn.Number != "" {
			add("caller_number.number", problem("is only for mode fixed"))
		}
	default:
		if cn.Number != "" || cn.Pool != "" {
			add("caller_number", problem("mode extension takes neither number nor pool"))
		}
	}
	return errors.Join(errs...)
}

// CheckCallerPool checks a pool's numbers ("numbers[2].number").
func CheckCallerPool(p store.CallerPool) error {
	var errs []error
	add := subErrors(&errs)
	switch {
	case len(p.Numbers) == 0:
		add("numbers", problem("at least one number is required"))
	case len(p.Numbers) > maxPoolNumbers:
		add("numbers", problem("at most %d numbers", maxPoolNumbers))
	}
	seen := map[string]int{}
	for i, n := range p.Numbers {
		path := fmt.Sprintf("numbers[%d]", i)
		add(path+".number", CheckPhoneNumber(n.Number))
		if first, dup := seen[n.Number]; dup {
			add(path+".number", problem("%s is already numbers[%d]", n.Number, first))
		} else {
			seen[n.Number] = i
		}
		add(path+".province", checkText(n.Province, maxRegionNameLen))
		add(path+".city", checkText(n.City, maxRegionNameLen))
		if n.City != "" && n.Province == "" {
			add(path+".province", problem("is required with city"))
		}
		if n.MaxCalls < 0 || n.MaxCalls > maxPoolNumberCalls {
			add(path+".max_calls", problem("must be 0 (no limit) to %d", maxPoolNumberCalls))
		}
	}
	return errors.Join(errs...)
}

// CheckPattern checks a dial pattern's syntax (docs/configuration-as-code.md):
// digits, + * # match themselves; X any digit, Z 1-9, N 2-9; [1-5] or [135]
// a set of digits; a final . one or more characters, a final ! zero or more.
// The error names the 1-based position of the first problem.
//
// It mirrors dialplan.ParsePattern, which config must not import (config
// sits below pbx); when both exist the call layer's parser is the
// reference, and the appliance may check stored patterns with it.
func CheckPattern(p string) error {
	if p == "" {
		return problem("an empty pattern matches nothing")
	}
	if len(p) > maxPatternLen {
		return problem("must be at most %d characters", maxPatternLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= '0' && c <= '9', c == 'X', c == 'Z', c == 'N', c == '+', c == '*', c == '#':
		case c == '.' || c == '!':
			if i != len(p)-1 {
				return problem("position %d: %c is allowed only at the end", i+1, c)
			}
			if i == 0 {
				return problem("position 1: %c needs something before it", c)
			}
		case c == '[':
			end, err := checkSet(p, i)
			if err != nil {
				return err
			}
			i = end
		default:
			return problem("position %d: unexpected %q (digits, + * #, X Z N, [set], and . or ! at the end)", i+1, c)
		}
	}
	return nil
}

// checkSet checks the set opening at p[open] and returns the index of its ].
func checkSet(p string, open int) (int, error) {
	n := 0
	for i := open + 1; i < len(p); i++ {
		c := p[i]
		switch {
		case c == ']':
			if n == 0 {
				return 0, problem("position %d: empty set", open+1)
			}
			return i, nil
		case c >= '0' && c <= '9':
			n++
		case c == '-':
			if n == 0 || i+1 >= len(p) || p[i+1] < '0' || p[i+1] > '9' || p[i+1] < p[i-1] || p[i-1] < '0' || p[i-1] > '9' {
				return 0, problem("position %d: a range is digit-digit, low to high ([1-5])", i+1)
			}
		default:
			return 0, problem("position %d: a set holds digits and ranges ([1-5] or [135])", i+1)
		}
	}
	return 0, problem("position %d: [ without ]", open+1)
}

// dialString: 1-max of 0-9 + * #.
func dialString(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '+' || c == '*' || c == '#') {
			return false
		}
	}
	return true
}

// checkNameList checks each name and that none is listed twice.
func checkNameList(names []string, check func(string) error) error {
	seen := map[string]bool{}
	for _, n := range names {
		if err := check(n); err != nil {
			return problem("%q: %s", n, problemOf(err))
		}
		if seen[n] {
			return problem("lists %s twice", n)
		}
		seen[n] = true
	}
	return nil
}

// subErrors returns a function adding err's *FieldError parts to errs with
// their paths under path.
func subErrors(errs *[]error) func(path string, err error) {
	return func(path string, err error) {
		for _, fe := range splitFieldErrors(err) {
			*errs = append(*errs, &FieldError{Path: subPath(path, fe.Path), Problem: fe.Problem})
		}
	}
}

// subPath is path/sub joined with a dot; either may be empty.
func subPath(path, sub string) string {
	switch {
	case sub == "":
		return path
	case path == "":
		return sub
	}
	return path + "." + sub
}

// splitFieldErrors flattens a joined error into its *FieldError parts; any
// other error becomes a problem at "".
func splitFieldErrors(err error) []*FieldError {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*FieldError
		for _, e := range j.Unwrap() {
			out = append(out, splitFieldErrors(e)...)
		}
		return out
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []*FieldError{fe}
	}
	return []*FieldError{{Problem: err.Error()}}
}

func destinationToStore(d Destination) store.Destination {
	return store.Destination{Type: store.DestinationType(d.Type), Target: d.Target}
}

func didToStore(number string, d DID) store.DID {
	return store.DID{Number: number, Trunk: d.Trunk, Destination: destinationToStore(d.Destination), Description: d.Description}
}

func didFromStore(d store.DID) DID {
	return DID{Trunk: d.Trunk, Destination: Destination{Type: string(d.Destination.Type), Target: d.Destination.Target}, Description: d.Description}
}

// routeToStore normalizes as it converts: mode extension is stored as "".
func routeToStore(name string, r OutboundRoute) store.OutboundRoute {
	mode := store.CallerMode(r.CallerNumber.Mode)
	if mode == store.CallerExtension {
		mode = ""
	}
	return store.OutboundRoute{
		Name:            name,
		Order:           r.Order,
		Patterns:        nilIfEmpty(r.Patterns),
		Strip:           r.Strip,
		Prepend:         r.Prepend,
		Trunks:          nilIfEmpty(r.Trunks),
		AllowExtensions: nilIfEmpty(r.AllowExtensions),
		AllowRoles:      nilIfEmpty(r.AllowRoles),
		CallerNumber:    store.CallerNumber{Mode: mode, Number: r.CallerNumber.Number, Pool: r.CallerNumber.Pool},
	}
}

func routeFromStore(r store.OutboundRoute) OutboundRoute {
	return OutboundRoute{
		Order:           r.Order,
		Patterns:        r.Patterns,
		Strip:           r.Strip,
		Prepend:         r.Prepend,
		Trunks:          r.Trunks,
		AllowExtensions: r.AllowExtensions,
		AllowRoles:      r.AllowRoles,
		CallerNumber:    CallerNumber{Mode: string(r.CallerNumber.Mode), Number: r.CallerNumber.Number, Pool: r.CallerNumber.Pool},
	}
}

func poolToStore(name string, p CallerPool) store.CallerPool {
	out := store.CallerPool{Name: name}
	for _, n := range p.Numbers {
		out.Numbers = append(out.Numbers, store.PoolNumber(n))
	}
	return out
}

func poolFromStore(p store.CallerPool) CallerPool {
	var out CallerPool
	for _, n := range p.Numbers {
		out.Numbers = append(out.Numbers, PoolNumber(n))
	}
	return out
}
