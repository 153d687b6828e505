package webui

import (
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// DeviceView is a device as GET /api/v1/devices shows it, the same shape
// as the call layer's device events (Options.Device supplies it).
type DeviceView struct {
	// Kind is sip (an extension's registered phones), seat or pstn.
	Kind string `json:"kind"`
	// ID is the device's key within its kind: the extension's number.
	ID string `json:"id"`
	// State is unavailable, idle, ringing or in_use.
	State string `json:"state"`
	// Contacts is how many contacts are registered; Available how many of
	// them answer OPTIONS and can be rung.
	Contacts  int `json:"contacts"`
	Available int `json:"available"`
}

// listDevices answers GET /api/v1/devices: the SIP device of every
// extension, unregistered ones included (as unavailable).
func (s *Server) listDevices(c *fiber.Ctx) error {
	var exts []store.Extension
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		exts, err = tx.Extensions()
		return err
	})
	if err != nil {
		return err
	}
	out := make([]DeviceView, 0, len(exts))
	for _, e := range exts {
		out = append(out, s.device(e.Number))
	}
	return c.JSON(fiber.Map{"devices": out})
}

// device is extension ext's SIP device: from Options.Device when the call
// layer is wired in, else counted from the registrations (and the state
// from Options.DeviceState when set).
func (s *Server) device(ext string) DeviceView {
	if s.opts.Device != nil {
		return s.opts.Device(ext)
	}
	v := DeviceView{Kind: "sip", ID: ext, State: "unavailable"}
	if s.opts.Registrations != nil {
		for _, ct := range s.opts.Registrations(ext) {
			v.Contacts++
			if ct.Available {
				v.Available++
			}
		}
	}
	if v.Available > 0 {
		v.State = "idle"
	}
	if s.opts.DeviceState != nil {
		v.State = s.opts.DeviceState(ext)
	}
	return v
}
