package dialplan

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	plan := DefaultNumberPlan()
	tests := []struct {
		name     string
		in       string
		kind     NumberKind
		national string
		e164     string
	}{
		// Mobiles in every form carriers and people use.
		{"mobile bare", "13800138000", KindMobile, "13800138000", "8613800138000"},
		{"mobile +86", "+8613800138000", KindMobile, "13800138000", "8613800138000"},
		{"mobile 0086", "008613800138000", KindMobile, "13800138000", "8613800138000"},
		{"mobile 86 lost plus", "8613800138000", KindMobile, "13800138000", "8613800138000"},
		{"mobile stray 0", "013800138000", KindMobile, "13800138000", "8613800138000"},
		{"mobile spaced", "+86 138 0013 8000", KindMobile, "13800138000", "8613800138000"},
		{"mobile dashed", "138-0013-8000", KindMobile, "13800138000", "8613800138000"},
		{"mobile 199", "19912345678", KindMobile, "19912345678", "8619912345678"},
		{"mobile 166", "16612345678", KindMobile, "16612345678", "8616612345678"},
		{"mobile full-width", "１３８００１３８０００", KindMobile, "13800138000", "8613800138000"},
		{"mobile +86 (0)", "+86 (0)138 0013 8000", KindMobile, "13800138000", "8613800138000"},
		// Landlines: Beijing 010, Guangzhou 020, Shenzhen 0755, Urumqi 0991.
		{"beijing", "01012345678", KindLandline, "01012345678", "861012345678"},
		{"beijing dashed", "010-1234 5678", KindLandline, "01012345678", "861012345678"},
		{"beijing parens", "(010)12345678", KindLandline, "01012345678", "861012345678"},
		{"beijing full-width parens", "（010）12345678", KindLandline, "01012345678", "861012345678"},
		{"beijing +86", "+861012345678", KindLandline, "01012345678", "861012345678"},
		{"beijing +86 (0)", "+86 (0)10 1234 5678", KindLandline, "01012345678", "861012345678"},
		{"beijing 0086", "00861012345678", KindLandline, "01012345678", "861012345678"},
		{"beijing 86 lost plus", "861012345678", KindLandline, "01012345678", "861012345678"},
		{"beijing 86 0", "8601012345678", KindLandline, "01012345678", "861012345678"},
		{"guangzhou", "020-87654321", KindLandline, "02087654321", "862087654321"},
		{"shenzhen", "0755-12345678", KindLandline, "075512345678", "8675512345678"},
		{"shenzhen dots", "0755.1234.5678", KindLandline, "075512345678", "8675512345678"},
		{"shenzhen 86", "8675512345678", KindLandline, "075512345678", "8675512345678"},
		{"urumqi 7 digits", "0991-1234567", KindLandline, "09911234567", "869911234567"},
		{"urumqi 8 digits", "0991-12345678", KindLandline, "099112345678", "8699112345678"},
		// Service numbers: national form only.
		{"police", "110", KindService, "110", ""},
		{"fire", "119", KindService, "119", ""},
		{"ambulance", "120", KindService, "120", ""},
		{"traffic", "122", KindService, "122", ""},
		{"police +86", "+86110", KindService, "110", ""},
		{"carrier", "10086", KindService, "10086", ""},
		{"hotline", "12345", KindService, "12345", ""},
		{"bank", "95555", KindService, "95555", ""},
		{"96", "96166", KindService, "96166", ""},
		{"400", "400-812-3456", KindService, "4008123456", ""},
		{"800", "8008101234", KindService, "8008101234", ""},
		{"0 before 400", "04008123456", KindService, "4008123456", ""},
		{"400 +86", "+86 400 812 3456", KindService, "4008123456", ""},
		{"yinchuan 7 digits (095x is no 95 number)", "0951-1234567", KindLandline, "09511234567", "869511234567"},
		{"yinchuan +86", "+869511234567", KindLandline, "09511234567", "869511234567"},
		// International.
		{"usa 001", "0012125551234", KindInternational, "", "12125551234"},
		{"usa +1", "+1 212 555 1234", KindInternational, "", "12125551234"},
		{"uk", "+44 20 7946 0000", KindInternational, "", "442079460000"},
		{"hong kong 00852", "0085221234567", KindInternational, "", "85221234567"},
		// Extensions and leftovers.
		{"extension", "8001", KindExtension, "", ""},
		{"extension 2 digits", "21", KindExtension, "", ""},
		{"extension 6 digits", "800100", KindExtension, "", ""},
		{"unknown 7 digits no area", "87654321", KindUnknown, "", ""},
		{"unknown 0 garbage", "0123", KindUnknown, "", ""},
		{"unknown subscriber starting 0", "01001234567", KindUnknown, "", ""},
		{"unknown too long", "1380013800012345", KindUnknown, "", ""},
		{"unknown +86 junk", "+8612", KindUnknown, "", ""},
		{"service +86", "+86123", KindService, "123", ""},
		{"unknown short international", "001", KindUnknown, "", ""},
		{"mobile 12 (no such range)", "12800138000", KindUnknown, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := plan.Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.in, err)
			}
			if n.Kind != tt.kind || n.National != tt.national || n.E164 != tt.e164 || n.Raw != tt.in {
				t.Errorf("Normalize(%q) = %+v (%s), want kind %s national %q e164 %q",
					tt.in, n, n.Kind, tt.kind, tt.national, tt.e164)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	plan := DefaultNumberPlan()
	for _, in := range []string{
		"", "   ", "-()", "abc", "138001380OO", "tel:13800138000", "1380013800x",
		"++8613800138000", "86+13800138000", "138\x0000138000",
		strings.Repeat("1", 33), strings.Repeat("1 ", 17),
		"anonymous", "*72", "1380#", "１３８ａ",
	} {
		if n, err := plan.Normalize(in); !errors.Is(err, ErrBadNumber) {
			t.Errorf("Normalize(%q) = %+v, %v; want ErrBadNumber", in, n, err)
		}
	}
}

