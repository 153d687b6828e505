package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/config/cert"
	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/media/player"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/ccbox/ccbox/pbx/sip"
	"github.com/ccbox/ccbox/webui"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
)

// configError marks a problem found before anything was written: the
// process exits with exitUsage and one line per problem.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// listeners are bound before anything is written, so a port in use is
// reported together with every other problem and leaves the data dir alone.
type listeners struct {
	http, https net.Listener
	// SIP: UDP and TCP on sip_addr, TCP for TLS on sip_tls_addr.
	sipUDP         net.PacketConn
	sipTCP, sipTLS net.Listener
}

func bind(cfg config.Config) (listeners, error) {
	var ls listeners
	var errs []error
	listen := func(field, addr string) net.Listener {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			errs = append(errs, &config.FieldError{Field: field, Source: "listen", Problem: portProblem(addr, "TCP", err)})
			return nil
		}
		return l
	}
	ls.http = listen("http_addr", cfg.HTTPAddr)
	ls.https = listen("https_addr", cfg.HTTPSAddr)
	ls.sipTCP = listen("sip_addr", cfg.SIPAddr)
	if pc, err := net.ListenPacket("udp", cfg.SIPAddr); err != nil {
		errs = append(errs, &config.FieldError{Field: "sip_addr", Source: "listen", Problem: portProblem(cfg.SIPAddr, "UDP", err)})
	} else {
		// Every phone and carrier shares this one socket, and the kernel's
		// default buffer (~200 KB) overflows in a burst of calls while the
		// reader is parsing: a dropped INVITE or BYE costs its caller a
		// 500 ms retransmission. The kernel caps the size at net.core.rmem_max.
		if u, ok := pc.(*net.UDPConn); ok {
			_ = u.SetReadBuffer(sipUDPReadBuffer)
		}
		ls.sipUDP = pc
	}
	ls.sipTLS = listen("sip_tls_addr", cfg.SIPTLSAddr)
	if len(errs) > 0 {
		ls.close()
		return ls, errors.Join(errs...)
	}
	return ls, nil
}

// sipUDPReadBuffer is the SIP UDP socket's receive buffer: about 4,000
// typical SIP messages.
const sipUDPReadBuffer = 4 << 20

func portProblem(addr, proto string, err error) string {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Sprintf("%s (%s) is already in use by another program", addr, proto)
	}
	return fmt.Sprintf("cannot listen on %s (%s): %v", addr, proto, err)
}

func (ls listeners) close() {
	for _, l := range []net.Listener{ls.http, ls.https, ls.sipTCP, ls.sipTLS} {
		if l != nil {
			l.Close()
		}
	}
	if ls.sipUDP != nil {
		ls.sipUDP.Close()
	}
}

