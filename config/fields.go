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
		stringField("data_dir", "APPLIANCE_DATA_DIR", "data-dir", "data directory (store, recordings, self-signed certificate)", func(c *Config) *string { return &c.DataDir }),
		stringField("http_addr", "APPLIANCE_HTTP_ADDR", "http-addr", "HTTP listen address, host:port", func(c *Config) *string { return &c.HTTPAddr }),
		stringField("https_addr", "APPLIANCE_HTTPS_ADDR", "https-addr", "HTTPS listen address, host:port", func(c *Config) *string { return &c.HTTPSAddr }),
		stringField("sip_addr", "APPLIANCE_SIP_ADDR", "sip-addr", "SIP listen address for UDP and TCP, host:port", func(c *Config) *string { return &c.SIPAddr }),
		stringField("sip_tls_addr", "APPLIANCE_SIP_TLS_ADDR", "sip-tls-addr", "SIP over TLS listen address, host:port (the HTTPS certificate)", func(c *Config) *string { return &c.SIPTLSAddr }),
		stringField("webrtc_addr", "APPLIANCE_WEBRTC_ADDR", "webrtc-addr", "UDP address for browser seats' media, host:port (empty: the HTTPS address)", func(c *Config) *string { return &c.WebRTCAddr }),
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
		stringField("public_ip", "APPLIANCE_PUBLIC_IP", "public-ip", "public IP address for SIP and SDP behind NAT (empty: automatic)", func(c *Config) *string { return &c.PublicIP }),
		// No flag: a password on the command line shows in ps.
		stringField("admin_password", "APPLIANCE_ADMIN_PASSWORD", "", "", func(c *Config) *string { return &c.AdminPassword }),
		stringField("log_level", "APPLIANCE_LOG_LEVEL", "log-level", "log level: debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
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
		stringField("tls_cert_file", "APPLIANCE_TLS_CERT_FILE", "tls-cert-file", "PEM certificate file for HTTPS (empty: self-signed, kept in the data directory)", func(c *Config) *string { return &c.TLSCertFile }),
		stringField("tls_key_file", "APPLIANCE_TLS_KEY_FILE", "tls-key-file", "PEM private key file for -tls-cert-file", func(c *Config) *string { return &c.TLSKeyFile }),
		durationField("session_ttl", "APPLIANCE_SESSION_TTL", "session-ttl", "web session lifetime, 1m to 720h",
			func(c *Config) *Duration { return &c.SessionTTL }),
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

// stringField is a field holding a string as given (flag "" for none).
func stringField(name, env, flag, usage string, at func(*Config) *string) field {
	return field{
		name: name, env: env, flag: flag, usage: usage,
		set: func(c *Config, s string) error { *at(c) = s; return nil },
		get: func(c Config) string { return *at(&c) },
	}
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
