package provision

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/ccbox/ccbox/config/store"
)

// Parse decodes strictly: unknown keys, duplicate keys, wrong types → errors with line numbers (all of them).
// Every problem is a *FieldError; they are returned together with errors.Join.
// Parse does not apply the rules of Validate. An empty document parses to the
// zero Document (which Validate then refuses for its missing version).
func Parse(data []byte) (Document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Document{}, nil
		}
		return Document{}, syntaxError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return Document{}, &FieldError{Line: extra.Line, Problem: "more than one YAML document; give one"}
	case !errors.Is(err, io.EOF):
		return Document{}, syntaxError(err)
	}

	p := &parser{lines: map[string]int{}}
	d := p.document(&root)
	d.lines = p.lines
	return d, errors.Join(p.errs...)
}

// yamlLine matches the line number in yaml.v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML syntax error into a *FieldError with its line.
func syntaxError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{Line: line, Problem: "YAML syntax: " + m[2]}
	}
	return &FieldError{Problem: "YAML syntax: " + err.Error()}
}

// parser walks the YAML node tree by hand, so that every problem is reported
// with its path and line, and duplicate keys (which yaml.v3 checks only when
// decoding into Go values, and stops at the first) are all found.
type parser struct {
	lines map[string]int
	errs  []error
}

func (p *parser) fail(path string, n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Path: path, Line: n.Line, Problem: fmt.Sprintf(format, args...)})
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping calls fn for each key of the mapping n at path, after checking that
// n is a mapping (or null: nothing) and that the key is a scalar not seen before.
func (p *parser) mapping(path string, n *yaml.Node, fn func(key string, k, v *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.fail(path, n, "must be a mapping")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(path, k, "keys must be plain strings")
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.fail(path, k, "merge keys (<<) are not supported")
			continue
		}
		kp := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.fail(kp, k, "duplicate key %q (first at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		p.lines[kp] = k.Line
		fn(k.Value, k, deref(v))
	}
}

func (p *parser) unknown(path string, k *yaml.Node, known string) {
	p.fail(path, k, "unknown key (expected one of: %s)", known)
}

// str decodes a scalar as written; null is "".
func (p *parser) str(path string, n *yaml.Node) string {
	switch {
	case isNull(n):
		return ""
	case n.Kind != yaml.ScalarNode:
		p.fail(path, n, "must be a string")
		return ""
	}
	return n.Value
}

// boolean accepts only YAML's true and false; null is false.
func (p *parser) boolean(path string, n *yaml.Node) bool {
	if isNull(n) {
		return false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		p.fail(path, n, "must be true or false")
	}
	return b
}

func (p *parser) integer(path string, n *yaml.Node) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		p.fail(path, n, "must be an integer")
	}
	return i
}

func (p *parser) document(root *yaml.Node) Document {
	var d Document
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return d
		}
		n = n.Content[0]
	}
	p.mapping("", n, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			d.Version = p.integer(key, v)
		case "system":
			if !isNull(v) {
				d.System = p.system(key, v)
			}
		case "users":
			d.Users = p.users(key, v)
		case "extensions":
			d.Extensions = p.extensions(key, v)
		case "feature_codes":
			d.FeatureCodes = p.featureCodes(key, v)
		case "trunks":
			d.Trunks = p.trunks(key, v)
		case "dids":
			d.DIDs = p.dids(key, v)
		case "inbound_default":
			d.InboundDefault = p.inboundDefault(key, v)
		case "outbound_routes":
			d.OutboundRoutes = p.routes(key, v)
		case "caller_pools":
			d.CallerPools = p.callerPools(key, v)
		case "blacklist":
			d.Blacklist = p.blacklist(key, v)
		case "outbound_policy":
			if !isNull(v) {
				d.OutboundPolicy = p.outboundPolicy(key, v)
			}
		default:
			p.unknown(key, k, "version, system, users, extensions, feature_codes, trunks, dids, inbound_default, "+
				"outbound_routes, caller_pools, blacklist, outbound_policy")
		}
	})
	return d
}

