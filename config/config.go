package config

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// Config is the bootstrap configuration. The zero value is not usable: start
// from Default (or Flags.Load) and run Validate.
type Config struct {
	// DataDir holds the store, recordings, prompts and the self-signed
	// certificate. Relative paths are relative to the working directory.
	DataDir string `yaml:"data_dir"`
	// HTTPAddr is the plain-HTTP listen address, host:port; an empty host
	// listens on every address.
	HTTPAddr string `yaml:"http_addr"`
	// HTTPSAddr is the HTTPS listen address, host:port. Browsers give the
	// microphone to the agent workbench only over HTTPS (or on localhost).
	HTTPSAddr string `yaml:"https_addr"`
	// SIPAddr is the SIP listen address, host:port, for both UDP and TCP.
	SIPAddr string `yaml:"sip_addr"`
	// SIPTLSAddr is the SIP-over-TLS listen address, host:port (TCP). It
	// uses the same certificate as HTTPS.
	SIPTLSAddr string `yaml:"sip_tls_addr"`
	// WebRTCAddr is the one UDP address every browser seat's media uses
	// (ICE over one port), host:port; empty: the HTTPS address's, over UDP,
	// so one firewall rule (TCP and UDP 8443) serves the softphone.
	WebRTCAddr string `yaml:"webrtc_addr"`
	// SIPMaxUDPMessage is the largest SIP message, in bytes, the box sends
	// over UDP, between 1300 and 65000. An INVITE whose SDP offers several
	// codecs easily passes 1300 bytes, sipgo's own limit.
	SIPMaxUDPMessage int `yaml:"sip_max_udp_message"`
	// RTPPorts is the inclusive UDP port range for media.
	RTPPorts PortRange `yaml:"rtp_ports"`
	// PublicIP is the address written into SDP and SIP headers when the box
	// sits behind NAT; empty means it is discovered from the local interfaces.
	PublicIP string `yaml:"public_ip"`
	// AdminPassword is the password of the "admin" user created on first
	// start with an empty data directory, and unused afterwards; empty means
	// a random one is generated and logged once.
	AdminPassword string `yaml:"admin_password"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `yaml:"log_level"`
	// TrustedNetworks are networks whose addresses are never locked out after
	// failed logins; their failures do not lock accounts either, and SIP never
	// bans them after failed digest authentication; nil means none.
	TrustedNetworks []netip.Prefix `yaml:"trusted_networks"`
	// TLSCertFile and TLSKeyFile name an administrator-installed PEM
	// certificate and key. Both empty means a self-signed certificate kept in
	// DataDir/tls; exactly one set is an error.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// SessionTTL is how long a web login stays valid, between 1m and 720h.
	SessionTTL Duration `yaml:"session_ttl"`
	// RingTimeout is how long a called extension rings before the caller
	// hears no-answer, between 5s and 10m.
	RingTimeout Duration `yaml:"ring_timeout"`
	// MediaTimeout hangs up a call whose leg has sent no RTP for this long
	// (a phone that died or lost its network), between 10s and 1h.
	MediaTimeout Duration `yaml:"media_timeout"`
}

// Default returns the embedded defaults: the configuration the appliance
// runs with when given no file, environment or flags.
func Default() Config {
	return Config{
		DataDir:          "./data",
		HTTPAddr:         ":8080",
		HTTPSAddr:        ":8443",
		SIPAddr:          ":5060",
		SIPTLSAddr:       ":5061",
		SIPMaxUDPMessage: 4096,
		RTPPorts:         PortRange{First: 10000, Last: 20000},
		LogLevel:         "info",
		SessionTTL:       Duration{12 * time.Hour},
		RingTimeout:      Duration{60 * time.Second},
		MediaTimeout:     Duration{60 * time.Second},
	}
}

// SlogLevel returns LogLevel as a slog.Level. An unknown level (which
// Validate rejects) gives slog.LevelInfo.
func (c Config) SlogLevel() slog.Level {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// LogValue lets the effective configuration be logged at start-up without
// leaking the admin password: only whether one was given is shown.
func (c Config) LogValue() slog.Value {
	password := "random"
	if c.AdminPassword != "" {
		password = "set"
	}
	return slog.GroupValue(
		slog.String("data_dir", c.DataDir),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("https_addr", c.HTTPSAddr),
		slog.String("sip_addr", c.SIPAddr),
		slog.String("sip_tls_addr", c.SIPTLSAddr),
		slog.String("webrtc_addr", c.SeatMediaAddr()),
		slog.Int("sip_max_udp_message", c.SIPMaxUDPMessage),
		slog.String("rtp_ports", c.RTPPorts.String()),
		slog.String("public_ip", c.PublicIP),
		slog.String("admin_password", password),
		slog.String("log_level", c.LogLevel),
		slog.String("trusted_networks", formatNetworks(c.TrustedNetworks)),
		slog.String("tls_cert_file", c.TLSCertFile),
		slog.String("tls_key_file", c.TLSKeyFile),
		slog.String("session_ttl", c.SessionTTL.String()),
		slog.String("ring_timeout", c.RingTimeout.String()),
		slog.String("media_timeout", c.MediaTimeout.String()),
	)
}

// SeatMediaAddr is the UDP address of the browser seats' media: WebRTCAddr,
// or the HTTPS address when that is empty.
func (c Config) SeatMediaAddr() string {
	if c.WebRTCAddr != "" {
		return c.WebRTCAddr
	}
	return c.HTTPSAddr
}
