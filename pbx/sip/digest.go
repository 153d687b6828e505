package sip

import (
	"errors"
	"strconv"
	"strings"

	"github.com/icholy/digest"
)

// Digest Authorization values are parsed here rather than by
// digest.ParseCredentials, which reads through a 4 KB bufio.Reader and
// builds a slice of parameters for every request: with INVITE
// authentication on, that was one of the box's largest allocations per
// call. This parser slices the header value in place (a copy only for a
// quoted string with escapes) and fills the library's Credentials type,
// which the rest of the digest code uses.

// errDigestSyntax is returned by parseDigest for a value that is not a
// well-formed Digest credentials list.
var errDigestSyntax = errors.New("sip: malformed digest credentials")

// parseDigest parses `Digest k=v, k="v", ...` (RFC 3261 §25.1 credentials;
// linear white space around the separators, parameter names in any case).
// Unknown parameters are skipped; a repeated one keeps its last value.
func parseDigest(v string) (digest.Credentials, error) {
	var c digest.Credentials
	const prefix = "Digest"
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return c, errDigestSyntax
	}
	s := v[len(prefix):]
	if s == "" || !isLWS(s[0]) {
		return c, errDigestSyntax
	}
	for first := true; ; first = false {
		s = trimLWS(s)
		if s == "" {
			return c, nil // parseCredentials refuses what lacks a needed field
		}
		if !first {
			if s[0] != ',' {
				return c, errDigestSyntax
			}
			s = trimLWS(s[1:])
		}
		var key, val string
		var err error
		if key, s = cutToken(s); key == "" {
			return c, errDigestSyntax
		}
		if s = trimLWS(s); s == "" || s[0] != '=' {
			return c, errDigestSyntax
		}
		s = trimLWS(s[1:])
		if s != "" && s[0] == '"' {
			if val, s, err = cutQuoted(s); err != nil {
				return c, err
			}
		} else {
			val, s = cutToken(s) // may be empty, as other stacks take it
		}
		if err := setDigestParam(&c, key, val); err != nil {
			return c, err
		}
	}
}

// setDigestParam stores one parameter of credentials.
func setDigestParam(c *digest.Credentials, key, val string) error {
	switch strings.ToLower(key) {
	case "username":
		c.Username = val
	case "realm":
		c.Realm = val
	case "nonce":
		c.Nonce = val
	case "uri":
		c.URI = val
	case "response":
		c.Response = val
	case "algorithm":
		c.Algorithm = val
	case "cnonce":
		c.Cnonce = val
	case "opaque":
		c.Opaque = val
	case "qop":
		c.QOP = val
	case "nc":
		// RFC 7616 says 8 hex digits; fewer are taken, as other stacks do.
		nc, err := strconv.ParseUint(val, 16, 32)
		if err != nil || len(val) > 8 {
			return errDigestSyntax
		}
		c.Nc = int(nc)
	case "userhash":
		c.Userhash = strings.EqualFold(val, "true")
	}
	return nil
}

func isLWS(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func trimLWS(s string) string {
	for s != "" && isLWS(s[0]) {
		s = s[1:]
	}
	return s
}

// isTokenChar reports whether b may appear in an RFC 3261 token.
func isTokenChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", b) >= 0
}

// cutToken splits s after its leading token.
func cutToken(s string) (tok, rest string) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// cutQuoted splits s, which starts with '"', after its quoted string and
// returns the string's content with quoted pairs (\x) undone.
func cutQuoted(s string) (val, rest string, err error) {
	escapes := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escapes = true
			i++ // the escaped character, whatever it is
		case '"':
			val = s[1:i]
			if escapes {
				val = unquote(val)
			}
			return val, s[i+1:], nil
		}
	}
	return "", "", errDigestSyntax // no closing quote
}

// unquote undoes the quoted pairs of a quoted string's content.
func unquote(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// challengeValue is a WWW-Authenticate value for our challenges, as
// digest.Challenge.String writes it, built without its parameter slice.
func challengeValue(realm, nonce, alg string, stale bool) string {
	st := ""
	if stale {
		st = ", stale=true"
	}
	return "Digest realm=" + strconv.Quote(realm) + ", nonce=" + strconv.Quote(nonce) + st +
		", algorithm=" + alg + `, qop="auth"`
}
