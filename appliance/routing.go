package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/dialplan"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/prometheus/client_golang/prometheus"
)

// routing is the dialplan as the call layer meets it: an outside number
// goes through the outbound routes, the blacklist, the outbound policy
// (emergency numbers first, then international, premium, allow and deny
// prefixes, the lock outside business hours) and the calling extension's
// rate limit, and gets its caller number (the extension's, a fixed one, or
// the pool's number nearest the callee). Every refusal is logged and
// counted in pbx_calls_blocked_total{reason}.
//
// The rules are compiled from the store into a snapshot, rebuilt when an
// event says they changed (the region table only when it was imported).
type routing struct {
	db   *store.DB
	plan dialplan.NumberPlan
	log  *slog.Logger
	now  func() time.Time
	rnd  func(n int) int

	blocked *prometheus.CounterVec

	mu      sync.Mutex
	snap    *routingSnapshot // nil: rebuild at the next lookup
	regions *dialplan.RegionTable
	stale   bool           // the region table must be reloaded
	gen     uint64         // bumped by every change: a snapshot built across one is not kept
	inUse   map[string]int // caller number → calls presenting it now
	outNow  map[string]int // extension → its outside calls now
	recent  map[string][]time.Time
}

// routingSnapshot is the compiled outbound rules.
type routingSnapshot struct {
	routes    []dialplan.Route
	blacklist *dialplan.Blacklist
	policy    dialplan.Policy
	lock      bool
	hours     dialplan.BusinessHours
	perMinute int
	maxOut    int // concurrent outside calls per extension; 0: only its call limit
	pools     map[string][]dialplan.CallerNumber
	dids      map[string]store.DID // by the number's normalized key
	fallback  *store.Destination   // the inbound default; nil: 404
}

// routingEvents are the event type prefixes after which the rules are
// compiled again.
var routingEvents = []string{"trunk.", "route.", "caller_pool.", "blacklist.", "outbound_policy.", "did.", "inbound_default.",
	"extension.", "user.", "config.applied"}

func newRouting(db *store.DB, bus *event.Bus, reg prometheus.Registerer, log *slog.Logger) (*routing, func(), error) {
	r := &routing{
		db: db, plan: dialplan.DefaultNumberPlan(), log: log, now: time.Now, rnd: rand.IntN,
		stale: true, inUse: map[string]int{}, outNow: map[string]int{}, recent: map[string][]time.Time{},
		blocked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbx_calls_blocked_total",
			Help: "Calls the box refused, by reason (blacklist, international, premium, denied, locked, rate_limit, no_route, not_allowed, trunk_origin).",
		}, []string{"reason"}),
	}
	if reg != nil {
		if err := reg.Register(r.blocked); err != nil {
			return nil, nil, err
		}
	}
	for _, ref := range dialplan.Refusals() {
		if ref != dialplan.RefuseNone {
			r.blocked.WithLabelValues(ref.String())
		}
	}
	r.blocked.WithLabelValues(reasonTrunkOrigin)
	stop := func() {}
	if bus != nil {
		sub := bus.Subscribe(256)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range sub.C() {
				r.changed(ev.Type)
			}
		}()
		stop = func() { sub.Close(); <-done }
	}
	return r, stop, nil
}

// reasonTrunkOrigin refuses an outside number to a call that came in from
// a carrier: trunks reach the box's own numbers only.
const reasonTrunkOrigin = "trunk_origin"

// changed drops the snapshot when an event touched the rules.
func (r *routing) changed(typ string) {
	if strings.HasPrefix(typ, "regions.") || typ == "config.applied" {
		r.mu.Lock()
		r.stale, r.snap = true, nil
		r.gen++
		r.mu.Unlock()
		return
	}
	for _, p := range routingEvents {
		if strings.HasPrefix(typ, p) {
			r.mu.Lock()
			r.snap = nil
			r.gen++
			r.mu.Unlock()
			return
		}
	}
}

