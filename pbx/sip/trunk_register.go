package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// digestCreds are what answerChallenge needs to answer a carrier's
// 401/407: the digest username and password, and optionally the only
// realm to answer.
type digestCreds struct {
	Username string
	Password string
	Realm    string
}

// credentials returns the digest credentials of a trunk.
func (c TrunkConfig) credentials() digestCreds {
	user := c.AuthUsername
	if user == "" {
		user = c.Username
	}
	return digestCreds{Username: user, Password: c.Secret, Realm: c.Realm}
}

// ErrNoUsableChallenge is returned by answerChallenge when the response is
// not a 401/407 or offers no challenge we can answer (algorithm, qop or
// realm).
var ErrNoUsableChallenge = errors.New("sip: no usable digest challenge")

// answerChallenge builds the request to send again after req was answered
// 401 (WWW-Authenticate) or 407 (Proxy-Authenticate), RFC 3261 §22.2-22.3:
// a copy of req with the next CSeq, no Via (the client adds a new branch)
// and credentials for the strongest challenge offered (SHA-256 before
// MD5, RFC 8760 §2.4), in the realm the carrier names. It works for
// REGISTER and INVITE alike; req itself is left untouched.
func answerChallenge(req *sip.Request, res *sip.Response, creds digestCreds) (*sip.Request, error) {
	chalHdr, authHdr := "WWW-Authenticate", "Authorization"
	switch res.StatusCode {
	case sip.StatusUnauthorized:
	case sip.StatusProxyAuthRequired:
		chalHdr, authHdr = "Proxy-Authenticate", "Proxy-Authorization"
	default:
		return nil, ErrNoUsableChallenge
	}
	chal := pickStrongest(res.GetHeaders(chalHdr), creds.Realm)
	if chal == nil {
		return nil, ErrNoUsableChallenge
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: string(req.Method), URI: req.Recipient.String(),
		Username: creds.Username, Password: creds.Password, Count: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoUsableChallenge, err)
	}
	out := req.Clone()
	out.RemoveHeader(authHdr)
	out.AppendHeader(sip.NewHeader(authHdr, cred.String()))
	out.RemoveHeader("Via")
	if cs := out.CSeq(); cs != nil {
		cs.SeqNo++
	}
	return out, nil
}

// pickStrongest returns the best challenge we can answer among hs: SHA-256
// over MD5, qop=auth or none, in realm when one is required.
func pickStrongest(hs []sip.Header, realm string) *digest.Challenge {
	var best *digest.Challenge
	rank := func(c *digest.Challenge) int {
		switch strings.ToUpper(c.Algorithm) {
		case "SHA-256":
			return 2
		case "", "MD5":
			return 1
		}
		return 0
	}
	for _, h := range hs {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil || rank(c) == 0 {
			continue
		}
		// auth-int would hash the body; carriers do not ask it of SIP.
		if len(c.QOP) > 0 && !c.SupportsQOP("auth") {
			continue
		}
		if realm != "" && c.Realm != realm {
			continue
		}
		c.Algorithm = strings.ToUpper(c.Algorithm)
		if best == nil || rank(c) > rank(best) {
			best = c
		}
	}
	return best
}

// registration is the state of one trunk's registration dialog: the same
// Call-ID throughout and a rising CSeq (RFC 3261 §10.2.4).
type registration struct {
	callID string
	cseq   uint32
	// contact is the Contact we registered, to find our binding in the
	// 200's list and to remove it when unregistering.
	contact sip.Uri
}

