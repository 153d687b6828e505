package webui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// Trunks is the SIP side of the carrier trunks, as the API needs it: live
// status and SIP traces on demand. The appliance adapts pbx/sip's trunks to
// it; nil in Options means no SIP front (status "unknown", trace 503).
type Trunks interface {
	// Status is the trunk's live state; false when the SIP side does not
	// run it (disabled, or not loaded yet).
	Status(name string) (TrunkStatus, bool)
	// Trace logs the trunk's SIP messages for d.
	Trace(name string, d time.Duration) error
}

// TrunkStatus is a trunk's live state (pbx/sip's TrunkStatus, as the API
// shows it).
type TrunkStatus struct {
	Registered      bool      `json:"registered"`                // the carrier accepted the last REGISTER (never for ip trunks)
	RegisteredUntil time.Time `json:"registered_until,omitzero"` // when that registration lapses
	Up              bool      `json:"options_up"`                // the carrier answers OPTIONS
	LastError       string    `json:"last_error,omitempty"`      // the last registration failure, cleared by a success
	LastChange      time.Time `json:"last_change,omitzero"`      // when Registered or Up last changed
	CallsActive     int       `json:"calls_active"`              // calls through the trunk now
}

// Trace durations: the default when none is given, and the longest, so a
// forgotten trace does not fill the log for days.
const (
	defaultTraceSeconds = 60
	maxTraceSeconds     = 3600
)

// trunkView is a trunk as the API shows it: never its secret.
type trunkView struct {
	Name            string    `json:"name"`
	Kind            string    `json:"kind"`
	Host            string    `json:"host"`
	Port            int       `json:"port"`
	Transport       string    `json:"transport"`
	Username        string    `json:"username"`
	AuthUsername    string    `json:"auth_username"`
	HasSecret       bool      `json:"has_secret"`
	Realm           string    `json:"realm"`
	FromDomain      string    `json:"from_domain"`
	Expires         int       `json:"expires"`
	Addresses       []string  `json:"addresses"`
	MaxCalls        int       `json:"max_calls"`
	CallsPerMinute  int       `json:"calls_per_minute"`
	Codecs          []string  `json:"codecs"`
	DTMFMode        string    `json:"dtmf_mode"`
	CalledFrom      string    `json:"called_from"`
	CallerFrom      string    `json:"caller_from"`
	OptionsInterval int       `json:"options_interval"`
	Disabled        bool      `json:"disabled"`
	Created         time.Time `json:"created"`
	Updated         time.Time `json:"updated"`
}

func newTrunkView(t store.Trunk) trunkView {
	return trunkView{Name: t.Name, Kind: string(t.Kind), Host: t.Host, Port: t.Port, Transport: t.Transport,
		Username: t.Username, AuthUsername: t.AuthUsername, HasSecret: t.HasSecret(), Realm: t.Realm,
		FromDomain: t.FromDomain, Expires: t.Expires, Addresses: orEmpty(t.Addresses), MaxCalls: t.MaxCalls,
		CallsPerMinute: t.CallsPerMinute, Codecs: orEmpty(t.Codecs), DTMFMode: t.DTMFMode, CalledFrom: t.CalledFrom,
		CallerFrom: t.CallerFrom, OptionsInterval: t.OptionsInterval, Disabled: t.Disabled,
		Created: t.Created, Updated: t.Updated}
}

// orEmpty shows a missing list as [] rather than null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nilIfEmpty stores an empty list as none, as provision does, so the API
// and apply write the same record.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// checkFailed turns a provision Check error (errors.Join of
// *provision.FieldError) into one 400 naming the first field, under
// prefix, with every problem listed. Paths that are empty name prefix
// itself.
func checkFailed(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var probs []problem
	for _, fe := range fieldErrors(err) {
		probs = append(probs, problem{Path: joinField(prefix, fe.Path), Problem: fe.Problem})
	}
	ae := errBadRequest(probs[0].Path, probs[0].Problem)
	if len(probs) > 1 {
		ae.Problems = probs
	}
	return ae
}

// fieldErrors flattens a joined error into its *provision.FieldError parts;
// any other error becomes a problem without a path.
func fieldErrors(err error) []*provision.FieldError {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*provision.FieldError
		for _, e := range j.Unwrap() {
			out = append(out, fieldErrors(e)...)
		}
		return out
	}
	var fe *provision.FieldError
	if errors.As(err, &fe) {
		return []*provision.FieldError{fe}
	}
	return []*provision.FieldError{{Problem: err.Error()}}
}

