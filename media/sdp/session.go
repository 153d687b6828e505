package sdp

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/ccbox/ccbox/media/codec"
)

// Direction is the media direction attribute (RFC 3264 section 5.1).
type Direction uint8

// Directions. Unknown means no attribute was given at that level; the
// effective direction of a stream with none at either level is SendRecv.
const (
	Unknown Direction = iota
	SendRecv
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name ("sendrecv", …).
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return "unknown"
	}
}

// Reverse returns the direction an answer gives to an offer's (RFC 3264
// section 6.1): what the offerer sends, the answerer receives.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	default:
		return SendRecv
	}
}

// directionOf maps an attribute name to a Direction, Unknown for others.
func directionOf(attr string) Direction {
	switch attr {
	case "sendrecv":
		return SendRecv
	case "sendonly":
		return SendOnly
	case "recvonly":
		return RecvOnly
	case "inactive":
		return Inactive
	default:
		return Unknown
	}
}

// Origin is the o= line (RFC 4566 section 5.2).
type Origin struct {
	Username  string // "-" when the user has none
	SessionID uint64
	Version   uint64
	Addr      netip.Addr
}

// Format is one payload type of a media description, with what its rtpmap
// and fmtp attributes say about it.
type Format struct {
	PayloadType uint8
	Name        string // encoding name, e.g. "PCMU", "telephone-event"; "" if unknown
	ClockRate   int    // Hz; 0 if unknown
	Channels    int    // 0 when the rtpmap gives none (meaning 1)
	Fmtp        string // the fmtp parameters, e.g. "0-16"; "" if none
}

// Codec returns the G.711 codec this format is, Unknown for any other.
func (f Format) Codec() codec.Codec {
	if f.Channels > 1 {
		return codec.Unknown
	}
	return codec.FromName(f.Name, f.ClockRate)
}

// IsTelephoneEvent reports whether the format is RFC 4733 telephone-event at
// 8000 Hz, the DTMF the appliance relays with G.711.
func (f Format) IsTelephoneEvent() bool {
	return strings.EqualFold(f.Name, "telephone-event") && f.ClockRate == codec.ClockRate
}

// Media is one m= section.
type Media struct {
	Type      string // "audio", "video", …
	Port      int    // 0 means the stream is rejected or disabled
	Proto     string // "RTP/AVP", "UDP/TLS/RTP/SAVPF", …
	Formats   []Format
	Conn      netip.Addr // media-level c=; invalid when absent
	Ptime     int        // a=ptime in milliseconds; 0 when absent
	Direction Direction  // media-level attribute; Unknown when absent
	RTCPPort  int        // a=rtcp port (RFC 3605); 0 when absent (then Port+1)

	fmtText string // the m= line's formats as written, for rejecting non-RTP streams
}

// Format returns the format with payload type pt.
func (m *Media) Format(pt uint8) (Format, bool) {
	i := slices.IndexFunc(m.Formats, func(f Format) bool { return f.PayloadType == pt })
	if i < 0 {
		return Format{}, false
	}
	return m.Formats[i], true
}

// Session is a parsed or built session description.
type Session struct {
	Origin    Origin
	Name      string     // s=
	Conn      netip.Addr // session-level c=; invalid when absent
	Direction Direction  // session-level attribute; Unknown when absent
	Media     []Media
}

// Audio returns the index of the first audio stream that is not rejected
// (port not 0), or -1.
func (s *Session) Audio() int {
	return slices.IndexFunc(s.Media, func(m Media) bool { return m.Type == "audio" && m.Port != 0 })
}

// Addr returns where media i is to be sent: its connection address (media
// level first, then session level) and port. An unspecified address
// (0.0.0.0, the RFC 2543 way to hold) is returned as is; see OnHold.
func (s *Session) Addr(i int) netip.AddrPort {
	m := &s.Media[i]
	a := m.Conn
	if !a.IsValid() {
		a = s.Conn
	}
	return netip.AddrPortFrom(a, uint16(m.Port))
}

// Dir returns the effective direction of media i: its own attribute, else
// the session's, else sendrecv.
func (s *Session) Dir(i int) Direction {
	if d := s.Media[i].Direction; d != Unknown {
		return d
	}
	if s.Direction != Unknown {
		return s.Direction
	}
	return SendRecv
}

// OnHold reports whether media i is put on hold: a connection address of
// 0.0.0.0 (RFC 2543) or a direction in which the offerer does not receive
// (sendonly, inactive; RFC 3264 section 8.4). Browsers using ICE also write
// 0.0.0.0; their seats are negotiated by media/webrtc, not with this.
func (s *Session) OnHold(i int) bool {
	if s.Addr(i).Addr().IsUnspecified() {
		return true
	}
	d := s.Dir(i)
	return d == SendOnly || d == Inactive
}
