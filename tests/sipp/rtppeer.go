package sipp

import (
	"encoding/binary"
	"errors"
	"github.com/ccbox/ccbox/tests/audiotest"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// maxKept bounds the packets a Peer keeps: a minute at Ptime.
const maxKept = 3000

// Packet is one RTP packet a Peer received.
type Packet struct {
	From    netip.AddrPort
	PT      uint8
	Seq     uint16
	SSRC    uint32
	Payload []byte
}

// Peer is a phone's media socket where SIPp cannot be one: it sends a
// tone as RTP and keeps what arrives, so a test can check the audio.
type Peer struct {
	conn *net.UDPConn
	done chan struct{}

	mu   sync.Mutex
	recv []Packet
}

// NewPeer listens on a free UDP port of ip. It is closed when the test
// ends.
func NewPeer(t testing.TB, ip string) *Peer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatalf("RTP peer on %s: %v", ip, err)
	}
	p := &Peer{conn: conn, done: make(chan struct{})}
	go p.read()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the peer's address.
func (p *Peer) Addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Close stops the peer and waits for its reader.
func (p *Peer) Close() {
	p.conn.Close()
	<-p.done
}

func (p *Peer) read() {
	defer close(p.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error of an earlier send
		}
		pkt, ok := ParseRTP(buf[:n])
		if !ok {
			continue
		}
		pkt.From = from
		p.mu.Lock()
		if len(p.recv) < maxKept {
			p.recv = append(p.recv, pkt)
		}
		p.mu.Unlock()
	}
}

// Received returns a copy of the packets received so far.
func (p *Peer) Received() []Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Packet(nil), p.recv...)
}

// Send sends samples (8 kHz) to to as RTP of payload type pt, one packet
// per Ptime, paced in real time; it returns when all are sent or the
// socket is closed.
func (p *Peer) Send(to netip.AddrPort, pt uint8, samples []int16) error {
	tick := time.NewTicker(Ptime)
	defer tick.Stop()
	ssrc := uint32(time.Now().UnixNano())
	for i := 0; i*samplesPerPacket < len(samples); i++ {
		chunk := samples[i*samplesPerPacket : min((i+1)*samplesPerPacket, len(samples))]
		pkt := RTPPacket(pt, uint16(i), uint32(i*samplesPerPacket), ssrc, audiotest.EncodeG711(pt, chunk))
		if _, err := p.conn.WriteToUDPAddrPort(pkt, to); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// ECONNREFUSED from an earlier packet's ICMP: keep pacing.
		}
		select {
		case <-tick.C:
		case <-p.done:
			return net.ErrClosed
		}
	}
	return nil
}

// Audio decodes the payloads of pkts, in arrival order, skipping packets
// of other payload types than pt.
func Audio(pkts []Packet, pt uint8) []int16 {
	var out []int16
	for _, k := range pkts {
		if k.PT == pt {
			out = append(out, audiotest.DecodeG711(pt, k.Payload)...)
		}
	}
	return out
}

// ParseRTP reads an RTP packet (RFC 3550 section 5.1): version 2, CSRCs,
// a header extension and padding skipped. The payload is a copy. It
// reports false for anything else.
func ParseRTP(b []byte) (Packet, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return Packet{}, false
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // extension: 16-bit profile, 16-bit length in words
		if len(b) < off+4 {
			return Packet{}, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 { // padding: its length is the last byte
		end -= int(b[end-1])
	}
	if off > end {
		return Packet{}, false
	}
	return Packet{PT: b[1] & 0x7f, Seq: binary.BigEndian.Uint16(b[2:]), SSRC: binary.BigEndian.Uint32(b[8:]),
		Payload: append([]byte(nil), b[off:end]...)}, true
}
