package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// What a page does, with the box's timings (docs/events.md, "Browser
// seats").
const (
	// pingEvery is the page's heartbeat; 6 s without one detaches a seat.
	pingEvery = 2 * time.Second
	// The ICE timers the box uses too.
	iceKeepalive    = time.Second
	iceDisconnected = 3 * time.Second
	iceFailed       = 15 * time.Second
	// lateAfter is when a probe's round trip counts as late.
	lateAfter = 40 * time.Millisecond
	// httpTimeout bounds a sign-in.
	httpTimeout = 15 * time.Second
	// sessionCookie is the cookie POST /api/v1/login sets.
	sessionCookie      = "ccbox_session"
	mimeTelephoneEvent = "audio/telephone-event"
)

// Errors of a seat's life.
var (
	// errTimeout is returned when the box did not get a seat to the
	// awaited state in time.
	errTimeout = errors.New("timed out")
	// errRefused is returned when the box answered a request with an error.
	errRefused = errors.New("refused by the box")
	// errSocketClosed is returned when the WebSocket ended early.
	errSocketClosed = errors.New("the WebSocket closed")
	// errMediaFailed is returned when the PeerConnection failed.
	errMediaFailed = errors.New("the PeerConnection failed")
	// errNoCookie is returned when a login set no session cookie.
	errNoCookie = errors.New("the login set no session cookie")
)

// shared is what every seat of a run writes to.
type shared struct {
	winStart, winEnd atomic.Int64 // unix ns; 0: not yet
	s2p, p2s, rtt    histogram
}

// inWindow reports whether t0 (unix ns) is inside the measured window.
func (sh *shared) inWindow(t0 int64) bool {
	s, e := sh.winStart.Load(), sh.winEnd.Load()
	return s != 0 && t0 >= s && (e == 0 || t0 < e)
}

// seatClient is one browser page: its user's session, its WebSocket and
// its PeerConnection.
type seatClient struct {
	idx       int
	ext, user string
	base      *url.URL
	sh        *shared

	cookie string
	ws     *websocket.Conn
	wmu    sync.Mutex // one writer at a time on ws
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticRTP
	offer  string

	mu        sync.Mutex // guards the fields below
	seatState string
	callState string
	callCause string
	answer    string
	results   map[string]*wsError // request id → nil (ok) or the refusal
	wsClosed  bool
	pcState   webrtc.PeerConnectionState
	notify    chan struct{} // poked on every change of the above

	// Sender: the pacer alone touches seq, ts, n and pkt.
	sending          atomic.Bool
	seq              uint16
	ts               uint32
	n                uint32
	pkt              rtp.Packet
	sentWin, sendErr atomic.Uint64
	// Receiver.
	recvWin, late, crossed, foreign, got atomic.Uint64
}

// wsError is a refusal in a seat.result.
type wsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *wsError) Error() string { return e.Code + ": " + e.Message }

// inMsg is any message of the box on the socket; only seat.* ones are read.
type inMsg struct {
	Type  string   `json:"type"`
	SDP   string   `json:"sdp"`
	ID    string   `json:"id"`
	OK    bool     `json:"ok"`
	Error *wsError `json:"error"`
	Seat  *struct {
		State string `json:"state"`
	} `json:"seat"`
	Call *struct {
		State string `json:"state"`
		Cause string `json:"cause"`
	} `json:"call"`
}

func newSeat(idx int, ext, user string, base *url.URL, sh *shared) *seatClient {
	c := &seatClient{idx: idx, ext: ext, user: user, base: base, sh: sh,
		results: map[string]*wsError{}, notify: make(chan struct{}, 1)}
	c.pkt = rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: uint32(0x30000000 + idx)},
		Payload: bytes.Repeat([]byte{0xff}, payloadLen)} // µ-law silence after the probe
	return c
}

func (c *seatClient) poke() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// signIn logs the seat's user in and keeps the session cookie.
func (c *seatClient) signIn(ctx context.Context, password string) error {
	body, _ := json.Marshal(map[string]string{"username": c.user, "password": password}) // strings always encode
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath("/api/v1/login").String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("login %s: %w", c.user, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("login %s: %w: HTTP %d", c.user, errRefused, res.StatusCode)
	}
	for _, k := range res.Cookies() {
		if k.Name == sessionCookie {
			c.cookie = k.Value
			return nil
		}
	}
	return fmt.Errorf("login %s: %w", c.user, errNoCookie)
}

