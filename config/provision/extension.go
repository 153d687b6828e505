package provision

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Limits of extension values.
const (
	minExtensionDigits = 2
	maxExtensionDigits = 8
	minAgentDigits     = 2
	maxAgentDigits     = 12
	minSecretLen       = 8   // bytes
	maxSecretLen       = 128 // bytes
	maxCallsLimit      = 100
)

// Codecs an extension may list.
var knownCodecs = []string{"PCMU", "PCMA"}

// CheckExtensionNumber: 2-8 digits, not starting with 0. A leading 0 is kept
// free for dialling out through a trunk; * and # for feature codes.
func CheckExtensionNumber(number string) error {
	if !digits(number, minExtensionDigits, maxExtensionDigits) || number[0] == '0' {
		return problem("extension number must be %d-%d digits, not starting with 0", minExtensionDigits, maxExtensionDigits)
	}
	return nil
}

// CheckAgentNumber: 2-12 digits, or "" (no agent number).
func CheckAgentNumber(number string) error {
	if number != "" && !digits(number, minAgentDigits, maxAgentDigits) {
		return problem("agent number must be %d-%d digits", minAgentDigits, maxAgentDigits)
	}
	return nil
}

// CheckExtensionName: the display name, at most 64 characters, no control characters; may be empty.
func CheckExtensionName(name string) error { return checkText(name, maxTextLen) }

// CheckExtensionUser: "" (nobody) or a valid user name. That the user exists
// is checked against the store.
func CheckExtensionUser(user string) error {
	if user == "" {
		return nil
	}
	return CheckUserName(user)
}

// CheckSecret: a SIP secret for extension number: 8-128 bytes, printable,
// and not the number itself (the first thing a scanner tries).
func CheckSecret(number, secret string) error {
	switch {
	case len(secret) < minSecretLen:
		return problem("must be at least %d characters", minSecretLen)
	case len(secret) > maxSecretLen:
		return problem("must be at most %d bytes", maxSecretLen)
	case secret == number:
		return problem("must not be the extension number")
	}
	if err := checkText(secret, maxSecretLen); err != nil {
		return err
	}
	return nil
}

// CheckHA1MD5: 32 hex digits.
func CheckHA1MD5(ha1 string) error {
	if !isHex(ha1, md5.Size*2) {
		return problem("must be %d hex digits (MD5 of number:realm:secret)", md5.Size*2)
	}
	return nil
}

// CheckHA1SHA256: 64 hex digits.
func CheckHA1SHA256(ha1 string) error {
	if !isHex(ha1, sha256.Size*2) {
		return problem("must be %d hex digits (SHA-256 of number:realm:secret)", sha256.Size*2)
	}
	return nil
}

// CheckMaxCalls: 0 (the default, 2) to 100.
func CheckMaxCalls(n int) error {
	if n < 0 || n > maxCallsLimit {
		return problem("must be 0 (default 2) to %d", maxCallsLimit)
	}
	return nil
}

// CheckCodecs: each of PCMU and PCMA at most once, in preference order; empty means both, PCMU first.
func CheckCodecs(codecs []string) error {
	seen := map[string]bool{}
	for _, c := range codecs {
		known := false
		for _, k := range knownCodecs {
			known = known || c == k
		}
		switch {
		case !known:
			return problem("unknown codec %q (PCMU or PCMA)", c)
		case seen[c]:
			return problem("lists %s twice", c)
		}
		seen[c] = true
	}
	return nil
}

// HA1 returns the digest HA1s of an extension's secret, lowercase hex:
// MD5 and SHA-256 of "number:realm:secret" (RFC 7616 §3.4.2).
func HA1(number, realm, secret string) (md5Hex, sha256Hex string) {
	in := number + ":" + realm + ":" + secret
	m := md5.Sum([]byte(in))
	s := sha256.Sum256([]byte(in))
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// normalHex is how HA1s are stored and compared: lowercase.
func normalHex(s string) string { return strings.ToLower(s) }
