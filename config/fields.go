package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// field describes one setting: its names in each source and how to set it
// from text. The table below is the single place that ties YAML keys,
// environment variables and flags together.
type field struct {
	name  string // YAML key and FieldError.Field
	env   string // environment variable
	flag  string // flag name without "-"; empty: no flag
	usage string // flag help
	// set parses the text form (environment, flag, YAML scalar) into c. For
	// list settings the text form is comma-separated.
	set func(c *Config, s string) error
	// get returns the text form of the setting in c (flag help shows the
	// default with it).
	get func(c Config) string
	// item, set only for list settings, checks one YAML list item.
	item func(s string) error
}

// fields returns the table of settings, in the order of the Config struct
// (which is also the order problems are reported in).
func fields() []field {
	return []field{
		{
			name: "data_dir", env: "APPLIANCE_DATA_DIR", flag: "data-dir",
			usage: "data directory (store, recordings, self-signed certificate)",
			set:   func(c *Config, s string) error { c.DataDir = s; return nil },
			get:   func(c Config) string { return c.DataDir },
		},
		{
			name: "http_addr", env: "APPLIANCE_HTTP_ADDR", flag: "http-addr",
			usage: "HTTP listen address, host:port",
			set:   func(c *Config, s string) error { c.HTTPAddr = s; return nil },
			get:   func(c Config) string { return c.HTTPAddr },
		},
		{
			name: "https_addr", env: "APPLIANCE_HTTPS_ADDR", flag: "https-addr",
			usage: "HTTPS listen address, host:port",
			set:   func(c *Config, s string) error { c.HTTPSAddr = s; return nil },
			get:   func(c Config) string { return c.HTTPSAddr },
		},
		{
			name: "sip_addr", env: "APPLIANCE_SIP_ADDR", flag: "sip-addr",
			usage: "SIP listen address for UDP and TCP, host:port",
			set:   func(c *Config, s string) error { c.SIPAddr = s; return nil },
			get:   func(c Config) string { return c.SIPAddr },
		},
		{
			name: "sip_tls_addr", env: "APPLIANCE_SIP_TLS_ADDR", flag: "sip-tls-addr",
			usage: "SIP over TLS listen address, host:port (the HTTPS certificate)",
			set:   func(c *Config, s string) error { c.SIPTLSAddr = s; return nil },
			get:   func(c Config) string { return c.SIPTLSAddr },
		},
		{
			name: "sip_max_udp_message", env: "APPLIANCE_SIP_MAX_UDP_MESSAGE", flag: "sip-max-udp-message",
			usage: "largest SIP message sent over UDP, in bytes (1300-65000)",
			set: func(c *Config, s string) error {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					return fmt.Errorf("%q is not a number of bytes", s)
				}
				c.SIPMaxUDPMessage = n
				return nil
			},
			get: func(c Config) string { return strconv.Itoa(c.SIPMaxUDPMessage) },
		},
		{
			name: "rtp_ports", env: "APPLIANCE_RTP_PORTS", flag: "rtp-ports",
			usage: "UDP port range for media, FIRST-LAST",
			set: func(c *Config, s string) error {
				r, err := ParsePortRange(s)
				if err != nil {
					return err
				}
				c.RTPPorts = r
				return nil
			},
			get: func(c Config) string { return c.RTPPorts.String() },
		},
		{
			name: "public_ip", env: "APPLIANCE_PUBLIC_IP", flag: "public-ip",
			usage: "public IP address for SIP and SDP behind NAT (empty: automatic)",
			set:   func(c *Config, s string) error { c.PublicIP = s; return nil },
			get:   func(c Config) string { return c.PublicIP },
		},
		{
			// No flag: a password on the command line shows in ps.
			name: "admin_password", env: "APPLIANCE_ADMIN_PASSWORD",
			set: func(c *Config, s string) error { c.AdminPassword = s; return nil },
			get: func(c Config) string { return c.AdminPassword },
		},
		{
			name: "log_level", env: "APPLIANCE_LOG_LEVEL", flag: "log-level",
			usage: "log level: debug, info, warn or error",
			set:   func(c *Config, s string) error { c.LogLevel = s; return nil },
			get:   func(c Config) string { return c.LogLevel },
		},
		{
			name: "trusted_networks", env: "APPLIANCE_TRUSTED_NETWORKS", flag: "trusted-networks",
			usage: "comma-separated CIDRs exempt from the per-address login lock-out and SIP bans",
			set: func(c *Config, s string) error {
				p, err := parseNetworks(s)
				if err != nil {
					return err
				}
				c.TrustedNetworks = p
				return nil
			},
			get: func(c Config) string { return formatNetworks(c.TrustedNetworks) },
			item: func(s string) error {
				_, err := parseNetwork(s)
				return err
			},
		},
		{
			name: "tls_cert_file", env: "APPLIANCE_TLS_CERT_FILE", flag: "tls-cert-file",
			usage: "PEM certificate file for HTTPS (empty: self-signed, kept in the data directory)",
			set:   func(c *Config, s string) error { c.TLSCertFile = s; return nil },
			get:   func(c Config) string { return c.TLSCertFile },
		},
		{
			name: "tls_key_file", env: "APPLIANCE_TLS_KEY_FILE", flag: "tls-key-file",
			usage: "PEM private key file for -tls-cert-file",
			set:   func(c *Config, s string) error { c.TLSKeyFile = s; return nil },
			get:   func(c Config) string { return c.TLSKeyFile },
		},
		{
			name: "session_ttl", env: "APPLIANCE_SESSION_TTL", flag: "session-ttl",
			usage: "web session lifetime, 1m to 720h",
			set: func(c *Config, s string) error {
				d, err := ParseDuration(s)
				if err != nil {
					return err
				}
				c.SessionTTL = d
				return nil
			},
			get: func(c Config) string { return c.SessionTTL.String() },
		},
		durationField("ring_timeout", "APPLIANCE_RING_TIMEOUT", "ring-timeout", "how long a called extension rings, 5s to 10m",
			func(c *Config) *Duration { return &c.RingTimeout }),
		durationField("media_timeout", "APPLIANCE_MEDIA_TIMEOUT", "media-timeout", "hang up a call after this long without RTP, 10s to 1h",
			func(c *Config) *Duration { return &c.MediaTimeout }),
	}
}

// parseNetwork parses a CIDR; a bare address means that one address. Host
// bits below the prefix length are cleared ("10.1.2.3/8" is 10.0.0.0/8).
func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a network (CIDR such as \"192.168.1.0/24\")", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a network (CIDR such as \"192.168.1.0/24\")", s)
	}
	return p.Masked(), nil
}

// parseNetworks parses a comma-separated list of networks, reporting every
// bad entry. Empty entries are ignored, so "" is the empty list (nil).
func parseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		p, err := parseNetwork(part)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, joinProblems(errs)
	}
	return out, nil
}

// joinProblems joins several problems into one error with a one-line
// message ("a; b"), since it becomes the Problem of a single FieldError.
func joinProblems(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

func formatNetworks(p []netip.Prefix) string {
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = n.String()
	}
	return strings.Join(s, ",")
}

// durationField is a field holding a Duration.
func durationField(name, env, flag, usage string, at func(*Config) *Duration) field {
	return field{
		name: name, env: env, flag: flag, usage: usage,
		set: func(c *Config, s string) error {
			d, err := ParseDuration(s)
			if err != nil {
				return err
			}
			*at(c) = d
			return nil
		},
		get: func(c Config) string { return at(&c).String() },
	}
}
