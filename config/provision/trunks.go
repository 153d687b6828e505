package provision

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/ccbox/ccbox/config/store"
)

// Trunk is a carrier connection in the document. Its secret is accepted on
// apply and never exported: a trunk without secret keeps the stored one.
type Trunk struct {
	Kind            string   `yaml:"kind"` // register or ip
	Host            string   `yaml:"host"`
	Port            int      `yaml:"port,omitempty"`      // 0 = 5060
	Transport       string   `yaml:"transport,omitempty"` // udp (default), tcp or tls
	Username        string   `yaml:"username,omitempty"`
	AuthUsername    string   `yaml:"auth_username,omitempty"`
	Secret          string   `yaml:"secret,omitempty"` // plaintext, never exported
	Realm           string   `yaml:"realm,omitempty"`
	FromDomain      string   `yaml:"from_domain,omitempty"`
	Expires         int      `yaml:"expires,omitempty"`          // seconds; 0 = 300
	Addresses       []string `yaml:"addresses,omitempty,flow"`   // IPs/CIDRs calls are accepted from
	MaxCalls        int      `yaml:"max_calls,omitempty"`        // 0 = no limit
	CallsPerMinute  int      `yaml:"calls_per_minute,omitempty"` // 0 = no limit
	Codecs          []string `yaml:"codecs,omitempty,flow"`      // PCMU/PCMA; empty = both, PCMU first
	DTMFMode        string   `yaml:"dtmf_mode,omitempty"`        // rfc4733 (default), info or inband
	CalledFrom      string   `yaml:"called_from,omitempty"`      // ruri (default), to or diversion
	CallerFrom      string   `yaml:"caller_from,omitempty"`      // from (default) or pai
	OptionsInterval int      `yaml:"options_interval,omitempty"` // seconds; 0 = 30
	Disabled        bool     `yaml:"disabled,omitempty"`
}

// Limits of trunk values.
const (
	maxHostLen           = 253
	maxSIPUserLen        = 64
	maxTrunkSecretLen    = 128
	minExpires           = 60
	maxExpires           = 3600
	maxTrunkCalls        = 1000
	maxCallsPerMinute    = 10000
	minOptionsInterval   = 5
	maxOptionsInterval   = 3600
	maxTrunkAddresses    = 32
	maxTrunkRealmLen     = 128
	trunkNameDescription = "1-32 characters of a-z 0-9 _ -"
	maxObjectNameLen     = 32
)

// CheckObjectName: the name of a trunk, route or caller pool: 1-32
// characters of a-z 0-9 _ - (it is a key and part of URLs and metric labels).
func CheckObjectName(name string) error {
	if name == "" || len(name) > maxObjectNameLen {
		return problem("name must be %s", trunkNameDescription)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return problem("name must be %s", trunkNameDescription)
		}
	}
	return nil
}

// CheckTrunkSecret: a carrier's digest password: 1-128 bytes, no control
// characters. Carriers choose them, so no strength rule applies.
func CheckTrunkSecret(secret string) error {
	if secret == "" || len(secret) > maxTrunkSecretLen {
		return problem("must be 1-%d bytes", maxTrunkSecretLen)
	}
	return checkText(secret, maxTrunkSecretLen)
}

