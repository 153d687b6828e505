package webui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

const (
	sessionCookie = "ccbox_session"
	csrfHeader    = "X-CSRF-Token"
	tokenPrefix   = "ccb_"
	principalKey  = "principal"
)

// principal is who is calling: a person with a session cookie or a program
// with a bearer token, always acting as one user.
type principal struct {
	user    store.User
	session *store.Session // nil for bearer tokens
	token   *store.Token   // nil for sessions
}

func principalOf(c *fiber.Ctx) *principal {
	p, _ := c.Locals(principalKey).(*principal)
	return p
}

// authorize resolves the caller and checks the route's permission and, for
// cookie sessions, the CSRF token on anything that changes state.
func (s *Server) authorize(perm Permission) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := s.authenticate(c)
		if err != nil {
			return err
		}
		if perm == PermPublic {
			if p != nil {
				c.Locals(principalKey, p)
			}
			return c.Next()
		}
		if p == nil {
			return errUnauthenticated
		}
		if !allows(p.user.Role, perm) {
			return errForbidden
		}
		if p.session != nil && changesState(c.Method()) {
			got := c.Get(csrfHeader)
			if subtle.ConstantTimeCompare([]byte(got), []byte(p.session.CSRF)) != 1 {
				return errCSRF
			}
		}
		c.Locals(principalKey, p)
		return c.Next()
	}
}

func changesState(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// authenticate returns the caller, nil when anonymous, or an error when
// credentials were presented but are bad (a wrong bearer token is refused
// rather than silently treated as anonymous).
func (s *Server) authenticate(c *fiber.Ctx) (*principal, error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, errUnauthenticated
		}
		return s.bearer(strings.TrimSpace(raw))
	}
	id := c.Cookies(sessionCookie)
	if id == "" {
		return nil, nil
	}
	var p *principal
	err := s.opts.Store.View(func(tx *store.Tx) error {
		sess, err := tx.Session(id)
		if err != nil {
			return err
		}
		if !sess.Expires.After(s.now()) {
			return store.ErrNotFound
		}
		u, err := tx.User(sess.User)
		if err != nil {
			return err
		}
		if u.Disabled {
			return store.ErrNotFound
		}
		sess.ID = id
		p = &principal{user: u, session: &sess}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		// A stale cookie is the same as none: the browser goes to the login page.
		return nil, nil
	}
	return p, err
}

