package codec

import "strings"

// Codec is an audio codec the appliance can relay or transcode.
type Codec uint8

// The codecs. The zero value is Unknown: a leg whose codec was never set is
// relayed without payload-type mapping or transcoding.
const (
	Unknown Codec = iota
	PCMU          // G.711 µ-law, RTP payload type 0
	PCMA          // G.711 A-law, RTP payload type 8
)

// ClockRate is the RTP clock rate of every codec here, in Hz.
const ClockRate = 8000

// String returns the codec's SDP encoding name ("PCMU", "PCMA").
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	default:
		return "unknown"
	}
}

// PayloadType returns the codec's static RTP payload type (RFC 3551) and
// whether it has one.
func (c Codec) PayloadType() (uint8, bool) {
	switch c {
	case PCMU:
		return 0, true
	case PCMA:
		return 8, true
	default:
		return 0, false
	}
}

// ClockRate returns the codec's RTP clock rate in Hz, 0 for Unknown.
func (c Codec) ClockRate() int {
	if c == Unknown {
		return 0
	}
	return ClockRate
}

// FromPayloadType returns the codec of a static RTP payload type, Unknown
// for any other.
func FromPayloadType(pt uint8) Codec {
	switch pt {
	case 0:
		return PCMU
	case 8:
		return PCMA
	default:
		return Unknown
	}
}

// FromName returns the codec with an SDP encoding name (case-insensitive, as
// RFC 4566 says of rtpmap names) and clock rate, Unknown for any other.
func FromName(name string, clock int) Codec {
	if clock != ClockRate {
		return Unknown
	}
	switch {
	case strings.EqualFold(name, "PCMU"):
		return PCMU
	case strings.EqualFold(name, "PCMA"):
		return PCMA
	default:
		return Unknown
	}
}

// Decode returns the linear sample of one encoded byte; Unknown decodes as
// silence.
func (c Codec) Decode(b byte) int16 {
	switch c {
	case PCMU:
		return ulawDecode[b]
	case PCMA:
		return alawDecode[b]
	default:
		return 0
	}
}

// Encode returns the encoded byte of one linear sample; Unknown encodes as 0.
func (c Codec) Encode(s int16) byte {
	switch c {
	case PCMU:
		return EncodeUlaw(s)
	case PCMA:
		return EncodeAlaw(s)
	default:
		return 0
	}
}
