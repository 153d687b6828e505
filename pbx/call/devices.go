package call

import (
	"sync"

	"github.com/ccbox/ccbox/pbx/event"
)

// EventDeviceStateChanged is published when a device's state or its
// contacts change (docs/events.md).
const EventDeviceStateChanged = "device.state_changed"

// DeviceView is a device as events and the API show it.
type DeviceView struct {
	Kind  DeviceKind `json:"kind"`
	ID    string     `json:"id"`
	State string     `json:"state"` // unavailable, idle, ringing, in_use
	// Contacts is how many contacts are registered; Available how many of
	// them can be rung (answer OPTIONS).
	Contacts  int `json:"contacts"`
	Available int `json:"available"`
}

// Devices is the one place that knows every device's state: reachability
// from the signalling (a SIP extension's registered contacts), ringing and
// in use from the calls. Queues, pickup and busy lamps read it.
type Devices struct {
	bus *event.Bus

	mu sync.Mutex
	m  map[Device]*deviceEntry
}

type deviceEntry struct {
	contacts, available int
	ringing, inUse      int
	last                DeviceView
}

// NewDevices returns an empty tracker publishing on bus (nil: no events).
func NewDevices(bus *event.Bus) *Devices {
	return &Devices{bus: bus, m: make(map[Device]*deviceEntry)}
}

// SetReachability records how many contacts a device has and how many of
// them can be rung.
func (d *Devices) SetReachability(dev Device, contacts, available int) {
	d.update(dev, func(e *deviceEntry) { e.contacts, e.available = contacts, available })
}

// State returns a device's current state.
func (d *Devices) State(dev Device) DeviceState {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.m[dev]
	if e == nil {
		return DeviceUnavailable
	}
	return e.state()
}

// View returns a device as the API shows it.
func (d *Devices) View(dev Device) DeviceView {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.m[dev]; e != nil {
		return e.view(dev)
	}
	return DeviceView{Kind: dev.Kind, ID: dev.ID, State: DeviceUnavailable.String()}
}

func (d *Devices) ringing(dev Device, delta int) {
	d.update(dev, func(e *deviceEntry) { e.ringing += delta })
}

func (d *Devices) inUse(dev Device, delta int) {
	d.update(dev, func(e *deviceEntry) { e.inUse += delta })
}

func (e *deviceEntry) state() DeviceState {
	switch {
	case e.inUse > 0:
		return DeviceInUse
	case e.ringing > 0:
		return DeviceRinging
	case e.available > 0:
		return DeviceIdle
	}
	return DeviceUnavailable
}

func (e *deviceEntry) view(dev Device) DeviceView {
	return DeviceView{Kind: dev.Kind, ID: dev.ID, State: e.state().String(), Contacts: e.contacts, Available: e.available}
}

// update changes one device and publishes its new view if it changed.
// Publishing under the lock keeps events in the order of the changes.
func (d *Devices) update(dev Device, f func(*deviceEntry)) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.m[dev]
	if e == nil {
		e = &deviceEntry{}
		d.m[dev] = e
	}
	f(e)
	v := e.view(dev)
	if v == e.last {
		return
	}
	e.last = v
	if d.bus != nil {
		d.bus.Publish(EventDeviceStateChanged, "device:"+dev.String(), v)
	}
}
