package call

import (
	"slices"
	"testing"
)

// Outside numbers go through the Directory with the origin the call is
// charged to: the caller's extension; the forwarding extension for a
// forward; the transferor for a transfer; the trunk for a carrier's call.
func TestOutsideNumbersAndOrigins(t *testing.T) {
	const mobile = "013800138000"
	t.Run("an extension dials out through the route's trunks with its caller number", func(t *testing.T) {
		r := newFRig(t)
		in := r.call("1001", mobile)
		out := r.dialer.next(t, mobile)
		r.dialer.mu.Lock()
		tg, from := r.dialer.targets[mobile], r.dialer.froms[mobile]
		r.dialer.mu.Unlock()
		if tg.Device.Kind != DevicePSTN || !slices.Equal(tg.Trunks, []string{"t1", "t2"}) || from.Number != "01088880000" {
			t.Fatalf("dialed %+v from %+v", tg, from)
		}
		if got := r.feat.lookups(); got[0] != (lookup{mobile, Origin{Extension: "1001"}}) {
			t.Fatalf("lookups %+v", got)
		}
		out.events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
		if c := r.records.cdrs[0]; c.Result != "answered" || c.Legs[1].Device != "pstn:"+mobile {
			t.Fatalf("CDR %+v", c)
		}
		if n := r.feat.outstanding(); n != 0 {
			t.Fatalf("%d outside targets not given back after the call", n)
		}
	})
	t.Run("a target that was never answered is given back", func(t *testing.T) {
		r := newFRig(t)
		in := r.call("1001", mobile)
		out := r.dialer.next(t, mobile)
		if n := r.feat.outstanding(); n != 1 {
			t.Fatalf("%d outside targets out while ringing, want 1", n)
		}
		out.Hangup(CauseBusy)
		waitDone(t, in)
		r.wait(t)
		if n := r.feat.outstanding(); n != 0 {
			t.Fatalf("%d outside targets not given back after a busy", n)
		}
	})
	t.Run("a refused number ends the call blocked", func(t *testing.T) {
		r := newFRig(t)
		in := r.call("1005", mobile)
		waitDone(t, in)
		if in.Cause() != CauseBlocked {
			t.Fatalf("cause %v", in.Cause())
		}
		r.wait(t)
		if c := r.records.cdrs[0]; c.Result != "blocked" || c.Cause != "blocked" {
			t.Fatalf("CDR %+v", c)
		}
		if in.refused != "not_allowed" {
			t.Fatalf("the caller was told %q, want not_allowed", in.refused)
		}
	})
	t.Run("a forward out is charged to the forwarding extension", func(t *testing.T) {
		r := newFRig(t)
		r.setTarget("1002", func(t *Target) { t.Forward.Always = mobile })
		in := r.call("1005", "1002") // 1005 may not dial out itself
		r.dialer.next(t, mobile).events <- EventAnswered
		waitAnswered(t, in)
		in.Hangup(CauseNormal)
		r.wait(t)
		want := []lookup{{"1002", Origin{Extension: "1005"}}, {mobile, Origin{Extension: "1002"}}}
		if got := r.feat.lookups(); !slices.Equal(got, want) {
			t.Fatalf("lookups %+v, want %+v", got, want)
		}
	})
	t.Run("a carrier's call reaches extensions but never an outside number", func(t *testing.T) {
		r := newFRig(t)
		in := newLeg("trunk-in", Device{DevicePSTN, "01099990000"})
		r.m.IncomingFromTrunk(in, Party{Number: "01099990000"}, mobile, "carrier")
		waitDone(t, in)
		if in.Cause() != CauseBlocked {
			t.Fatalf("a trunk call to an outside number: cause %v", in.Cause())
		}
		in2 := newLeg("trunk-in-2", Device{DevicePSTN, "01099990000"})
		r.m.IncomingFromTrunk(in2, Party{Number: "01099990000"}, "1002", "carrier")
		r.dialer.next(t, "1002").events <- EventAnswered
		waitAnswered(t, in2)
		in2.Hangup(CauseNormal)
		r.wait(t)
		got := r.feat.lookups()
		if got[0].origin != (Origin{Trunk: "carrier"}) || got[1].origin != (Origin{Trunk: "carrier"}) {
			t.Fatalf("lookups %+v", got)
		}
	})
	t.Run("a blind transfer out is charged to the transferor", func(t *testing.T) {
		r := newFRig(t)
		in, out := r.connected(t) // 1001 → 1002
		out.sig <- Signal{Kind: SignalTransfer, Transfer: &Transfer{Target: mobile}}
		target := r.dialer.next(t, mobile)
		target.events <- EventAnswered
		waitFor(t, "transferor hung up", func() bool {
			select {
			case <-out.Done():
				return true
			default:
				return false
			}
		})
		in.Hangup(CauseNormal)
		r.wait(t)
		got := r.feat.lookups()
		if last := got[len(got)-1]; last != (lookup{mobile, Origin{Extension: "1002"}}) {
			t.Fatalf("lookups %+v", got)
		}
	})
}