// bearer checks an API token of the form ccb_<id>_<secret>.
func (s *Server) bearer(raw string) (*principal, error) {
	rest, ok := strings.CutPrefix(raw, tokenPrefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || id == "" || secret == "" {
		return nil, errUnauthenticated
	}
	var p *principal
	err := s.opts.Store.View(func(tx *store.Tx) error {
		t, err := tx.Token(id)
		if err != nil {
			return err
		}
		if !t.Matches(secret) || t.Expired(s.now()) {
			return store.ErrNotFound
		}
		u, err := tx.User(t.User)
		if err != nil {
			return err
		}
		if u.Disabled {
			return store.ErrNotFound
		}
		p = &principal{user: u, token: &t}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthenticated
	}
	return p, err
}

// randomID returns n random bytes, URL-safe base64 encoded.
func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux; if it does, nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// meView is what a user sees of themselves.
type meView struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Role        store.Role `json:"role"`
	Language    string     `json:"language"`
	CSRFToken   string     `json:"csrf_token,omitempty"`
}

func newMeView(p *principal) meView {
	v := meView{Name: p.user.Name, DisplayName: p.user.DisplayName, Role: p.user.Role, Language: p.user.Language}
	if p.session != nil {
		v.CSRFToken = p.session.CSRF
	}
	return v
}

// login checks a password, with back-off per account and per address, and
// starts a session. Unknown users and wrong passwords get the same answer in
// the same time, so the API does not reveal which accounts exist.
func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Username = strings.TrimSpace(req.Username)
	switch {
	case req.Username == "":
		return errBadRequest("username", "enter a user name")
	case req.Password == "":
		return errBadRequest("password", "enter a password")
	}
	ip := c.IP()
	ua := c.Get(fiber.HeaderUserAgent)
	if wait := s.lockout.blocked(req.Username, ip); wait > 0 {
		s.recordLogin(req.Username, ip, ua, "locked")
		secs := int((wait + time.Second - 1) / time.Second)
		return &apiError{Status: http.StatusTooManyRequests, Code: "locked", RetryAfter: secs,
			Message: "too many failed logins; try again later"}
	}

	var u store.User
	err := s.opts.Store.View(func(tx *store.Tx) error {
		var err error
		u, err = tx.User(req.Username)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	ok, err := s.opts.Hasher.Verify(c.UserContext(), u.PasswordHash, req.Password)
	if err != nil {
		return err
	}
	if !ok {
		s.lockout.failed(req.Username, ip)
		s.recordLogin(req.Username, ip, ua, "bad_credentials")
		return errBadCredentials
	}
	if u.Disabled {
		s.recordLogin(u.Name, ip, ua, "disabled")
		return &apiError{Status: http.StatusForbidden, Code: "disabled", Message: "this account is disabled; ask an administrator"}
	}
	s.lockout.succeeded(req.Username, ip)

	now := s.now()
	sess := store.Session{
		ID:      randomID(32),
		User:    u.Name,
		CSRF:    randomID(24),
		Address: ip,
		Created: now,
		Expires: now.Add(s.opts.SessionTTL),
	}
	if err := s.opts.Store.Update(func(tx *store.Tx) error { return tx.PutSession(sess) }); err != nil {
		return err
	}
	s.recordLogin(u.Name, ip, ua, "ok")
	s.setSessionCookie(c, sess.ID, sess.Expires)
	p := &principal{user: u, session: &sess}
	return c.JSON(fiber.Map{"user": newMeView(p), "csrf_token": sess.CSRF})
}

func (s *Server) setSessionCookie(c *fiber.Ctx, id string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/",
		Expires:  expires,
		HTTPOnly: true,
		Secure:   c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// recordLogin writes the login log (ADM-3) and counts the result. A failure
// to write is logged, not returned: the person's login must not depend on it.
func (s *Server) recordLogin(user, ip, ua, result string) {
	s.metrics.logins.WithLabelValues(result).Inc()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	if len(user) > 64 {
		user = user[:64]
	}
	e := store.LoginEntry{Time: s.now(), User: user, Address: ip, Result: store.LoginResult(result), UserAgent: ua}
	if err := s.opts.Store.Update(func(tx *store.Tx) error { return tx.AddLogin(e) }); err != nil {
		s.log.Error("write login log", "err", err)
	}
	s.log.Info("login", "user", user, "address", ip, "result", result)
}

func (s *Server) logout(c *fiber.Ctx) error {
	p := principalOf(c)
	if p.session != nil {
		if err := s.opts.Store.Update(func(tx *store.Tx) error { return tx.DeleteSession(p.session.ID) }); err != nil {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), HTTPOnly: true,
		Secure: c.Protocol() == "https", SameSite: fiber.CookieSameSiteLaxMode})
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	return c.JSON(newMeView(principalOf(c)))
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changeOwnPassword needs the current password (a borrowed, unlocked screen
// must not be enough) and ends the user's other sessions.
func (s *Server) changeOwnPassword(c *fiber.Ctx) error {
	p := principalOf(c)
	var req passwordChange
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.CurrentPassword == "" {
		return errBadRequest("current_password", "enter your current password")
	}
	if err := password.Check(req.NewPassword); err != nil {
		return errBadRequest("new_password", passwordProblem(err))
	}
	ip := c.IP()
	if wait := s.lockout.blocked(p.user.Name, ip); wait > 0 {
		return &apiError{Status: http.StatusTooManyRequests, Code: "locked", RetryAfter: int(wait / time.Second),
			Message: "too many wrong passwords; try again later"}
	}
	ok, err := s.opts.Hasher.Verify(c.UserContext(), p.user.PasswordHash, req.CurrentPassword)
	if err != nil {
		return err
	}
	if !ok {
		s.lockout.failed(p.user.Name, ip)
		return &apiError{Status: http.StatusForbidden, Code: "bad_credentials", Field: "current_password", Message: "the current password is wrong"}
	}
	return s.setPassword(c, p, p.user.Name, req.NewPassword)
}

// setPassword hashes and stores a new password and ends the user's sessions
// (keeping the caller's own session when it is the same user).
func (s *Server) setPassword(c *fiber.Ctx, p *principal, name, plain string) error {
	hash, err := s.opts.Hasher.Hash(c.UserContext(), plain)
	if err != nil {
		return err
	}
	err = s.opts.Store.Update(func(tx *store.Tx) error {
		u, err := tx.User(name)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		u.PasswordChanged = s.now()
		u.Updated = u.PasswordChanged
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(name); err != nil {
			return err
		}
		if p.session != nil && p.user.Name == name {
			if err := tx.PutSession(*p.session); err != nil {
				return err
			}
		}
		return tx.AddAudit(store.AuditEntry{Time: s.now(), User: p.user.Name, Action: "password.set", Object: "user:" + name})
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("user.password_changed", "user:"+name, fiber.Map{"name": name})
	return c.SendStatus(fiber.StatusNoContent)
}

func passwordProblem(err error) string {
	switch {
	case errors.Is(err, password.ErrTooShort):
		return "use at least 8 characters"
	case errors.Is(err, password.ErrTooLong):
		return "use at most 72 bytes"
	case errors.Is(err, password.ErrBlank):
		return "a password cannot be only spaces"
	}
	return err.Error()
}
