package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrMalformed is returned by Parse for a description that breaks the SDP
// grammar or a rule the appliance relies on (a stream without a connection
// address, a payload type out of range). The wrapping error names the line.
var ErrMalformed = errors.New("malformed SDP")

// ErrTooLarge is returned by Parse for a description over MaxSize bytes or
// with more than MaxMedia streams; no phone sends one.
var ErrTooLarge = errors.New("SDP too large")

// Limits on what Parse accepts, so hostile input costs bounded work.
const (
	MaxSize    = 64 << 10 // bytes
	MaxMedia   = 32       // m= sections
	maxFormats = 128      // payload types in one m= line
)

// staticFormat returns the RFC 3551 payload type an SDP may list without
// an rtpmap.
func staticFormat(pt uint8) (Format, bool) {
	name := ""
	switch pt {
	case 0:
		name = "PCMU"
	case 3:
		name = "GSM"
	case 4:
		name = "G723"
	case 8:
		name = "PCMA"
	case 9:
		name = "G722"
	case 13:
		name = "CN"
	case 18:
		name = "G729"
	default:
		return Format{}, false
	}
	return Format{PayloadType: pt, Name: name, ClockRate: 8000}, true
}

// lineError wraps ErrMalformed with the line number and a reason.
func lineError(n int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrMalformed, n, fmt.Sprintf(format, args...))
}

// Parse reads a session description. Lines may end in CRLF or LF. Attributes
// the appliance does not use are skipped; structural errors are not.
func Parse(b []byte) (*Session, error) {
	if len(b) > MaxSize {
		return nil, ErrTooLarge
	}
	s := &Session{}
	var m *Media // the m= section being read, nil at session level
	seenO, seenS := false, false
	lines := bytes.Split(b, []byte("\n"))
	// A final newline leaves an empty last element; anything else empty is an error.
	if len(lines) > 0 && len(bytes.TrimRight(lines[len(lines)-1], "\r")) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	for i, raw := range lines {
		n := i + 1
		line := string(bytes.TrimSuffix(raw, []byte("\r")))
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return nil, lineError(n, "not a <type>=<value> line")
		}
		for j := 0; j < len(line); j++ {
			if c := line[j]; (c < 0x20 && c != '\t') || c == 0x7f {
				return nil, lineError(n, "control character")
			}
		}
		typ, val := line[0], line[2:]
		if i == 0 {
			if line != "v=0" {
				return nil, lineError(n, "first line is not v=0")
			}
			continue
		}
		switch typ {
		case 'v':
			return nil, lineError(n, "second v= line")
		case 'o':
			if seenO || m != nil {
				return nil, lineError(n, "o= repeated or inside a media section")
			}
			seenO = true
			o, err := parseOrigin(val)
			if err != nil {
				return nil, lineError(n, "o=: %v", err)
			}
			s.Origin = o
		case 's':
			if seenS || m != nil {
				return nil, lineError(n, "s= repeated or inside a media section")
			}
			seenS = true
			s.Name = val
		case 'c':
			a, err := parseConnection(val)
			if err != nil {
				return nil, lineError(n, "c=: %v", err)
			}
			if m != nil {
				m.Conn = a
			} else {
				s.Conn = a
			}
		case 'm':
			if !seenO {
				return nil, lineError(n, "m= before o=")
			}
			if len(s.Media) == MaxMedia {
				return nil, ErrTooLarge
			}
			md, err := parseMedia(val)
			if err != nil {
				return nil, lineError(n, "m=: %v", err)
			}
			s.Media = append(s.Media, md)
			m = &s.Media[len(s.Media)-1]
		case 'a':
			if err := parseAttribute(s, m, val); err != nil {
				return nil, lineError(n, "a=: %v", err)
			}
		default:
			// i=, u=, e=, p=, b=, t=, r=, z=, k= and unknown types carry
			// nothing the relay needs (RFC 4566 section 5: ignore unknown).
		}
	}
	if !seenO {
		return nil, fmt.Errorf("%w: no o= line", ErrMalformed)
	}
	for i := range s.Media {
		if s.Media[i].Port != 0 && !s.Addr(i).Addr().IsValid() {
			return nil, fmt.Errorf("%w: media %d has no connection address", ErrMalformed, i+1)
		}
	}
	return s, nil
}

// parseOrigin reads "<username> <sess-id> <sess-version> IN <addrtype> <address>".
func parseOrigin(v string) (Origin, error) {
	f := strings.Fields(v)
	if len(f) != 6 {
		return Origin{}, errors.New("want 6 fields")
	}
	id, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return Origin{}, errors.New("session id is not a number")
	}
	ver, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return Origin{}, errors.New("session version is not a number")
	}
	if f[3] != "IN" || (f[4] != "IP4" && f[4] != "IP6") {
		return Origin{}, errors.New("network type is not IN IP4/IP6")
	}
	o := Origin{Username: f[0], SessionID: id, Version: ver}
	// The origin's address is informational; a host name is allowed there.
	if a, err := netip.ParseAddr(f[5]); err == nil {
		o.Addr = a
	}
	return o, nil
}

