package provision

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// The parsers of the trunk and routing sections, in the manner of parse.go:
// every key known, every problem with its path and line.

// index is the path of a list item: "blacklist[2]".
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// sequence calls fn for each item of the list n at path (null: none),
// recording each item's line.
func (p *parser) sequence(path string, n *yaml.Node, fn func(path string, item *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(path, n, "must be a list")
		return
	}
	for i, item := range n.Content {
		ip := index(path, i)
		p.lines[ip] = item.Line
		fn(ip, deref(item))
	}
}

func (p *parser) optInt(path string, n *yaml.Node) int {
	if isNull(n) {
		return 0
	}
	return p.integer(path, n)
}

func (p *parser) trunks(path string, n *yaml.Node) map[string]Trunk {
	var out map[string]Trunk
	p.mapping(path, n, func(name string, _, v *yaml.Node) {
		if out == nil {
			out = map[string]Trunk{}
		}
		out[name] = p.trunk(join(path, name), v)
	})
	return out
}

func (p *parser) trunk(path string, n *yaml.Node) Trunk {
	var t Trunk
	p.mapping(path, n, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "kind":
			t.Kind = p.str(kp, v)
		case "host":
			t.Host = p.str(kp, v)
		case "port":
			t.Port = p.optInt(kp, v)
		case "transport":
			t.Transport = p.str(kp, v)
		case "username":
			t.Username = p.str(kp, v)
		case "auth_username":
			t.AuthUsername = p.str(kp, v)
		case "secret":
			t.Secret = p.str(kp, v)
		case "realm":
			t.Realm = p.str(kp, v)
		case "from_domain":
			t.FromDomain = p.str(kp, v)
		case "expires":
			t.Expires = p.optInt(kp, v)
		case "addresses":
			t.Addresses = p.strings(kp, v)
		case "max_calls":
			t.MaxCalls = p.optInt(kp, v)
		case "calls_per_minute":
			t.CallsPerMinute = p.optInt(kp, v)
		case "codecs":
			t.Codecs = p.strings(kp, v)
		case "dtmf_mode":
			t.DTMFMode = p.str(kp, v)
		case "called_from":
			t.CalledFrom = p.str(kp, v)
		case "caller_from":
			t.CallerFrom = p.str(kp, v)
		case "options_interval":
			t.OptionsInterval = p.optInt(kp, v)
		case "disabled":
			t.Disabled = p.boolean(kp, v)
		default:
			p.unknown(kp, k, "kind, host, port, transport, username, auth_username, secret, realm, from_domain, expires, "+
				"addresses, max_calls, calls_per_minute, codecs, dtmf_mode, called_from, caller_from, options_interval, disabled")
		}
	})
	return t
}

func (p *parser) destination(path string, n *yaml.Node) Destination {
	var d Destination
	p.mapping(path, n, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "type":
			d.Type = p.str(kp, v)
		case "target":
			d.Target = p.str(kp, v)
		default:
			p.unknown(kp, k, "type, target")
		}
	})
	return d
}

func (p *parser) dids(path string, n *yaml.Node) map[string]DID {
	var out map[string]DID
	p.mapping(path, n, func(number string, _, v *yaml.Node) {
		if out == nil {
			out = map[string]DID{}
		}
		dp := join(path, number)
		var d DID
		p.mapping(dp, v, func(key string, k, v *yaml.Node) {
			kp := join(dp, key)
			switch key {
			case "trunk":
				d.Trunk = p.str(kp, v)
			case "destination":
				d.Destination = p.destination(kp, v)
			case "description":
				d.Description = p.str(kp, v)
			default:
				p.unknown(kp, k, "trunk, destination, description")
			}
		})
		out[number] = d
	})
	return out
}

// inboundDefault: a destination, or null meaning none.
func (p *parser) inboundDefault(path string, n *yaml.Node) *Destination {
	if isNull(n) {
		return &Destination{Type: destinationNone}
	}
	d := p.destination(path, n)
	return &d
}

