package dialplan

// maxPatternLen bounds a dial pattern (characters); no real pattern is longer.
const maxPatternLen = 64

// tail says what a pattern accepts after its last fixed position.
type tail uint8

const (
	tailNone       tail = iota // exact length
	tailOneOrMore              // '.'
	tailZeroOrMore             // '!'
)

// elem is one fixed position: a set of digits (bit i for digit i) or one
// literal non-digit character ('+', '*', '#').
type elem struct {
	digits uint16
	lit    byte
}

func (e elem) match(c byte) bool {
	if c >= '0' && c <= '9' {
		return e.digits&(1<<(c-'0')) != 0
	}
	return e.lit != 0 && e.lit == c
}

// Pattern is a parsed dial pattern (see the package documentation for the
// syntax). The zero Pattern matches nothing.
type Pattern struct {
	src   string
	elems []elem
	tail  tail
}

// ParsePattern reads a dial pattern: digits, '+', '*' and '#' match
// themselves; X any digit, Z 1–9, N 2–9 (either case); [135] or [1-5] a set;
// a final '.' one or more characters more, a final '!' zero or more. Without
// '.' or '!' the pattern matches numbers of exactly its length. A leading '_'
// (Asterisk's habit) is accepted and ignored. Errors are *PatternError
// (errors.Is ErrBadPattern) carrying the byte position.
func ParsePattern(s string) (Pattern, error) {
	bad := func(pos int, msg string) (Pattern, error) {
		return Pattern{}, &PatternError{Pattern: s, Pos: pos, Msg: msg}
	}
	if len(s) > maxPatternLen {
		return bad(maxPatternLen, "longer than 64 characters")
	}
	p := Pattern{src: s}
	i := 0
	if len(s) > 0 && s[0] == '_' {
		i = 1
	}
	if i >= len(s) {
		return bad(i, "empty pattern")
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			p.elems = append(p.elems, elem{digits: 1 << (c - '0')})
		case c == 'X' || c == 'x':
			p.elems = append(p.elems, elem{digits: 0x3ff})
		case c == 'Z' || c == 'z':
			p.elems = append(p.elems, elem{digits: 0x3fe})
		case c == 'N' || c == 'n':
			p.elems = append(p.elems, elem{digits: 0x3fc})
		case c == '+' || c == '*' || c == '#':
			p.elems = append(p.elems, elem{lit: c})
		case c == '[':
			set, next, err := parseSet(s, i)
			if err != nil {
				return Pattern{}, err
			}
			p.elems = append(p.elems, elem{digits: set})
			i = next
			continue
		case c == '.' || c == '!':
			if i != len(s)-1 {
				return bad(i, "'"+string(c)+"' must be the last character")
			}
			if len(p.elems) == 0 {
				return bad(i, "'"+string(c)+"' needs something before it")
			}
			p.tail = tailOneOrMore
			if c == '!' {
				p.tail = tailZeroOrMore
			}
		case c == ']':
			return bad(i, "']' without '['")
		default:
			return bad(i, "unexpected character")
		}
		i++
	}
	return p, nil
}

// parseSet reads "[...]" starting at s[at] == '['; it returns the digit set
// and the index after ']'.
func parseSet(s string, at int) (uint16, int, error) {
	var set uint16
	i := at + 1
	for i < len(s) && s[i] != ']' {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, 0, &PatternError{Pattern: s, Pos: i, Msg: "only digits and ranges inside [ ]"}
		}
		if i+2 < len(s) && s[i+1] == '-' && s[i+2] != ']' {
			hi := s[i+2]
			if hi < '0' || hi > '9' {
				return 0, 0, &PatternError{Pattern: s, Pos: i + 2, Msg: "a range ends with a digit"}
			}
			if hi < c {
				return 0, 0, &PatternError{Pattern: s, Pos: i, Msg: "range runs backwards"}
			}
			for d := c; d <= hi; d++ {
				set |= 1 << (d - '0')
			}
			i += 3
			continue
		}
		set |= 1 << (c - '0')
		i++
	}
	if i >= len(s) {
		return 0, 0, &PatternError{Pattern: s, Pos: len(s), Msg: "'[' without ']'"}
	}
	if set == 0 {
		return 0, 0, &PatternError{Pattern: s, Pos: i, Msg: "empty set"}
	}
	return set, i + 1, nil
}

// MustParsePattern is ParsePattern for patterns written in code; it panics
// on a malformed one.
func MustParsePattern(s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Match says whether number, as dialled (digits, '+', '*', '#'), matches.
func (p Pattern) Match(number string) bool {
	if len(p.elems) == 0 {
		return false
	}
	switch p.tail {
	case tailNone:
		if len(number) != len(p.elems) {
			return false
		}
	case tailOneOrMore:
		if len(number) <= len(p.elems) {
			return false
		}
	case tailZeroOrMore:
		if len(number) < len(p.elems) {
			return false
		}
	}
	for i, e := range p.elems {
		if !e.match(number[i]) {
			return false
		}
	}
	return true
}

// String is the pattern as written.
func (p Pattern) String() string { return p.src }

// Fixed is the number of fixed positions (digits, sets, literals): how
// specific the pattern is.
func (p Pattern) Fixed() int { return len(p.elems) }

// IsZero reports whether p is the zero Pattern (never parsed).
func (p Pattern) IsZero() bool { return len(p.elems) == 0 }

// MarshalText writes the pattern as written, so that routes round-trip
// through JSON and YAML.
func (p Pattern) MarshalText() ([]byte, error) { return []byte(p.src), nil }

// UnmarshalText parses a pattern.
func (p *Pattern) UnmarshalText(b []byte) error {
	q, err := ParsePattern(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
