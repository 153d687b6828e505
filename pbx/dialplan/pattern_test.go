package dialplan

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"9XXXXXXXX.", []string{"913800138000", "9010123456789", "9123456789"}, []string{"912345678", "9", "813800138000", ""}},
		{"1[3-9]XXXXXXXXX", []string{"13800138000", "19912345678"}, []string{"12800138000", "1380013800", "138001380001", "013800138000"}},
		{"0XXXXXXXXX!", []string{"0101234567", "01012345678", "075512345678"}, []string{"010123456", "1010123456"}},
		{"X.", []string{"12", "123456789"}, []string{"1", ""}},
		{"X!", []string{"1", "12"}, []string{""}},
		{"XXXX", []string{"8001", "0000"}, []string{"800", "80012"}},
		{"8001", []string{"8001"}, []string{"80011", "800", "8002"}},
		{"110", []string{"110"}, []string{"1100", "11"}},
		{"[135]X", []string{"10", "39", "59"}, []string{"20", "40", "1"}},
		{"[1-35]X", []string{"10", "29", "39", "50"}, []string{"40", "60"}},
		{"[0-9]", []string{"0", "9"}, []string{"a", "10"}},
		{"ZXX", []string{"100", "999"}, []string{"099"}},
		{"NXX", []string{"200", "999"}, []string{"100", "099"}},
		{"nxx", []string{"200"}, []string{"100"}},
		{"+X.", []string{"+8613800138000", "+12"}, []string{"8613800138000", "+1"}},
		{"00X.", []string{"0012125551234"}, []string{"0112125551234", "00"}},
		{"*7X", []string{"*72"}, []string{"#72", "172"}},
		{"_9X.", []string{"912"}, []string{"91"}},
		{"400XXXXXXX", []string{"4008123456"}, []string{"40081234567", "8008123456"}},
		{"95XXX", []string{"95555"}, []string{"955555", "96555"}},
		{"9.", []string{"9*#+", "91"}, []string{"9"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := ParsePattern(tt.pattern)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
			}
			if p.String() != tt.pattern {
				t.Errorf("String() = %q", p.String())
			}
			for _, s := range tt.yes {
				if !p.Match(s) {
					t.Errorf("%q does not match %q", tt.pattern, s)
				}
			}
			for _, s := range tt.no {
				if p.Match(s) {
					t.Errorf("%q matches %q", tt.pattern, s)
				}
			}
		})
	}
}

func TestParsePatternErrors(t *testing.T) {
	tests := []struct {
		pattern string
		pos     int
	}{
		{"", 0},
		{"_", 1},
		{".", 0},
		{"!", 0},
		{"9.X", 1},
		{"9!X", 1},
		{"X..", 1},
		{"9a", 1},
		{"9 X", 1},
		{"90-X", 2},
		{"[", 1},
		{"[13", 3},
		{"9[]", 2},
		{"9[a]", 2},
		{"9[5-3]", 2},
		{"9[1-a]", 4},
		{"9[1-]", 3},
		{"9]", 1},
		{"__9", 1},
		{"9XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX.", 64},
		{"9X\u4e2d", 2},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := ParsePattern(tt.pattern)
			if !errors.Is(err, ErrBadPattern) {
				t.Fatalf("ParsePattern(%q) = %v, %v; want ErrBadPattern", tt.pattern, p, err)
			}
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is no *PatternError", err)
			}
			if pe.Pos != tt.pos || pe.Pattern != tt.pattern {
				t.Errorf("ParsePattern(%q): position %d, want %d", tt.pattern, pe.Pos, tt.pos)
			}
		})
	}
}

func TestPatternZeroMatchesNothing(t *testing.T) {
	var p Pattern
	for _, s := range []string{"", "1", "13800138000"} {
		if p.Match(s) {
			t.Errorf("zero pattern matches %q", s)
		}
	}
	if !p.IsZero() || MustParsePattern("1").IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestMustParsePatternPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on a bad pattern")
		}
	}()
	MustParsePattern("9.X")
}

func TestPatternText(t *testing.T) {
	in := []Pattern{MustParsePattern("9XXXXXXXX."), MustParsePattern("1[3-9]XXXXXXXXX")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `["9XXXXXXXX.","1[3-9]XXXXXXXXX"]` {
		t.Errorf("json = %s", b)
	}
	var out []Pattern
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || !out[1].Match("13800138000") || out[0].String() != "9XXXXXXXX." {
		t.Errorf("round trip = %v", out)
	}
	if err := json.Unmarshal([]byte(`["9.X"]`), &out); !errors.Is(err, ErrBadPattern) {
		t.Errorf("bad pattern in JSON: %v", err)
	}
}
