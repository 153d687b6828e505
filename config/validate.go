package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Limits enforced by Validate.
const (
	// MinRTPPort keeps media out of the privileged ports.
	MinRTPPort = 1024
	// MinRTPPorts is the smallest RTP range accepted: each call leg takes an
	// even RTP port and the odd one above it for RTCP, so 100 ports carry
	// 50 legs.
	MinRTPPorts = 100
	// MinSessionTTL and MaxSessionTTL bound the web session lifetime.
	MinSessionTTL = time.Minute
	MaxSessionTTL = 720 * time.Hour
	// MinSIPUDPMessage and MaxSIPUDPMessage bound sip_max_udp_message: below
	// 1300 bytes ordinary INVITEs would not fit; a UDP datagram carries at
	// most 65507 bytes, and sipgo needs some room below that.
	MinSIPUDPMessage = 1300
	MaxSIPUDPMessage = 65000
)

// Validate checks every setting and returns every problem at once, as an
// errors.Join of *FieldError (nil when the Config is usable). It does not
// touch the file system; see CheckDataDir.
func (c Config) Validate() error {
	return joinFieldErrors(c.validate(func(string) string { return "" }))
}

// validate checks c; source tells, for a field name, where its value came
// from.
func (c Config) validate(source func(field string) string) []*FieldError {
	var errs []*FieldError
	bad := func(name, format string, args ...any) {
		errs = append(errs, &FieldError{Field: name, Source: source(name), Problem: fmt.Sprintf(format, args...)})
	}
	// later picks, of two clashing settings, the one set with the higher
	// precedence: that is the change that made them clash.
	later := func(a, b string) (string, string) {
		if sourceRank(source(b)) > sourceRank(source(a)) {
			return b, a
		}
		return a, b
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "is empty; want a directory such as \"./data\"")
	}

	addrs := []struct{ name, value string }{
		{"http_addr", c.HTTPAddr},
		{"https_addr", c.HTTPSAddr},
		{"sip_addr", c.SIPAddr},
		{"sip_tls_addr", c.SIPTLSAddr},
	}
	if c.WebRTCAddr != "" {
		addrs = append(addrs, struct{ name, value string }{"webrtc_addr", c.WebRTCAddr})
	}
	addrOK := make(map[string]bool)
	for _, a := range addrs {
		if err := checkAddr(a.value); err != nil {
			bad(a.name, "%s", err)
			continue
		}
		addrOK[a.name] = true
	}
	// SIP listens on TCP as well as UDP, so it cannot share a TCP port with
	// the web listeners; SIP over TLS is TCP too.
	for _, pair := range [][2]string{
		{"https_addr", "http_addr"}, {"sip_addr", "http_addr"}, {"sip_addr", "https_addr"},
		{"sip_tls_addr", "http_addr"}, {"sip_tls_addr", "https_addr"}, {"sip_tls_addr", "sip_addr"},
		{"webrtc_addr", "sip_addr"}, // both UDP
	} {
		a, b := pair[0], pair[1]
		if !addrOK[a] || !addrOK[b] {
			continue
		}
		va, vb := c.addr(a), c.addr(b)
		if sameListener(va, vb) {
			x, y := later(a, b)
			bad(x, "%q clashes with %s %q: they must listen on different ports", c.addr(x), y, c.addr(y))
		}
	}

	if n := c.SIPMaxUDPMessage; n < MinSIPUDPMessage || n > MaxSIPUDPMessage {
		bad("sip_max_udp_message", "%d is outside %d-%d bytes", n, MinSIPUDPMessage, MaxSIPUDPMessage)
	}

	rtpOK := true
	if err := checkRTP(c.RTPPorts); err != nil {
		bad("rtp_ports", "%s", err)
		rtpOK = false
	}
	// SIP's UDP socket would take a port the media allocator hands out.
	if rtpOK && addrOK["sip_addr"] {
		if port := addrPort(c.SIPAddr); c.RTPPorts.Contains(port) {
			x, _ := later("rtp_ports", "sip_addr")
			if x == "rtp_ports" {
				bad(x, "%q contains the SIP port %d of sip_addr", c.RTPPorts.String(), port)
			} else {
				bad(x, "port %d of %q is inside rtp_ports %q", port, c.SIPAddr, c.RTPPorts.String())
			}
		}
	}

	if c.PublicIP != "" {
		a, err := netip.ParseAddr(c.PublicIP)
		switch {
		case err != nil || a.Zone() != "":
			bad("public_ip", "%q is not an IP address", c.PublicIP)
		case a.IsUnspecified() || a.IsMulticast():
			bad("public_ip", "%q is not a unicast address", c.PublicIP)
		}
	}

	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not a log level (debug, info, warn, error)", c.LogLevel)
	}

	for i, p := range c.TrustedNetworks {
		if !p.IsValid() {
			bad("trusted_networks", "entry %d is not a valid network", i+1)
		}
	}

	switch {
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		bad("tls_cert_file", "is set but tls_key_file is empty: set both files or neither")
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		bad("tls_key_file", "is set but tls_cert_file is empty: set both files or neither")
	}

	switch d := c.SessionTTL.Duration; {
	case d < MinSessionTTL:
		bad("session_ttl", "%q is below the minimum %s", c.SessionTTL.String(), Duration{MinSessionTTL}.String())
	case d > MaxSessionTTL:
		bad("session_ttl", "%q is above the maximum %s", c.SessionTTL.String(), Duration{MaxSessionTTL}.String())
	}
	for _, b := range []struct {
		name     string
		d        Duration
		min, max time.Duration
	}{
		{"ring_timeout", c.RingTimeout, 5 * time.Second, 10 * time.Minute},
		{"media_timeout", c.MediaTimeout, 10 * time.Second, time.Hour},
	} {
		if b.d.Duration < b.min || b.d.Duration > b.max {
			bad(b.name, "%q is outside %s to %s", b.d.String(), Duration{b.min}.String(), Duration{b.max}.String())
		}
	}
	return errs
}

