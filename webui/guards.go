package webui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// ---- blacklist ----

type blacklistView struct {
	Number      string    `json:"number"`
	Direction   string    `json:"direction"` // inbound, outbound, both
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func newBlacklistView(e store.BlacklistEntry) blacklistView {
	return blacklistView{Number: e.Number, Direction: string(e.Direction), Description: e.Description, Created: e.Created, Updated: e.Updated}
}

// blacklistSubject is the event subject of an entry: a number is listed
// once per direction.
func blacklistSubject(e store.BlacklistEntry) string {
	return "blacklist:" + string(e.Direction) + ":" + e.Number
}

// findBlacklistEntry finds the entry for number in direction, written any
// way (the call layer compares numbers normalized, so "+8613800138000"
// and "13800138000" are one entry).
func findBlacklistEntry(tx *store.Tx, number string, dir store.Direction) (store.BlacklistEntry, error) {
	e, err := tx.BlacklistEntry(number, dir)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return e, err
	}
	key, ok := numberKey(number)
	if !ok {
		return store.BlacklistEntry{}, store.ErrNotFound
	}
	all, err := tx.Blacklist()
	if err != nil {
		return store.BlacklistEntry{}, err
	}
	for _, e := range all {
		if k, ok := numberKey(e.Number); ok && k == key && e.Direction == dir {
			return e, nil
		}
	}
	return store.BlacklistEntry{}, store.ErrNotFound
}

func (s *Server) listBlacklist(c *fiber.Ctx) error {
	out := []blacklistView{}
	err := s.opts.Store.View(func(tx *store.Tx) error {
		all, err := tx.Blacklist()
		for _, e := range all {
			out = append(out, newBlacklistView(e))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"blacklist": out})
}

type blacklistRequest struct {
	Number      string `json:"number"`
	Direction   string `json:"direction"`
	Description string `json:"description"`
}

func (s *Server) createBlacklistEntry(c *fiber.Ctx) error {
	var req blacklistRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e := store.BlacklistEntry{Number: strings.TrimSpace(req.Number), Direction: store.Direction(req.Direction), Description: req.Description}
	if err := checkFailed("", provision.CheckBlacklistEntry(e)); err != nil {
		return err
	}
	now := s.now()
	e.Created, e.Updated = now, now
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if old, err := findBlacklistEntry(tx, e.Number, e.Direction); err == nil {
			return errExists("number", fmt.Sprintf("%s is already blacklisted for %s calls", old.Number, old.Direction))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutBlacklistEntry(e); err != nil {
			return err
		}
		return s.audit(c, tx, "blacklist.create", blacklistSubject(e), e.Description)
	})
	if err != nil {
		return err
	}
	v := newBlacklistView(e)
	s.opts.Bus.Publish("blacklist.created", blacklistSubject(e), v)
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) deleteBlacklistEntry(c *fiber.Ctx) error {
	dir := store.Direction(param(c, "direction"))
	if !dir.Valid() {
		return errBadRequest("direction", fmt.Sprintf("unknown direction %q (inbound, outbound or both)", dir))
	}
	var e store.BlacklistEntry
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if e, err = findBlacklistEntry(tx, pathNumber(c, "number"), dir); err != nil {
			return err
		}
		if err := tx.DeleteBlacklistEntry(e.Number, e.Direction); err != nil {
			return err
		}
		return s.audit(c, tx, "blacklist.delete", blacklistSubject(e), "")
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("blacklist.deleted", blacklistSubject(e), fiber.Map{"number": e.Number, "direction": e.Direction})
	return c.SendStatus(fiber.StatusNoContent)
}

// ---- outbound policy ----

// dayNames are the API's day names (the configuration document's),
// indexed by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// hoursView is the business-hours window as people write it.
type hoursView struct {
	Days     []string `json:"days"`               // mon tue wed thu fri sat sun
	From     string   `json:"from"`               // "09:00"
	To       string   `json:"to"`                 // "18:00"; "24:00" is the end of the day
	Timezone string   `json:"timezone,omitempty"` // IANA name; "" = the box's local time
}

type policyView struct {
	Emergency               []string  `json:"emergency"`
	AllowPrefixes           []string  `json:"allow_prefixes"`
	DenyPrefixes            []string  `json:"deny_prefixes"`
	International           bool      `json:"international"`
	Premium                 bool      `json:"premium"`
	PremiumPrefixes         []string  `json:"premium_prefixes"`           // [] = the built-in list
	ExtensionCallsPerMinute int       `json:"extension_calls_per_minute"` // 0 = 10
	ExtensionMaxOutbound    int       `json:"extension_max_outbound"`     // 0 = the extension's max_calls
	LockOutsideHours        bool      `json:"lock_outside_hours"`
	BusinessHours           hoursView `json:"business_hours"`
	Updated                 time.Time `json:"updated,omitzero"` // absent while the defaults apply
}

