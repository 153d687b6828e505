package dialplan

import (
	"errors"
	"fmt"
	"testing"
)

func pats(ss ...string) []Pattern {
	out := make([]Pattern, len(ss))
	for i, s := range ss {
		out[i] = MustParsePattern(s)
	}
	return out
}

// callCenterRoutes is a typical Chinese call centre's outbound plan, in order.
func callCenterRoutes() []Route {
	return []Route{
		{Name: "emergency", Patterns: pats("110", "119", "120", "122"), Trunks: []string{"telecom", "unicom"}},
		{Name: "international", Patterns: pats("900X."), Strip: 1, Trunks: []string{"intl"}, AllowRoles: []string{"admin", "supervisor"}},
		{Name: "vip-mobile", Patterns: pats("91[3-9]XXXXXXXXX"), Strip: 1, Trunks: []string{"unicom"}, AllowExtensions: []string{"8001", "8002"}},
		{Name: "mobile", Patterns: pats("91[3-9]XXXXXXXXX", "1[3-9]XXXXXXXXX"), Strip: 1, Trunks: []string{"telecom", "unicom"}},
		{Name: "ip-prefix", Patterns: pats("80X.", "8[1-9]XXXXXXXXXX"), Strip: 2, Prepend: "17909", Trunks: []string{"ip"}},
		{Name: "national", Patterns: pats("90[1-9]XXXXXXXX!") /* not 900…: international */, Strip: 1, Trunks: []string{"telecom"}},
		{Name: "service", Patterns: pats("9[48]00XXXXXXX", "995XXX"), Strip: 1, Trunks: []string{"telecom"}},
	}
}

func TestSelectRoute(t *testing.T) {
	routes := callCenterRoutes()
	agent := Caller{Extension: "8010", Role: "agent"}
	tests := []struct {
		name    string
		dialled string
		caller  Caller
		route   string
		send    string
		err     error
	}{
		{"emergency exact", "110", agent, "emergency", "110", nil},
		{"emergency too long", "1100", agent, "", "", ErrNoRoute},
		{"mobile with 9", "913800138000", agent, "mobile", "13800138000", nil},
		// Strip 1 on a pattern without the 9 is the route's configuration; it is applied as written.
		{"mobile without 9", "13800138000", agent, "mobile", "3800138000", nil},
		{"vip first for its extensions", "913800138000", Caller{Extension: "8001", Role: "agent"}, "vip-mobile", "13800138000", nil},
		{"landline beijing", "901012345678", agent, "national", "01012345678", nil},
		{"landline urumqi 7", "909911234567", agent, "national", "09911234567", nil},
		{"400", "94008123456", agent, "service", "4008123456", nil},
		{"95xxx", "995555", agent, "service", "95555", nil},
		{"international for supervisors", "90012125551234", Caller{Extension: "8020", Role: "supervisor"}, "international", "0012125551234", nil},
		{"international refused to agents", "90012125551234", agent, "", "", ErrNotAllowed},
		{"strip and prepend", "8013800138000", agent, "ip-prefix", "1790913800138000", nil},
		{"unknown", "5", agent, "", "", ErrNoRoute},
		{"empty", "", agent, "", "", ErrNoRoute},
		{"garbage", "9abc", agent, "", "", ErrNoRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, send, err := SelectRoute(routes, tt.dialled, tt.caller)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("SelectRoute(%q) error %v, want %v", tt.dialled, err, tt.err)
			}
			if r.Name != tt.route || send != tt.send {
				t.Errorf("SelectRoute(%q) = %q, %q; want %q, %q", tt.dialled, r.Name, send, tt.route, tt.send)
			}
		})
	}
}

func TestSelectRouteOrderAndPermissions(t *testing.T) {
	a := Route{Name: "a", Patterns: pats("X."), Trunks: []string{"t"}, AllowRoles: []string{"admin"}}
	b := Route{Name: "b", Patterns: pats("X."), Trunks: []string{"t"}, AllowExtensions: []string{"8001"}}
	c := Route{Name: "c", Patterns: pats("X."), Trunks: []string{"t"}, AllowExtensions: []string{"8001"}, AllowRoles: []string{"agent"}}
	tests := []struct {
		routes []Route
		caller Caller
		want   string
		err    error
	}{
		{[]Route{a, b}, Caller{"8001", "admin"}, "a", nil},
		{[]Route{b, a}, Caller{"8001", "admin"}, "b", nil},
		{[]Route{a, b}, Caller{"8001", "agent"}, "b", nil},
		{[]Route{a, b}, Caller{"8002", "agent"}, "", ErrNotAllowed},
		{[]Route{c}, Caller{"8001", "agent"}, "c", nil},
		{[]Route{c}, Caller{"8001", "admin"}, "", ErrNotAllowed},
		{[]Route{c}, Caller{"8002", "agent"}, "", ErrNotAllowed},
		{nil, Caller{"8001", "admin"}, "", ErrNoRoute},
	}
	for i, tt := range tests {
		r, _, err := SelectRoute(tt.routes, "12", tt.caller)
		if r.Name != tt.want || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("case %d: %q, %v; want %q, %v", i, r.Name, err, tt.want, tt.err)
		}
	}
}

