package provision

import (
	"fmt"
	"sort"

	"github.com/ccbox/ccbox/config/store"
)

// NumberKind is a kind of object that holds a number of the numbering plan.
type NumberKind int

// The kinds, in the order a clash is reported: the earlier kind keeps the
// number. Queues, IVRs and feature codes join here.
const (
	NumberUnknown NumberKind = iota
	NumberExtension
	NumberAgent
)

func (k NumberKind) String() string {
	switch k {
	case NumberExtension:
		return "extension"
	case NumberAgent:
		return "agent number"
	}
	return "unknown"
}

// NumberHolder is one object holding a number: extension 1001, the agent
// number of user alice.
type NumberHolder struct {
	Number string
	Kind   NumberKind
	Name   string // the object's key: the extension's number, the user's name
}

// String names the object as an error message does.
func (h NumberHolder) String() string {
	switch h.Kind {
	case NumberAgent:
		return "the agent number of user " + h.Name
	case NumberExtension:
		return "extension " + h.Name
	}
	return h.Kind.String() + " " + h.Name
}

// path is where the number is written in the document.
func (h NumberHolder) path() string {
	switch h.Kind {
	case NumberAgent:
		return "users." + h.Name + ".agent_number"
	case NumberExtension:
		return "extensions." + h.Name
	}
	return ""
}

func (h NumberHolder) same(o NumberHolder) bool { return h.Kind == o.Kind && h.Name == o.Name }

// numberHolders lists every number held in s. This is the one place where
// each numbered kind joins the plan: a new kind adds its loop here.
func (s state) numberHolders() []NumberHolder {
	var hs []NumberHolder
	for n := range s.extensions {
		hs = append(hs, NumberHolder{Number: n, Kind: NumberExtension, Name: n})
	}
	for name, u := range s.users {
		if u.AgentNumber != "" {
			hs = append(hs, NumberHolder{Number: u.AgentNumber, Kind: NumberAgent, Name: name})
		}
	}
	return hs
}

// clash is a holder whose number an earlier holder already has.
type clash struct {
	holder, owner NumberHolder
}

func (c clash) problem() string {
	return fmt.Sprintf("%s is already %s", c.holder.Number, c.owner)
}

// numberClashes finds numbers held twice. Holders for which first is true
// keep their number before the others (Apply passes what it leaves
// unchanged, so the problem is reported where the document makes it); then
// kinds in order, then names.
func numberClashes(hs []NumberHolder, first func(NumberHolder) bool) []clash {
	rank := func(h NumberHolder) int {
		if first != nil && first(h) {
			return 0
		}
		return 1
	}
	sort.Slice(hs, func(i, j int) bool {
		a, b := hs[i], hs[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	owner := map[string]NumberHolder{}
	var out []clash
	for _, h := range hs {
		if o, taken := owner[h.Number]; taken {
			out = append(out, clash{holder: h, owner: o})
			continue
		}
		owner[h.Number] = h
	}
	return out
}

// CheckNumberFree reports whether self may hold self.Number, as the store in
// tx stands: nil, a *FieldError naming the object that has it ("1001 is
// already extension 1001"), or a store error. The API calls it inside its
// write transaction, so two requests cannot take one number.
func CheckNumberFree(tx *store.Tx, self NumberHolder) error {
	cur, err := readState(tx)
	if err != nil {
		return err
	}
	for _, h := range cur.numberHolders() {
		if h.Number == self.Number && !h.same(self) {
			return problem("%s", clash{holder: self, owner: h}.problem())
		}
	}
	return nil
}