func (p *parser) system(path string, n *yaml.Node) *System {
	s := &System{}
	p.mapping(path, n, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "title":
			s.Title = p.str(kp, v)
		default:
			p.unknown(kp, k, "title")
		}
	})
	return s
}

func (p *parser) users(path string, n *yaml.Node) map[string]User {
	var users map[string]User
	p.mapping(path, n, func(name string, _, v *yaml.Node) {
		if users == nil {
			users = map[string]User{}
		}
		users[name] = p.user(join(path, name), v)
	})
	return users
}

func (p *parser) user(path string, n *yaml.Node) User {
	var u User
	p.mapping(path, n, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "display_name":
			u.DisplayName = p.str(kp, v)
		case "role":
			u.Role = p.str(kp, v)
		case "agent_number":
			u.AgentNumber = p.str(kp, v)
		case "password":
			u.Password = p.str(kp, v)
		case "password_hash":
			u.PasswordHash = p.str(kp, v)
		case "disabled":
			u.Disabled = p.boolean(kp, v)
		case "language":
			u.Language = p.str(kp, v)
		default:
			p.unknown(kp, k, "display_name, role, agent_number, password, password_hash, disabled, language")
		}
	})
	return u
}

func (p *parser) extensions(path string, n *yaml.Node) map[string]Extension {
	var exts map[string]Extension
	p.mapping(path, n, func(number string, _, v *yaml.Node) {
		if exts == nil {
			exts = map[string]Extension{}
		}
		exts[number] = p.extension(join(path, number), v)
	})
	return exts
}

func (p *parser) extension(path string, n *yaml.Node) Extension {
	var e Extension
	p.mapping(path, n, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "name":
			e.Name = p.str(kp, v)
		case "user":
			e.User = p.str(kp, v)
		case "secret":
			e.Secret = p.str(kp, v)
		case "secret_ha1_md5":
			e.SecretHA1MD5 = p.str(kp, v)
		case "secret_ha1_sha256":
			e.SecretHA1SHA256 = p.str(kp, v)
		case "max_calls":
			if !isNull(v) {
				e.MaxCalls = p.integer(kp, v)
			}
		case "codecs":
			e.Codecs = p.strings(kp, v)
		case "disabled":
			e.Disabled = p.boolean(kp, v)
		case "dtmf_mode":
			e.DTMFMode = p.str(kp, v)
		case "dnd":
			e.DND = p.boolean(kp, v)
		case "forward_always":
			e.ForwardAlways = p.str(kp, v)
		case "forward_busy":
			e.ForwardBusy = p.str(kp, v)
		case "forward_no_answer":
			e.ForwardNoAnswer = p.str(kp, v)
		case "no_answer_seconds":
			if !isNull(v) {
				e.NoAnswerSeconds = p.integer(kp, v)
			}
		case "pickup_group":
			e.PickupGroup = p.str(kp, v)
		case "ring_on":
			e.RingOn = p.str(kp, v)
		case "outbound_number":
			e.OutboundNumber = p.str(kp, v)
		default:
			p.unknown(kp, k, "name, user, secret, secret_ha1_md5, secret_ha1_sha256, max_calls, codecs, disabled, "+
				"dtmf_mode, dnd, forward_always, forward_busy, forward_no_answer, no_answer_seconds, pickup_group, ring_on, outbound_number")
		}
	})
	return e
}

// featureCodes reads the feature_codes mapping: known keys, string values
// (a code such as *72 must be quoted in YAML, or it reads as an alias).
func (p *parser) featureCodes(path string, n *yaml.Node) map[string]string {
	var codes map[string]string
	p.mapping(path, n, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		if featureCodeRef(&store.FeatureCodes{}, key) == nil {
			p.unknown(kp, k, featureCodeKeys())
			return
		}
		if codes == nil {
			codes = map[string]string{}
		}
		codes[key] = p.str(kp, v)
	})
	return codes
}

// strings decodes a sequence of scalars; null is none.
func (p *parser) strings(path string, n *yaml.Node) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(path, n, "must be a list of strings")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		item = deref(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p.fail(path, item, "must be a list of strings")
			continue
		}
		out = append(out, item.Value)
	}
	if len(out) == 0 {
		return nil // [] and no key mean the same: the default
	}
	return out
}
