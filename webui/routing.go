package webui

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/dialplan"
	"github.com/gofiber/fiber/v2"
)

// numberKey is the form every comparison of outside numbers uses
// (dialplan's Number.Key): "+86 138 0013 8000" and "13800138000" share it.
// ok is false for what is not a phone number at all.
func numberKey(s string) (key string, ok bool) {
	n, err := dialplan.DefaultNumberPlan().Normalize(s)
	if err != nil {
		return "", false
	}
	key = n.Key()
	return key, key != ""
}

// param is a path parameter the handler may keep: fiber's strings point
// into the request buffer, which is reused for the next request (an event
// or the SIP side holding one would see it change).
func param(c *fiber.Ctx, name string) string { return strings.Clone(c.Params(name)) }

// pathNumber is a number from the URL path, percent-decoding it (a # is
// sent as %23).
func pathNumber(c *fiber.Ctx, name string) string {
	raw := param(c, name)
	if s, err := url.PathUnescape(raw); err == nil {
		return s
	}
	return raw
}

// destinationView is where an inbound call goes.
type destinationView struct {
	Type   string `json:"type"`
	Target string `json:"target,omitempty"`
}

func (d destinationView) store() store.Destination {
	return store.Destination{Type: store.DestinationType(d.Type), Target: d.Target}
}

// checkDestination checks a destination's values (provision's rules) and,
// in tx, that its extension exists; field names where it is.
func checkDestination(tx *store.Tx, field string, d store.Destination) error {
	if err := checkFailed(field, provision.CheckDestination(d)); err != nil {
		return err
	}
	if d.Type != store.DestExtension {
		return nil
	}
	if _, err := tx.Extension(d.Target); errors.Is(err, store.ErrNotFound) {
		return errBadRequest(joinField(field, "target"), fmt.Sprintf("extension %s does not exist", d.Target))
	} else if err != nil {
		return err
	}
	return nil
}

// checkTrunkExists: the trunk a DID or route names must be there.
func checkTrunkExists(tx *store.Tx, field, name string) error {
	if _, err := tx.Trunk(name); errors.Is(err, store.ErrNotFound) {
		return errBadRequest(field, fmt.Sprintf("trunk %q does not exist", name))
	} else if err != nil {
		return err
	}
	return nil
}

// ---- DIDs ----

