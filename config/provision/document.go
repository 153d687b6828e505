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

	// Extensions are the SIP accounts, keyed by number; exported sorted.
	Extensions map[string]Extension `yaml:"extensions,omitempty"`

	// FeatureCodes sets codes of the feature-code table by key
	// ("dnd_on": "*78"); "" disables a feature, and a key left out keeps
	// its code. Export writes every key.
	FeatureCodes map[string]string `yaml:"feature_codes,omitempty"`

	// Trunks are the carriers, keyed by name; exported without secrets.
	Trunks map[string]Trunk `yaml:"trunks,omitempty"`
	// DIDs are the inbound numbers, keyed by number.
	DIDs map[string]DID `yaml:"dids,omitempty"`
	// InboundDefault is where calls to a number no DID names go; left out:
	// unchanged (cleared with --prune); type none (or null): refused with 404.
	InboundDefault *Destination `yaml:"inbound_default,omitempty"`
	// OutboundRoutes are keyed by name and tried by order.
	OutboundRoutes map[string]OutboundRoute `yaml:"outbound_routes,omitempty"`
	// CallerPools are sets of caller numbers picked by region.
	CallerPools map[string]CallerPool `yaml:"caller_pools,omitempty"`
	// Blacklist is a list: one number may be listed once per direction.
	Blacklist []BlacklistEntry `yaml:"blacklist,omitempty"`
	// OutboundPolicy is the toll-fraud guard; left out: unchanged. Export
	// writes it in full.
	OutboundPolicy *OutboundPolicy `yaml:"outbound_policy,omitempty"`

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
	AgentNumber  string `yaml:"agent_number,omitempty"`  // 工号; shares the numbering plan with extensions
	Password     string `yaml:"password,omitempty"`      // plaintext, accepted on apply, never exported
	PasswordHash string `yaml:"password_hash,omitempty"` // bcrypt, exported
	Disabled     bool   `yaml:"disabled,omitempty"`
	Language     string `yaml:"language,omitempty"` // "", "en", "zh-CN"
}

// Extension is one SIP account. Its secret is given either as plaintext
// (accepted on apply, never exported) or as the pair of digest HA1s that
// export prints; HA1s are bound to the box's realm.
type Extension struct {
	Name            string   `yaml:"name,omitempty"`              // display name, at most 64 characters
	User            string   `yaml:"user,omitempty"`              // owning user; must exist
	Secret          string   `yaml:"secret,omitempty"`            // plaintext, never exported
	SecretHA1MD5    string   `yaml:"secret_ha1_md5,omitempty"`    // hex MD5(number:realm:secret)
	SecretHA1SHA256 string   `yaml:"secret_ha1_sha256,omitempty"` // hex SHA-256(number:realm:secret)
	MaxCalls        int      `yaml:"max_calls,omitempty"`         // concurrent calls; 0 = default (2)
	Codecs          []string `yaml:"codecs,omitempty,flow"`       // PCMU/PCMA in preference order; empty = both, PCMU first
	Disabled        bool     `yaml:"disabled,omitempty"`

	// Call features; left out means off (or the default).
	DTMFMode        string `yaml:"dtmf_mode,omitempty"`         // rfc4733 (default), info or inband
	DND             bool   `yaml:"dnd,omitempty"`               // do not disturb
	ForwardAlways   string `yaml:"forward_always,omitempty"`    // forward every call to this number
	ForwardBusy     string `yaml:"forward_busy,omitempty"`      // forward when busy or on DND
	ForwardNoAnswer string `yaml:"forward_no_answer,omitempty"` // forward after no_answer_seconds of ringing
	NoAnswerSeconds int    `yaml:"no_answer_seconds,omitempty"` // 0 = 20; else 5-300
	PickupGroup     string `yaml:"pickup_group,omitempty"`      // same group: group pickup
	RingOn          string `yaml:"ring_on,omitempty"`           // both (default), phone or seat
	OutboundNumber  string `yaml:"outbound_number,omitempty"`   // caller number of its outside calls (route mode extension)
}

// trunkSecretComment heads the trunks of a document that has them: export
// never writes a trunk's secret, and apply keeps it when secret is left out.
const trunkSecretComment = "Trunk secrets are not exported; a trunk without secret keeps its stored one."

// Marshal encodes d as YAML (two-space indent, users sorted by name), after a
// comment line naming the product and the schema version.
func Marshal(d Document) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# CCBox configuration, schema version %d\n", Version)
	var root yaml.Node
	if err := root.Encode(d); err != nil {
		return nil, fmt.Errorf("provision: marshal: %w", err)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "trunks" {
			root.Content[i].HeadComment = trunkSecretComment
		}
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("provision: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("provision: marshal: %w", err)
	}
	return buf.Bytes(), nil
}
