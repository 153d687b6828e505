package provision

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/ccbox/ccbox/config/store"
)

// routingState is what the store holds of trunks and routing.
type routingState struct {
	trunks    map[string]store.Trunk
	dids      map[string]store.DID
	routes    map[string]store.OutboundRoute
	pools     map[string]store.CallerPool
	blacklist map[string]store.BlacklistEntry // by blacklistKey
	inbound   *store.Destination
	policy    store.OutboundPolicy
}

func newRoutingState() routingState {
	return routingState{
		trunks:    map[string]store.Trunk{},
		dids:      map[string]store.DID{},
		routes:    map[string]store.OutboundRoute{},
		pools:     map[string]store.CallerPool{},
		blacklist: map[string]store.BlacklistEntry{},
	}
}

// blacklistKey identifies an entry: number and direction.
func blacklistKey(number string, dir store.Direction) string { return number + "/" + string(dir) }

func readRouting(tx *store.Tx) (routingState, error) {
	s := newRoutingState()
	trunks, err := tx.Trunks()
	if err != nil {
		return s, err
	}
	for _, t := range trunks {
		s.trunks[t.Name] = t
	}
	dids, err := tx.DIDs()
	if err != nil {
		return s, err
	}
	for _, d := range dids {
		s.dids[d.Number] = d
	}
	routes, err := tx.OutboundRoutes()
	if err != nil {
		return s, err
	}
	for _, r := range routes {
		s.routes[r.Name] = r
	}
	pools, err := tx.CallerPools()
	if err != nil {
		return s, err
	}
	for _, p := range pools {
		s.pools[p.Name] = p
	}
	bl, err := tx.Blacklist()
	if err != nil {
		return s, err
	}
	for _, e := range bl {
		s.blacklist[blacklistKey(e.Number, e.Direction)] = e
	}
	if s.inbound, err = tx.InboundDefault(); err != nil {
		return s, err
	}
	s.policy, err = tx.OutboundPolicy()
	return s, err
}

// secretCheck is what Apply learned about one trunk's plaintext secret
// outside the transaction: whether it opens equal from the sealed value
// stored then (against), and otherwise its new sealed form.
type secretCheck struct {
	plain   string
	against string
	matches bool
	sealed  string
}

// checkTrunkSecrets compares each secret the document gives with the
// stored one. A stored secret that does not open (no key file, another
// box's key) counts as different: the new one replaces it.
func checkTrunkSecrets(db *store.DB, d Document, cur state) map[string]*secretCheck {
	sec := map[string]*secretCheck{}
	for name, t := range d.Trunks {
		if t.Secret == "" {
			continue
		}
		c := &secretCheck{plain: t.Secret, against: cur.routing.trunks[name].SealedSecret}
		if c.against != "" {
			plain, err := db.OpenSecret(store.TrunkSecretLabel(name), c.against)
			c.matches = err == nil && plain == t.Secret
		}
		sec[name] = c
	}
	return sec
}

// sealTrunkSecrets seals the secrets that change (creating the key file on
// the first); a dry run never gets here, so it writes no key.
func sealTrunkSecrets(db *store.DB, sec map[string]*secretCheck) error {
	for name, c := range sec {
		if c.matches {
			continue
		}
		sealed, err := db.SealTrunkSecret(name, c.plain)
		if err != nil {
			return err
		}
		c.sealed = sealed
	}
	return nil
}

// routingPlan is the trunk and routing part of a plan.
type routingPlan struct {
	trunkPuts    []store.Trunk
	trunkDeletes []string
	didPuts      []store.DID
	didDeletes   []string
	routePuts    []store.OutboundRoute
	routeDeletes []string
	poolPuts     []store.CallerPool
	poolDeletes  []string
	blPuts       []store.BlacklistEntry
	blDeletes    []store.BlacklistEntry
	inboundSet   bool
	inbound      *store.Destination
	policy       *store.OutboundPolicy
}

