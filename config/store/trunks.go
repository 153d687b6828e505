package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// TrunkKind is how the box reaches a carrier.
type TrunkKind string

// The trunk kinds.
const (
	// TrunkRegister registers with the carrier (outbound REGISTER with
	// digest) and authenticates its INVITEs the same way.
	TrunkRegister TrunkKind = "register"
	// TrunkIP exchanges calls with fixed addresses, without registering.
	TrunkIP TrunkKind = "ip"
)

// Valid reports whether k is a known kind.
func (k TrunkKind) Valid() bool { return k == TrunkRegister || k == TrunkIP }

func (k TrunkKind) String() string { return string(k) }

// Defaults of a trunk's zero values.
const (
	DefaultTrunkPort            = 5060
	DefaultTrunkExpires         = 300 // seconds
	DefaultTrunkOptionsInterval = 30  // seconds
)

// Trunk is a connection to a carrier. The store checks only its key
// (provision.CheckTrunk holds the rules for the values).
type Trunk struct {
	Name      string    `json:"name"` // the key: [a-z0-9_-]{1,32}
	Kind      TrunkKind `json:"kind"`
	Host      string    `json:"host"`                // carrier's host name or IP
	Port      int       `json:"port,omitempty"`      // 0 = DefaultTrunkPort
	Transport string    `json:"transport,omitempty"` // "" or "udp", "tcp", "tls"

	// Registration and digest credentials.
	Username     string `json:"username,omitempty"`      // user part of the AOR (and of the R-URI of inbound calls)
	AuthUsername string `json:"auth_username,omitempty"` // digest user name; "" = Username
	// SealedSecret is the digest password sealed by DB.SealSecret with
	// TrunkSecretLabel(Name); "" = none. DB.TrunkSecret opens it. It is
	// never returned by the API nor exported.
	SealedSecret string `json:"sealed_secret,omitempty"`
	Realm        string `json:"realm,omitempty"`       // expected digest realm; "" = whatever the carrier sends
	FromDomain   string `json:"from_domain,omitempty"` // host of From/AOR; "" = Host
	Expires      int    `json:"expires,omitempty"`     // requested registration expiry, seconds; 0 = DefaultTrunkExpires

	// Addresses are IPs or CIDRs calls from this trunk are accepted from;
	// empty = the address Host resolves to.
	Addresses []string `json:"addresses,omitempty"`

	MaxCalls        int      `json:"max_calls,omitempty"`        // concurrent calls; 0 = no limit
	CallsPerMinute  int      `json:"calls_per_minute,omitempty"` // new outbound calls per minute; 0 = no limit
	Codecs          []string `json:"codecs,omitempty"`           // preference order; empty = DefaultCodecs
	DTMFMode        string   `json:"dtmf_mode,omitempty"`        // "" (rfc4733), "info" or "inband"
	CalledFrom      string   `json:"called_from,omitempty"`      // inbound called number: "" or "ruri", "to", "diversion"
	CallerFrom      string   `json:"caller_from,omitempty"`      // inbound caller number: "" or "from", "pai"
	OptionsInterval int      `json:"options_interval,omitempty"` // OPTIONS keep-alive period, seconds; 0 = DefaultTrunkOptionsInterval
	Disabled        bool     `json:"disabled,omitempty"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// HasSecret reports whether a digest password is stored (what the API shows
// instead of the secret).
func (t Trunk) HasSecret() bool { return t.SealedSecret != "" }

// SIPPort is the carrier's port in force.
func (t Trunk) SIPPort() int {
	if t.Port <= 0 {
		return DefaultTrunkPort
	}
	return t.Port
}

// SIPTransport is the transport in force: "udp", "tcp" or "tls".
func (t Trunk) SIPTransport() string {
	if t.Transport == "" {
		return "udp"
	}
	return t.Transport
}

// RegisterExpiry is the registration expiry to request.
func (t Trunk) RegisterExpiry() time.Duration {
	if t.Expires <= 0 {
		return DefaultTrunkExpires * time.Second
	}
	return time.Duration(t.Expires) * time.Second
}

// OptionsEvery is the OPTIONS keep-alive period in force.
func (t Trunk) OptionsEvery() time.Duration {
	if t.OptionsInterval <= 0 {
		return DefaultTrunkOptionsInterval * time.Second
	}
	return time.Duration(t.OptionsInterval) * time.Second
}

// DigestUsername is the user name for digest authentication.
func (t Trunk) DigestUsername() string {
	if t.AuthUsername == "" {
		return t.Username
	}
	return t.AuthUsername
}

// CodecPreference is the codec list in force, most preferred first.
func (t Trunk) CodecPreference() []string {
	if len(t.Codecs) == 0 {
		return DefaultCodecs()
	}
	return append([]string(nil), t.Codecs...)
}

// TrunkSecretLabel is the label a trunk's secret is sealed with: the sealed
// value opens only for the trunk it was made for.
func TrunkSecretLabel(name string) string { return "trunk/" + name }

// SealTrunkSecret seals plain for trunk name (SealSecret with TrunkSecretLabel).
func (db *DB) SealTrunkSecret(name, plain string) (string, error) {
	return db.SealSecret(TrunkSecretLabel(name), plain)
}

// TrunkSecret opens t's digest password; "" when it has none. Errors as
// OpenSecret (ErrNoSecretKey, ErrSecretKey).
func (db *DB) TrunkSecret(t Trunk) (string, error) {
	s, err := db.OpenSecret(TrunkSecretLabel(t.Name), t.SealedSecret)
	if err != nil {
		return "", fmt.Errorf("trunk %q: %w", t.Name, err)
	}
	return s, nil
}

// Trunk returns the trunk called name, or ErrNotFound.
func (tx *Tx) Trunk(name string) (Trunk, error) {
	var t Trunk
	if !validKeyPart(name) {
		return t, ErrNotFound
	}
	err := tx.getJSON(trunkKey(name), &t)
	return t, err
}

// Trunks returns every trunk, sorted by name.
func (tx *Tx) Trunks() ([]Trunk, error) {
	var out []Trunk
	err := scanJSON(tx, prefixTrunk, func(t Trunk) { out = append(out, t) })
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutTrunk creates or replaces the trunk t.Name (Created set when zero,
// Updated to now). The secret must already be sealed (SealTrunkSecret).
func (tx *Tx) PutTrunk(t Trunk) error {
	if !validKeyPart(t.Name) {
		return fmt.Errorf("put trunk: %w: name %q", ErrInvalid, t.Name)
	}
	stamp(tx, &t.Created, &t.Updated)
	return tx.putJSON(trunkKey(t.Name), t, 0)
}

// DeleteTrunk removes the trunk, or returns ErrNotFound. Routes and DIDs
// naming it are not changed here: provision.CheckReferences finds them.
func (tx *Tx) DeleteTrunk(name string) error { return tx.deleteExisting(trunkKey(name), name) }

// scanJSON decodes every value under prefix as a T.
func scanJSON[T any](tx *Tx, prefix string, fn func(T)) error {
	return tx.scan(prefix, func(key, val []byte) error {
		var v T
		if err := json.Unmarshal(val, &v); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		fn(v)
		return nil
	})
}

// stamp sets created to now when it is zero, and updated to now.
func stamp(tx *Tx, created, updated *time.Time) {
	now := tx.db.now()
	if created.IsZero() {
		*created = now
	}
	*updated = now
}

// deleteExisting deletes key, or returns ErrNotFound when it is absent.
// name is the key part the caller validated (or not).
func (tx *Tx) deleteExisting(key []byte, name string) error {
	if !validKeyPart(name) {
		return ErrNotFound
	}
	ok, err := tx.exists(key)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return tx.delete(key)
}
