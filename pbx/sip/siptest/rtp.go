package siptest

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// maxRecorded bounds what an RTP socket keeps (about 100 s of one 20 ms stream).
const maxRecorded = 5000

// Packet is one RTP packet an RTP socket received.
type Packet struct {
	From        netip.AddrPort
	PayloadType uint8
	Marker      bool
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
	Payload     []byte
}

// Pattern is what a stream carries.
type Pattern uint8

// Patterns. The zero value is PatternUnknown (the stream then sends a counter).
const (
	PatternUnknown Pattern = iota
	// PatternCounter: payload[0] is Stream.Tag, payload[1:3] the packet's
	// index (big-endian), the rest index+i: a receiver can tell whose it is,
	// and spot a gap, without decoding.
	PatternCounter
	// PatternTone: a sine of Stream.Freq Hz at about -6 dBFS, encoded in the
	// stream's codec, continuous across packets.
	PatternTone
)

func (p Pattern) String() string {
	switch p {
	case PatternCounter:
		return "counter"
	case PatternTone:
		return "tone"
	}
	return "unknown"
}

// Stream describes what an RTP socket sends: 20 ms packets of 160 samples.
type Stream struct {
	PayloadType uint8 // PCMU or PCMA
	Pattern     Pattern
	Tag         byte    // PatternCounter's first byte
	Freq        float64 // PatternTone's frequency in Hz
	// Count stops the stream after this many packets (0: until StopSending).
	Count int
}

// CounterTag returns a counter packet's tag and index (ok false when the
// payload is too short to be one).
func CounterTag(payload []byte) (tag byte, index uint16, ok bool) {
	if len(payload) < 3 {
		return 0, 0, false
	}
	return payload[0], binary.BigEndian.Uint16(payload[1:3]), true
}

// RTP is a phone's media socket: it sends one stream at a time and records
// every packet it receives (up to maxRecorded).
type RTP struct {
	conn *net.UDPConn
	addr netip.AddrPort

	mu     sync.Mutex
	recv   []Packet
	sendMu sync.Mutex // serializes Send and StopSending
	stop   chan struct{}
	sender sync.WaitGroup
	reader sync.WaitGroup
}

// NewRTP binds an RTP socket on ip (port chosen by the kernel).
func NewRTP(ip string) (*RTP, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
	if err != nil {
		return nil, err
	}
	r := &RTP{conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
	r.reader.Add(1)
	go r.read()
	return r, nil
}

// Addr is the socket's address, the one the phone's SDP names by default.
func (r *RTP) Addr() netip.AddrPort { return r.addr }

func (r *RTP) read() {
	defer r.reader.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		hdr := 12 + 4*int(buf[0]&0x0F)
		if n < hdr {
			continue
		}
		p := Packet{
			From:        netip.AddrPortFrom(from.Addr().Unmap(), from.Port()),
			PayloadType: buf[1] & 0x7F,
			Marker:      buf[1]&0x80 != 0,
			Seq:         binary.BigEndian.Uint16(buf[2:4]),
			Timestamp:   binary.BigEndian.Uint32(buf[4:8]),
			SSRC:        binary.BigEndian.Uint32(buf[8:12]),
			Payload:     append([]byte(nil), buf[hdr:n]...),
		}
		r.mu.Lock()
		if len(r.recv) < maxRecorded {
			r.recv = append(r.recv, p)
		}
		r.mu.Unlock()
	}
}

// Received returns a copy of the packets received so far.
func (r *RTP) Received() []Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Packet(nil), r.recv...)
}

// Reset forgets the packets received so far.
func (r *RTP) Reset() {
	r.mu.Lock()
	r.recv = nil
	r.mu.Unlock()
}

// Send starts sending s to to every 20 ms, replacing any stream being sent.
func (r *RTP) Send(to netip.AddrPort, s Stream) {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.stopSending()
	stop := make(chan struct{})
	r.stop = stop
	r.sender.Add(1)
	go r.send(to, s, stop)
}

// StopSending stops the stream being sent, if any, and waits for it.
func (r *RTP) StopSending() {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.stopSending()
}

func (r *RTP) stopSending() {
	if r.stop != nil {
		close(r.stop)
		r.stop = nil
	}
	r.sender.Wait()
}

func (r *RTP) send(to netip.AddrPort, s Stream, stop <-chan struct{}) {
	defer r.sender.Done()
	const samples = 160
	ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
	buf := make([]byte, 12+samples)
	tick := time.NewTicker(20 * time.Millisecond) // the stream's pacing
	defer tick.Stop()
	var phase float64
	for k := 0; s.Count == 0 || k < s.Count; k++ {
		buf[0] = 0x80
		buf[1] = s.PayloadType & 0x7F
		if k == 0 {
			buf[1] |= 0x80
		}
		binary.BigEndian.PutUint16(buf[2:4], seq)
		binary.BigEndian.PutUint32(buf[4:8], ts)
		binary.BigEndian.PutUint32(buf[8:12], ssrc)
		p := buf[12:]
		switch s.Pattern {
		case PatternTone:
			phase = fillTone(p, s.PayloadType, s.Freq, phase)
		default:
			p[0] = s.Tag
			binary.BigEndian.PutUint16(p[1:3], uint16(k))
			for i := 3; i < len(p); i++ {
				p[i] = byte(k + i)
			}
		}
		_, _ = r.conn.WriteToUDPAddrPort(buf, to)
		seq++
		ts += samples
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// fillTone encodes a sine of freq Hz starting at phase into p and returns
// the phase to continue from.
func fillTone(p []byte, pt uint8, freq, phase float64) float64 {
	step := 2 * math.Pi * freq / 8000
	for i := range p {
		v := int16(16000 * math.Sin(phase))
		phase += step
		if pt == PCMA {
			p[i] = EncodeAlaw(v)
		} else {
			p[i] = EncodeUlaw(v)
		}
	}
	return math.Mod(phase, 2*math.Pi)
}

// Close stops sending and closes the socket.
func (r *RTP) Close() {
	r.StopSending()
	_ = r.conn.Close()
	r.reader.Wait()
}

// ToneLevel is the power of freq in samples relative to the samples' total
// power (Goertzel): near 1 for a pure tone at freq, near 0 without it.
func ToneLevel(samples []int16, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2, total float64
	for _, v := range samples {
		x := float64(v)
		total += x * x
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	if total == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(samples)) * total)
}