// refuse counts and logs a refusal and returns it as the call layer's error.
func (r *routing) refuse(reason, number string, origin call.Origin) error {
	r.blocked.WithLabelValues(reason).Inc()
	r.log.Warn("outbound call refused", "reason", reason, "number", number,
		"extension", origin.Extension, "trunk", origin.Trunk)
	return &call.BlockedError{Reason: reason}
}

// outbound resolves an outside number for origin.
func (r *routing) outbound(number string, origin call.Origin) (call.Target, error) {
	if origin.Extension == "" {
		// A carrier's call (or anything not an authenticated extension)
		// never reaches a trunk.
		return call.Target{}, r.refuse(reasonTrunkOrigin, number, origin)
	}
	snap, regions, err := r.snapshot()
	if err != nil {
		return call.Target{}, err
	}
	var ext store.Extension
	var role string
	err = r.db.View(func(tx *store.Tx) error {
		var err error
		if ext, err = tx.Extension(origin.Extension); err != nil {
			return err
		}
		if u, err := tx.User(ext.User); err == nil {
			role = string(u.Role)
		}
		return nil
	})
	if err != nil {
		return call.Target{}, fmt.Errorf("routing: extension %s: %w", origin.Extension, err)
	}
	route, send, err := dialplan.SelectRoute(snap.routes, number, dialplan.Caller{Extension: origin.Extension, Role: role})
	switch {
	case errors.Is(err, dialplan.ErrNoRoute):
		// Nobody's number: no route reaches it (a mistyped extension
		// as much as an outside number no route covers).
		return call.Target{}, call.ErrNotFound
	case errors.Is(err, dialplan.ErrNotAllowed):
		return call.Target{}, r.refuse(dialplan.RefuseNotAllowed.String(), number, origin)
	case err != nil:
		return call.Target{}, err
	}
	n, err := r.plan.Normalize(send)
	if err != nil {
		return call.Target{}, r.refuse(dialplan.RefuseNoRoute.String(), number, origin)
	}
	// Emergency numbers go out whatever blacklist, lock or limit applies.
	emergency := snap.policy.IsEmergency(n)
	if !emergency {
		if _, ok := snap.blacklist.Blocked(n, dialplan.DirOutbound); ok {
			return call.Target{}, r.refuse(dialplan.RefuseBlacklist.String(), number, origin)
		}
		if ref := snap.policy.Check(n); ref != dialplan.RefuseNone {
			return call.Target{}, r.refuse(ref.String(), number, origin)
		}
		if snap.lock && !snap.hours.Open(r.now()) {
			return call.Target{}, r.refuse(dialplan.RefuseLocked.String(), number, origin)
		}
	}
	t := call.Target{
		Device: call.Device{Kind: call.DevicePSTN, ID: send},
		Party:  call.Party{Number: send},
		Trunks: route.Trunks,
	}
	// The limits, the caller number and what the call holds (its caller
	// number, a place in the extension's outside calls) are decided under
	// one lock: two calls at once cannot both take the last place.
	r.mu.Lock()
	if !emergency && !r.admitLocked(origin.Extension, snap.perMinute, snap.maxOut) {
		r.mu.Unlock()
		return call.Target{}, r.refuse(dialplan.RefuseRateLimit.String(), number, origin)
	}
	caller, err := r.callerNumberLocked(route, ext, n, snap, regions)
	if err != nil {
		r.mu.Unlock()
		return call.Target{}, r.refuse(dialplan.RefuseNoRoute.String(), number, origin)
	}
	if caller != "" {
		t.Caller = &call.Party{Number: caller}
		r.inUse[caller]++
	}
	r.outNow[origin.Extension]++
	r.mu.Unlock()
	// Given back when the call no longer uses the target.
	t.Done = func() {
		r.mu.Lock()
		if caller != "" {
			if r.inUse[caller]--; r.inUse[caller] <= 0 {
				delete(r.inUse, caller)
			}
		}
		if r.outNow[origin.Extension]--; r.outNow[origin.Extension] <= 0 {
			delete(r.outNow, origin.Extension)
		}
		r.mu.Unlock()
	}
	return t, nil
}

