package provision

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testHashY is a bcrypt hash (cost 4) of "password-y".
const testHashY = "$2a$04$XvKH2Xjy9ni.uxwB.SG8ze5sAlicSFGcjDS5ofuW1bZfYQ88expoa"

func newStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newHasher() *password.Hasher { return password.NewHasher(2, 4) }

func mustParse(t *testing.T, src string) Document {
	t.Helper()
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func mustApply(t *testing.T, db *store.DB, d Document, opts Options) []Change {
	t.Helper()
	changes, err := Apply(context.Background(), db, newHasher(), d, opts)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return changes
}

// dump is the store's state as Apply sees and touches it.
type dump struct {
	Users      []store.User
	Extensions []store.Extension
	System     store.System
	Codes      store.FeatureCodes
	Audits     []store.AuditEntry
}

func takeDump(t *testing.T, db *store.DB) dump {
	t.Helper()
	var d dump
	err := db.View(func(tx *store.Tx) (err error) {
		if d.Users, err = tx.Users(); err != nil {
			return err
		}
		if d.Extensions, err = tx.Extensions(); err != nil {
			return err
		}
		if d.System, err = tx.System(); err != nil {
			return err
		}
		if d.Codes, err = tx.FeatureCodes(); err != nil {
			return err
		}
		d.Audits, err = tx.Audits(time.Time{}, time.Time{}, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func getUser(t *testing.T, db *store.DB, name string) (store.User, error) {
	t.Helper()
	var u store.User
	err := db.View(func(tx *store.Tx) (err error) { u, err = tx.User(name); return err })
	return u, err
}

const baseDoc = `version: 1
system:
  title: Hotline
users:
  admin:
    role: admin
    password: admin-password
  alice:
    display_name: Alice
    role: supervisor
    password: alice-password
    language: zh-CN
  bob:
    role: agent
    password_hash: ` + testHash + `
`

func TestApplyCreatesThenIsIdempotent(t *testing.T) {
	db := newStore(t)
	changes := mustApply(t, db, mustParse(t, baseDoc), Options{Actor: "tester"})
	want := []Change{
		{Action: ActionUpdate, Kind: KindSystem, Name: "system", Fields: []string{"title"}},
		{Action: ActionCreate, Kind: KindUser, Name: "admin"},
		{Action: ActionCreate, Kind: KindUser, Name: "alice"},
		{Action: ActionCreate, Kind: KindUser, Name: "bob"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes = %v, want %v", changes, want)
	}

	alice, err := getUser(t, db, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if alice.Role != store.RoleSupervisor || alice.DisplayName != "Alice" || alice.Language != "zh-CN" || alice.PasswordChanged.IsZero() {
		t.Errorf("alice = %+v", alice)
	}
	if ok, _ := newHasher().Verify(context.Background(), alice.PasswordHash, "alice-password"); !ok {
		t.Error("alice's plaintext password was not hashed correctly")
	}
	if bob, _ := getUser(t, db, "bob"); bob.PasswordHash != testHash {
		t.Errorf("bob's hash = %q", bob.PasswordHash)
	}

	tests := []struct {
		name string
		doc  func(t *testing.T) Document
	}{
		{"same document again", func(t *testing.T) Document { return mustParse(t, baseDoc) }},
		{"the export", func(t *testing.T) Document {
			d, err := Export(db)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}},
		{"the export as text", func(t *testing.T) Document {
			d, err := Export(db)
			if err != nil {
				t.Fatal(err)
			}
			text, err := Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(text, []byte("password:")) || bytes.Contains(text, []byte("-password")) {
				t.Errorf("export leaks a plaintext password:\n%s", text)
			}
			return mustParse(t, string(text))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := takeDump(t, db)
			if changes := mustApply(t, db, tt.doc(t), Options{Prune: true}); len(changes) != 0 {
				t.Errorf("changes = %v, want none", changes)
			}
			if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
				t.Errorf("a no-change apply wrote something")
			}
		})
	}
}

func TestExportGolden(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, `version: 1
system:
  title: "Support: 热线"
users:
  zoe:
    role: agent
    agent_number: "0042"
    password_hash: `+testHashY+`
    language: en
  admin:
    display_name: The Admin
    role: admin
    password_hash: `+testHash+`
  sam:
    role: supervisor
    password_hash: `+testHash+`
    disabled: true
extensions:
  1001:
    name: 前台 Front desk
    user: zoe
    secret_ha1_md5: `+testHA1MD5+`
    secret_ha1_sha256: `+testHA1SHA256+`
    max_calls: 3
    codecs: [PCMA, PCMU]
    dtmf_mode: info
    dnd: true
    forward_always: "+8613800000000"
    forward_busy: "201"
    forward_no_answer: "201"
    no_answer_seconds: 30
    pickup_group: front-desk
    ring_on: phone
    outbound_number: "02110000001"
  201:
    secret_ha1_md5: `+testHA1MD5+`
    secret_ha1_sha256: `+testHA1SHA256+`
    disabled: true
    pickup_group: front-desk
    ring_on: both
feature_codes:
  dnd_on: "#78"
  group_pickup: ""
`+routingSections), Options{})
	d, err := Export(db)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "export.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("export differs from %s\n got:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestApplyPartialLeavesOthersAlone(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, baseDoc), Options{})
	bobBefore, _ := getUser(t, db, "bob")
	sysBefore := takeDump(t, db).System

	changes := mustApply(t, db, mustParse(t, `version: 1
users:
  alice:
    role: agent
`), Options{})
	want := []Change{{Action: ActionUpdate, Kind: KindUser, Name: "alice", Fields: []string{"display_name", "role", "language"}}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	alice, _ := getUser(t, db, "alice")
	if alice.Role != store.RoleAgent || alice.DisplayName != "" {
		t.Errorf("alice = %+v", alice)
	}
	if ok, _ := newHasher().Verify(context.Background(), alice.PasswordHash, "alice-password"); !ok {
		t.Error("omitting the password changed it")
	}
	if bob, _ := getUser(t, db, "bob"); !reflect.DeepEqual(bob, bobBefore) {
		t.Errorf("bob touched:\n%+v\n%+v", bob, bobBefore)
	}
	if sys := takeDump(t, db).System; sys != sysBefore {
		t.Errorf("system touched: %+v", sys)
	}
}

func TestApplyPrune(t *testing.T) {
	tests := []struct {
		prune      bool
		wantBob    bool
		wantChange []Change
	}{
		{false, true, nil},
		{true, false, []Change{{Action: ActionDelete, Kind: KindUser, Name: "bob"}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("prune=", tt.prune), func(t *testing.T) {
			db := newStore(t)
			mustApply(t, db, mustParse(t, baseDoc), Options{})
			doc := mustParse(t, baseDoc)
			delete(doc.Users, "bob")
			changes := mustApply(t, db, doc, Options{Prune: tt.prune})
			if !reflect.DeepEqual(changes, tt.wantChange) {
				t.Errorf("changes = %v, want %v", changes, tt.wantChange)
			}
			_, err := getUser(t, db, "bob")
			if got := err == nil; got != tt.wantBob {
				t.Errorf("bob exists = %v (%v)", got, err)
			}
		})
	}
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, baseDoc), Options{})
	before := takeDump(t, db)

	doc := mustParse(t, `version: 1
system:
  title: New title
users:
  admin:
    role: admin
    password: a-new-admin-password
  carol:
    role: agent
    password: carol-password
`)
	changes := mustApply(t, db, doc, Options{DryRun: true, Prune: true})
	want := []Change{
		{Action: ActionUpdate, Kind: KindSystem, Name: "system", Fields: []string{"title"}},
		{Action: ActionUpdate, Kind: KindUser, Name: "admin", Fields: []string{"password"}},
		{Action: ActionDelete, Kind: KindUser, Name: "alice"},
		{Action: ActionDelete, Kind: KindUser, Name: "bob"},
		{Action: ActionCreate, Kind: KindUser, Name: "carol"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("plan = %v\nwant %v", changes, want)
	}
	if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
		t.Error("dry run wrote to the store")
	}
	// The plan is what a real apply then does.
	if real := mustApply(t, db, doc, Options{Prune: true}); !reflect.DeepEqual(real, want) {
		t.Errorf("apply = %v, want the dry run's plan", real)
	}
}

func TestApplyRefusesNoEnabledAdmin(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		prune bool
	}{
		{"disable the only admin", "version: 1\nusers:\n  admin:\n    role: admin\n    disabled: true\n", false},
		{"demote the only admin", "version: 1\nusers:\n  admin:\n    role: agent\n", false},
		{"prune the only admin", "version: 1\nusers:\n  alice:\n    role: supervisor\n", true},
		{"prune everyone", "version: 1\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newStore(t)
			mustApply(t, db, mustParse(t, baseDoc), Options{})
			before := takeDump(t, db)
			for _, dry := range []bool{true, false} {
				_, err := Apply(context.Background(), db, newHasher(), mustParse(t, tt.doc), Options{Prune: tt.prune, DryRun: dry})
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Path != "users" {
					t.Fatalf("DryRun=%v: err = %v, want a FieldError at users", dry, err)
				}
			}
			if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
				t.Error("a refused apply wrote to the store")
			}
		})
	}

	t.Run("a fresh store needs an admin", func(t *testing.T) {
		db := newStore(t)
		_, err := Apply(context.Background(), db, newHasher(),
			mustParse(t, "version: 1\nusers:\n  a:\n    role: agent\n    password: 12345678\n"), Options{})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != "users" || fe.Line != 2 {
			t.Fatalf("err = %v, want a FieldError at users, line 2", err)
		}
	})
}