type didView struct {
	Number      string          `json:"number"`
	Trunk       string          `json:"trunk"`
	Destination destinationView `json:"destination"`
	Description string          `json:"description"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
}

func newDIDView(d store.DID) didView {
	return didView{Number: d.Number, Trunk: d.Trunk, Description: d.Description, Created: d.Created, Updated: d.Updated,
		Destination: destinationView{Type: string(d.Destination.Type), Target: d.Destination.Target}}
}

// findDID finds the DID for number written any way: stored under that
// spelling, or under another spelling of the same number (a document may
// have stored "+8613800138000" where the API stores its key).
func findDID(tx *store.Tx, number string) (store.DID, error) {
	d, err := tx.DID(number)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	key, ok := numberKey(number)
	if !ok {
		return store.DID{}, store.ErrNotFound
	}
	dids, err := tx.DIDs()
	if err != nil {
		return store.DID{}, err
	}
	for _, d := range dids {
		if k, ok := numberKey(d.Number); ok && k == key {
			return d, nil
		}
	}
	return store.DID{}, store.ErrNotFound
}

func (s *Server) listDIDs(c *fiber.Ctx) error {
	out := []didView{}
	err := s.opts.Store.View(func(tx *store.Tx) error {
		dids, err := tx.DIDs()
		for _, d := range dids {
			out = append(out, newDIDView(d))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"dids": out})
}

func (s *Server) getDID(c *fiber.Ctx) error {
	var d store.DID
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		d, err = findDID(tx, pathNumber(c, "number"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(newDIDView(d))
}

type didRequest struct {
	Number      string          `json:"number"`
	Trunk       string          `json:"trunk"`
	Destination destinationView `json:"destination"`
	Description string          `json:"description"`
}

// checkDIDValues checks d with provision's rules; the number's own path is
// "number".
func checkDIDValues(d store.DID) error {
	err := provision.CheckDID(d)
	if err == nil {
		return nil
	}
	return checkFailed("", fixPath(err, "number"))
}

// fixPath gives the problems of err without a path the path empty.
func fixPath(err error, empty string) error {
	var out []error
	for _, fe := range fieldErrors(err) {
		if fe.Path == "" {
			fe = &provision.FieldError{Path: empty, Problem: fe.Problem}
		}
		out = append(out, fe)
	}
	return errors.Join(out...)
}

func (s *Server) createDID(c *fiber.Ctx) error {
	var req didRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, ok := numberKey(strings.TrimSpace(req.Number))
	if !ok {
		return errBadRequest("number", "is not a phone number (digits, optionally after a +)")
	}
	d := store.DID{Number: key, Trunk: req.Trunk, Destination: req.Destination.store(), Description: req.Description}
	if err := checkDIDValues(d); err != nil {
		return err
	}
	now := s.now()
	d.Created, d.Updated = now, now
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if old, err := findDID(tx, key); err == nil {
			return errExists("number", fmt.Sprintf("DID %s already exists", old.Number))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if d.Trunk != "" {
			if err := checkTrunkExists(tx, "trunk", d.Trunk); err != nil {
				return err
			}
		}
		if err := checkDestination(tx, "destination", d.Destination); err != nil {
			return err
		}
		if err := tx.PutDID(d); err != nil {
			return err
		}
		return s.audit(c, tx, "did.create", "did:"+d.Number, "")
	})
	if err != nil {
		return err
	}
	v := newDIDView(d)
	s.opts.Bus.Publish("did.created", "did:"+d.Number, v)
	return c.Status(fiber.StatusCreated).JSON(v)
}

type didPatch struct {
	Trunk       *string          `json:"trunk"` // "" = any trunk
	Destination *destinationView `json:"destination"`
	Description *string          `json:"description"`
}

func (s *Server) updateDID(c *fiber.Ctx) error {
	var req didPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var d store.DID
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if d, err = findDID(tx, pathNumber(c, "number")); err != nil {
			return err
		}
		var fields []string
		if req.Trunk != nil {
			d.Trunk = *req.Trunk
			fields = append(fields, "trunk")
		}
		if req.Destination != nil {
			d.Destination = req.Destination.store()
			fields = append(fields, "destination")
		}
		if req.Description != nil {
			d.Description = *req.Description
			fields = append(fields, "description")
		}
		if err := checkDIDValues(d); err != nil {
			return err
		}
		if req.Trunk != nil && d.Trunk != "" {
			if err := checkTrunkExists(tx, "trunk", d.Trunk); err != nil {
				return err
			}
		}
		if req.Destination != nil {
			if err := checkDestination(tx, "destination", d.Destination); err != nil {
				return err
			}
		}
		d.Updated = s.now()
		if err := tx.PutDID(d); err != nil {
			return err
		}
		return s.audit(c, tx, "did.update", "did:"+d.Number, strings.Join(fields, ","))
	})
	if err != nil {
		return err
	}
	v := newDIDView(d)
	s.opts.Bus.Publish("did.updated", "did:"+d.Number, v)
	return c.JSON(v)
}

func (s *Server) deleteDID(c *fiber.Ctx) error {
	var number string
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		d, err := findDID(tx, pathNumber(c, "number"))
		if err != nil {
			return err
		}
		number = d.Number
		if err := tx.DeleteDID(number); err != nil {
			return err
		}
		return s.audit(c, tx, "did.delete", "did:"+number, "")
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("did.deleted", "did:"+number, fiber.Map{"number": number})
	return c.SendStatus(fiber.StatusNoContent)
}

// ---- the inbound default ----

// destinationNone is how a request removes the inbound default (the
// configuration document's word for it).
const destinationNone = "none"

func (s *Server) getInboundDefault(c *fiber.Ctx) error {
	var d *store.Destination
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		d, err = tx.InboundDefault()
		return err
	})
	if err != nil {
		return err
	}
	if d == nil {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found",
			Message: "no default destination: calls to numbers no DID names are refused with 404"}
	}
	return c.JSON(destinationView{Type: string(d.Type), Target: d.Target})
}

// putInboundDefault sets where calls to numbers no DID names go;
// {"type": "none"} removes it (204).
func (s *Server) putInboundDefault(c *fiber.Ctx) error {
	var req destinationView
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var dest *store.Destination
	if req.Type != destinationNone {
		d := req.store()
		dest = &d
	} else if req.Target != "" {
		return errBadRequest("target", "must be left out for none")
	}
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if dest != nil {
			if err := checkDestination(tx, "", *dest); err != nil {
				return err
			}
		}
		if err := tx.SetInboundDefault(dest); err != nil {
			return err
		}
		return s.audit(c, tx, "inbound_default.update", "inbound_default", req.Type)
	})
	if err != nil {
		return err
	}
	if dest == nil {
		s.opts.Bus.Publish("inbound_default.updated", "inbound_default", fiber.Map{"destination": nil})
		return c.SendStatus(fiber.StatusNoContent)
	}
	s.opts.Bus.Publish("inbound_default.updated", "inbound_default", fiber.Map{"destination": req})
	return c.JSON(req)
}

// ---- outbound routes ----

type callerNumberView struct {
	Mode   string `json:"mode"` // extension (default), fixed, pool_region
	Number string `json:"number,omitempty"`
	Pool   string `json:"pool,omitempty"`
}

type routeView struct {
	Name            string           `json:"name"`
	Order           int              `json:"order"`
	Patterns        []string         `json:"patterns"`
	Strip           int              `json:"strip"`
	Prepend         string           `json:"prepend"`
	Trunks          []string         `json:"trunks"`
	AllowExtensions []string         `json:"allow_extensions"`
	AllowRoles      []string         `json:"allow_roles"`
	CallerNumber    callerNumberView `json:"caller_number"`
	Created         time.Time        `json:"created"`
	Updated         time.Time        `json:"updated"`
}

func newRouteView(r store.OutboundRoute) routeView {
	return routeView{Name: r.Name, Order: r.Order, Patterns: orEmpty(r.Patterns), Strip: r.Strip, Prepend: r.Prepend,
		Trunks: orEmpty(r.Trunks), AllowExtensions: orEmpty(r.AllowExtensions), AllowRoles: orEmpty(r.AllowRoles),
		CallerNumber: callerNumberView{Mode: r.CallerNumber.Mode.String(), Number: r.CallerNumber.Number, Pool: r.CallerNumber.Pool},
		Created:      r.Created, Updated: r.Updated}
}

// checkRoute checks a route's values with provision's rules and its
// patterns with dialplan's parser (the one the call layer uses), then, in
// tx, that what it names exists.
func checkRoute(tx *store.Tx, r store.OutboundRoute) error {
	if err := checkFailed("", provision.CheckOutboundRoute(r)); err != nil {
		return err
	}
	for i, p := range r.Patterns {
		if _, err := dialplan.ParsePattern(p); err != nil {
			var pe *dialplan.PatternError
			msg := "is not a dial pattern"
			if errors.As(err, &pe) {
				msg = fmt.Sprintf("position %d: %s", pe.Pos+1, pe.Msg)
			}
			return errBadRequest(fmt.Sprintf("patterns[%d]", i), msg)
		}
	}
	for _, t := range r.Trunks {
		if err := checkTrunkExists(tx, "trunks", t); err != nil {
			return err
		}
	}
	for _, e := range r.AllowExtensions {
		if _, err := tx.Extension(e); errors.Is(err, store.ErrNotFound) {
			return errBadRequest("allow_extensions", fmt.Sprintf("extension %s does not exist", e))
		} else if err != nil {
			return err
		}
	}
	if r.CallerNumber.Mode == store.CallerPoolRegion {
		if _, err := tx.CallerPool(r.CallerNumber.Pool); errors.Is(err, store.ErrNotFound) {
			return errBadRequest("caller_number.pool", fmt.Sprintf("caller pool %q does not exist", r.CallerNumber.Pool))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// normalRoute stores mode extension as "" and empty lists as none, as
// provision does.
func normalRoute(r *store.OutboundRoute) {
	if r.CallerNumber.Mode == store.CallerExtension {
		r.CallerNumber.Mode = ""
	}
	r.Patterns, r.Trunks = nilIfEmpty(r.Patterns), nilIfEmpty(r.Trunks)
	r.AllowExtensions, r.AllowRoles = nilIfEmpty(r.AllowExtensions), nilIfEmpty(r.AllowRoles)
}

func (s *Server) listRoutes(c *fiber.Ctx) error {
	out := []routeView{}
	err := s.opts.Store.View(func(tx *store.Tx) error {
		rs, err := tx.OutboundRoutes()
		for _, r := range rs {
			out = append(out, newRouteView(r))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"outbound_routes": out})
}

func (s *Server) getRoute(c *fiber.Ctx) error {
	var r store.OutboundRoute
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		r, err = tx.OutboundRoute(param(c, "name"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(newRouteView(r))
}

type routeRequest struct {
	Name            string           `json:"name"`
	Order           *int             `json:"order"` // omitted: after the last route
	Patterns        []string         `json:"patterns"`
	Strip           int              `json:"strip"`
	Prepend         string           `json:"prepend"`
	Trunks          []string         `json:"trunks"`
	AllowExtensions []string         `json:"allow_extensions"`
	AllowRoles      []string         `json:"allow_roles"`
	CallerNumber    callerNumberView `json:"caller_number"`
}

// routeOrderStep is the gap between routes appended or reordered (as the
// store leaves it), room to insert one by hand.
const routeOrderStep = 10

func (s *Server) createRoute(c *fiber.Ctx) error {
	var req routeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if err := checkFailed("name", provision.CheckObjectName(req.Name)); err != nil {
		return err
	}
	r := store.OutboundRoute{Name: req.Name, Patterns: req.Patterns, Strip: req.Strip, Prepend: req.Prepend,
		Trunks: req.Trunks, AllowExtensions: req.AllowExtensions, AllowRoles: req.AllowRoles,
		CallerNumber: store.CallerNumber{Mode: store.CallerMode(req.CallerNumber.Mode), Number: req.CallerNumber.Number, Pool: req.CallerNumber.Pool}}
	if req.Order != nil {
		r.Order = *req.Order
	}
	// The values alone first: a bad field is a 400 whatever the store holds.
	if err := checkFailed("", provision.CheckOutboundRoute(r)); err != nil {
		return err
	}
	normalRoute(&r)
	now := s.now()
	r.Created, r.Updated = now, now
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.OutboundRoute(r.Name); err == nil {
			return errExists("name", fmt.Sprintf("outbound route %q already exists", r.Name))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if req.Order == nil {
			routes, err := tx.OutboundRoutes()
			if err != nil {
				return err
			}
			if len(routes) > 0 {
				r.Order = routes[len(routes)-1].Order + routeOrderStep
			} else {
				r.Order = routeOrderStep
			}
		}
		if err := checkRoute(tx, r); err != nil {
			return err
		}
		if err := tx.PutOutboundRoute(r); err != nil {
			return err
		}
		return s.audit(c, tx, "route.create", "route:"+r.Name, "")
	})
	if err != nil {
		return err
	}
	v := newRouteView(r)
	s.opts.Bus.Publish("route.created", "route:"+r.Name, v)
	return c.Status(fiber.StatusCreated).JSON(v)
}

type routePatch struct {
	Order           *int              `json:"order"`
	Patterns        *[]string         `json:"patterns"`
	Strip           *int              `json:"strip"`
	Prepend         *string           `json:"prepend"`
	Trunks          *[]string         `json:"trunks"`
	AllowExtensions *[]string         `json:"allow_extensions"`
	AllowRoles      *[]string         `json:"allow_roles"`
	CallerNumber    *callerNumberView `json:"caller_number"`
}

func (p routePatch) apply(r *store.OutboundRoute) []string {
	var fields []string
	set := func(name string, sent bool, do func()) {
		if sent {
			do()
			fields = append(fields, name)
		}
	}
	set("order", p.Order != nil, func() { r.Order = *p.Order })
	set("patterns", p.Patterns != nil, func() { r.Patterns = *p.Patterns })
	set("strip", p.Strip != nil, func() { r.Strip = *p.Strip })
	set("prepend", p.Prepend != nil, func() { r.Prepend = *p.Prepend })
	set("trunks", p.Trunks != nil, func() { r.Trunks = *p.Trunks })
	set("allow_extensions", p.AllowExtensions != nil, func() { r.AllowExtensions = *p.AllowExtensions })
	set("allow_roles", p.AllowRoles != nil, func() { r.AllowRoles = *p.AllowRoles })
	set("caller_number", p.CallerNumber != nil, func() {
		r.CallerNumber = store.CallerNumber{Mode: store.CallerMode(p.CallerNumber.Mode), Number: p.CallerNumber.Number, Pool: p.CallerNumber.Pool}
	})
	return fields
}

func (s *Server) updateRoute(c *fiber.Ctx) error {
	var req routePatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	name := param(c, "name")
	var r store.OutboundRoute
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if r, err = tx.OutboundRoute(name); err != nil {
			return err
		}
		fields := req.apply(&r)
		if err := checkRoute(tx, r); err != nil {
			return err
		}
		normalRoute(&r)
		r.Updated = s.now()
		if err := tx.PutOutboundRoute(r); err != nil {
			return err
		}
		return s.audit(c, tx, "route.update", "route:"+name, strings.Join(fields, ","))
	})
	if err != nil {
		return err
	}
	v := newRouteView(r)
	s.opts.Bus.Publish("route.updated", "route:"+name, v)
	return c.JSON(v)
}

func (s *Server) deleteRoute(c *fiber.Ctx) error {
	name := param(c, "name")
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if err := tx.DeleteOutboundRoute(name); err != nil {
			return err
		}
		return s.audit(c, tx, "route.delete", "route:"+name, "")
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("route.deleted", "route:"+name, fiber.Map{"name": name})
	return c.SendStatus(fiber.StatusNoContent)
}

type routeOrderRequest struct {
	Names []string `json:"names"`
}

// reorderRoutes sets the order routes are tried in: names must list every
// route exactly once. Routes get orders 10, 20, 30…
func (s *Server) reorderRoutes(c *fiber.Ctx) error {
	var req routeOrderRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var out []routeView
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		routes, err := tx.OutboundRoutes()
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, r := range routes {
			known[r.Name] = true
		}
		seen := map[string]bool{}
		for _, n := range req.Names {
			switch {
			case !known[n]:
				return errBadRequest("names", fmt.Sprintf("outbound route %q does not exist", n))
			case seen[n]:
				return errBadRequest("names", fmt.Sprintf("lists %s twice", n))
			}
			seen[n] = true
		}
		for _, r := range routes {
			if !seen[r.Name] {
				return errBadRequest("names", fmt.Sprintf("leaves out outbound route %q (list every route once)", r.Name))
			}
		}
		if err := tx.ReorderOutboundRoutes(req.Names); err != nil {
			return err
		}
		if routes, err = tx.OutboundRoutes(); err != nil {
			return err
		}
		for _, r := range routes {
			out = append(out, newRouteView(r))
		}
		return s.audit(c, tx, "route.reorder", "routes", strings.Join(req.Names, ","))
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []routeView{}
	}
	s.opts.Bus.Publish("route.reordered", "routes", fiber.Map{"names": orEmpty(req.Names)})
	return c.JSON(fiber.Map{"outbound_routes": out})
}

// ---- caller pools ----

type poolNumberView struct {
	Number   string `json:"number"`
	Province string `json:"province"` // "" = from the region table when used
	City     string `json:"city"`
	MaxCalls int    `json:"max_calls"` // 0 = no limit
}

type poolView struct {
	Name    string           `json:"name"`
	Numbers []poolNumberView `json:"numbers"`
	Created time.Time        `json:"created"`
	Updated time.Time        `json:"updated"`
}

func newPoolView(p store.CallerPool) poolView {
	v := poolView{Name: p.Name, Numbers: []poolNumberView{}, Created: p.Created, Updated: p.Updated}
	for _, n := range p.Numbers {
		v.Numbers = append(v.Numbers, poolNumberView(n))
	}
	return v
}

type poolRequest struct {
	Name    string           `json:"name"` // POST only; PUT takes it from the path
	Numbers []poolNumberView `json:"numbers"`
}

func (r poolRequest) numbers() []store.PoolNumber {
	out := make([]store.PoolNumber, 0, len(r.Numbers))
	for _, n := range r.Numbers {
		n.Number = strings.TrimSpace(n.Number)
		out = append(out, store.PoolNumber(n))
	}
	return out
}

func (s *Server) listPools(c *fiber.Ctx) error {
	out := []poolView{}
	err := s.opts.Store.View(func(tx *store.Tx) error {
		ps, err := tx.CallerPools()
		for _, p := range ps {
			out = append(out, newPoolView(p))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"caller_pools": out})
}

func (s *Server) getPool(c *fiber.Ctx) error {
	var p store.CallerPool
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		p, err = tx.CallerPool(param(c, "name"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(newPoolView(p))
}

func (s *Server) createPool(c *fiber.Ctx) error {
	var req poolRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if err := checkFailed("name", provision.CheckObjectName(req.Name)); err != nil {
		return err
	}
	p := store.CallerPool{Name: req.Name, Numbers: req.numbers()}
	if err := checkFailed("", provision.CheckCallerPool(p)); err != nil {
		return err
	}
	now := s.now()
	p.Created, p.Updated = now, now
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.CallerPool(p.Name); err == nil {
			return errExists("name", fmt.Sprintf("caller pool %q already exists", p.Name))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutCallerPool(p); err != nil {
			return err
		}
		return s.audit(c, tx, "caller_pool.create", "caller_pool:"+p.Name, "")
	})
	if err != nil {
		return err
	}
	v := newPoolView(p)
	s.opts.Bus.Publish("caller_pool.created", "caller_pool:"+p.Name, v)
	return c.Status(fiber.StatusCreated).JSON(v)
}

// putPool replaces an existing pool's numbers.
func (s *Server) putPool(c *fiber.Ctx) error {
	var req poolRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	name := param(c, "name")
	if req.Name != "" && req.Name != name {
		return errBadRequest("name", "the name is the one in the path; a pool cannot be renamed")
	}
	numbers := req.numbers()
	if err := checkFailed("", provision.CheckCallerPool(store.CallerPool{Name: name, Numbers: numbers})); err != nil {
		return err
	}
	var p store.CallerPool
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if p, err = tx.CallerPool(name); err != nil {
			return err
		}
		p.Numbers, p.Updated = numbers, s.now()
		if err := tx.PutCallerPool(p); err != nil {
			return err
		}
		return s.audit(c, tx, "caller_pool.update", "caller_pool:"+name, fmt.Sprintf("%d numbers", len(numbers)))
	})
	if err != nil {
		return err
	}
	v := newPoolView(p)
	s.opts.Bus.Publish("caller_pool.updated", "caller_pool:"+name, v)
	return c.JSON(v)
}

func (s *Server) deletePool(c *fiber.Ctx) error {
	name := param(c, "name")
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.CallerPool(name); err != nil {
			return err
		}
		routes, err := tx.OutboundRoutes()
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(routes, func(r store.OutboundRoute) bool {
			return r.CallerNumber.Mode == store.CallerPoolRegion && r.CallerNumber.Pool == name
		}); i >= 0 {
			return errInUse(fmt.Sprintf("caller pool %q is used by outbound route %q; change the route first", name, routes[i].Name))
		}
		if err := tx.DeleteCallerPool(name); err != nil {
			return err
		}
		return s.audit(c, tx, "caller_pool.delete", "caller_pool:"+name, "")
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("caller_pool.deleted", "caller_pool:"+name, fiber.Map{"name": name})
	return c.SendStatus(fiber.StatusNoContent)
}
