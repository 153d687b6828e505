package dialplan

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a blacklist entry (seed 002: 号码 at most 20 characters, 描述 at
// most 50).
const (
	MaxBlacklistNumber      = 20
	MaxBlacklistDescription = 50
)

// ErrBadDirection is returned by ParseDirection for anything but the names
// of a Direction.
var ErrBadDirection = errors.New("dialplan: direction must be inbound, outbound or both")

// Direction is which calls a blacklist entry blocks. The zero value is
// DirUnknown, which blocks nothing.
type Direction uint8

const (
	DirUnknown  Direction = iota
	DirInbound            // 呼入: the number cannot call in
	DirOutbound           // 呼出: nobody calls the number
	DirBoth               // 双向
)

var directionNames = [...]string{
	DirUnknown:  "unknown",
	DirInbound:  "inbound",
	DirOutbound: "outbound",
	DirBoth:     "both",
}

func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return "unknown"
}

// ParseDirection reads "inbound", "outbound" or "both" (any case), or the
// console's Chinese names 呼入, 呼出, 双向.
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "inbound", "呼入":
		return DirInbound, nil
	case "outbound", "呼出":
		return DirOutbound, nil
	case "both", "双向":
		return DirBoth, nil
	}
	return DirUnknown, ErrBadDirection
}

// MarshalText writes the direction's name.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what ParseDirection reads.
func (d *Direction) UnmarshalText(b []byte) error {
	v, err := ParseDirection(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// covers says whether an entry of direction d blocks a call going dir.
func (d Direction) covers(dir Direction) bool {
	switch d {
	case DirBoth:
		return dir != DirUnknown
	case DirInbound, DirOutbound:
		return dir == d || dir == DirBoth
	}
	return false
}

// BlacklistEntry is one blocked number.
type BlacklistEntry struct {
	Number      string
	Direction   Direction
	Description string
}

// CheckBlacklistEntry validates an entry as an admin typed it: a phone
// number of at most 20 characters, a direction, a description of at most 50
// characters without control characters. Errors are *FieldError.
func CheckBlacklistEntry(p NumberPlan, e BlacklistEntry) error {
	if e.Number == "" {
		return fieldErr("number", "the number is empty", ErrBadNumber)
	}
	if utf8.RuneCountInString(e.Number) > MaxBlacklistNumber {
		return fieldErr("number", "longer than 20 characters", ErrBadNumber)
	}
	if _, err := p.Normalize(e.Number); err != nil {
		return fieldErr("number", "not a phone number", ErrBadNumber)
	}
	if e.Direction < DirInbound || e.Direction > DirBoth {
		return fieldErr("direction", "must be inbound, outbound or both", ErrBadDirection)
	}
	if utf8.RuneCountInString(e.Description) > MaxBlacklistDescription {
		return fieldErr("description", "longer than 50 characters", nil)
	}
	if !utf8.ValidString(e.Description) || strings.IndexFunc(e.Description, unicode.IsControl) >= 0 {
		return fieldErr("description", "holds a control character", nil)
	}
	return nil
}

// Blacklist answers "is this number blocked this way?" across the forms a
// number is written in: entries and calls are compared by Number.Key. It is
// read-only once built and safe for concurrent use; rebuild it on change.
type Blacklist struct {
	entries map[string][]BlacklistEntry
}

// NewBlacklist builds the list. An entry whose number is not a phone number
// is left out (CheckBlacklistEntry keeps those from being stored).
func NewBlacklist(p NumberPlan, entries []BlacklistEntry) *Blacklist {
	b := &Blacklist{entries: make(map[string][]BlacklistEntry, len(entries))}
	for _, e := range entries {
		n, _ := p.Normalize(e.Number)
		k := n.Key()
		if k == "" {
			continue
		}
		b.entries[k] = append(b.entries[k], e)
	}
	return b
}

// Blocked says whether n is blocked for a call going dir (DirInbound: n
// calls in; DirOutbound: n is called), and by which entry. An entry for the
// exact direction is preferred over a "both" one, so its description is the
// one shown.
func (b *Blacklist) Blocked(n Number, dir Direction) (BlacklistEntry, bool) {
	if b == nil || len(b.entries) == 0 {
		return BlacklistEntry{}, false
	}
	list := b.entries[n.Key()]
	var found BlacklistEntry
	ok := false
	for _, e := range list {
		if !e.Direction.covers(dir) {
			continue
		}
		if e.Direction == dir {
			return e, true
		}
		if !ok {
			found, ok = e, true
		}
	}
	return found, ok
}

// Len is the number of entries.
func (b *Blacklist) Len() int {
	if b == nil {
		return 0
	}
	n := 0
	for _, l := range b.entries {
		n += len(l)
	}
	return n
}