// parseConnection reads "IN IP4 <address>[/<ttl>[/<count>]]".
func parseConnection(v string) (netip.Addr, error) {
	f := strings.Fields(v)
	if len(f) != 3 || f[0] != "IN" {
		return netip.Addr{}, errors.New("want IN <addrtype> <address>")
	}
	host, _, _ := strings.Cut(f[2], "/")
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, errors.New("address is not an IP address")
	}
	switch {
	case f[1] == "IP4" && a.Is4():
	case f[1] == "IP6" && a.Is6():
	default:
		return netip.Addr{}, errors.New("address does not match its type")
	}
	return a, nil
}

// parseMedia reads "<media> <port>[/<count>] <proto> <fmt> ...".
func parseMedia(v string) (Media, error) {
	f := strings.Fields(v)
	if len(f) < 4 {
		return Media{}, errors.New("want <media> <port> <proto> <fmt>...")
	}
	if len(f)-3 > maxFormats {
		return Media{}, errors.New("too many formats")
	}
	portText, _, _ := strings.Cut(f[1], "/")
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return Media{}, errors.New("port is not a number from 0 to 65535")
	}
	m := Media{Type: f[0], Port: int(port), Proto: f[2], fmtText: strings.Join(f[3:], " ")}
	if !strings.Contains(m.Proto, "RTP/") {
		return m, nil // e.g. a WebRTC data channel: formats are not payload types
	}
	for _, t := range f[3:] {
		pt, err := strconv.ParseUint(t, 10, 8)
		if err != nil || pt > 127 {
			return Media{}, fmt.Errorf("format %q is not an RTP payload type", t)
		}
		if _, dup := m.Format(uint8(pt)); dup {
			return Media{}, fmt.Errorf("payload type %d listed twice", pt)
		}
		fm, ok := staticFormat(uint8(pt))
		if !ok {
			fm = Format{PayloadType: uint8(pt)}
		}
		m.Formats = append(m.Formats, fm)
	}
	return m, nil
}

// parseAttribute applies one a= line to the session (m == nil) or to m.
func parseAttribute(s *Session, m *Media, v string) error {
	name, value, _ := strings.Cut(v, ":")
	if d := directionOf(name); d != Unknown {
		if m != nil {
			m.Direction = d
		} else {
			s.Direction = d
		}
		return nil
	}
	if m == nil {
		return nil
	}
	switch name {
	case "rtpmap":
		pt, rest, err := payloadAttr(m, value)
		if err != nil || pt < 0 {
			return err
		}
		enc := strings.Split(strings.TrimSpace(rest), "/")
		if len(enc) < 2 || len(enc) > 3 || enc[0] == "" {
			return errors.New("rtpmap: want <name>/<clock>[/<channels>]")
		}
		clock, err := strconv.ParseUint(enc[1], 10, 32)
		if err != nil || clock == 0 {
			return errors.New("rtpmap: clock rate is not a positive number")
		}
		f := &m.Formats[pt]
		f.Name, f.ClockRate, f.Channels = enc[0], int(clock), 0
		if len(enc) == 3 {
			ch, err := strconv.ParseUint(enc[2], 10, 8)
			if err != nil || ch == 0 {
				return errors.New("rtpmap: channels is not a positive number")
			}
			f.Channels = int(ch)
		}
	case "fmtp":
		pt, rest, err := payloadAttr(m, value)
		if err != nil || pt < 0 {
			return err
		}
		m.Formats[pt].Fmtp = strings.TrimSpace(rest)
	case "ptime":
		ms, err := strconv.ParseUint(strings.TrimSpace(value), 10, 16)
		if err != nil || ms == 0 {
			return errors.New("ptime is not a positive number of milliseconds")
		}
		m.Ptime = int(ms)
	case "rtcp":
		f := strings.Fields(value)
		if len(f) == 0 {
			return errors.New("rtcp: no port")
		}
		port, err := strconv.ParseUint(f[0], 10, 16)
		if err != nil {
			return errors.New("rtcp: port is not a number from 0 to 65535")
		}
		m.RTCPPort = int(port)
	}
	return nil
}

// payloadAttr splits "<pt> <rest>" and returns the index of pt in
// m.Formats, or -1 for a payload type the m= line does not list (which the
// attribute then does not describe; RFC 4566 lets such lines be ignored).
func payloadAttr(m *Media, value string) (int, string, error) {
	ptText, rest, ok := strings.Cut(value, " ")
	if !ok {
		return -1, "", errors.New("want <payload type> <value>")
	}
	pt, err := strconv.ParseUint(ptText, 10, 8)
	if err != nil || pt > 127 {
		return -1, "", fmt.Errorf("%q is not an RTP payload type", ptText)
	}
	for i := range m.Formats {
		if m.Formats[i].PayloadType == uint8(pt) {
			return i, rest, nil
		}
	}
	return -1, "", nil
}
