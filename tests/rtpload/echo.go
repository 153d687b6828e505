package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The "echo" command is the SIP side of the browser-seat benchmark: it
// registers extensions, answers every INVITE the box sends them with PCMU
// on a fresh socket, and sends each RTP packet it receives straight back
// to the box, after writing its receive time into the packet when the
// payload is a seat probe (tests/seatload). The seat then reads, from one
// packet, when it was sent (t0), when it reached the SIP side (t1) and
// when it came back (t2): the one-way delays seat→SIP = t1−t0 and
// SIP→seat = t2−t1, on the host's wall clock, which both processes share.

// The seat probe layout, as tests/seatload writes it at the start of the
// RTP payload: magic, seat, sequence, t0, t1 (big endian; times in
// nanoseconds since the Unix epoch).
const (
	seatProbeMagic = 0x73656174 // "seat"
	seatProbeLen   = 28
	seatProbeEcho  = 20 // offset of t1
	// echoSSRCBase is the first SSRC the echo legs send with.
	echoSSRCBase = 0x20000000
)

// echoConfig is the echo command's settings.
type echoConfig struct {
	server    *net.UDPAddr
	ip        string // SIP and RTP address
	first     int    // first extension registered
	count     int    // extensions registered
	prefix    string
	algorithm string
	timeout   time.Duration
}

// echoLeg is one answered call's media socket.
type echoLeg struct {
	conn *net.UDPConn
	box  *net.UDPAddr // where the box wants our RTP (its SDP)
	ssrc uint32
	done chan struct{}
}

// echoSide answers the box's INVITEs and echoes their media.
type echoSide struct {
	ip     string
	mu     sync.Mutex
	sent   map[string][]byte   // Call-ID → the 200 sent, for a retransmitted INVITE
	legs   map[string]*echoLeg // Call-ID → leg
	nextID atomic.Uint32

	invites, answered, refused, byes atomic.Int64
	echoed, stamped, sendErrs        atomic.Uint64
	firstErr                         atomic.Pointer[string]
}

func (s *echoSide) fail(msg string) {
	s.firstErr.CompareAndSwap(nil, &msg)
}

// handle answers one request of the box (on the endpoint's reader).
func (s *echoSide) handle(e *endpoint, m *message, from *net.UDPAddr) {
	callID := m.get("call-id")
	switch m.method {
	case "ACK":
	case "INVITE":
		s.mu.Lock()
		defer s.mu.Unlock()
		if res, ok := s.sent[callID]; ok {
			_ = e.send(res, from) // the box did not get our 200
			return
		}
		s.invites.Add(1)
		ip, port, err := sdpMedia(m.body)
		if err != nil {
			s.refused.Add(1)
			s.fail(fmt.Sprintf("INVITE %s: %v", callID, err))
			_ = e.send(response(m, 488, "Not Acceptable Here", randomToken(4), "", nil), from)
			return
		}
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(s.ip)})
		if err != nil {
			s.refused.Add(1)
			s.fail(fmt.Sprintf("INVITE %s: %v", callID, err))
			_ = e.send(response(m, 503, "Service Unavailable", randomToken(4), "", nil), from)
			return
		}
		l := &echoLeg{conn: conn, box: &net.UDPAddr{IP: net.ParseIP(ip), Port: port},
			ssrc: echoSSRCBase + s.nextID.Add(1), done: make(chan struct{})}
		go s.echo(l)
		local := conn.LocalAddr().(*net.UDPAddr)
		user := userOf(uriOf(m.get("to")))
		res := response(m, 200, "OK", randomToken(4), "sip:"+user+"@"+e.addr, sdpOffer(s.ip, local.Port, 1))
		s.sent[callID], s.legs[callID] = res, l
		s.answered.Add(1)
		_ = e.send(res, from)
	case "BYE", "CANCEL":
		s.mu.Lock()
		if l, ok := s.legs[callID]; ok {
			l.conn.Close()
			delete(s.legs, callID)
		}
		s.mu.Unlock()
		if m.method == "BYE" {
			s.byes.Add(1)
		}
		_ = e.send(response(m, 200, "OK", "", "", nil), from)
	default: // OPTIONS (qualify), UPDATE (session refresh)
		_ = e.send(response(m, 200, "OK", randomToken(4), "", nil), from)
	}
}

