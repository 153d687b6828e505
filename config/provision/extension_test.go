package provision

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/config/store"
)

// The HA1s of extension 1001's secret "s3cret-pass" under realm "ccbox-test",
// computed independently (python3 hashlib).
const (
	testHA1MD5    = "dcdd8ad397af5481cea81bab12949859"
	testHA1SHA256 = "1da993e23f7bd5f01ec1051c36228c33749dd716700ad7c38b0fe3aebc1c1edd"
)

func TestHA1(t *testing.T) {
	m, s := HA1("1001", "ccbox-test", "s3cret-pass")
	if m != testHA1MD5 || s != testHA1SHA256 {
		t.Errorf("HA1 = %s, %s", m, s)
	}
}

func TestExtensionChecks(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"number 2 digits", CheckExtensionNumber("10"), true},
		{"number 8 digits", CheckExtensionNumber("12345678"), true},
		{"number 1 digit", CheckExtensionNumber("1"), false},
		{"number 9 digits", CheckExtensionNumber("123456789"), false},
		{"number leading 0", CheckExtensionNumber("0101"), false},
		{"number letters", CheckExtensionNumber("10a1"), false},
		{"number star", CheckExtensionNumber("*72"), false},
		{"agent empty", CheckAgentNumber(""), true},
		{"agent 12 digits", CheckAgentNumber("012345678901"), true},
		{"agent 13 digits", CheckAgentNumber("0123456789012"), false},
		{"agent 1 digit", CheckAgentNumber("7"), false},
		{"agent letters", CheckAgentNumber("A7"), false},
		{"ext name", CheckExtensionName("前台 Front desk"), true},
		{"ext name long", CheckExtensionName(strings.Repeat("x", 65)), false},
		{"ext user none", CheckExtensionUser(""), true},
		{"ext user bad", CheckExtensionUser("Bob"), false},
		{"secret", CheckSecret("1001", "8 chars!"), true},
		{"secret short", CheckSecret("1001", "7 chars"), false},
		{"secret is the number", CheckSecret("10011001", "10011001"), false},
		{"secret long", CheckSecret("1001", strings.Repeat("s", 129)), false},
		{"secret control", CheckSecret("1001", "secret\x00pass"), false},
		{"md5", CheckHA1MD5(testHA1MD5), true},
		{"md5 upper", CheckHA1MD5(strings.ToUpper(testHA1MD5)), true},
		{"md5 short", CheckHA1MD5(testHA1MD5[1:]), false},
		{"md5 not hex", CheckHA1MD5("z" + testHA1MD5[1:]), false},
		{"sha256", CheckHA1SHA256(testHA1SHA256), true},
		{"sha256 given md5", CheckHA1SHA256(testHA1MD5), false},
		{"max calls 0", CheckMaxCalls(0), true},
		{"max calls 100", CheckMaxCalls(100), true},
		{"max calls 101", CheckMaxCalls(101), false},
		{"max calls negative", CheckMaxCalls(-1), false},
		{"codecs none", CheckCodecs(nil), true},
		{"codecs both", CheckCodecs([]string{"PCMA", "PCMU"}), true},
		{"codecs unknown", CheckCodecs([]string{"G729"}), false},
		{"codecs lower case", CheckCodecs([]string{"pcmu"}), false},
		{"codecs twice", CheckCodecs([]string{"PCMU", "PCMU"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", tt.err, tt.ok)
			}
			var fe *FieldError
			if tt.err != nil && (!errors.As(tt.err, &fe) || fe.Path != "" || fe.Problem == "") {
				t.Errorf("error %#v, want a *FieldError with only Problem", tt.err)
			}
		})
	}
}

