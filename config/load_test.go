package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// writeFile writes a config file into a temp dir and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, "http_addr: \":1001\"\nlog_level: warn\n")
	tests := []struct {
		name      string
		file      bool
		env, flag string // http_addr from the environment / flag; "" = unset
		want      string
	}{
		{"defaults only", false, "", "", ":8080"},
		{"file over default", true, "", "", ":1001"},
		{"env over default", false, ":1002", "", ":1002"},
		{"env over file", true, ":1002", "", ":1002"},
		{"flag over default", false, "", ":1003", ":1003"},
		{"flag over file", true, "", ":1003", ":1003"},
		{"flag over env", false, ":1002", ":1003", ":1003"},
		{"flag over env over file", true, ":1002", ":1003", ":1003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			var args []string
			if tt.file {
				env["APPLIANCE_CONFIG"] = file
			}
			if tt.env != "" {
				env["APPLIANCE_HTTP_ADDR"] = tt.env
			}
			if tt.flag != "" {
				args = append(args, "-http-addr", tt.flag)
			}
			c, err := load(t, args, env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.HTTPAddr != tt.want {
				t.Errorf("HTTPAddr = %q, want %q", c.HTTPAddr, tt.want)
			}
			// Settings the upper layers do not mention keep the file's value.
			wantLevel := "info"
			if tt.file {
				wantLevel = "warn"
			}
			if c.LogLevel != wantLevel {
				t.Errorf("LogLevel = %q, want %q", c.LogLevel, wantLevel)
			}
		})
	}
}

// TestLoadSource checks that a problem names the layer its value came from.
func TestLoadSource(t *testing.T) {
	file := writeFile(t, "# comment\nlog_level: loud\n")
	tests := []struct {
		name string
		file bool
		env  string
		flag string
		want want
	}{
		{"file", true, "", "", want{"log_level", "file " + file + " line 2"}},
		{"env over file", true, "shout", "", want{"log_level", "APPLIANCE_LOG_LEVEL"}},
		{"flag over env", false, "shout", "yell", want{"log_level", "-log-level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"APPLIANCE_LOG_LEVEL": tt.env}
			if tt.file {
				env["APPLIANCE_CONFIG"] = file
			}
			var args []string
			if tt.flag != "" {
				args = []string{"-log-level", tt.flag}
			}
			_, err := load(t, args, env)
			checkProblems(t, err, []want{tt.want})
		})
	}
}

// TestLoadEveryEnvAndFlag sets each setting through its environment
// variable and through its flag.
func TestLoadEveryEnvAndFlag(t *testing.T) {
	tests := []struct {
		env, flag, value string
		check            func(c Config) bool
	}{
		{"APPLIANCE_DATA_DIR", "-data-dir", "/var/lib/ccbox", func(c Config) bool { return c.DataDir == "/var/lib/ccbox" }},
		{"APPLIANCE_HTTP_ADDR", "-http-addr", "127.0.0.1:80", func(c Config) bool { return c.HTTPAddr == "127.0.0.1:80" }},
		{"APPLIANCE_HTTPS_ADDR", "-https-addr", ":443", func(c Config) bool { return c.HTTPSAddr == ":443" }},
		{"APPLIANCE_SIP_ADDR", "-sip-addr", ":5070", func(c Config) bool { return c.SIPAddr == ":5070" }},
		{"APPLIANCE_SIP_TLS_ADDR", "-sip-tls-addr", "127.0.0.1:5071", func(c Config) bool { return c.SIPTLSAddr == "127.0.0.1:5071" }},
		{"APPLIANCE_SIP_MAX_UDP_MESSAGE", "-sip-max-udp-message", "9000", func(c Config) bool { return c.SIPMaxUDPMessage == 9000 }},
		{"APPLIANCE_RTP_PORTS", "-rtp-ports", "30000-30999", func(c Config) bool { return c.RTPPorts == PortRange{30000, 30999} }},
		{"APPLIANCE_PUBLIC_IP", "-public-ip", "203.0.113.9", func(c Config) bool { return c.PublicIP == "203.0.113.9" }},
		{"APPLIANCE_ADMIN_PASSWORD", "", "first-start-secret", func(c Config) bool { return c.AdminPassword == "first-start-secret" }},
		{"APPLIANCE_LOG_LEVEL", "-log-level", "debug", func(c Config) bool { return c.LogLevel == "debug" }},
		{"APPLIANCE_TRUSTED_NETWORKS", "-trusted-networks", "10.0.0.0/8, 192.168.1.7 ,fd00::/8", func(c Config) bool {
			return reflect.DeepEqual(c.TrustedNetworks, []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/8"),
			})
		}},
		{"APPLIANCE_TLS_CERT_FILE", "-tls-cert-file", "/etc/c.pem", func(c Config) bool { return c.TLSCertFile == "/etc/c.pem" }},
		{"APPLIANCE_TLS_KEY_FILE", "-tls-key-file", "/etc/k.pem", func(c Config) bool { return c.TLSKeyFile == "/etc/k.pem" }},
		{"APPLIANCE_SESSION_TTL", "-session-ttl", "8h30m", func(c Config) bool { return c.SessionTTL.Duration == 8*time.Hour+30*time.Minute }},
	}
	for _, tt := range tests {
		// The TLS files must come in pairs; give the other half by default.
		pair := map[string]string{}
		if tt.env == "APPLIANCE_TLS_CERT_FILE" {
			pair["APPLIANCE_TLS_KEY_FILE"] = "/etc/k.pem"
		}
		if tt.env == "APPLIANCE_TLS_KEY_FILE" {
			pair["APPLIANCE_TLS_CERT_FILE"] = "/etc/c.pem"
		}
		t.Run(tt.env, func(t *testing.T) {
			env := map[string]string{tt.env: tt.value}
			for k, v := range pair {
				env[k] = v
			}
			c, err := load(t, nil, env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("%s=%q not applied: %+v", tt.env, tt.value, c)
			}
		})
		if tt.flag == "" {
			continue
		}
		t.Run(tt.flag, func(t *testing.T) {
			c, err := load(t, []string{tt.flag, tt.value}, pair)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("%s %q not applied: %+v", tt.flag, tt.value, c)
			}
		})
	}
}

