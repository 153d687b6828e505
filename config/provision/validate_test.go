package provision

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// testHash is a valid bcrypt hash (cost 4) of "password-x".
const testHash = "$2a$04$Dfbw7zINULRHhFMhvEG5t.YP9M.YyqAwdV73vJr67yn7w8K8RbsK."

func TestValidateParsedReportsEveryProblemWithLines(t *testing.T) {
	src := `version: 1
users:
  alice:
    role: boss
    password: short
  Bob:
    role: agent
    password_hash: ` + testHash + `
`
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := positions(t, d.Validate())
	want := []where{
		{"users.Bob", 6},
		{"users.alice.role", 4},
		{"users.alice.password", 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v", got, want)
	}
}

func TestValidate(t *testing.T) {
	ok := func(m func(*Document)) Document {
		d := Document{Version: Version, System: &System{Title: "Box"}, Users: map[string]User{
			"admin": {Role: "admin", Password: "long enough"},
		}}
		m(&d)
		return d
	}
	user := func(name string, u User) func(*Document) {
		return func(d *Document) { d.Users[name] = u }
	}
	tests := []struct {
		name string
		doc  Document
		want []string // paths
	}{
		{"valid", ok(func(*Document) {}), nil},
		{"valid without system or users", Document{Version: Version}, nil},
		{"missing version", ok(func(d *Document) { d.Version = 0 }), []string{"version"}},
		{"future version", ok(func(d *Document) { d.Version = 2 }), []string{"version"}},
		{"title 64 chars", ok(func(d *Document) { d.System.Title = strings.Repeat("题", 64) }), nil},
		{"title 65 chars", ok(func(d *Document) { d.System.Title = strings.Repeat("t", 65) }), []string{"system.title"}},
		{"name chars", ok(user("a.b_c-9", User{Role: "agent", Password: "12345678"})), nil},
		{"name 32", ok(user(strings.Repeat("a", 32), User{Role: "agent", PasswordHash: testHash})), nil},
		{"name 33", ok(user(strings.Repeat("a", 33), User{Role: "agent", PasswordHash: testHash})), []string{"users." + strings.Repeat("a", 33)}},
		{"name upper", ok(user("Alice", User{Role: "agent", PasswordHash: testHash})), []string{"users.Alice"}},
		{"name leading dot", ok(user(".x", User{Role: "agent", PasswordHash: testHash})), []string{"users..x"}},
		{"name space", ok(user("a b", User{Role: "agent", PasswordHash: testHash})), []string{"users.a b"}},
		{"name empty", ok(user("", User{Role: "agent", PasswordHash: testHash})), []string{"users."}},
		{"role missing", ok(user("x", User{Password: "12345678"})), []string{"users.x.role"}},
		{"role unknown", ok(user("x", User{Role: "root", Password: "12345678"})), []string{"users.x.role"}},
		{"both passwords", ok(user("x", User{Role: "agent", Password: "12345678", PasswordHash: testHash})), []string{"users.x"}},
		{"password short", ok(user("x", User{Role: "agent", Password: "1234567"})), []string{"users.x.password"}},
		{"password long", ok(user("x", User{Role: "agent", Password: strings.Repeat("p", 73)})), []string{"users.x.password"}},
		{"password blank", ok(user("x", User{Role: "agent", Password: "         "})), []string{"users.x.password"}},
		{"hash invalid", ok(user("x", User{Role: "agent", PasswordHash: "md5:abc"})), []string{"users.x.password_hash"}},
		{"language", ok(user("x", User{Role: "agent", Language: "fr", PasswordHash: testHash})), []string{"users.x.language"}},
		{"display name 64", ok(user("x", User{Role: "agent", DisplayName: strings.Repeat("名", 64)})), nil},
		{"display name 65", ok(user("x", User{Role: "agent", DisplayName: strings.Repeat("n", 65)})), []string{"users.x.display_name"}},
		{"display name control", ok(user("x", User{Role: "agent", DisplayName: "a\x1bb"})), []string{"users.x.display_name"}},
		{"title control", ok(func(d *Document) { d.System.Title = "a\nb" }), []string{"system.title"}},
		{"title invalid utf-8", ok(func(d *Document) { d.System.Title = "\xff" }), []string{"system.title"}},
		{"no password is fine here", ok(user("x", User{Role: "agent"})), nil},
		{"several, sorted by user", ok(func(d *Document) {
			d.Users["b"] = User{Role: "x"}
			d.Users["a"] = User{Role: "agent", Language: "de"}
		}), []string{"users.a.language", "users.b.role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, fe := range fieldErrors(t, tt.doc.Validate()) {
				got = append(got, fe.Path)
				if fe.Line != 0 {
					t.Errorf("line %d for a document built in code", fe.Line)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChecks: the single-value rules the web API shares return a *FieldError
// holding only the problem.
func TestChecks(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
	}{
		{"user name", CheckUserName, "agent.007", true},
		{"user name upper", CheckUserName, "Agent", false},
		{"user name empty", CheckUserName, "", false},
		{"display name empty", CheckDisplayName, "", true},
		{"display name tab", CheckDisplayName, "a\tb", false},
		{"title", CheckTitle, "客服中心", true},
		{"title long", CheckTitle, strings.Repeat("x", 65), false},
		{"role", CheckRole, "supervisor", true},
		{"role empty", CheckRole, "", false},
		{"role unknown", CheckRole, "Admin", false},
		{"language", CheckLanguage, "zh-CN", true},
		{"language empty", CheckLanguage, "", true},
		{"language unknown", CheckLanguage, "zh", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("%s(%q) = %v, want ok=%v", tt.name, tt.in, err, tt.ok)
			}
			if err == nil {
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != "" || fe.Line != 0 || fe.Problem == "" {
				t.Errorf("error %#v, want a *FieldError with only Problem", err)
			}
		})
	}
}
