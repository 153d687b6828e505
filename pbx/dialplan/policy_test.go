package dialplan

import (
	"errors"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	plan := DefaultNumberPlan()
	def := DefaultPolicy()
	open := Policy{International: true, Premium: true}
	custom := Policy{
		Emergency:     []string{"112", "999"},
		AllowPrefixes: []string{"0044", "+852", "0755", "95XXXXXXX!"},
		DenyPrefixes:  []string{"00", "075599", "0991", "1380013"},
	}
	tests := []struct {
		name   string
		policy Policy
		number string
		want   Refusal
	}{
		{"mobile", def, "13800138000", RefuseNone},
		{"166 mobile is no premium", def, "16612345678", RefuseNone},
		{"190 mobile is no premium", def, "19001234567", RefuseNone},
		{"landline", def, "010-12345678", RefuseNone},
		{"400", def, "4008123456", RefuseNone},
		{"95555", def, "95555", RefuseNone},
		{"extension", def, "8001", RefuseNone},
		{"international off", def, "0012125551234", RefuseInternational},
		{"international +", def, "+44 20 7946 0000", RefuseInternational},
		{"international on", open, "0012125551234", RefuseNone},
		{"premium 168", def, "16812345", RefusePremium},
		{"premium 16xxx", def, "16888", RefusePremium},
		{"premium 95 long", def, "950123456", RefusePremium},
		{"premium 0900", def, "0900-1234567", RefusePremium},
		{"premium on", open, "16812345", RefuseNone},
		{"emergency 110", def, "110", RefuseNone},
		{"emergency +86 119", def, "+86 119", RefuseNone},
		{"emergency 120 under deny-all", Policy{DenyPrefixes: []string{"1"}}, "120", RefuseNone},
		{"emergency 122 under deny-all", Policy{DenyPrefixes: []string{"1"}}, "122", RefuseNone},
		{"not emergency under deny-all", Policy{DenyPrefixes: []string{"1"}}, "114", RefuseDenied},
		{"added emergency 112", custom, "112", RefuseNone},
		{"added emergency 999 (an extension-looking number)", custom, "999", RefuseNone},
		{"allow lifts international", custom, "0044 20 7946 0000", RefuseNone},
		{"allow + form", custom, "+852 2123 4567", RefuseNone},
		{"deny 00 beats off switch as reason", custom, "0012125551234", RefuseDenied},
		{"allow beats shorter deny", custom, "0755-12345678", RefuseNone},
		{"longer deny beats allow", custom, "0755-99123456", RefuseDenied},
		{"deny area code", custom, "0991-1234567", RefuseDenied},
		{"deny mobile prefix", custom, "13800138000", RefuseDenied},
		{"deny mobile prefix, any form", custom, "+86 138 0013 8000", RefuseDenied},
		{"allow pattern lifts premium", custom, "950123456", RefuseNone},
		{"tie goes to allow", Policy{AllowPrefixes: []string{"010"}, DenyPrefixes: []string{"010"}}, "01012345678", RefuseNone},
		{"custom premium list", Policy{PremiumPrefixes: []string{"0755"}}, "0755-12345678", RefusePremium},
		{"custom premium list replaces default", Policy{PremiumPrefixes: []string{"0755"}}, "16812345", RefuseNone},
		{"malformed entries match nothing", Policy{DenyPrefixes: []string{"9.X", ""}}, "13800138000", RefuseNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := plan.Normalize(tt.number)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.policy.Check(n); got != tt.want {
				t.Errorf("Check(%q %s) = %s, want %s", tt.number, n.Kind, got, tt.want)
			}
		})
	}
}

func TestPolicyIsEmergency(t *testing.T) {
	plan := DefaultNumberPlan()
	p := Policy{Emergency: []string{"112"}}
	for in, want := range map[string]bool{
		"110": true, "119": true, "120": true, "122": true, "112": true, "+86 110": true, "0086110": true,
		"114": false, "1100": false, "13800138000": false, "+1 110 555 1234": false, "8001": false,
	} {
		n, err := plan.Normalize(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.IsEmergency(n); got != want {
			t.Errorf("IsEmergency(%q) = %v", in, got)
		}
	}
	// The built-in four cannot be removed.
	n, _ := plan.Normalize("110")
	if !(Policy{Emergency: []string{}}).IsEmergency(n) {
		t.Error("110 removed")
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	good := Policy{Emergency: []string{"112"}, AllowPrefixes: []string{"0044", "+852"}, DenyPrefixes: []string{"95XXXXXXX!"}, PremiumPrefixes: DefaultPremiumPrefixes()}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p     Policy
		field string
	}{
		{Policy{Emergency: []string{"11a"}}, "emergency[0]"},
		{Policy{Emergency: []string{"112", "1"}}, "emergency[1]"},
		{Policy{AllowPrefixes: []string{"0044", "9.X"}}, "allow_prefixes[1]"},
		{Policy{DenyPrefixes: []string{""}}, "deny_prefixes[0]"},
		{Policy{PremiumPrefixes: []string{"16", "[9"}}, "premium_prefixes[1]"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want field %s", tt.p, err, tt.field)
		}
	}
}

func TestRefusal(t *testing.T) {
	want := map[Refusal]string{
		RefuseNone: "none", RefuseBlacklist: "blacklist", RefuseInternational: "international",
		RefusePremium: "premium", RefuseDenied: "denied", RefuseLocked: "locked", RefuseRateLimit: "rate_limit",
		RefuseNoRoute: "no_route", RefuseNotAllowed: "not_allowed", Refusal(99): "unknown",
	}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), s)
		}
	}
	all := Refusals()
	if len(all) != 8 || all[0] != RefuseBlacklist || all[7] != RefuseNotAllowed {
		t.Errorf("Refusals() = %v", all)
	}
}
