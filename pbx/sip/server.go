package sip

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"golang.org/x/sync/errgroup"
)

// Handler handles one request. tx is nil for ACK, which has no transaction.
type Handler func(req *sip.Request, tx sip.ServerTransaction)

// Listeners are the sockets the server serves; nil ones are not served. UDP
// and TCP normally share one address, TLS has its own. TLS is a plain TCP
// listener: the server wraps it with Config.TLS.
type Listeners struct {
	UDP net.PacketConn
	TCP net.Listener
	TLS net.Listener
}

// ErrNoTLSConfig is returned by Run when a TLS listener is given without Config.TLS.
var ErrNoTLSConfig = errors.New("sip: TLS listener without TLS config")

// ErrNotRunning is returned by Request before Run has bound a UDP socket.
var ErrNotRunning = errors.New("sip: server not running")

// Server is the SIP front of the appliance: transports, digest auth, bans,
// the registrar and OPTIONS qualify. Requests other than REGISTER and
// OPTIONS go to handlers added with Handle, or are answered 501.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	metrics *metrics
	nonces  nonces
	bans    *bans

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	// stray takes responses that match no transaction (onStrayResponse).
	stray atomic.Pointer[func(*sip.Response)]

	handlersMu sync.RWMutex
	handlers   map[sip.RequestMethod]Handler

	mu       sync.Mutex
	bindings map[Extension][]Binding
	udpAddr  *net.UDPAddr // the UDP listener's address, once serving
	tcpAddr  net.Addr     // the TCP listener's address (nil: not served)
	tlsAddr  net.Addr     // the TLS listener's address (nil: not served)
}

// udpMTUMu serializes writes of sipgo's package-level UDP size limit.
var udpMTUMu sync.Mutex

// setUDPLimit raises sipgo's UDP message limit. sipgo keeps it in a package
// variable (sip.UDPMTUSize, refusing messages over it minus 200), so it is
// written only when it differs: servers built with the same setting never
// write it while another is sending.
func setUDPLimit(max int) {
	udpMTUMu.Lock()
	defer udpMTUMu.Unlock()
	if sip.UDPMTUSize != max+200 {
		sip.UDPMTUSize = max + 200
	}
}

// New builds a server and loads the stored bindings (expired ones dropped).
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Realm == "" {
		return nil, ErrNoRealm
	}
	if err := deps.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if deps.Now == nil {
		deps.Now = time.Now
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("sip metrics: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		deps:     deps,
		log:      deps.Log.With("component", "sip"),
		metrics:  m,
		nonces:   nonces{key: key, ttl: cfg.NonceTTL},
		handlers: map[sip.RequestMethod]Handler{},
		bindings: map[Extension][]Binding{},
	}
	s.bans = &bans{
		threshold: cfg.BanThreshold, window: cfg.BanWindow, banTime: cfg.BanTime,
		trusted: cfg.Trusted, now: deps.Now, gauge: m.banned,
		sources: map[netip.Addr]*banEntry{},
	}
	setUDPLimit(cfg.MaxUDPMessage)

	// sipgo logs every unparsable datagram at error level with its bytes;
	// hostile traffic would flood the log, so its logger only passes warnings
	// and worse at debug level of ours.
	sgLog := s.log.With("lib", "sipgo")
	s.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentHostname(cfg.Realm),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(sgLog),
			sip.WithTransportLayerReadFilter(s.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sgLog),
			sip.WithTransactionLayerUnhandledResponseHandler(s.strayResponse)),
	)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(sgLog))
	if err != nil {
		return nil, fmt.Errorf("sip server: %w", err)
	}
	s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientLogger(sgLog))
	if err != nil {
		return nil, fmt.Errorf("sip client: %w", err)
	}
	// Every method goes through dispatch, so metrics and bans see them all.
	s.srv.OnNoRoute(s.dispatch)
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) now() time.Time { return s.deps.Now() }

// onStrayResponse sets where responses that match no transaction go
// (the call layer's: a 2xx repeated because our ACK was lost).
func (s *Server) onStrayResponse(f func(*sip.Response)) { s.stray.Store(&f) }

func (s *Server) strayResponse(res *sip.Response) {
	if f := s.stray.Load(); f != nil {
		(*f)(res)
		return
	}
	s.log.Debug("response matches no transaction", "res", res.Short())
}

// Handle routes requests of method to h (INVITE, BYE, ... for the call
// layer). REGISTER and OPTIONS are the server's own and cannot be replaced.
func (s *Server) Handle(method sip.RequestMethod, h Handler) {
	s.handlersMu.Lock()
	defer s.handlersMu.Unlock()
	s.handlers[method] = h
}

// readFilter drops everything from banned sources before it is parsed.
func (s *Server) readFilter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	var ip netip.Addr
	switch a := info.RemoteAddr.(type) {
	case *net.UDPAddr:
		ip = a.AddrPort().Addr()
	case *net.TCPAddr:
		ip = a.AddrPort().Addr()
	}
	if s.bans.banned(ip) {
		return nil, nil
	}
	return data, nil
}

