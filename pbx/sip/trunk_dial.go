package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/dialplan"
	"github.com/emiago/sipgo/sip"
)

// Calls to outside numbers go through the target's trunks in order: the
// next trunk is tried when one fails with a status the dialplan says is
// the carrier's fault (timeout, 408, 5xx, 403), never on the callee's
// answer (486, 404, 480, 603…), and never once the callee rings.

// attemptTimeout is how long a carrier may stay silent after an INVITE
// before the next trunk is tried (a live carrier answers 100 Trying at
// once; waiting out the INVITE transaction would take 32 s).
const attemptTimeout = 5 * time.Second

// ErrNoTrunks is returned by Dial for an outside number whose target names
// no trunk the box has.
var ErrNoTrunks = errors.New("sip: no trunk for the call")

// SetTrunks gives the B2BUA its trunks: outbound calls go through them and
// INVITEs they send are taken as carriers' calls, routed by r.
func (c *Calls) SetTrunks(t *Trunks, r TrunkRouter) {
	c.trunkMu.Lock()
	c.trunks, c.trunkRouter = t, r
	c.trunkMu.Unlock()
}

func (c *Calls) trunkSide() (*Trunks, TrunkRouter) {
	c.trunkMu.Lock()
	defer c.trunkMu.Unlock()
	return c.trunks, c.trunkRouter
}

// pstnLeg is a call to an outside number: one leg for the call layer,
// one INVITE after another through the target's trunks underneath.
type pstnLeg struct {
	c       *Calls
	id      call.ChannelID
	dev     call.Device
	events  chan call.EventKind
	done    chan struct{}
	stop    chan struct{} // closed by the call layer's Hangup
	hungUp  sync.Once
	mu      sync.Mutex
	cur     *outLeg
	cause   call.Cause
	wanted  call.Cause // the cause Hangup asked for
	trunkOf string     // the trunk of the current attempt
}

// dialPSTN starts a call to t's outside number through t's trunks.
func (c *Calls) dialPSTN(t call.Target, from call.Party, offerFrom call.Channel) ([]call.Outgoing, error) {
	trunks, _ := c.trunkSide()
	if trunks == nil || len(t.Trunks) == 0 {
		return nil, ErrNoTrunks
	}
	p := &pstnLeg{
		c: c, id: c.nextID("pstn-"), dev: t.Device,
		events: make(chan call.EventKind, 4), done: make(chan struct{}), stop: make(chan struct{}),
	}
	// The first attempt is made here, so a call whose every trunk is
	// unusable fails at once rather than ringing nothing.
	first, rest, err := p.firstAttempt(trunks, t, from, offerFrom)
	if err != nil {
		// Every trunk full, down or unknown: the caller hears
		// unavailable, as for a phone that is not there.
		return nil, fmt.Errorf("%w: %w", call.ErrUnavailable, err)
	}
	// The first attempt is the leg's from the start: the call layer may
	// ask for its media as soon as Dial returns.
	p.cur, p.trunkOf = first.leg, first.trunk
	go p.run(trunks, first, rest, t, from, offerFrom)
	return []call.Outgoing{p}, nil
}

// attempt is one INVITE through one trunk.
type attempt struct {
	trunk string
	leg   *outLeg
	tc    *TrunkCall
}

func (p *pstnLeg) firstAttempt(trunks *Trunks, t call.Target, from call.Party, offerFrom call.Channel) (*attempt, []string, error) {
	var errs []error
	for i, name := range t.Trunks {
		a, err := p.c.tryTrunk(trunks, name, t, from, offerFrom)
		if err == nil {
			return a, t.Trunks[i+1:], nil
		}
		errs = append(errs, err)
		p.c.log.Warn("trunk not usable for a call", "trunk", name, "err", err)
	}
	return nil, nil, errors.Join(append([]error{ErrNoTrunks}, errs...)...)
}

// tryTrunk sends the INVITE through one trunk.
func (c *Calls) tryTrunk(trunks *Trunks, name string, t call.Target, from call.Party, offerFrom call.Channel) (*attempt, error) {
	cfg, ok := trunks.Config(name)
	if !ok {
		return nil, ErrNoSuchTrunk
	}
	tc, err := trunks.BeginCall(name, TrunkOutbound)
	if err != nil {
		return nil, err
	}
	codecs := cfg.Codecs
	if len(codecs) == 0 {
		codecs = []codec.Codec{codec.PCMU, codec.PCMA}
	}
	if offerFrom != nil {
		if first := codec.FromName(offerFrom.Codec(), codec.ClockRate); first != codec.Unknown {
			codecs = preferFirst(codecs, first)
		}
	}
	host := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	fromHost := cfg.FromDomain
	if fromHost == "" {
		fromHost = cfg.Host
	}
	spec := outSpec{
		dev:     t.Device,
		binding: Binding{Source: host, Transport: cfg.Transport},
		uri:     sip.Uri{Scheme: "sip", User: t.Party.Number, Host: cfg.Host, Port: cfg.Port},
		from:    from, to: t.Party, fromHost: fromHost, toHost: cfg.Host, pai: true,
		codecs: codecs, mode: cfg.DTMFMode, creds: cfg.credentials(),
	}
	if cfg.Transport == TransportTCP || cfg.Transport == TransportTLS {
		spec.uri.UriParams = sip.NewParams()
		spec.uri.UriParams.Add("transport", cfg.Transport.String())
	}
	l, err := c.dial(spec)
	if err != nil {
		tc.End(false, call.CauseFailed)
		return nil, err
	}
	return &attempt{trunk: name, leg: l, tc: tc}, nil
}