// planRouting adds the trunk and routing changes of d to p and returns the
// problems found, references checked on the result (exts: the extensions
// of the result).
func (p *plan) planRouting(cur state, d Document, sec map[string]*secretCheck, prune bool, exts map[string]store.Extension) []error {
	var errs []error
	cr := cur.routing
	rp := &p.routing
	final := newRoutingState()

	for name, t := range cr.trunks {
		final.trunks[name] = t
	}
	for _, name := range sortedNames(d.Trunks) {
		dt := d.Trunks[name]
		old, exists := cr.trunks[name]
		nt := trunkToStore(name, dt)
		nt.SealedSecret, nt.Created, nt.Updated = old.SealedSecret, old.Created, old.Updated
		fields := diffFields(old, nt)
		switch c := sec[name]; {
		case dt.Secret != "":
			if c == nil || c.against != old.SealedSecret {
				return []error{fmt.Errorf("provision: trunk %q changed while applying: %w", name, store.ErrConflict)}
			}
			if !c.matches {
				nt.SealedSecret = c.sealed
				fields = append(fields, "secret")
			}
		case nt.Kind == store.TrunkRegister && old.SealedSecret == "":
			errs = append(errs, d.fieldError("trunks."+name, "a register trunk needs secret (its carrier's digest password)"))
		}
		if p.record(KindTrunk, name, exists, fields) {
			rp.trunkPuts = append(rp.trunkPuts, nt)
			final.trunks[name] = nt
		}
	}
	if prune {
		for _, name := range sortedNames(cr.trunks) {
			if _, named := d.Trunks[name]; !named {
				rp.trunkDeletes = append(rp.trunkDeletes, name)
				delete(final.trunks, name)
				p.changes = append(p.changes, Change{Action: ActionDelete, Kind: KindTrunk, Name: name})
			}
		}
	}

	final.dids = planMap(p, KindDID, cr.dids, d.DIDs, prune, didToStore,
		func(n, o store.DID) store.DID { n.Created, n.Updated = o.Created, o.Updated; return n },
		&rp.didPuts, &rp.didDeletes)
	final.routes = planMap(p, KindOutboundRoute, cr.routes, d.OutboundRoutes, prune, routeToStore,
		func(n, o store.OutboundRoute) store.OutboundRoute {
			n.Created, n.Updated = o.Created, o.Updated
			return n
		},
		&rp.routePuts, &rp.routeDeletes)
	final.pools = planMap(p, KindCallerPool, cr.pools, d.CallerPools, prune, poolToStore,
		func(n, o store.CallerPool) store.CallerPool { n.Created, n.Updated = o.Created, o.Updated; return n },
		&rp.poolPuts, &rp.poolDeletes)

	named := map[string]bool{}
	for _, e := range d.Blacklist {
		ne := blacklistToStore(e)
		key := blacklistKey(ne.Number, ne.Direction)
		if named[key] {
			continue // Validate reported it
		}
		named[key] = true
		old, exists := cr.blacklist[key]
		ne.Created, ne.Updated = old.Created, old.Updated
		if p.record(KindBlacklist, key, exists, diffFields(old, ne)) {
			rp.blPuts = append(rp.blPuts, ne)
		}
	}
	if prune {
		for _, key := range sortedNames(cr.blacklist) {
			if !named[key] {
				rp.blDeletes = append(rp.blDeletes, cr.blacklist[key])
				p.changes = append(p.changes, Change{Action: ActionDelete, Kind: KindBlacklist, Name: key})
			}
		}
	}

	final.inbound = cr.inbound
	switch {
	case d.InboundDefault != nil:
		var want *store.Destination
		if d.InboundDefault.Type != destinationNone {
			dest := destinationToStore(*d.InboundDefault)
			want = &dest
		}
		switch {
		case want == nil && cr.inbound != nil:
			p.changes = append(p.changes, Change{Action: ActionDelete, Kind: KindInboundDefault, Name: KindInboundDefault})
		case want != nil && cr.inbound == nil:
			p.changes = append(p.changes, Change{Action: ActionCreate, Kind: KindInboundDefault, Name: KindInboundDefault})
		case want != nil && *want != *cr.inbound:
			p.changes = append(p.changes, Change{Action: ActionUpdate, Kind: KindInboundDefault, Name: KindInboundDefault,
				Fields: diffFields(*cr.inbound, *want)})
		default:
			want = cr.inbound
		}
		if want != cr.inbound {
			rp.inboundSet, rp.inbound = true, want
		}
		final.inbound = want
	case prune && cr.inbound != nil:
		p.changes = append(p.changes, Change{Action: ActionDelete, Kind: KindInboundDefault, Name: KindInboundDefault})
		rp.inboundSet, final.inbound = true, nil
	}

	if d.OutboundPolicy != nil {
		np, _ := policyToStore(*d.OutboundPolicy) // Validate reported conversion problems
		np.Updated = cr.policy.Updated
		if fields := diffFields(cr.policy, np); len(fields) > 0 {
			rp.policy = &np
			p.changes = append(p.changes, Change{Action: ActionUpdate, Kind: KindOutboundPolicy, Name: KindOutboundPolicy, Fields: fields})
		}
	}

	for _, fe := range referenceErrors(final, exts) {
		errs = append(errs, d.fieldError(fe.Path, "%s", fe.Problem))
	}
	return errs
}

// planMap plans one keyed kind: puts of what the document names and
// differs (keep copies the stored record's timestamps), deletes with prune.
// It returns the kind's records in the result.
func planMap[D any, S any](p *plan, kind string, cur map[string]S, doc map[string]D, prune bool,
	conv func(string, D) S, keep func(n, o S) S, puts *[]S, deletes *[]string) map[string]S {
	final := make(map[string]S, len(cur)+len(doc))
	for k, v := range cur {
		final[k] = v
	}
	for _, key := range sortedNames(doc) {
		old, exists := cur[key]
		n := keep(conv(key, doc[key]), old)
		if p.record(kind, key, exists, diffFields(old, n)) {
			*puts = append(*puts, n)
			final[key] = n
		}
	}
	if prune {
		for _, key := range sortedNames(cur) {
			if _, named := doc[key]; !named {
				*deletes = append(*deletes, key)
				delete(final, key)
				p.changes = append(p.changes, Change{Action: ActionDelete, Kind: kind, Name: key})
			}
		}
	}
	return final
}