func TestLoadNoPasswordFlag(t *testing.T) {
	fs := newFlagSet()
	AddFlags(fs)
	for _, name := range []string{"admin-password", "password"} {
		if fs.Lookup(name) != nil {
			t.Errorf("flag -%s exists; a password on the command line shows in ps", name)
		}
	}
}

func TestLoadEnvAndFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []want
	}{
		{"env range reversed", nil, map[string]string{"APPLIANCE_RTP_PORTS": "10-5"}, []want{{"rtp_ports", "APPLIANCE_RTP_PORTS"}}},
		{"env range rules", nil, map[string]string{"APPLIANCE_RTP_PORTS": "10001-10050"}, []want{{"rtp_ports", "APPLIANCE_RTP_PORTS"}}},
		{"env duration", nil, map[string]string{"APPLIANCE_SESSION_TTL": "a day"}, []want{{"session_ttl", "APPLIANCE_SESSION_TTL"}}},
		{"env networks", nil, map[string]string{"APPLIANCE_TRUSTED_NETWORKS": "10.0.0.0/8,bogus,10.0.0.0/33"}, []want{{"trusted_networks", "APPLIANCE_TRUSTED_NETWORKS"}}},
		{"env public ip", nil, map[string]string{"APPLIANCE_PUBLIC_IP": "example.com"}, []want{{"public_ip", "APPLIANCE_PUBLIC_IP"}}},
		{"flag port", []string{"-http-addr", ":70000"}, nil, []want{{"http_addr", "-http-addr"}}},
		{"flag range", []string{"-rtp-ports", "x"}, nil, []want{{"rtp_ports", "-rtp-ports"}}},
		{"flag duration too short", []string{"-session-ttl", "30s"}, nil, []want{{"session_ttl", "-session-ttl"}}},
		{"https clashes with default http", nil, map[string]string{"APPLIANCE_HTTPS_ADDR": ":8080"}, []want{{"https_addr", "APPLIANCE_HTTPS_ADDR"}}},
		{"http flag clashes with default https", []string{"-http-addr", ":8443"}, nil, []want{{"http_addr", "-http-addr"}}},
		{"flag beats env in a clash", []string{"-https-addr", ":9000"}, map[string]string{"APPLIANCE_HTTP_ADDR": ":9000"}, []want{{"https_addr", "-https-addr"}}},
		{"rtp flag swallows default sip port", []string{"-rtp-ports", "5000-6000"}, nil, []want{{"rtp_ports", "-rtp-ports"}}},
		{"env udp message not a number", nil, map[string]string{"APPLIANCE_SIP_MAX_UDP_MESSAGE": "4k"}, []want{{"sip_max_udp_message", "APPLIANCE_SIP_MAX_UDP_MESSAGE"}}},
		{"flag udp message too small", []string{"-sip-max-udp-message", "512"}, nil, []want{{"sip_max_udp_message", "-sip-max-udp-message"}}},
		{"sip flag clashes with default sip tls", []string{"-sip-addr", ":5061"}, nil, []want{{"sip_addr", "-sip-addr"}}},
		{"sip tls env clashes with default https", nil, map[string]string{"APPLIANCE_SIP_TLS_ADDR": ":8443"}, []want{{"sip_tls_addr", "APPLIANCE_SIP_TLS_ADDR"}}},
		{"cert without key", nil, map[string]string{"APPLIANCE_TLS_CERT_FILE": "c.pem"}, []want{{"tls_cert_file", "APPLIANCE_TLS_CERT_FILE"}}},
		{"every problem at once", []string{"-log-level", "chatty", "-sip-addr", "nowhere"}, map[string]string{
			"APPLIANCE_RTP_PORTS":   "1-2-3",
			"APPLIANCE_SESSION_TTL": "forever",
			"APPLIANCE_DATA_DIR":    " ",
		}, []want{
			{"rtp_ports", "APPLIANCE_RTP_PORTS"},
			{"session_ttl", "APPLIANCE_SESSION_TTL"},
			{"data_dir", "APPLIANCE_DATA_DIR"},
			{"sip_addr", "-sip-addr"},
			{"log_level", "-log-level"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.args, tt.env)
			checkProblems(t, err, tt.want)
		})
	}
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []want // sources are "line N" here; the test adds the file name
		check   func(c Config) bool
	}{
		{name: "empty", content: ""},
		{name: "comments only", content: "# nothing here\n\n# still nothing\n"},
		{name: "empty document", content: "---\n"},
		{name: "explicit null document", content: "~\n"},
		{
			name: "every key",
			content: `data_dir: /srv/ccbox
http_addr: 127.0.0.1:8081
https_addr: "[::]:8444"
sip_addr: ":5070"
sip_tls_addr: 127.0.0.1:5071
sip_max_udp_message: 8000
rtp_ports: 40000-40199
public_ip: 198.51.100.4
admin_password: "p@ss: word"
log_level: error
trusted_networks:
  - 192.168.10.0/24
  - 10.1.2.3/8
tls_cert_file: /etc/ccbox/cert.pem
tls_key_file: /etc/ccbox/key.pem
session_ttl: 30m
ring_timeout: 25s
media_timeout: 2m
`,
			check: func(c Config) bool {
				return reflect.DeepEqual(c, Config{
					DataDir: "/srv/ccbox", HTTPAddr: "127.0.0.1:8081", HTTPSAddr: "[::]:8444", SIPAddr: ":5070",
					SIPTLSAddr: "127.0.0.1:5071", SIPMaxUDPMessage: 8000,
					RTPPorts: PortRange{40000, 40199}, PublicIP: "198.51.100.4", AdminPassword: "p@ss: word",
					LogLevel: "error",
					TrustedNetworks: []netip.Prefix{
						netip.MustParsePrefix("192.168.10.0/24"), netip.MustParsePrefix("10.0.0.0/8"),
					},
					TLSCertFile: "/etc/ccbox/cert.pem", TLSKeyFile: "/etc/ccbox/key.pem",
					SessionTTL: Duration{30 * time.Minute}, RingTimeout: Duration{25 * time.Second},
					MediaTimeout: Duration{2 * time.Minute},
				})
			},
		},
		{
			name:    "flow list and anchors",
			content: "nets: &n [\"10.0.0.0/8\"]\n",
			want:    []want{{"nets", "line 1"}},
		},
		{
			name:    "alias",
			content: "log_level: &lvl debug\n",
			check:   func(c Config) bool { return c.LogLevel == "debug" },
		},
		{
			name:    "null values mean empty",
			content: "public_ip:\ntrusted_networks:\nadmin_password: ~\n",
			check: func(c Config) bool {
				return c.PublicIP == "" && c.TrustedNetworks == nil && c.AdminPassword == ""
			},
		},
		{
			name:    "null for a required setting",
			content: "\ndata_dir:\n",
			want:    []want{{"data_dir", "line 2"}},
		},
		{
			name:    "every unknown key with its line",
			content: "http_addr: \":8081\"\nhttp_address: \":1\"\n# gap\ncolour: blue\nlog-level: debug\n",
			want:    []want{{"http_address", "line 2"}, {"colour", "line 4"}, {"log-level", "line 5"}},
		},
		{
			name:    "syntax error",
			content: "http_addr: \":8081\"\nlog_level: [info\nsip_addr: \":5060\"\n",
			want:    []want{{"", "line 2"}}, // the unclosed list
		},
		{
			name:    "syntax error on the first line",
			content: "a: @x\n",
			want:    []want{{"", "line 1"}},
		},
		{
			name:    "item after a mapping",
			content: "log_level: info\n- sip_addr\n",
			want:    []want{{"", "line 2"}},
		},
		{
			name:    "error after a multi-line flow list",
			content: "trusted_networks: [\n  10.0.0.0/8]\nlog_level: : x\n",
			want:    []want{{"", "line 3"}},
		},
		{
			name:    "unclosed mapping",
			content: "public_ip: {v4: 192.0.2.1\nlog_level: info\n",
			want:    []want{{"", "line 1"}},
		},
		{
			name:    "tab indentation",
			content: "trusted_networks:\n\t- 10.0.0.0/8\n",
			want:    []want{{"", "line 2"}},
		},
		{
			name:    "repeated key",
			content: "log_level: debug\nlog_level: warn\n",
			want:    []want{{"log_level", "line 2"}},
		},
		{
			name:    "list where a value is expected",
			content: "http_addr:\n  - \":80\"\n",
			want:    []want{{"http_addr", "line 2"}},
		},
		{
			name:    "mapping where a value is expected",
			content: "public_ip: {v4: 192.0.2.1}\n",
			want:    []want{{"public_ip", "line 1"}},
		},
		{
			name:    "bad values each with their line",
			content: "rtp_ports: 10-5\nsession_ttl: 12\nhttps_addr: \":8080\"\ntrusted_networks:\n  - 10.0.0.0/8\n  - not-a-net\n  - [1]\n",
			want: []want{
				{"rtp_ports", "line 1"},
				{"session_ttl", "line 2"},
				{"trusted_networks", "line 6"},
				{"trusted_networks", "line 7"},
				{"https_addr", "line 3"},
			},
		},
		{
			name:    "network list as a single value",
			content: "trusted_networks: 10.0.0.0/8\n",
			want:    []want{{"trusted_networks", "line 1"}},
		},
		{
			name:    "rules checked on file values",
			content: "rtp_ports: 10001-10500\ntls_key_file: k.pem\n",
			want:    []want{{"rtp_ports", "line 1"}, {"tls_key_file", "line 2"}},
		},
		{
			name:    "top level is a list",
			content: "- http_addr: \":80\"\n",
			want:    []want{{"", "line 1"}},
		},
		{
			name:    "two documents",
			content: "log_level: debug\n---\nlog_level: warn\n",
			want:    []want{{"", "line 2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			c, err := load(t, []string{"-config", path}, nil)
			wants := make([]want, len(tt.want))
			for i, w := range tt.want {
				wants[i] = want{w.field, "file " + path + " " + w.source}
			}
			checkProblems(t, err, wants)
			if tt.check != nil && !tt.check(c) {
				t.Errorf("unexpected config: %+v", c)
			}
			if tt.check == nil && tt.want == nil && !reflect.DeepEqual(c, Default()) {
				t.Errorf("config = %+v, want the defaults", c)
			}
		})
	}
}