// run starts the box and blocks until ctx ends, then shuts down. The
// configuration has passed Validate and preflight.
func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	ls, err := bind(cfg)
	if err != nil {
		return configError{err}
	}
	defer ls.close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)

	db, err := store.Open(store.Options{Dir: cfg.DataDir, Logger: log.With("component", "store"), Registerer: reg})
	if err != nil {
		return fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
	}
	// The store closes last, after everything that writes to it has stopped.
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close store", "err", err)
		}
		log.Info("stopped")
	}()

	hasher := password.NewHasher(0, 0)
	if err := firstStart(ctx, db, hasher, cfg.AdminPassword, log); err != nil {
		return err
	}
	// The SIP realm is fixed at first start: extensions' secrets are kept
	// only as HA1 hashes, which include it.
	realm, err := store.EnsureRealm(db)
	if err != nil {
		return fmt.Errorf("SIP realm: %w", err)
	}

	certificate, err := cert.LoadOrCreate(filepath.Join(cfg.DataDir, "tls"), cfg.TLSCertFile, cfg.TLSKeyFile, publicIPs(cfg), time.Now())
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	tlsLn := tls.NewListener(ls.https, &tls.Config{
		Certificates: []tls.Certificate{certificate},
		MinVersion:   tls.VersionTLS12,
	})

	bus := event.NewBus(nil)
	devices := call.NewDevices(bus)
	sipSrv, err := newSIPServer(sipDeps{
		cfg: cfg, realm: realm, certificate: certificate,
		db: db, devices: devices, reg: reg, log: log,
	})
	if err != nil {
		return err
	}
	sounds := player.New(log.With("component", "player"))
	defer sounds.Close()
	tel, err := newCalls(callDeps{cfg: cfg, sipSrv: sipSrv, sipUDP: ls.sipUDP, db: db, bus: bus, devices: devices,
		player: sounds, reg: reg, log: log})
	if err != nil {
		return err
	}
	defer tel.Close()
	calls := tel.calls
	stopPresence, err := newPresence(sipSrv, db, bus, devices, cfg, reg)
	if err != nil {
		return err
	}

	var ready atomic.Bool
	web := webui.New(webui.Options{
		Store:           db,
		Hasher:          hasher,
		Bus:             bus,
		Logger:          log.With("component", "web"),
		Gatherer:        reg,
		Registerer:      reg,
		Version:         version,
		SessionTTL:      cfg.SessionTTL.Duration,
		TrustedNetworks: cfg.TrustedNetworks,
		HTTPSPort:       ls.https.Addr().(*net.TCPAddr).Port,
		Ready:           ready.Load,
		Registrations:   sipRegistrations(sipSrv),
		DeviceState: func(ext string) string {
			return devices.View(call.Device{Kind: call.DeviceSIP, ID: ext}).State
		},
		Seats:  webSeats{r: tel.seats},
		Trunks: webTrunks{t: tel.trunks},
		Device: func(ext string) webui.DeviceView {
			v := devices.View(call.Device{Kind: call.DeviceSIP, ID: ext})
			return webui.DeviceView{Kind: string(v.Kind), ID: v.ID, State: v.State, Contacts: v.Contacts, Available: v.Available}
		},
	})

	g, gctx := errgroup.WithContext(ctx)
	// The web front's context ends only once SIP has stopped (see the
	// shutdown order below).
	sipStopped := make(chan struct{})
	webCtx, stopWeb := context.WithCancel(context.WithoutCancel(gctx))
	defer stopWeb()
	sipCtx, stopSIP := context.WithCancel(context.WithoutCancel(gctx))
	defer stopSIP()
	g.Go(func() error {
		defer close(sipStopped)
		// UDP through the trunks' tracer: SIP trace on demand sees it.
		return sipSrv.Run(sipCtx, sip.Listeners{UDP: tel.trunks.TracePacketConn(ls.sipUDP), TCP: ls.sipTCP, TLS: ls.sipTLS})
	})
	g.Go(func() error {
		<-gctx.Done()
		// Calls end before SIP stops, so every phone gets its BYE or final
		// response while the transports are still there.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := calls.Shutdown(sctx); err != nil {
			log.Warn("calls did not all end in time", "err", err)
		}
		tel.stopTrunks() // unregister while the transports are still there
		stopPresence()
		stopSIP()
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		<-sipStopped
		stopWeb()
		return nil
	})
	g.Go(func() error { return web.Serve(webCtx, ls.http, tlsLn) })
	g.Go(func() error { return db.RunGC(gctx) })

	// Every listener is bound (above) and is being served: ready.
	ready.Store(true)
	log.Info("ready",
		"web", "http://"+displayAddr(ls.http.Addr()),
		"https", "https://"+displayAddr(ls.https.Addr()),
		"sip", displayAddr(ls.sipTCP.Addr())+" (udp, tcp)",
		"sip_tls", displayAddr(ls.sipTLS.Addr()),
		"data_dir", cfg.DataDir,
		"sip_realm", realm)

	// Shutdown order, when ctx ends: readiness goes false at once so load
	// balancers and scripts stop sending; every call in progress is hung up
	// (up to 5 s) while SIP can still send BYEs; SIP stops taking requests
	// (its qualify and expiry loops stop, then its sockets close), because
	// it writes registrations to the store and publishes device events the
	// web front streams: nothing a phone does after that point is accepted
	// but unseen. Then the web front stops taking new connections and
	// finishes requests in flight (5 s); the store's GC loop stops; then, in
	// the deferred call above, the store closes — last, because every other
	// component writes to it.
	<-gctx.Done()
	ready.Store(false)
	log.Info("shutting down")
	return g.Wait()
}

// preflight checks what config.Validate cannot: the data directory and
// the first-start admin password, before anything is written.
func preflight(cfg config.Config) error {
	var errs []error
	if err := cfg.CheckDataDir(); err != nil {
		errs = append(errs, err)
	}
	if cfg.AdminPassword != "" {
		if err := password.Check(cfg.AdminPassword); err != nil {
			errs = append(errs, &config.FieldError{Field: "admin_password", Source: "APPLIANCE_ADMIN_PASSWORD",
				Problem: "the first admin password must be 8 to 72 characters and not blank"})
		}
	}
	return errors.Join(errs...)
}

// firstStart creates the admin user when the store has no users at all.
// The password comes from APPLIANCE_ADMIN_PASSWORD, or is random and shown
// once in the log: there is no default password to forget to change.
func firstStart(ctx context.Context, db *store.DB, h *password.Hasher, adminPassword string, log *slog.Logger) error {
	var n int
	if err := db.View(func(tx *store.Tx) (err error) { n, err = tx.CountUsers(); return err }); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	plain, generated := adminPassword, false
	if plain == "" {
		plain, generated = password.Random(), true
	}
	hash, err := h.Hash(ctx, plain)
	if err != nil {
		return err
	}
	now := time.Now()
	admin := store.User{Name: "admin", DisplayName: "Administrator", Role: store.RoleAdmin, PasswordHash: hash,
		Created: now, Updated: now, PasswordChanged: now}
	if err := db.Update(func(tx *store.Tx) error {
		if err := tx.PutUser(admin); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: now, User: "system", Action: "user.create", Object: "user:admin", Detail: "first start"})
	}); err != nil {
		return err
	}
	if generated {
		log.Warn("first start: created user admin with a random password, shown only this once; change it after logging in",
			"user", "admin", "password", plain)
	} else {
		log.Info("first start: created user admin with the password from APPLIANCE_ADMIN_PASSWORD", "user", "admin")
	}
	return nil
}

func publicIPs(cfg config.Config) []net.IP {
	if ip := net.ParseIP(cfg.PublicIP); ip != nil {
		return []net.IP{ip}
	}
	return nil
}

// displayAddr turns a wildcard listener address into one a person can open.
func displayAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := ta.IP.String()
	if ta.IP.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(ta.Port))
}

func buildInfo() prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pbx_build_info",
		Help: "Always 1; the labels say which build is running.",
	}, []string{"version", "goversion"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	return g
}
