package provision

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fieldErrors unpacks a joined error into its *FieldError parts.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	parts := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	var out []*FieldError
	for _, e := range parts {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("not a *FieldError: %v", e)
		}
		out = append(out, fe)
	}
	return out
}

// where is a FieldError's position, for comparing without the wording.
type where struct {
	Path string
	Line int
}

func positions(t *testing.T, err error) []where {
	t.Helper()
	var out []where
	for _, fe := range fieldErrors(t, err) {
		out = append(out, where{fe.Path, fe.Line})
	}
	return out
}

func TestParse(t *testing.T) {
	src := `# comment
version: 1
system:
  title: "Hotline 热线"
users:
  alice:
    display_name: Alice Admin
    role: admin
    password: "correct horse"
    language: zh-CN
  bob:
    role: agent
    password_hash: $2a$04$Dfbw7zINULRHhFMhvEG5t.YP9M.YyqAwdV73vJr67yn7w8K8RbsK.
    disabled: true
  carol: &agent
    role: agent
    password: 12345678
  dave: *agent
`
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Document{
		Version: 1,
		System:  &System{Title: "Hotline 热线"},
		Users: map[string]User{
			"alice": {DisplayName: "Alice Admin", Role: "admin", Password: "correct horse", Language: "zh-CN"},
			"bob":   {Role: "agent", PasswordHash: "$2a$04$Dfbw7zINULRHhFMhvEG5t.YP9M.YyqAwdV73vJr67yn7w8K8RbsK.", Disabled: true},
			"carol": {Role: "agent", Password: "12345678"},
			"dave":  {Role: "agent", Password: "12345678"},
		},
	}
	d.lines = nil
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got  %+v\nwant %+v", d, want)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n"} {
		d, err := Parse([]byte(src))
		if err != nil || d.Version != 0 || d.Users != nil || d.System != nil {
			t.Errorf("Parse(%q) = %+v, %v", src, d, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []where
	}{
		{
			name: "unknown, duplicate and wrong type together",
			src: `version: 1
users:
  alice:
    role: admin
    colour: blue
  bob:
    role: agent
    disabled: "yes"
  alice:
    role: agent
`,
			want: []where{
				{"users.alice.colour", 5},
				{"users.bob.disabled", 8},
				{"users.alice", 9},
			},
		},
		{
			name: "top level",
			src:  "version: one\nsettings: {}\nversion: 1\n",
			want: []where{{"version", 1}, {"settings", 2}, {"version", 3}},
		},
		{
			name: "wrong shapes",
			src:  "version: 1\nsystem: [a, b]\nusers:\n  alice: admin\n  bob:\n    role: [agent]\n",
			want: []where{{"system", 2}, {"users.alice", 4}, {"users.bob.role", 6}},
		},
		{
			name: "root not a mapping",
			src:  "- version: 1\n",
			want: []where{{"", 1}},
		},
		{
			name: "syntax",
			src:  "version: 1\nusers: [\n",
			want: []where{{"", 2}},
		},
		{
			name: "two documents",
			src:  "version: 1\n---\nversion: 1\n",
			want: []where{{"", 2}}, // where the second document starts
		},
		{
			name: "merge key",
			src:  "version: 1\nusers:\n  a: &a {role: agent}\n  b:\n    <<: *a\n",
			want: []where{{"users.b", 5}},
		},
		{
			name: "system key",
			src:  "version: 1\nsystem:\n  title: x\n  name: y\n",
			want: []where{{"system.name", 4}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if got := positions(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v, want %v\n%v", got, tt.want, err)
			}
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	// The message format is part of the CLI's output contract.
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{Path: "users.a.role", Line: 7, Problem: "is required"}, "line 7: users.a.role: is required"},
		{FieldError{Path: "version", Problem: "is required"}, "version: is required"},
		{FieldError{Line: 3, Problem: "YAML syntax: x"}, "line 3: YAML syntax: x"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	d := Document{
		Version: Version,
		System:  &System{Title: "Box: \"quoted\" #1"},
		Users: map[string]User{
			"zed":   {Role: "agent", PasswordHash: "$2a$04$Dfbw7zINULRHhFMhvEG5t.YP9M.YyqAwdV73vJr67yn7w8K8RbsK."},
			"alice": {Role: "admin", DisplayName: "Ålice", Language: "en", Disabled: true, PasswordHash: "$2a$04$Dfbw7zINULRHhFMhvEG5t.YP9M.YyqAwdV73vJr67yn7w8K8RbsK."},
		},
	}
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(first, "# CCBox") || !strings.Contains(first, "version 1") {
		t.Errorf("first line = %q", first)
	}
	if strings.Index(string(out), "alice:") > strings.Index(string(out), "zed:") {
		t.Error("users not sorted")
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(d)): %v\n%s", err, out)
	}
	back.lines = nil
	if !reflect.DeepEqual(back, d) {
		t.Errorf("round trip\n got %+v\nwant %+v", back, d)
	}
}