// run follows the attempts until one is answered or the call fails.
func (p *pstnLeg) run(trunks *Trunks, a *attempt, rest []string, t call.Target, from call.Party, offerFrom call.Channel) {
	for {
		p.mu.Lock()
		p.cur, p.trunkOf = a.leg, a.trunk
		p.mu.Unlock()
		next, cause := p.follow(a)
		if !next || len(rest) == 0 {
			p.finish(cause)
			return
		}
		var err error
		for a = nil; a == nil && len(rest) > 0; rest = rest[1:] {
			if a, err = p.c.tryTrunk(trunks, rest[0], t, from, offerFrom); err != nil {
				p.c.log.Warn("trunk not usable for a call", "trunk", rest[0], "err", err)
			}
		}
		if a == nil {
			p.finish(cause)
			return
		}
		p.c.log.Info("trunk failover", "to", a.trunk, "number", t.Party.Number)
	}
}

// follow relays one attempt's progress; it returns when the attempt has
// ended (with its cause) and whether the next trunk should be tried.
func (p *pstnLeg) follow(a *attempt) (failover bool, cause call.Cause) {
	l := a.leg
	silence := time.NewTimer(attemptTimeout)
	defer silence.Stop()
	answered := false
	stop := p.stop
	for {
		select {
		case ev := <-l.Events():
			if ev == call.EventAnswered {
				answered = true
			}
			select {
			case p.events <- ev:
			default:
			}
		case <-silence.C:
			if l.heard.Load() {
				continue
			}
			// Nothing heard: try the next trunk now. No CANCEL may go
			// before a provisional response (RFC 3261 §9.1), so the
			// attempt lingers until its INVITE transaction times out
			// (32 s); it keeps its place in the trunk's count until then.
			l.Hangup(call.CauseNoAnswer)
			go func() {
				<-l.Done()
				a.tc.End(false, l.Cause())
			}()
			if p.hungUpByCall() {
				p.mu.Lock()
				c := p.wanted
				p.mu.Unlock()
				return false, c
			}
			return true, call.CauseNoAnswer
		case <-stop:
			stop = nil // once: then wait for the attempt to end
			p.mu.Lock()
			c := p.wanted
			p.mu.Unlock()
			l.Hangup(c)
		case <-l.Done():
			cause := l.Cause()
			a.tc.End(answered, cause)
			if answered || l.progress.Load() || p.hungUpByCall() {
				return false, cause
			}
			return dialplan.FailoverOn(int(l.status.Load())), cause
		}
	}
}

func (p *pstnLeg) hungUpByCall() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

func (p *pstnLeg) finish(cause call.Cause) {
	p.mu.Lock()
	p.cause = cause
	p.mu.Unlock()
	close(p.done)
}

func (p *pstnLeg) current() *outLeg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

func (p *pstnLeg) ID() call.ChannelID            { return p.id }
func (p *pstnLeg) Device() call.Device           { return p.dev }
func (p *pstnLeg) Events() <-chan call.EventKind { return p.events }
func (p *pstnLeg) Done() <-chan struct{}         { return p.done }
func (p *pstnLeg) Progress(bool) error           { return nil }
func (p *pstnLeg) Answer(context.Context) error  { return nil }
func (p *pstnLeg) Address() string               { return p.current().Address() }
func (p *pstnLeg) Codec() string                 { return p.current().Codec() }
func (p *pstnLeg) Media() *rtp.Endpoint          { return p.current().Media() }
func (p *pstnLeg) Signals() <-chan call.Signal   { return p.current().Signals() }
func (p *pstnLeg) DTMFMode() call.DTMFMode       { return p.current().DTMFMode() }

func (p *pstnLeg) SendDTMF(d rune, dur time.Duration) error { return p.current().SendDTMF(d, dur) }

func (p *pstnLeg) Cause() call.Cause {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cause
}

// Hangup ends the call: the current attempt is cancelled or hung up and no
// other trunk is tried.
func (p *pstnLeg) Hangup(cause call.Cause) {
	p.hungUp.Do(func() {
		p.mu.Lock()
		p.wanted = cause
		p.mu.Unlock()
		close(p.stop)
	})
}
