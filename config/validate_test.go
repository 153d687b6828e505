package config

import (
	"net/netip"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string // fields with a problem, in order; nil: valid
	}{
		{"defaults", func(c *Config) {}, nil},

		{"data_dir empty", func(c *Config) { c.DataDir = "" }, []string{"data_dir"}},
		{"data_dir blank", func(c *Config) { c.DataDir = "  " }, []string{"data_dir"}},

		{"http_addr host and port", func(c *Config) { c.HTTPAddr = "192.0.2.1:80" }, nil},
		{"http_addr name", func(c *Config) { c.HTTPAddr = "pbx.example.com:80" }, nil},
		{"http_addr IPv6", func(c *Config) { c.HTTPAddr = "[::1]:8080" }, nil},
		{"http_addr localhost", func(c *Config) { c.HTTPAddr = "localhost:8080" }, nil},
		{"http_addr empty", func(c *Config) { c.HTTPAddr = "" }, []string{"http_addr"}},
		{"http_addr no port", func(c *Config) { c.HTTPAddr = "8080" }, []string{"http_addr"}},
		{"http_addr port 0", func(c *Config) { c.HTTPAddr = ":0" }, []string{"http_addr"}},
		{"http_addr port too big", func(c *Config) { c.HTTPAddr = ":70000" }, []string{"http_addr"}},
		{"http_addr named port", func(c *Config) { c.HTTPAddr = ":http" }, []string{"http_addr"}},
		{"http_addr bad host", func(c *Config) { c.HTTPAddr = "bad_host!:80" }, []string{"http_addr"}},
		{"http_addr unbracketed IPv6", func(c *Config) { c.HTTPAddr = "::1:8080" }, []string{"http_addr"}},
		{"https_addr bad", func(c *Config) { c.HTTPSAddr = "x" }, []string{"https_addr"}},
		{"sip_addr bad", func(c *Config) { c.SIPAddr = ":99999" }, []string{"sip_addr"}},
		{"http equals https", func(c *Config) { c.HTTPSAddr = ":8080" }, []string{"https_addr"}},
		{"http wildcard overlaps https host", func(c *Config) { c.HTTPSAddr = "127.0.0.1:8080" }, []string{"https_addr"}},
		{"http and https same port on different hosts", func(c *Config) {
			c.HTTPAddr = "127.0.0.1:8080"
			c.HTTPSAddr = "192.0.2.1:8080"
		}, nil},
		{"http 0.0.0.0 overlaps https", func(c *Config) { c.HTTPAddr = "0.0.0.0:8443" }, []string{"https_addr"}},
		{"sip shares TCP port with http", func(c *Config) { c.SIPAddr = ":8080" }, []string{"sip_addr"}},
		{"sip inside rtp range", func(c *Config) { c.SIPAddr = ":15060" }, []string{"rtp_ports"}},
		{"sip_tls_addr bad", func(c *Config) { c.SIPTLSAddr = "5061" }, []string{"sip_tls_addr"}},
		{"sip_tls_addr empty", func(c *Config) { c.SIPTLSAddr = "" }, []string{"sip_tls_addr"}},
		{"sip_tls_addr host", func(c *Config) { c.SIPTLSAddr = "127.0.0.1:5061" }, nil},
		{"sip_tls_addr equals sip_addr", func(c *Config) { c.SIPTLSAddr = ":5060" }, []string{"sip_tls_addr"}},
		{"sip_tls_addr equals https_addr", func(c *Config) { c.SIPTLSAddr = "0.0.0.0:8443" }, []string{"sip_tls_addr"}},
		{"sip_tls_addr equals http_addr", func(c *Config) { c.SIPTLSAddr = ":8080" }, []string{"sip_tls_addr"}},
		{"sip_tls_addr same port other host", func(c *Config) {
			c.SIPAddr = "127.0.0.1:5060"
			c.SIPTLSAddr = "192.0.2.1:5060"
		}, nil},
		// TLS is TCP only: the RTP range (UDP) may hold its port.
		{"sip_tls_addr inside rtp range", func(c *Config) { c.SIPTLSAddr = ":15061" }, nil},
		{"sip_max_udp_message min", func(c *Config) { c.SIPMaxUDPMessage = 1300 }, nil},
		{"sip_max_udp_message max", func(c *Config) { c.SIPMaxUDPMessage = 65000 }, nil},
		{"sip_max_udp_message too small", func(c *Config) { c.SIPMaxUDPMessage = 1299 }, []string{"sip_max_udp_message"}},
		{"sip_max_udp_message too big", func(c *Config) { c.SIPMaxUDPMessage = 65001 }, []string{"sip_max_udp_message"}},
		{"sip_max_udp_message zero", func(c *Config) { c.SIPMaxUDPMessage = 0 }, []string{"sip_max_udp_message"}},

		{"rtp minimal", func(c *Config) { c.RTPPorts = PortRange{1024, 1123} }, nil},
		{"rtp top", func(c *Config) { c.RTPPorts = PortRange{65000, 65535} }, nil},
		{"rtp unset", func(c *Config) { c.RTPPorts = PortRange{} }, []string{"rtp_ports"}},
		{"rtp privileged", func(c *Config) { c.RTPPorts = PortRange{1000, 2000} }, []string{"rtp_ports"}},
		{"rtp above 65535", func(c *Config) { c.RTPPorts = PortRange{60000, 70000} }, []string{"rtp_ports"}},
		{"rtp odd first", func(c *Config) { c.RTPPorts = PortRange{10001, 20000} }, []string{"rtp_ports"}},
		{"rtp first equals last", func(c *Config) { c.RTPPorts = PortRange{10000, 10000} }, []string{"rtp_ports"}},
		{"rtp reversed", func(c *Config) { c.RTPPorts = PortRange{20000, 10000} }, []string{"rtp_ports"}},
		{"rtp 99 ports", func(c *Config) { c.RTPPorts = PortRange{10000, 10098} }, []string{"rtp_ports"}},

		{"public_ip v4", func(c *Config) { c.PublicIP = "203.0.113.7" }, nil},
		{"public_ip v6", func(c *Config) { c.PublicIP = "2001:db8::7" }, nil},
		{"public_ip name", func(c *Config) { c.PublicIP = "pbx.example.com" }, []string{"public_ip"}},
		{"public_ip CIDR", func(c *Config) { c.PublicIP = "203.0.113.0/24" }, []string{"public_ip"}},
		{"public_ip unspecified", func(c *Config) { c.PublicIP = "0.0.0.0" }, []string{"public_ip"}},
		{"public_ip multicast", func(c *Config) { c.PublicIP = "224.0.0.1" }, []string{"public_ip"}},

		{"log_level debug", func(c *Config) { c.LogLevel = "debug" }, nil},
		{"log_level upper case", func(c *Config) { c.LogLevel = "WARN" }, nil},
		{"log_level unknown", func(c *Config) { c.LogLevel = "verbose" }, []string{"log_level"}},
		{"log_level empty", func(c *Config) { c.LogLevel = "" }, []string{"log_level"}},

		{"trusted networks", func(c *Config) {
			c.TrustedNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
		}, nil},
		{"trusted network zero", func(c *Config) { c.TrustedNetworks = []netip.Prefix{{}} }, []string{"trusted_networks"}},

		{"tls both", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = "c.pem", "k.pem" }, nil},
		{"tls cert only", func(c *Config) { c.TLSCertFile = "c.pem" }, []string{"tls_cert_file"}},
		{"tls key only", func(c *Config) { c.TLSKeyFile = "k.pem" }, []string{"tls_key_file"}},

		{"session_ttl min", func(c *Config) { c.SessionTTL = Duration{time.Minute} }, nil},
		{"ring_timeout too short", func(c *Config) { c.RingTimeout = Duration{time.Second} }, []string{"ring_timeout"}},
		{"media_timeout too long", func(c *Config) { c.MediaTimeout = Duration{2 * time.Hour} }, []string{"media_timeout"}},
		{"session_ttl max", func(c *Config) { c.SessionTTL = Duration{720 * time.Hour} }, nil},
		{"session_ttl too short", func(c *Config) { c.SessionTTL = Duration{59 * time.Second} }, []string{"session_ttl"}},
		{"session_ttl too long", func(c *Config) { c.SessionTTL = Duration{721 * time.Hour} }, []string{"session_ttl"}},
		{"session_ttl zero", func(c *Config) { c.SessionTTL = Duration{} }, []string{"session_ttl"}},

		{"every problem at once", func(c *Config) {
			c.DataDir = ""
			c.HTTPAddr = "nope"
			c.RTPPorts = PortRange{3, 5}
			c.LogLevel = "x"
			c.SessionTTL = Duration{}
		}, []string{"data_dir", "http_addr", "rtp_ports", "log_level", "session_ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			wants := make([]want, len(tt.want))
			for i, f := range tt.want {
				wants[i] = want{field: f} // Validate does not know sources
			}
			checkProblems(t, err, wants)
		})
	}
}
