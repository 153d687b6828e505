package provision

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: the API takes documents from the network. Parse must never panic,
// and whatever it accepts must survive Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(baseDoc))
	f.Add([]byte(extDoc))
	f.Add([]byte("version: 1\nextensions:\n  1001: {codecs: [], max_calls: ~}\n  '02': {codecs: [PCMU, *a]}\n"))
	f.Add([]byte("version: 1\nusers:\n  a: &x {role: agent}\n  b: *x\n"))
	f.Add([]byte("version: 1\nusers:\n  a:\n    role: admin\n  a:\n    colour: 1\n"))
	f.Add([]byte("- [\n"))
	f.Add([]byte("version: 1\nextensions:\n  1001: {dnd: true, forward_busy: '1002', no_answer_seconds: 30, pickup_group: g, dtmf_mode: info, ring_on: seat}\nfeature_codes: {dnd_on: '#78', group_pickup: ''}\n"))
	f.Add([]byte(routingDoc))
	f.Add([]byte("version: 1\ninbound_default: ~\nblacklist: [{number: '1', direction: both}, ~, []]\noutbound_policy: {business_hours: ~}\n"))
	f.Add([]byte("version: 1\ncaller_pools: {p: {numbers: [{number: '1'}, {}]}}\ndids: {'1': {destination: ~}}\n"))
	f.Add([]byte("version: 1\noutbound_routes: {r: {patterns: ['[1-', X.], caller_number: ~}}\ntrunks: {t: ~}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		d.Validate() // must not panic either
		out, err := Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of a parsed document: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-Parse: %v\n%s", err, out)
		}
		d.lines, back.lines = nil, nil
		if !reflect.DeepEqual(d, back) {
			t.Fatalf("round trip changed the document\n%+v\n%+v\n%s", d, back, out)
		}
	})
}

// FuzzCheckPattern: patterns come from the API and the document. The checker
// must not panic, and what it accepts is short and made of pattern characters.
func FuzzCheckPattern(f *testing.F) {
	for _, s := range []string{"9XXXXXXXX.", "1[3-9]XXXXXXXXX", "[135]!", "[", "[1-", "[-]", "X.X", "+86N!", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPattern(p) != nil {
			return
		}
		if len(p) == 0 || len(p) > maxPatternLen {
			t.Fatalf("accepted %q", p)
		}
		for _, c := range p {
			if !strings.ContainsRune("0123456789XZN+*#[]-.!", c) {
				t.Fatalf("accepted %q with %q", p, c)
			}
		}
	})
}
