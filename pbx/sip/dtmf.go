package sip

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/dtmf"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
)

// DTMF on a leg. Whatever way a digit arrives (RFC 4733 events, SIP INFO,
// tones in the audio), it becomes one call.SignalDTMF; a digit the call
// layer sends goes out in the leg's own mode. Every leg accepts INFO; only
// RFC 4733 legs negotiate telephone-event, so the relay never passes
// events to a phone that would not understand them.

// maxDTMFDuration bounds a digit the call layer asks to send (a key held
// longer is not a digit any more).
const maxDTMFDuration = 5 * time.Second

// errNotAnswered is returned by SendDTMF by INFO before the leg's dialog
// is established.
var errNotAnswered = errors.New("sip: leg not answered")

// errDTMFRefused is returned by SendDTMF when the phone refused the INFO.
var errDTMFRefused = errors.New("sip: INFO digit refused")

// dtmfState is a leg's receive side of DTMF. It is touched only on the
// leg's relay loop (the endpoint's event hook and tap), so it needs no lock.
type dtmfState struct {
	rx  dtmf.Receiver
	det *dtmf.Detector // in-band legs only: 1.3 KB a leg the others need not carry
	pcm []int16        // decode buffer of the in-band detector, reused
	// sendMu serializes SendDTMF: digits go out one after the other.
	sendMu chan struct{}
}

// listenDTMF hooks the leg's endpoint: RFC 4733 events always (they come
// only when telephone-event was negotiated), in-band detection only on
// in-band legs (it decodes every packet).
func (s *legState) listenDTMF() {
	s.dtmf.sendMu = make(chan struct{}, 1)
	s.ep.OnEvent(s.onEvent)
	if s.dtmfMode == call.DTMFInband {
		s.dtmf.det = new(dtmf.Detector)
		s.dtmf.pcm = make([]int16, 0, 320)
		s.ep.SetTap(s.onAudio)
	}
}

// onEvent takes one telephone-event packet, on the relay loop.
func (s *legState) onEvent(pkt *rtp.Packet) {
	if ev, ok := s.dtmf.rx.Packet(pkt.Payload(), pkt.Timestamp); ok {
		s.signal(call.Signal{Kind: call.SignalDTMF, Digit: ev.Digit, Duration: ev.Duration})
	}
}

// onAudio feeds one audio packet to the in-band detector, on the relay loop.
func (s *legState) onAudio(pkt *rtp.Packet) {
	cd := codec.FromPayloadType(pkt.PayloadType)
	if cd == codec.Unknown {
		return
	}
	s.dtmf.pcm = codec.DecodeG711(cd, pkt.Payload(), s.dtmf.pcm[:0])
	for _, ev := range s.dtmf.det.Feed(s.dtmf.pcm) {
		s.signal(call.Signal{Kind: call.SignalDTMF, Digit: ev.Digit, Duration: ev.Duration})
	}
}

// SendDTMF plays a digit to the far end in the leg's DTMF mode (an RFC
// 4733 leg whose phone negotiated no telephone-event gets tones). It
// returns once the digit was sent: the last packet out, or the INFO
// answered.
func (s *legState) SendDTMF(digit rune, d time.Duration) error {
	if _, ok := dtmf.Code(digit); !ok {
		return fmt.Errorf("sip: %q: %w", digit, dtmf.ErrBadDigit)
	}
	if d <= 0 {
		d = call.DefaultDTMFDuration
	}
	d = min(d, maxDTMFDuration)
	select {
	case s.dtmf.sendMu <- struct{}{}:
	case <-s.done:
		return errLegEnded
	}
	defer func() { <-s.dtmf.sendMu }()
	if s.ended() {
		return errLegEnded
	}
	switch s.dtmfMode {
	case call.DTMFInfo:
		return s.sendInfoDigit(digit, d)
	case call.DTMFInband:
		return s.sendTone(digit, d)
	}
	pt, ok := s.ep.DTMFPayloadType()
	if !ok {
		return s.sendTone(digit, d)
	}
	pkts, err := dtmf.EventPackets(digit, d, pt)
	if err != nil {
		return err
	}
	// Muted meanwhile: the leg's output stream renumbers per source, and
	// relayed audio between two packets of the event would give them
	// different timestamps (RFC 4733 wants one per event).
	s.ep.MuteRelay(true)
	defer s.ep.MuteRelay(false)
	return s.pace(pkts)
}

// pace sends packets one per frame, as a phone would.
func (s *legState) pace(pkts [][]byte) error {
	err := dtmf.Pace(pkts, s.ep.Send, s.done)
	if errors.Is(err, dtmf.ErrStopped) {
		return errLegEnded
	}
	return err
}