// CheckTrunk checks a trunk's values (not its secret: see CheckTrunkSecret;
// not that the secret exists: see Apply). It returns nil or errors.Join of
// *FieldError whose Path is the document key ("host").
func CheckTrunk(t store.Trunk) error {
	var errs []error
	check := func(path string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{Path: path, Problem: problemOf(err)})
		}
	}
	switch {
	case t.Kind == "":
		check("kind", problem("is required (register or ip)"))
	case !t.Kind.Valid():
		check("kind", problem("unknown kind %q (register or ip)", t.Kind))
	}
	if t.Host == "" {
		check("host", problem("is required (the carrier's host name or IP address)"))
	} else {
		check("host", checkHost(t.Host))
	}
	if t.Port < 0 || t.Port > 65535 {
		check("port", problem("must be 0 (5060) to 65535"))
	}
	switch t.Transport {
	case "", "udp", "tcp", "tls":
	default:
		check("transport", problem("unknown transport %q (udp, tcp or tls)", t.Transport))
	}
	if t.Kind == store.TrunkRegister && t.Username == "" {
		check("username", problem("is required for a register trunk"))
	}
	check("username", checkSIPUser(t.Username))
	check("auth_username", checkSIPUser(t.AuthUsername))
	if t.Realm != "" {
		if strings.ContainsAny(t.Realm, `"\`) {
			check("realm", problem("must not contain quotes or backslashes"))
		} else {
			check("realm", checkText(t.Realm, maxTrunkRealmLen))
		}
	}
	if t.FromDomain != "" {
		check("from_domain", checkHost(t.FromDomain))
	}
	if t.Expires != 0 && (t.Expires < minExpires || t.Expires > maxExpires) {
		check("expires", problem("must be 0 (%d s) or %d to %d seconds", store.DefaultTrunkExpires, minExpires, maxExpires))
	}
	if len(t.Addresses) > maxTrunkAddresses {
		check("addresses", problem("at most %d addresses", maxTrunkAddresses))
	}
	seen := map[string]bool{}
	for _, a := range t.Addresses {
		if err := checkAddress(a); err != nil {
			check("addresses", err)
			break
		}
		if seen[a] {
			check("addresses", problem("lists %s twice", a))
			break
		}
		seen[a] = true
	}
	if t.MaxCalls < 0 || t.MaxCalls > maxTrunkCalls {
		check("max_calls", problem("must be 0 (no limit) to %d", maxTrunkCalls))
	}
	if t.CallsPerMinute < 0 || t.CallsPerMinute > maxCallsPerMinute {
		check("calls_per_minute", problem("must be 0 (no limit) to %d", maxCallsPerMinute))
	}
	check("codecs", CheckCodecs(t.Codecs))
	check("dtmf_mode", CheckDTMFMode(t.DTMFMode))
	switch t.CalledFrom {
	case "", "ruri", "to", "diversion":
	default:
		check("called_from", problem("unknown value %q (ruri, to or diversion)", t.CalledFrom))
	}
	switch t.CallerFrom {
	case "", "from", "pai":
	default:
		check("caller_from", problem("unknown value %q (from or pai)", t.CallerFrom))
	}
	if t.OptionsInterval != 0 && (t.OptionsInterval < minOptionsInterval || t.OptionsInterval > maxOptionsInterval) {
		check("options_interval", problem("must be 0 (%d s) or %d to %d seconds", store.DefaultTrunkOptionsInterval, minOptionsInterval, maxOptionsInterval))
	}
	return errors.Join(errs...)
}

// checkHost: an IP address, or a DNS name of letters, digits, - and dots.
func checkHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if len(h) > maxHostLen {
		return problem("must be an IP address or a host name of at most %d characters", maxHostLen)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return problem("%q is not an IP address or host name", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return problem("%q is not an IP address or host name", h)
			}
		}
	}
	return nil
}

// checkAddress: an IP address or a CIDR prefix.
func checkAddress(a string) error {
	if _, err := netip.ParseAddr(a); err == nil {
		return nil
	}
	if p, err := netip.ParsePrefix(a); err == nil && p == p.Masked() {
		return nil
	}
	return problem("%q is not an IP address or CIDR prefix (203.0.113.0/24) with its host bits zero", a)
}

// checkSIPUser: "" or 1-64 characters that may stand unescaped in a SIP
// user part (RFC 3261 §25.1: unreserved and user-unreserved characters).
func checkSIPUser(u string) error {
	if len(u) > maxSIPUserLen {
		return problem("must be at most %d characters", maxSIPUserLen)
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0:
		default:
			return problem("must be letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? /")
		}
	}
	return nil
}

// trunkToStore is the store record of a document trunk, without its secret
// (Apply seals it) and without timestamps.
func trunkToStore(name string, t Trunk) store.Trunk {
	return store.Trunk{
		Name:            name,
		Kind:            store.TrunkKind(t.Kind),
		Host:            t.Host,
		Port:            t.Port,
		Transport:       t.Transport,
		Username:        t.Username,
		AuthUsername:    t.AuthUsername,
		Realm:           t.Realm,
		FromDomain:      t.FromDomain,
		Expires:         t.Expires,
		Addresses:       nilIfEmpty(t.Addresses),
		MaxCalls:        t.MaxCalls,
		CallsPerMinute:  t.CallsPerMinute,
		Codecs:          nilIfEmpty(t.Codecs),
		DTMFMode:        NormalDTMFMode(t.DTMFMode),
		CalledFrom:      t.CalledFrom,
		CallerFrom:      t.CallerFrom,
		OptionsInterval: t.OptionsInterval,
		Disabled:        t.Disabled,
	}
}

// trunkFromStore is the exported form: never the secret.
func trunkFromStore(t store.Trunk) Trunk {
	return Trunk{
		Kind:            string(t.Kind),
		Host:            t.Host,
		Port:            t.Port,
		Transport:       t.Transport,
		Username:        t.Username,
		AuthUsername:    t.AuthUsername,
		Realm:           t.Realm,
		FromDomain:      t.FromDomain,
		Expires:         t.Expires,
		Addresses:       t.Addresses,
		MaxCalls:        t.MaxCalls,
		CallsPerMinute:  t.CallsPerMinute,
		Codecs:          t.Codecs,
		DTMFMode:        t.DTMFMode,
		CalledFrom:      t.CalledFrom,
		CallerFrom:      t.CallerFrom,
		OptionsInterval: t.OptionsInterval,
		Disabled:        t.Disabled,
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
