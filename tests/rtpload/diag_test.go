package main

import (
	"slices"
	"testing"
)

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(m *media)
		wantLegs   []int // the problem legs, in order
		wantShared int
	}{
		{"two calls, each leg heard by its partner", func(m *media) {
			for i := range 4 {
				_ = m.activate(i, "127.0.0.1", 10000+2*i)
			}
			m.legs[0].firstFrom, m.legs[2].firstFrom = 3, 1
			m.legs[1].firstFrom, m.legs[3].firstFrom = 4, 2
			m.legs[0].got, m.legs[1].got, m.legs[2].got, m.legs[3].got = 5, 5, 5, 5
		}, nil, 0},
		{"two caller legs sent to one box port", func(m *media) {
			_ = m.activate(0, "127.0.0.1", 10000)
			_ = m.activate(1, "127.0.0.1", 10000)
			_ = m.activate(2, "127.0.0.1", 10004)
			_ = m.activate(3, "127.0.0.1", 10006)
			m.legs[0].firstFrom, m.legs[0].crossed, m.legs[0].got = 3, true, 9
			m.legs[3].firstFrom, m.legs[3].got = 1, 5
		}, []int{0, 1, 2, 3}, 1}, // 3 is heard by no one: its stream went to leg 0 after 2's
		{"a callee leg never activated, a caller leg that cannot send", func(m *media) {
			_ = m.activate(0, "127.0.0.1", 10000)
			_ = m.activate(1, "127.0.0.1", 10002)
			_ = m.activate(2, "127.0.0.1", 10004)
			m.legs[0].sendErr = 3
			m.legs[0].firstFrom, m.legs[2].firstFrom, m.legs[1].firstFrom = 3, 1, 1
			m.legs[0].got, m.legs[1].got, m.legs[2].got = 5, 5, 5
		}, []int{0, 1, 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newMedia(4, "127.0.0.2", "127.0.0.3")
			if err != nil {
				t.Fatal(err)
			}
			defer m.close()
			c := &calleeSide{m: m}
			c.next.Store(4) // both callee legs handed out
			tt.setup(m)
			d := diagnose(m, c, 2)
			var legs []int
			for _, l := range d.Legs {
				legs = append(legs, l.Leg)
			}
			if !slices.Equal(legs, tt.wantLegs) || d.ProblemLegs != len(tt.wantLegs) || len(d.SharedBoxPorts) != tt.wantShared {
				t.Errorf("diagnosis %+v; want legs %v, %d shared ports", d, tt.wantLegs, tt.wantShared)
			}
		})
	}
}
