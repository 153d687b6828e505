package dialplan

import (
	"errors"
	"fmt"
)

// ErrBadNumber is returned by Normalize for an empty string, a string longer
// than 32 characters, or one holding anything but digits, one leading '+' and
// the separators people type (spaces, dashes, dots, parentheses).
var ErrBadNumber = errors.New("dialplan: not a phone number")

// ErrBadPattern is returned (inside a *PatternError, which says where) by
// ParsePattern for a malformed dial pattern.
var ErrBadPattern = errors.New("dialplan: bad dial pattern")

// ErrNoRoute is returned by SelectRoute when no route's pattern matches the
// dialled number.
var ErrNoRoute = errors.New("dialplan: no route for the number")

// ErrNotAllowed is returned by SelectRoute when routes match the dialled
// number but none of them may be used by the calling extension.
var ErrNotAllowed = errors.New("dialplan: no route the caller may use")

// ErrBadRegionCSV is returned by ParseRegionCSV when at least one line is
// bad; the lines are listed in the []LineError it returns beside it.
var ErrBadRegionCSV = errors.New("dialplan: bad region table")

// ErrNoCallerNumber is returned by PickCaller when every number of the pool
// is at its concurrent-call limit (or the pool is empty).
var ErrNoCallerNumber = errors.New("dialplan: no caller number available")

// ErrInvalid is wrapped by every *FieldError: a configuration value (blacklist
// entry, route, policy, business hours) that cannot be used.
var ErrInvalid = errors.New("dialplan: invalid configuration")

// PatternError says where a dial pattern is malformed. Pos is the byte offset
// of the offending character in Pattern (len(Pattern) when something is
// missing at the end). It matches ErrBadPattern with errors.Is.
type PatternError struct {
	Pattern string
	Pos     int
	Msg     string
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("dial pattern %q at %d: %s", e.Pattern, e.Pos, e.Msg)
}

func (e *PatternError) Unwrap() error { return ErrBadPattern }

// LineError is one bad line of a region CSV; Line counts from 1, as editors do.
type LineError struct {
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// FieldError names the field of a configuration value that is invalid, so that
// the API and configuration-as-code can point at it (provision prefixes the
// path). It matches ErrInvalid with errors.Is, and Err (when set) as well.
type FieldError struct {
	Field string
	Msg   string
	Err   error // a more precise sentinel (ErrBadNumber, ErrBadPattern), or nil
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func (e *FieldError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

func fieldErr(field, msg string, err error) error {
	return &FieldError{Field: field, Msg: msg, Err: err}
}
