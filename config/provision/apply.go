package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/store"
)

// Options control Apply.
type Options struct {
	DryRun bool   // plan only: return the changes, write nothing
	Prune  bool   // delete users and extensions the document does not name
	Actor  string // who applies, recorded in the audit log; "" means "config-apply"
}

// Change actions and kinds.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"

	KindUser         = "user"
	KindSystem       = "system"
	KindExtension    = "extension"
	KindFeatureCodes = "feature_codes"

	KindTrunk          = "trunk"
	KindDID            = "did"
	KindInboundDefault = "inbound_default"
	KindOutboundRoute  = "outbound_route"
	KindCallerPool     = "caller_pool"
	KindBlacklist      = "blacklist" // Name: "number/direction"
	KindOutboundPolicy = "outbound_policy"
)

// Change is one thing Apply changed (or, with DryRun, would change).
type Change struct {
	Action string   `json:"action"`           // create|update|delete
	Kind   string   `json:"kind"`             // one of the Kind constants
	Name   string   `json:"name"`             // the object's key (a user's name, an extension's number, "13800000000/inbound" for a blacklist entry); the kind for the box-wide settings
	Fields []string `json:"fields,omitempty"` // for an update: the keys that changed (never their values)
}

// String is the change as the CLI prints it: "update user alice (role, password)".
func (c Change) String() string {
	s := c.Action + " " + c.Kind
	if !singleton(c.Kind) {
		s += " " + c.Name
	}
	if len(c.Fields) > 0 {
		s += " (" + strings.Join(c.Fields, ", ") + ")"
	}
	return s
}

// singleton reports whether kind is a box-wide setting, named by its kind.
func singleton(kind string) bool {
	switch kind {
	case KindSystem, KindFeatureCodes, KindInboundDefault, KindOutboundPolicy:
		return true
	}
	return false
}

// Apply validates the whole document first (nothing written on any error), then creates or updates what the
// document names and leaves alone what it omits (deletes omitted users only with Prune). It is all-or-nothing
// (one store transaction) and idempotent: applying twice, or applying an export, yields no changes (a plaintext
// password that already verifies against the stored hash is no change). Refuses (as a *FieldError) a result with no
// enabled admin. With DryRun it returns the plan and writes nothing. Returns the changes made (or planned), sorted.
// Each applied change is added to the audit log with Actor. Users whose password changed or who were disabled lose
// their sessions (DeleteUserSessions).
//
// A user the document names is set exactly as written — an omitted
// display_name, language or disabled means empty/false — except that omitting
// both password and password_hash keeps the current password. A new user
// needs one of them. System settings are changed only when system is given.
//
// Extensions follow the same rule: omitting both secret and the HA1s keeps
// the current secret; a new extension needs one of them. A plaintext secret
// is stored as its HA1s under the box's realm (set by store.EnsureRealm on
// first need) and is no change when they match. An extension's user must
// exist in the result, and no number may be held twice in the numbering plan
// (extensions and agent numbers), counting what the document leaves alone.
//
// Trunks, DIDs, outbound routes, caller pools and blacklist entries follow
// the same rule (set as written; --prune deletes those not named); a
// trunk's secret is sealed (store.DB.SealTrunkSecret) before the
// transaction, a trunk without secret keeps its stored one, and a secret
// equal to the stored one is no change. References are checked on the
// result: a DID's trunk and extension, a route's trunks, extensions and
// pool, the inbound default's extension (see CheckReferences).
// inbound_default and outbound_policy change only when given (--prune
// clears an omitted inbound_default).
//
// Passwords are verified and hashed before the write transaction (bcrypt is
// slow). If a user's password changes meanwhile, Apply fails with an error
// wrapping store.ErrConflict and writes nothing; apply again.
func Apply(ctx context.Context, db *store.DB, h *password.Hasher, d Document, opts Options) ([]Change, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	needRealm := false
	for _, e := range d.Extensions {
		needRealm = needRealm || e.Secret != ""
	}
	if needRealm && !opts.DryRun {
		// The realm is fixed on first use; a dry run plans against none.
		if _, err := store.EnsureRealm(db); err != nil {
			return nil, fmt.Errorf("provision: apply: %w", err)
		}
	}
	var cur state
	if err := db.View(func(tx *store.Tx) (err error) { cur, err = readState(tx); return err }); err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	pw, err := verifyPasswords(ctx, h, d, cur)
	if err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	sec := checkTrunkSecrets(db, d, cur)
	now := time.Now()
	p, err := makePlan(cur, d, pw, sec, opts.Prune, now)
	if err != nil {
		return nil, err
	}
	if opts.DryRun || len(p.changes) == 0 {
		return p.changes, nil
	}
	if err := hashPasswords(ctx, h, pw); err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	if err := sealTrunkSecrets(db, sec); err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}

	actor := opts.Actor
	if actor == "" {
		actor = "config-apply"
	}
	var changes []Change
	err = db.Update(func(tx *store.Tx) error {
		// Plan again on what the transaction sees, so the write is exactly
		// right even if something changed since the first look.
		cur, err := readState(tx)
		if err != nil {
			return err
		}
		if needRealm && cur.realm == "" {
			return fmt.Errorf("provision: the SIP realm is not set: %w", store.ErrNotFound)
		}
		p, err := makePlan(cur, d, pw, sec, opts.Prune, now)
		if err != nil {
			return err
		}
		if err := p.write(tx, actor); err != nil {
			return err
		}
		changes = p.changes
		return nil
	})
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	return changes, nil
}

