package sipp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/ccbox/ccbox/tests/audiotest"
	"net/netip"
	"os"
	"time"
)

// Ptime is the packet time of the pcaps and the RTP peer: 20 ms, 160
// samples at 8 kHz.
const Ptime = 20 * time.Millisecond

// samplesPerPacket is Ptime at 8 kHz.
const samplesPerPacket = 160

// WritePcap writes samples (8 kHz) as an RTP stream of payload type pt
// (PCMU or PCMA), one packet per Ptime, in a pcap file SIPp's
// play_pcap_audio plays: Ethernet, IPv4 and UDP around each RTP packet,
// timestamps Ptime apart. SIPp keeps only the UDP payload and the timing;
// the addresses in the file are placeholders.
func WritePcap(path string, pt uint8, samples []int16) error {
	var b bytes.Buffer
	le := binary.LittleEndian
	// Global header: magic, version 2.4, GMT offset, accuracy, snap
	// length, link type 1 (Ethernet).
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(1)} {
		if err := binary.Write(&b, le, v); err != nil {
			return err
		}
	}
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	const ssrc = 0x5151e000
	for i := 0; i*samplesPerPacket < len(samples); i++ {
		chunk := samples[i*samplesPerPacket : min((i+1)*samplesPerPacket, len(samples))]
		rtp := RTPPacket(pt, uint16(i), uint32(i*samplesPerPacket), ssrc, audiotest.EncodeG711(pt, chunk))
		frame := ethernetUDP(src, dst, 6000, 6000, rtp)
		at := time.Duration(i) * Ptime
		_ = binary.Write(&b, le, uint32(at/time.Second))
		_ = binary.Write(&b, le, uint32(at%time.Second/time.Microsecond))
		_ = binary.Write(&b, le, uint32(len(frame)))
		_ = binary.Write(&b, le, uint32(len(frame)))
		b.Write(frame)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write pcap: %w", err)
	}
	return nil
}

// RTPPacket is an RTP packet (RFC 3550, version 2, no CSRC or extension).
func RTPPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := make([]byte, 12, 12+len(payload))
	p[0] = 0x80
	p[1] = pt & 0x7f
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return append(p, payload...)
}

// ethernetUDP frames payload as Ethernet II / IPv4 / UDP.
func ethernetUDP(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	be := binary.BigEndian
	f := make([]byte, 14+20+8, 14+20+8+len(payload))
	copy(f[0:6], []byte{0x02, 0, 0, 0, 0, 2})
	copy(f[6:12], []byte{0x02, 0, 0, 0, 0, 1})
	be.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64 // TTL
	ip[9] = 17 // UDP
	s, d := src.As4(), dst.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	be.PutUint16(ip[10:], ipChecksum(ip))
	udp := f[34:42]
	be.PutUint16(udp[0:], sport)
	be.PutUint16(udp[2:], dport)
	be.PutUint16(udp[4:], uint16(8+len(payload)))
	// A zero UDP checksum means "none" in IPv4.
	return append(f, payload...)
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
