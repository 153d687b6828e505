package sdp

import (
	"bytes"
	"errors"
	"hash/maphash"
	"net/netip"
	"strconv"
	"sync"

	"github.com/ccbox/ccbox/media/codec"
)

// ErrNoAudio is returned by Answer for an offer without an audio stream the
// appliance can take (none, or every one rejected).
var ErrNoAudio = errors.New("no audio stream offered")

// ErrNoCommonCodec is returned by Answer when the offer's audio has none of
// the codecs the appliance accepts (the caller answers 488).
var ErrNoCommonCodec = errors.New("no common codec")

// Local is what the appliance says about its own side of one call leg.
type Local struct {
	Addr   netip.Addr    // the appliance's media address, as phones must reach it
	Port   int           // the leg's RTP port
	Codecs []codec.Codec // acceptable codecs, most preferred first
	// TelephoneEvent is the payload type offered for RFC 4733 events
	// (96-127); 0 offers none. In an answer any non-zero value accepts the
	// offerer's own payload type.
	TelephoneEvent uint8
	Ptime          int       // milliseconds; 0 leaves a=ptime out
	Direction      Direction // Unknown means sendrecv
}

// telephoneEventFormat is RFC 4733 DTMF with the events phones send (0-16).
func telephoneEventFormat(pt uint8) Format {
	return Format{PayloadType: pt, Name: "telephone-event", ClockRate: codec.ClockRate, Fmtp: "0-16"}
}

// codecFormat is the static format of a G.711 codec.
func codecFormat(c codec.Codec) (Format, bool) {
	pt, ok := c.PayloadType()
	if !ok {
		return Format{}, false
	}
	return Format{PayloadType: pt, Name: c.String(), ClockRate: codec.ClockRate}, true
}

// Offer builds an offer with one audio stream naming the local address,
// port and codecs. The origin is filled in by Originator.Marshal.
func Offer(l Local) *Session {
	m := Media{Type: "audio", Port: l.Port, Proto: "RTP/AVP", Ptime: l.Ptime, Direction: l.Direction}
	for _, c := range l.Codecs {
		if f, ok := codecFormat(c); ok {
			m.Formats = append(m.Formats, f)
		}
	}
	if l.TelephoneEvent != 0 {
		m.Formats = append(m.Formats, telephoneEventFormat(l.TelephoneEvent))
	}
	if m.Direction == Unknown {
		m.Direction = SendRecv
	}
	return &Session{Name: "-", Conn: l.Addr, Media: []Media{m}}
}

