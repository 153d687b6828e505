package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// errStatus is returned when the box answers a request with an unexpected
// status.
var errStatus = errors.New("unexpected SIP status")

// callsConfig is the calls command's settings.
type callsConfig struct {
	server      *net.UDPAddr
	callerIP    string // the calling side's SIP and RTP address
	calleeIP    string // the answering side's
	calls       int
	rate        float64 // call attempts per second while setting up
	callerFirst int
	callerCount int
	calleeFirst int
	calleeCount int
	prefix      string // secret = prefix + number
	algorithm   string
	settle      time.Duration // after the last call is up, before the window
	window      time.Duration
	timeout     time.Duration // per transaction
}

// dialog is the calling side of one established call.
type dialog struct {
	caller, callee string
	callID         string
	from, to       string // with tags
	target         string // the box's Contact: where in-dialog requests go
	cseq           uint32
}

// calleeSide answers the box's INVITEs on the callee endpoint, giving each
// new call the next free callee leg.
type calleeSide struct {
	m     *media
	next  atomic.Int64 // next callee leg index, from len(legs)/2
	mu    sync.Mutex
	sent  map[string][]byte // Call-ID → the 200 sent, for retransmitted INVITEs
	legs  map[string]int    // Call-ID → leg
	ended atomic.Int64
	bad   atomic.Int64 // INVITEs that could not be answered
	// What the box sent, for the diagnosis of a leg without audio.
	invites, retrans, byes, strayByes, cancels atomic.Int64
	badReasons                                 []string // the first few, under mu
}

// refuse answers an INVITE with 488 and notes why (c.mu held).
func (c *calleeSide) refuse(e *endpoint, m *message, from *net.UDPAddr, why string) {
	c.bad.Add(1)
	if len(c.badReasons) < 5 {
		c.badReasons = append(c.badReasons, why)
	}
	_ = e.send(response(m, 488, "Not Acceptable Here", randomToken(4), "", nil), from)
}

func (c *calleeSide) handle(e *endpoint, m *message, from *net.UDPAddr) {
	callID := m.get("call-id")
	switch m.method {
	case "ACK":
		return
	case "INVITE":
		c.mu.Lock()
		defer c.mu.Unlock()
		c.invites.Add(1)
		if res, ok := c.sent[callID]; ok {
			c.retrans.Add(1)
			_ = e.send(res, from) // the box did not get our 200
			return
		}
		ip, port, err := sdpMedia(m.body)
		if err != nil {
			c.refuse(e, m, from, fmt.Sprintf("INVITE %s: %v: %q", callID, err, m.body))
			return
		}
		i := int(c.next.Add(1)) - 1
		if i >= len(c.m.legs) {
			c.refuse(e, m, from, fmt.Sprintf("INVITE %s: no callee leg left", callID))
			return
		}
		c.m.legs[i].callID = callID
		if err := c.m.activate(i, ip, port); err != nil {
			c.refuse(e, m, from, fmt.Sprintf("INVITE %s: %v", callID, err))
			return
		}
		user := userOf(uriOf(m.get("to")))
		res := response(m, 200, "OK", randomToken(4), "sip:"+user+"@"+e.addr, sdpOffer(c.m.legIP(i), c.m.legs[i].port, 1))
		c.sent[callID] = res
		c.legs[callID] = i
		_ = e.send(res, from)
	case "BYE":
		c.mu.Lock()
		c.byes.Add(1)
		if i, ok := c.legs[callID]; ok {
			c.m.deactivate(i)
			delete(c.legs, callID)
			c.ended.Add(1)
		} else {
			c.strayByes.Add(1)
		}
		c.mu.Unlock()
		_ = e.send(response(m, 200, "OK", "", "", nil), from)
	default: // OPTIONS (qualify), UPDATE (session refresh), CANCEL
		if m.method == "CANCEL" {
			c.cancels.Add(1)
		}
		_ = e.send(response(m, 200, "OK", randomToken(4), "", nil), from)
	}
}

// userOf returns the user part of a sip: URI.
func userOf(uri string) string {
	s := uri
	if i := len("sip:"); len(s) > i && s[:i] == "sip:" {
		s = s[i:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			return s[:i]
		}
	}
	return ""
}

