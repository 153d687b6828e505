package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/player"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/ccbox/ccbox/pbx/seat"
	"github.com/ccbox/ccbox/pbx/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// The call layer's wiring: the RTP port pool, the SIP side of the B2BUA
// (sip.Calls, which is also the call layer's Dialer) and the call manager,
// over the store's extensions and CDRs.

type callDeps struct {
	cfg     config.Config
	sipSrv  *sip.Server
	sipUDP  net.PacketConn // the SIP UDP socket: media binds the same address
	db      *store.DB
	bus     *event.Bus
	devices *call.Devices
	player  *player.Player
	reg     prometheus.Registerer
	log     *slog.Logger
}

// telephony is what newCalls makes: the call manager and the browser
// seats (whose registry and WebRTC engine Close stops).
type telephony struct {
	calls       *call.Manager
	seats       *seat.Registry
	engine      *webrtc.Engine
	trunks      *sip.Trunks
	stopTrunks  func() // unregisters from carriers: before SIP stops
	stopRouting func()
}

// Close takes the seats offline, closes their media port and stops
// following rule changes.
func (t *telephony) Close() {
	t.seats.Close()
	_ = t.engine.Close()
	t.stopRouting()
}

func newCalls(d callDeps) (*telephony, error) {
	metrics, err := rtp.NewMetrics(d.reg)
	if err != nil {
		return nil, fmt.Errorf("RTP metrics: %w", err)
	}
	// Media binds where SIP listens: one address for a box with one, every
	// address for a box listening on all of them.
	bindIP := netip.IPv4Unspecified()
	if ua, ok := d.sipUDP.LocalAddr().(*net.UDPAddr); ok && !ua.IP.IsUnspecified() {
		if a, ok := netip.AddrFromSlice(ua.IP); ok {
			bindIP = a.Unmap()
		}
	}
	pool, err := rtp.NewPortPool(rtp.PoolConfig{IP: bindIP, Ports: d.cfg.RTPPorts, Metrics: metrics,
		Log: d.log.With("component", "rtp")})
	if err != nil {
		return nil, err
	}
	var advertise netip.Addr
	if d.cfg.PublicIP != "" {
		advertise, _ = netip.ParseAddr(d.cfg.PublicIP) // validated by config
	}
	calls := sip.NewCalls(d.sipSrv, pool, callDirectory{db: d.db}, sip.CallConfig{
		Advertise:    advertise,
		MediaTimeout: d.cfg.MediaTimeout.Duration,
	})
	route, stopRouting, err := newRouting(d.db, d.bus, d.reg, d.log.With("component", "routing"))
	if err != nil {
		return nil, err
	}
	mcfg, err := seatMediaConfig(d.cfg.SeatMediaAddr(), d.cfg.PublicIP)
	if err != nil {
		return nil, err
	}
	mcfg.Log = d.log.With("component", "webrtc")
	engine, err := webrtc.NewEngine(mcfg)
	if err != nil {
		return nil, fmt.Errorf("browser seats' media on udp %s: %w", d.cfg.SeatMediaAddr(), err)
	}
	seats, err := seat.New(seat.Options{
		Media:      seatMedia{e: engine},
		Pool:       pool,
		Directory:  seatDirectory{db: d.db, bus: d.bus, now: time.Now},
		Devices:    d.devices,
		Logger:     d.log.With("component", "seat"),
		Registerer: d.reg,
	})
	if err != nil {
		_ = engine.Close()
		return nil, err
	}
	mgr := call.NewManager(call.Options{
		Player:     sounds{p: d.player},
		Features:   callFeatures{db: d.db, bus: d.bus, now: time.Now},
		Dialer:     ringDialer{phones: calls, seats: seats, db: d.db},
		Bridger:    call.RTPBridge{},
		Directory:  callDirectory{db: d.db, route: route},
		Records:    newCDRWriter(d.db),
		Bus:        d.bus,
		Devices:    d.devices,
		Logger:     d.log.With("component", "call"),
		Registerer: d.reg,
		Limits:     call.Limits{RingTimeout: d.cfg.RingTimeout.Duration},
	})
	calls.SetManager(mgr)
	seats.SetCalls(mgr)
	trunks, err := sip.NewTrunks(d.sipSrv, sip.TrunkOptions{
		Log: d.log.With("component", "trunk"), Registerer: d.reg, Advertise: advertise,
		OnChange: func(s sip.TrunkStatus) {
			d.bus.Publish("trunk.state_changed", "trunk:"+s.Name, newTrunkStatusView(s))
		},
	})
	if err != nil {
		return nil, err
	}
	calls.SetTrunks(trunks, route)
	stopFollowing := followTrunks(trunks, d.db, d.bus, d.log.With("component", "trunk"))
	return &telephony{calls: mgr, seats: seats, engine: engine, trunks: trunks,
		stopTrunks: func() { stopFollowing(); trunks.Close() }, stopRouting: stopRouting}, nil
}

// callDirectory answers the call layer's questions about numbers: the
// extensions, and outside numbers through the outbound routes
// (call.Directory), and the callers' settings (sip.CallDirectory).
type callDirectory struct {
	db    *store.DB
	route *routing // nil: extensions only
}

func (d callDirectory) extension(number string) (store.Extension, error) {
	return d.db.Extension(number)
}

// Lookup resolves the box's own numbers, then outside numbers through the
// outbound routes with origin's permissions.
func (d callDirectory) Lookup(number string, origin call.Origin) (call.Target, error) {
	e, err := d.extension(number)
	if err == nil && e.Disabled {
		return call.Target{}, call.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		if d.route == nil {
			return call.Target{}, call.ErrNotFound
		}
		return d.route.outbound(number, origin)
	}
	if err != nil {
		return call.Target{}, err
	}
	return call.Target{
		Device:   call.Device{Kind: call.DeviceSIP, ID: e.Number},
		Party:    call.Party{Number: e.Number, Name: e.Name},
		MaxCalls: e.CallLimit(),
		DND:      e.DND,
		Forward: call.Forwarding{Always: e.ForwardAlways, Busy: e.ForwardBusy, NoAnswer: e.ForwardNoAnswer,
			NoAnswerAfter: e.NoAnswerTimeout()},
		PickupGroup: e.PickupGroup,
	}, nil
}

func (d callDirectory) CallerInfo(ext sip.Extension) (sip.CallerInfo, error) {
	e, err := d.extension(string(ext))
	if err != nil {
		return sip.CallerInfo{}, err
	}
	mode, _ := call.ParseDTMFMode(e.DTMFMode) // validated when stored
	info := sip.CallerInfo{Name: e.Name, MaxCalls: e.CallLimit(), DTMFMode: mode}
	for _, name := range e.CodecPreference() {
		if c := codec.FromName(name, codec.ClockRate); c != codec.Unknown {
			info.Codecs = append(info.Codecs, c)
		}
	}
	return info, nil
}
