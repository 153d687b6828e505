package sip

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/icholy/digest"
)

func TestParseDigest(t *testing.T) {
	full := digest.Credentials{Username: "1001", Realm: "ccbox.test", Nonce: "abc", URI: "sip:1002@ccbox.test",
		Response: "0f", Algorithm: "SHA-256", Cnonce: "c n", QOP: "auth", Nc: 1, Opaque: "op"}
	tests := []struct {
		name string
		in   string
		want digest.Credentials
		err  bool
	}{
		{"full", `Digest username="1001", realm="ccbox.test", nonce="abc", uri="sip:1002@ccbox.test", response="0f", algorithm=SHA-256, cnonce="c n", qop=auth, nc=00000001, opaque="op"`, full, false},
		{"tabs, newlines and case", "digest\tUserName = \"1001\" ,\r\n realm=\"ccbox.test\",NONCE=\"abc\",uri=\"sip:1002@ccbox.test\",response=\"0f\",algorithm=SHA-256,cnonce=\"c n\",qop=\"auth\",nc=1,opaque=op", full, false},
		{"escapes", `Digest username="a\"b\\c", nonce="n"`, digest.Credentials{Username: `a"b\c`, Nonce: "n"}, false},
		{"unknown and repeated", `Digest x-foo=bar, username="a", username="b"`, digest.Credentials{Username: "b"}, false},
		{"token values with dots", `Digest uri=sip:x, username=user.name`, digest.Credentials{}, true},
		{"empty quoted", `Digest username=""`, digest.Credentials{}, false},
		{"basic", `Basic dXNlcjpwYXNz`, digest.Credentials{}, true},
		{"no params", `Digest `, digest.Credentials{}, false},
		{"no space", `Digestusername="a"`, digest.Credentials{}, true},
		{"unterminated", `Digest username="a`, digest.Credentials{}, true},
		{"trailing backslash", `Digest username="a\`, digest.Credentials{}, true},
		{"missing comma", `Digest username="a" realm="b"`, digest.Credentials{}, true},
		{"empty token", `Digest username=, realm="b"`, digest.Credentials{Realm: "b"}, false},
		{"missing equals", `Digest username "a"`, digest.Credentials{}, true},
		{"bad nc", `Digest nc=zz`, digest.Credentials{}, true},
		{"long nc", `Digest nc=000000001`, digest.Credentials{}, true},
		{"trailing comma", `Digest username="a",`, digest.Credentials{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDigest(tt.in)
			if tt.err {
				if !errors.Is(err, errDigestSyntax) {
					t.Fatalf("parseDigest(%q) = %+v, %v; want errDigestSyntax", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseDigest(%q)\n got %+v, %v\nwant %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestChallengeValue: our challenges read as the library writes them.
func TestChallengeValue(t *testing.T) {
	for _, stale := range []bool{false, true} {
		for _, alg := range []string{algMD5, algSHA256} {
			want := (&digest.Challenge{Realm: "ccbox.test", Nonce: "n0", Algorithm: alg, QOP: []string{"auth"}, Stale: stale}).String()
			if got := challengeValue("ccbox.test", "n0", alg, stale); got != want {
				t.Errorf("challengeValue(%s, stale %v) = %q, want %q", alg, stale, got, want)
			}
		}
	}
}

// FuzzParseDigest: never panics, and on the values both parsers are meant
// to read alike (valid UTF-8, spaces only, everything after the scheme in
// lower case so parameter names match in both, no nc, whose length rules
// differ), what both accept they read the same. Ours may refuse what the
// library takes (a parameter without a name); the table above shows it
// takes what phones send.
func FuzzParseDigest(f *testing.F) {
	f.Add(`Digest username="1001", realm="r", nonce="abc", uri="sip:x", response="00", qop=auth, cnonce="c"`)
	f.Add(`Digest username="a\"b", realm=`)
	f.Add(`Digest nc=1`)
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseDigest(v)
		rest, ok := strings.CutPrefix(v, "Digest ")
		if !ok || !utf8.ValidString(v) || strings.ContainsAny(v, "\t\r\n") || strings.ToLower(rest) != rest ||
			strings.Contains(rest, "nc") {
			return
		}
		want, lerr := digest.ParseCredentials(v)
		if lerr != nil {
			return
		}
		if err != nil {
			return // stricter than the library (an empty name, say): allowed
		}
		if got != *want {
			t.Fatalf("%q:\n ours %+v\n  lib %+v", v, got, *want)
		}
	})
}
