package dialplan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a region table: a prefix is at most a whole mobile or landline
// number; names fit any Chinese province or city with room to spare; a line
// longer than maxRegionLine is not a region line. maxLineErrors bounds the
// report for a file that is not a region table at all.
const (
	maxRegionPrefix = 12
	maxRegionName   = 32
	maxRegionLine   = 1024
	maxLineErrors   = 100
)

// Region is where a number belongs: 省 and 市.
type Region struct {
	Province string `json:"province"`
	City     string `json:"city"`
}

// RegionRow is one prefix of a region table, as stored.
type RegionRow struct {
	Prefix   string `json:"prefix"`
	Province string `json:"province"`
	City     string `json:"city"`
}

// RegionTable maps number prefixes — mobile 7-digit prefixes ("1380013"),
// area codes ("0755") — to regions, with longest-prefix lookup on a number's
// national form. Tables run to hundreds of thousands of mobile prefixes, so
// prefixes are kept as integers and regions interned: a few tens of bytes a
// prefix. It is read-only once built and safe for concurrent use.
type RegionTable struct {
	byKey   map[uint64]uint32 // prefixKey → index in regions
	regions []Region
	lengths uint16 // bit l set when some prefix has l digits
	rows    int
}

// prefixKey packs a digit string of at most maxRegionPrefix digits with its
// length, so that "010" and "10" differ.
func prefixKey(d string) uint64 {
	var v uint64
	for i := 0; i < len(d); i++ {
		v = v*10 + uint64(d[i]-'0')
	}
	return v<<4 | uint64(len(d))
}

// NewRegionTable builds a table from stored rows; a bad or duplicate row is
// an error (*FieldError naming the row), nothing of the rows is used.
func NewRegionTable(rows []RegionRow) (*RegionTable, error) {
	b := newRegionBuilder()
	for i, r := range rows {
		if msg := b.add(r, i, "row"); msg != "" {
			return nil, fieldErr(fmt.Sprintf("rows[%d]", i), msg, nil)
		}
	}
	return b.t, nil
}

type regionBuilder struct {
	t      *RegionTable
	intern map[Region]uint32
	seen   map[uint64]int // prefixKey → row number, for duplicate reports
}

func newRegionBuilder() *regionBuilder {
	return &regionBuilder{
		t:      &RegionTable{byKey: map[uint64]uint32{}},
		intern: map[Region]uint32{},
		seen:   map[uint64]int{},
	}
}

// add checks and adds one row found at pos (a line or row number, named by
// unit); it returns what is wrong with the row, or "".
func (b *regionBuilder) add(r RegionRow, pos int, unit string) string {
	if msg := checkRegionRow(r); msg != "" {
		return msg
	}
	k := prefixKey(r.Prefix)
	if first, dup := b.seen[k]; dup {
		return fmt.Sprintf("prefix %s appears twice (first on %s %d)", r.Prefix, unit, first)
	}
	b.seen[k] = pos
	reg := Region{Province: r.Province, City: r.City}
	idx, ok := b.intern[reg]
	if !ok {
		idx = uint32(len(b.t.regions))
		b.t.regions = append(b.t.regions, reg)
		b.intern[reg] = idx
	}
	b.t.byKey[k] = idx
	b.t.lengths |= 1 << len(r.Prefix)
	b.t.rows++
	return ""
}

func checkRegionRow(r RegionRow) string {
	switch {
	case r.Prefix == "":
		return "the prefix is empty"
	case !allDigits(r.Prefix):
		return "the prefix must be digits"
	case len(r.Prefix) > maxRegionPrefix:
		return "the prefix is longer than 12 digits"
	case r.Province == "":
		return "the province is empty"
	}
	for _, name := range []string{r.Province, r.City} {
		if utf8.RuneCountInString(name) > maxRegionName {
			return "a name is longer than 32 characters"
		}
		if strings.IndexFunc(name, unicode.IsControl) >= 0 {
			return "a name holds a control character"
		}
	}
	return ""
}

// regionHeaders are the header lines accepted (case and spaces aside) as the
// first line of a region CSV.
var regionHeaders = [][3]string{
	{"prefix", "province", "city"},
	{"号段", "省份", "城市"},
	{"前缀", "省份", "城市"},
	{"号段", "省", "市"},
}

