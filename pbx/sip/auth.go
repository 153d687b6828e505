package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Digest algorithms offered in challenges (RFC 8760). MD5 is listed first
// although SHA-256 is the stronger: SIPp 3.6 and baresip 1.0 answer only the
// first WWW-Authenticate and give up when it is not MD5, while phones that
// know SHA-256 pick it from the list by name.
const (
	algSHA256 = "SHA-256"
	algMD5    = "MD5"
)

// authResult is the outcome of checking a request's credentials.
type authResult uint8

const (
	authUnknown authResult = iota
	// authMissing: no usable credentials for our realm: challenge.
	authMissing
	// authStale: a good response to an expired nonce: challenge with stale=true (RFC 7616 §3.3).
	authStale
	// authFailed: a wrong response, unknown or disabled extension: 403 and counted.
	authFailed
	// authOK: the response matches.
	authOK
)

func (r authResult) String() string {
	switch r {
	case authMissing:
		return "missing"
	case authStale:
		return "stale"
	case authFailed:
		return "failed"
	case authOK:
		return "ok"
	}
	return "unknown"
}

// nonceLen is the decoded length of a nonce: 8 bytes of time, 16 of MAC.
const nonceLen = 8 + 16

// ErrBadNonce is returned by parseNonce for a nonce this boot did not make.
var ErrBadNonce = errors.New("sip: nonce not issued here")

// nonces makes and checks stateless nonces: the issue time and an HMAC of
// it under a key drawn at boot, so no per-challenge state is kept and a
// restart invalidates old nonces (phones then get a fresh challenge).
type nonces struct {
	key []byte
	ttl time.Duration
}

func (n nonces) mac(ts []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write(ts)
	return m.Sum(nil)[:16]
}