func joinField(prefix, path string) string {
	switch {
	case path == "":
		return prefix
	case prefix == "":
		return path
	}
	return prefix + "." + path
}

// errExists is the 409 for a create whose key is taken.
func errExists(field, msg string) error {
	return &apiError{Status: http.StatusConflict, Code: "exists", Field: field, Message: msg}
}

// errInUse is the 409 for deleting what something else still names.
func errInUse(msg string) error {
	return &apiError{Status: http.StatusConflict, Code: "in_use", Message: msg}
}

// audit appends one audit-log entry for the request's user in tx.
func (s *Server) audit(c *fiber.Ctx, tx *store.Tx, action, object, detail string) error {
	return tx.AddAudit(store.AuditEntry{Time: s.now(), User: principalOf(c).user.Name, Action: action, Object: object, Detail: detail})
}

// trunkRequest is a trunk as POST takes it; PATCH takes the same fields,
// each optional (trunkPatch).
type trunkRequest struct {
	Name            string   `json:"name"`
	Kind            string   `json:"kind"`
	Host            string   `json:"host"`
	Port            int      `json:"port"`
	Transport       string   `json:"transport"`
	Username        string   `json:"username"`
	AuthUsername    string   `json:"auth_username"`
	Secret          string   `json:"secret"`
	Realm           string   `json:"realm"`
	FromDomain      string   `json:"from_domain"`
	Expires         int      `json:"expires"`
	Addresses       []string `json:"addresses"`
	MaxCalls        int      `json:"max_calls"`
	CallsPerMinute  int      `json:"calls_per_minute"`
	Codecs          []string `json:"codecs"`
	DTMFMode        string   `json:"dtmf_mode"`
	CalledFrom      string   `json:"called_from"`
	CallerFrom      string   `json:"caller_from"`
	OptionsInterval int      `json:"options_interval"`
	Disabled        bool     `json:"disabled"`
}

// errRegisterNeedsSecret words provision's rule for the API.
var errRegisterNeedsSecret = errBadRequest("secret", "a register trunk needs secret (its carrier's digest password)")

// normalTrunk puts t's values in their stored forms (as provision does).
func normalTrunk(t *store.Trunk) {
	t.DTMFMode = provision.NormalDTMFMode(t.DTMFMode)
	t.Addresses, t.Codecs = nilIfEmpty(t.Addresses), nilIfEmpty(t.Codecs)
}

// sealSecret checks and seals a new trunk secret. It runs before the
// write transaction: sealing may create the key file, which is not part
// of the database.
func (s *Server) sealSecret(name, secret string) (string, error) {
	if err := checkFailed("secret", provision.CheckTrunkSecret(secret)); err != nil {
		return "", err
	}
	return s.opts.Store.SealTrunkSecret(name, secret)
}

