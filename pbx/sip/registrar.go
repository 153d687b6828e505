package sip

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// maxContacts bounds the contacts one extension may register, so a
// misbehaving phone cannot grow the table or the fan-out of a call.
const maxContacts = 16

// ErrBadRegister is wrapped by parseRegister for a REGISTER that breaks RFC 3261 §10.
var ErrBadRegister = errors.New("sip: malformed REGISTER")

// regOp is one contact's requested change.
type regOp struct {
	uri     string
	expires time.Duration // 0 removes
}

// regRequest is the parsed meaning of a REGISTER: a query, a wildcard
// removal, or a list of contact changes.
type regRequest struct {
	wildcard bool
	ops      []regOp
	tooBrief bool
}

// parseRegister reads Contact and Expires of a REGISTER (RFC 3261 §10.3
// steps 6-7). Contacts are sipgo-parsed headers; expiry values are ours.
func parseRegister(req *sip.Request, minExp, maxExp, defExp time.Duration) (regRequest, error) {
	var r regRequest
	hdrExp, hasHdr := time.Duration(0), false
	if h := req.GetHeader("Expires"); h != nil {
		d, err := parseDelta(h.Value())
		if err != nil {
			return r, fmt.Errorf("Expires: %w", err)
		}
		hdrExp, hasHdr = d, true
	}
	contacts := req.GetHeaders("Contact")
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return r, fmt.Errorf("Contact: %w", ErrBadRegister)
		}
		if c.Address.Wildcard {
			// "*" only alone and with Expires: 0 (§10.2.2).
			if len(contacts) != 1 || !hasHdr || hdrExp != 0 {
				return r, fmt.Errorf("Contact *: %w", ErrBadRegister)
			}
			r.wildcard = true
			return r, nil
		}
		if c.Address.Host == "" {
			return r, fmt.Errorf("Contact host: %w", ErrBadRegister)
		}
		exp := defExp
		if hasHdr {
			exp = hdrExp
		}
		if v, ok := c.Params.Get("expires"); ok {
			d, err := parseDelta(v)
			if err != nil {
				return r, fmt.Errorf("Contact expires: %w", err)
			}
			exp = d
		}
		if exp != 0 && exp < minExp {
			r.tooBrief = true
		}
		exp = min(exp, maxExp)
		r.ops = append(r.ops, regOp{uri: c.Address.String(), expires: exp})
	}
	if len(r.ops) > maxContacts {
		return r, fmt.Errorf("%d contacts: %w", len(r.ops), ErrBadRegister)
	}
	return r, nil
}

// parseDelta reads a delta-seconds value (RFC 3261 §25.1), capping absurd
// values rather than overflowing.
func parseDelta(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 10 {
		return 0, ErrBadRegister
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, ErrBadRegister
	}
	return time.Duration(n) * time.Second, nil
}