func TestValidateExtensions(t *testing.T) {
	doc := func(m func(*Document)) Document {
		d := Document{Version: Version,
			Users:      map[string]User{"admin": {Role: "admin", AgentNumber: "9001"}},
			Extensions: map[string]Extension{"1001": {Secret: "long-secret"}},
		}
		m(&d)
		return d
	}
	ext := func(number string, e Extension) func(*Document) {
		return func(d *Document) { d.Extensions[number] = e }
	}
	tests := []struct {
		name string
		doc  Document
		want []string
	}{
		{"valid", doc(func(*Document) {}), nil},
		{"all fields", doc(ext("1002", Extension{Name: "Desk", User: "admin", SecretHA1MD5: testHA1MD5,
			SecretHA1SHA256: testHA1SHA256, MaxCalls: 3, Codecs: []string{"PCMA"}, Disabled: true})), nil},
		{"no secret is fine here", doc(ext("1002", Extension{})), nil},
		{"bad number", doc(ext("0100", Extension{Secret: "long-secret"})), []string{"extensions.0100"}},
		{"bad name", doc(ext("1002", Extension{Name: "a\nb"})), []string{"extensions.1002.name"}},
		{"bad user", doc(ext("1002", Extension{User: "Root"})), []string{"extensions.1002.user"}},
		{"short secret", doc(ext("1002", Extension{Secret: "short"})), []string{"extensions.1002.secret"}},
		{"secret is the number", doc(ext("10021002", Extension{Secret: "10021002"})), []string{"extensions.10021002.secret"}},
		{"secret and ha1", doc(ext("1002", Extension{Secret: "long-secret", SecretHA1MD5: testHA1MD5, SecretHA1SHA256: testHA1SHA256})), []string{"extensions.1002"}},
		{"one ha1 only", doc(ext("1002", Extension{SecretHA1MD5: testHA1MD5})), []string{"extensions.1002"}},
		{"bad ha1s", doc(ext("1002", Extension{SecretHA1MD5: "x", SecretHA1SHA256: testHA1MD5})),
			[]string{"extensions.1002.secret_ha1_md5", "extensions.1002.secret_ha1_sha256"}},
		{"max calls", doc(ext("1002", Extension{MaxCalls: 1000})), []string{"extensions.1002.max_calls"}},
		{"codecs", doc(ext("1002", Extension{Codecs: []string{"opus"}})), []string{"extensions.1002.codecs"}},
		{"bad agent number", doc(func(d *Document) { d.Users["admin"] = User{Role: "admin", AgentNumber: "x1"} }),
			[]string{"users.admin.agent_number"}},
		{"agent number is an extension", doc(func(d *Document) { d.Users["admin"] = User{Role: "admin", AgentNumber: "1001"} }),
			[]string{"users.admin.agent_number"}},
		{"two agents share a number", doc(func(d *Document) { d.Users["zed"] = User{Role: "agent", AgentNumber: "9001"} }),
			[]string{"users.zed.agent_number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, fe := range fieldErrors(t, tt.doc.Validate()) {
				got = append(got, fe.Path)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseExtensions(t *testing.T) {
	src := `version: 1
users:
  admin:
    role: admin
    agent_number: "007"
extensions:
  1001:
    name: Front desk
    user: admin
    secret: long-secret
    max_calls: 3
    codecs: [PCMA, PCMU]
    disabled: true
  1002:
    secret_ha1_md5: ` + testHA1MD5 + `
    secret_ha1_sha256: ` + testHA1SHA256 + `
`
	d := mustParse(t, src)
	want := map[string]Extension{
		"1001": {Name: "Front desk", User: "admin", Secret: "long-secret", MaxCalls: 3, Codecs: []string{"PCMA", "PCMU"}, Disabled: true},
		"1002": {SecretHA1MD5: testHA1MD5, SecretHA1SHA256: testHA1SHA256},
	}
	if !reflect.DeepEqual(d.Extensions, want) {
		t.Errorf("extensions = %+v\nwant %+v", d.Extensions, want)
	}
	if d.Users["admin"].AgentNumber != "007" {
		t.Errorf("agent number = %q, want the digits as written", d.Users["admin"].AgentNumber)
	}

	bad := `version: 1
extensions:
  1001:
    max_calls: many
    codecs: PCMU
    colour: red
  1002:
    codecs: [[PCMU]]
`
	_, err := Parse([]byte(bad))
	got := positions(t, err)
	wantPos := []where{
		{"extensions.1001.max_calls", 4},
		{"extensions.1001.codecs", 5},
		{"extensions.1001.colour", 6},
		{"extensions.1002.codecs", 8},
	}
	if !reflect.DeepEqual(got, wantPos) {
		t.Errorf("errors at %v, want %v", got, wantPos)
	}
}

const extDoc = baseDoc + `extensions:
  1001:
    name: Front desk
    user: alice
    secret: s3cret-pass
    codecs: [PCMA]
  1002:
    secret_ha1_md5: ` + testHA1MD5 + `
    secret_ha1_sha256: ` + testHA1SHA256 + `
    max_calls: 4
`

func getExtension(t *testing.T, db *store.DB, number string) (store.Extension, error) {
	t.Helper()
	var e store.Extension
	err := db.View(func(tx *store.Tx) (err error) { e, err = tx.Extension(number); return err })
	return e, err
}

func setRealm(t *testing.T, db *store.DB, realm string) {
	t.Helper()
	if err := db.Update(func(tx *store.Tx) error { return tx.SetRealm(realm) }); err != nil {
		t.Fatal(err)
	}
}

func TestApplyExtensions(t *testing.T) {
	db := newStore(t)
	setRealm(t, db, "ccbox-test")
	changes := mustApply(t, db, mustParse(t, extDoc), Options{})
	for _, want := range []Change{
		{Action: ActionCreate, Kind: KindExtension, Name: "1001"},
		{Action: ActionCreate, Kind: KindExtension, Name: "1002"},
	} {
		if !containsChange(changes, want) {
			t.Errorf("changes %v lack %v", changes, want)
		}
	}
	e, err := getExtension(t, db, "1001")
	if err != nil {
		t.Fatal(err)
	}
	if e.HA1MD5 != testHA1MD5 || e.HA1SHA256 != testHA1SHA256 || e.User != "alice" || e.Name != "Front desk" ||
		!reflect.DeepEqual(e.Codecs, []string{"PCMA"}) || e.CallLimit() != store.DefaultMaxCalls {
		t.Errorf("1001 = %+v", e)
	}

	for _, tt := range []struct {
		name string
		doc  func(t *testing.T) Document
	}{
		{"same document again", func(t *testing.T) Document { return mustParse(t, extDoc) }},
		{"the export as text", func(t *testing.T) Document {
			d, err := Export(db)
			if err != nil {
				t.Fatal(err)
			}
			text, err := Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(text, []byte("secret:")) || bytes.Contains(text, []byte("s3cret")) {
				t.Errorf("export leaks a plaintext secret:\n%s", text)
			}
			return mustParse(t, string(text))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := takeDump(t, db)
			if changes := mustApply(t, db, tt.doc(t), Options{Prune: true}); len(changes) != 0 {
				t.Errorf("changes = %v, want none", changes)
			}
			if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
				t.Error("a no-change apply wrote something")
			}
		})
	}

	steps := []struct {
		name string
		ext  Extension
		want []string // changed fields; nil = no change
	}{
		{"omitted secret keeps it", Extension{User: "alice", Name: "Front desk", Codecs: []string{"PCMA"}}, nil},
		{"new secret", Extension{User: "alice", Name: "Front desk", Codecs: []string{"PCMA"}, Secret: "another-secret"}, []string{"secret"}},
		{"upper-case HA1s of the first secret", Extension{User: "alice", Name: "Front desk", Codecs: []string{"PCMA"},
			SecretHA1MD5: strings.ToUpper(testHA1MD5), SecretHA1SHA256: strings.ToUpper(testHA1SHA256)}, []string{"secret"}},
		{"same secret as plaintext", Extension{User: "alice", Name: "Front desk", Codecs: []string{"PCMA"}, Secret: "s3cret-pass"}, nil},
		{"every other field", Extension{User: "bob", MaxCalls: 1, Disabled: true}, []string{"name", "user", "max_calls", "codecs", "disabled"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			d := Document{Version: Version, Extensions: map[string]Extension{"1001": st.ext}}
			changes := mustApply(t, db, d, Options{})
			var got []string
			if len(changes) == 1 {
				got = changes[0].Fields
			} else if len(changes) > 1 {
				t.Fatalf("changes = %v", changes)
			}
			if !reflect.DeepEqual(got, st.want) {
				t.Errorf("changed %v, want %v", got, st.want)
			}
		})
	}
	if e, _ := getExtension(t, db, "1001"); e.HA1MD5 != testHA1MD5 || e.User != "bob" || !e.Disabled {
		t.Errorf("1001 = %+v", e)
	}

	t.Run("audit", func(t *testing.T) {
		seen := map[string]bool{}
		for _, a := range takeDump(t, db).Audits {
			seen[a.Action+" "+a.Object] = true
		}
		for _, want := range []string{"extension.create 1001", "extension.create 1002", "extension.update 1001"} {
			if !seen[want] {
				t.Errorf("no audit entry %q", want)
			}
		}
	})

	t.Run("prune", func(t *testing.T) {
		d := mustParse(t, baseDoc)
		changes := mustApply(t, db, d, Options{Prune: true})
		want := []Change{
			{Action: ActionDelete, Kind: KindExtension, Name: "1001"},
			{Action: ActionDelete, Kind: KindExtension, Name: "1002"},
		}
		if !reflect.DeepEqual(changes, want) {
			t.Errorf("changes = %v, want %v", changes, want)
		}
		if n := len(takeDump(t, db).Extensions); n != 0 {
			t.Errorf("%d extensions left", n)
		}
	})
}

func containsChange(changes []Change, want Change) bool {
	for _, c := range changes {
		if reflect.DeepEqual(c, want) {
			return true
		}
	}
	return false
}

func TestApplyExtensionRealm(t *testing.T) {
	db := newStore(t)
	doc := mustParse(t, extDoc)
	// A dry run plans without fixing the realm.
	mustApply(t, db, doc, Options{DryRun: true})
	err := db.View(func(tx *store.Tx) error { _, err := tx.Realm(); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("realm after a dry run: %v, want none", err)
	}
	mustApply(t, db, doc, Options{})
	realm, err := store.EnsureRealm(db)
	if err != nil {
		t.Fatal(err)
	}
	m, s := HA1("1001", realm, "s3cret-pass")
	if e, _ := getExtension(t, db, "1001"); e.HA1MD5 != m || e.HA1SHA256 != s {
		t.Errorf("1001's HA1s are not those of its secret under realm %q: %+v", realm, e)
	}
	if changes := mustApply(t, db, doc, Options{}); len(changes) != 0 {
		t.Errorf("second apply: %v", changes)
	}
}

func TestApplyExtensionProblems(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		doc   string
		prune bool
		want  []where
	}{
		{"new extension needs a secret", baseDoc + "extensions:\n  1003:\n    name: x\n", false,
			[]where{{"extensions.1003", 17}}},
		{"unknown user", baseDoc + "extensions:\n  1003:\n    user: nobody\n    secret: long-secret\n", false,
			[]where{{"extensions.1003.user", 18}}},
		{"user pruned", "version: 1\nusers:\n  admin:\n    role: admin\nextensions:\n  1001:\n    user: alice\n", true,
			[]where{{"extensions.1001.user", 7}}},
		{"agent number taken by a stored extension", "version: 1\nusers:\n  bob:\n    role: agent\n    agent_number: \"1002\"\n", false,
			[]where{{"users.bob.agent_number", 5}}},
		{"extension taken by a stored agent number", "version: 1\nextensions:\n  8001:\n    secret: long-secret\n", false,
			[]where{{"extensions.8001", 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newStore(t)
			setRealm(t, db, "ccbox-test")
			base := mustParse(t, extDoc)
			base.Users["alice"] = User{DisplayName: "Alice", Role: "supervisor", Language: "zh-CN", AgentNumber: "8001", Password: "alice-password"}
			mustApply(t, db, base, Options{})
			before := takeDump(t, db)
			_, err := Apply(ctx, db, newHasher(), mustParse(t, tt.doc), Options{Prune: tt.prune})
			if got := positions(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v (%v), want %v", got, err, tt.want)
			}
			if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
				t.Error("a refused apply wrote to the store")
			}
		})
	}
}

// TestNumberClashMessage: the problem names both objects.
func TestNumberClashMessage(t *testing.T) {
	tests := []struct {
		holders []NumberHolder
		want    []string
	}{
		{[]NumberHolder{
			{Number: "1001", Kind: NumberAgent, Name: "alice"},
			{Number: "1001", Kind: NumberExtension, Name: "1001"},
		}, []string{"users.alice.agent_number: 1001 is already extension 1001"}},
		{[]NumberHolder{
			{Number: "77", Kind: NumberAgent, Name: "bob"},
			{Number: "77", Kind: NumberAgent, Name: "alice"},
			{Number: "78", Kind: NumberAgent, Name: "carol"},
		}, []string{"users.bob.agent_number: 77 is already the agent number of user alice"}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range numberClashes(tt.holders, nil) {
			got = append(got, c.holder.path()+": "+c.problem())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("clashes = %q, want %q", got, tt.want)
		}
	}
}

// TestApplyMovesANumber: one document may hand a number from one object to
// another; only the result has to be free of clashes.
func TestApplyMovesANumber(t *testing.T) {
	db := newStore(t)
	base := mustParse(t, baseDoc)
	base.Users["alice"] = User{Role: "supervisor", Password: "alice-password", AgentNumber: "8001"}
	mustApply(t, db, base, Options{})
	d := mustParse(t, baseDoc)
	d.Users["alice"] = User{Role: "supervisor"}
	d.Extensions = map[string]Extension{"8001": {Secret: "long-secret"}}
	mustApply(t, db, d, Options{})
	if e, err := getExtension(t, db, "8001"); err != nil || e.Number != "8001" {
		t.Errorf("8001 = %+v, %v", e, err)
	}
}

func TestCheckNumberFree(t *testing.T) {
	db := newStore(t)
	setRealm(t, db, "ccbox-test")
	base := mustParse(t, extDoc)
	base.Users["bob"] = User{Role: "agent", AgentNumber: "8001", PasswordHash: testHash}
	mustApply(t, db, base, Options{})
	tests := []struct {
		name string
		h    NumberHolder
		ok   bool
	}{
		{"free", NumberHolder{Number: "1003", Kind: NumberExtension, Name: "1003"}, true},
		{"its own", NumberHolder{Number: "8001", Kind: NumberAgent, Name: "bob"}, true},
		{"another agent's", NumberHolder{Number: "8001", Kind: NumberAgent, Name: "alice"}, false},
		{"an extension's", NumberHolder{Number: "1001", Kind: NumberAgent, Name: "alice"}, false},
		{"an agent's, for an extension", NumberHolder{Number: "8001", Kind: NumberExtension, Name: "8001"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.View(func(tx *store.Tx) error { return CheckNumberFree(tx, tt.h) })
			var fe *FieldError
			if tt.ok != (err == nil) || (err != nil && !errors.As(err, &fe)) {
				t.Errorf("CheckNumberFree = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
