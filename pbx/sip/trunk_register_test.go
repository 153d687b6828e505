package sip

import (
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// challengeResponse builds a 401 or 407 to req carrying the challenges.
func challengeResponse(req *sip.Request, code int, chals ...digest.Challenge) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, "Auth", nil)
	name := "WWW-Authenticate"
	if code == sip.StatusProxyAuthRequired {
		name = "Proxy-Authenticate"
	}
	for _, c := range chals {
		res.AppendHeader(sip.NewHeader(name, c.String()))
	}
	return res
}

func testInvite() *sip.Request {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "13800138000", Host: "carrier.test"})
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
		Host: "127.0.0.1", Port: 5060, Params: sip.NewParams()}
	via.Params.Add("branch", "z9hG4bKorig")
	req.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "acct1", Host: "carrier.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", "ft")
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "13800138000", Host: "carrier.test"}})
	cid := sip.CallIDHeader("cid-1")
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 7, MethodName: sip.INVITE})
	req.SetBody([]byte("v=0\r\n"))
	return req
}

// TestTrunkAnswerChallenge: the client side of digest, as an outbound
// INVITE will need it: the strongest challenge in the named realm,
// Authorization for 401 and Proxy-Authorization for 407, the next CSeq,
// a fresh Via, and a response the carrier's check accepts.
func TestTrunkAnswerChallenge(t *testing.T) {
	md5 := digest.Challenge{Realm: carrierRealm, Nonce: "n-md5", Algorithm: "MD5", QOP: []string{"auth"}}
	sha := digest.Challenge{Realm: carrierRealm, Nonce: "n-sha", Algorithm: "SHA-256", QOP: []string{"auth"}, Opaque: "op"}
	noQOP := digest.Challenge{Realm: carrierRealm, Nonce: "n-old", Algorithm: "MD5"}
	other := digest.Challenge{Realm: "elsewhere", Nonce: "n-x", Algorithm: "SHA-256", QOP: []string{"auth"}}
	authInt := digest.Challenge{Realm: carrierRealm, Nonce: "n-int", Algorithm: "MD5", QOP: []string{"auth-int"}}
	weird := digest.Challenge{Realm: carrierRealm, Nonce: "n-w", Algorithm: "AKAv1-MD5", QOP: []string{"auth"}}
	creds := digestCreds{Username: carrierAuthUser, Password: carrierSecret}
	tests := []struct {
		name    string
		code    int
		chals   []digest.Challenge
		realm   string
		wantAlg string // "": ErrNoUsableChallenge
		nonce   string
	}{
		{"401 MD5", sip.StatusUnauthorized, []digest.Challenge{md5}, "", "MD5", "n-md5"},
		{"401 SHA-256 preferred", sip.StatusUnauthorized, []digest.Challenge{md5, sha}, "", "SHA-256", "n-sha"},
		{"407 SHA-256", sip.StatusProxyAuthRequired, []digest.Challenge{sha}, "", "SHA-256", "n-sha"},
		{"RFC 2069 without qop", sip.StatusUnauthorized, []digest.Challenge{noQOP}, "", "MD5", "n-old"},
		{"configured realm picks", sip.StatusUnauthorized, []digest.Challenge{other, md5}, carrierRealm, "MD5", "n-md5"},
		{"configured realm absent", sip.StatusUnauthorized, []digest.Challenge{other}, carrierRealm, "", ""},
		{"auth-int only", sip.StatusUnauthorized, []digest.Challenge{authInt}, "", "", ""},
		{"unknown algorithm skipped", sip.StatusUnauthorized, []digest.Challenge{weird, md5}, "", "MD5", "n-md5"},
		{"unknown algorithm only", sip.StatusUnauthorized, []digest.Challenge{weird}, "", "", ""},
		{"no challenge", sip.StatusUnauthorized, nil, "", "", ""},
		{"not a challenge", sip.StatusForbidden, []digest.Challenge{md5}, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := testInvite()
			res := challengeResponse(req, tc.code, tc.chals...)
			c := creds
			c.Realm = tc.realm
			out, err := answerChallenge(req, res, c)
			if tc.wantAlg == "" {
				if !errors.Is(err, ErrNoUsableChallenge) {
					t.Fatalf("err = %v, want ErrNoUsableChallenge", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hdr, other := "Authorization", "Proxy-Authorization"
			if tc.code == sip.StatusProxyAuthRequired {
				hdr, other = other, hdr
			}
			if out.GetHeader(other) != nil {
				t.Errorf("%s set on a %d", other, tc.code)
			}
			h := out.GetHeader(hdr)
			if h == nil {
				t.Fatalf("no %s", hdr)
			}
			cr, err := parseCredentials(h.Value())
			if err != nil {
				t.Fatal(err)
			}
			if cr.Algorithm != tc.wantAlg || cr.Nonce != tc.nonce || cr.Realm != carrierRealm ||
				cr.Username != carrierAuthUser || cr.URI != req.Recipient.String() {
				t.Errorf("credentials %+v", cr)
			}
			want := expectedResponse(hasher(tc.wantAlg), HA1(tc.wantAlg, carrierAuthUser, carrierRealm, carrierSecret), "INVITE", cr)
			if cr.Response != want {
				t.Error("digest response does not verify")
			}
			if out.CSeq().SeqNo != 8 || out.CSeq().MethodName != sip.INVITE {
				t.Errorf("CSeq %v, want 8 INVITE", out.CSeq())
			}
			if out.Via() != nil {
				t.Error("Via kept: the retry must get a new branch")
			}
			if out.CallID().Value() != "cid-1" || !fromTag(out, "ft") || string(out.Body()) != "v=0\r\n" {
				t.Error("Call-ID, From tag or body changed")
			}
			if req.CSeq().SeqNo != 7 || req.Via() == nil || req.GetHeader(hdr) != nil {
				t.Error("the original request was changed")
			}
		})
	}
}

// TestTrunkGrantedExpiry: the lifetime the registrar granted our contact.
func TestTrunkGrantedExpiry(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "acct1", Host: "127.0.0.1", Port: 5060}
	contact := func(u sip.Uri, exp string) sip.Header {
		h := &sip.ContactHeader{Address: u, Params: sip.NewParams()}
		if exp != "" {
			h.Params.Add("expires", exp)
		}
		return h
	}
	otherURI := sip.Uri{Scheme: "sip", User: "acct1", Host: "10.0.0.9", Port: 5060}
	tests := []struct {
		name string
		hdrs []sip.Header
		want time.Duration
	}{
		{"nothing: as asked", nil, 300 * time.Second},
		{"Expires header", []sip.Header{sip.NewHeader("Expires", "120")}, 120 * time.Second},
		{"our contact's param", []sip.Header{contact(otherURI, "3600"), contact(ours, "90"), sip.NewHeader("Expires", "120")}, 90 * time.Second},
		{"single contact, rewritten host", []sip.Header{contact(otherURI, "60")}, 60 * time.Second},
		{"bad param: Expires", []sip.Header{contact(ours, "soon"), sip.NewHeader("Expires", "30")}, 30 * time.Second},
		{"absurd: as asked", []sip.Header{sip.NewHeader("Expires", "99999999")}, 300 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := sip.NewResponseFromRequest(testInvite(), 200, "OK", nil)
			for _, h := range tc.hdrs {
				res.AppendHeader(h)
			}
			if got := grantedExpiry(res, ours, 300*time.Second); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ granted, want time.Duration }{
		{2 * time.Second, 1600 * time.Millisecond},
		{300 * time.Second, 240 * time.Second},
		{0, time.Second},
	} {
		if got := refreshAfter(tc.granted); got != tc.want {
			t.Errorf("refreshAfter(%v) = %v, want %v", tc.granted, got, tc.want)
		}
	}
}

func fromTag(req *sip.Request, want string) bool {
	tag, ok := req.From().Params.Get("tag")
	return ok && tag == want
}
