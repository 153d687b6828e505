package call

import (
	"context"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/event"
)

func TestDeviceStates(t *testing.T) {
	bus := event.NewBus(nil)
	sub := bus.Subscribe(100)
	d := NewDevices(bus)
	dev := Device{DeviceSIP, "1002"}
	if got := d.State(dev); got != DeviceUnavailable {
		t.Fatalf("unknown device: %v", got)
	}
	d.SetReachability(dev, 1, 1)
	d.SetReachability(dev, 1, 1) // no change, no event
	d.ringing(dev, 1)
	d.inUse(dev, 1)
	d.ringing(dev, -1)
	d.inUse(dev, -1)
	d.SetReachability(dev, 1, 0)
	var states []string
	for len(sub.C()) > 0 {
		e := <-sub.C()
		if e.Type != EventDeviceStateChanged || e.Subject != "device:sip:1002" {
			t.Fatalf("event %+v", e)
		}
		states = append(states, e.Data.(DeviceView).State)
	}
	want := []string{"idle", "ringing", "in_use", "idle", "unavailable"}
	if len(states) != len(want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("states %v, want %v", states, want)
		}
	}
}

// TestCallDrivesDeviceStates: the callee rings, then is in use with the
// caller, and both are idle again after the call.
func TestCallDrivesDeviceStates(t *testing.T) {
	out := newLeg("out", Device{DeviceSIP, "1002"})
	r := newRig(t, out)
	devs := NewDevices(nil)
	r.m.opts.Devices = devs
	caller, callee := Device{DeviceSIP, "1001"}, Device{DeviceSIP, "1002"}
	devs.SetReachability(caller, 1, 1)
	devs.SetReachability(callee, 1, 1)
	in := newLeg("in", caller)
	r.m.Incoming(in, Party{Number: "1001"}, "1002", 0)
	waitState(t, devs, callee, DeviceRinging)
	if got := devs.State(caller); got != DeviceInUse {
		t.Fatalf("caller while dialing: %v", got)
	}
	out.events <- EventAnswered
	waitState(t, devs, callee, DeviceInUse)
	in.Hangup(CauseNormal)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []Device{caller, callee} {
		if got := devs.State(d); got != DeviceIdle {
			t.Fatalf("%v after the call: %v", d, got)
		}
	}
}

func waitState(t *testing.T, d *Devices, dev Device, want DeviceState) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.State(dev) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%v is %v, want %v", dev, d.State(dev), want)
		}
		time.Sleep(time.Millisecond) // polling the owner goroutine's effect, bounded
	}
}
