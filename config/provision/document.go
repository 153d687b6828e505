package provision

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Version is the document schema version this build reads and writes.
const Version = 1

// Document is the whole configuration.
type Document struct {
	Version int             `yaml:"version"`
	System  *System         `yaml:"system,omitempty"`
	Users   map[string]User `yaml:"users,omitempty"` // keyed by login name (stable name); exported sorted

	// lines maps a field path ("users.alice.role") to its line in the parsed
	// text, so Validate can point at it. Empty for documents built in code.
	lines map[string]int
}

// System is the box-wide settings.
type System struct {
	Title string `yaml:"title"`
}

// User is one person who logs in.
type User struct {
	DisplayName  string `yaml:"display_name,omitempty"`
	Role         string `yaml:"role"`                    // admin|supervisor|agent
	Password     string `yaml:"password,omitempty"`      // plaintext, accepted on apply, never exported
	PasswordHash string `yaml:"password_hash,omitempty"` // bcrypt, exported
	Disabled     bool   `yaml:"disabled,omitempty"`
	Language     string `yaml:"language,omitempty"` // "", "en", "zh-CN"
}

// Marshal encodes d as YAML (two-space indent, users sorted by name), after a
// comment line naming the product and the schema version.
func Marshal(d Document) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# CCBox configuration, schema version %d\n", Version)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("provision: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("provision: marshal: %w", err)
	}
	return buf.Bytes(), nil
}