// addr returns the address setting with the given YAML name.
func (c Config) addr(name string) string {
	switch name {
	case "http_addr":
		return c.HTTPAddr
	case "https_addr":
		return c.HTTPSAddr
	case "sip_tls_addr":
		return c.SIPTLSAddr
	case "webrtc_addr":
		return c.SeatMediaAddr()
	default:
		return c.SIPAddr
	}
}

// checkAddr checks a listen address: host:port, port 1-65535, host empty,
// an IP address or a DNS name.
func checkAddr(s string) error {
	if s == "" {
		return fmt.Errorf("is empty; want host:port such as \":8080\"")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. \":8080\" or \"192.0.2.1:8080\")", s)
	}
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !IsHostname(host) {
		return fmt.Errorf("%q: %q is neither an IP address nor a host name", s, host)
	}
	return nil
}

// IsHostname reports whether s is a syntactically valid DNS name
// (RFC 1123 labels; a trailing dot is allowed).
func IsHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// addrPort returns the port of a checked address.
func addrPort(s string) int {
	_, port, _ := net.SplitHostPort(s)
	n, _ := strconv.Atoi(port)
	return n
}

// sameListener reports whether two checked listen addresses would take the
// same socket: same port, and hosts that are equal or where either is a
// wildcard. Names are not resolved.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb {
		na, _ := strconv.Atoi(pa)
		nb, _ := strconv.Atoi(pb)
		if na != nb {
			return false
		}
	}
	if isWildcard(ha) || isWildcard(hb) {
		return true
	}
	ia, ea := netip.ParseAddr(ha)
	ib, eb := netip.ParseAddr(hb)
	if ea == nil && eb == nil {
		return ia.Unmap() == ib.Unmap()
	}
	return strings.EqualFold(strings.TrimSuffix(ha, "."), strings.TrimSuffix(hb, "."))
}

func isWildcard(host string) bool {
	if host == "" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsUnspecified()
}

// checkRTP checks the RTP range: within 1024-65535, first port even (RTP
// on even ports, RTCP on the odd port above), first below last, at least
// MinRTPPorts ports.
func checkRTP(r PortRange) error {
	switch {
	case r == PortRange{}:
		return fmt.Errorf("is not set; want FIRST-LAST such as \"10000-20000\"")
	case r.First < MinRTPPort || r.First > 65535:
		return fmt.Errorf("%q: first port %d is outside %d-65535", r.String(), r.First, MinRTPPort)
	case r.Last < MinRTPPort || r.Last > 65535:
		return fmt.Errorf("%q: last port %d is outside %d-65535", r.String(), r.Last, MinRTPPort)
	case r.First >= r.Last:
		return fmt.Errorf("%q is not a range: first port is not below last", r.String())
	case r.First%2 != 0:
		return fmt.Errorf("%q: first port must be even (RTP even, RTCP odd)", r.String())
	case r.Len() < MinRTPPorts:
		return fmt.Errorf("%q has %d ports; at least %d are needed", r.String(), r.Len(), MinRTPPorts)
	}
	return nil
}
