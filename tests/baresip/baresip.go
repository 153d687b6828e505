// Package baresip runs baresip (Debian's baresip 1.0) as a desk phone for
// end-to-end tests: its own 127.0.0.x address, an account on the
// appliance, a tone WAV as its microphone, what it receives recorded by the
// sndfile module, and commands (dial, accept, hangup) over ctrl_tcp.
//
// baresip binds the SIP port + 1 for TLS, so phones get ports two apart;
// ctrl_tcp serves one connection at a time, so each command opens its own.
package baresip

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options describe one phone.
type Options struct {
	IP         string // its own loopback address, e.g. 127.0.0.2
	Ext        string // the extension it registers as
	Password   string
	Server     string // the appliance's SIP host:port
	ToneWAV    string // 16-bit mono 8 kHz WAV sent as the microphone; longer than the call
	AutoAnswer bool   // answer incoming calls at once
	Transport  string // udp (default) or tcp
}

// Phone is a running baresip.
type Phone struct {
	t       testing.TB
	opts    Options
	dir     string
	sipPort int
	ctrl    string
	cmd     *exec.Cmd
	out     *syncBuffer
	done    chan struct{}
}

// Start runs baresip and waits until it has registered. It fails the test
// (never skips) when baresip is missing.
func Start(t testing.TB, o Options) *Phone {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatalf("baresip is required (Debian package baresip; tests/run installs it): %v", err)
	}
	if o.Transport == "" {
		o.Transport = "udp"
	}
	dir := t.TempDir()
	// Two consecutive free ports (SIP and baresip's SIP+1 for TLS) and one
	// for ctrl_tcp, all on the phone's own address.
	sipPort := freePair(t, o.IP)
	ctrl := net.JoinHostPort(o.IP, strconv.Itoa(freeTCP(t, o.IP)))
	source := "aufile,/dev/null"
	if o.ToneWAV != "" {
		source = "aufile," + o.ToneWAV
	}
	config := strings.Join([]string{
		"sip_listen\t\t" + net.JoinHostPort(o.IP, strconv.Itoa(sipPort)),
		"module_path\t\t/usr/lib/baresip/modules",
		"module\t\t\tg711.so",
		"module\t\t\taufile.so",
		"module\t\t\tsndfile.so",
		"module\t\t\tctrl_tcp.so",
		"module_app\t\taccount.so",
		"module_app\t\tmenu.so",
		"audio_player\t\taufile,/dev/null",
		"audio_source\t\t" + source,
		"ctrl_tcp_listen\t\t" + ctrl,
		"snd_path\t\t" + dir,
		"rtp_ports\t\t30000-39999",
		"",
	}, "\n")
	params := fmt.Sprintf(";auth_pass=%s;regint=60", o.Password)
	if o.AutoAnswer {
		params += ";answermode=auto"
	}
	account := fmt.Sprintf("<sip:%s@%s;transport=%s>%s\n", o.Ext, o.Server, o.Transport, params)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &Phone{t: t, opts: o, dir: dir, sipPort: sipPort, ctrl: ctrl, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "-f", dir, "-n", o.IP)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("baresip %s (%s) output:\n%s", o.Ext, o.IP, tail(p.out.String(), 60))
		}
	})
	p.WaitOutput("200 OK", 15*time.Second)
	return p
}

// Dir is the phone's directory (its recordings are there).
func (p *Phone) Dir() string { return p.dir }

// WaitOutput waits until baresip has printed substr.
func (p *Phone) WaitOutput(substr string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.out.String(), substr) {
		select {
		case <-p.done:
			p.t.Fatalf("baresip %s exited while waiting for %q:\n%s", p.opts.Ext, substr, tail(p.out.String(), 40))
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("baresip %s: no %q within %v:\n%s", p.opts.Ext, substr, timeout, tail(p.out.String(), 40))
		}
		time.Sleep(20 * time.Millisecond) // polling the output, bounded by the deadline
	}
}

// Output is everything baresip printed so far.
func (p *Phone) Output() string { return p.out.String() }

