package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// inbound parses an INVITE as a carrier would send it, with extra headers.
func inbound(t testing.TB, ruri, to, extra string) *sip.Request {
	t.Helper()
	raw := "INVITE " + ruri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK1\r\n" +
		"From: \"Zhang, San\" <sip:02087654321@carrier.test>;tag=f1\r\n" +
		"To: " + to + "\r\n" + extra +
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

func TestTrunkCalledNumber(t *testing.T) {
	tests := []struct {
		name, ruri, to, extra string
		from                  CalledSource
		want                  string
	}{
		{"ruri", "sip:acct1@127.0.0.1:5060", "<sip:075512345678@carrier.test>", "", CalledFromRURI, "acct1"},
		{"to", "sip:acct1@127.0.0.1:5060", "<sip:075512345678@carrier.test>", "", CalledFromTo, "075512345678"},
		{"to with display name and user=phone", "sip:acct1@127.0.0.1", `"DID" <sip:+8675512345678@carrier.test;user=phone>;tag=x`, "", CalledFromTo, "+8675512345678"},
		{"to escaped plus", "sip:acct1@127.0.0.1", "<sip:%2B8675512345678@carrier.test>", "", CalledFromTo, "+8675512345678"},
		{"tel ruri", "tel:+8613800138000;phone-context=+86", "<sip:x@carrier.test>", "", CalledFromRURI, "+8613800138000"},
		{"tel to", "sip:acct1@127.0.0.1", "<tel:4001234567>", "", CalledFromTo, "4001234567"},
		{"diversion first header, first value", "sip:acct1@127.0.0.1", "<sip:13800138000@carrier.test>",
			"Diversion: <sip:075500001111@carrier.test>;reason=unconditional;counter=1, <sip:0755222@carrier.test>\r\n" +
				"Diversion: <sip:0755333@carrier.test>\r\n", CalledFromDiversion, "075500001111"},
		{"diversion with quoted name holding brackets", "sip:acct1@127.0.0.1", "<sip:13800138000@carrier.test>",
			"Diversion: \"a <b>, c\" <sip:95555@carrier.test>;reason=user-busy\r\n", CalledFromDiversion, "95555"},
		{"diversion missing: To", "sip:acct1@127.0.0.1", "<sip:13800138000@carrier.test>", "", CalledFromDiversion, "13800138000"},
		{"diversion without user: To", "sip:acct1@127.0.0.1", "<sip:13800138000@carrier.test>",
			"Diversion: <sip:carrier.test>\r\n", CalledFromDiversion, "13800138000"},
		{"to without user: ruri", "sip:075512345678@127.0.0.1", "<sip:carrier.test>", "", CalledFromTo, "075512345678"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := inbound(t, tc.ruri, tc.to, tc.extra)
			if got := CalledNumber(req, TrunkConfig{CalledFrom: tc.from}); got != tc.want {
				t.Errorf("CalledNumber = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTrunkCallerNumber(t *testing.T) {
	tests := []struct {
		name, extra string
		from        CallerSource
		want        string
	}{
		{"from", "P-Asserted-Identity: <sip:13900139000@carrier.test>\r\n", CallerFromFrom, "02087654321"},
		{"pai", "P-Asserted-Identity: <sip:13900139000@carrier.test>\r\n", CallerFromPAI, "13900139000"},
		{"pai tel first of two", "P-Asserted-Identity: \"Li\" <tel:+8613900139000>, <sip:+8613900139000@carrier.test>\r\n", CallerFromPAI, "+8613900139000"},
		{"pai addr-spec without brackets", "P-Asserted-Identity: sip:13900139000@carrier.test\r\n", CallerFromPAI, "13900139000"},
		{"pai missing: from", "", CallerFromPAI, "02087654321"},
		{"pai anonymous host only: from", "P-Asserted-Identity: <sip:carrier.test>\r\n", CallerFromPAI, "02087654321"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := inbound(t, "sip:acct1@127.0.0.1", "<sip:13800138000@carrier.test>", tc.extra)
			if got := CallerNumber(req, TrunkConfig{CallerFrom: tc.from}); got != tc.want {
				t.Errorf("CallerNumber = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTrunkNameAddrUser(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<sip:123@h>", "123"},
		{"  <sips:123;npdi@h:5061;transport=tls>;x=1", "123"},
		{"sip:123:pw@h;reason=x, <sip:456@h>", "123"},
		{`"quote \" <sip:1@h>" <sip:2@h>`, "2"},
		{`"unterminated <sip:1@h>`, ""},
		{"<sip:123@h", ""},
		{"<mailto:a@b>", ""},
		{"<tel:+86-10-1234?x>", "+86-10-1234"},
		{"<sip:%zz@h>", "%zz"},
		{"", ""},
		{"garbage", ""},
	}
	for _, tc := range tests {
		if got := nameAddrUser(tc.in); got != tc.want {
			t.Errorf("nameAddrUser(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
