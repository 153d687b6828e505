package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// loadFile applies the YAML file at path to c, recording in src where each
// setting came from. pathSrc says who named the file (for a missing file).
//
// The file is decoded to a yaml.Node and walked here rather than decoded
// into the struct: that way every unknown key, repeated key and bad value is
// reported with its own line, and one bad value does not hide the others.
func loadFile(c *Config, src map[string]string, path, pathSrc string) []*FieldError {
	data, err := os.ReadFile(path)
	if err != nil {
		return []*FieldError{{Source: pathSrc, Problem: fmt.Sprintf("cannot read config file %q: %v", path, unwrapPath(err)), Err: err}}
	}
	return applyYAML(c, src, path, data)
}

// unwrapPath drops the *fs.PathError wrapper whose path the message
// already shows.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// applyYAML applies one YAML document to c. An empty document (or one with
// only comments) changes nothing.
func applyYAML(c *Config, src map[string]string, path string, data []byte) []*FieldError {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return []*FieldError{syntaxError(path, data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return []*FieldError{syntaxError(path, data, err)}
		}
		return []*FieldError{{Source: fileSource(path, extra.Line), Problem: "more than one YAML document; the configuration is a single mapping"}}
	}

	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return []*FieldError{{Source: fileSource(path, root.Line), Problem: "the configuration must be a mapping of keys to values"}}
	}

	table := fields()
	byName := make(map[string]field, len(table))
	for _, fd := range table {
		byName[fd.name] = fd
	}
	var errs []*FieldError
	seen := make(map[string]int)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolveAlias(root.Content[i+1])
		key := k.Value
		where := fileSource(path, k.Line)
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, &FieldError{Source: where, Problem: "a key must be a plain name"})
			continue
		}
		if first, dup := seen[key]; dup {
			errs = append(errs, &FieldError{Field: key, Source: where, Problem: "repeated key (first set on line " + strconv.Itoa(first) + ")"})
			continue
		}
		seen[key] = k.Line
		fd, ok := byName[key]
		if !ok {
			errs = append(errs, &FieldError{Field: key, Source: where, Problem: unknownKey(key, table)})
			continue
		}
		if fe := applyNode(c, fd, v, path); fe != nil {
			errs = append(errs, fe...)
			continue
		}
		src[fd.name] = fileSource(path, v.Line)
	}
	return errs
}

// applyNode sets one field from its YAML value node.
func applyNode(c *Config, fd field, v *yaml.Node, path string) []*FieldError {
	where := fileSource(path, v.Line)
	if fd.item != nil {
		return applyList(c, fd, v, path)
	}
	if v.Kind != yaml.ScalarNode {
		return []*FieldError{{Field: fd.name, Source: where, Problem: "must be a single value, not a " + kindName(v)}}
	}
	s := v.Value
	if isNull(v) {
		s = ""
	}
	if err := fd.set(c, s); err != nil {
		return []*FieldError{{Field: fd.name, Source: where, Problem: err.Error(), Err: err}}
	}
	return nil
}

// applyList sets a list field from a YAML sequence, checking each item on
// its own line.
func applyList(c *Config, fd field, v *yaml.Node, path string) []*FieldError {
	if isNull(v) {
		return wrapSet(c, fd, "", fileSource(path, v.Line))
	}
	if v.Kind != yaml.SequenceNode {
		return []*FieldError{{Field: fd.name, Source: fileSource(path, v.Line), Problem: "must be a list (e.g. [\"10.0.0.0/8\"]), not a " + kindName(v)}}
	}
	var errs []*FieldError
	items := make([]string, 0, len(v.Content))
	for _, it := range v.Content {
		it = resolveAlias(it)
		where := fileSource(path, it.Line)
		if it.Kind != yaml.ScalarNode || isNull(it) {
			errs = append(errs, &FieldError{Field: fd.name, Source: where, Problem: "list item must be a single value"})
			continue
		}
		if err := fd.item(it.Value); err != nil {
			errs = append(errs, &FieldError{Field: fd.name, Source: where, Problem: err.Error(), Err: err})
			continue
		}
		items = append(items, it.Value)
	}
	if len(errs) > 0 {
		return errs
	}
	return wrapSet(c, fd, strings.Join(items, ","), fileSource(path, v.Line))
}

func wrapSet(c *Config, fd field, s, where string) []*FieldError {
	if err := fd.set(c, s); err != nil {
		return []*FieldError{{Field: fd.name, Source: where, Problem: err.Error(), Err: err}}
	}
	return nil
}

// syntaxError turns a yaml.v3 parse error into a FieldError that names the
// line where the file stops being valid YAML.
func syntaxError(path string, data []byte, err error) *FieldError {
	line, text := splitYAMLError(err)
	if l := firstBadLine(data, text); l > 0 {
		line = l
	}
	return &FieldError{Source: fileSource(path, line), Problem: "not valid YAML: " + text, Err: err}
}

// splitYAMLError splits yaml.v3's "yaml: line 3: message" (it has no
// structured position) into the line (0 when absent) and the message.
func splitYAMLError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, _ := strings.Cut(rest, ": ")
		if line, convErr := strconv.Atoi(num); convErr == nil {
			return line, text
		}
	}
	return 0, msg
}

// maxRescanLines bounds the quadratic search of firstBadLine; configuration
// files are a few dozen lines.
const maxRescanLines = 2000

// firstBadLine returns the first line N such that the first N lines of data
// fail to parse with the same message as the whole file, or 0. yaml.v3's own
// line is often one too low (it reports a parser error at the zero-based
// line of its context) or missing (for errors on the first line).
func firstBadLine(data []byte, text string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxRescanLines {
		return 0
	}
	for n := 1; n <= len(lines); n++ {
		var node yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:n], nil), &node)
		if err == nil {
			continue
		}
		if _, t := splitYAMLError(err); t == text {
			return n
		}
	}
	return 0
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	default:
		return "single value"
	}
}

// unknownKey explains an unknown key, suggesting the known key it most
// likely meant (a dash for an underscore, a typo of one or two letters).
func unknownKey(key string, table []field) string {
	best, bestDist := "", 3
	norm := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	for _, fd := range table {
		if d := editDistance(norm, fd.name); d < bestDist {
			best, bestDist = fd.name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	return "unknown key"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
