package rtp

import (
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
)

// BenchmarkAllocateClose is a call leg's endpoint setup and teardown, the
// pool's share of a call's cost. "busy" keeps another endpoint open on
// every loop, as a box with calls up does (the loops keep running); "idle"
// has none, so each cycle starts and ends a loop. The clock moves 1 ms per
// cycle, 1,000 legs a second, so released pairs age as on a busy box.
func BenchmarkAllocateClose(b *testing.B) {
	for _, busy := range []bool{true, false} {
		name := "idle"
		if busy {
			name = "busy"
		}
		b.Run(name, func(b *testing.B) {
			clock := newFakeClock()
			pool, _ := newTestPool(b, func(c *PoolConfig) {
				c.Ports = config.PortRange{First: 44000, Last: 45999}
				c.Now = clock.Now
			})
			if busy {
				for range pool.cfg.Loops {
					allocate(b, pool)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e, err := pool.Allocate()
				if err != nil {
					b.Fatal(err)
				}
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
				clock.Advance(time.Millisecond)
			}
		})
	}
}