func newPolicyView(p store.OutboundPolicy) policyView {
	h := hoursView{Days: []string{}, From: formatClock(p.BusinessHours.From), To: formatClock(p.BusinessHours.To), Timezone: p.BusinessHours.Timezone}
	for _, d := range weekOrder() {
		if p.BusinessHours.Days[d] {
			h.Days = append(h.Days, dayNames[d])
		}
	}
	return policyView{Emergency: orEmpty(p.Emergency), AllowPrefixes: orEmpty(p.AllowPrefixes), DenyPrefixes: orEmpty(p.DenyPrefixes),
		International: p.International, Premium: p.Premium, PremiumPrefixes: orEmpty(p.PremiumPrefixes),
		ExtensionCallsPerMinute: p.ExtensionCallsPerMinute, ExtensionMaxOutbound: p.ExtensionMaxOutbound,
		LockOutsideHours: p.LockOutsideHours, BusinessHours: h, Updated: p.Updated}
}

// weekOrder lists the days from Monday, as people list them.
func weekOrder() []time.Weekday {
	return []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
}

// policyRequest is PUT /outbound-policy: the whole policy, each omitted
// key taking its default (as in the configuration document).
type policyRequest struct {
	Emergency               []string   `json:"emergency"` // omitted or []: 110, 119, 120, 122
	AllowPrefixes           []string   `json:"allow_prefixes"`
	DenyPrefixes            []string   `json:"deny_prefixes"`
	International           bool       `json:"international"`
	Premium                 bool       `json:"premium"`
	PremiumPrefixes         []string   `json:"premium_prefixes"`
	ExtensionCallsPerMinute int        `json:"extension_calls_per_minute"`
	ExtensionMaxOutbound    int        `json:"extension_max_outbound"`
	LockOutsideHours        bool       `json:"lock_outside_hours"`
	BusinessHours           *hoursView `json:"business_hours"` // omitted: Monday-Friday 09:00-18:00
}

// policy converts the request, filling defaults; a day or time that does
// not read is a 400 naming it.
func (r policyRequest) policy() (store.OutboundPolicy, error) {
	def := store.DefaultOutboundPolicy()
	p := store.OutboundPolicy{Emergency: def.Emergency, AllowPrefixes: nilIfEmpty(r.AllowPrefixes),
		DenyPrefixes: nilIfEmpty(r.DenyPrefixes), International: r.International, Premium: r.Premium,
		PremiumPrefixes: nilIfEmpty(r.PremiumPrefixes), ExtensionCallsPerMinute: r.ExtensionCallsPerMinute,
		ExtensionMaxOutbound: r.ExtensionMaxOutbound, LockOutsideHours: r.LockOutsideHours, BusinessHours: def.BusinessHours}
	if len(r.Emergency) > 0 {
		p.Emergency = r.Emergency
	}
	h := r.BusinessHours
	if h == nil {
		return p, nil
	}
	var bh store.BusinessHours
	for _, d := range h.Days {
		i := slices.Index(dayNames[:], d)
		switch {
		case i < 0:
			return p, errBadRequest("business_hours.days", fmt.Sprintf("unknown day %q (mon, tue, wed, thu, fri, sat, sun)", d))
		case bh.Days[i]:
			return p, errBadRequest("business_hours.days", fmt.Sprintf("lists %s twice", d))
		}
		bh.Days[i] = true
	}
	var ok bool
	if bh.From, ok = parseClock(h.From); !ok {
		return p, errBadRequest("business_hours.from", "must be a time of day as HH:MM (00:00 to 24:00)")
	}
	if bh.To, ok = parseClock(h.To); !ok {
		return p, errBadRequest("business_hours.to", "must be a time of day as HH:MM (00:00 to 24:00)")
	}
	bh.Timezone = h.Timezone
	p.BusinessHours = bh
	return p, nil
}

// parseClock reads "HH:MM" (00:00 to 24:00) as minutes since midnight.
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, false
	}
	return hh*60 + mm, true
}

func formatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

func (s *Server) getPolicy(c *fiber.Ctx) error {
	var p store.OutboundPolicy
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		p, err = tx.OutboundPolicy()
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(newPolicyView(p))
}

func (s *Server) putPolicy(c *fiber.Ctx) error {
	var req policyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.policy()
	if err != nil {
		return err
	}
	if err := checkFailed("", provision.CheckOutboundPolicy(p)); err != nil {
		return err
	}
	err = s.opts.Store.Update(func(tx *store.Tx) error {
		if err := tx.PutOutboundPolicy(p); err != nil {
			return err
		}
		if p, err = tx.OutboundPolicy(); err != nil {
			return err
		}
		return s.audit(c, tx, "outbound_policy.update", "outbound_policy", "")
	})
	if err != nil {
		return err
	}
	v := newPolicyView(p)
	s.opts.Bus.Publish("outbound_policy.updated", "outbound_policy", v)
	return c.JSON(v)
}
