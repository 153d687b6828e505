package sip

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config is the registrar's settings. Zero durations and counts take the
// defaults written on each field.
type Config struct {
	// Realm is the digest realm, fixed at the box's first start: changing it
	// invalidates every stored HA1. Required.
	Realm string
	// UserAgent is the Server/User-Agent header value. Zero: "CCBox".
	UserAgent string
	// MaxUDPMessage is the largest SIP message, in bytes, sent over UDP.
	// Zero: 4096. sipgo refuses larger UDP messages instead of switching
	// to TCP, and its own default (1300) is too small for SDP with several
	// codecs.
	MaxUDPMessage int
	// MinExpires is the shortest registration accepted (423 below it). Zero: 60 s.
	MinExpires time.Duration
	// MaxExpires caps a registration's lifetime. Zero: 3600 s.
	MaxExpires time.Duration
	// DefaultExpires applies when a REGISTER names none. Zero: 3600 s.
	DefaultExpires time.Duration
	// NonceTTL is how long a digest nonce stays fresh; older ones are
	// answered with stale=true. Zero: 5 min.
	NonceTTL time.Duration
	// QualifyInterval is how often each contact is sent OPTIONS. Zero: 30 s.
	QualifyInterval time.Duration
	// QualifyTimeout is how long an OPTIONS may go unanswered. Zero: 5 s.
	QualifyTimeout time.Duration
	// QualifyMisses is how many unanswered OPTIONS in a row make a contact
	// unavailable. Zero: 2.
	QualifyMisses int
	// BanThreshold auth failures from one IP within BanWindow ban it. Zero: 10.
	BanThreshold int
	// BanWindow is the window over which failures are counted. Zero: 1 min.
	BanWindow time.Duration
	// BanTime is how long a banned IP's requests are dropped. Zero: 10 min.
	BanTime time.Duration
	// MD5OnlyAgents are User-Agent prefixes (any case) challenged with MD5
	// alone, for phones that fail on a challenge list holding SHA-256.
	// Nil: {"baresip"}; empty non-nil: none.
	MD5OnlyAgents []string
	// Trusted networks are never banned.
	Trusted []netip.Prefix
	// TLS is the certificate configuration for the TLS listener; nil means
	// no TLS listener may be given.
	TLS *tls.Config
}

// ErrNoRealm is returned by New when Config.Realm is empty.
var ErrNoRealm = errors.New("sip: realm is required")

// ErrMissingDependency is returned by New when a required Deps field is nil.
var ErrMissingDependency = errors.New("sip: missing dependency")

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defi := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	if c.UserAgent == "" {
		c.UserAgent = "CCBox"
	}
	if c.MD5OnlyAgents == nil {
		c.MD5OnlyAgents = []string{"baresip"}
	}
	defi(&c.MaxUDPMessage, 4096)
	def(&c.MinExpires, 60*time.Second)
	def(&c.MaxExpires, 3600*time.Second)
	def(&c.DefaultExpires, 3600*time.Second)
	def(&c.NonceTTL, 5*time.Minute)
	def(&c.QualifyInterval, 30*time.Second)
	def(&c.QualifyTimeout, 5*time.Second)
	defi(&c.QualifyMisses, 2)
	defi(&c.BanThreshold, 10)
	def(&c.BanWindow, time.Minute)
	def(&c.BanTime, 10*time.Minute)
	return c
}

// Deps are what the server needs from the rest of the appliance.
type Deps struct {
	Log        *slog.Logger          // required
	Registerer prometheus.Registerer // required; metrics register here
	Directory  Directory             // required
	Store      BindingStore          // required
	// Now is the clock; nil means time.Now. Tests inject one to expire
	// bindings, nonces and bans without waiting.
	Now func() time.Time
	// OnChange is told the number of available contacts of an extension
	// whenever it may have changed (register, unregister, expiry, qualify).
	// It must not block. Nil: nothing is told.
	OnChange func(ext Extension, available int)
}

func (d Deps) check() error {
	switch {
	case d.Log == nil:
		return fmt.Errorf("Log: %w", ErrMissingDependency)
	case d.Registerer == nil:
		return fmt.Errorf("Registerer: %w", ErrMissingDependency)
	case d.Directory == nil:
		return fmt.Errorf("Directory: %w", ErrMissingDependency)
	case d.Store == nil:
		return fmt.Errorf("Store: %w", ErrMissingDependency)
	}
	return nil
}