func TestApplyNewUserNeedsPassword(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, baseDoc), Options{})
	src := baseDoc + "  dora:\n    role: agent\n"
	_, err := Apply(context.Background(), db, newHasher(), mustParse(t, src), Options{})
	got := positions(t, err)
	want := []where{{"users.dora", strings.Count(src, "\n") - 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v", got, want)
	}
}

func TestApplyInvalidWritesNothing(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, baseDoc), Options{})
	before := takeDump(t, db)
	d := mustParse(t, baseDoc)
	d.System.Title = "changed"
	d.Users["eve"] = User{Role: "boss", Password: "eve-password"}
	_, err := Apply(context.Background(), db, newHasher(), d, Options{})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "users.eve.role" {
		t.Fatalf("err = %v", err)
	}
	if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
		t.Error("an invalid document wrote to the store")
	}
}

func TestApplyPasswords(t *testing.T) {
	ctx := context.Background()
	db := newStore(t)
	mustApply(t, db, mustParse(t, baseDoc), Options{})
	admin0, _ := getUser(t, db, "admin")

	tests := []struct {
		name      string
		user      User
		wantField bool
		verifies  string
	}{
		{"same plaintext", User{Role: "admin", Password: "admin-password"}, false, "admin-password"},
		{"new plaintext", User{Role: "admin", Password: "another-password"}, true, "another-password"},
		{"hash", User{Role: "admin", PasswordHash: testHashY}, true, "password-y"},
		{"same hash", User{Role: "admin", PasswordHash: testHashY}, false, "password-y"},
		{"omitted keeps", User{Role: "admin"}, false, "password-y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Document{Version: Version, Users: map[string]User{"admin": tt.user}}
			changes := mustApply(t, db, d, Options{})
			changed := len(changes) == 1 && reflect.DeepEqual(changes[0].Fields, []string{"password"})
			if changed != tt.wantField || (!tt.wantField && len(changes) != 0) {
				t.Errorf("changes = %v, want password changed = %v", changes, tt.wantField)
			}
			u, _ := getUser(t, db, "admin")
			if ok, _ := newHasher().Verify(ctx, u.PasswordHash, tt.verifies); !ok {
				t.Errorf("password %q does not verify", tt.verifies)
			}
			if tt.wantField && !u.PasswordChanged.After(admin0.PasswordChanged) {
				t.Error("PasswordChanged not advanced")
			}
			admin0 = u
		})
	}
}