// callerNumberLocked is the number the route presents for this call ("":
// the trunk's default); r.mu is held.
func (r *routing) callerNumberLocked(route dialplan.Route, ext store.Extension, callee dialplan.Number, snap *routingSnapshot, regions *dialplan.RegionTable) (string, error) {
	switch route.CallerNumber.Mode {
	case dialplan.CallerModeFixed:
		return route.CallerNumber.Number, nil
	case dialplan.CallerModePoolRegion:
		region, known := regions.Lookup(callee)
		active := func(number string) int { return r.inUse[number] }
		c, err := dialplan.PickCaller(snap.pools[route.CallerNumber.Pool], region, known, active, r.rnd)
		return c.Number, err
	}
	return ext.OutboundNumber, nil
}

// admitLocked applies an extension's limits (calls per minute, concurrent
// outside calls) and counts the call in the minute; r.mu is held.
func (r *routing) admitLocked(ext string, perMinute, maxOut int) bool {
	now := r.now()
	if maxOut > 0 && r.outNow[ext] >= maxOut {
		return false
	}
	times := r.recent[ext][:0]
	for _, t := range r.recent[ext] {
		if now.Sub(t) < time.Minute {
			times = append(times, t)
		}
	}
	if perMinute > 0 && len(times) >= perMinute {
		r.recent[ext] = times
		return false
	}
	r.recent[ext] = append(times, now)
	return true
}

// snapshot returns the compiled rules, compiling them when they changed.
func (r *routing) snapshot() (*routingSnapshot, *dialplan.RegionTable, error) {
	r.mu.Lock()
	snap, regions, stale, gen := r.snap, r.regions, r.stale, r.gen
	r.mu.Unlock()
	if snap != nil && !stale {
		return snap, regions, nil
	}
	var (
		routes  []store.OutboundRoute
		black   []store.BlacklistEntry
		policy  store.OutboundPolicy
		pools   []store.CallerPool
		regRows []store.RegionRow
		dids    []store.DID
		deflt   *store.Destination
	)
	err := r.db.View(func(tx *store.Tx) (err error) {
		if routes, err = tx.OutboundRoutes(); err != nil {
			return err
		}
		if black, err = tx.Blacklist(); err != nil {
			return err
		}
		if policy, err = tx.OutboundPolicy(); err != nil {
			return err
		}
		if pools, err = tx.CallerPools(); err != nil {
			return err
		}
		if dids, err = tx.DIDs(); err != nil {
			return err
		}
		if deflt, err = tx.InboundDefault(); err != nil {
			return err
		}
		if stale {
			regRows, err = tx.Regions()
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("routing: load rules: %w", err)
	}
	if stale {
		rows := make([]dialplan.RegionRow, len(regRows))
		for i, row := range regRows {
			rows[i] = dialplan.RegionRow{Prefix: row.Prefix, Province: row.Province, City: row.City}
		}
		if regions, err = dialplan.NewRegionTable(rows); err != nil {
			return nil, nil, fmt.Errorf("routing: region table: %w", err)
		}
	}
	if snap, err = compileRouting(r.plan, routes, black, policy, pools, regions); err != nil {
		return nil, nil, err
	}
	snap.dids, snap.fallback = map[string]store.DID{}, deflt
	for _, d := range dids {
		snap.dids[r.key(d.Number)] = d
	}
	r.mu.Lock()
	// Kept only when nothing changed while it was built from the store;
	// otherwise this call uses it and the next builds anew.
	if r.gen == gen {
		r.snap, r.regions, r.stale = snap, regions, false
	}
	r.mu.Unlock()
	return snap, regions, nil
}

// compileRouting turns stored rules (validated when stored) into the
// dialplan's.
func compileRouting(plan dialplan.NumberPlan, routes []store.OutboundRoute, black []store.BlacklistEntry,
	policy store.OutboundPolicy, pools []store.CallerPool, regions *dialplan.RegionTable) (*routingSnapshot, error) {
	s := &routingSnapshot{pools: map[string][]dialplan.CallerNumber{}, lock: policy.LockOutsideHours,
		perMinute: policy.CallsPerMinute(), maxOut: policy.ExtensionMaxOutbound}
	for _, sr := range routes {
		dr := dialplan.Route{Name: sr.Name, Strip: sr.Strip, Prepend: sr.Prepend, Trunks: sr.Trunks,
			AllowExtensions: sr.AllowExtensions, AllowRoles: sr.AllowRoles,
			CallerNumber: dialplan.CallerPolicy{Mode: string(sr.CallerNumber.Mode.Mode()), Number: sr.CallerNumber.Number, Pool: sr.CallerNumber.Pool}}
		for _, p := range sr.Patterns {
			pat, err := dialplan.ParsePattern(p)
			if err != nil {
				return nil, fmt.Errorf("routing: route %s: %w", sr.Name, err)
			}
			dr.Patterns = append(dr.Patterns, pat)
		}
		s.routes = append(s.routes, dr)
	}
	entries := make([]dialplan.BlacklistEntry, 0, len(black))
	for _, e := range black {
		dir, err := dialplan.ParseDirection(string(e.Direction))
		if err != nil {
			continue // validated when stored
		}
		entries = append(entries, dialplan.BlacklistEntry{Number: e.Number, Direction: dir, Description: e.Description})
	}
	s.blacklist = dialplan.NewBlacklist(plan, entries)
	s.policy = dialplan.Policy{Emergency: policy.Emergency, AllowPrefixes: policy.AllowPrefixes, DenyPrefixes: policy.DenyPrefixes,
		International: policy.International, Premium: policy.Premium, PremiumPrefixes: policy.PremiumPrefixes}
	from, to := policy.BusinessHours.Span()
	s.hours = dialplan.BusinessHours{Days: policy.BusinessHours.Days, From: from, To: to, Location: time.Local}
	if tz := policy.BusinessHours.Timezone; tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("routing: business hours time zone %q: %w", tz, err)
		}
		s.hours.Location = loc
	}
	for _, p := range pools {
		var numbers []dialplan.CallerNumber
		for _, pn := range p.Numbers {
			numbers = append(numbers, dialplan.CallerNumber{Number: pn.Number, MaxCalls: pn.MaxCalls,
				Region: dialplan.Region{Province: pn.Province, City: pn.City}})
		}
		// Numbers given without a region are tagged from the table.
		s.pools[p.Name] = regions.FillRegions(plan, numbers)
	}
	return s, nil
}

