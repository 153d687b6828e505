package dialplan

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize: numbers come from SIP headers and from people. Whatever the
// input, Normalize must not panic, must say ErrBadNumber or give a
// consistent Number, and must read its own outputs back to the same key.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"+8613800138000", "008613800138000", "8613800138000", "013800138000", "13800138000",
		"010-1234 5678", "(010)12345678", "0755-12345678", "0991-1234567", "4008123456", "95555", "110",
		"0012125551234", "+", "00", "0", "86", "+86", "+86(0)", "８６１３８", "--", "\xff", "1" + strings.Repeat("0", 40),
	} {
		f.Add(s)
	}
	plan := DefaultNumberPlan()
	f.Fuzz(func(t *testing.T, s string) {
		n, err := plan.Normalize(s)
		if err != nil {
			if !errors.Is(err, ErrBadNumber) {
				t.Fatalf("Normalize(%q): error %v is no ErrBadNumber", s, err)
			}
			return
		}
		if n.Raw != s {
			t.Fatalf("Raw %q, input %q", n.Raw, s)
		}
		k := n.Key()
		if k == "" || !allDigits(k) || len(k) > maxNumberLen {
			t.Fatalf("Normalize(%q): key %q", s, k)
		}
		switch n.Kind {
		case KindMobile, KindLandline:
			if n.National == "" || n.E164 == "" || !strings.HasPrefix(n.E164, "86") {
				t.Fatalf("Normalize(%q) = %+v", s, n)
			}
		case KindInternational:
			if n.National != "" || len(n.E164) < 7 || len(n.E164) > 15 {
				t.Fatalf("Normalize(%q) = %+v", s, n)
			}
		case KindService:
			if n.National == "" || n.E164 != "" {
				t.Fatalf("Normalize(%q) = %+v", s, n)
			}
		}
		// Every form we produce reads back to the same number.
		for _, form := range []string{n.National, n.E164} {
			if form == "" {
				continue
			}
			if form == n.E164 && n.Kind != KindUnknown {
				form = "+" + form
			}
			m, err := plan.Normalize(form)
			if err != nil || m.Key() != k || m.Kind != n.Kind {
				t.Fatalf("Normalize(%q) = %+v key %q; its form %q reads %+v key %q (%v)", s, n, k, form, m, m.Key(), err)
			}
		}
	})
}

// FuzzPattern: patterns come from admins through the API. ParsePattern must
// not panic, must report a position inside the pattern, and Match must not
// panic on any input.
func FuzzPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"9XXXXXXXX.", "913800138000"}, {"1[3-9]XXXXXXXXX", "13800138000"}, {"0XXXXXXXXX!", "01012345678"},
		{"X.", "1"}, {"[1-5]", "3"}, {"[", ""}, {"[5-3]", "4"}, {"_9!", "9"}, {"+X.", "+86"}, {"9.X", "9"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, number string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) || !errors.Is(err, ErrBadPattern) {
				t.Fatalf("ParsePattern(%q): %T %v", pattern, err, err)
			}
			if pe.Pos < 0 || pe.Pos > len(pattern) {
				t.Fatalf("ParsePattern(%q): position %d out of range", pattern, pe.Pos)
			}
			return
		}
		if p.String() != pattern || p.IsZero() {
			t.Fatalf("ParsePattern(%q) = %+v", pattern, p)
		}
		if p.Match(number) {
			if len(number) < p.Fixed() {
				t.Fatalf("%q matches the shorter %q", pattern, number)
			}
			if p.tail == tailNone && len(number) != p.Fixed() {
				t.Fatalf("exact %q matches %q", pattern, number)
			}
		}
	})
}

// FuzzParseRegionCSV: region tables are uploaded by admins. No panic; a
// table or line errors, never both; line numbers within the input; every
// accepted row looks itself up.
func FuzzParseRegionCSV(f *testing.F) {
	f.Add([]byte(regionCSV))
	f.Add([]byte("prefix,province,city\n010,北京,北京\n"))
	f.Add([]byte("010,\"北京\",\"北\"\"京\"\n020,广东\n"))
	f.Add([]byte("\xef\xbb\xbf\n#\n,,\n"))
	f.Add([]byte{0xff, ',', 0xfe})
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, lines, err := ParseRegionCSV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadRegionCSV) || tab != nil || len(lines) == 0 || len(lines) > maxLineErrors {
				t.Fatalf("err %v, table %v, %d lines", err, tab, len(lines))
			}
			max := bytes.Count(data, []byte("\n")) + 2
			for _, l := range lines {
				if l.Line < 1 || l.Line > max || l.Msg == "" {
					t.Fatalf("line error %+v (input has %d lines)", l, max-1)
				}
			}
			return
		}
		if lines != nil {
			t.Fatalf("table and line errors: %v", lines)
		}
		for _, r := range tab.Rows() {
			got, ok := tab.LookupDigits(r.Prefix)
			if !ok || got != (Region{r.Province, r.City}) || !utf8.ValidString(r.Province+r.City) {
				t.Fatalf("row %+v looks up %v %v", r, got, ok)
			}
		}
	})
}