// placeCall sets up call i from caller to callee on caller leg i: INVITE,
// the digest challenge answered, ACK, media started.
func placeCall(ctx context.Context, cfg callsConfig, ep *endpoint, m *media, i int, caller, callee string) (*dialog, error) {
	host := cfg.server.String()
	uri := "sip:" + callee + "@" + host
	d := &dialog{caller: caller, callee: callee, callID: randomToken(8) + "@rtpload",
		from: fmt.Sprintf("<sip:%s@%s>;tag=%s", caller, host, randomToken(4)), cseq: 1}
	inv := request{method: "INVITE", uri: uri, via: ep.addr, branch: "z9hG4bK" + randomToken(8),
		from: d.from, to: "<" + uri + ">", callID: d.callID, cseq: d.cseq,
		contact: "sip:" + caller + "@" + ep.addr, body: sdpOffer(m.legIP(i), m.legs[i].port, 1)}
	res, err := ep.transact(ctx, inv)
	if err != nil {
		return nil, err
	}
	if res.status == 401 {
		ackNon2xx(ep, inv, res)
		c, err := pickChallenge(res, cfg.algorithm)
		if err != nil {
			return nil, err
		}
		d.cseq++
		inv.cseq, inv.branch = d.cseq, "z9hG4bK"+randomToken(8)
		inv.hdrs = []string{authorization(c, caller, cfg.prefix+caller, "INVITE", uri, 1)}
		if res, err = ep.transact(ctx, inv); err != nil {
			return nil, err
		}
	}
	if res.status != 200 {
		ackNon2xx(ep, inv, res)
		return nil, fmt.Errorf("INVITE %s→%s: %w: %d", caller, callee, errStatus, res.status)
	}
	d.to = res.get("to")
	d.target = uriOf(res.get("contact"))
	if d.target == "" {
		d.target = uri
	}
	ack := request{method: "ACK", uri: d.target, via: ep.addr, branch: "z9hG4bK" + randomToken(8),
		from: d.from, to: d.to, callID: d.callID, cseq: d.cseq}
	if err := ep.send(ack.bytes(), nil); err != nil {
		return nil, err
	}
	// From here the call is up: a failure still returns d, to be hung up.
	ip, port, err := sdpMedia(res.body)
	if err != nil {
		return d, fmt.Errorf("the 200 of %s→%s: %w: %q", caller, callee, err, res.body)
	}
	m.legs[i].callID = d.callID
	return d, m.activate(i, ip, port)
}

// ackNon2xx acknowledges a final non-2xx answer to inv: same branch and
// CSeq number, the answer's To (RFC 3261 §17.1.1.3).
func ackNon2xx(ep *endpoint, inv request, res *message) {
	ack := request{method: "ACK", uri: inv.uri, via: ep.addr, branch: inv.branch,
		from: inv.from, to: res.get("to"), callID: inv.callID, cseq: inv.cseq}
	_ = ep.send(ack.bytes(), nil)
}

// hangup sends BYE on d and waits for the answer.
func hangup(ctx context.Context, ep *endpoint, d *dialog) error {
	d.cseq++
	bye := request{method: "BYE", uri: d.target, via: ep.addr, branch: "z9hG4bK" + randomToken(8),
		from: d.from, to: d.to, callID: d.callID, cseq: d.cseq}
	res, err := ep.transact(ctx, bye)
	if err != nil {
		return err
	}
	if res.status != 200 {
		return fmt.Errorf("BYE: %w: %d", errStatus, res.status)
	}
	return nil
}

// callsResult is the calls command's final line.
type callsResult struct {
	Event        string      `json:"event"`
	Calls        int         `json:"calls"`
	Established  int         `json:"established"`
	SetupFailed  int         `json:"setup_failed"`
	SetupSeconds float64     `json:"setup_s"`
	WindowS      float64     `json:"window_s"`
	Media        mediaResult `json:"media"`
	HangupFailed int         `json:"hangup_failed"`
	CalleeEnded  int64       `json:"callee_ended"`
	GenCPUS      float64     `json:"gen_cpu_s"`
	FirstErrors  []string    `json:"first_errors,omitempty"`
	Diag         diagnosis   `json:"diag"`
}