// connect opens the page's WebSocket and starts its reader and heartbeat,
// which run until ctx ends or the socket closes.
func (c *seatClient) connect(ctx context.Context) error {
	u := *c.base
	u.Scheme = map[string]string{"https": "wss"}[c.base.Scheme]
	if u.Scheme == "" {
		u.Scheme = "ws"
	}
	u.Path = "/api/v1/ws"
	h := http.Header{}
	h.Set("Cookie", sessionCookie+"="+c.cookie)
	h.Set("Origin", c.base.Scheme+"://"+c.base.Host)
	d := websocket.Dialer{HandshakeTimeout: httpTimeout}
	ws, _, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		return fmt.Errorf("websocket of %s: %w", c.user, err)
	}
	c.ws = ws
	go c.read()
	go c.heartbeat(ctx)
	return nil
}

// read takes the box's messages until the socket closes.
func (c *seatClient) read() {
	defer func() {
		c.mu.Lock()
		c.wsClosed = true
		c.mu.Unlock()
		c.poke()
	}()
	for {
		_, raw, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var m inMsg
		if json.Unmarshal(raw, &m) != nil {
			continue // not a seat message (events have other shapes)
		}
		c.mu.Lock()
		switch m.Type {
		case "seat.answer":
			c.answer = m.SDP
		case "seat.result":
			if m.OK {
				c.results[m.ID] = nil
			} else {
				if m.Error == nil {
					m.Error = &wsError{Code: "unknown"}
				}
				c.results[m.ID] = m.Error
			}
		case "seat.state":
			if m.Seat != nil {
				c.seatState = m.Seat.State
			}
			c.callState, c.callCause = "", ""
			if m.Call != nil {
				c.callState, c.callCause = m.Call.State, m.Call.Cause
			}
		}
		c.mu.Unlock()
		c.poke()
	}
}

// heartbeat sends seat.ping every pingEvery, as the page does.
func (c *seatClient) heartbeat(ctx context.Context) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if c.send(map[string]string{"type": "seat.ping"}) != nil {
				return
			}
		}
	}
}

// send writes one message on the socket.
func (c *seatClient) send(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(httpTimeout))
	return c.ws.WriteJSON(v)
}

// waitFor waits until cond (called with c.mu held) says done or fails.
func (c *seatClient) waitFor(ctx context.Context, d time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		done, err := cond()
		closed := c.wsClosed
		c.mu.Unlock()
		switch {
		case err != nil:
			return fmt.Errorf("seat %s: %s: %w", c.ext, what, err)
		case done:
			return nil
		case closed:
			return fmt.Errorf("seat %s: %s: %w", c.ext, what, errSocketClosed)
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			return fmt.Errorf("seat %s: %s: %w after %v", c.ext, what, errTimeout, d)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// result is the cond of a request with id: done when it was accepted.
func (c *seatClient) result(id string) (bool, error) {
	e, ok := c.results[id]
	if !ok {
		return false, nil
	}
	if e != nil {
		return false, fmt.Errorf("%w: %w", errRefused, e)
	}
	return true, nil
}

// prepare makes the PeerConnection and its offer (candidates gathered, as
// a page that does not trickle), so that going online measures the box.
func (c *seatClient) prepare(ctx context.Context) error {
	m := &webrtc.MediaEngine{}
	for _, k := range []struct {
		mime string
		pt   webrtc.PayloadType
	}{{webrtc.MimeTypePCMU, 0}, {webrtc.MimeTypePCMA, 8}, {mimeTelephoneEvent, 126}} {
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: k.mime, ClockRate: 8000, Channels: 1},
			PayloadType:        k.pt,
		}, webrtc.RTPCodecTypeAudio); err != nil {
			return err
		}
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return err
	}
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	s.SetICETimeouts(iceDisconnected, iceFailed, iceKeepalive)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(s), webrtc.WithInterceptorRegistry(reg))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	c.pc = pc
	c.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, "mic", "page-"+c.ext)
	if err != nil {
		return err
	}
	tr, err := pc.AddTransceiverFromTrack(c.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		return err
	}
	go drainRTCP(tr.Sender().ReadRTCP)
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		go drainRTCP(r.ReadRTCP)
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			c.receive(p.Payload, time.Now().UnixNano())
		}
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		c.mu.Lock()
		c.pcState = st
		c.mu.Unlock()
		c.poke()
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.offer = pc.LocalDescription().SDP
	return nil
}