func TestApplyRevokesSessions(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, baseDoc), Options{})
	exp := time.Now().Add(time.Hour)
	err := db.Update(func(tx *store.Tx) error {
		for _, u := range []string{"admin", "alice", "bob"} {
			if err := tx.PutSession(store.Session{ID: "s-" + u, User: u, Expires: exp}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	d := mustParse(t, baseDoc)
	d.Users["alice"] = User{DisplayName: "Alice", Role: "supervisor", Password: "a-new-password", Language: "zh-CN"}
	d.Users["bob"] = User{Role: "agent", PasswordHash: testHash, Disabled: true}
	mustApply(t, db, d, Options{})

	for user, want := range map[string]bool{"admin": true, "alice": false, "bob": false} {
		err := db.View(func(tx *store.Tx) error { _, err := tx.Session("s-" + user); return err })
		if got := err == nil; got != want {
			t.Errorf("%s keeps session = %v, want %v (%v)", user, got, want, err)
		}
	}
}

func TestApplyAudit(t *testing.T) {
	db := newStore(t)
	changes := mustApply(t, db, mustParse(t, baseDoc), Options{Actor: "ops@cli"})
	audits := takeDump(t, db).Audits
	if len(audits) != len(changes) {
		t.Fatalf("%d audit entries for %d changes", len(audits), len(changes))
	}
	seen := map[string]bool{}
	for _, a := range audits {
		if a.User != "ops@cli" {
			t.Errorf("audit actor = %q", a.User)
		}
		seen[a.Action+" "+a.Object] = true
	}
	for _, c := range changes {
		if !seen[c.Kind+"."+c.Action+" "+c.Name] {
			t.Errorf("no audit entry for %v", c)
		}
	}
	// A no-change apply adds no audit entries.
	mustApply(t, db, mustParse(t, baseDoc), Options{Actor: "ops@cli"})
	if n := len(takeDump(t, db).Audits); n != len(audits) {
		t.Errorf("%d audit entries after a no-change apply, want %d", n, len(audits))
	}
}

// TestApplyAllOrNothing: a transaction that fails part way through its writes
// leaves nothing of the document applied.
func TestApplyAllOrNothing(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, baseDoc), Options{})
	before := takeDump(t, db)

	// So many new users that the single transaction outgrows what the store
	// commits at once: the writes fail after hundreds have been staged.
	d := mustParse(t, baseDoc)
	d.System.Title = "changed"
	d.Users["alice"] = User{Role: "agent", PasswordHash: testHash}
	long := strings.Repeat("n", 60)
	for i := range 3000 {
		d.Users[fmt.Sprintf("user%04d", i)] = User{Role: "agent", PasswordHash: testHash, DisplayName: long}
	}
	_, err := Apply(context.Background(), db, newHasher(), d, Options{})
	if !errors.Is(err, store.ErrTxnTooBig) {
		t.Fatalf("err = %v, want store.ErrTxnTooBig", err)
	}
	if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
		t.Errorf("a failed apply left changes: %d users (was %d), title %q",
			len(after.Users), len(before.Users), after.System.Title)
	}
}

func TestApplyCancelled(t *testing.T) {
	db := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Apply(ctx, db, newHasher(), mustParse(t, baseDoc), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(takeDump(t, db).Users); n != 0 {
		t.Errorf("%d users written by a cancelled apply", n)
	}
}

func TestChangeString(t *testing.T) {
	tests := []struct {
		c    Change
		want string
	}{
		{Change{Action: ActionCreate, Kind: KindUser, Name: "alice"}, "create user alice"},
		{Change{Action: ActionUpdate, Kind: KindUser, Name: "bob", Fields: []string{"role", "password"}}, "update user bob (role, password)"},
		{Change{Action: ActionUpdate, Kind: KindSystem, Name: "system", Fields: []string{"title"}}, "update system (title)"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
