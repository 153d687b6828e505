package sip

import (
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// CalledNumber is the number a trunk's inbound call is for, read where the
// trunk's CalledFrom says: the Request-URI's user, To's user, or the user
// of the first Diversion (RFC 5806: the number first called before the
// carrier diverted it). A missing Diversion falls back to To, an empty To
// to the Request-URI. The number is returned as sent (unescaped, tel: URIs
// included); normalizing it is the dial plan's business.
func CalledNumber(req *sip.Request, cfg TrunkConfig) string {
	switch cfg.CalledFrom {
	case CalledFromDiversion:
		if h := req.GetHeader("Diversion"); h != nil {
			if n := nameAddrUser(h.Value()); n != "" {
				return n
			}
		}
		fallthrough
	case CalledFromTo:
		if to := req.To(); to != nil {
			if n := uriUser(to.Address); n != "" {
				return n
			}
		}
	}
	return uriUser(req.Recipient)
}

// CallerNumber is the caller's number of a trunk's inbound call: the user
// of the first P-Asserted-Identity (RFC 3325) when the trunk's CallerFrom
// says so and there is one, else From's user.
func CallerNumber(req *sip.Request, cfg TrunkConfig) string {
	if cfg.CallerFrom == CallerFromPAI {
		if h := req.GetHeader("P-Asserted-Identity"); h != nil {
			if n := nameAddrUser(h.Value()); n != "" {
				return n
			}
		}
	}
	if from := req.From(); from != nil {
		return uriUser(from.Address)
	}
	return ""
}

// uriUser is the user part of a parsed URI; sipgo leaves tel: URIs
// unparsed, so their number is read from the text.
func uriUser(u sip.Uri) string {
	if u.Scheme == "tel" {
		return addrSpecUser(u.String())
	}
	return unescapeUser(u.User)
}

// nameAddrUser reads the user of the first value of a header holding
// name-addr or addr-spec values (RFC 3261 §25.1), such as Diversion or
// P-Asserted-Identity: `"Name" <sip:user@host>;param, <tel:+86...>`.
// It returns "" when there is none.
func nameAddrUser(v string) string {
	v = strings.TrimSpace(v)
	// Skip a quoted display name, which may hold '<', ',' or '\"'.
	if strings.HasPrefix(v, `"`) {
		i := 1
		for i < len(v) && v[i] != '"' {
			if v[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(v) {
			return ""
		}
		v = v[i+1:]
	}
	// A '<' opens this value's address unless an addr-spec comes first
	// (a display-name token holds no ':'; the '<' is then a later value's).
	if lt := strings.IndexByte(v, '<'); lt >= 0 && !strings.Contains(v[:lt], ":") {
		gt := strings.IndexByte(v[lt:], '>')
		if gt < 0 {
			return ""
		}
		return addrSpecUser(v[lt+1 : lt+gt])
	}
	// addr-spec without brackets: it ends at the first ',' or ';' (its
	// header parameters or the next value).
	if i := strings.IndexAny(v, ",;"); i >= 0 {
		v = v[:i]
	}
	return addrSpecUser(strings.TrimSpace(v))
}

// addrSpecUser reads the user of "sip:user@host", "sips:user;p@host" or
// "tel:+8613800138000;phone-context=...". Other schemes give "".
func addrSpecUser(s string) string {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return ""
	}
	switch strings.ToLower(strings.TrimSpace(scheme)) {
	case "tel":
		if i := strings.IndexAny(rest, ";?"); i >= 0 {
			rest = rest[:i]
		}
		return unescapeUser(rest)
	case "sip", "sips":
		at := strings.LastIndexByte(rest, '@')
		if at < 0 {
			return "" // no user part
		}
		user := rest[:at]
		// user;user-params (RFC 4967 "user=phone" puts them after the host,
		// but some carriers write "+86...;npdi" here) and user:password.
		if i := strings.IndexAny(user, ";:"); i >= 0 {
			user = user[:i]
		}
		return unescapeUser(user)
	}
	return ""
}

// unescapeUser undoes %-escapes (carriers write + as %2B); a malformed
// escape leaves the text as it came. Text no user part may hold (brackets,
// quotes, white space: a mangled header) gives "".
func unescapeUser(s string) string {
	if strings.ContainsAny(s, "<>\" \t\r\n") {
		return ""
	}
	if !strings.Contains(s, "%") {
		return s
	}
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}