// diffFields lists the JSON names of the fields of two records of one
// struct type that differ, leaving out keys, timestamps and the sealed
// secret (reported as "secret" by its caller). An empty and a nil list are
// the same.
func diffFields(old, new any) []string {
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(new)
	var out []string
	for i := 0; i < ov.NumField(); i++ {
		tag, _, _ := strings.Cut(ov.Type().Field(i).Tag.Get("json"), ",")
		switch tag {
		case "name", "number", "direction", "created", "updated", "sealed_secret", "-", "":
			continue
		}
		a, b := ov.Field(i), nv.Field(i)
		if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			out = append(out, tag)
		}
	}
	return out
}

// referenceErrors finds references of s that name nothing: paths as in the
// document, in document order (kind, then key).
func referenceErrors(s routingState, exts map[string]store.Extension) []*FieldError {
	var out []*FieldError
	add := func(path, format string, args ...any) {
		out = append(out, &FieldError{Path: path, Problem: fmt.Sprintf(format, args...)})
	}
	destination := func(path string, d store.Destination) {
		if d.Type == store.DestExtension && d.Target != "" {
			if _, ok := exts[d.Target]; !ok {
				add(path+".target", "extension %s does not exist", d.Target)
			}
		}
	}
	for _, n := range sortedNames(s.dids) {
		did := s.dids[n]
		path := "dids." + n
		if did.Trunk != "" {
			if _, ok := s.trunks[did.Trunk]; !ok {
				add(path+".trunk", "trunk %q does not exist", did.Trunk)
			}
		}
		destination(path+".destination", did.Destination)
	}
	if s.inbound != nil {
		destination("inbound_default", *s.inbound)
	}
	for _, name := range sortedNames(s.routes) {
		r := s.routes[name]
		path := "outbound_routes." + name
		for _, t := range r.Trunks {
			if _, ok := s.trunks[t]; !ok {
				add(path+".trunks", "trunk %q does not exist", t)
			}
		}
		for _, e := range r.AllowExtensions {
			if _, ok := exts[e]; !ok {
				add(path+".allow_extensions", "extension %s does not exist", e)
			}
		}
		if r.CallerNumber.Mode == store.CallerPoolRegion && r.CallerNumber.Pool != "" {
			if _, ok := s.pools[r.CallerNumber.Pool]; !ok {
				add(path+".caller_number.pool", "caller pool %q does not exist", r.CallerNumber.Pool)
			}
		}
	}
	return out
}

// CheckReferences reports every reference in the store that names nothing
// (a route's trunk, extension or pool, a DID's trunk or extension, the
// inbound default's extension), as errors.Join of *FieldError with
// document paths ("outbound_routes.mobile.trunks"). The API calls it inside
// its write transaction after a change, so that deleting a trunk a route
// uses, or a route naming an unknown trunk, is refused as a whole.
func CheckReferences(tx *store.Tx) error {
	cur, err := readState(tx)
	if err != nil {
		return err
	}
	var errs []error
	for _, fe := range referenceErrors(cur.routing, cur.extensions) {
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

// write applies the routing plan in tx, stopping at the first failure
// (the transaction is then discarded as a whole).
func (rp *routingPlan) write(tx *store.Tx) error {
	var steps []func() error
	for _, t := range rp.trunkPuts {
		steps = append(steps, func() error { return tx.PutTrunk(t) })
	}
	for _, p := range rp.poolPuts {
		steps = append(steps, func() error { return tx.PutCallerPool(p) })
	}
	for _, d := range rp.didPuts {
		steps = append(steps, func() error { return tx.PutDID(d) })
	}
	for _, r := range rp.routePuts {
		steps = append(steps, func() error { return tx.PutOutboundRoute(r) })
	}
	for _, e := range rp.blPuts {
		steps = append(steps, func() error { return tx.PutBlacklistEntry(e) })
	}
	for _, n := range rp.didDeletes {
		steps = append(steps, func() error { return tx.DeleteDID(n) })
	}
	for _, n := range rp.routeDeletes {
		steps = append(steps, func() error { return tx.DeleteOutboundRoute(n) })
	}
	for _, n := range rp.poolDeletes {
		steps = append(steps, func() error { return tx.DeleteCallerPool(n) })
	}
	for _, n := range rp.trunkDeletes {
		steps = append(steps, func() error { return tx.DeleteTrunk(n) })
	}
	for _, e := range rp.blDeletes {
		steps = append(steps, func() error { return tx.DeleteBlacklistEntry(e.Number, e.Direction) })
	}
	if rp.inboundSet {
		steps = append(steps, func() error { return tx.SetInboundDefault(rp.inbound) })
	}
	if rp.policy != nil {
		steps = append(steps, func() error { return tx.PutOutboundPolicy(*rp.policy) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}
