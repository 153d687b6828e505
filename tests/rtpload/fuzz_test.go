package main

import "testing"

// The parsers below read what the box (or anything on the network) sends.

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 2\r\n\r\nab"))
	f.Add([]byte("BYE sip:a@b SIP/2.0\r\nv: x\r\ni: y\r\nCSeq: 2 BYE\r\n folded\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			return
		}
		_, _, _ = m.cseq()
		_ = m.branch()
		_ = uriOf(m.get("contact"))
		_ = response(m, 200, "OK", "t", "", nil)
		for _, v := range m.all("www-authenticate") {
			_, _ = parseChallenge(v)
		}
		_, _, _ = sdpMedia(m.body)
	})
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Digest realm="r", nonce="n", algorithm=MD5, qop="auth"`)
	f.Add(`Digest realm="a,\"b", nonce=`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseChallenge(s)
		if err == nil && (c.realm == "" || c.nonce == "") {
			t.Fatalf("accepted %q without realm or nonce", s)
		}
	})
}

func FuzzSDPMedia(f *testing.F) {
	f.Add([]byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20000 RTP/AVP 0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, port, err := sdpMedia(b)
		if err == nil && (ip == "" || port <= 0 || port > 65535) {
			t.Fatalf("accepted %q: %q %d", b, ip, port)
		}
	})
}

func FuzzReadProbe(f *testing.F) {
	pkt := make([]byte, rtpHeaderLen+frameSamples)
	pkt[0] = 0x80
	probe{stream: 1, seq: 2, sent: 3}.put(pkt[rtpHeaderLen:])
	f.Add(pkt)
	f.Add([]byte{0x9f, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = readProbe(b) })
}