func TestNumberKey(t *testing.T) {
	plan := DefaultNumberPlan()
	groups := [][]string{
		{"13800138000", "+8613800138000", "008613800138000", "8613800138000", "013800138000", "+86 138-0013-8000"},
		{"01012345678", "+861012345678", "010-12345678", "(010) 1234 5678", "00861012345678", "861012345678"},
		{"095512345678"[1:], "0955-12345678"}, // sanity: 9551… vs 0955…: only the second is a landline
		{"0012125551234", "+12125551234", "+1 (212) 555-1234"},
		{"95555", "+86 95555"},
	}
	for i, g := range groups {
		if i == 2 {
			a, _ := plan.Normalize(g[0])
			b, _ := plan.Normalize(g[1])
			if a.Key() == b.Key() {
				t.Errorf("%q and %q share key %q", g[0], g[1], a.Key())
			}
			continue
		}
		first, err := plan.Normalize(g[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range g[1:] {
			n, err := plan.Normalize(s)
			if err != nil {
				t.Fatal(err)
			}
			if n.Key() != first.Key() {
				t.Errorf("Key(%q) = %q, Key(%q) = %q; want equal", s, n.Key(), g[0], first.Key())
			}
		}
	}
	// Unknown and extension numbers compare by their digits.
	for in, want := range map[string]string{"8001": "8001", "87-65-4321": "87654321", "0123": "0123"} {
		n, _ := plan.Normalize(in)
		if n.Key() != want {
			t.Errorf("Key(%q) = %q, want %q", in, n.Key(), want)
		}
	}
	if k := (Number{Raw: "x"}).Key(); k != "" {
		t.Errorf("Key of a non-number = %q, want empty", k)
	}
}

func TestNormalizeAreaCode(t *testing.T) {
	for _, area := range []string{"10", "010"} {
		plan := DefaultNumberPlan()
		plan.AreaCode = area
		n, err := plan.Normalize("87654321")
		if err != nil {
			t.Fatal(err)
		}
		if n.Kind != KindLandline || n.National != "01087654321" || n.E164 != "861087654321" {
			t.Errorf("area %s: bare subscriber = %+v", area, n)
		}
		// A mobile stays a mobile, an extension an extension.
		if m, _ := plan.Normalize("13800138000"); m.Kind != KindMobile {
			t.Errorf("area %s: mobile read as %s", area, m.Kind)
		}
		if e, _ := plan.Normalize("8001"); e.Kind != KindExtension {
			t.Errorf("area %s: extension read as %s", area, e.Kind)
		}
	}
	plan := DefaultNumberPlan()
	plan.AreaCode = "991"
	n, _ := plan.Normalize("1234567")
	if n.National != "09911234567" {
		t.Errorf("Urumqi 7-digit local = %+v", n)
	}
}

func TestNumberAreaCode(t *testing.T) {
	plan := DefaultNumberPlan()
	for in, want := range map[string]string{
		"010-12345678": "010", "020-87654321": "020", "0755-12345678": "0755", "0991-1234567": "0991",
		"13800138000": "", "95555": "", "+12125551234": "",
	} {
		n, _ := plan.Normalize(in)
		if got := n.AreaCode(); got != want {
			t.Errorf("AreaCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeZeroPlanIsChina(t *testing.T) {
	var zero NumberPlan
	a, _ := zero.Normalize("+8613800138000")
	b, _ := DefaultNumberPlan().Normalize("+8613800138000")
	if a != b {
		t.Errorf("zero plan %+v, default plan %+v", a, b)
	}
}

func TestNormalizeOtherPlan(t *testing.T) {
	// Germany: +49, national prefix 0, international 00. Only prefixes apply.
	plan := NumberPlan{CountryCode: "49", NationalPrefix: "0", InternationalPrefix: "00"}
	tests := []struct {
		in   string
		kind NumberKind
		key  string
	}{
		{"030 1234567", KindLandline, "49301234567"},
		{"+49 30 1234567", KindLandline, "49301234567"},
		{"0049301234567", KindLandline, "49301234567"},
		{"+8613800138000", KindInternational, "8613800138000"},
		{"123", KindExtension, "123"},
	}
	for _, tt := range tests {
		n, err := plan.Normalize(tt.in)
		if err != nil || n.Kind != tt.kind || n.Key() != tt.key {
			t.Errorf("Normalize(%q) = %+v (%s) key %q, %v; want %s %q", tt.in, n, n.Kind, n.Key(), err, tt.kind, tt.key)
		}
	}
}

func TestNumberKindString(t *testing.T) {
	for k, want := range map[NumberKind]string{
		KindUnknown: "unknown", KindExtension: "extension", KindMobile: "mobile", KindLandline: "landline",
		KindService: "service", KindInternational: "international", NumberKind(200): "unknown",
	} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
	}
}