func (s *Server) listTrunks(c *fiber.Ctx) error {
	out := []trunkView{}
	err := s.opts.Store.View(func(tx *store.Tx) error {
		ts, err := tx.Trunks()
		for _, t := range ts {
			out = append(out, newTrunkView(t))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"trunks": out})
}

func (s *Server) getTrunk(c *fiber.Ctx) error {
	var t store.Trunk
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		t, err = tx.Trunk(param(c, "name"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(newTrunkView(t))
}

func (s *Server) createTrunk(c *fiber.Ctx) error {
	var req trunkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if err := checkFailed("name", provision.CheckObjectName(req.Name)); err != nil {
		return err
	}
	t := store.Trunk{Name: req.Name, Kind: store.TrunkKind(req.Kind), Host: req.Host, Port: req.Port,
		Transport: req.Transport, Username: req.Username, AuthUsername: req.AuthUsername, Realm: req.Realm,
		FromDomain: req.FromDomain, Expires: req.Expires, Addresses: req.Addresses, MaxCalls: req.MaxCalls,
		CallsPerMinute: req.CallsPerMinute, Codecs: req.Codecs, DTMFMode: req.DTMFMode, CalledFrom: req.CalledFrom,
		CallerFrom: req.CallerFrom, OptionsInterval: req.OptionsInterval, Disabled: req.Disabled}
	if err := checkFailed("", provision.CheckTrunk(t)); err != nil {
		return err
	}
	normalTrunk(&t)
	switch {
	case req.Secret != "":
		sealed, err := s.sealSecret(t.Name, req.Secret)
		if err != nil {
			return err
		}
		t.SealedSecret = sealed
	case t.Kind == store.TrunkRegister:
		return errRegisterNeedsSecret
	}
	now := s.now()
	t.Created, t.Updated = now, now
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.Trunk(t.Name); err == nil {
			return errExists("name", fmt.Sprintf("trunk %q already exists", t.Name))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutTrunk(t); err != nil {
			return err
		}
		return s.audit(c, tx, "trunk.create", "trunk:"+t.Name, "")
	})
	if err != nil {
		return err
	}
	v := newTrunkView(t)
	s.opts.Bus.Publish("trunk.created", "trunk:"+t.Name, v)
	return c.Status(fiber.StatusCreated).JSON(v)
}

// trunkPatch is a PATCH body: only the fields sent change. "secret"
// replaces the stored secret; "" removes it (refused for a register trunk).
type trunkPatch struct {
	Kind            *string   `json:"kind"`
	Host            *string   `json:"host"`
	Port            *int      `json:"port"`
	Transport       *string   `json:"transport"`
	Username        *string   `json:"username"`
	AuthUsername    *string   `json:"auth_username"`
	Secret          *string   `json:"secret"`
	Realm           *string   `json:"realm"`
	FromDomain      *string   `json:"from_domain"`
	Expires         *int      `json:"expires"`
	Addresses       *[]string `json:"addresses"`
	MaxCalls        *int      `json:"max_calls"`
	CallsPerMinute  *int      `json:"calls_per_minute"`
	Codecs          *[]string `json:"codecs"`
	DTMFMode        *string   `json:"dtmf_mode"`
	CalledFrom      *string   `json:"called_from"`
	CallerFrom      *string   `json:"caller_from"`
	OptionsInterval *int      `json:"options_interval"`
	Disabled        *bool     `json:"disabled"`
}

// apply copies the patch's fields (not the secret) into t and returns the
// names of those sent.
func (p trunkPatch) apply(t *store.Trunk) []string {
	var fields []string
	str := func(name string, dst *string, src *string) {
		if src != nil {
			*dst = *src
			fields = append(fields, name)
		}
	}
	num := func(name string, dst *int, src *int) {
		if src != nil {
			*dst = *src
			fields = append(fields, name)
		}
	}
	list := func(name string, dst *[]string, src *[]string) {
		if src != nil {
			*dst = *src
			fields = append(fields, name)
		}
	}
	if p.Kind != nil {
		t.Kind = store.TrunkKind(*p.Kind)
		fields = append(fields, "kind")
	}
	str("host", &t.Host, p.Host)
	num("port", &t.Port, p.Port)
	str("transport", &t.Transport, p.Transport)
	str("username", &t.Username, p.Username)
	str("auth_username", &t.AuthUsername, p.AuthUsername)
	str("realm", &t.Realm, p.Realm)
	str("from_domain", &t.FromDomain, p.FromDomain)
	num("expires", &t.Expires, p.Expires)
	list("addresses", &t.Addresses, p.Addresses)
	num("max_calls", &t.MaxCalls, p.MaxCalls)
	num("calls_per_minute", &t.CallsPerMinute, p.CallsPerMinute)
	list("codecs", &t.Codecs, p.Codecs)
	str("dtmf_mode", &t.DTMFMode, p.DTMFMode)
	str("called_from", &t.CalledFrom, p.CalledFrom)
	str("caller_from", &t.CallerFrom, p.CallerFrom)
	num("options_interval", &t.OptionsInterval, p.OptionsInterval)
	if p.Disabled != nil {
		t.Disabled = *p.Disabled
		fields = append(fields, "disabled")
	}
	return fields
}

func (s *Server) updateTrunk(c *fiber.Ctx) error {
	var req trunkPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	name := param(c, "name")
	var sealed string
	if req.Secret != nil && *req.Secret != "" {
		var err error
		if sealed, err = s.sealSecret(name, *req.Secret); err != nil {
			return err
		}
	}
	var t store.Trunk
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if t, err = tx.Trunk(name); err != nil {
			return err
		}
		fields := req.apply(&t)
		if err := checkFailed("", provision.CheckTrunk(t)); err != nil {
			return err
		}
		normalTrunk(&t)
		if req.Secret != nil {
			t.SealedSecret = sealed
			fields = append(fields, "secret")
		}
		if t.Kind == store.TrunkRegister && t.SealedSecret == "" {
			return errRegisterNeedsSecret
		}
		t.Updated = s.now()
		if err := tx.PutTrunk(t); err != nil {
			return err
		}
		return s.audit(c, tx, "trunk.update", "trunk:"+name, strings.Join(fields, ","))
	})
	if err != nil {
		return err
	}
	v := newTrunkView(t)
	s.opts.Bus.Publish("trunk.updated", "trunk:"+name, v)
	return c.JSON(v)
}

