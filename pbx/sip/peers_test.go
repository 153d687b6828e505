package sip

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// freeUDPPort returns a UDP port free on ip at the time of the call.
func freeUDPPort(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestSIPpRegisters runs SIPp from 127.0.0.2 against the server: it must
// answer the MD5 challenge of the two offered and end 200 OK. It fails when
// sipp is not installed.
func TestSIPpRegisters(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipp is required (Debian package sip-tester): %v", err)
	}
	e := startServer(t, nil, nil)
	scenario, err := filepath.Abs("testdata/register.xml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	port := freeUDPPort(t, "127.0.0.2")
	cmd := exec.CommandContext(ctx, sipp, e.udp,
		"-sf", scenario, "-s", "1001", "-au", "1001", "-ap", testPasswords["1001"],
		"-auth_uri", "sip:"+e.udp, "-i", "127.0.0.2", "-p", strconv.Itoa(port),
		"-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin", "-trace_err",
		"-error_file", filepath.Join(t.TempDir(), "errors.log"))
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, tail(out))
	}
	got := e.srv.Lookup("1001")
	if len(got) != 1 || got[0].Source != fmt.Sprintf("127.0.0.2:%d", port) {
		t.Fatalf("binding after SIPp: %+v", got)
	}
}

// TestBaresipRegisters runs baresip on 127.0.0.2 with an MD5-only account
// and waits for its binding. It fails when baresip is not installed.
func TestBaresipRegisters(t *testing.T) {
	baresip, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatalf("baresip is required (Debian package baresip): %v", err)
	}
	e := startServer(t, nil, nil)
	dir := t.TempDir()
	port := freeUDPPort(t, "127.0.0.2")
	config := fmt.Sprintf("sip_listen\t\t127.0.0.2:%d\nmodule_path\t\t/usr/lib/baresip/modules\nmodule\t\t\tg711.so\nmodule\t\t\taufile.so\nmodule_app\t\taccount.so\naudio_player\t\taufile,/dev/null\naudio_source\t\taufile,/dev/null\n", port)
	account := fmt.Sprintf("<sip:1001@%s;transport=udp>;auth_pass=%s;regint=60\n", e.udp, testPasswords["1001"])
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, baresip, "-f", dir, "-n", "127.0.0.2")
	cmd.Dir = dir
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(e.srv.Lookup("1001")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not register:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond) // polling interval, bounded by the deadline
	}
	b := e.srv.Lookup("1001")[0]
	if b.Source != fmt.Sprintf("127.0.0.2:%d", port) || b.Transport != TransportUDP {
		t.Errorf("baresip binding: %+v", b)
	}
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// limitedBuffer keeps the last 16 KB written, safe for concurrent writes.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > 16384 {
		l.buf = l.buf[len(l.buf)-16384:]
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
