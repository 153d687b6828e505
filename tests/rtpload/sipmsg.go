package main

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// errMessage is returned by parseMessage for bytes that are not a SIP
// message this user agent can read.
var errMessage = errors.New("malformed SIP message")

// errChallenge is returned by parseChallenge for a WWW-Authenticate value
// that is not a usable digest challenge.
var errChallenge = errors.New("malformed digest challenge")

// errNoChallenge is returned when a 401 offers no challenge in the wanted
// algorithm.
var errNoChallenge = errors.New("no challenge in the wanted algorithm")

// maxHeaders bounds the headers parseMessage reads from one datagram.
const maxHeaders = 64

// header is one header line, its name in lower-case long form.
type header struct{ name, value string }

// message is a parsed SIP request or response.
type message struct {
	method  string // request method; "" for a response
	uri     string // request URI
	status  int    // response status; 0 for a request
	headers []header
	body    []byte
}

// compactNames maps RFC 3261 §7.3.3 compact header names to long ones.
var compactNames = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
	"l": "content-length", "c": "content-type", "k": "supported",
}

// parseMessage reads one SIP message from a datagram. It checks what this
// user agent relies on (a start line, Call-ID, CSeq, Via) and no more. The
// message keeps nothing of b: the endpoint reads every datagram into one
// buffer and hands responses to other goroutines, so a body sharing b
// would be overwritten by the next datagram before its transaction reads
// it (a 200's SDP replaced by another call's, or by a body-less message).
func parseMessage(b []byte) (*message, error) {
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return nil, fmt.Errorf("%w: no end of headers", errMessage)
	}
	lines := strings.Split(string(head), "\r\n")
	m := &message{body: body}
	first := strings.SplitN(lines[0], " ", 3)
	if len(first) != 3 {
		return nil, fmt.Errorf("%w: start line %q", errMessage, lines[0])
	}
	switch {
	case first[0] == "SIP/2.0":
		code, err := strconv.Atoi(first[1])
		if err != nil || code < 100 || code > 699 {
			return nil, fmt.Errorf("%w: status %q", errMessage, first[1])
		}
		m.status = code
	case first[2] == "SIP/2.0" && first[0] != "" && first[1] != "":
		m.method, m.uri = first[0], first[1]
	default:
		return nil, fmt.Errorf("%w: start line %q", errMessage, lines[0])
	}
	if len(lines)-1 > maxHeaders {
		return nil, fmt.Errorf("%w: %d header lines", errMessage, len(lines)-1)
	}
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			// A folded line continues the previous header (RFC 3261 §7.3.1).
			if len(m.headers) == 0 {
				return nil, fmt.Errorf("%w: continuation before any header", errMessage)
			}
			m.headers[len(m.headers)-1].value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("%w: header line %q", errMessage, l)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if long, ok := compactNames[name]; ok {
			name = long
		}
		m.headers = append(m.headers, header{name, strings.TrimSpace(value)})
	}
	if m.get("call-id") == "" || m.get("via") == "" {
		return nil, fmt.Errorf("%w: no Call-ID or Via", errMessage)
	}
	if _, _, err := m.cseq(); err != nil {
		return nil, err
	}
	if n := m.get("content-length"); n != "" {
		l, err := strconv.Atoi(n)
		if err != nil || l < 0 || l > len(m.body) {
			return nil, fmt.Errorf("%w: Content-Length %q for %d bytes", errMessage, n, len(m.body))
		}
		m.body = m.body[:l]
	}
	m.body = bytes.Clone(m.body)
	return m, nil
}

// get returns the first value of the header name (lower-case long form).
func (m *message) get(name string) string {
	for _, h := range m.headers {
		if h.name == name {
			return h.value
		}
	}
	return ""
}

// all returns every value of the header name.
func (m *message) all(name string) []string {
	var out []string
	for _, h := range m.headers {
		if h.name == name {
			out = append(out, h.value)
		}
	}
	return out
}

// cseq returns the CSeq number and method.
func (m *message) cseq() (uint32, string, error) {
	num, method, ok := strings.Cut(m.get("cseq"), " ")
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 32)
	if !ok || err != nil || strings.TrimSpace(method) == "" {
		return 0, "", fmt.Errorf("%w: CSeq %q", errMessage, m.get("cseq"))
	}
	return uint32(n), strings.TrimSpace(method), nil
}

// branch returns the branch parameter of the top Via: the transaction key.
func (m *message) branch() string { return param(m.get("via"), "branch") }

// param returns the value of ;name=value in a header value, or "".
func param(v, name string) string {
	for _, p := range strings.Split(v, ";")[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, name) {
			return strings.Trim(val, `"`)
		}
	}
	return ""
}

// uriOf returns the URI inside <...> of a From, To or Contact value, or the
// value up to its first ';' when it has no brackets.
func uriOf(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	u, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(u)
}

