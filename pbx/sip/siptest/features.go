package siptest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Desk-phone features of the test phone: hold and retrieve by re-INVITE,
// transfers by REFER (NOTIFY sipfrags collected), DTMF by SIP INFO and by
// RFC 4733 events on its RTP socket.

// ErrNotConfirmed is returned by mid-call requests on a call that is not
// answered.
var ErrNotConfirmed = errors.New("siptest: call not answered")

// dtmfDigits are the RFC 4733 event codes 0-15, in order.
const dtmfDigits = "0123456789*#ABCD"

// features is a phone's feature state.
type features struct {
	mu    sync.Mutex
	infos []rune // digits received by INFO, all calls
}

// registerFeatures adds the feature handlers to the phone's server (called
// by New, before serving).
func (p *Phone) registerFeatures() {
	p.server.OnInfo(p.onInfo)
	p.server.OnNotify(p.onNotify)
}

// InfoDigits returns the digits the phone received by SIP INFO, in order.
func (p *Phone) InfoDigits() []rune {
	p.feat.mu.Lock()
	defer p.feat.mu.Unlock()
	return append([]rune(nil), p.feat.infos...)
}

func (p *Phone) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	for _, line := range strings.Split(string(req.Body()), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "Signal") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) == 1 {
			p.feat.mu.Lock()
			p.feat.infos = append(p.feat.infos, rune(v[0]))
			p.feat.mu.Unlock()
		}
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	event := ""
	if h := req.GetHeader("Event"); h != nil {
		event, _, _ = strings.Cut(strings.TrimSpace(h.Value()), ";")
		event = strings.ToLower(strings.TrimSpace(event))
	}
	if event != "refer" {
		// Busy lamps are the Watcher's (subscribe.go), not a Phone's.
		_ = tx.Respond(sip.NewResponseFromRequest(req, 489, "Bad Event", nil))
		return
	}
	v, ok := p.calls.Load(req.CallID().Value())
	if !ok {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	c := v.(*Call)
	code := sipfragStatus(req.Body())
	terminated := false
	if h := req.GetHeader("Subscription-State"); h != nil {
		terminated = strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "terminated")
	}
	// Recorded before the answer: the next NOTIFY, sent once this one is
	// answered, is handled on another goroutine and must not be recorded
	// first.
	c.update(func() {
		c.referStatuses = append(c.referStatuses, code)
		if terminated {
			c.referDone = true
		}
	})
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// sipfragStatus reads the status code of a message/sipfrag body (0 when
// it is not a status line).
func sipfragStatus(b []byte) int {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// ReferStatuses lists the status codes of the transfer NOTIFYs received on
// this call, in order.
func (c *Call) ReferStatuses() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.referStatuses...)
}

// WaitReferDone waits for the NOTIFY that ends the transfer's subscription
// and returns every status received.
func (c *Call) WaitReferDone(ctx context.Context) ([]int, error) {
	err := c.WaitFor(ctx, "final transfer NOTIFY", func(c *Call) bool { return c.referDone })
	return c.ReferStatuses(), err
}

// dialogs returns the call's dialog (one of them is set) once answered.
func (c *Call) dialogs() (*sipgo.DialogClientSession, *sipgo.DialogServerSession, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.answered || c.ended {
		return nil, nil, ErrNotConfirmed
	}
	return c.uac, c.uas, nil
}

// target is where the call's in-dialog requests go: the peer's Contact.
func (c *Call) target(uac *sipgo.DialogClientSession, uas *sipgo.DialogServerSession) sip.Uri {
	if uac != nil {
		if ct := uac.InviteResponse.Contact(); ct != nil {
			return ct.Address
		}
		return uac.InviteRequest.Recipient
	}
	return uas.InviteRequest.Contact().Address
}

// Do sends a request in the call's dialog (its Request-URI set to the
// peer's Contact) and returns the final response.
func (c *Call) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	uac, uas, err := c.dialogs()
	if err != nil {
		return nil, err
	}
	req.Recipient = c.target(uac, uas)
	if uac != nil {
		return uac.Do(ctx, req)
	}
	return uas.Do(ctx, req)
}

// Tags returns the call's local and remote tags.
func (c *Call) Tags() (local, remote string) {
	uac, uas, err := c.dialogs()
	if err != nil {
		return "", ""
	}
	if uac != nil {
		local, _ = uac.InviteRequest.From().Params.Get("tag")
		remote, _ = uac.InviteResponse.To().Params.Get("tag")
		return local, remote
	}
	local, _ = uas.InviteResponse.To().Params.Get("tag")
	remote, _ = uas.InviteRequest.From().Params.Get("tag")
	return local, remote
}

