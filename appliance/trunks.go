package main

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/ccbox/ccbox/pbx/sip"
	"github.com/ccbox/ccbox/webui"
)

// Trunks' wiring: the store's trunks (secrets opened with the data
// directory's key) become sip.TrunkConfigs, set again whenever an admin
// changes one; status changes are published as trunk.state_changed.

// trunkConfigs reads the enabled trunks. A trunk whose secret cannot be
// opened (the key file lost) is left out and logged: it cannot
// authenticate anyway.
func trunkConfigs(db *store.DB, log *slog.Logger) ([]sip.TrunkConfig, error) {
	var trunks []store.Trunk
	if err := db.View(func(tx *store.Tx) (err error) {
		trunks, err = tx.Trunks()
		return err
	}); err != nil {
		return nil, err
	}
	var out []sip.TrunkConfig
	for _, t := range trunks {
		if t.Disabled {
			continue
		}
		c, err := trunkConfig(db, t)
		if err != nil {
			log.Error("trunk left out", "trunk", t.Name, "err", err)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// trunkConfig converts one stored trunk (validated when stored).
func trunkConfig(db *store.DB, t store.Trunk) (sip.TrunkConfig, error) {
	c := sip.TrunkConfig{
		Name: t.Name, Host: t.Host, Port: t.SIPPort(),
		Username: t.Username, AuthUsername: t.AuthUsername, Realm: t.Realm, FromDomain: t.FromDomain,
		Expires: t.RegisterExpiry(), OptionsInterval: t.OptionsEvery(), MaxCalls: t.MaxCalls,
		CallsPerMinute: t.CallsPerMinute,
	}
	var err error
	if c.Kind, err = sip.ParseTrunkKind(string(t.Kind)); err != nil {
		return c, err
	}
	if c.Transport, err = sip.ParseTransport(t.SIPTransport()); err != nil {
		return c, err
	}
	if c.CalledFrom, err = sip.ParseCalledSource(t.CalledFrom); err != nil {
		return c, err
	}
	if c.CallerFrom, err = sip.ParseCallerSource(t.CallerFrom); err != nil {
		return c, err
	}
	if t.HasSecret() {
		if c.Secret, err = db.TrunkSecret(t); err != nil {
			return c, err
		}
	}
	for _, a := range t.Addresses {
		p, err := parsePrefix(a)
		if err != nil {
			return c, err
		}
		c.Addresses = append(c.Addresses, p)
	}
	for _, name := range t.CodecPreference() {
		if cd := codec.FromName(name, codec.ClockRate); cd != codec.Unknown {
			c.Codecs = append(c.Codecs, cd)
		}
	}
	c.DTMFMode, _ = call.ParseDTMFMode(t.DTMFMode)
	return c, nil
}

// parsePrefix reads an address or a network (a bare address is itself).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// trunkStatusView is a trunk's status as events and the API show it.
type trunkStatusView struct {
	Name            string `json:"name"`
	Kind            string `json:"kind"`
	Up              bool   `json:"up"`
	Registered      bool   `json:"registered"`
	RegisteredUntil string `json:"registered_until,omitempty"`
	LastError       string `json:"last_error,omitempty"`
	CallsActive     int    `json:"calls_active"`
	LastChange      string `json:"last_change,omitempty"`
}

func newTrunkStatusView(s sip.TrunkStatus) trunkStatusView {
	v := trunkStatusView{Name: s.Name, Kind: s.Kind.String(), Up: s.Up, Registered: s.Registered,
		LastError: s.LastError, CallsActive: s.CallsActive}
	if !s.RegisteredUntil.IsZero() {
		v.RegisteredUntil = s.RegisteredUntil.UTC().Format("2006-01-02T15:04:05Z")
	}
	if !s.LastChange.IsZero() {
		v.LastChange = s.LastChange.UTC().Format("2006-01-02T15:04:05Z")
	}
	return v
}

// followTrunks sets the trunks from the store now and after every change
// an admin makes; the returned func stops following.
func followTrunks(trunks *sip.Trunks, db *store.DB, bus *event.Bus, log *slog.Logger) func() {
	load := func() {
		cfgs, err := trunkConfigs(db, log)
		if err != nil {
			log.Error("load trunks", "err", err)
			return
		}
		trunks.Set(cfgs)
	}
	load()
	if bus == nil {
		return func() {}
	}
	sub := bus.Subscribe(64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sub.C() {
			switch ev.Type {
			// Not trunk.state_changed: that is the trunks' own report.
			case "trunk.created", "trunk.updated", "trunk.deleted", "config.applied":
				load()
			}
		}
	}()
	return func() { sub.Close(); <-done }
}

// webTrunks gives the web front the trunks' live status.
type webTrunks struct{ t *sip.Trunks }

func (w webTrunks) Status(name string) (webui.TrunkStatus, bool) {
	s, ok := w.t.TrunkStatus(name)
	if !ok {
		return webui.TrunkStatus{}, false
	}
	return webui.TrunkStatus{Registered: s.Registered, RegisteredUntil: s.RegisteredUntil, Up: s.Up,
		LastError: s.LastError, LastChange: s.LastChange, CallsActive: s.CallsActive}, true
}

// Trace logs the trunk's SIP messages (UDP) for d.
func (w webTrunks) Trace(name string, d time.Duration) error { return w.t.Trace(name, d) }
