package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/ccbox/ccbox/pbx/sip"
	"github.com/ccbox/ccbox/webui"
	"github.com/prometheus/client_golang/prometheus"
)

// The SIP front's wiring: the pbx/sip server over the store, its events on
// the bus, and its registrations for the web API. run() builds it with
// newSIPServer, adds the call layer's handlers, and runs it.

// sipDeps are what newSIPServer takes from run().
type sipDeps struct {
	cfg         config.Config
	realm       string          // from store.EnsureRealm: fixed at first start
	certificate tls.Certificate // the HTTPS certificate, shared with SIP over TLS
	db          *store.DB
	devices     *call.Devices // where registrations change device states
	reg         prometheus.Registerer
	log         *slog.Logger
}

// newSIPServer builds the SIP server and loads the stored registrations. It
// does not serve: run() adds handlers, then calls Run with the sockets bound
// by bind().
func newSIPServer(d sipDeps) (*sip.Server, error) {
	var srv *sip.Server
	onChange := func(ext sip.Extension, available int) {
		// Told after the server's lock is released, so asking it for the
		// bindings here cannot deadlock.
		d.devices.SetReachability(call.Device{Kind: call.DeviceSIP, ID: string(ext)}, len(srv.Bindings(ext)), available)
	}
	srv, err := sip.New(sip.Config{
		Realm:         d.realm,
		MaxUDPMessage: d.cfg.SIPMaxUDPMessage,
		Trusted:       d.cfg.TrustedNetworks,
		TLS: &tls.Config{
			Certificates: []tls.Certificate{d.certificate},
			MinVersion:   tls.VersionTLS12,
		},
	}, sip.Deps{
		Log:        d.log,
		Registerer: d.reg,
		Directory:  sipDirectory{db: d.db},
		Store:      sipBindings{db: d.db, log: d.log.With("component", "sip")},
		OnChange:   onChange,
	})
	if err != nil {
		return nil, fmt.Errorf("SIP server: %w", err)
	}
	return srv, nil
}

// sipRegistrations gives the web API an extension's registered contacts.
func sipRegistrations(srv *sip.Server) func(ext string) []webui.RegisteredContact {
	return func(ext string) []webui.RegisteredContact {
		bs := srv.Bindings(sip.Extension(ext))
		out := make([]webui.RegisteredContact, 0, len(bs))
		for _, b := range bs {
			out = append(out, webui.RegisteredContact{
				Contact: b.Contact, Source: b.Source, Transport: b.Transport.String(),
				Expires: b.Expires, UserAgent: b.UserAgent, Available: b.Available,
			})
		}
		return out
	}
}

// sipDirectory gives the registrar the extensions' digest secrets.
type sipDirectory struct{ db *store.DB }

func (d sipDirectory) Credentials(ext sip.Extension) (sip.Credentials, error) {
	e, err := d.db.Extension(string(ext))
	if errors.Is(err, store.ErrNotFound) {
		return sip.Credentials{}, sip.ErrNoSuchExtension
	}
	if err != nil {
		return sip.Credentials{}, fmt.Errorf("extension %s: %w", ext, err)
	}
	return sip.Credentials{HA1MD5: e.HA1MD5, HA1SHA256: e.HA1SHA256, Disabled: e.Disabled}, nil
}

// sipBindings keeps registrations in the store, so they survive a restart.
// Each binding is one store.Registration holding the binding as JSON; the
// store drops it at the binding's expiry.
type sipBindings struct {
	db  *store.DB
	log *slog.Logger
}

// bindingID names a binding in the store: a hash of its contact, because a
// contact URI may hold a slash, which a store key part may not.
func bindingID(contact string) string {
	sum := sha256.Sum256([]byte(contact))
	return hex.EncodeToString(sum[:16])
}

func (s sipBindings) SaveBindings(ext sip.Extension, bs []sip.Binding) error {
	regs := make([]store.Registration, 0, len(bs))
	for _, b := range bs {
		data, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("encode binding of %s: %w", ext, err)
		}
		regs = append(regs, store.Registration{ID: bindingID(b.Contact), Data: data, Expires: b.Expires})
	}
	return s.db.Update(func(tx *store.Tx) error { return tx.PutRegistrations(string(ext), regs) })
}

func (s sipBindings) LoadBindings() (map[sip.Extension][]sip.Binding, error) {
	var regs []store.Registration
	if err := s.db.View(func(tx *store.Tx) (err error) { regs, err = tx.Registrations(); return err }); err != nil {
		return nil, err
	}
	out := make(map[sip.Extension][]sip.Binding)
	for _, r := range regs {
		var b sip.Binding
		if err := json.Unmarshal(r.Data, &b); err != nil {
			// One unreadable record must not keep the box from starting:
			// the phone registers again within its interval.
			s.log.Warn("stored registration unreadable; dropped", "ext", r.Extension, "err", err)
			continue
		}
		ext := sip.Extension(r.Extension)
		out[ext] = append(out[ext], b)
	}
	return out, nil
}

// newPresence adds busy lamps to the SIP server: SUBSCRIBEs to the dialog
// event package, and a NOTIFY whenever a watched extension's device state
// changes on the bus. The returned stop ends both.
func newPresence(srv *sip.Server, db *store.DB, bus *event.Bus, devices *call.Devices, cfg config.Config, reg prometheus.Registerer) (func(), error) {
	var advertise netip.Addr
	if cfg.PublicIP != "" {
		advertise, _ = netip.ParseAddr(cfg.PublicIP) // validated by config
	}
	exists := func(ext sip.Extension) bool {
		_, err := db.Extension(string(ext))
		return err == nil
	}
	p, err := sip.NewPresence(srv, devices, exists, sip.PresenceConfig{Advertise: advertise, Registerer: reg})
	if err != nil {
		return nil, err
	}
	sub := bus.Subscribe(1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sub.C() {
			if ev.Type != call.EventDeviceStateChanged {
				continue
			}
			if v, ok := ev.Data.(call.DeviceView); ok && (v.Kind == call.DeviceSIP || v.Kind == call.DeviceSeat) {
				// An extension's lamp shows its busiest device: the desk
				// phones or the browser seat (states are ordered
				// unavailable < idle < ringing < in use).
				phones := call.Device{Kind: call.DeviceSIP, ID: v.ID}
				seat := call.Device{Kind: call.DeviceSeat, ID: v.ID}
				p.DeviceChanged(phones, max(devices.State(phones), devices.State(seat)))
			}
		}
	}()
	return func() {
		sub.Close()
		<-done
		p.Close()
	}, nil
}