// echo sends every packet l receives back to the box until its socket is
// closed.
func (s *echoSide) echo(l *echoLeg) {
	defer close(l.done)
	buf := make([]byte, 2048)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error of an earlier send
		}
		pkt := buf[:n]
		if len(pkt) < rtpHeaderLen {
			continue
		}
		if stampEcho(pkt, time.Now().UnixNano()) {
			s.stamped.Add(1)
		}
		binary.BigEndian.PutUint32(pkt[8:], l.ssrc)
		if _, err := l.conn.WriteToUDP(pkt, l.box); err != nil {
			s.sendErrs.Add(1)
			continue
		}
		s.echoed.Add(1)
	}
}

// stampEcho writes t1 into a seat probe carried by the RTP packet pkt and
// reports whether pkt carried one.
func stampEcho(pkt []byte, t1 int64) bool {
	if len(pkt) < rtpHeaderLen || pkt[0]>>6 != 2 {
		return false
	}
	off := rtpHeaderLen + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < off+4 {
			return false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(pkt[off+2:]))
	}
	if off < 0 || len(pkt) < off+seatProbeLen || binary.BigEndian.Uint32(pkt[off:]) != seatProbeMagic {
		return false
	}
	binary.BigEndian.PutUint64(pkt[off+seatProbeEcho:], uint64(t1))
	return true
}

// echoResult is the echo command's final line.
type echoResult struct {
	Event      string  `json:"event"`
	Invites    int64   `json:"invites"`
	Answered   int64   `json:"answered"`
	Refused    int64   `json:"refused"`
	Byes       int64   `json:"byes"`
	Echoed     uint64  `json:"echoed"`
	Stamped    uint64  `json:"stamped"`
	SendErrors uint64  `json:"send_errors"`
	GenCPUS    float64 `json:"gen_cpu_s"`
	FirstError string  `json:"first_error,omitempty"`
}

// runEcho registers the extensions, prints "registered", then answers and
// echoes until ctx ends (SIGTERM), and prints its result.
func runEcho(ctx context.Context, cfg echoConfig, out *reporter) error {
	side := &echoSide{ip: cfg.ip, sent: map[string][]byte{}, legs: map[string]*echoLeg{}}
	ep, err := newEndpoint(cfg.ip, cfg.server, side.handle)
	if err != nil {
		return err
	}
	defer ep.close()
	go ep.run()
	st := &registerStats{}
	for n := range cfg.count {
		ext := strconv.Itoa(cfg.first + n)
		r := newRegistration(ep, ext, cfg.prefix+ext, cfg.algorithm, 3600)
		tctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		err := r.register(tctx, st)
		cancel()
		if err != nil {
			return fmt.Errorf("register %s: %w", ext, err)
		}
	}
	cpu0 := selfCPU()
	out.event("registered", map[string]any{"extensions": cfg.count})
	<-ctx.Done()
	side.mu.Lock()
	for id, l := range side.legs {
		l.conn.Close()
		delete(side.legs, id)
	}
	side.mu.Unlock()
	res := echoResult{Event: "result", Invites: side.invites.Load(), Answered: side.answered.Load(),
		Refused: side.refused.Load(), Byes: side.byes.Load(), Echoed: side.echoed.Load(),
		Stamped: side.stamped.Load(), SendErrors: side.sendErrs.Load(), GenCPUS: (selfCPU() - cpu0).Seconds()}
	if p := side.firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	out.json(res)
	return nil
}