func (n nonces) make(now time.Time) string {
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	copy(b[8:], n.mac(b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseNonce checks a nonce and returns when it was issued.
func (n nonces) parse(s string) (time.Time, error) {
	if base64.RawURLEncoding.DecodedLen(len(s)) != nonceLen {
		return time.Time{}, ErrBadNonce
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	// The decoder skips newlines: insist on the exact form we issued.
	if err != nil || len(b) != nonceLen || base64.RawURLEncoding.EncodeToString(b) != s {
		return time.Time{}, ErrBadNonce
	}
	if !hmac.Equal(b[8:], n.mac(b[:8])) {
		return time.Time{}, ErrBadNonce
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))), nil
}

// challenges returns the WWW-Authenticate values: MD5 then SHA-256, or MD5
// alone when md5Only.
func (n nonces) challenges(realm string, now time.Time, stale, md5Only bool) []string {
	nonce := n.make(now)
	algs := []string{algMD5, algSHA256}
	if md5Only {
		algs = algs[:1]
	}
	out := make([]string, 0, 2)
	for _, alg := range algs {
		out = append(out, challengeValue(realm, nonce, alg, stale))
	}
	return out
}

// credentials reads the Authorization header for our realm. A request may
// carry several (one per realm); others are ignored. ok is false when none
// is for us or it cannot be parsed.
func credentials(req *sip.Request, realm string) (*digest.Credentials, bool) {
	for _, h := range req.GetHeaders("Authorization") {
		c, err := parseCredentials(h.Value())
		if err != nil {
			continue
		}
		if c.Realm == realm {
			return c, true
		}
	}
	return nil, false
}

// errCredentials is returned by parseCredentials for an Authorization value
// that lacks a field every digest response needs.
var errCredentials = errors.New("sip: incomplete digest credentials")

// parseCredentials parses an Authorization value and checks that the fields
// the digest computation reads are there.
func parseCredentials(v string) (*digest.Credentials, error) {
	c, err := parseDigest(v)
	if err != nil {
		return nil, err
	}
	if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
		return nil, errCredentials
	}
	if c.QOP != "" && c.QOP != "auth" {
		return nil, errCredentials
	}
	return &c, nil
}

// hasher returns the hash of a digest algorithm name, nil when unsupported.
func hasher(alg string) hash.Hash {
	switch strings.ToUpper(alg) {
	case "", algMD5:
		return md5.New()
	case algSHA256:
		return sha256.New()
	}
	return nil
}

func hexHash(h hash.Hash, parts ...string) string {
	h.Reset()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

// expectedResponse computes the digest response (RFC 7616 §3.4.1) from HA1.
func expectedResponse(h hash.Hash, ha1, method string, c *digest.Credentials) string {
	ha2 := hexHash(h, method, c.URI)
	if c.QOP == "" {
		return hexHash(h, ha1, c.Nonce, ha2)
	}
	return hexHash(h, ha1, c.Nonce, fmt.Sprintf("%08x", c.Nc), c.Cnonce, c.QOP, ha2)
}

// dummyHA1 stands in for the secret of an unknown or disabled extension, so
// they cost the same work as a known one and get the same answers.
const dummyHA1 = "00000000000000000000000000000000"

// HA1 computes H(ext:realm:password) for an algorithm ("MD5" or "SHA-256"),
// for whoever stores an extension's secret.
func HA1(alg, ext, realm, password string) string {
	h := hasher(alg)
	if h == nil {
		return ""
	}
	return hexHash(h, ext, realm, password)
}

// check verifies a request's credentials against the directory.
func (s *Server) check(req *sip.Request) (Extension, authResult) {
	c, ok := credentials(req, s.cfg.Realm)
	if !ok {
		return "", authMissing
	}
	h := hasher(c.Algorithm)
	if h == nil {
		return "", authMissing
	}
	issued, err := s.nonces.parse(c.Nonce)
	if err != nil {
		// Not our nonce (an old boot's, or made up): challenge afresh.
		return "", authMissing
	}
	ext := Extension(c.Username)
	ha1 := dummyHA1
	known := false
	if cr, err := s.deps.Directory.Credentials(ext); err == nil && !cr.Disabled {
		if strings.EqualFold(c.Algorithm, algSHA256) {
			ha1 = cr.HA1SHA256
		} else {
			ha1 = cr.HA1MD5
		}
		known = ha1 != ""
	}
	want := expectedResponse(h, ha1, string(req.Method), c)
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
	if !known || !match {
		return ext, authFailed
	}
	if s.now().Sub(issued) > s.cfg.NonceTTL {
		return ext, authStale
	}
	return ext, authOK
}

// Authenticate checks a request's digest credentials and returns the
// authenticated extension. When ok is false it has already answered the
// request (401 with a challenge, or 403) through tx, or dropped it because
// the source is banned; the caller only returns. Use it for INVITE and any
// other request that must come from a registered user.
func (s *Server) Authenticate(req *sip.Request, tx sip.ServerTransaction) (ext Extension, ok bool) {
	src := sourceIP(req)
	if s.bans.banned(src) {
		return "", false
	}
	ext, res := s.check(req)
	switch res {
	case authOK:
		return ext, true
	case authFailed:
		s.metrics.authFailures.Inc()
		if s.bans.fail(src) {
			s.log.Warn("source banned after repeated auth failures", "ip", src.String(), "for", s.cfg.BanTime)
		}
		s.log.Info("auth failed", "ip", src.String(), "user", string(ext), "method", string(req.Method))
		s.respond(tx, req, sip.StatusForbidden, "Forbidden")
	default:
		s.challenge(tx, req, res == authStale)
	}
	return "", false
}

// challenge answers 401 with one WWW-Authenticate per algorithm.
func (s *Server) challenge(tx sip.ServerTransaction, req *sip.Request, stale bool) {
	hs := make([]sip.Header, 0, 2)
	for _, v := range s.nonces.challenges(s.cfg.Realm, s.now(), stale, s.md5Only(req)) {
		hs = append(hs, sip.NewHeader("WWW-Authenticate", v))
	}
	s.respond(tx, req, sip.StatusUnauthorized, "Unauthorized", hs...)
}

// md5Only reports whether the request's User-Agent is one that gives up
// when any challenge is not MD5 (libre, under baresip 1.0, fails the whole
// 401 with ENOSYS on an unknown algorithm instead of skipping it). It
// depends on the User-Agent only, never on the extension, so it tells
// nothing about which extensions exist.
func (s *Server) md5Only(req *sip.Request) bool {
	h := req.GetHeader("User-Agent")
	if h == nil {
		return false
	}
	ua := strings.ToLower(h.Value())
	for _, p := range s.cfg.MD5OnlyAgents {
		if strings.HasPrefix(ua, strings.ToLower(p)) {
			return true
		}
	}
	return false
}