// trunkUsers names what refers to trunk name: the first outbound route
// that lists it, or else the first DID restricted to it; "" when nothing.
func trunkUsers(tx *store.Tx, name string) (string, error) {
	routes, err := tx.OutboundRoutes()
	if err != nil {
		return "", err
	}
	for _, r := range routes {
		for _, t := range r.Trunks {
			if t == name {
				return fmt.Sprintf("trunk %q is used by outbound route %q; remove it from the route first", name, r.Name), nil
			}
		}
	}
	dids, err := tx.DIDs()
	if err != nil {
		return "", err
	}
	for _, d := range dids {
		if d.Trunk == name {
			return fmt.Sprintf("trunk %q is named by DID %s; change the DID first", name, d.Number), nil
		}
	}
	return "", nil
}

func (s *Server) deleteTrunk(c *fiber.Ctx) error {
	name := param(c, "name")
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.Trunk(name); err != nil {
			return err
		}
		if msg, err := trunkUsers(tx, name); err != nil {
			return err
		} else if msg != "" {
			return errInUse(msg)
		}
		if err := tx.DeleteTrunk(name); err != nil {
			return err
		}
		return s.audit(c, tx, "trunk.delete", "trunk:"+name, "")
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("trunk.deleted", "trunk:"+name, fiber.Map{"name": name})
	return c.SendStatus(fiber.StatusNoContent)
}

// trunkStatusView is GET /trunks/:name/status. State sums it up: "up"
// (reachable, and registered when it registers), "down", "disabled", or
// "unknown" when the SIP side does not report the trunk.
type trunkStatusView struct {
	Name  string `json:"name"`
	State string `json:"state"`
	TrunkStatus
}

func (s *Server) trunkStatus(c *fiber.Ctx) error {
	var t store.Trunk
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		t, err = tx.Trunk(param(c, "name"))
		return err
	})
	if err != nil {
		return err
	}
	v := trunkStatusView{Name: t.Name, State: "unknown"}
	if t.Disabled {
		v.State = "disabled"
	}
	if s.opts.Trunks != nil {
		if st, ok := s.opts.Trunks.Status(t.Name); ok {
			v.TrunkStatus = st
			switch {
			case t.Disabled:
			case st.Up && (t.Kind != store.TrunkRegister || st.Registered):
				v.State = "up"
			default:
				v.State = "down"
			}
		}
	}
	return c.JSON(v)
}

type traceRequest struct {
	Seconds int `json:"seconds"` // 0 = defaultTraceSeconds
}

// traceTrunk logs the trunk's SIP messages for a while (OPS-2): the body
// is optional ({"seconds": 60}).
func (s *Server) traceTrunk(c *fiber.Ctx) error {
	var req traceRequest
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	if req.Seconds < 0 || req.Seconds > maxTraceSeconds {
		return errBadRequest("seconds", fmt.Sprintf("must be 0 (%d) to %d", defaultTraceSeconds, maxTraceSeconds))
	}
	if req.Seconds == 0 {
		req.Seconds = defaultTraceSeconds
	}
	name := param(c, "name")
	err := s.opts.Store.View(func(tx *store.Tx) error {
		_, err := tx.Trunk(name)
		return err
	})
	if err != nil {
		return err
	}
	if s.opts.Trunks == nil {
		return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the SIP side is not running; no trace can be taken"}
	}
	d := time.Duration(req.Seconds) * time.Second
	if err := s.opts.Trunks.Trace(name, d); err != nil {
		s.log.Warn("trunk trace refused", "trunk", name, "err", err)
		return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the trunk is not running (disabled or not loaded yet); see the appliance log"}
	}
	err = s.opts.Store.Update(func(tx *store.Tx) error {
		return s.audit(c, tx, "trunk.trace", "trunk:"+name, fmt.Sprintf("%ds", req.Seconds))
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"name": name, "seconds": req.Seconds, "until": s.now().Add(d)})
}