// A bad file value is reported even when a higher layer overrides it: the
// file is still wrong and will bite when the override goes away.
func TestLoadFileErrorKeptUnderOverride(t *testing.T) {
	path := writeFile(t, "rtp_ports: nope\n")
	c, err := load(t, []string{"-rtp-ports", "30000-30999"}, map[string]string{"APPLIANCE_CONFIG": path})
	checkProblems(t, err, []want{{"rtp_ports", "file " + path + " line 1"}})
	if c.RTPPorts != (PortRange{30000, 30999}) {
		t.Errorf("RTPPorts = %v, want the flag's value", c.RTPPorts)
	}
}

func TestLoadConfigFileChoice(t *testing.T) {
	fileA := writeFile(t, "log_level: debug\n")
	fileB := writeFile(t, "log_level: warn\n")
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name      string
		args      []string
		env       string
		wantLevel string
		want      []want
		notExist  bool
	}{
		{"no file", nil, "", "info", nil, false},
		{"env file", nil, fileA, "debug", nil, false},
		{"flag file", []string{"-config", fileB}, "", "warn", nil, false},
		{"flag file beats env file", []string{"-config", fileB}, fileA, "warn", nil, false},
		{"empty flag means no file", []string{"-config", ""}, fileA, "info", nil, false},
		{"missing flag file", []string{"-config", missing}, "", "info", []want{{"", "-config"}}, true},
		{"missing env file", nil, missing, "info", []want{{"", "APPLIANCE_CONFIG"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.args, map[string]string{"APPLIANCE_CONFIG": tt.env})
			checkProblems(t, err, tt.want)
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tt.notExist)
			}
			if c.LogLevel != tt.wantLevel {
				t.Errorf("LogLevel = %q, want %q", c.LogLevel, tt.wantLevel)
			}
		})
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	dir := t.TempDir() // a directory cannot be read as a file
	_, err := load(t, []string{"-config", dir}, nil)
	checkProblems(t, err, []want{{"", "-config"}})
}

func TestUnknownKeySuggestion(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"http-addr", "http_addr"},
		{"sesion_ttl", "session_ttl"},
		{"RTP_PORTS", "rtp_ports"},
		{"colour", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			msg := unknownKey(tt.key, fields())
			wantMsg := "unknown key"
			if tt.want != "" {
				wantMsg = "unknown key (did you mean \"" + tt.want + "\"?)"
			}
			if msg != wantMsg {
				t.Errorf("unknownKey(%q) = %q, want %q", tt.key, msg, wantMsg)
			}
		})
	}
}