func (p *parser) routes(path string, n *yaml.Node) map[string]OutboundRoute {
	var out map[string]OutboundRoute
	p.mapping(path, n, func(name string, _, v *yaml.Node) {
		if out == nil {
			out = map[string]OutboundRoute{}
		}
		rp := join(path, name)
		var r OutboundRoute
		p.mapping(rp, v, func(key string, k, v *yaml.Node) {
			kp := join(rp, key)
			switch key {
			case "order":
				r.Order = p.optInt(kp, v)
			case "patterns":
				r.Patterns = p.strings(kp, v)
			case "strip":
				r.Strip = p.optInt(kp, v)
			case "prepend":
				r.Prepend = p.str(kp, v)
			case "trunks":
				r.Trunks = p.strings(kp, v)
			case "allow_extensions":
				r.AllowExtensions = p.strings(kp, v)
			case "allow_roles":
				r.AllowRoles = p.strings(kp, v)
			case "caller_number":
				p.mapping(kp, v, func(key string, k, v *yaml.Node) {
					cp := join(kp, key)
					switch key {
					case "mode":
						r.CallerNumber.Mode = p.str(cp, v)
					case "number":
						r.CallerNumber.Number = p.str(cp, v)
					case "pool":
						r.CallerNumber.Pool = p.str(cp, v)
					default:
						p.unknown(cp, k, "mode, number, pool")
					}
				})
			default:
				p.unknown(kp, k, "order, patterns, strip, prepend, trunks, allow_extensions, allow_roles, caller_number")
			}
		})
		out[name] = r
	})
	return out
}

func (p *parser) callerPools(path string, n *yaml.Node) map[string]CallerPool {
	var out map[string]CallerPool
	p.mapping(path, n, func(name string, _, v *yaml.Node) {
		if out == nil {
			out = map[string]CallerPool{}
		}
		pp := join(path, name)
		var pool CallerPool
		p.mapping(pp, v, func(key string, k, v *yaml.Node) {
			kp := join(pp, key)
			if key != "numbers" {
				p.unknown(kp, k, "numbers")
				return
			}
			p.sequence(kp, v, func(ip string, item *yaml.Node) {
				var pn PoolNumber
				p.mapping(ip, item, func(key string, k, v *yaml.Node) {
					np := join(ip, key)
					switch key {
					case "number":
						pn.Number = p.str(np, v)
					case "province":
						pn.Province = p.str(np, v)
					case "city":
						pn.City = p.str(np, v)
					case "max_calls":
						pn.MaxCalls = p.optInt(np, v)
					default:
						p.unknown(np, k, "number, province, city, max_calls")
					}
				})
				pool.Numbers = append(pool.Numbers, pn)
			})
		})
		out[name] = pool
	})
	return out
}

func (p *parser) blacklist(path string, n *yaml.Node) []BlacklistEntry {
	var out []BlacklistEntry
	p.sequence(path, n, func(ip string, item *yaml.Node) {
		var e BlacklistEntry
		p.mapping(ip, item, func(key string, k, v *yaml.Node) {
			kp := join(ip, key)
			switch key {
			case "number":
				e.Number = p.str(kp, v)
			case "direction":
				e.Direction = p.str(kp, v)
			case "description":
				e.Description = p.str(kp, v)
			default:
				p.unknown(kp, k, "number, direction, description")
			}
		})
		out = append(out, e)
	})
	return out
}

func (p *parser) outboundPolicy(path string, n *yaml.Node) *OutboundPolicy {
	pol := &OutboundPolicy{}
	p.mapping(path, n, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "emergency":
			pol.Emergency = p.strings(kp, v)
		case "allow_prefixes":
			pol.AllowPrefixes = p.strings(kp, v)
		case "deny_prefixes":
			pol.DenyPrefixes = p.strings(kp, v)
		case "international":
			pol.International = p.boolean(kp, v)
		case "premium":
			pol.Premium = p.boolean(kp, v)
		case "premium_prefixes":
			pol.PremiumPrefixes = p.strings(kp, v)
		case "extension_calls_per_minute":
			pol.ExtensionCallsPerMinute = p.optInt(kp, v)
		case "extension_max_outbound":
			pol.ExtensionMaxOutbound = p.optInt(kp, v)
		case "lock_outside_hours":
			pol.LockOutsideHours = p.boolean(kp, v)
		case "business_hours":
			if isNull(v) {
				return
			}
			h := &BusinessHours{}
			p.mapping(kp, v, func(key string, k, v *yaml.Node) {
				hp := join(kp, key)
				switch key {
				case "days":
					h.Days = p.strings(hp, v)
				case "from":
					h.From = p.str(hp, v)
				case "to":
					h.To = p.str(hp, v)
				case "timezone":
					h.Timezone = p.str(hp, v)
				default:
					p.unknown(hp, k, "days, from, to, timezone")
				}
			})
			pol.BusinessHours = h
		default:
			p.unknown(kp, k, "emergency, allow_prefixes, deny_prefixes, international, premium, premium_prefixes, "+
				"extension_calls_per_minute, extension_max_outbound, lock_outside_hours, business_hours")
		}
	})
	return pol
}