// sendTone plays the digit's dual tone in the leg's codec over whatever
// the leg is bridged to (muted meanwhile, so the two do not mix).
func (s *legState) sendTone(digit rune, d time.Duration) error {
	pcm, err := dtmf.Tone(digit, d)
	if err != nil {
		return err
	}
	// A short silence after the tone separates it from the next digit
	// and from the relayed audio.
	pcm = append(pcm, make([]int16, 2*samplesPerFrame)...)
	cd := s.ep.Codec()
	if cd == codec.Unknown {
		cd = codec.PCMU
	}
	pt, _ := cd.PayloadType()
	var pkts [][]byte
	// A source of its own (random SSRC, consecutive numbers): the output
	// stream continues smoothly into and out of the tone.
	h := rtp.Header{PayloadType: pt, Marker: true, SSRC: rand.Uint32()}
	for off := 0; off < len(pcm); off += samplesPerFrame {
		frame := pcm[off:min(off+samplesPerFrame, len(pcm))]
		payload := codec.EncodeG711(cd, frame, make([]byte, 0, samplesPerFrame))
		pkts = append(pkts, rtp.AppendPacket(nil, h, payload))
		h.Marker = false
		h.Sequence++
		h.Timestamp += samplesPerFrame
	}
	s.ep.MuteRelay(true)
	defer s.ep.MuteRelay(false)
	return s.pace(pkts)
}

// samplesPerFrame is one 20 ms G.711 frame.
const samplesPerFrame = 160

// sendInfoDigit sends the digit as SIP INFO (application/dtmf-relay) and
// waits for the phone's 2xx.
func (s *legState) sendInfoDigit(digit rune, d time.Duration) error {
	target, ok := s.side.remoteTarget()
	if !ok {
		return errNotAnswered
	}
	req := sip.NewRequest(sip.INFO, target)
	req.AppendHeader(s.contact)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=" + string(digit) + "\r\nDuration=" + strconv.Itoa(int(d/time.Millisecond)) + "\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.side.do(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("%w: %d", errDTMFRefused, res.StatusCode)
	}
	return nil
}

// infoResult is what an INFO body holds.
type infoResult uint8

const (
	infoDigit       infoResult = iota // a digit
	infoEmpty                         // no body: a keepalive
	infoUnsupported                   // a content type we do not read
	infoBad                           // a DTMF content type with a broken body
)

// maxInfoBody bounds the DTMF bodies read (real ones are a few dozen bytes).
const maxInfoBody = 1024

// parseDTMFInfo reads an INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160\r\n"; Signal 0-9 * # A-D, or the event codes
// 10 and 11 some phones send for * and #) or application/dtmf ("5").
// Duration is in milliseconds and optional (0 when absent).
func parseDTMFInfo(contentType string, body []byte) (rune, time.Duration, infoResult) {
	if len(bytes.TrimSpace(body)) == 0 {
		return 0, 0, infoEmpty
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, 0, infoUnsupported
	}
	if len(body) > maxInfoBody {
		return 0, 0, infoBad
	}
	switch mt {
	case "application/dtmf":
		d, ok := infoSignal(string(bytes.TrimSpace(body)))
		if !ok {
			return 0, 0, infoBad
		}
		return d, 0, infoDigit
	case "application/dtmf-relay":
	default:
		return 0, 0, infoUnsupported
	}
	var digit rune
	var dur time.Duration
	have := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return 0, 0, infoBad
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Signal"):
			if digit, ok = infoSignal(v); !ok {
				return 0, 0, infoBad
			}
			have = true
		case strings.EqualFold(k, "Duration"):
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 0 || ms > int(maxDTMFDuration/time.Millisecond)*10 {
				return 0, 0, infoBad
			}
			dur = time.Duration(ms) * time.Millisecond
		}
	}
	if sc.Err() != nil || !have {
		return 0, 0, infoBad
	}
	return digit, dur, infoDigit
}

// infoSignal reads a Signal value: one digit character, or an event code
// (0-15, where 10 is * and 11 is #).
func infoSignal(v string) (rune, bool) {
	if len(v) == 1 {
		r := rune(strings.ToUpper(v)[0])
		if _, ok := dtmf.Code(r); ok {
			return r, true
		}
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 15 {
		return 0, false
	}
	return dtmf.Digit(uint8(n))
}

// onInfo takes an INFO in a call's dialog: a DTMF digit becomes a signal;
// an empty INFO (a keepalive some phones send) is simply accepted.
func (c *Calls) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := c.findLeg(req)
	if l == nil {
		c.noDialog(req, tx)
		return
	}
	s := l.base()
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	digit, dur, res := parseDTMFInfo(ct, req.Body())
	switch res {
	case infoUnsupported:
		c.srv.Respond(tx, req, sip.StatusUnsupportedMediaType, "Unsupported Media Type",
			sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	case infoBad:
		c.srv.Respond(tx, req, sip.StatusBadRequest, "Bad DTMF")
		return
	case infoDigit:
		s.signal(call.Signal{Kind: call.SignalDTMF, Digit: digit, Duration: dur})
	}
	c.srv.Respond(tx, req, sip.StatusOK, "OK", s.contact)
}
