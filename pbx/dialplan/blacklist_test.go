package dialplan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestBlacklistBlocked(t *testing.T) {
	plan := DefaultNumberPlan()
	bl := NewBlacklist(plan, []BlacklistEntry{
		{Number: "+86 138 0013 8000", Direction: DirInbound, Description: "骚扰电话"},
		{Number: "010-12345678", Direction: DirOutbound, Description: "客户要求不再来电"},
		{Number: "13900139000", Direction: DirBoth, Description: "both ways"},
		{Number: "13900139000", Direction: DirInbound, Description: "inbound, more precise"},
		{Number: "95555", Direction: DirOutbound},
		{Number: "0012125551234", Direction: DirBoth},
		{Number: "not a number", Direction: DirBoth},
	})
	if bl.Len() != 6 { // the non-number is left out
		t.Errorf("Len = %d", bl.Len())
	}
	tests := []struct {
		number string
		dir    Direction
		want   bool
		desc   string
	}{
		{"13800138000", DirInbound, true, "骚扰电话"},
		{"013800138000", DirInbound, true, "骚扰电话"},
		{"008613800138000", DirInbound, true, "骚扰电话"},
		{"8613800138000", DirInbound, true, "骚扰电话"},
		{"13800138000", DirOutbound, false, ""},
		{"+861012345678", DirOutbound, true, "客户要求不再来电"},
		{"(010)1234-5678", DirOutbound, true, "客户要求不再来电"},
		{"01012345678", DirInbound, false, ""},
		{"13900139000", DirOutbound, true, "both ways"},
		{"+8613900139000", DirInbound, true, "inbound, more precise"},
		{"95555", DirOutbound, true, ""},
		{"+86 95555", DirOutbound, true, ""},
		{"+1 212 555 1234", DirInbound, true, ""},
		{"13700137000", DirInbound, false, ""},
		{"13700137000", DirOutbound, false, ""},
		{"13800138000", DirUnknown, false, ""},
		{"13800138000", DirBoth, true, "骚扰电话"},
	}
	for _, tt := range tests {
		n, err := plan.Normalize(tt.number)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := bl.Blocked(n, tt.dir)
		if ok != tt.want || e.Description != tt.desc {
			t.Errorf("Blocked(%q, %s) = %+v %v, want %v %q", tt.number, tt.dir, e, ok, tt.want, tt.desc)
		}
	}
	var empty *Blacklist
	if _, ok := empty.Blocked(Number{National: "110"}, DirBoth); ok || empty.Len() != 0 {
		t.Error("nil blacklist blocks")
	}
}

func TestBlacklistAreaCodeLocal(t *testing.T) {
	// With the box's area code set, a local caller delivered without it is
	// caught by an entry written with it.
	plan := DefaultNumberPlan()
	plan.AreaCode = "0755"
	bl := NewBlacklist(plan, []BlacklistEntry{{Number: "0755-87654321", Direction: DirInbound}})
	n, _ := plan.Normalize("87654321")
	if _, ok := bl.Blocked(n, DirInbound); !ok {
		t.Errorf("local caller %+v not blocked", n)
	}
}

func TestDirection(t *testing.T) {
	for in, want := range map[string]Direction{
		"inbound": DirInbound, "OUTBOUND": DirOutbound, " both ": DirBoth,
		"呼入": DirInbound, "呼出": DirOutbound, "双向": DirBoth,
	} {
		d, err := ParseDirection(in)
		if err != nil || d != want {
			t.Errorf("ParseDirection(%q) = %v %v", in, d, err)
		}
	}
	for _, in := range []string{"", "in", "unknown", "inbound,outbound"} {
		if _, err := ParseDirection(in); !errors.Is(err, ErrBadDirection) {
			t.Errorf("ParseDirection(%q) = %v", in, err)
		}
	}
	for d, s := range map[Direction]string{DirUnknown: "unknown", DirInbound: "inbound", DirOutbound: "outbound", DirBoth: "both", 9: "unknown"} {
		if d.String() != s {
			t.Errorf("%d.String() = %q", d, d.String())
		}
	}
	var e struct{ D Direction }
	if err := json.Unmarshal([]byte(`{"D":"outbound"}`), &e); err != nil || e.D != DirOutbound {
		t.Errorf("json: %v %v", e, err)
	}
	if b, _ := json.Marshal(e); string(b) != `{"D":"outbound"}` {
		t.Errorf("json out %s", b)
	}
	if err := json.Unmarshal([]byte(`{"D":"sideways"}`), &e); !errors.Is(err, ErrBadDirection) {
		t.Errorf("bad json direction: %v", err)
	}
}

func TestCheckBlacklistEntry(t *testing.T) {
	plan := DefaultNumberPlan()
	tests := []struct {
		name  string
		e     BlacklistEntry
		field string
	}{
		{"good", BlacklistEntry{"13800138000", DirBoth, "骚扰"}, ""},
		{"20 chars", BlacklistEntry{"+86 138-0013-8000 00", DirInbound, ""}, ""},
		{"50 chinese chars", BlacklistEntry{"110", DirOutbound, strings.Repeat("骚", 50)}, ""},
		{"empty number", BlacklistEntry{"", DirBoth, ""}, "number"},
		{"21 chars", BlacklistEntry{"+86 138-0013-8000 000", DirBoth, ""}, "number"},
		{"letters", BlacklistEntry{"abc", DirBoth, ""}, "number"},
		{"no direction", BlacklistEntry{"13800138000", DirUnknown, ""}, "direction"},
		{"bad direction", BlacklistEntry{"13800138000", 7, ""}, "direction"},
		{"51 chars", BlacklistEntry{"13800138000", DirBoth, strings.Repeat("骚", 51)}, "description"},
		{"control", BlacklistEntry{"13800138000", DirBoth, "a\nb"}, "description"},
		{"bad utf-8", BlacklistEntry{"13800138000", DirBoth, "\xff"}, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBlacklistEntry(plan, tt.e)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrInvalid) {
				t.Errorf("err %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
}

// Built tables are read by every call at once.
func TestConcurrentReads(t *testing.T) {
	plan := DefaultNumberPlan()
	bl := NewBlacklist(plan, []BlacklistEntry{{Number: "13800138000", Direction: DirBoth}})
	tab, err := NewRegionTable([]RegionRow{{"1380013", "北京", "北京"}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := plan.Normalize("13800138000")
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 1000 {
				_, blocked := bl.Blocked(n, DirInbound)
				_, found := tab.Lookup(n)
				ok = ok && blocked && found
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("a concurrent read missed")
		}
	}
}
