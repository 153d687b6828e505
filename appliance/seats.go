package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/ccbox/ccbox/pbx/seat"
	"github.com/ccbox/ccbox/pbx/sip"
	"github.com/ccbox/ccbox/webui"
)

// Browser seats' wiring: the WebRTC engine on its one UDP port, the seat
// registry over the store's extensions, and the dialer that rings an
// extension's desk phones, its seat or both, as the extension says.

// seatMediaConfig is the engine's configuration: the seats' UDP address
// (webrtc_addr, else the HTTPS address), the public address, and loopback
// candidates when the box listens on loopback only (a box used from
// itself, the tests).
func seatMediaConfig(addr, publicIP string) (webrtc.Config, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return webrtc.Config{}, fmt.Errorf("webrtc_addr %q: %w", addr, err)
	}
	ip := netip.IPv4Unspecified()
	if host != "" {
		if ip, err = netip.ParseAddr(host); err != nil {
			ips, lerr := net.LookupIP(host)
			if lerr != nil || len(ips) == 0 {
				return webrtc.Config{}, fmt.Errorf("webrtc_addr %q: %w", addr, errors.Join(err, lerr))
			}
			ip, _ = netip.AddrFromSlice(ips[0])
		}
	}
	var p uint16
	if _, err := fmt.Sscan(port, &p); err != nil {
		return webrtc.Config{}, fmt.Errorf("webrtc_addr %q: bad port", addr)
	}
	cfg := webrtc.Config{Listen: netip.AddrPortFrom(ip.Unmap(), p), Loopback: ip.IsLoopback()}
	if publicIP != "" {
		cfg.PublicIP, _ = netip.ParseAddr(publicIP) // validated by config
	}
	return cfg, nil
}

// seatMedia adapts the engine to what pbx/seat needs.
type seatMedia struct{ e *webrtc.Engine }

func (m seatMedia) Answer(offer string, onState func(webrtc.State)) (seat.Peer, string, error) {
	p, answer, err := m.e.Answer(offer, onState)
	if err != nil {
		return nil, "", err
	}
	return p, answer, nil
}

// seatDirectory gives seats their users' extensions and stores where an
// extension's calls ring (validated like the admin's edit, audit-logged as
// the user, announced as extension.updated).
type seatDirectory struct {
	db  *store.DB
	bus *event.Bus
	now func() time.Time
}

func (d seatDirectory) Owned(user string) ([]seat.Extension, error) {
	var exts []store.Extension
	err := d.db.View(func(tx *store.Tx) (err error) {
		exts, err = tx.ExtensionsOwnedBy(user)
		return err
	})
	var out []seat.Extension
	for _, e := range exts {
		if e.Disabled {
			continue
		}
		out = append(out, seat.Extension{Number: e.Number, Name: e.Name, RingOn: e.RingTarget(), MaxCalls: e.CallLimit()})
	}
	return out, err
}

func (d seatDirectory) SetRingOn(number, ringOn, user string) error {
	if err := provision.CheckRingOn(ringOn); err != nil {
		return err
	}
	var e store.Extension
	err := d.db.Update(func(tx *store.Tx) (err error) {
		e, err = tx.UpdateExtension(number, func(e *store.Extension) error {
			if e.User != user {
				return store.ErrNotFound // it changed hands meanwhile
			}
			e.RingOn = provision.NormalRingOn(ringOn)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: d.now(), User: user, Action: "extension.ring_on", Object: "extension:" + number})
	})
	if err != nil {
		return err
	}
	if d.bus != nil {
		d.bus.Publish("extension.updated", "extension:"+number, webui.ExtensionEvent(e))
	}
	return nil
}

// ringDialer rings devices: an extension's desk phones and its browser
// seat, as its ring_on setting says, or a seat alone.
type ringDialer struct {
	phones *sip.Calls
	seats  *seat.Registry
	db     *store.DB
}

func (r ringDialer) Dial(ctx context.Context, t call.Target, from call.Party, offerFrom call.Channel) ([]call.Outgoing, error) {
	d := t.Device
	switch d.Kind {
	case call.DeviceSeat:
		return r.seats.Dial(ctx, t, from, offerFrom)
	case call.DevicePSTN:
		return r.phones.Dial(ctx, t, from, offerFrom) // through the target's trunks
	case call.DeviceSIP:
	default:
		return nil, call.ErrUnavailable
	}
	phones, seats := true, true
	if e, err := r.db.Extension(d.ID); err == nil {
		phones, seats = e.RingsPhone(), e.RingsSeat()
	}
	var legs []call.Outgoing
	var errs []error
	if phones {
		l, err := r.phones.Dial(ctx, t, from, offerFrom)
		legs = append(legs, l...)
		errs = append(errs, err)
	}
	if seats {
		st := t
		st.Device = call.Device{Kind: call.DeviceSeat, ID: d.ID}
		l, err := r.seats.Dial(ctx, st, from, offerFrom)
		legs = append(legs, l...)
		errs = append(errs, err)
	}
	if len(legs) > 0 {
		return legs, nil
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, call.ErrUnavailable) {
			return nil, err
		}
	}
	return nil, call.ErrUnavailable
}

// webSeats adapts the registry to the web front's WebSocket.
type webSeats struct{ r *seat.Registry }

func (w webSeats) Connect(user, addr string, send func(v any) bool, kill func()) webui.SeatConn {
	return w.r.Connect(user, addr, send, kill)
}
