package main

import (
	"net/netip"
	"strconv"
)

// maxDiagLegs bounds how many legs a diagnosis lists.
const maxDiagLegs = 20

// legDiag is one leg that did not carry audio both ways.
type legDiag struct {
	Leg         int     `json:"leg"`
	Side        string  `json:"side"` // caller or callee
	CallID      string  `json:"call_id,omitempty"`
	Box         string  `json:"box,omitempty"` // where it sends: the box's port for it
	Active      bool    `json:"active"`
	Activations int32   `json:"activations"`
	StoppedS    float64 `json:"stopped_s,omitempty"` // when a BYE stopped it, s after start
	SendErrors  uint64  `json:"send_errors,omitempty"`
	Got         uint64  `json:"got"`
	FirstFrom   int     `json:"first_from"` // the leg it heard first; -1: none
	Crossed     bool    `json:"crossed,omitempty"`
	HeardBy     []int   `json:"heard_by,omitempty"` // legs that heard this one
}

// diagnosis says why legs went without audio: what the box sent the
// callee side, and each leg that was never activated, stopped before the
// window ended, could not send, heard nothing or heard two streams.
type diagnosis struct {
	CalleeInvites  int64     `json:"callee_invites"`
	CalleeRetrans  int64     `json:"callee_retransmissions"`
	CalleeRefused  int64     `json:"callee_refused"`
	RefusedWhy     []string  `json:"refused_why,omitempty"`
	CalleeByes     int64     `json:"callee_byes"`
	StrayByes      int64     `json:"stray_byes"`
	CalleeCancels  int64     `json:"callee_cancels"`
	CalleeLegsUsed int       `json:"callee_legs_used"`
	SendErrors     uint64    `json:"send_errors"`                // over every leg, the whole run
	SharedBoxPorts []string  `json:"shared_box_ports,omitempty"` // box addresses more than one leg sends to
	ProblemLegs    int       `json:"problem_legs"`
	Legs           []legDiag `json:"legs,omitempty"` // the first maxDiagLegs of them
}

// diagnose inspects every leg; call it after the media loops have stopped
// and before the hang-ups.
func diagnose(m *media, c *calleeSide, established int) diagnosis {
	c.mu.Lock()
	d := diagnosis{CalleeInvites: c.invites.Load(), CalleeRetrans: c.retrans.Load(), CalleeRefused: c.bad.Load(),
		RefusedWhy: append([]string(nil), c.badReasons...), CalleeByes: c.byes.Load(),
		StrayByes: c.strayByes.Load(), CalleeCancels: c.cancels.Load()}
	c.mu.Unlock()
	half := len(m.legs) / 2
	d.CalleeLegsUsed = int(c.next.Load()) - half
	heardBy := map[int][]int{}
	boxes := map[string][]int{}
	for i, l := range m.legs {
		d.SendErrors += l.sendErr
		if l.firstFrom > 0 {
			src := int(l.firstFrom - 1)
			heardBy[src] = append(heardBy[src], i)
		}
		if l.activations.Load() > 0 {
			a := netip.AddrPortFrom(netip.AddrFrom4(l.peer.Addr), uint16(l.peer.Port)).String()
			boxes[a] = append(boxes[a], i)
		}
	}
	for a, ls := range boxes {
		if len(ls) > 1 {
			d.SharedBoxPorts = append(d.SharedBoxPorts, a+" ← legs "+joinInts(ls))
		}
	}
	end := m.winEnd.Load()
	for i, l := range m.legs {
		used := i < established || (i >= half && i < half+d.CalleeLegsUsed)
		acts := l.activations.Load()
		stopped := l.stoppedAt.Load()
		problem := (used && acts != 1) || (l.active.Load() && l.got == 0) || l.crossed || l.sendErr > 0 ||
			(stopped != 0 && stopped < end) || (acts > 0 && len(heardBy[i]) != 1)
		if !problem {
			continue
		}
		d.ProblemLegs++
		if len(d.Legs) >= maxDiagLegs {
			continue
		}
		ld := legDiag{Leg: i, Side: "caller", CallID: l.callID, Active: l.active.Load(), Activations: acts,
			SendErrors: l.sendErr, Got: l.got, FirstFrom: int(l.firstFrom) - 1, Crossed: l.crossed, HeardBy: heardBy[i]}
		if i >= half {
			ld.Side = "callee"
		}
		if acts > 0 {
			ld.Box = netip.AddrPortFrom(netip.AddrFrom4(l.peer.Addr), uint16(l.peer.Port)).String()
		}
		if stopped != 0 {
			ld.StoppedS = float64(stopped) / 1e9
		}
		d.Legs = append(d.Legs, ld)
	}
	return d
}

func joinInts(v []int) string {
	var b []byte
	for k, n := range v {
		if k > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}
