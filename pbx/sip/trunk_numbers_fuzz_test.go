package sip

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzTrunkNumbers feeds carrier headers to the number extraction: it must
// never panic, and what it returns is a user part, never a whole address.
func FuzzTrunkNumbers(f *testing.F) {
	for _, s := range []string{
		"<sip:075500001111@carrier.test>;reason=unconditional, <sip:1@h>",
		`"a <b>, c" <sip:95555@carrier.test>`,
		`"Li" <tel:+8613900139000>, <sip:+86139@h>`,
		"sip:13900139000@carrier.test",
		`"\`, "<", "<sip:%2B86@h>", "tel:", "sip:@", `"" <>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n := nameAddrUser(v)
		if strings.ContainsAny(n, "<>") && !strings.Contains(v, "%") {
			t.Errorf("nameAddrUser(%q) = %q: not a user part", v, n)
		}
		if len(n) > len(v) {
			t.Errorf("nameAddrUser(%q) = %q: longer than its input", v, n)
		}
		// Through a parsed request too, where sipgo has split the header.
		raw := "INVITE sip:acct1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK1\r\n" +
			"From: <sip:1@h>;tag=1\r\nTo: <sip:2@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
			"Diversion: " + v + "\r\nP-Asserted-Identity: " + v + "\r\nContent-Length: 0\r\n\r\n"
		m, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		for _, from := range []CalledSource{CalledFromRURI, CalledFromTo, CalledFromDiversion} {
			_ = CalledNumber(req, TrunkConfig{CalledFrom: from})
		}
		_ = CallerNumber(req, TrunkConfig{CallerFrom: CallerFromPAI})
	})
}