// Command sends one ctrl_tcp command and returns its response's data.
func (p *Phone) Command(command, params string) (string, error) {
	conn, err := net.DialTimeout("tcp", p.ctrl, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": "t"})
	if _, err := fmt.Fprintf(conn, "%d:%s,", len(msg), msg); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	for {
		n, err := r.ReadString(':')
		if err != nil {
			return "", err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(n, ":")))
		if err != nil {
			return "", fmt.Errorf("bad netstring length %q", n)
		}
		body := make([]byte, size+1)
		if _, err := io.ReadFull(r, body); err != nil {
			return "", err
		}
		var resp struct {
			Response bool   `json:"response"`
			OK       bool   `json:"ok"`
			Data     string `json:"data"`
		}
		if json.Unmarshal(body[:size], &resp) != nil || !resp.Response {
			continue // an event, not our answer
		}
		if !resp.OK {
			return resp.Data, fmt.Errorf("baresip %s: %s", command, strings.TrimSpace(resp.Data))
		}
		return resp.Data, nil
	}
}

// Dial calls a number on the appliance.
func (p *Phone) Dial(number string) {
	p.t.Helper()
	if _, err := p.Command("dial", "sip:"+number+"@"+p.opts.Server); err != nil {
		p.t.Fatal(err)
	}
}

// Hangup ends the current call.
func (p *Phone) Hangup() {
	p.t.Helper()
	if _, err := p.Command("hangup", ""); err != nil {
		p.t.Fatal(err)
	}
}

// Accept answers the ringing call.
func (p *Phone) Accept() { p.do("accept", "") }

// Hold puts the current call on hold (a re-INVITE with a=sendonly).
func (p *Phone) Hold() { p.do("hold", "") }

// Resume takes the current call off hold.
func (p *Phone) Resume() { p.do("resume", "") }

// Transfer transfers the current call's other party to number (a blind
// transfer: REFER).
func (p *Phone) Transfer(number string) { p.do("transfer", "sip:"+number+"@"+p.opts.Server) }

func (p *Phone) do(command, params string) {
	p.t.Helper()
	if _, err := p.Command(command, params); err != nil {
		p.t.Fatal(err)
	}
}

// Count is how many times baresip printed substr so far.
func (p *Phone) Count(substr string) int { return strings.Count(p.out.String(), substr) }

// WaitCount waits until baresip has printed substr n times.
func (p *Phone) WaitCount(substr string, n int, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for p.Count(substr) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("baresip %s: %q printed %d times within %v, want %d:\n%s", p.opts.Ext, substr, p.Count(substr), timeout, n, tail(p.out.String(), 40))
		}
		time.Sleep(20 * time.Millisecond) // polling the output, bounded by the deadline
	}
}

// Received returns the path of the WAV holding what the phone received in
// its (first) call, recorded by sndfile.
func (p *Phone) Received() string {
	p.t.Helper()
	m, _ := filepath.Glob(filepath.Join(p.dir, "dump-*-dec.wav"))
	if len(m) == 0 {
		p.t.Fatalf("baresip %s recorded nothing received", p.opts.Ext)
	}
	return m[0]
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 {
		return len(p), nil // bounded: baresip prints a status line many times a second
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freeTCP(t testing.TB, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freePair finds a port p such that p and p+1 are free for UDP and TCP on ip.
// It looks below the kernel's ephemeral range (32768 and up): a port found
// free there can be taken, before baresip binds it, by any socket another
// process binds to port 0 on the wildcard address (Chromium's WebRTC
// sockets do), while nothing takes a port below it without naming it.
func freePair(t testing.TB, ip string) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := 21000 + 2*rand.IntN(5800) // 21000-32598, above the box's default RTP range
		if p+1 > 65535 {
			continue
		}
		ok := true
		for _, port := range []int{p, p + 1} {
			addr := net.JoinHostPort(ip, strconv.Itoa(port))
			if c, err := net.ListenPacket("udp", addr); err == nil {
				c.Close()
			} else {
				ok = false
			}
			if l, err := net.Listen("tcp", addr); err == nil {
				l.Close()
			} else {
				ok = false
			}
		}
		if ok {
			return p
		}
	}
	t.Fatalf("no two free ports on %s", ip)
	return 0
}
