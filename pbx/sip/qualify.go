package sip

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// qualifyParallel bounds the OPTIONS in flight at once, so ten thousand
// phones are pinged without ten thousand goroutines.
const qualifyParallel = 128

// Request sends req to a registered contact the way NAT needs: to the
// address its REGISTER came from, by the same transport, from the same UDP
// socket (or over the same TCP/TLS connection). req's Request-URI should be
// b.Contact. It returns the client transaction; read its Responses.
func (s *Server) Request(ctx context.Context, b Binding, req *sip.Request) (sip.ClientTransaction, error) {
	req.SetDestination(b.Source)
	req.SetTransport(strings.ToUpper(b.Transport.String()))
	if b.Transport == TransportUDP {
		s.mu.Lock()
		a := s.udpAddr
		s.mu.Unlock()
		if a == nil {
			return nil, ErrNotRunning
		}
		// sipgo looks the connection up by local address: that is the
		// listening socket, so the phone sees our usual source port.
		req.Laddr = sip.Addr{IP: a.IP, Port: a.Port}
	}
	tx, err := s.client.TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("send %s to %s: %w", req.Method, b.Source, err)
	}
	return tx, nil
}

// ping sends one OPTIONS to b and reports whether any response came back.
func (s *Server) ping(ctx context.Context, ext Extension, b Binding) bool {
	var uri sip.Uri
	if err := sip.ParseUri(b.Contact, &uri); err != nil {
		return false
	}
	req := sip.NewRequest(sip.OPTIONS, uri)
	from := &sip.FromHeader{
		Address: sip.Uri{Scheme: "sip", User: "qualify", Host: s.cfg.Realm},
		Params:  sip.NewParams(),
	}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: string(ext), Host: s.cfg.Realm}})
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QualifyTimeout)
	defer cancel()
	tx, err := s.Request(ctx, b, req)
	if err != nil {
		s.log.Debug("qualify send", "ext", string(ext), "err", err)
		return false
	}
	defer tx.Terminate()
	select {
	case <-tx.Responses():
		// Any response, even 404 or 405, proves the contact is there.
		return true
	case <-tx.Done():
		return false
	case <-ctx.Done():
		return false
	}
}

// qualifyLoop pings every contact each QualifyInterval.
func (s *Server) qualifyLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.QualifyInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.qualifyRound(ctx)
		}
	}
}

// qualifyRound pings every current contact once and applies the results.
func (s *Server) qualifyRound(ctx context.Context) {
	type target struct {
		ext Extension
		b   Binding
	}
	var targets []target
	now := s.now()
	s.mu.Lock()
	for ext, bs := range s.bindings {
		for _, b := range live(bs, now) {
			targets = append(targets, target{ext, b})
		}
	}
	s.mu.Unlock()

	sem := make(chan struct{}, qualifyParallel)
	var wg sync.WaitGroup
	for _, tg := range targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok := s.ping(ctx, tg.ext, tg.b)
			if ctx.Err() == nil {
				s.qualified(tg.ext, tg.b.Contact, ok)
			}
		}()
	}
	wg.Wait()
}

// qualified applies one OPTIONS result to the binding ext/contact.
func (s *Server) qualified(ext Extension, contact string, answered bool) {
	s.mu.Lock()
	bs := s.bindings[ext]
	changed := false
	for i := range bs {
		b := &bs[i]
		if b.Contact != contact {
			continue
		}
		if answered {
			b.misses = 0
			if !b.Available {
				b.Available, changed = true, true
			}
		} else {
			b.misses++
			if b.Available && b.misses >= s.cfg.QualifyMisses {
				b.Available, changed = false, true
			}
		}
	}
	avail := available(bs)
	if changed {
		if err := s.save(ext, bs); err != nil {
			s.log.Error("save bindings", "ext", string(ext), "err", err)
		}
	}
	s.mu.Unlock()
	if changed {
		s.log.Info("contact availability changed", "ext", string(ext), "contact", contact, "answered", answered)
		s.notify(ext, avail)
	}
}
