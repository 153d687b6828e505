package config

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

// TestFieldTable checks that the settings table covers every YAML key of
// Config exactly once, that environment names follow APPLIANCE_<KEY>, and
// that every setting but the admin password has a flag named after it.
func TestFieldTable(t *testing.T) {
	var keys []string
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		keys = append(keys, ct.Field(i).Tag.Get("yaml"))
	}
	table := fields()
	if len(table) != len(keys) {
		t.Fatalf("table has %d settings, Config has %d fields", len(table), len(keys))
	}
	for i, fd := range table {
		if fd.name != keys[i] {
			t.Errorf("setting %d is %q, Config field is %q", i, fd.name, keys[i])
		}
		if want := "APPLIANCE_" + strings.ToUpper(fd.name); fd.env != want {
			t.Errorf("%s: env %q, want %q", fd.name, fd.env, want)
		}
		wantFlag := strings.ReplaceAll(fd.name, "_", "-")
		if fd.name == "admin_password" {
			wantFlag = ""
		}
		if fd.flag != wantFlag {
			t.Errorf("%s: flag %q, want %q", fd.name, fd.flag, wantFlag)
		}
		// The text form of the default must read back to the default.
		def := Default()
		c := Config{}
		if err := fd.set(&c, fd.get(def)); err != nil {
			t.Errorf("%s: default text %q does not parse: %v", fd.name, fd.get(def), err)
		}
		if fd.get(c) != fd.get(def) {
			t.Errorf("%s: round trip %q -> %q", fd.name, fd.get(def), fd.get(c))
		}
	}
}

func TestSlogLevel(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"error", slog.LevelError},
		{"DEBUG", slog.LevelDebug},
		{"", slog.LevelInfo},
		{"loud", slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			c := Default()
			c.LogLevel = tt.level
			if got := c.SlogLevel(); got != tt.want {
				t.Errorf("SlogLevel() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in      string
		want    PortRange
		wantErr bool
	}{
		{"10000-20000", PortRange{10000, 20000}, false},
		{" 1-65535 ", PortRange{1, 65535}, false},
		{"5000-5000", PortRange{5000, 5000}, false},
		{"10-5", PortRange{}, true},
		{"10000", PortRange{}, true},
		{"", PortRange{}, true},
		{"0-100", PortRange{}, true},
		{"10000-70000", PortRange{}, true},
		{"a-b", PortRange{}, true},
		{"10000-20000-30000", PortRange{}, true},
		{"-10000", PortRange{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePortRange(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParsePortRange(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParsePortRange(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if err == nil && got.String() != strings.TrimSpace(tt.in) {
				t.Errorf("String() = %q, want %q", got.String(), strings.TrimSpace(tt.in))
			}
		})
	}
}

func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"10000-20000", "10-5", "1-65535", "x", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePortRange(s)
		if err != nil {
			return
		}
		if r.First < 1 || r.Last > 65535 || r.First > r.Last {
			t.Fatalf("ParsePortRange(%q) = %v accepted out of bounds", s, r)
		}
		back, err := ParsePortRange(r.String())
		if err != nil || back != r {
			t.Fatalf("round trip of %v: %v, %v", r, back, err)
		}
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		text    string
		wantErr bool
	}{
		{"12h", 12 * time.Hour, "12h", false},
		{"90m", 90 * time.Minute, "1h30m", false},
		{"1m", time.Minute, "1m", false},
		{"1h0m30s", time.Hour + 30*time.Second, "1h0m30s", false},
		{"45s", 45 * time.Second, "45s", false},
		{"12", 0, "", true},
		{"twelve hours", 0, "", true},
		{"", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("UnmarshalText(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if d.Duration != tt.want {
				t.Errorf("got %v, want %v", d.Duration, tt.want)
			}
			text, _ := d.MarshalText()
			if string(text) != tt.text {
				t.Errorf("MarshalText = %q, want %q", text, tt.text)
			}
		})
	}
}

// TestFieldErrorFormat pins the message format documented on Error: it is
// what operators see at start-up.
func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		err  *FieldError
		want string
	}{
		{
			&FieldError{Field: "rtp_ports", Source: "APPLIANCE_RTP_PORTS", Problem: `"10-5" is not a range: first port is above last`},
			`config: rtp_ports (APPLIANCE_RTP_PORTS): "10-5" is not a range: first port is above last`,
		},
		{&FieldError{Field: "data_dir", Problem: "is empty"}, "config: data_dir: is empty"},
		{&FieldError{Source: "file app.yaml line 3", Problem: "not valid YAML: x"}, "config: file app.yaml line 3: not valid YAML: x"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestFieldErrorUnwrap(t *testing.T) {
	sentinel := errors.New("cause")
	err := error(&FieldError{Field: "x", Problem: "p", Err: sentinel})
	if !errors.Is(err, sentinel) {
		t.Fatal("errors.Is does not reach Err")
	}
}

func TestLogValueHidesPassword(t *testing.T) {
	c := Default()
	c.AdminPassword = "s3cret-pa55"
	c.TrustedNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
	out := buf.String()
	if strings.Contains(out, c.AdminPassword) {
		t.Fatalf("log shows the admin password: %s", out)
	}
	for _, want := range []string{"config.admin_password=set", "config.rtp_ports=10000-20000", "config.session_ttl=12h", "config.trusted_networks=10.0.0.0/8"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
