package webui

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Options are the web front's dependencies and settings.
type Options struct {
	Store      *store.DB
	Hasher     *password.Hasher
	Bus        *event.Bus
	Logger     *slog.Logger
	Gatherer   prometheus.Gatherer   // served at /metrics
	Registerer prometheus.Registerer // where the web front's own metrics go
	Version    string

	// SessionTTL is how long a login lasts (zero: 12 h).
	SessionTTL time.Duration
	// TrustedNetworks are exempt from login lock-out (one office behind NAT
	// must not lock itself out by one person's typos).
	TrustedNetworks []netip.Prefix
	// HTTPSPort is the HTTPS listener's port, used to send people from plain
	// HTTP to HTTPS (browsers allow the microphone only there).
	HTTPSPort int
	// Ready reports whether the whole appliance is ready (/readyz).
	Ready func() bool
	// Registrations returns the registered SIP contacts of an extension
	// (GET /api/v1/registrations). Nil: no SIP front, every list is empty.
	Registrations func(ext string) []RegisteredContact
	// DeviceState returns an extension's device state (unavailable, idle,
	// ringing, in_use), with the calls it takes part in; nil: from the
	// registrations alone.
	DeviceState func(ext string) string
	// Device returns an extension's SIP device as the call layer tracks it
	// (GET /api/v1/devices); nil: counted from Registrations and
	// DeviceState.
	Device func(ext string) DeviceView
	// Seats is the browser-seat protocol on the event WebSocket (seat.*
	// messages, docs/events.md); nil: no seats, those messages are refused.
	Seats Seats
	// Trunks reports the carrier trunks' live status and takes SIP traces
	// on demand (GET /api/v1/trunks/:name/status, POST …/trace); nil: no
	// SIP front, status "unknown" and traces refused with 503.
	Trunks Trunks
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Seats starts the seat protocol on a signed-in user's WebSocket (pbx/seat
// behind it). send queues a message to the page without blocking and
// reports false once the socket is gone or hopelessly behind; kill closes
// the socket.
type Seats interface {
	Connect(user, addr string, send func(v any) bool, kill func()) SeatConn
}

// SeatConn is one socket's side of the seat protocol.
type SeatConn interface {
	Handle(msg []byte) // one seat.* message from the page
	Close()            // the socket has ended
}

// Server is the web front.
type Server struct {
	opts    Options
	log     *slog.Logger
	app     *fiber.App
	lockout *lockout
	metrics *metrics
	now     func() time.Time
	// regions caches the region table for lookups (regions.go).
	regions regionCache

	// done is closed when the server shuts down, so long-lived WebSocket
	// handlers (hijacked connections the HTTP server does not track) end.
	done     chan struct{}
	doneOnce sync.Once
}

// maxBody bounds any request body; JSON routes apply a much smaller
// limit themselves (maxJSON). Backups are the large uploads.
const (
	maxBody = 256 << 20
	maxJSON = 1 << 20
	maxYAML = 4 << 20
)

// New builds the fiber app with every route.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Ready == nil {
		opts.Ready = func() bool { return true }
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		lockout: newLockout(opts.Now, opts.TrustedNetworks),
		metrics: newMetrics(opts.Registerer),
		done:    make(chan struct{}),
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "ccbox",
		BodyLimit:             maxBody,
		ErrorHandler:          errorHandler(opts.Logger),
		DisableStartupMessage: true,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		// Client addresses are taken from the socket: there is no proxy in
		// front of the appliance, and trusting a header would let anyone
		// dodge the address lock-out.
		EnableTrustedProxyCheck: true,
	})
	s.routes()
	return s
}

// App exposes the fiber app (tests use app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Serve serves the same app on every listener (HTTP and TLS) until ctx ends,
// then shuts down: new connections stop at once, requests in flight get up
// to 5 s, WebSockets are closed.
func (s *Server) Serve(ctx context.Context, lns ...net.Listener) error {
	ml := newMultiListener(lns...)
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ml) }()
	select {
	case err := <-errc:
		s.closeDone()
		return err
	case <-ctx.Done():
	}
	s.closeDone()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.app.ShutdownWithContext(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, net.ErrClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func (s *Server) closeDone() { s.doneOnce.Do(func() { close(s.done) }) }
