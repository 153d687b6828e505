package dialplan

import (
	"errors"
	"testing"
)

func TestPickCaller(t *testing.T) {
	bj1 := CallerNumber{Number: "01088880001", Region: Region{"北京", "北京"}}
	bj2 := CallerNumber{Number: "01088880002", Region: Region{"北京", "北京"}, MaxCalls: 2}
	gz := CallerNumber{Number: "02088880001", Region: Region{"广东", "广州"}}
	sz := CallerNumber{Number: "075588880001", Region: Region{"广东", "深圳"}, MaxCalls: 1}
	xj := CallerNumber{Number: "099188880001", Region: Region{"新疆", "乌鲁木齐"}}
	untagged := CallerNumber{Number: "4008123456"}
	pool := []CallerNumber{bj1, bj2, gz, sz, xj, untagged}

	first := func(int) int { return 0 }
	last := func(n int) int { return n - 1 }
	busy := func(busyNumbers ...string) func(string) int {
		return func(n string) int {
			for _, b := range busyNumbers {
				if b == n {
					return 5
				}
			}
			return 0
		}
	}
	tests := []struct {
		name   string
		pool   []CallerNumber
		callee Region
		known  bool
		active func(string) int
		rnd    func(int) int
		want   string
		err    error
	}{
		{"same city", pool, Region{"广东", "深圳"}, true, nil, first, sz.Number, nil},
		{"same city, random among equals (first)", pool, Region{"北京", "北京"}, true, nil, first, bj1.Number, nil},
		{"same city, random among equals (last)", pool, Region{"北京", "北京"}, true, nil, last, bj2.Number, nil},
		{"city at limit: province", pool, Region{"广东", "深圳"}, true, busy(sz.Number), first, gz.Number, nil},
		{"province only", pool, Region{"广东", "东莞"}, true, nil, last, sz.Number, nil},
		{"province, limit skips", pool, Region{"广东", "东莞"}, true, busy(sz.Number), last, gz.Number, nil},
		{"nothing close: any", pool, Region{"上海", "上海"}, true, nil, last, untagged.Number, nil},
		{"nothing close: any (first)", pool, Region{"上海", "上海"}, true, nil, first, bj1.Number, nil},
		{"unknown callee: any", pool, Region{"广东", "深圳"}, false, nil, first, bj1.Number, nil},
		{"limits without a limit are ignored", []CallerNumber{bj1}, Region{"北京", "北京"}, true, busy(bj1.Number), first, bj1.Number, nil},
		{"every number at its limit", []CallerNumber{bj2, sz}, Region{"北京", "北京"}, true, busy(bj2.Number, sz.Number), first, "", ErrNoCallerNumber},
		{"empty pool", nil, Region{"北京", "北京"}, true, nil, first, "", ErrNoCallerNumber},
		{"rnd out of range is clamped", pool, Region{"北京", "北京"}, true, nil, func(int) int { return 99 }, bj1.Number, nil},
		{"same city name, other province", []CallerNumber{gz, {Number: "x", Region: Region{"辽宁", "朝阳"}}}, Region{"北京", "朝阳"}, true, nil, first, gz.Number, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PickCaller(tt.pool, tt.callee, tt.known, tt.active, tt.rnd)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if got.Number != tt.want {
				t.Errorf("PickCaller = %q, want %q", got.Number, tt.want)
			}
		})
	}
}

func TestPickCallerLimitExact(t *testing.T) {
	c := CallerNumber{Number: "01088880001", Region: Region{"北京", "北京"}, MaxCalls: 2}
	for active, ok := range map[int]bool{0: true, 1: true, 2: false, 3: false} {
		_, err := PickCaller([]CallerNumber{c}, Region{}, false, func(string) int { return active }, nil)
		if (err == nil) != ok {
			t.Errorf("active %d of 2: err %v", active, err)
		}
	}
}

func TestPickCallerSpreads(t *testing.T) {
	pool := []CallerNumber{
		{Number: "a", Region: Region{"北京", "北京"}},
		{Number: "b", Region: Region{"北京", "北京"}},
		{Number: "c", Region: Region{"北京", "北京"}},
		{Number: "far", Region: Region{"新疆", "乌鲁木齐"}},
	}
	seen := map[string]int{}
	i := 0
	rnd := func(n int) int { i++; return i % n } // deterministic round robin
	for range 30 {
		c, err := PickCaller(pool, Region{"北京", "北京"}, true, nil, rnd)
		if err != nil {
			t.Fatal(err)
		}
		seen[c.Number]++
	}
	if seen["a"] != 10 || seen["b"] != 10 || seen["c"] != 10 || seen["far"] != 0 {
		t.Errorf("spread %v", seen)
	}
	// The default random source stays within the closest numbers.
	for range 50 {
		c, err := PickCaller(pool, Region{"北京", "北京"}, true, nil, nil)
		if err != nil || c.Number == "far" {
			t.Fatalf("default rnd: %v %v", c, err)
		}
	}
}

func TestPickCallerDoesNotAllocate(t *testing.T) {
	pool := []CallerNumber{{Number: "a", Region: Region{"北京", "北京"}}, {Number: "b", Region: Region{"广东", "广州"}}}
	rnd := func(int) int { return 0 }
	if a := testing.AllocsPerRun(100, func() { _, _ = PickCaller(pool, Region{"广东", "深圳"}, true, nil, rnd) }); a != 0 {
		t.Errorf("PickCaller allocates %v times", a)
	}
}

func TestFillRegions(t *testing.T) {
	tab, err := NewRegionTable([]RegionRow{{"010", "北京", "北京"}, {"1380013", "北京", "北京"}, {"0755", "广东", "深圳"}})
	if err != nil {
		t.Fatal(err)
	}
	pool := []CallerNumber{
		{Number: "010-88880001"},
		{Number: "+8613800130000"},
		{Number: "075588880001", Region: Region{"广东", "广州"}}, // tagged by hand: kept
		{Number: "02188880001"},                              // unknown prefix: stays untagged
		{Number: "bad"},
	}
	out := tab.FillRegions(DefaultNumberPlan(), pool)
	want := []Region{{"北京", "北京"}, {"北京", "北京"}, {"广东", "广州"}, {}, {}}
	for i, w := range want {
		if out[i].Region != w {
			t.Errorf("%s: region %v, want %v", out[i].Number, out[i].Region, w)
		}
	}
	if pool[0].Region != (Region{}) {
		t.Error("FillRegions changed its input")
	}
}
