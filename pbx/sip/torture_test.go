package sip

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rawExchange sends raw from a UDP socket on fromIP and returns the first
// datagram that comes back within 500 ms, or "" when none does.
func rawExchange(t *testing.T, server, fromIP, raw string) string {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(fromIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteTo([]byte(raw), dst); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// TestTortureAndMalformed feeds RFC 4475 messages (REGISTER/OPTIONS ones)
// and hand-made malformed REGISTERs over UDP: invalid ones must get a 400,
// a challenge or nothing — never a 2xx — and the server must keep serving.
func TestTortureAndMalformed(t *testing.T) {
	e := startServer(t, nil, nil)
	files, err := filepath.Glob("testdata/torture/*.dat")
	if err != nil || len(files) == 0 {
		t.Fatalf("torture corpus: %v %d", err, len(files))
	}
	type msg struct{ name, raw string }
	var msgs []msg
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg{filepath.Base(f), string(b)})
	}
	malformed := []msg{
		{"invalid-no-cseq", "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKa1;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a1\r\nContent-Length: 0\r\n\r\n"},
		{"invalid-no-via", "REGISTER sip:127.0.0.1 SIP/2.0\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a2\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"},
		{"invalid-bad-expires", "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKa3;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a3\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.9>\r\nExpires: soon\r\nContent-Length: 0\r\n\r\n"},
		{"invalid-huge-expires", "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKa4;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a4\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.9>;expires=99999999999999999999\r\nContent-Length: 0\r\n\r\n"},
		{"invalid-no-to", "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKa5;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nCall-ID: a5\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"},
		{"invalid-bad-auth", "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKa6;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a6\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest username=\"1001\", realm=\"ccbox.test\", nonce=\"AAAA\", uri=\"sip:x\", response=\"zz\", nc=zz\r\nContent-Length: 0\r\n\r\n"},
		{"invalid-garbage", "\x00\x01\x02garbage\r\n\r\n"},
		{"invalid-wildcard-with-others", "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKa7;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a7\r\nCSeq: 1 REGISTER\r\nContact: *, <sip:1001@127.0.0.9>\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n"},
		{"invalid-long-header", "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKa8;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a8\r\nCSeq: 1 REGISTER\r\nX-Long: " + strings.Repeat("a", 20000) + "\r\nContent-Length: 0\r\n\r\n"},
	}
	msgs = append(msgs, malformed...)
	for _, m := range msgs {
		t.Run(m.name, func(t *testing.T) {
			got := rawExchange(t, e.udp, "127.0.0.9", m.raw)
			if got == "" {
				return // dropped
			}
			if strings.HasPrefix(m.name, "invalid-") && strings.HasPrefix(got, "SIP/2.0 2") {
				t.Errorf("invalid message accepted: %q", firstLine(got))
			}
		})
	}
	// Still serving.
	ok := "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKalive;rport\r\nFrom: <sip:x@127.0.0.9>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: alive\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if got := rawExchange(t, e.udp, "127.0.0.9", ok); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("server no longer answers: %q", got)
	}
	if n := len(e.srv.Bindings("1001")); n != 0 {
		t.Errorf("malformed traffic registered %d contacts", n)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\r'); i >= 0 {
		return s[:i]
	}
	return s
}

// TestTortureThroughTheB2BUA sends every RFC 4475 message, valid and
// invalid (INVITEs among them), to a server with the call layer installed:
// invalid ones never get a 2xx, nothing crashes, no call is left behind,
// and the server still answers afterwards.
func TestTortureThroughTheB2BUA(t *testing.T) {
	ce := startCalls(t, callOpts{})
	// The messages go out in parallel (each waits up to 500 ms for an
	// answer that, for many, never comes); the group ends before the check.
	t.Run("corpus", func(t *testing.T) {
		for _, kind := range []string{"valid", "invalid"} {
			files, err := filepath.Glob(filepath.Join("testdata", "rfc4475", kind, "*.dat"))
			if err != nil || len(files) == 0 {
				t.Fatalf("RFC 4475 %s corpus: %v %d", kind, err, len(files))
			}
			for _, f := range files {
				t.Run(kind+"/"+filepath.Base(f), func(t *testing.T) {
					t.Parallel()
					raw, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					resp := rawExchange(t, ce.udp, "127.0.0.9", string(raw))
					if kind == "invalid" && strings.HasPrefix(resp, "SIP/2.0 2") {
						t.Errorf("answered %q", firstLine(resp))
					}
				})
			}
		}
	})
	alive := "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKalive;rport\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.9>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: alive\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if resp := rawExchange(t, ce.udp, "127.0.0.9", alive); !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("server no longer answers after the corpus: %q", firstLine(resp))
	}
}