func TestRouteRewrite(t *testing.T) {
	tests := []struct {
		strip   int
		prepend string
		in      string
		want    string
	}{
		{0, "", "13800138000", "13800138000"},
		{1, "", "913800138000", "13800138000"},
		{1, "0", "9755", "0755"},
		{2, "17951", "9913800138000", "1795113800138000"},
		{5, "", "123", ""},
		{5, "+86", "123", "+86"},
		{-1, "", "123", "123"},
	}
	for _, tt := range tests {
		r := Route{Strip: tt.strip, Prepend: tt.prepend}
		if got := r.Rewrite(tt.in); got != tt.want {
			t.Errorf("strip %d prepend %q on %q = %q, want %q", tt.strip, tt.prepend, tt.in, got, tt.want)
		}
	}
	// A route whose rewrite leaves nothing is passed over.
	routes := []Route{
		{Name: "eats-all", Patterns: pats("9"), Strip: 1, Trunks: []string{"t"}},
		{Name: "next", Patterns: pats("X"), Trunks: []string{"t"}},
	}
	if r, send, err := SelectRoute(routes, "9", Caller{}); err != nil || r.Name != "next" || send != "9" {
		t.Errorf("empty rewrite: %q %q %v", r.Name, send, err)
	}
}

func TestRouteValidate(t *testing.T) {
	good := Route{Name: "r", Patterns: pats("9X."), Trunks: []string{"t"}}
	tests := []struct {
		name  string
		edit  func(*Route)
		field string
	}{
		{"good", func(*Route) {}, ""},
		{"no name", func(r *Route) { r.Name = "" }, "name"},
		{"no patterns", func(r *Route) { r.Patterns = nil }, "patterns"},
		{"zero pattern", func(r *Route) { r.Patterns = []Pattern{{}} }, "patterns"},
		{"negative strip", func(r *Route) { r.Strip = -1 }, "strip"},
		{"bad prepend", func(r *Route) { r.Prepend = "9a" }, "prepend"},
		{"no trunks", func(r *Route) { r.Trunks = nil }, "trunks"},
		{"bad mode", func(r *Route) { r.CallerNumber.Mode = "random" }, "caller_number.mode"},
		{"fixed without number", func(r *Route) { r.CallerNumber.Mode = CallerModeFixed }, "caller_number.number"},
		{"fixed bad number", func(r *Route) { r.CallerNumber = CallerPolicy{Mode: CallerModeFixed, Number: "abc"} }, "caller_number.number"},
		{"fixed good", func(r *Route) { r.CallerNumber = CallerPolicy{Mode: CallerModeFixed, Number: "010-12345678"} }, ""},
		{"pool without name", func(r *Route) { r.CallerNumber.Mode = CallerModePoolRegion }, "caller_number.pool"},
		{"pool good", func(r *Route) { r.CallerNumber = CallerPolicy{Mode: CallerModePoolRegion, Pool: "sales"} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			r.Patterns = append([]Pattern(nil), good.Patterns...)
			tt.edit(&r)
			err := r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) || fe.Field != tt.field {
				t.Errorf("Validate = %v, want a FieldError on %q", err, tt.field)
			}
		})
	}
}

func TestFailoverOn(t *testing.T) {
	yes := []int{0, 403, 408, 500, 502, 503, 504, 580, 599}
	no := []int{100, 180, 183, 200, 301, 302, 400, 401, 404, 407, 410, 480, 484, 486, 487, 488, 600, 603, 604, 606, 700, -1}
	for _, s := range yes {
		if !FailoverOn(s) {
			t.Errorf("FailoverOn(%d) = false, want true", s)
		}
	}
	for _, s := range no {
		if FailoverOn(s) {
			t.Errorf("FailoverOn(%d) = true, want false", s)
		}
	}
	// Every class, exhaustively: only 0, 403, 408 and 5xx.
	for s := 100; s < 700; s++ {
		want := s == 403 || s == 408 || (s >= 500 && s < 600)
		if FailoverOn(s) != want {
			t.Errorf("FailoverOn(%d) = %v", s, !want)
		}
	}
}

func BenchmarkSelectRoute100(b *testing.B) {
	// 99 routes that do not match (specific prefixes), then the one that does.
	routes := make([]Route, 0, 100)
	for i := 0; i < 99; i++ {
		routes = append(routes, Route{
			Name:     fmt.Sprintf("r%d", i),
			Patterns: pats(fmt.Sprintf("7%02dXXXXXXXX.", i), fmt.Sprintf("6%02d[3-9]XXXXXXX", i)),
			Strip:    3, Trunks: []string{"t"},
		})
	}
	routes = append(routes, Route{Name: "last", Patterns: pats("91[3-9]XXXXXXXXX"), Strip: 1, Prepend: "0", Trunks: []string{"t"}, AllowRoles: []string{"agent"}})
	caller := Caller{Extension: "8001", Role: "agent"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := SelectRoute(routes, "913800138000", caller); err != nil {
			b.Fatal(err)
		}
	}
}
