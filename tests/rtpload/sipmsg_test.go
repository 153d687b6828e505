package main

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	const reg = "SIP/2.0 401 Unauthorized\r\nv: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKabc;rport\r\n" +
		"f: <sip:1001@box>;tag=1\r\nt: <sip:1001@box>;tag=2\r\ni: cid@x\r\nCSeq: 7 REGISTER\r\n" +
		"WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"\r\n" +
		"WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\"\r\nl: 0\r\n\r\n"
	const invite = "INVITE sip:1002@127.0.0.3:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n" +
		"From: <sip:1001@box>;tag=a\r\nTo: <sip:1002@box>\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\n" +
		"Subject: a folded\r\n line\r\nContent-Length: 4\r\n\r\nbodyEXTRA"
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(t *testing.T, m *message)
	}{
		{"response with compact headers", reg, false, func(t *testing.T, m *message) {
			if m.status != 401 || m.branch() != "z9hG4bKabc" || m.get("call-id") != "cid@x" || len(m.all("www-authenticate")) != 2 {
				t.Errorf("parsed %+v", m)
			}
			if n, meth, err := m.cseq(); n != 7 || meth != "REGISTER" || err != nil {
				t.Errorf("cseq = %d %q %v", n, meth, err)
			}
		}},
		{"request, folded header, body cut at Content-Length", invite, false, func(t *testing.T, m *message) {
			if m.method != "INVITE" || m.uri != "sip:1002@127.0.0.3:5070" || string(m.body) != "body" || m.get("subject") != "a folded line" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{"no end of headers", "SIP/2.0 200 OK\r\nCall-ID: x\r\n", true, nil},
		{"bad start line", "HELLO\r\nCall-ID: x\r\n\r\n", true, nil},
		{"bad status", "SIP/2.0 2000 OK\r\nVia: v\r\nCall-ID: x\r\nCSeq: 1 A\r\n\r\n", true, nil},
		{"no Call-ID", "SIP/2.0 200 OK\r\nVia: v\r\nCSeq: 1 A\r\n\r\n", true, nil},
		{"bad CSeq", "SIP/2.0 200 OK\r\nVia: v\r\nCall-ID: x\r\nCSeq: one A\r\n\r\n", true, nil},
		{"Content-Length beyond the body", "SIP/2.0 200 OK\r\nVia: v\r\nCall-ID: x\r\nCSeq: 1 A\r\nContent-Length: 9\r\n\r\nab", true, nil},
		{"continuation first", "SIP/2.0 200 OK\r\n folded\r\nVia: v\r\n\r\n", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMessage([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, errMessage) {
					t.Fatalf("parseMessage = %+v, %v; want errMessage", m, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	req, err := parseMessage(request{method: "OPTIONS", uri: "sip:x@127.0.0.2:5", via: "127.0.0.1:5060", branch: "z9hG4bKq",
		from: "<sip:box@b>;tag=f", to: "<sip:x@b>", callID: "c", cseq: 3}.bytes())
	if err != nil {
		t.Fatal(err)
	}
	res, err := parseMessage(response(req, 200, "OK", "tt", "sip:x@127.0.0.2:5", sdpOffer("127.0.0.2", 4000, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 200 || res.branch() != "z9hG4bKq" || param(res.get("to"), "tag") != "tt" || res.get("cseq") != "3 OPTIONS" {
		t.Errorf("response %+v", res)
	}
	if ip, port, err := sdpMedia(res.body); ip != "127.0.0.2" || port != 4000 || err != nil {
		t.Errorf("sdpMedia = %s %d %v", ip, port, err)
	}
}

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    challenge
		wantErr bool
	}{
		{"MD5 with qop", `Digest realm="ccbox-1", nonce="abc", algorithm=MD5, qop="auth"`, challenge{realm: "ccbox-1", nonce: "abc", algorithm: "MD5", qopAuth: true}, false},
		{"SHA-256, qop list, opaque", `Digest realm="r", nonce="n", algorithm=sha-256, qop="auth-int,auth", opaque="o"`, challenge{realm: "r", nonce: "n", algorithm: "SHA-256", opaque: "o", qopAuth: true}, false},
		{"comma inside quotes", `Digest realm="a, b", nonce="n"`, challenge{realm: "a, b", nonce: "n", algorithm: "MD5"}, false},
		{"not digest", `Basic realm="r"`, challenge{}, true},
		{"no nonce", `Digest realm="r"`, challenge{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseChallenge(tt.in)
			if tt.wantErr {
				if !errors.Is(err, errChallenge) {
					t.Fatalf("parseChallenge = %+v, %v; want errChallenge", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseChallenge = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestAuthorizationRFC2617 checks the response against RFC 2617 §3.5's
// worked example, recomputed with its cnonce (ours is random).
func TestAuthorizationRFC2617(t *testing.T) {
	c := challenge{realm: "testrealm@host.com", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", algorithm: "MD5", qopAuth: true}
	h := authorization(c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1)
	cnonce := param(strings.ReplaceAll(h, ", ", ";"), "cnonce")
	sum := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	want := sum(sum("Mufasa:testrealm@host.com:Circle Of Life") + ":" + c.nonce + ":00000001:" + cnonce + ":auth:" + sum("GET:/dir/index.html"))
	if !strings.Contains(h, `response="`+want+`"`) || !strings.Contains(h, "nc=00000001") {
		t.Fatalf("authorization = %s; want response %s", h, want)
	}
	// With the RFC's own cnonce the same formula gives its published answer.
	if got := sum(sum("Mufasa:testrealm@host.com:Circle Of Life") + ":" + c.nonce + ":00000001:0a4f113b:auth:" + sum("GET:/dir/index.html")); got != "6629fae49393a05397450978507c4ef1" {
		t.Fatalf("RFC 2617 example: %s", got)
	}
}

func TestSDPMedia(t *testing.T) {
	tests := []struct {
		name     string
		sdp      string
		wantIP   string
		wantPort int
		wantErr  bool
	}{
		{"session c=", "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20000 RTP/AVP 0\r\n", "127.0.0.1", 20000, false},
		{"media c= wins", "c=IN IP4 10.0.0.1\r\nm=audio 20002 RTP/AVP 0 8\r\nc=IN IP4 127.0.0.9\r\n", "127.0.0.9", 20002, false},
		{"later stream ignored", "c=IN IP4 127.0.0.1\r\nm=audio 20004 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\nc=IN IP4 10.9.9.9\r\n", "127.0.0.1", 20004, false},
		{"no audio", "c=IN IP4 127.0.0.1\r\nm=video 20000 RTP/AVP 96\r\n", "", 0, true},
		{"bad port", "c=IN IP4 127.0.0.1\r\nm=audio 99999 RTP/AVP 0\r\n", "", 0, true},
		{"no address", "m=audio 20000 RTP/AVP 0\r\n", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip, port, err := sdpMedia([]byte(tt.sdp))
			if tt.wantErr {
				if !errors.Is(err, errSDP) {
					t.Fatalf("sdpMedia = %s %d %v; want errSDP", ip, port, err)
				}
				return
			}
			if err != nil || ip != tt.wantIP || port != tt.wantPort {
				t.Fatalf("sdpMedia = %s %d %v; want %s %d", ip, port, err, tt.wantIP, tt.wantPort)
			}
		})
	}
}
