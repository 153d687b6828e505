package store

import (
	"fmt"
	"sort"
	"time"
)

// CallerMode is how an outbound route chooses the caller number it sends.
type CallerMode string

// The caller-number modes.
const (
	// CallerExtension sends the calling extension's OutboundNumber (and,
	// when it has none, whatever the trunk sends by default). "" means this.
	CallerExtension CallerMode = "extension"
	// CallerFixed sends CallerNumber.Number.
	CallerFixed CallerMode = "fixed"
	// CallerPoolRegion picks a number of CallerNumber.Pool by the callee's
	// region: same city, else same province, else any.
	CallerPoolRegion CallerMode = "pool_region"
)

// Valid reports whether m is a known mode ("" included: CallerExtension).
func (m CallerMode) Valid() bool {
	switch m {
	case "", CallerExtension, CallerFixed, CallerPoolRegion:
		return true
	}
	return false
}

// Mode is m in force ("" reads as CallerExtension).
func (m CallerMode) Mode() CallerMode {
	if m == "" {
		return CallerExtension
	}
	return m
}

func (m CallerMode) String() string { return string(m.Mode()) }

// CallerNumber is a route's caller-number rule.
type CallerNumber struct {
	Mode   CallerMode `json:"mode,omitempty"`
	Number string     `json:"number,omitempty"` // CallerFixed: the number sent
	Pool   string     `json:"pool,omitempty"`   // CallerPoolRegion: a CallerPool's name
}

// OutboundRoute sends dialled numbers that match its patterns out through
// its trunks, in order (the next on a failover response). Routes are tried
// in Order, then by name; the first that matches and allows the caller wins.
type OutboundRoute struct {
	Name     string   `json:"name"`  // the key: [a-z0-9_-]{1,32}
	Order    int      `json:"order"` // lower first
	Patterns []string `json:"patterns"`
	Strip    int      `json:"strip,omitempty"`   // digits removed from the front after matching
	Prepend  string   `json:"prepend,omitempty"` // added after stripping
	Trunks   []string `json:"trunks"`            // failover order

	AllowExtensions []string `json:"allow_extensions,omitempty"` // empty: every extension
	AllowRoles      []string `json:"allow_roles,omitempty"`      // roles of the extension's owner; empty: any

	CallerNumber CallerNumber `json:"caller_number,omitzero"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// OutboundRoute returns the route called name, or ErrNotFound.
func (tx *Tx) OutboundRoute(name string) (OutboundRoute, error) {
	var r OutboundRoute
	if !validKeyPart(name) {
		return r, ErrNotFound
	}
	err := tx.getJSON(routeKey(name), &r)
	return r, err
}

// OutboundRoutes returns every route in the order they are tried: by Order,
// then by name.
func (tx *Tx) OutboundRoutes() ([]OutboundRoute, error) {
	var out []OutboundRoute
	err := scanJSON(tx, prefixRoute, func(r OutboundRoute) { out = append(out, r) })
	sortRoutes(out)
	return out, err
}

func sortRoutes(rs []OutboundRoute) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Order != rs[j].Order {
			return rs[i].Order < rs[j].Order
		}
		return rs[i].Name < rs[j].Name
	})
}

// PutOutboundRoute creates or replaces the route r.Name.
func (tx *Tx) PutOutboundRoute(r OutboundRoute) error {
	if !validKeyPart(r.Name) {
		return fmt.Errorf("put outbound route: %w: name %q", ErrInvalid, r.Name)
	}
	stamp(tx, &r.Created, &r.Updated)
	return tx.putJSON(routeKey(r.Name), r, 0)
}

// DeleteOutboundRoute removes the route, or returns ErrNotFound.
func (tx *Tx) DeleteOutboundRoute(name string) error {
	return tx.deleteExisting(routeKey(name), name)
}

// ReorderOutboundRoutes gives the routes the order of names (Order 10, 20,
// 30…, leaving room to insert one by hand). names must hold every route
// exactly once; otherwise it returns ErrInvalid and changes nothing.
func (tx *Tx) ReorderOutboundRoutes(names []string) error {
	routes, err := tx.OutboundRoutes()
	if err != nil {
		return err
	}
	byName := make(map[string]OutboundRoute, len(routes))
	for _, r := range routes {
		byName[r.Name] = r
	}
	if len(names) != len(routes) {
		return fmt.Errorf("reorder routes: %w: %d names for %d routes", ErrInvalid, len(names), len(routes))
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if _, ok := byName[n]; !ok || seen[n] {
			return fmt.Errorf("reorder routes: %w: %q is unknown or given twice", ErrInvalid, n)
		}
		seen[n] = true
	}
	for i, n := range names {
		r := byName[n]
		if r.Order == (i+1)*10 {
			continue
		}
		r.Order = (i + 1) * 10
		if err := tx.PutOutboundRoute(r); err != nil {
			return err
		}
	}
	return nil
}
