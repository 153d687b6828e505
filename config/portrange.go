package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// PortRange is an inclusive range of UDP ports, written "10000-20000" in
// YAML, environment and flags.
type PortRange struct{ First, Last int }

// ParsePortRange parses "FIRST-LAST". It checks the form only (two ports
// from 1 to 65535, first not above last); Config.Validate holds the rules
// for the RTP range itself.
func ParsePortRange(s string) (PortRange, error) {
	first, last, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return PortRange{}, fmt.Errorf("%q is not a range: want FIRST-LAST, e.g. \"10000-20000\"", s)
	}
	a, err := parsePort(first)
	if err != nil {
		return PortRange{}, err
	}
	b, err := parsePort(last)
	if err != nil {
		return PortRange{}, err
	}
	if a > b {
		return PortRange{}, fmt.Errorf("%q is not a range: first port is above last", s)
	}
	return PortRange{First: a, Last: b}, nil
}

// parsePort parses a decimal port number from 1 to 65535.
func parsePort(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return n, nil
}

// String returns "FIRST-LAST".
func (r PortRange) String() string {
	return strconv.Itoa(r.First) + "-" + strconv.Itoa(r.Last)
}

// Len is the number of ports in the range.
func (r PortRange) Len() int {
	if r.Last < r.First {
		return 0
	}
	return r.Last - r.First + 1
}

// Contains reports whether port is in the range.
func (r PortRange) Contains(port int) bool {
	return port >= r.First && port <= r.Last
}

// MarshalText implements encoding.TextMarshaler (and so YAML output).
func (r PortRange) MarshalText() ([]byte, error) {
	return []byte(r.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *PortRange) UnmarshalText(text []byte) error {
	v, err := ParsePortRange(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler so that a PortRange decodes
// from its string form wherever it is embedded in YAML.
func (r *PortRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a port range is a single value like \"10000-20000\"", n.Line)
	}
	return r.UnmarshalText([]byte(n.Value))
}