// key is a number's normalized form, for comparisons (the raw digits when
// it does not parse).
func (r *routing) key(number string) string {
	if n, err := r.plan.Normalize(number); err == nil {
		return n.Key()
	}
	return number
}

// Inbound routes a carrier's call (sip.TrunkRouter): a blacklisted caller
// is declined before the call costs anything; the called number's DID (for
// this trunk or any) gives the destination, else the inbound default, else
// 404.
func (r *routing) Inbound(trunk, caller, called string) (string, int, string) {
	snap, _, err := r.snapshot()
	if err != nil {
		r.log.Error("inbound routing", "err", err)
		return "", 503, "Service Unavailable"
	}
	if n, err := r.plan.Normalize(caller); err == nil {
		if _, ok := snap.blacklist.Blocked(n, dialplan.DirInbound); ok {
			r.blocked.WithLabelValues(dialplan.RefuseBlacklist.String()).Inc()
			r.log.Warn("inbound call refused", "reason", "blacklist", "caller", caller, "trunk", trunk)
			return "", 603, "Decline"
		}
	}
	var dest *store.Destination
	if d, ok := snap.dids[r.key(called)]; ok && (d.Trunk == "" || d.Trunk == trunk) {
		dest = &d.Destination
	} else if snap.fallback != nil {
		dest = snap.fallback
	}
	if dest == nil {
		r.log.Info("call to an unknown DID", "called", called, "trunk", trunk)
		return "", 404, "Not Found"
	}
	switch dest.Type {
	case store.DestExtension:
		return dest.Target, 0, ""
	case store.DestHangup:
		return "", 480, "Temporarily Unavailable"
	}
	// Queue, IVR, voicemail and time conditions are refused by validation
	// until they exist.
	return "", 404, "Not Found"
}
