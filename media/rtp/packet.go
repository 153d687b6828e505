package rtp

import (
	"encoding/binary"
	"errors"
)

// ErrInvalidPacket is returned by Packet.Unmarshal for bytes that are not an
// RTP version 2 packet (too short, wrong version, lengths that overrun).
var ErrInvalidPacket = errors.New("invalid RTP packet")

// HeaderSize is the size of an RTP header without CSRCs or extension.
const HeaderSize = 12

// Header is the part of the RTP header (RFC 3550 section 5.1) the relay reads
// and rewrites.
type Header struct {
	PayloadType uint8
	Marker      bool
	Sequence    uint16
	Timestamp   uint32
	SSRC        uint32
}

// Packet is a parsed view of an RTP packet held in Buf. Unmarshal fills it
// without copying or allocating; the relay rewrites the header in Buf in place.
type Packet struct {
	Header
	Buf []byte // the whole packet

	payloadStart, payloadEnd int
	at                       int64 // when it arrived (or was made), unix nanoseconds
}

// Payload returns the payload, without header, extension or padding.
func (p *Packet) Payload() []byte { return p.Buf[p.payloadStart:p.payloadEnd] }

// Unmarshal parses b as an RTP packet and makes p a view of it.
func (p *Packet) Unmarshal(b []byte) error {
	if len(b) < HeaderSize || b[0]>>6 != 2 {
		return ErrInvalidPacket
	}
	start := HeaderSize + int(b[0]&0x0f)*4
	if len(b) < start {
		return ErrInvalidPacket
	}
	if b[0]&0x10 != 0 { // header extension: 4-byte header, then length words
		if len(b) < start+4 {
			return ErrInvalidPacket
		}
		start += 4 + int(binary.BigEndian.Uint16(b[start+2:]))*4
		if len(b) < start {
			return ErrInvalidPacket
		}
	}
	end := len(b)
	if b[0]&0x20 != 0 { // padding: the last byte counts the padding bytes, itself included
		pad := int(b[end-1])
		if pad == 0 || end-pad < start {
			return ErrInvalidPacket
		}
		end -= pad
	}
	p.Buf = b
	p.at = 0
	p.payloadStart, p.payloadEnd = start, end
	p.Marker = b[1]&0x80 != 0
	p.PayloadType = b[1] & 0x7f
	p.Sequence = binary.BigEndian.Uint16(b[2:])
	p.Timestamp = binary.BigEndian.Uint32(b[4:])
	p.SSRC = binary.BigEndian.Uint32(b[8:])
	return nil
}

// writeHeader stores p's header fields back into Buf.
func (p *Packet) writeHeader() {
	b := p.Buf
	b1 := p.PayloadType & 0x7f
	if p.Marker {
		b1 |= 0x80
	}
	b[1] = b1
	binary.BigEndian.PutUint16(b[2:], p.Sequence)
	binary.BigEndian.PutUint32(b[4:], p.Timestamp)
	binary.BigEndian.PutUint32(b[8:], p.SSRC)
}

// AppendPacket appends an RTP packet with header h and payload to dst and
// returns the extended slice. Players build their frames with it.
func AppendPacket(dst []byte, h Header, payload []byte) []byte {
	b1 := h.PayloadType & 0x7f
	if h.Marker {
		b1 |= 0x80
	}
	dst = append(dst, 0x80, b1)
	dst = binary.BigEndian.AppendUint16(dst, h.Sequence)
	dst = binary.BigEndian.AppendUint32(dst, h.Timestamp)
	dst = binary.BigEndian.AppendUint32(dst, h.SSRC)
	return append(dst, payload...)
}