// ParseRegionCSV reads a region table: "prefix,province,city" lines, UTF-8
// (a byte-order mark is skipped), with an optional header line, blank lines
// and "#" comments. Fields are trimmed; a field may be quoted ("…"). City
// may be empty (the province is known, the city is not). Every bad line is
// reported with its number (the first 100 of them); if there is any, the
// returned table is nil and the error is ErrBadRegionCSV: nothing of a bad
// file is used. A read error is returned as is.
func ParseRegionCSV(r io.Reader) (*RegionTable, []LineError, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxRegionLine)
	b := newRegionBuilder()
	var lineErrs []LineError
	report := func(line int, msg string) {
		if len(lineErrs) < maxLineErrors {
			lineErrs = append(lineErrs, LineError{Line: line, Msg: msg})
		}
	}
	line, data := 0, 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
		}
		if !utf8.Valid(text) {
			report(line, "not UTF-8 text (save the file as \"CSV UTF-8\")")
			continue
		}
		s := strings.TrimSpace(string(text))
		if s == "" || s[0] == '#' {
			continue
		}
		data++
		fields, ok := splitCSVLine(s)
		if !ok {
			report(line, "unbalanced quotes")
			continue
		}
		if data == 1 && isRegionHeader(fields) {
			continue
		}
		if len(fields) != 3 {
			report(line, fmt.Sprintf("want 3 fields (prefix,province,city), have %d", len(fields)))
			continue
		}
		if msg := b.add(RegionRow{Prefix: fields[0], Province: fields[1], City: fields[2]}, line, "line"); msg != "" {
			report(line, msg)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			report(line+1, "line longer than 1024 bytes")
			return nil, lineErrs, ErrBadRegionCSV
		}
		return nil, nil, fmt.Errorf("read region table: %w", err)
	}
	if len(lineErrs) > 0 {
		return nil, lineErrs, ErrBadRegionCSV
	}
	return b.t, nil, nil
}

func isRegionHeader(f []string) bool {
	if len(f) != 3 {
		return false
	}
	for _, h := range regionHeaders {
		if strings.EqualFold(f[0], h[0]) && strings.EqualFold(f[1], h[1]) && strings.EqualFold(f[2], h[2]) {
			return true
		}
	}
	return false
}

// splitCSVLine splits one line on commas, honouring double quotes ("" is a
// quote inside quotes), and trims each field.
func splitCSVLine(s string) ([]string, bool) {
	var fields []string
	var cur strings.Builder
	inQuotes := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuotes && c == '"' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			inQuotes = !inQuotes
		case c == ',' && !inQuotes:
			fields = append(fields, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if inQuotes {
		return nil, false
	}
	return append(fields, strings.TrimSpace(cur.String())), true
}

// Lookup finds the region of the longest prefix of n's national form.
func (t *RegionTable) Lookup(n Number) (Region, bool) {
	if t == nil || n.National == "" {
		return Region{}, false
	}
	return t.LookupDigits(n.National)
}

// LookupDigits is Lookup on a national-form digit string.
func (t *RegionTable) LookupDigits(d string) (Region, bool) {
	if t == nil || !allDigits(d) {
		return Region{}, false
	}
	for l := min(len(d), maxRegionPrefix); l > 0; l-- {
		if t.lengths&(1<<l) == 0 {
			continue
		}
		if idx, ok := t.byKey[prefixKey(d[:l])]; ok {
			return t.regions[idx], true
		}
	}
	return Region{}, false
}

// Len is the number of prefixes.
func (t *RegionTable) Len() int {
	if t == nil {
		return 0
	}
	return t.rows
}

// Rows lists the table's prefixes, sorted, for storing it.
func (t *RegionTable) Rows() []RegionRow {
	if t == nil {
		return nil
	}
	rows := make([]RegionRow, 0, t.rows)
	for k, idx := range t.byKey {
		l := int(k & 0xf)
		reg := t.regions[idx]
		rows = append(rows, RegionRow{Prefix: fmt.Sprintf("%0*d", l, k>>4), Province: reg.Province, City: reg.City})
	}
	slices.SortFunc(rows, func(a, b RegionRow) int { return strings.Compare(a.Prefix, b.Prefix) })
	return rows
}