// ReplacesValue names the call's dialog for a Replaces header (RFC 3891)
// the way a phone writes it for its peer: to-tag is the peer's tag.
func (c *Call) ReplacesValue() string {
	local, remote := c.Tags()
	return c.CallID + ";to-tag=" + remote + ";from-tag=" + local
}

// Reinvite sends a re-INVITE offering the call's media with direction dir
// ("sendonly", "sendrecv", "inactive"...), acknowledges the answer and
// returns the response and the direction the answer gives.
func (c *Call) Reinvite(ctx context.Context, dir string) (*sip.Response, string, error) {
	return c.reinvite(ctx, dir, "")
}

// ReinviteLate sends a re-INVITE without SDP (a late offer): the 200
// carries the appliance's offer, and the ACK the phone's answer with
// direction ackDir. It returns the response and the offer's direction.
func (c *Call) ReinviteLate(ctx context.Context, ackDir string) (*sip.Response, string, error) {
	return c.reinvite(ctx, "", ackDir)
}

func (c *Call) reinvite(ctx context.Context, dir, ackDir string) (*sip.Response, string, error) {
	uac, uas, err := c.dialogs()
	if err != nil {
		return nil, "", err
	}
	req := sip.NewRequest(sip.INVITE, c.target(uac, uas))
	if dir != "" {
		req.SetBody(buildSDPDir(c.p.RTP.Addr(), []uint8{c.PayloadType()}, dir))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	var res *sip.Response
	if uac != nil {
		res, err = uac.Do(ctx, req)
	} else {
		res, err = uas.Do(ctx, req)
	}
	if err != nil {
		return nil, "", err
	}
	if !res.IsSuccess() {
		return res, "", nil
	}
	ack := sip.NewRequest(sip.ACK, req.Recipient)
	if ackDir != "" {
		ack.SetBody(buildSDPDir(c.p.RTP.Addr(), []uint8{c.PayloadType()}, ackDir))
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if uac != nil {
		err = uac.WriteRequest(ack)
	} else {
		err = uas.WriteRequest(ack)
	}
	if err != nil {
		return res, "", err
	}
	if len(res.Body()) > 0 {
		_, _ = c.sawSDP(res.Body())
	}
	return res, sdpDirection(res.Body()), nil
}

// Hold puts the call on hold (re-INVITE with a=sendonly) and returns the
// answer's direction (recvonly expected).
func (c *Call) Hold(ctx context.Context) (string, error) {
	res, dir, err := c.Reinvite(ctx, "sendonly")
	if err == nil && !res.IsSuccess() {
		err = fmt.Errorf("siptest: hold answered %d", res.StatusCode)
	}
	return dir, err
}

// Retrieve takes the call off hold (re-INVITE with a=sendrecv) and returns
// the answer's direction (sendrecv expected).
func (c *Call) Retrieve(ctx context.Context) (string, error) {
	res, dir, err := c.Reinvite(ctx, "sendrecv")
	if err == nil && !res.IsSuccess() {
		err = fmt.Errorf("siptest: retrieve answered %d", res.StatusCode)
	}
	return dir, err
}

// buildSDPDir is buildSDP with direction dir.
func buildSDPDir(addr netip.AddrPort, pts []uint8, dir string) []byte {
	return bytes.Replace(buildSDP(addr, pts), []byte("a=sendrecv"), []byte("a="+dir), 1)
}

// sdpDirection returns the direction attribute of an SDP body (the last
// one, media level winning), "sendrecv" when it has none.
func sdpDirection(b []byte) string {
	dir := "sendrecv"
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		switch line {
		case "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive":
			dir = line[2:]
		}
	}
	return dir
}

// Refer asks the other side to transfer the call to target (blind), or,
// with replaces set, to connect it with the party of that other call of
// the phone (attended: Refer-To carries Replaces). It returns the REFER's
// response; the NOTIFYs that follow are in ReferStatuses.
func (c *Call) Refer(ctx context.Context, target string, replaces *Call, extra ...sip.Header) (*sip.Response, error) {
	uac, uas, err := c.dialogs()
	if err != nil {
		return nil, err
	}
	host := c.target(uac, uas).Host
	uri := "sip:" + target + "@" + host
	if replaces != nil {
		uri += "?Replaces=" + url.QueryEscape(replaces.ReplacesValue())
	}
	req := sip.NewRequest(sip.REFER, sip.Uri{})
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+uri+">"))
	for _, h := range extra {
		req.AppendHeader(h)
	}
	return c.Do(ctx, req)
}