// randomToken returns n random bytes in hex, for tags, branches and
// Call-IDs.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// request builds a request. hdrs are extra "Name: value" lines; the body,
// when not nil, is sent as application/sdp.
type request struct {
	method, uri      string
	via              string // host:port of this endpoint
	branch           string
	from, to, callID string
	cseq             uint32
	contact          string // URI; "" for none
	hdrs             []string
	body             []byte
}

func (r request) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", r.method, r.uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", r.via, r.branch)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", r.from, r.to, r.callID, r.cseq, r.method)
	if r.contact != "" {
		fmt.Fprintf(&b, "Contact: <%s>\r\n", r.contact)
	}
	b.WriteString("User-Agent: rtpload\r\n")
	for _, h := range r.hdrs {
		b.WriteString(h + "\r\n")
	}
	if r.body != nil {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.body))
	b.Write(r.body)
	return b.Bytes()
}

// response builds the answer to req with status code: its Via, From,
// Call-ID and CSeq copied, toTag added to To when To has none.
func response(req *message, code int, reason, toTag, contact string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range req.all("via") {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	to := req.get("to")
	if param(to, "tag") == "" && toTag != "" {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n", req.get("from"), to, req.get("call-id"), req.get("cseq"))
	if contact != "" {
		fmt.Fprintf(&b, "Contact: <%s>\r\n", contact)
	}
	if body != nil {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

// challenge is a parsed digest WWW-Authenticate.
type challenge struct {
	realm, nonce, algorithm, opaque string
	qopAuth                         bool
}

// parseChallenge reads a WWW-Authenticate value (RFC 7616 §3.3).
func parseChallenge(v string) (challenge, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "Digest") {
		return challenge{}, fmt.Errorf("%w: scheme of %q", errChallenge, v)
	}
	c := challenge{algorithm: "MD5"}
	for _, kv := range splitParams(rest) {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "algorithm":
			c.algorithm = strings.ToUpper(val)
		case "opaque":
			c.opaque = val
		case "qop":
			for q := range strings.SplitSeq(val, ",") {
				c.qopAuth = c.qopAuth || strings.TrimSpace(q) == "auth"
			}
		}
	}
	if c.realm == "" || c.nonce == "" {
		return challenge{}, fmt.Errorf("%w: no realm or nonce in %q", errChallenge, v)
	}
	return c, nil
}

// splitParams splits "a=1, b="x, y", c=3" at the commas outside quotes.
func splitParams(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// pickChallenge returns the challenge of a 401 in algorithm alg.
func pickChallenge(res *message, alg string) (challenge, error) {
	for _, v := range res.all("www-authenticate") {
		c, err := parseChallenge(v)
		if err == nil && c.algorithm == alg {
			return c, nil
		}
	}
	return challenge{}, fmt.Errorf("%w: %s", errNoChallenge, alg)
}

// authorization returns the Authorization header line answering c for
// user/password on method and uri, with nonce count nc.
func authorization(c challenge, user, password, method, uri string, nc uint32) string {
	var h func() hash.Hash
	switch c.algorithm {
	case "SHA-256":
		h = sha256.New
	default:
		h = md5.New
	}
	sum := func(parts ...string) string {
		x := h()
		x.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(x.Sum(nil))
	}
	ha1 := sum(user, c.realm, password)
	ha2 := sum(method, uri)
	var b strings.Builder
	fmt.Fprintf(&b, `Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s`, user, c.realm, c.nonce, uri, c.algorithm)
	if c.qopAuth {
		cnonce := randomToken(8)
		ncs := fmt.Sprintf("%08x", nc)
		fmt.Fprintf(&b, `, qop=auth, nc=%s, cnonce="%s", response="%s"`, ncs, cnonce, sum(ha1, c.nonce, ncs, cnonce, "auth", ha2))
	} else {
		fmt.Fprintf(&b, `, response="%s"`, sum(ha1, c.nonce, ha2))
	}
	if c.opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, c.opaque)
	}
	return b.String()
}

// sdpOffer is the SDP of one leg: PCMU only, 20 ms, on ip:port.
func sdpOffer(ip string, port int, version int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=rtpload %d %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n", port, version, ip, ip, port)
}

// errSDP is returned by sdpMedia for an SDP without an IPv4 audio address.
var errSDP = errors.New("SDP without an IPv4 audio address")

// sdpMedia returns the audio address of an SDP: the media-level c= line or
// else the session-level one, and the m=audio port.
func sdpMedia(body []byte) (ip string, port int, err error) {
	inAudio := false
lines:
	for l := range strings.SplitSeq(string(body), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "m="):
			if inAudio {
				break lines // only the first audio stream counts
			}
			f := strings.Fields(l[2:])
			if len(f) >= 2 && f[0] == "audio" {
				p, perr := strconv.Atoi(f[1])
				if perr == nil && p > 0 && p < 65536 {
					inAudio, port = true, p
				}
			}
		case strings.HasPrefix(l, "c=IN IP4 "):
			if a := strings.TrimSpace(strings.TrimPrefix(l, "c=IN IP4 ")); ip == "" || inAudio {
				ip = a
			}
		}
	}
	if ip == "" || port == 0 {
		return "", 0, errSDP
	}
	return ip, port, nil
}
