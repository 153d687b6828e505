package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"sort"
	"time"

	"github.com/emiago/sipgo/sip"
)

// optionsLoop pings the trunk's carrier every OptionsInterval, first at
// once: OptionsMisses unanswered in a row mark it down, any final
// response (even 404 or 405: something is there) marks it up.
func (t *Trunks) optionsLoop(ctx context.Context, tr *trunk, log *slog.Logger) {
	if !t.waitServing(ctx, tr.cfg.Transport) {
		return
	}
	interval := tr.cfg.OptionsInterval
	timeout := min(t.opts.Timeout, interval)
	for {
		peer := t.resolve(ctx, tr)
		answered := t.pingTrunk(ctx, tr, peer, timeout)
		if ctx.Err() != nil {
			return
		}
		t.mu.Lock()
		if answered {
			tr.misses = 0
		} else {
			tr.misses++
		}
		misses := tr.misses
		t.mu.Unlock()
		switch {
		case answered:
			t.update(tr, func(s *TrunkStatus) { s.Up = true })
		case misses >= t.opts.OptionsMisses:
			t.update(tr, func(s *TrunkStatus) { s.Up = false })
		default:
			log.Debug("trunk OPTIONS unanswered", "misses", misses)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// pingTrunk sends one OPTIONS to the carrier and reports whether a final
// response came back within timeout.
func (t *Trunks) pingTrunk(ctx context.Context, tr *trunk, peer []netip.Addr, timeout time.Duration) bool {
	c := tr.cfg
	recipient := sip.Uri{Scheme: "sip", Host: c.Host, Port: c.Port}
	if c.Transport != TransportUDP {
		recipient.UriParams = sip.NewParams()
		recipient.UriParams.Add("transport", c.Transport.String())
	}
	req := sip.NewRequest(sip.OPTIONS, recipient)
	host, port := t.local(c, peer)
	user := c.Username
	if user == "" {
		user = "ccbox"
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host.String(), Port: port},
		Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: c.Host, Port: c.Port}})
	req.AppendHeader(sip.NewHeader("User-Agent", t.srv.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := t.do(ctx, c, req)
	return err == nil && res != nil
}

// Match says which trunk an inbound request (an INVITE) comes from, by the
// rules of RFC 3261 registration and of IP peering:
//
//  1. a registration trunk whose Username is the Request-URI's user (the
//     carrier sends calls to the contact we registered), when the source
//     is one of its addresses: Addresses, else Host's resolved addresses
//     (none while Host is a name not resolved yet: then nobody is);
//  2. else any trunk whose addresses (Addresses, else Host's resolved
//     addresses) hold the source, first by name.
//
// ok is false for a request from no trunk: the caller then treats it as
// from a phone, which must authenticate.
func (t *Trunks) Match(req *sip.Request) (trunkName string, ok bool) {
	src := sourceIP(req)
	if !src.IsValid() {
		return "", false
	}
	user := req.Recipient.User
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.trunks))
	for name := range t.trunks {
		names = append(names, name)
	}
	sort.Strings(names)
	if user != "" {
		for _, name := range names {
			tr := t.trunks[name]
			if tr.cfg.Kind != TrunkRegister || tr.cfg.Username != user {
				continue
			}
			// Only from the carrier's known addresses: while its host
			// name is unresolved nobody is taken for the carrier (an
			// INVITE naming the account from anywhere would otherwise
			// pass without authentication).
			if from, _ := tr.fromLocked(src); from {
				return name, true
			}
		}
	}
	for _, name := range names {
		if from, _ := t.trunks[name].fromLocked(src); from {
			return name, true
		}
	}
	return "", false
}

// fromLocked reports whether src is one of the trunk's addresses; known is
// false when the trunk has none yet (no Addresses, Host not resolved).
func (tr *trunk) fromLocked(src netip.Addr) (from, known bool) {
	if len(tr.cfg.Addresses) > 0 {
		for _, p := range tr.cfg.Addresses {
			if p.Contains(src) {
				return true, true
			}
		}
		return false, true
	}
	for _, a := range tr.resolved {
		if a == src {
			return true, true
		}
	}
	return false, len(tr.resolved) > 0
}