// Answer builds the answer to offer (RFC 3264 section 6): one m= line per
// offered stream, the first usable audio stream accepted with exactly one
// codec (the offerer's most preferred among l.Codecs, so both directions
// use the same one) plus telephone-event when both sides want it, every
// other stream rejected with port 0.
func Answer(offer *Session, l Local) (*Session, error) {
	ai := offer.Audio()
	if ai < 0 || !plainRTP(offer.Media[ai].Proto) {
		// SRTP and DTLS profiles are for browser seats, which pion answers.
		return nil, ErrNoAudio
	}
	om := &offer.Media[ai]
	var chosen Format
	found := false
	for _, f := range om.Formats {
		c := f.Codec()
		for _, want := range l.Codecs {
			if c != codec.Unknown && c == want {
				chosen, found = f, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return nil, ErrNoCommonCodec
	}
	am := Media{Type: "audio", Port: l.Port, Proto: om.Proto, Ptime: l.Ptime, Formats: []Format{chosen}}
	if l.TelephoneEvent != 0 {
		if te, ok := om.TelephoneEvent(); ok {
			f, _ := om.Format(te)
			am.Formats = append(am.Formats, f)
		}
	}
	am.Direction = intersect(offer.Dir(ai).Reverse(), l.Direction)
	ans := &Session{Name: "-", Conn: l.Addr, Media: make([]Media, len(offer.Media))}
	for i, m := range offer.Media {
		if i == ai {
			ans.Media[i] = am
			continue
		}
		// Rejected stream: same type, proto and formats, port 0 (RFC 3264 section 6).
		ans.Media[i] = Media{Type: m.Type, Proto: m.Proto, Formats: m.Formats, fmtText: m.fmtText}
	}
	return ans, nil
}

// plainRTP reports whether proto is unencrypted RTP, the only kind the relay
// speaks with phones.
func plainRTP(proto string) bool { return proto == "RTP/AVP" || proto == "RTP/AVPF" }

// intersect returns the direction allowed by both a and b (Unknown b allows
// everything): a stream sends only if both let it send, receives likewise.
func intersect(a, b Direction) Direction {
	send := func(d Direction) bool { return d == SendRecv || d == SendOnly || d == Unknown }
	recv := func(d Direction) bool { return d == SendRecv || d == RecvOnly || d == Unknown }
	s, r := send(a) && send(b), recv(a) && recv(b)
	switch {
	case s && r:
		return SendRecv
	case s:
		return SendOnly
	case r:
		return RecvOnly
	default:
		return Inactive
	}
}

// Codec returns the first G.711 codec the stream lists, which RFC 3264
// makes the one the peer prefers to receive.
func (m *Media) Codec() (codec.Codec, bool) {
	for _, f := range m.Formats {
		if c := f.Codec(); c != codec.Unknown {
			return c, true
		}
	}
	return codec.Unknown, false
}

// TelephoneEvent returns the payload type of the stream's 8000 Hz
// telephone-event format.
func (m *Media) TelephoneEvent() (uint8, bool) {
	for _, f := range m.Formats {
		if f.IsTelephoneEvent() {
			return f.PayloadType, true
		}
	}
	return 0, false
}

// Marshal writes the session as SDP text with CRLF line ends.
func (s *Session) Marshal() []byte {
	// Built on the stack and returned at its exact size: a leg keeps its
	// SDP for the whole call, and a grown buffer's spare capacity with it.
	var arr [512]byte
	b := bytes.NewBuffer(arr[:0])
	s.write(b)
	return bytes.Clone(b.Bytes())
}

// write writes the description's text to b.
func (s *Session) write(b *bytes.Buffer) {
	b.WriteString("v=0\r\n")
	user := s.Origin.Username
	if user == "" {
		user = "-"
	}
	oaddr := s.Origin.Addr
	if !oaddr.IsValid() {
		oaddr = s.Conn
	}
	b.WriteString("o=" + user + " " + strconv.FormatUint(s.Origin.SessionID, 10) + " " +
		strconv.FormatUint(s.Origin.Version, 10) + " " + connText(oaddr) + "\r\n")
	name := s.Name
	if name == "" {
		name = "-" // RFC 4566: s= must not be empty
	}
	b.WriteString("s=" + name + "\r\n")
	if s.Conn.IsValid() {
		b.WriteString("c=" + connText(s.Conn) + "\r\n")
	}
	b.WriteString("t=0 0\r\n")
	if s.Direction != Unknown {
		b.WriteString("a=" + s.Direction.String() + "\r\n")
	}
	for i := range s.Media {
		writeMedia(b, &s.Media[i])
	}
}

// writeMedia writes one m= section.
func writeMedia(b *bytes.Buffer, m *Media) {
	b.WriteString("m=" + m.Type + " " + strconv.Itoa(m.Port) + " " + m.Proto)
	switch {
	case len(m.Formats) > 0:
		for _, f := range m.Formats {
			b.WriteString(" " + strconv.Itoa(int(f.PayloadType)))
		}
	case m.fmtText != "":
		b.WriteString(" " + m.fmtText)
	default:
		b.WriteString(" 0")
	}
	b.WriteString("\r\n")
	if m.Port == 0 {
		return // a rejected stream carries nothing more
	}
	if m.Conn.IsValid() {
		b.WriteString("c=" + connText(m.Conn) + "\r\n")
	}
	for _, f := range m.Formats {
		if f.Name != "" {
			b.WriteString("a=rtpmap:" + strconv.Itoa(int(f.PayloadType)) + " " + f.Name + "/" + strconv.Itoa(f.ClockRate))
			if f.Channels > 0 {
				b.WriteString("/" + strconv.Itoa(f.Channels))
			}
			b.WriteString("\r\n")
		}
		if f.Fmtp != "" {
			b.WriteString("a=fmtp:" + strconv.Itoa(int(f.PayloadType)) + " " + f.Fmtp + "\r\n")
		}
	}
	if m.Ptime > 0 {
		b.WriteString("a=ptime:" + strconv.Itoa(m.Ptime) + "\r\n")
	}
	if m.Direction != Unknown {
		b.WriteString("a=" + m.Direction.String() + "\r\n")
	}
}

// connText is "IN IP4 <addr>" or "IN IP6 <addr>".
func connText(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "IN IP6 " + a.String()
	}
	if !a.IsValid() {
		return "IN IP4 0.0.0.0"
	}
	return "IN IP4 " + a.Unmap().String()
}

// Originator keeps one leg's o= line stable across the offers and answers
// the appliance sends in a dialog: same session id, and a version that
// increases by one whenever the rest of the description changes (RFC 3264
// section 8), so a phone that re-reads an unchanged SDP knows it is one.
type Originator struct {
	mu        sync.Mutex
	sessionID uint64
	version   uint64
	// last is a hash of the last description marshalled (with version 0
	// in its o= line): kept for every leg of every call, so not the text.
	last    uint64
	hasLast bool
	seed    maphash.Seed
}

// NewOriginator returns an Originator for a new session. sessionID should be
// unique per dialog (RFC 4566 suggests an NTP timestamp); the first version
// is sessionID too, as many stacks do.
func NewOriginator(sessionID uint64) *Originator {
	return &Originator{sessionID: sessionID, version: sessionID, seed: maphash.MakeSeed()}
}

// Marshal stamps s with the session's origin and returns its SDP text. The
// version increases only when s differs from the previous call's.
func (o *Originator) Marshal(s *Session) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	s.Origin = Origin{Username: "-", SessionID: o.sessionID, Addr: s.Conn}
	var arr [512]byte // only hashed: no copy to keep
	b := bytes.NewBuffer(arr[:0])
	s.write(b)
	sum := maphash.Bytes(o.seed, b.Bytes()) // version 0 here, so only the rest of the text counts
	if o.hasLast && sum != o.last {
		o.version++
	}
	o.last, o.hasLast = sum, true
	s.Origin.Version = o.version
	return s.Marshal()
}