// registerRequest builds a REGISTER asking for expires (0: unregister).
func (t *Trunks) registerRequest(tr *trunk, r *registration, expires time.Duration) *sip.Request {
	c := tr.cfg
	recipient := sip.Uri{Scheme: "sip", Host: c.Host, Port: c.Port}
	if c.Transport != TransportUDP {
		recipient.UriParams = sip.NewParams()
		recipient.UriParams.Add("transport", c.Transport.String())
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	domain := c.FromDomain
	if domain == "" {
		domain = c.Host
	}
	aor := sip.Uri{Scheme: "sip", User: c.Username, Host: domain}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(&sip.ContactHeader{Address: r.contact})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	req.AppendHeader(sip.NewHeader("User-Agent", t.srv.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", t.srv.allow()))
	req.SetBody(nil)
	return req
}

// errAuthRejected: the carrier challenged our credentials again.
var errAuthRejected = errors.New("credentials rejected")

// register sends one REGISTER for expires, answering one challenge (two
// when the second says stale=true), and returns the lifetime granted.
func (t *Trunks) register(ctx context.Context, tr *trunk, r *registration, expires time.Duration) (time.Duration, error) {
	req := t.registerRequest(tr, r, expires)
	creds := tr.cfg.credentials()
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
		res, err := t.do(rctx, tr.cfg, req)
		cancel()
		if err != nil {
			return 0, err
		}
		switch {
		case res.StatusCode >= 200 && res.StatusCode < 300:
			return grantedExpiry(res, r.contact, expires), nil
		case (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) &&
			(attempt == 0 || (attempt == 1 && staleChallenge(res))):
			next, err := answerChallenge(req, res, creds)
			if err != nil {
				return 0, fmt.Errorf("%d %s: %w", res.StatusCode, res.Reason, err)
			}
			r.cseq = next.CSeq().SeqNo
			req = next
		case res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired:
			return 0, fmt.Errorf("%d %s: %w", res.StatusCode, res.Reason, errAuthRejected)
		case res.StatusCode == sip.StatusIntervalToBrief && expires > 0 && attempt < 3:
			// 423: ask again for at least Min-Expires (RFC 3261 §10.2.8).
			min := minExpires(res)
			if min <= expires {
				return 0, fmt.Errorf("%d %s", res.StatusCode, res.Reason)
			}
			expires = min
			req = t.registerRequest(tr, r, expires)
		default:
			return 0, fmt.Errorf("%d %s", res.StatusCode, res.Reason)
		}
	}
}

func staleChallenge(res *sip.Response) bool {
	for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
		for _, h := range res.GetHeaders(name) {
			if c, err := digest.ParseChallenge(h.Value()); err == nil && c.Stale {
				return true
			}
		}
	}
	return false
}

func minExpires(res *sip.Response) time.Duration {
	h := res.GetHeader("Min-Expires")
	if h == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil || n <= 0 || n > 86400 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// grantedExpiry reads the lifetime the registrar granted our contact
// (RFC 3261 §10.2.4): its Contact's expires parameter in the 200, else the
// Expires header, else what we asked for.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	parse := func(s string) (time.Duration, bool) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 7*86400 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	var contacts []*sip.ContactHeader
	for _, h := range res.GetHeaders("Contact") {
		if ch, ok := h.(*sip.ContactHeader); ok {
			contacts = append(contacts, ch)
		}
	}
	for _, ch := range contacts {
		a := ch.Address
		if (a.User == ours.User && a.Host == ours.Host && a.Port == ours.Port) || len(contacts) == 1 {
			if v, ok := ch.Params.Get("expires"); ok {
				if d, ok := parse(v); ok {
					return d
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if d, ok := parse(h.Value()); ok {
			return d
		}
	}
	return asked
}

// refreshAfter is when to re-register: at 80 % of the granted lifetime,
// never sooner than a second (a registrar granting 0 s would otherwise be
// asked in a tight loop).
func refreshAfter(granted time.Duration) time.Duration {
	d := granted * 8 / 10
	if d < time.Second {
		d = time.Second
	}
	return d
}

// registerLoop keeps a registration trunk registered until ctx ends, then
// unregisters it when it was registered.
func (t *Trunks) registerLoop(ctx context.Context, tr *trunk, log *slog.Logger) {
	if !t.waitServing(ctx, tr.cfg.Transport) {
		return
	}
	r := &registration{callID: sip.GenerateTagN(20) + "@ccbox"}
	backoff := t.opts.RetryMin
	registered := false
	for {
		peer := t.resolve(ctx, tr)
		host, port := t.local(tr.cfg, peer)
		r.contact = sip.Uri{Scheme: "sip", User: tr.cfg.Username, Host: host.String(), Port: port}
		if tr.cfg.Transport != TransportUDP {
			r.contact.UriParams = sip.NewParams()
			r.contact.UriParams.Add("transport", tr.cfg.Transport.String())
		}
		granted, err := t.register(ctx, tr, r, tr.cfg.Expires)
		if ctx.Err() != nil {
			// Stopped mid-request: unregister if this one may have landed.
			registered = registered || (err == nil && granted > 0)
			break
		}
		var wait time.Duration
		if err != nil {
			// registered stays as it was: a binding made before this
			// failure may still be live at the carrier, and is removed
			// when the trunk stops.
			msg := err.Error()
			log.Warn("trunk registration failed", "err", err, "retry_in", backoff)
			t.update(tr, func(s *TrunkStatus) {
				s.Registered, s.RegisteredUntil, s.LastError = false, time.Time{}, msg
			})
			wait = backoff
			backoff = min(backoff*2, t.opts.RetryMax)
		} else {
			registered = granted > 0
			until := t.opts.Now().Add(granted)
			log.Debug("trunk registered", "granted", granted)
			t.update(tr, func(s *TrunkStatus) {
				s.Registered, s.RegisteredUntil, s.LastError = granted > 0, until, ""
			})
			wait = refreshAfter(granted)
			backoff = t.opts.RetryMin
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	if !registered {
		return
	}
	// Unregister with a fresh context: ours has ended.
	uctx, cancel := context.WithTimeout(context.Background(), t.opts.Timeout)
	defer cancel()
	if _, err := t.register(uctx, tr, r, 0); err != nil {
		log.Warn("trunk unregister failed", "err", err)
		return
	}
	log.Info("trunk unregistered")
}