// runCalls registers the callees, places cfg.calls calls, measures the
// media over the window and hangs every call up.
func runCalls(ctx context.Context, cfg callsConfig, out *reporter) error {
	m, err := newMedia(2*cfg.calls, cfg.callerIP, cfg.calleeIP)
	if err != nil {
		return err
	}
	defer m.close()
	callee := &calleeSide{m: m, sent: map[string][]byte{}, legs: map[string]int{}}
	callee.next.Store(int64(cfg.calls))
	uas, err := newEndpoint(cfg.calleeIP, cfg.server, callee.handle)
	if err != nil {
		return err
	}
	defer uas.close()
	go uas.run()
	uac, err := newEndpoint(cfg.callerIP, cfg.server, func(e *endpoint, m *message, from *net.UDPAddr) {
		if m.method != "ACK" { // a BYE from the box, an OPTIONS, a session refresh
			_ = e.send(response(m, 200, "OK", randomToken(4), "", nil), from)
		}
	})
	if err != nil {
		return err
	}
	defer uac.close()
	go uac.run()

	// The callees register from the answering endpoint.
	st := &registerStats{}
	for n := range cfg.calleeCount {
		ext := strconv.Itoa(cfg.calleeFirst + n)
		r := newRegistration(uas, ext, cfg.prefix+ext, cfg.algorithm, 3600)
		tctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		err := r.register(tctx, st)
		cancel()
		if err != nil {
			return fmt.Errorf("register callee %s: %w", ext, err)
		}
	}
	out.event("callees_registered", map[string]any{"callees": cfg.calleeCount})

	mctx, stopMedia := context.WithCancel(ctx)
	waitMedia := m.run(mctx)
	defer func() { stopMedia(); waitMedia() }()

	// Set the calls up at cfg.rate.
	dialogs := make([]*dialog, cfg.calls)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		errs     []string
		failures int
	)
	setupStart := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
	for i := range cfg.calls {
		select {
		case <-ctx.Done():
			tick.Stop()
			return ctx.Err()
		case <-tick.C:
		}
		caller := strconv.Itoa(cfg.callerFirst + i%cfg.callerCount)
		target := strconv.Itoa(cfg.calleeFirst + i%cfg.calleeCount)
		wg.Go(func() {
			tctx, cancel := context.WithTimeout(ctx, cfg.timeout)
			defer cancel()
			d, err := placeCall(tctx, cfg, uac, m, i, caller, target)
			errMu.Lock()
			defer errMu.Unlock()
			dialogs[i] = d // hung up at the end, even when its setup failed half-way
			if err != nil {
				failures++
				if len(errs) < 5 {
					errs = append(errs, err.Error())
				}
			}
		})
	}
	tick.Stop()
	wg.Wait()
	res := callsResult{Event: "result", Calls: cfg.calls, SetupFailed: failures,
		SetupSeconds: time.Since(setupStart).Seconds(), WindowS: cfg.window.Seconds()}
	res.Established = cfg.calls - failures
	out.event("established", map[string]any{"established": res.Established, "failed": failures})

	// Let the relay latch every leg, then measure.
	settle := time.NewTimer(cfg.settle)
	select {
	case <-ctx.Done():
		settle.Stop()
		return ctx.Err()
	case <-settle.C:
	}
	cpu0 := selfCPU()
	m.winStart.Store(m.now())
	out.event("window_start", nil)
	window := time.NewTimer(cfg.window)
	select {
	case <-ctx.Done():
		window.Stop()
		return ctx.Err()
	case <-window.C:
	}
	m.winEnd.Store(m.now())
	out.event("window_end", nil)
	res.GenCPUS = (selfCPU() - cpu0).Seconds()
	// Packets sent just before the window's end are still on their way.
	grace := time.NewTimer(2 * lateAfter)
	<-grace.C
	stopMedia()
	waitMedia()
	res.Media = m.result()
	res.Diag = diagnose(m, callee, res.Established)

	// Hang up at the setup rate.
	tick = time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
	defer tick.Stop()
	var hangFailed atomic.Int64
	for _, d := range dialogs {
		if d == nil {
			continue
		}
		<-tick.C
		wg.Go(func() {
			tctx, cancel := context.WithTimeout(ctx, cfg.timeout)
			defer cancel()
			if err := hangup(tctx, uac, d); err != nil {
				hangFailed.Add(1)
				errMu.Lock()
				if len(errs) < 10 {
					errs = append(errs, err.Error())
				}
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	// The box sends the callee's BYE after answering the caller's: give
	// the last ones a bounded moment to arrive.
	want := int64(res.Established) - hangFailed.Load()
	for deadline := time.Now().Add(2 * time.Second); callee.ended.Load() < want && time.Now().Before(deadline); {
		poll := time.NewTimer(20 * time.Millisecond)
		<-poll.C
	}
	res.HangupFailed = int(hangFailed.Load())
	res.CalleeEnded = callee.ended.Load()
	res.FirstErrors = errs
	out.json(res)
	return nil
}