// state is what Apply compares the document with.
type state struct {
	users      map[string]store.User
	extensions map[string]store.Extension
	system     store.System
	codes      store.FeatureCodes
	realm      string // "" when not set yet
	routing    routingState
}

func readState(tx *store.Tx) (state, error) {
	s := state{users: map[string]store.User{}, extensions: map[string]store.Extension{}}
	users, err := tx.Users()
	if err != nil {
		return s, err
	}
	for _, u := range users {
		s.users[u.Name] = u
	}
	exts, err := tx.Extensions()
	if err != nil {
		return s, err
	}
	for _, e := range exts {
		s.extensions[e.Number] = e
	}
	s.realm, err = tx.Realm()
	if errors.Is(err, store.ErrNotFound) {
		s.realm, err = "", nil
	}
	if err != nil {
		return s, err
	}
	if s.system, err = tx.System(); err != nil {
		return s, err
	}
	if s.codes, err = tx.FeatureCodes(); err != nil {
		return s, err
	}
	s.routing, err = readRouting(tx)
	return s, err
}

// pwCheck is what Apply learned about one plaintext password outside the
// transaction: whether it verifies against the hash stored then (against),
// and otherwise its new hash.
type pwCheck struct {
	plain   string
	against string
	matches bool
	hash    string
}

// verifyPasswords checks each plaintext password against the stored hash,
// concurrently (the Hasher bounds how many run at once).
func verifyPasswords(ctx context.Context, h *password.Hasher, d Document, cur state) (map[string]*pwCheck, error) {
	pw := map[string]*pwCheck{}
	g, ctx := errgroup.WithContext(ctx)
	for name, u := range d.Users {
		if u.Password == "" {
			continue
		}
		c := &pwCheck{plain: u.Password, against: cur.users[name].PasswordHash}
		pw[name] = c
		if c.against == "" {
			continue
		}
		g.Go(func() error {
			ok, err := h.Verify(ctx, c.against, c.plain)
			if err != nil && !errors.Is(err, password.ErrInvalidHash) {
				return err
			}
			c.matches = ok // an unreadable stored hash is simply replaced
			return nil
		})
	}
	return pw, g.Wait()
}

// hashPasswords hashes the plaintext passwords that are changing.
func hashPasswords(ctx context.Context, h *password.Hasher, pw map[string]*pwCheck) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, c := range pw {
		if c.matches {
			continue
		}
		g.Go(func() error {
			hash, err := h.Hash(ctx, c.plain)
			if err != nil {
				return err
			}
			c.hash = hash // each goroutine owns its c; Wait publishes the writes
			return nil
		})
	}
	return g.Wait()
}

// plan is the difference between the store and the document.
type plan struct {
	changes    []Change
	puts       []store.User
	deletes    []string
	extPuts    []store.Extension
	extDeletes []string
	system     *store.System
	codes      *store.FeatureCodes
	sessions   []string // users who must log in again
	routing    routingPlan
}

