package dialplan

import "slices"

// Caller number modes of a route's CallerPolicy.
const (
	CallerModeExtension  = "extension"   // the calling extension's own outbound number
	CallerModeFixed      = "fixed"       // CallerPolicy.Number
	CallerModePoolRegion = "pool_region" // PickCaller over the pool CallerPolicy.Pool
)

// CallerPolicy says which caller number an outbound route presents.
type CallerPolicy struct {
	Mode   string // CallerModeExtension (the default when ""), CallerModeFixed, CallerModePoolRegion
	Number string // for CallerModeFixed
	Pool   string // caller pool name, for CallerModePoolRegion
}

// Validate checks the mode and that what it needs is there.
func (c CallerPolicy) Validate() error {
	switch c.Mode {
	case "", CallerModeExtension:
	case CallerModeFixed:
		if c.Number == "" {
			return fieldErr("number", "a fixed caller number is needed", nil)
		}
		if _, err := DefaultNumberPlan().Normalize(c.Number); err != nil {
			return fieldErr("number", "not a phone number", ErrBadNumber)
		}
	case CallerModePoolRegion:
		if c.Pool == "" {
			return fieldErr("pool", "a caller pool is needed", nil)
		}
	default:
		return fieldErr("mode", `must be "extension", "fixed" or "pool_region"`, nil)
	}
	return nil
}

// Route is an outbound route: the numbers it takes, how it rewrites them,
// the trunks it tries in order, and who may use it.
type Route struct {
	Name            string
	Patterns        []Pattern
	Strip           int      // digits removed from the front after matching (an outside-line 9)
	Prepend         string   // added after stripping (a carrier prefix)
	Trunks          []string // tried in order: the next one when FailoverOn says so
	AllowExtensions []string // extensions that may use the route; empty: every extension
	AllowRoles      []string // roles of the extension's owner that may; empty: any
	CallerNumber    CallerPolicy
}

// Caller is who dials: an authenticated extension and its owner's role.
type Caller struct {
	Extension string
	Role      string
}

// Matches says whether one of the route's patterns matches dialled.
func (r *Route) Matches(dialled string) bool {
	for i := range r.Patterns {
		if r.Patterns[i].Match(dialled) {
			return true
		}
	}
	return false
}

// Allows says whether caller may use the route: its extension is listed (or
// the list is empty) and its role is listed (or that list is empty).
func (r *Route) Allows(c Caller) bool {
	if len(r.AllowExtensions) > 0 && !slices.Contains(r.AllowExtensions, c.Extension) {
		return false
	}
	if len(r.AllowRoles) > 0 && !slices.Contains(r.AllowRoles, c.Role) {
		return false
	}
	return true
}

// Rewrite is the number the route sends for dialled: Strip digits removed
// from the front, then Prepend added. It is "" when stripping leaves nothing
// and nothing is prepended.
func (r *Route) Rewrite(dialled string) string {
	rest := dialled
	if r.Strip > 0 {
		rest = dialled[min(r.Strip, len(dialled)):]
	}
	if r.Prepend == "" {
		return rest
	}
	return r.Prepend + rest
}

// Validate checks what a route needs to be used: a name, at least one
// pattern, at least one trunk, a non-negative Strip and a valid caller
// policy.
func (r *Route) Validate() error {
	if r.Name == "" {
		return fieldErr("name", "a route needs a name", nil)
	}
	if len(r.Patterns) == 0 {
		return fieldErr("patterns", "a route needs at least one pattern", nil)
	}
	for _, p := range r.Patterns {
		if p.IsZero() {
			return fieldErr("patterns", "empty pattern", ErrBadPattern)
		}
	}
	if r.Strip < 0 || r.Strip > maxPatternLen {
		return fieldErr("strip", "must be 0-64", nil)
	}
	if _, err := cleanPrepend(r.Prepend); err != nil {
		return fieldErr("prepend", "digits, '+', '*' or '#' only", nil)
	}
	if len(r.Trunks) == 0 {
		return fieldErr("trunks", "a route needs at least one trunk", nil)
	}
	if err := r.CallerNumber.Validate(); err != nil {
		if fe, ok := err.(*FieldError); ok {
			fe.Field = "caller_number." + fe.Field
		}
		return err
	}
	return nil
}

func cleanPrepend(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '+' && c != '*' && c != '#' {
			return "", ErrInvalid
		}
	}
	return s, nil
}

// SelectRoute finds the first route, in order, whose pattern matches dialled
// and that allows caller, and returns it with the number to send. A route
// that matches but refuses the caller does not stop the search: a later route
// may be open to it (an "international for managers" route before a general
// one). ErrNotAllowed when routes matched but none allowed the caller,
// ErrNoRoute when none matched. A route whose rewrite leaves nothing to send
// is passed over.
func SelectRoute(routes []Route, dialled string, caller Caller) (Route, string, error) {
	matched := false
	for i := range routes {
		r := &routes[i]
		if !r.Matches(dialled) {
			continue
		}
		matched = true
		if !r.Allows(caller) {
			continue
		}
		out := r.Rewrite(dialled)
		if out == "" {
			continue
		}
		return *r, out, nil
	}
	if matched {
		return Route{}, "", ErrNotAllowed
	}
	return Route{}, "", ErrNoRoute
}

// FailoverOn says whether a SIP final response from one trunk moves the call
// to the route's next trunk. The carrier is the problem on a timeout (status
// 0: no final answer at all), 408, any 5xx (503 overload, 502 bad gateway,
// 500) and 403 (carriers refuse with 403 for credit, caller-number or
// trunk-permission trouble that another carrier may not have). The callee is
// the answer on 486 busy, 404, 480, 603 and every other 4xx or 6xx: trying
// another carrier would ring a busy or absent person twice or bill twice.
func FailoverOn(status int) bool {
	switch {
	case status == 0, status == 408, status == 403:
		return true
	case status >= 500 && status <= 599:
		return true
	}
	return false
}