// allow is the Allow header value: our methods and the handled ones.
func (s *Server) allow() string {
	ms := []string{"REGISTER", "OPTIONS"}
	s.handlersMu.RLock()
	for m := range s.handlers {
		ms = append(ms, string(m))
	}
	s.handlersMu.RUnlock()
	return strings.Join(ms, ", ")
}

func (s *Server) dispatch(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.requests.WithLabelValues(methodLabel(req.Method)).Inc()
	if s.bans.banned(sourceIP(req)) {
		return
	}
	switch req.Method {
	case sip.REGISTER:
		s.handleRegister(req, tx)
		return
	case sip.OPTIONS:
		s.Respond(tx, req, sip.StatusOK, "OK",
			sip.NewHeader("Allow", s.allow()), sip.NewHeader("Accept", "application/sdp"))
		return
	}
	s.handlersMu.RLock()
	h := s.handlers[req.Method]
	s.handlersMu.RUnlock()
	switch {
	case h != nil:
		h(req, tx)
	case req.IsAck() || tx == nil:
		// ACK gets no response (RFC 3261 §17.2.1).
	default:
		s.Respond(tx, req, sip.StatusNotImplemented, "Not Implemented", sip.NewHeader("Allow", s.allow()))
	}
}

// Respond sends a response to req through tx and counts it. The call layer
// answers through it too, so pbx_sip_responses_total covers every response.
func (s *Server) Respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	s.RespondWith(tx, res)
}

// RespondWith sends a prepared response (with a body, say) and counts it.
func (s *Server) RespondWith(tx sip.ServerTransaction, res *sip.Response) {
	if tx == nil {
		return
	}
	s.metrics.responses.WithLabelValues(codeClass(res.StatusCode)).Inc()
	if err := tx.Respond(res); err != nil {
		s.log.Debug("respond", "status", res.StatusCode, "err", err)
	}
}

func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	s.Respond(tx, req, code, reason, hdrs...)
}

// Run serves the listeners until ctx ends, with the expiry sweep and the
// OPTIONS qualify loop. On return the listeners are closed. Shutdown order:
// the loops stop first (they send through the transports), then the
// listeners close, then sipgo's layers, which own the connections.
func (s *Server) Run(ctx context.Context, l Listeners) error {
	if l.TLS != nil && s.cfg.TLS == nil {
		return ErrNoTLSConfig
	}
	g, gctx := errgroup.WithContext(ctx)
	loops, stopLoops := context.WithCancel(gctx)
	serve := func(name string, f func() error) {
		g.Go(func() error {
			err := f()
			if gctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("serve %s: %w", name, err)
		})
	}
	if l.UDP != nil {
		serve("udp", func() error { return s.srv.ServeUDP(l.UDP) })
		// Request sends from the listening socket, which sipgo finds in its
		// pool only once serving has started; until then Request refuses.
		if a, ok := l.UDP.LocalAddr().(*net.UDPAddr); ok {
			g.Go(func() error {
				pool := s.ua.TransportLayer().Pool("udp")
				for i := 0; i < 2000 && gctx.Err() == nil; i++ {
					if c := pool.Get(a.String()); c != nil {
						_, _ = c.TryClose() // Get took a reference
						s.mu.Lock()
						s.udpAddr = a
						s.mu.Unlock()
						return nil
					}
					time.Sleep(time.Millisecond) // bounded wait for sipgo to pool the socket
				}
				return nil
			})
		}
	}
	s.mu.Lock()
	if l.TCP != nil {
		s.tcpAddr = l.TCP.Addr()
	}
	if l.TLS != nil {
		s.tlsAddr = l.TLS.Addr()
	}
	s.mu.Unlock()
	if l.TCP != nil {
		serve("tcp", func() error { return s.srv.ServeTCP(l.TCP) })
	}
	if l.TLS != nil {
		tl := tls.NewListener(l.TLS, s.cfg.TLS)
		serve("tls", func() error { return s.srv.ServeTLS(tl) })
	}
	var loopsDone sync.WaitGroup
	loopsDone.Add(2)
	go func() { defer loopsDone.Done(); s.sweepLoop(loops) }()
	go func() { defer loopsDone.Done(); s.qualifyLoop(loops) }()

	g.Go(func() error {
		<-gctx.Done()
		stopLoops()
		loopsDone.Wait()
		for _, c := range []interface{ Close() error }{l.UDP, l.TCP, l.TLS} {
			if c != nil {
				_ = c.Close()
			}
		}
		return nil
	})
	err := g.Wait()
	stopLoops()
	_ = s.ua.Close()
	return err
}

// listenAddr is the address the server listens on for t (zero when that
// transport is not served): the host and port our Contact headers name.
func (s *Server) listenAddr(t Transport) netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	var a net.Addr
	switch t {
	case TransportUDP:
		if s.udpAddr != nil {
			a = s.udpAddr
		}
	case TransportTCP:
		a = s.tcpAddr
	case TransportTLS:
		a = s.tlsAddr
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// sweepLoop drops expired bindings and ban entries once a second.
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep()
			s.bans.sweep()
		}
	}
}
