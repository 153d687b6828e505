package provision

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/store"
)

// Limits of the document's values.
const (
	maxNameLen = 32 // bytes (the name is ASCII)
	maxTextLen = 64 // characters, for titles and display names
)

// FieldError is one problem in a document: where (a dotted path such as
// "users.alice.role", and the line when the document was parsed from text)
// and what. Parse, Validate and Apply report problems as *FieldError values,
// several joined with errors.Join.
type FieldError struct {
	Path    string // "" for the document as a whole
	Line    int    // 1-based; 0 when unknown
	Problem string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

// line returns the parsed line of path, or of its nearest parent that has one
// (a missing key is reported at the mapping that lacks it).
func (d Document) line(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (d Document) fieldError(path, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Line: d.line(path), Problem: fmt.Sprintf(format, args...)}
}

// Validate reports every problem at once as errors.Join of *FieldError{Path: "users.alice.role", Line int, Problem}.
// Rules: version must equal Version; user names 1-32 chars [a-z0-9._-] starting with a letter or digit; role known;
// not both password and password_hash; password passes password.Check; password_hash passes IsHash;
// title and display_name <= 64 chars without control characters; language known; agent_number per
// CheckAgentNumber. Extensions: the number, name, user, secret (or both HA1s, not both forms), max_calls
// and codecs per their Check functions, and the call features (dtmf_mode, the forwards,
// no_answer_seconds, pickup_group, ring_on) per theirs. Each feature code per CheckFeatureCode. No number is
// held twice in the numbering plan (extensions and agent numbers). (That a new user needs a password,
// a new extension a secret, an extension's user exists, and the resulting feature-code table is free
// of clashes is checked by Apply, which knows the store.)
// Trunks, DIDs, inbound_default, outbound routes, caller pools, the
// blacklist and the outbound policy per CheckTrunk, CheckTrunkSecret,
// CheckDID, CheckDestination, CheckOutboundRoute, CheckCallerPool,
// CheckBlacklistEntry (no number and direction twice) and
// CheckOutboundPolicy, and references within the document; references to
// what the store holds are checked by Apply.
func (d Document) Validate() error {
	var errs []error
	check := func(path string, err error) {
		if err != nil {
			errs = append(errs, d.fieldError(path, "%s", problemOf(err)))
		}
	}

	switch d.Version {
	case Version:
	case 0:
		check("version", problem("is required (version: %d)", Version))
	default:
		check("version", problem("is %d; this build reads version %d", d.Version, Version))
	}
	if d.System != nil {
		check("system.title", CheckTitle(d.System.Title))
	}
	for _, name := range sortedNames(d.Users) {
		u := d.Users[name]
		path := "users." + name
		check(path, CheckUserName(name))
		check(path+".display_name", CheckDisplayName(u.DisplayName))
		check(path+".role", CheckRole(u.Role))
		if u.Password != "" && u.PasswordHash != "" {
			check(path, problem("give password or password_hash, not both"))
		}
		if u.Password != "" {
			if err := password.Check(u.Password); err != nil {
				check(path+".password", problem("%s", policyProblem(err)))
			}
		}
		if u.PasswordHash != "" && !password.IsHash(u.PasswordHash) {
			check(path+".password_hash", problem("is not a bcrypt hash ($2a$, $2b$ or $2y$)"))
		}
		check(path+".language", CheckLanguage(u.Language))
		check(path+".agent_number", CheckAgentNumber(u.AgentNumber))
	}
	for _, number := range sortedNames(d.Extensions) {
		e := d.Extensions[number]
		path := "extensions." + number
		check(path, CheckExtensionNumber(number))
		check(path+".name", CheckExtensionName(e.Name))
		check(path+".user", CheckExtensionUser(e.User))
		hasHA1 := e.SecretHA1MD5 != "" || e.SecretHA1SHA256 != ""
		switch {
		case e.Secret != "" && hasHA1:
			check(path, problem("give secret or secret_ha1_md5 and secret_ha1_sha256, not both"))
		case e.Secret != "":
			check(path+".secret", CheckSecret(number, e.Secret))
		case hasHA1 && (e.SecretHA1MD5 == "" || e.SecretHA1SHA256 == ""):
			check(path, problem("give both secret_ha1_md5 and secret_ha1_sha256 (a phone may use either algorithm)"))
		case hasHA1:
			check(path+".secret_ha1_md5", CheckHA1MD5(e.SecretHA1MD5))
			check(path+".secret_ha1_sha256", CheckHA1SHA256(e.SecretHA1SHA256))
		}
		check(path+".max_calls", CheckMaxCalls(e.MaxCalls))
		check(path+".codecs", CheckCodecs(e.Codecs))
		check(path+".dtmf_mode", CheckDTMFMode(e.DTMFMode))
		check(path+".forward_always", CheckForward(number, e.ForwardAlways))
		check(path+".forward_busy", CheckForward(number, e.ForwardBusy))
		check(path+".forward_no_answer", CheckForward(number, e.ForwardNoAnswer))
		check(path+".no_answer_seconds", CheckNoAnswerSeconds(e.NoAnswerSeconds))
		check(path+".pickup_group", CheckPickupGroup(e.PickupGroup))
		check(path+".ring_on", CheckRingOn(e.RingOn))
		check(path+".outbound_number", CheckOutboundNumber(e.OutboundNumber))
	}
	for _, key := range sortedNames(d.FeatureCodes) {
		path := "feature_codes." + key
		if featureCodeRef(&store.FeatureCodes{}, key) == nil {
			check(path, problem("unknown key (expected one of: %s)", featureCodeKeys()))
			continue
		}
		check(path, CheckFeatureCode(d.FeatureCodes[key]))
	}
	for _, c := range numberClashes(d.state().numberHolders(), nil) {
		errs = append(errs, d.fieldError(c.holder.path(), "%s", c.problem()))
	}
	errs = append(errs, d.validateRouting()...)
	return errors.Join(errs...)
}

// state is the document's objects as store records, as far as the
// numbering plan needs them.
func (d Document) state() state {
	s := state{users: map[string]store.User{}, extensions: map[string]store.Extension{}}
	for name, u := range d.Users {
		s.users[name] = store.User{Name: name, AgentNumber: u.AgentNumber}
	}
	for number := range d.Extensions {
		s.extensions[number] = store.Extension{Number: number}
	}
	return s
}

// The Check functions below are the document's rules for one value, shared
// with the web API so that both accept exactly the same values. Each returns
// nil or a *FieldError holding only the Problem (the caller knows the field).

// CheckUserName: 1-32 characters of a-z 0-9 . _ -, starting with a letter or digit.
func CheckUserName(name string) error {
	if !validName(name) {
		return problem("user name must be 1-%d characters of a-z 0-9 . _ - starting with a letter or digit", maxNameLen)
	}
	return nil
}

// CheckDisplayName: at most 64 characters, no control characters; may be empty.
func CheckDisplayName(s string) error { return checkText(s, maxTextLen) }

// CheckTitle: the system title, at most 64 characters, no control characters; may be empty.
func CheckTitle(s string) error { return checkText(s, maxTextLen) }

// CheckRole: admin, supervisor or agent.
func CheckRole(role string) error {
	switch {
	case role == "":
		return problem("is required (admin, supervisor or agent)")
	case !store.Role(role).Valid():
		return problem("unknown role %q (admin, supervisor or agent)", role)
	}
	return nil
}

// CheckLanguage: "en", "zh-CN", or "" (follow the browser).
func CheckLanguage(lang string) error {
	switch lang {
	case "", "en", "zh-CN":
		return nil
	}
	return problem("unknown language %q (en or zh-CN, or leave it out)", lang)
}

func checkText(s string, max int) error {
	if !utf8.ValidString(s) {
		return problem("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return problem("is %d characters; at most %d", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return problem("must not contain control characters")
		}
	}
	return nil
}

// problem is a *FieldError with only its Problem set.
func problem(format string, args ...any) error {
	return &FieldError{Problem: fmt.Sprintf(format, args...)}
}

// problemOf is the Problem of a Check error.
func problemOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Problem
	}
	return err.Error()
}

// policyProblem words a password.Check error for a FieldError.
func policyProblem(err error) string {
	switch {
	case errors.Is(err, password.ErrTooShort):
		return fmt.Sprintf("must be at least %d bytes", password.MinLength)
	case errors.Is(err, password.ErrTooLong):
		return fmt.Sprintf("must be at most %d bytes", password.MaxLength)
	case errors.Is(err, password.ErrBlank):
		return "must not be only whitespace"
	}
	return err.Error()
}

// validName: 1-32 of [a-z0-9._-], starting with a letter or digit.
func validName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