// drainRTCP reads a sender's or receiver's RTCP so that its interceptors
// run (the reports the box reads quality from).
func drainRTCP(read func() ([]rtcp.Packet, interceptor.Attributes, error)) {
	for {
		if _, _, err := read(); err != nil {
			return
		}
	}
}

// online sends the offer and waits for the media to connect (the
// PeerConnection's DTLS done) and the seat to be idle. It returns how long
// the offer took to connect.
func (c *seatClient) online(ctx context.Context, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := c.send(map[string]string{"type": "seat.online", "id": "online", "sdp": c.offer, "extension": c.ext}); err != nil {
		return 0, err
	}
	if err := c.waitFor(ctx, limit, "answer", func() (bool, error) {
		if _, err := c.result("online"); err != nil {
			return false, err
		}
		return c.answer != "", nil
	}); err != nil {
		return 0, err
	}
	c.mu.Lock()
	answer := c.answer
	c.mu.Unlock()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return 0, fmt.Errorf("seat %s: the answer: %w", c.ext, err)
	}
	var took time.Duration
	err := c.waitFor(ctx, limit-time.Since(start), "connected", func() (bool, error) {
		switch c.pcState {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			return false, errMediaFailed
		case webrtc.PeerConnectionStateConnected:
			if took == 0 {
				took = time.Since(start)
			}
		}
		return took != 0 && c.seatState == "idle", nil
	})
	return took, err
}

// dial calls number and waits for the call to be talking; then the pacer
// sends on it.
func (c *seatClient) dial(ctx context.Context, number string, limit time.Duration) error {
	if err := c.send(map[string]string{"type": "seat.dial", "id": "dial", "number": number}); err != nil {
		return err
	}
	err := c.waitFor(ctx, limit, "call to "+number, func() (bool, error) {
		if _, err := c.result("dial"); err != nil {
			return false, err
		}
		if c.callState == "ended" {
			return false, fmt.Errorf("%w: call ended: %s", errRefused, c.callCause)
		}
		return c.callState == "talking", nil
	})
	if err == nil {
		c.sending.Store(true)
	}
	return err
}

// hangup ends the call and takes the seat offline.
func (c *seatClient) hangup(ctx context.Context, limit time.Duration) error {
	c.sending.Store(false)
	if err := c.send(map[string]string{"type": "seat.hangup", "id": "hangup"}); err != nil {
		return err
	}
	if err := c.waitFor(ctx, limit, "hang-up", func() (bool, error) { return c.result("hangup") }); err != nil {
		return err
	}
	return c.send(map[string]string{"type": "seat.offline", "id": "offline"})
}

// close ends the page: PeerConnection and socket.
func (c *seatClient) close() {
	if c.pc != nil {
		_ = c.pc.Close()
	}
	if c.ws != nil {
		c.wmu.Lock()
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.wmu.Unlock()
		_ = c.ws.Close()
	}
}

// sendFrame sends the seat's next 20 ms packet, stamped now (pacer only).
func (c *seatClient) sendFrame() {
	now := time.Now().UnixNano()
	probe{seat: uint32(c.idx), seq: c.n, t0: now}.put(c.pkt.Payload)
	c.pkt.SequenceNumber, c.pkt.Timestamp = c.seq, c.ts
	c.seq++
	c.ts += payloadLen
	c.n++
	if err := c.track.WriteRTP(&c.pkt); err != nil {
		c.sendErr.Add(1)
		return
	}
	if c.sh.inWindow(now) {
		c.sentWin.Add(1)
	}
}

// receive counts one payload that came back at t2 (unix ns).
func (c *seatClient) receive(payload []byte, t2 int64) {
	p, err := readProbe(payload)
	if err != nil {
		c.foreign.Add(1)
		return
	}
	if p.seat != uint32(c.idx) {
		c.crossed.Add(1)
		return
	}
	c.got.Add(1)
	if !c.sh.inWindow(p.t0) || p.t1 == 0 {
		return
	}
	c.recvWin.Add(1)
	rtt := time.Duration(t2 - p.t0)
	if rtt > lateAfter {
		c.late.Add(1)
	}
	c.sh.rtt.add(rtt)
	c.sh.s2p.add(time.Duration(p.t1 - p.t0))
	c.sh.p2s.add(time.Duration(t2 - p.t1))
}

// number is the extension seat i dials: first + i mod count.
func number(first, count, i int) string { return strconv.Itoa(first + i%count) }