// makePlan compares cur with d. pw holds the outcome of verifyPasswords (and,
// before writing, hashPasswords).
func makePlan(cur state, d Document, pw map[string]*pwCheck, sec map[string]*secretCheck, prune bool, now time.Time) (*plan, error) {
	p := &plan{}
	final := make(map[string]store.User, len(cur.users)+len(d.Users))
	for name, u := range cur.users {
		final[name] = u
	}
	var errs []error
	for _, name := range sortedNames(d.Users) {
		du := d.Users[name]
		old, exists := cur.users[name]
		nu := old
		nu.Name = name
		var fields []string
		diff := func(field string, changed bool) {
			if changed {
				fields = append(fields, field)
			}
		}
		diff("display_name", old.DisplayName != du.DisplayName)
		diff("role", string(old.Role) != du.Role)
		diff("disabled", old.Disabled != du.Disabled)
		diff("language", old.Language != du.Language)
		diff("agent_number", old.AgentNumber != du.AgentNumber)
		nu.DisplayName, nu.Role, nu.Disabled, nu.Language = du.DisplayName, store.Role(du.Role), du.Disabled, du.Language
		nu.AgentNumber = du.AgentNumber

		pwChanged := false
		switch {
		case du.Password != "":
			c := pw[name]
			if c == nil || c.against != old.PasswordHash {
				return nil, fmt.Errorf("provision: user %q changed while applying: %w", name, store.ErrConflict)
			}
			if !c.matches {
				nu.PasswordHash, pwChanged = c.hash, true
			}
		case du.PasswordHash != "":
			if du.PasswordHash != old.PasswordHash {
				nu.PasswordHash, pwChanged = du.PasswordHash, true
			}
		case !exists:
			errs = append(errs, d.fieldError("users."+name, "a new user needs password or password_hash"))
		}
		if pwChanged {
			fields = append(fields, "password")
			nu.PasswordChanged = now
		}

		if !p.record(KindUser, name, exists, fields) {
			continue
		}
		p.puts = append(p.puts, nu)
		final[name] = nu
		if exists && (pwChanged || (nu.Disabled && !old.Disabled)) {
			p.sessions = append(p.sessions, name)
		}
	}

	if d.System != nil && d.System.Title != cur.system.Title {
		s := cur.system
		s.Title = d.System.Title
		p.system = &s
		p.changes = append(p.changes, Change{Action: ActionUpdate, Kind: KindSystem, Name: KindSystem, Fields: []string{"title"}})
	}

	if d.FeatureCodes != nil {
		codes := cur.codes
		var fields []string
		for _, key := range sortedNames(d.FeatureCodes) {
			ref := featureCodeRef(&codes, key)
			if ref == nil {
				errs = append(errs, d.fieldError("feature_codes."+key, "unknown key (expected one of: %s)", featureCodeKeys()))
				continue
			}
			if *ref != d.FeatureCodes[key] {
				*ref = d.FeatureCodes[key]
				fields = append(fields, key)
			}
		}
		// The table as a whole: what the document leaves out counts too.
		if err := CheckFeatureCodes(codes); err != nil {
			var joined interface{ Unwrap() []error }
			if errors.As(err, &joined) {
				for _, e := range joined.Unwrap() {
					var fe *FieldError
					if errors.As(e, &fe) {
						errs = append(errs, d.fieldError("feature_codes."+fe.Path, "%s", fe.Problem))
					}
				}
			}
		}
		if len(fields) > 0 {
			p.codes = &codes
			p.changes = append(p.changes, Change{Action: ActionUpdate, Kind: KindFeatureCodes, Name: KindFeatureCodes, Fields: fields})
		}
	}

	if prune {
		for _, name := range sortedNames(cur.users) {
			if _, named := d.Users[name]; !named {
				p.deletes = append(p.deletes, name)
				delete(final, name)
				p.changes = append(p.changes, Change{Action: ActionDelete, Kind: KindUser, Name: name})
			}
		}
	}

	finalExts := make(map[string]store.Extension, len(cur.extensions)+len(d.Extensions))
	for n, e := range cur.extensions {
		finalExts[n] = e
	}
	for _, number := range sortedNames(d.Extensions) {
		de := d.Extensions[number]
		path := "extensions." + number
		old, exists := cur.extensions[number]
		ne := old
		ne.Number = number
		var fields []string
		diff := func(field string, changed bool) {
			if changed {
				fields = append(fields, field)
			}
		}
		codecs := de.Codecs
		if len(codecs) == 0 {
			codecs = nil
		}
		diff("name", old.Name != de.Name)
		diff("user", old.User != de.User)
		diff("max_calls", old.MaxCalls != de.MaxCalls)
		diff("codecs", !slices.Equal(old.Codecs, codecs))
		diff("disabled", old.Disabled != de.Disabled)
		ne.Name, ne.User, ne.MaxCalls, ne.Codecs, ne.Disabled = de.Name, de.User, de.MaxCalls, codecs, de.Disabled
		dtmf := NormalDTMFMode(de.DTMFMode)
		diff("dtmf_mode", old.DTMFMode != dtmf)
		diff("dnd", old.DND != de.DND)
		diff("forward_always", old.ForwardAlways != de.ForwardAlways)
		diff("forward_busy", old.ForwardBusy != de.ForwardBusy)
		diff("forward_no_answer", old.ForwardNoAnswer != de.ForwardNoAnswer)
		diff("no_answer_seconds", old.NoAnswerSeconds != de.NoAnswerSeconds)
		diff("pickup_group", old.PickupGroup != de.PickupGroup)
		ringOn := NormalRingOn(de.RingOn)
		diff("ring_on", old.RingOn != ringOn)
		ne.DTMFMode, ne.DND, ne.PickupGroup, ne.RingOn = dtmf, de.DND, de.PickupGroup, ringOn
		ne.ForwardAlways, ne.ForwardBusy, ne.ForwardNoAnswer = de.ForwardAlways, de.ForwardBusy, de.ForwardNoAnswer
		ne.NoAnswerSeconds = de.NoAnswerSeconds
		diff("outbound_number", old.OutboundNumber != de.OutboundNumber)
		ne.OutboundNumber = de.OutboundNumber

		md5Hex, shaHex := normalHex(de.SecretHA1MD5), normalHex(de.SecretHA1SHA256)
		if de.Secret != "" {
			md5Hex, shaHex = HA1(number, cur.realm, de.Secret)
		}
		switch {
		case md5Hex != "":
			if md5Hex != old.HA1MD5 || shaHex != old.HA1SHA256 {
				ne.HA1MD5, ne.HA1SHA256 = md5Hex, shaHex
				fields = append(fields, "secret")
			}
		case !exists:
			errs = append(errs, d.fieldError(path, "a new extension needs secret or secret_ha1_md5 and secret_ha1_sha256"))
		}
		if ne.User != "" {
			if _, ok := final[ne.User]; !ok {
				errs = append(errs, d.fieldError(path+".user", "user %q does not exist", ne.User))
			}
		}

		if !p.record(KindExtension, number, exists, fields) {
			continue
		}
		p.extPuts = append(p.extPuts, ne)
		finalExts[number] = ne
	}
	if prune {
		for _, number := range sortedNames(cur.extensions) {
			if _, named := d.Extensions[number]; !named {
				p.extDeletes = append(p.extDeletes, number)
				delete(finalExts, number)
				p.changes = append(p.changes, Change{Action: ActionDelete, Kind: KindExtension, Name: number})
			}
		}
	}

	errs = append(errs, p.planRouting(cur, d, sec, prune, finalExts)...)

	// The numbering plan of the result. What the document leaves alone keeps
	// its number, so a clash is reported where the document makes it.
	result := state{users: final, extensions: finalExts}
	untouched := func(h NumberHolder) bool {
		switch h.Kind {
		case NumberExtension:
			_, named := d.Extensions[h.Name]
			return !named
		case NumberAgent:
			_, named := d.Users[h.Name]
			return !named
		}
		return false
	}
	for _, c := range numberClashes(result.numberHolders(), untouched) {
		errs = append(errs, d.fieldError(c.holder.path(), "%s", c.problem()))
	}

	if !hasEnabledAdmin(final) {
		errs = append(errs, d.fieldError("users", "the result would have no enabled admin; keep at least one user with role admin and not disabled"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(p.changes, func(i, j int) bool {
		a, b := p.changes[i], p.changes[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Action < b.Action
	})
	return p, nil
}

func hasEnabledAdmin(users map[string]store.User) bool {
	for _, u := range users {
		if u.Role == store.RoleAdmin && !u.Disabled {
			return true
		}
	}
	return false
}

// write applies the plan and its audit entries in tx.
func (p *plan) write(tx *store.Tx, actor string) error {
	for _, u := range p.puts {
		if err := tx.PutUser(u); err != nil {
			return err
		}
	}
	for _, e := range p.extPuts {
		if err := tx.PutExtension(e); err != nil {
			return err
		}
	}
	for _, number := range p.extDeletes {
		if err := tx.DeleteExtension(number); err != nil {
			return err
		}
	}
	// Users go after extensions: a pruned user's extensions are pruned or
	// given another owner first.
	for _, name := range p.deletes {
		if err := tx.DeleteUser(name); err != nil {
			return err
		}
	}
	if p.system != nil {
		if err := tx.PutSystem(*p.system); err != nil {
			return err
		}
	}
	if p.codes != nil {
		if err := tx.PutFeatureCodes(*p.codes); err != nil {
			return err
		}
	}
	if err := p.routing.write(tx); err != nil {
		return err
	}
	for _, name := range p.sessions {
		if err := tx.DeleteUserSessions(name); err != nil {
			return err
		}
	}
	for _, c := range p.changes {
		detail := "configuration apply"
		if len(c.Fields) > 0 {
			detail += ": " + strings.Join(c.Fields, ", ")
		}
		err := tx.AddAudit(store.AuditEntry{
			User:   actor,
			Action: c.Kind + "." + c.Action,
			Object: c.Name,
			Detail: detail,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// record adds the change an object makes to the plan: a create when it is
// new, an update naming the fields that differ, nothing (false) when it is
// already as the document says.
func (p *plan) record(kind, name string, exists bool, fields []string) bool {
	switch {
	case !exists:
		p.changes = append(p.changes, Change{Action: ActionCreate, Kind: kind, Name: name})
	case len(fields) > 0:
		p.changes = append(p.changes, Change{Action: ActionUpdate, Kind: kind, Name: name, Fields: fields})
	default:
		return false
	}
	return true
}