// handleRegister is the registrar (RFC 3261 §10.3).
func (s *Server) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	// Step 1-3 concern domains and Require; the box is its own single domain.
	to, cid, cseq := req.To(), req.CallID(), req.CSeq()
	if to == nil || cid == nil || cseq == nil || req.From() == nil {
		s.respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	// A request that cannot be understood is refused before any challenge:
	// answering 400 says nothing about which extensions exist.
	r, err := parseRegister(req, s.cfg.MinExpires, s.cfg.MaxExpires, s.cfg.DefaultExpires)
	if err != nil {
		s.respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	// Step 4: authenticate.
	ext, ok := s.Authenticate(req, tx)
	if !ok {
		return
	}
	// Step 5: the authenticated user may only register its own address of record.
	if Extension(to.Address.User) != ext {
		s.respond(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	if r.tooBrief {
		s.respond(tx, req, sip.StatusIntervalToBrief, "Interval Too Brief",
			sip.NewHeader("Min-Expires", strconv.Itoa(int(s.cfg.MinExpires/time.Second))))
		return
	}
	now := s.now()
	s.mu.Lock()
	cur := live(s.bindings[ext], now)
	next := slices.Clone(cur)
	if r.wildcard {
		next = nil
	}
	for _, op := range r.ops {
		i := slices.IndexFunc(next, func(b Binding) bool { return b.Contact == op.uri })
		if i >= 0 && next[i].CallID == string(*cid) && next[i].CSeq >= cseq.SeqNo {
			// Step 7: an older or repeated request of the same registration.
			s.mu.Unlock()
			s.respond(tx, req, sip.StatusInternalServerError, "Out of Order")
			return
		}
		if op.expires == 0 {
			if i >= 0 {
				next = slices.Delete(next, i, i+1)
			}
			continue
		}
		b := Binding{
			Contact:   op.uri,
			Source:    req.Source(),
			Transport: transportOf(req),
			Expires:   now.Add(op.expires),
			CallID:    string(*cid),
			CSeq:      cseq.SeqNo,
			Available: true,
		}
		if h := req.GetHeader("User-Agent"); h != nil {
			b.UserAgent = truncate(h.Value(), 128)
		}
		if i >= 0 {
			next[i] = b
		} else {
			next = append(next, b)
		}
	}
	if len(next) > maxContacts {
		s.mu.Unlock()
		s.respond(tx, req, sip.StatusForbidden, "Too Many Contacts")
		return
	}
	changed := len(r.ops) > 0 || r.wildcard
	if changed {
		if err := s.save(ext, next); err != nil {
			s.mu.Unlock()
			s.log.Error("save bindings", "ext", string(ext), "err", err)
			s.respond(tx, req, sip.StatusInternalServerError, "Server Error")
			return
		}
		s.setBindings(ext, next)
	}
	avail := available(next)
	// Step 8: 200 listing every current binding, read under the lock:
	// qualify updates the table's bindings in place.
	hs := make([]sip.Header, 0, len(next)+1)
	for _, b := range next {
		hs = append(hs, sip.NewHeader("Contact", fmt.Sprintf("<%s>;expires=%d", b.Contact, int(b.Expires.Sub(now).Round(time.Second)/time.Second))))
	}
	s.mu.Unlock()
	if changed {
		s.log.Info("register", "ext", string(ext), "contacts", len(next), "source", req.Source(), "transport", transportOf(req).String())
		s.notify(ext, avail)
	}
	hs = append(hs, sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	s.respond(tx, req, sip.StatusOK, "OK", hs...)
}

// save hands the store a copy: the table's slices are updated in place later.
func (s *Server) save(ext Extension, bs []Binding) error {
	return s.deps.Store.SaveBindings(ext, slices.Clone(bs))
}

// setBindings replaces ext's bindings and refreshes the gauge; s.mu held.
func (s *Server) setBindings(ext Extension, b []Binding) {
	if len(b) == 0 {
		delete(s.bindings, ext)
	} else {
		s.bindings[ext] = b
	}
	n := 0
	for _, bs := range s.bindings {
		n += len(bs)
	}
	s.metrics.registrations.Set(float64(n))
}

func (s *Server) notify(ext Extension, avail int) {
	if s.deps.OnChange != nil {
		s.deps.OnChange(ext, avail)
	}
}

// live returns the bindings that have not expired at now.
func live(bs []Binding, now time.Time) []Binding {
	out := make([]Binding, 0, len(bs))
	for _, b := range bs {
		if now.Before(b.Expires) {
			out = append(out, b)
		}
	}
	return out
}

func available(bs []Binding) int {
	n := 0
	for _, b := range bs {
		if b.Available {
			n++
		}
	}
	return n
}

func transportOf(req *sip.Request) Transport {
	t, err := ParseTransport(req.Transport())
	if err != nil {
		return TransportUnknown
	}
	return t
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Lookup returns the contacts of ext to ring now: registered, unexpired and
// answering OPTIONS. Send requests to them with Request.
func (s *Server) Lookup(ext Extension) []Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Binding
	for _, b := range live(s.bindings[ext], s.now()) {
		if b.Available {
			out = append(out, b)
		}
	}
	return out
}

// Bindings returns every unexpired contact of ext, available or not, for display.
func (s *Server) Bindings(ext Extension) []Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return live(s.bindings[ext], s.now())
}

// sweep removes expired bindings, saving and reporting each changed extension.
func (s *Server) sweep() {
	now := s.now()
	type change struct {
		ext   Extension
		avail int
	}
	var changes []change
	s.mu.Lock()
	for ext, bs := range s.bindings {
		l := live(bs, now)
		if len(l) == len(bs) {
			continue
		}
		if err := s.save(ext, l); err != nil {
			s.log.Error("save bindings", "ext", string(ext), "err", err)
		}
		s.setBindings(ext, l)
		changes = append(changes, change{ext, available(l)})
	}
	s.mu.Unlock()
	for _, c := range changes {
		s.log.Info("registration expired", "ext", string(c.ext), "available", c.avail)
		s.notify(c.ext, c.avail)
	}
}

// load reads the stored bindings, keeping the unexpired ones.
func (s *Server) load() error {
	stored, err := s.deps.Store.LoadBindings()
	if err != nil {
		return fmt.Errorf("load bindings: %w", err)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for ext, bs := range stored {
		if l := live(bs, now); len(l) > 0 {
			s.setBindings(ext, l)
		}
	}
	return nil
}
