package dialplan

import "testing"

func BenchmarkNormalize(b *testing.B) {
	plan := DefaultNumberPlan()
	for _, in := range []string{"+86 138 0013 8000", "0755-12345678", "95555", "0012125551234"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := plan.Normalize(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBlacklistBlocked(b *testing.B) {
	plan := DefaultNumberPlan()
	entries := make([]BlacklistEntry, 0, 10000)
	for i := range 10000 {
		entries = append(entries, BlacklistEntry{Number: "1380013" + string(rune('0'+i/1000%10)) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)), Direction: DirBoth})
	}
	bl := NewBlacklist(plan, entries)
	n, _ := plan.Normalize("+8613900139000")
	b.ReportAllocs()
	for b.Loop() {
		bl.Blocked(n, DirInbound)
	}
}
