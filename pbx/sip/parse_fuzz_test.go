package sip

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// FuzzParseCredentials: any Authorization value parses or errs, never panics,
// and a parsed one has every field the digest check reads.
func FuzzParseCredentials(f *testing.F) {
	f.Add(`Digest username="1001", realm="ccbox.test", nonce="abc", uri="sip:x", response="00", qop=auth, nc=00000001, cnonce="c"`)
	f.Add(`Digest username="1001", nc=zz`)
	f.Add(`Basic dXNlcjpwYXNz`)
	f.Add(`Digest username="a\"b", realm=`)
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseCredentials(v)
		if err != nil {
			return
		}
		if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
			t.Fatalf("incomplete credentials accepted: %+v", c)
		}
		_ = expectedResponse(hasher("MD5"), dummyHA1, "REGISTER", c)
	})
}

// FuzzNonce: only nonces this key made are accepted.
func FuzzNonce(f *testing.F) {
	n := nonces{key: []byte("fuzz-key-fuzz-key-fuzz-key-fuzz!"), ttl: time.Minute}
	f.Add(n.make(time.Unix(1700000000, 0)))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := n.parse(s)
		if err != nil {
			return
		}
		if n.make(ts) != s {
			t.Fatalf("accepted a nonce not made here: %q", s)
		}
	})
}

// FuzzParseRegister: a REGISTER sipgo accepts is either refused by
// parseRegister or yields bounded, consistent operations.
func FuzzParseRegister(f *testing.F) {
	base := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: a\r\nCSeq: 1 REGISTER\r\n"
	f.Add(base + "Contact: <sip:1001@127.0.0.9>;expires=60\r\nContent-Length: 0\r\n\r\n")
	f.Add(base + "Contact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n")
	f.Add(base + "Contact: <sip:a@b>, <sip:c@d>;expires=x\r\nExpires: 99999999999\r\nContent-Length: 0\r\n\r\n")
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, raw string) {
		msg, err := parser.ParseSIP([]byte(raw))
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		r, err := parseRegister(req, time.Minute, time.Hour, time.Hour)
		if err != nil {
			return
		}
		if len(r.ops) > maxContacts {
			t.Fatalf("%d contacts accepted", len(r.ops))
		}
		for _, op := range r.ops {
			if op.expires < 0 || op.expires > time.Hour {
				t.Fatalf("expiry %v out of bounds", op.expires)
			}
		}
		if r.wildcard && len(r.ops) != 0 {
			t.Fatal("wildcard with contacts")
		}
	})
}
