package webui

import (
	"errors"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// RegisteredContact is one registered SIP contact of an extension, as the
// SIP front reports it (Options.Registrations).
type RegisteredContact struct {
	// Contact is the URI the phone registered.
	Contact string `json:"contact"`
	// Source is the host:port its REGISTER came from, where requests go.
	Source string `json:"source"`
	// Transport is udp, tcp or tls.
	Transport string `json:"transport"`
	// Expires is when the registration lapses unless refreshed.
	Expires time.Time `json:"expires"`
	// UserAgent is the phone's User-Agent header.
	UserAgent string `json:"user_agent"`
	// Available is false while the contact does not answer OPTIONS.
	Available bool `json:"available"`
}

// extensionRegistrations is one extension in GET /api/v1/registrations.
type extensionRegistrations struct {
	Extension string `json:"extension"`
	// State is the extension's device state: unavailable, idle, ringing
	// or in_use (from Options.DeviceState; without it, idle with at least
	// one available contact, else unavailable).
	State    string              `json:"state"`
	Contacts []RegisteredContact `json:"contacts"`
}

// listRegistrations answers GET /api/v1/registrations: every extension with
// its registered contacts (none for an unregistered one), and the digest
// realm phones must use.
func (s *Server) listRegistrations(c *fiber.Ctx) error {
	var (
		exts  []store.Extension
		realm string
	)
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		if realm, err = tx.Realm(); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		exts, err = tx.Extensions()
		return err
	})
	if err != nil {
		return err
	}
	out := make([]extensionRegistrations, 0, len(exts))
	for _, e := range exts {
		r := extensionRegistrations{Extension: e.Number, State: "unavailable", Contacts: []RegisteredContact{}}
		if s.opts.Registrations != nil {
			r.Contacts = append(r.Contacts, s.opts.Registrations(e.Number)...)
		}
		for _, ct := range r.Contacts {
			if ct.Available {
				r.State = "idle"
				break
			}
		}
		if s.opts.DeviceState != nil {
			r.State = s.opts.DeviceState(e.Number)
		}
		out = append(out, r)
	}
	return c.JSON(fiber.Map{"realm": realm, "registrations": out})
}
