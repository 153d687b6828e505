package sipp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestArgs(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		want       []string // in this order, each pair adjacent
		absent     []string
		remoteHead bool
	}{
		{
			name: "caller",
			opts: Options{Remote: "127.0.0.1:5060", IP: "127.0.0.4", Port: 5070, MediaPort: 6000, Service: "1002",
				User: "1001", Password: "pw", AuthURI: "sip:1002@127.0.0.1:5060", Timeout: 5 * time.Second,
				Keys: map[string]string{"b": "2", "a": "1"}},
			want:       []string{"-i 127.0.0.4", "-p 5070", "-mp 6000", "-timeout 5s", "-s 1002", "-au 1001", "-ap pw", "-auth_uri sip:1002@127.0.0.1:5060", "-key a 1", "-key b 2"},
			remoteHead: true,
		},
		{
			name:   "callee",
			opts:   Options{IP: "127.0.0.5", Port: 5080, MediaPort: 6002, Timeout: time.Second},
			want:   []string{"-i 127.0.0.5", "-mi 127.0.0.5", "-m 1"},
			absent: []string{"-au", "-s", "-key", "-auth_uri"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := Args(tt.opts, "/s.xml", "/d")
			line := " " + strings.Join(args, " ") + " "
			last := -1
			for _, w := range tt.want {
				i := strings.Index(line, " "+w+" ")
				if i < 0 || i < last {
					t.Errorf("%q missing or out of order in %q", w, line)
				}
				last = i
			}
			for _, a := range tt.absent {
				if slices.Contains(args, a) {
					t.Errorf("%q in %q", a, line)
				}
			}
			if got := args[0] == tt.opts.Remote; got != tt.remoteHead {
				t.Errorf("first argument %q", args[0])
			}
		})
	}
}

func TestPrepareScenario(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.xml")
	if err := os.WriteFile(src, []byte(`<recv response="STATUS"/>`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		subst   map[string]string
		want    string
		wantErr bool
	}{
		{"none: the file itself", nil, `<recv response="STATUS"/>`, false},
		{"substituted", map[string]string{"STATUS": "486"}, `<recv response="486"/>`, false},
		{"a key the scenario lacks", map[string]string{"MISSING": "1"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := prepareScenario(src, tt.subst, t.TempDir())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			b, err := os.ReadFile(out)
			if err != nil || string(b) != tt.want {
				t.Errorf("%s: %q %v, want %q", out, b, err, tt.want)
			}
		})
	}
}

func TestFreeMediaPort(t *testing.T) {
	p := FreeMediaPort(t, "127.0.0.1")
	if p%2 != 0 || p+3 > 65535 {
		t.Errorf("media port %d: want an even port with three above it", p)
	}
}

func TestUDPBound(t *testing.T) {
	const table = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0500007F:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 1 2 0000000000000000 0
  124: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
`
	tests := []struct {
		ip   string
		port int
		want bool
	}{
		{"127.0.0.5", 5060, true},
		{"127.0.0.1", 53, true},
		{"127.0.0.5", 5061, false},
		{"127.0.0.4", 5060, false},
	}
	for _, tt := range tests {
		local, err := procAddr(tt.ip, tt.port)
		if err != nil {
			t.Fatal(err)
		}
		if got := udpBound(table, local); got != tt.want {
			t.Errorf("%s:%d (%s): bound = %v, want %v", tt.ip, tt.port, local, got, tt.want)
		}
	}
	if _, err := procAddr("::1", 1); err == nil {
		t.Error("procAddr accepted an IPv6 address")
	}
}