// SendInfo sends a digit by SIP INFO (application/dtmf-relay) and returns
// the response.
func (c *Call) SendInfo(ctx context.Context, digit rune, d time.Duration) (*sip.Response, error) {
	return c.SendInfoBody(ctx, "application/dtmf-relay",
		[]byte("Signal="+string(digit)+"\r\nDuration="+strconv.Itoa(int(d/time.Millisecond))+"\r\n"))
}

// SendInfoBody sends an INFO with any body (nil: none).
func (c *Call) SendInfoBody(ctx context.Context, contentType string, body []byte) (*sip.Response, error) {
	req := sip.NewRequest(sip.INFO, sip.Uri{})
	if body != nil {
		req.SetBody(body)
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	return c.Do(ctx, req)
}

// Event is one RFC 4733 telephone-event packet the RTP socket received.
type Event struct {
	Digit     rune
	End       bool
	Duration  uint16 // in timestamp units
	Timestamp uint32
	Seq       uint16
	Marker    bool
}

// Events returns the telephone-event packets of payload type pt received
// so far.
func (r *RTP) Events(pt uint8) []Event {
	var out []Event
	for _, p := range r.Received() {
		if p.PayloadType != pt || len(p.Payload) < 4 || p.Payload[0] >= byte(len(dtmfDigits)) {
			continue
		}
		out = append(out, Event{Digit: rune(dtmfDigits[p.Payload[0]]), End: p.Payload[1]&0x80 != 0,
			Duration: binary.BigEndian.Uint16(p.Payload[2:4]), Timestamp: p.Timestamp, Seq: p.Seq, Marker: p.Marker})
	}
	return out
}

// EventDigits returns the digits of the events received (pt): one per
// event timestamp that has an end packet.
func (r *RTP) EventDigits(pt uint8) []rune {
	var out []rune
	seen := map[uint32]bool{}
	for _, e := range r.Events(pt) {
		if e.End && !seen[e.Timestamp] {
			seen[e.Timestamp] = true
			out = append(out, e.Digit)
		}
	}
	return out
}

// SendEvent sends one key press as RFC 4733 events to to, in payload type
// pt, paced like a phone (a packet every 20 ms, the end packet three
// times); it returns when the last is sent.
func (r *RTP) SendEvent(ctx context.Context, to netip.AddrPort, pt uint8, digit rune, d time.Duration) error {
	code := strings.IndexRune(dtmfDigits, digit)
	if code < 0 {
		return fmt.Errorf("siptest: %q is not a DTMF digit", digit)
	}
	total := int(d / time.Millisecond * 8)
	ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
	var frames [][]byte
	for dur := 160; ; dur += 160 {
		end := dur >= total
		if end {
			dur = total
		}
		for k := 0; k < 1 || (end && k < 3); k++ {
			b := make([]byte, 16)
			b[0] = 0x80
			b[1] = pt & 0x7f
			if len(frames) == 0 {
				b[1] |= 0x80
			}
			binary.BigEndian.PutUint16(b[2:], seq+uint16(len(frames)))
			binary.BigEndian.PutUint32(b[4:], ts)
			binary.BigEndian.PutUint32(b[8:], ssrc)
			b[12] = byte(code)
			b[13] = 10
			if end {
				b[13] |= 0x80
			}
			binary.BigEndian.PutUint16(b[14:], uint16(dur))
			frames = append(frames, b)
		}
		if end {
			break
		}
	}
	return r.writePaced(ctx, to, frames)
}

// SendFrames sends whole payloads (e.g. G.711 frames of a tone) as RTP
// packets of payload type pt to to, one every 20 ms; it returns when the
// last is sent.
func (r *RTP) SendFrames(ctx context.Context, to netip.AddrPort, pt uint8, payloads [][]byte) error {
	ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
	frames := make([][]byte, len(payloads))
	for i, pl := range payloads {
		b := make([]byte, 12, 12+len(pl))
		b[0] = 0x80
		b[1] = pt & 0x7f
		binary.BigEndian.PutUint16(b[2:], seq+uint16(i))
		binary.BigEndian.PutUint32(b[4:], ts+uint32(160*i))
		binary.BigEndian.PutUint32(b[8:], ssrc)
		frames[i] = append(b, pl...)
	}
	return r.writePaced(ctx, to, frames)
}

func (r *RTP) writePaced(ctx context.Context, to netip.AddrPort, frames [][]byte) error {
	tick := time.NewTicker(20 * time.Millisecond) // a phone's packet pacing
	defer tick.Stop()
	for i, f := range frames {
		if i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if _, err := r.conn.WriteToUDPAddrPort(f, to); err != nil {
			return err
		}
	}
	return nil
}

// Header makes a header for Dial.Headers (callers outside pbx/sip do not
// import sipgo).
func Header(name, value string) sip.Header { return sip.NewHeader(name, value) }
