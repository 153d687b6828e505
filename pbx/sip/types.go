package sip

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Extension is an extension number: the digest username and the user part of
// the address of record a phone registers.
type Extension string

// Transport is the transport a message arrived on or must leave by.
type Transport uint8

// Transports. The zero value is TransportUnknown.
const (
	TransportUnknown Transport = iota
	TransportUDP
	TransportTCP
	TransportTLS
)

// ErrUnknownTransport is returned when decoding a transport name that is not
// udp, tcp or tls.
var ErrUnknownTransport = errors.New("unknown SIP transport")

// String returns the lower-case name used in SIP URIs' transport parameter.
func (t Transport) String() string {
	switch t {
	case TransportUDP:
		return "udp"
	case TransportTCP:
		return "tcp"
	case TransportTLS:
		return "tls"
	}
	return "unknown"
}

// MarshalText encodes the transport by name, so stored bindings stay readable
// and survive a reordering of the constants.
func (t Transport) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes a name written by MarshalText.
func (t *Transport) UnmarshalText(b []byte) error {
	p, err := ParseTransport(string(b))
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// ParseTransport reads a transport name in any case ("UDP", "tls").
func ParseTransport(s string) (Transport, error) {
	switch strings.ToLower(s) {
	case "udp":
		return TransportUDP, nil
	case "tcp":
		return TransportTCP, nil
	case "tls":
		return TransportTLS, nil
	}
	return TransportUnknown, fmt.Errorf("transport %q: %w", s, ErrUnknownTransport)
}

// Binding is one registered contact of an extension (RFC 3261 §10): what the
// phone asked to be reached at, and where its REGISTER really came from. It
// is JSON-encodable so a BindingStore can keep it across restarts.
type Binding struct {
	// Contact is the Contact URI the phone registered, e.g.
	// "sip:1001@192.168.1.20:5062;transport=udp". It goes in the
	// Request-URI of requests sent to the phone.
	Contact string `json:"contact"`
	// Source is the host:port the REGISTER arrived from (Via received/rport).
	// Requests to the phone go here, not to the Contact's host, so they
	// pass back through the phone's NAT binding.
	Source string `json:"source"`
	// Transport is the transport the REGISTER arrived on; requests to the
	// phone leave by the same one (the same socket for UDP, the same
	// connection for TCP and TLS).
	Transport Transport `json:"transport"`
	// Expires is when the binding lapses unless refreshed.
	Expires time.Time `json:"expires"`
	// CallID and CSeq are the REGISTER's, to order refreshes (RFC 3261 §10.3 step 7).
	CallID string `json:"call_id"`
	CSeq   uint32 `json:"cseq"`
	// UserAgent is the phone's User-Agent header, for display only.
	UserAgent string `json:"user_agent,omitempty"`
	// Available is false while the contact does not answer OPTIONS: it stays
	// registered but is not rung.
	Available bool `json:"available"`

	// misses counts consecutive unanswered OPTIONS.
	misses int
}

// Credentials are an extension's digest secrets: HA1 = H(user:realm:password)
// for each algorithm, hex-encoded. The password itself is never kept.
type Credentials struct {
	HA1MD5    string
	HA1SHA256 string
	// Disabled extensions are refused exactly like unknown ones.
	Disabled bool
}

// Directory gives the digest secrets of an extension. It returns an error
// (any error, ErrNoSuchExtension by convention) for an extension that does
// not exist; callers cannot tell the difference from the outside.
type Directory interface {
	Credentials(ext Extension) (Credentials, error)
}

// ErrNoSuchExtension is what a Directory returns for an unknown extension.
var ErrNoSuchExtension = errors.New("no such extension")

// BindingStore keeps registrations across restarts. SaveBindings replaces all
// bindings of ext (an empty slice removes them); LoadBindings returns every
// extension's.
type BindingStore interface {
	SaveBindings(ext Extension, b []Binding) error
	LoadBindings() (map[Extension][]Binding, error)
}
