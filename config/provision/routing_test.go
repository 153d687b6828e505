package provision

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/config/store"
)

// routingSections are the trunk and routing sections of a document whose
// extensions include 1001 and 201 (TestExportGolden's).
const routingSections = `trunks:
  carrier1:
    kind: register
    host: sip.carrier.example
    username: "02110000000"
    auth_username: auth021
    secret: carrier-pass-1
    realm: carrier.example
    expires: 120
    max_calls: 30
    calls_per_minute: 60
    codecs: [PCMA]
    called_from: to
    caller_from: pai
    options_interval: 15
  backup-ip:
    kind: ip
    host: 127.0.0.12
    port: 5080
    transport: tcp
    addresses: [127.0.0.12, 127.0.1.0/24]
    dtmf_mode: info
    disabled: true
dids:
  "+862110000000":
    trunk: carrier1
    destination: {type: extension, target: "1001"}
    description: Main line 总机
  "95555":
    destination: {type: hangup}
inbound_default: {type: extension, target: "201"}
outbound_routes:
  mobile:
    order: 10
    patterns: ["1[3-9]XXXXXXXXX", "01[3-9]XXXXXXXXX"]
    trunks: [carrier1, backup-ip]
    caller_number: {mode: pool_region, pool: sh}
  local:
    order: 20
    patterns: ["9NXXXXXXX"]
    strip: 1
    prepend: "021"
    trunks: [carrier1]
    allow_extensions: ["1001"]
    allow_roles: [admin, supervisor]
    caller_number: {mode: fixed, number: "02110000009"}
  any:
    order: 30
    patterns: ["0X."]
    trunks: [backup-ip]
    caller_number: {mode: extension}
caller_pools:
  sh:
    numbers:
      - {number: "02110000001", province: 上海, city: 上海, max_calls: 4}
      - {number: "13800138000"}
blacklist:
  - {number: "13900000000", direction: both, description: 骚扰}
  - {number: "4001234567", direction: outbound}
  - {number: "4001234567", direction: inbound, description: spam}
outbound_policy:
  emergency: ["110", "119", "120", "122", "12395"]
  deny_prefixes: ["0085"]
  premium: true
  extension_calls_per_minute: 5
  lock_outside_hours: true
  business_hours: {days: [sat, mon, tue], from: "08:30", to: "24:00", timezone: Asia/Shanghai}
`

// routingDoc is a complete document with every routing section.
const routingDoc = baseDoc + `extensions:
  1001:
    secret: s3cret-pass
  201:
    secret: s3cret-pass
` + routingSections

// routingDump is the store's trunk and routing state.
type routingDump struct {
	Trunks    []store.Trunk
	DIDs      []store.DID
	Routes    []store.OutboundRoute
	Pools     []store.CallerPool
	Blacklist []store.BlacklistEntry
	Inbound   *store.Destination
	Policy    store.OutboundPolicy
	Audits    int
}

func takeRoutingDump(t *testing.T, db *store.DB) routingDump {
	t.Helper()
	var d routingDump
	err := db.View(func(tx *store.Tx) (err error) {
		if d.Trunks, err = tx.Trunks(); err != nil {
			return err
		}
		if d.DIDs, err = tx.DIDs(); err != nil {
			return err
		}
		if d.Routes, err = tx.OutboundRoutes(); err != nil {
			return err
		}
		if d.Pools, err = tx.CallerPools(); err != nil {
			return err
		}
		if d.Blacklist, err = tx.Blacklist(); err != nil {
			return err
		}
		if d.Inbound, err = tx.InboundDefault(); err != nil {
			return err
		}
		d.Policy, err = tx.OutboundPolicy()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Audits = len(takeDump(t, db).Audits)
	return d
}

func TestParseRouting(t *testing.T) {
	d := mustParse(t, routingDoc)
	if got := d.Trunks["carrier1"]; !reflect.DeepEqual(got, Trunk{Kind: "register", Host: "sip.carrier.example",
		Username: "02110000000", AuthUsername: "auth021", Secret: "carrier-pass-1", Realm: "carrier.example", Expires: 120,
		MaxCalls: 30, CallsPerMinute: 60, Codecs: []string{"PCMA"}, CalledFrom: "to", CallerFrom: "pai", OptionsInterval: 15}) {
		t.Errorf("carrier1 = %+v", got)
	}
	if got := d.DIDs["+862110000000"]; got.Destination != (Destination{Type: "extension", Target: "1001"}) || got.Trunk != "carrier1" {
		t.Errorf("DID = %+v", got)
	}
	if got := d.OutboundRoutes["local"]; got.Strip != 1 || got.Prepend != "021" || got.CallerNumber.Number != "02110000009" ||
		!reflect.DeepEqual(got.AllowRoles, []string{"admin", "supervisor"}) {
		t.Errorf("route = %+v", got)
	}
	if got := d.CallerPools["sh"].Numbers; len(got) != 2 || got[0] != (PoolNumber{"02110000001", "上海", "上海", 4}) {
		t.Errorf("pool = %+v", got)
	}
	if len(d.Blacklist) != 3 || d.Blacklist[0] != (BlacklistEntry{"13900000000", "both", "骚扰"}) {
		t.Errorf("blacklist = %+v", d.Blacklist)
	}
	if p := d.OutboundPolicy; p == nil || !p.Premium || p.BusinessHours.From != "08:30" || len(p.Emergency) != 5 {
		t.Errorf("policy = %+v", p)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	bad := `version: 1
trunks:
  c1:
    kind: register
    port: high
    colour: red
dids:
  "123":
    destination: {type: extension, extra: 1}
outbound_routes:
  r:
    patterns: X.
    caller_number: {mode: fixed, via: x}
caller_pools:
  p:
    numbers: {number: 1}
  q:
    numbers:
      - {number: "1", max: 2}
blacklist:
  number: 1
outbound_policy:
  premium: yes
  business_hours: {days: mon}
inbound_default: [x]
`
	_, err := Parse([]byte(bad))
	want := []where{
		{"trunks.c1.port", 5},
		{"trunks.c1.colour", 6},
		{"dids.123.destination.extra", 9},
		{"outbound_routes.r.patterns", 12},
		{"outbound_routes.r.caller_number.via", 13},
		{"caller_pools.p.numbers", 16},
		{"caller_pools.q.numbers[0].max", 19},
		{"blacklist", 21},
		{"outbound_policy.premium", 23},
		{"outbound_policy.business_hours.days", 24},
		{"inbound_default", 25},
	}
	if got := positions(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors at\n%v\nwant\n%v", got, want)
	}
}

func TestValidateRouting(t *testing.T) {
	base := func(m func(d *Document)) Document {
		d := mustParse(t, routingDoc)
		d.lines = nil
		m(&d)
		return d
	}
	trunk := func(f func(*Trunk)) func(*Document) {
		return func(d *Document) { tr := d.Trunks["carrier1"]; f(&tr); d.Trunks["carrier1"] = tr }
	}
	route := func(f func(*OutboundRoute)) func(*Document) {
		return func(d *Document) { r := d.OutboundRoutes["local"]; f(&r); d.OutboundRoutes["local"] = r }
	}
	policy := func(f func(*OutboundPolicy)) func(*Document) {
		return func(d *Document) { f(d.OutboundPolicy) }
	}
	tests := []struct {
		name string
		m    func(*Document)
		want []string
	}{
		{"valid", func(*Document) {}, nil},
		{"trunk name", func(d *Document) { d.Trunks["Carrier 1"] = Trunk{Kind: "ip", Host: "127.0.0.1"} }, []string{"trunks.Carrier 1"}},
		{"trunk kind", trunk(func(t *Trunk) { t.Kind = "peer" }), []string{"trunks.carrier1.kind"}},
		{"trunk kind missing", trunk(func(t *Trunk) { t.Kind = "" }), []string{"trunks.carrier1.kind"}},
		{"trunk host missing", trunk(func(t *Trunk) { t.Host = "" }), []string{"trunks.carrier1.host"}},
		{"trunk host bad", trunk(func(t *Trunk) { t.Host = "sip..example" }), []string{"trunks.carrier1.host"}},
		{"trunk host ipv6", trunk(func(t *Trunk) { t.Host = "::1" }), nil},
		{"trunk port", trunk(func(t *Trunk) { t.Port = 70000 }), []string{"trunks.carrier1.port"}},
		{"trunk transport", trunk(func(t *Trunk) { t.Transport = "sctp" }), []string{"trunks.carrier1.transport"}},
		{"register needs username", trunk(func(t *Trunk) { t.Username = "" }), []string{"trunks.carrier1.username"}},
		{"username chars", trunk(func(t *Trunk) { t.Username = "a b@c" }), []string{"trunks.carrier1.username"}},
		{"secret control", trunk(func(t *Trunk) { t.Secret = "a\nb" }), []string{"trunks.carrier1.secret"}},
		{"realm quote", trunk(func(t *Trunk) { t.Realm = `a"b` }), []string{"trunks.carrier1.realm"}},
		{"expires", trunk(func(t *Trunk) { t.Expires = 30 }), []string{"trunks.carrier1.expires"}},
		{"addresses", trunk(func(t *Trunk) { t.Addresses = []string{"127.0.0.1/8"} }), []string{"trunks.carrier1.addresses"}},
		{"addresses twice", trunk(func(t *Trunk) { t.Addresses = []string{"127.0.0.1", "127.0.0.1"} }), []string{"trunks.carrier1.addresses"}},
		{"max calls", trunk(func(t *Trunk) { t.MaxCalls = -1 }), []string{"trunks.carrier1.max_calls"}},
		{"cpm", trunk(func(t *Trunk) { t.CallsPerMinute = 10001 }), []string{"trunks.carrier1.calls_per_minute"}},
		{"codecs", trunk(func(t *Trunk) { t.Codecs = []string{"G729"} }), []string{"trunks.carrier1.codecs"}},
		{"dtmf", trunk(func(t *Trunk) { t.DTMFMode = "sip" }), []string{"trunks.carrier1.dtmf_mode"}},
		{"called from", trunk(func(t *Trunk) { t.CalledFrom = "from" }), []string{"trunks.carrier1.called_from"}},
		{"caller from", trunk(func(t *Trunk) { t.CallerFrom = "to" }), []string{"trunks.carrier1.caller_from"}},
		{"options", trunk(func(t *Trunk) { t.OptionsInterval = 1 }), []string{"trunks.carrier1.options_interval"}},
		{"did number", func(d *Document) { d.DIDs["12a"] = DID{Destination: Destination{Type: "hangup"}} }, []string{"dids.12a"}},
		{"did type", func(d *Document) { d.DIDs["123"] = DID{Destination: Destination{Type: "fax"}} }, []string{"dids.123.destination.type"}},
		{"did type missing", func(d *Document) { d.DIDs["123"] = DID{} }, []string{"dids.123.destination.type"}},
		{"did not available yet", func(d *Document) { d.DIDs["123"] = DID{Destination: Destination{Type: "queue", Target: "sales"}} }, []string{"dids.123.destination.type"}},
		{"did hangup target", func(d *Document) { d.DIDs["123"] = DID{Destination: Destination{Type: "hangup", Target: "1"}} }, []string{"dids.123.destination.target"}},
		{"did extension target", func(d *Document) { d.DIDs["123"] = DID{Destination: Destination{Type: "extension"}} }, []string{"dids.123.destination.target"}},
		{"did trunk name", func(d *Document) { d.DIDs["123"] = DID{Trunk: "A", Destination: Destination{Type: "hangup"}} }, []string{"dids.123.trunk"}},
		{"did description", func(d *Document) {
			d.DIDs["123"] = DID{Description: strings.Repeat("x", 65), Destination: Destination{Type: "hangup"}}
		}, []string{"dids.123.description"}},
		{"inbound default ivr", func(d *Document) { d.InboundDefault = &Destination{Type: "ivr", Target: "main"} }, []string{"inbound_default.type"}},
		{"inbound default none", func(d *Document) { d.InboundDefault = &Destination{Type: "none"} }, nil},
		{"route name", func(d *Document) { d.OutboundRoutes["a.b"] = d.OutboundRoutes["local"] }, []string{"outbound_routes.a.b"}},
		{"route no pattern", route(func(r *OutboundRoute) { r.Patterns = nil }), []string{"outbound_routes.local.patterns"}},
		{"route pattern", route(func(r *OutboundRoute) { r.Patterns = []string{"9X", "9.X"} }), []string{"outbound_routes.local.patterns[1]"}},
		{"route strip", route(func(r *OutboundRoute) { r.Strip = 21 }), []string{"outbound_routes.local.strip"}},
		{"route prepend", route(func(r *OutboundRoute) { r.Prepend = "0-21" }), []string{"outbound_routes.local.prepend"}},
		{"route no trunk", route(func(r *OutboundRoute) { r.Trunks = nil }), []string{"outbound_routes.local.trunks"}},
		{"route trunk twice", route(func(r *OutboundRoute) { r.Trunks = []string{"carrier1", "carrier1"} }), []string{"outbound_routes.local.trunks"}},
		{"route extension", route(func(r *OutboundRoute) { r.AllowExtensions = []string{"01"} }), []string{"outbound_routes.local.allow_extensions"}},
		{"route role", route(func(r *OutboundRoute) { r.AllowRoles = []string{"boss"} }), []string{"outbound_routes.local.allow_roles"}},
		{"route mode", route(func(r *OutboundRoute) { r.CallerNumber = CallerNumber{Mode: "random"} }), []string{"outbound_routes.local.caller_number.mode"}},
		{"route fixed needs number", route(func(r *OutboundRoute) { r.CallerNumber = CallerNumber{Mode: "fixed"} }), []string{"outbound_routes.local.caller_number.number"}},
		{"route fixed no pool", route(func(r *OutboundRoute) { r.CallerNumber = CallerNumber{Mode: "fixed", Number: "123", Pool: "sh"} }), []string{"outbound_routes.local.caller_number.pool"}},
		{"route pool needs pool", route(func(r *OutboundRoute) { r.CallerNumber = CallerNumber{Mode: "pool_region"} }), []string{"outbound_routes.local.caller_number.pool"}},
		{"route extension mode", route(func(r *OutboundRoute) { r.CallerNumber = CallerNumber{Number: "123"} }), []string{"outbound_routes.local.caller_number"}},
		{"pool empty", func(d *Document) { d.CallerPools["x"] = CallerPool{} }, []string{"caller_pools.x.numbers"}},
		{"pool number", func(d *Document) { d.CallerPools["x"] = CallerPool{Numbers: []PoolNumber{{Number: "12"}}} }, []string{"caller_pools.x.numbers[0].number"}},
		{"pool twice", func(d *Document) {
			d.CallerPools["x"] = CallerPool{Numbers: []PoolNumber{{Number: "123"}, {Number: "123"}}}
		}, []string{"caller_pools.x.numbers[1].number"}},
		{"pool city without province", func(d *Document) {
			d.CallerPools["x"] = CallerPool{Numbers: []PoolNumber{{Number: "123", City: "上海"}}}
		}, []string{"caller_pools.x.numbers[0].province"}},
		{"pool max calls", func(d *Document) {
			d.CallerPools["x"] = CallerPool{Numbers: []PoolNumber{{Number: "123", MaxCalls: -1}}}
		}, []string{"caller_pools.x.numbers[0].max_calls"}},
		{"blacklist number long", func(d *Document) {
			d.Blacklist = append(d.Blacklist, BlacklistEntry{Number: strings.Repeat("1", 21), Direction: "both"})
		}, []string{"blacklist[3].number"}},
		{"blacklist number 20", func(d *Document) {
			d.Blacklist = append(d.Blacklist, BlacklistEntry{Number: "+*#" + strings.Repeat("1", 17), Direction: "both"})
		}, nil},
		{"blacklist direction", func(d *Document) {
			d.Blacklist = append(d.Blacklist, BlacklistEntry{Number: "1", Direction: "呼入"})
		}, []string{"blacklist[3].direction"}},
		{"blacklist description 50", func(d *Document) {
			d.Blacklist = append(d.Blacklist, BlacklistEntry{Number: "1", Direction: "both", Description: strings.Repeat("骚", 50)})
		}, nil},
		{"blacklist description 51", func(d *Document) {
			d.Blacklist = append(d.Blacklist, BlacklistEntry{Number: "1", Direction: "both", Description: strings.Repeat("骚", 51)})
		}, []string{"blacklist[3].description"}},
		{"blacklist twice", func(d *Document) {
			d.Blacklist = append(d.Blacklist, BlacklistEntry{Number: "4001234567", Direction: "outbound"})
		}, []string{"blacklist[3]"}},
		{"policy emergency removed", policy(func(p *OutboundPolicy) { p.Emergency = []string{"110", "119", "120"} }), []string{"outbound_policy.emergency"}},
		{"policy emergency bad", policy(func(p *OutboundPolicy) { p.Emergency = append(p.Emergency, "1x") }), []string{"outbound_policy.emergency"}},
		{"policy prefixes", policy(func(p *OutboundPolicy) { p.DenyPrefixes = []string{"+00"} }), []string{"outbound_policy.deny_prefixes"}},
		{"policy allow twice", policy(func(p *OutboundPolicy) { p.AllowPrefixes = []string{"1", "1"} }), []string{"outbound_policy.allow_prefixes"}},
		{"policy cpm", policy(func(p *OutboundPolicy) { p.ExtensionCallsPerMinute = -1 }), []string{"outbound_policy.extension_calls_per_minute"}},
		{"policy max outbound", policy(func(p *OutboundPolicy) { p.ExtensionMaxOutbound = 101 }), []string{"outbound_policy.extension_max_outbound"}},
		{"policy day", policy(func(p *OutboundPolicy) { p.BusinessHours.Days = []string{"monday"} }), []string{"outbound_policy.business_hours.days"}},
		{"policy day twice", policy(func(p *OutboundPolicy) { p.BusinessHours.Days = []string{"mon", "mon"} }), []string{"outbound_policy.business_hours.days"}},
		{"policy lock without days", policy(func(p *OutboundPolicy) { p.BusinessHours.Days = nil }), []string{"outbound_policy.business_hours.days"}},
		{"policy from", policy(func(p *OutboundPolicy) { p.BusinessHours.From = "8:30" }), []string{"outbound_policy.business_hours.from"}},
		{"policy to", policy(func(p *OutboundPolicy) { p.BusinessHours.To = "24:01" }), []string{"outbound_policy.business_hours.to"}},
		{"policy to before from", policy(func(p *OutboundPolicy) { p.BusinessHours.To = "08:00" }), []string{"outbound_policy.business_hours"}},
		{"policy timezone", policy(func(p *OutboundPolicy) { p.BusinessHours.Timezone = "Mars/Olympus" }), []string{"outbound_policy.business_hours.timezone"}},
		{"policy defaults", func(d *Document) { d.OutboundPolicy = &OutboundPolicy{} }, nil},
		{"extension outbound number", func(d *Document) {
			e := d.Extensions["1001"]
			e.OutboundNumber = "021-1"
			d.Extensions["1001"] = e
		}, []string{"extensions.1001.outbound_number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, fe := range fieldErrors(t, base(tt.m).Validate()) {
				got = append(got, fe.Path)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckPattern(t *testing.T) {
	tests := []struct {
		p  string
		ok bool
	}{
		{"9XXXXXXXX.", true},
		{"1[3-9]XXXXXXXXX", true},
		{"[135]", true},
		{"+86X.", true},
		{"*#0!", true},
		{"ZN", true},
		{"110", true},
		{"", false},
		{".", false},
		{"X.X", false},
		{"9!9", false},
		{"x", false},
		{"[", false},
		{"[]", false},
		{"[5-1]", false},
		{"[-1]", false},
		{"[1-]", false},
		{"[1a]", false},
		{"9 1", false},
		{strings.Repeat("X", 65), false},
	}
	for _, tt := range tests {
		err := CheckPattern(tt.p)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPattern(%q) = %v, want ok=%v", tt.p, err, tt.ok)
		}
		var fe *FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Path != "" || fe.Problem == "") {
			t.Errorf("CheckPattern(%q) error %#v, want a *FieldError with only Problem", tt.p, err)
		}
	}
}

func TestApplyRouting(t *testing.T) {
	db := newStore(t)
	changes := mustApply(t, db, mustParse(t, routingDoc), Options{})
	for _, want := range []Change{
		{Action: ActionCreate, Kind: KindTrunk, Name: "carrier1"},
		{Action: ActionCreate, Kind: KindDID, Name: "+862110000000"},
		{Action: ActionCreate, Kind: KindInboundDefault, Name: KindInboundDefault},
		{Action: ActionCreate, Kind: KindOutboundRoute, Name: "mobile"},
		{Action: ActionCreate, Kind: KindCallerPool, Name: "sh"},
		{Action: ActionCreate, Kind: KindBlacklist, Name: "4001234567/inbound"},
		{Action: ActionUpdate, Kind: KindOutboundPolicy, Name: KindOutboundPolicy,
			Fields: []string{"emergency", "deny_prefixes", "premium", "extension_calls_per_minute", "lock_outside_hours", "business_hours"}},
	} {
		if !containsChange(changes, want) {
			t.Errorf("no change %v in %v", want, changes)
		}
	}

	s := takeRoutingDump(t, db)
	c1 := s.Trunks[1]
	if c1.Name != "carrier1" || !c1.HasSecret() || strings.Contains(c1.SealedSecret, "carrier-pass") {
		t.Fatalf("carrier1 = %+v", c1)
	}
	if pw, err := db.TrunkSecret(c1); err != nil || pw != "carrier-pass-1" {
		t.Errorf("secret = %q, %v", pw, err)
	}
	if s.Routes[0].Name != "mobile" || s.Routes[2].CallerNumber.Mode != "" {
		t.Errorf("routes = %+v", s.Routes)
	}
	bh := s.Policy.BusinessHours
	if !bh.Days[1] || !bh.Days[6] || bh.Days[0] || bh.From != 8*60+30 || bh.To != 24*60 || bh.Timezone != "Asia/Shanghai" {
		t.Errorf("business hours = %+v", bh)
	}
	if s.Inbound == nil || *s.Inbound != (store.Destination{Type: store.DestExtension, Target: "201"}) {
		t.Errorf("inbound default = %+v", s.Inbound)
	}

	export := func(t *testing.T) []byte {
		d, err := Export(db)
		if err != nil {
			t.Fatal(err)
		}
		text, err := Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	tests := []struct {
		name string
		doc  func(t *testing.T) Document
	}{
		{"same document again", func(t *testing.T) Document { return mustParse(t, routingDoc) }},
		{"the export as text", func(t *testing.T) Document {
			text := export(t)
			if bytes.Contains(text, []byte("carrier-pass")) || bytes.Contains(text, []byte("secret: ")) {
				t.Errorf("export leaks a trunk secret:\n%s", text)
			}
			if !bytes.Contains(text, []byte("# "+trunkSecretComment)) {
				t.Errorf("export lacks the secret comment:\n%s", text)
			}
			return mustParse(t, string(text))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := takeRoutingDump(t, db)
			if changes := mustApply(t, db, tt.doc(t), Options{Prune: true}); len(changes) != 0 {
				t.Errorf("changes = %v, want none", changes)
			}
			if after := takeRoutingDump(t, db); !reflect.DeepEqual(after, before) {
				t.Errorf("a no-change apply wrote something")
			}
		})
	}

	t.Run("secrets", func(t *testing.T) {
		sub := []struct {
			name    string
			secret  string
			changed bool
			want    string
		}{
			{"left out keeps", "", false, "carrier-pass-1"},
			{"same is no change", "carrier-pass-1", false, "carrier-pass-1"},
			{"new replaces", "carrier-pass-2", true, "carrier-pass-2"},
		}
		for _, tt := range sub {
			t.Run(tt.name, func(t *testing.T) {
				d := mustParse(t, routingDoc)
				tr := d.Trunks["carrier1"]
				tr.Secret = tt.secret
				d.Trunks["carrier1"] = tr
				changes := mustApply(t, db, d, Options{})
				want := []Change(nil)
				if tt.changed {
					want = []Change{{Action: ActionUpdate, Kind: KindTrunk, Name: "carrier1", Fields: []string{"secret"}}}
				}
				if !reflect.DeepEqual(changes, want) {
					t.Errorf("changes = %v, want %v", changes, want)
				}
				var tr1 store.Trunk
				db.View(func(tx *store.Tx) (err error) { tr1, err = tx.Trunk("carrier1"); return err })
				if pw, err := db.TrunkSecret(tr1); err != nil || pw != tt.want {
					t.Errorf("secret = %q, %v; want %q", pw, err, tt.want)
				}
			})
		}
	})

	t.Run("update fields", func(t *testing.T) {
		d := mustParse(t, routingDoc)
		r := d.OutboundRoutes["local"]
		r.Strip, r.AllowRoles = 0, nil
		d.OutboundRoutes["local"] = r
		tr := d.Trunks["backup-ip"]
		tr.Disabled = false
		d.Trunks["backup-ip"] = tr
		c1 := d.Trunks["carrier1"]
		c1.Secret = "" // keeps the secret the subtests above set
		d.Trunks["carrier1"] = c1
		d.Blacklist[0].Description = "changed"
		changes := mustApply(t, db, d, Options{})
		want := []Change{
			{Action: ActionUpdate, Kind: KindBlacklist, Name: "13900000000/both", Fields: []string{"description"}},
			{Action: ActionUpdate, Kind: KindOutboundRoute, Name: "local", Fields: []string{"strip", "allow_roles"}},
			{Action: ActionUpdate, Kind: KindTrunk, Name: "backup-ip", Fields: []string{"disabled"}},
		}
		// Changes sort by kind, then name.
		if !reflect.DeepEqual(changes, want) {
			t.Errorf("changes = %v\nwant %v", changes, want)
		}
	})
}

func TestApplyRoutingPrune(t *testing.T) {
	tests := []struct {
		prune bool
		want  []Change
	}{
		{false, nil},
		{true, []Change{
			{Action: ActionDelete, Kind: KindBlacklist, Name: "13900000000/both"},
			{Action: ActionDelete, Kind: KindBlacklist, Name: "4001234567/inbound"},
			{Action: ActionDelete, Kind: KindBlacklist, Name: "4001234567/outbound"},
			{Action: ActionDelete, Kind: KindCallerPool, Name: "sh"},
			{Action: ActionDelete, Kind: KindDID, Name: "+862110000000"},
			{Action: ActionDelete, Kind: KindDID, Name: "95555"},
			{Action: ActionDelete, Kind: KindInboundDefault, Name: KindInboundDefault},
			{Action: ActionDelete, Kind: KindOutboundRoute, Name: "any"},
			{Action: ActionDelete, Kind: KindOutboundRoute, Name: "local"},
			{Action: ActionDelete, Kind: KindOutboundRoute, Name: "mobile"},
			{Action: ActionDelete, Kind: KindTrunk, Name: "backup-ip"},
			{Action: ActionDelete, Kind: KindTrunk, Name: "carrier1"},
		}},
	}
	for _, tt := range tests {
		t.Run(map[bool]string{false: "keep", true: "prune"}[tt.prune], func(t *testing.T) {
			db := newStore(t)
			mustApply(t, db, mustParse(t, routingDoc), Options{})
			// The users and extensions again, no routing sections: the
			// outbound policy is a setting and is kept either way.
			doc := mustParse(t, routingDoc)
			doc.Trunks, doc.DIDs, doc.OutboundRoutes, doc.CallerPools, doc.Blacklist = nil, nil, nil, nil, nil
			doc.InboundDefault, doc.OutboundPolicy = nil, nil
			changes := mustApply(t, db, doc, Options{Prune: tt.prune})
			if !reflect.DeepEqual(changes, tt.want) {
				t.Errorf("changes = %v\nwant %v", changes, tt.want)
			}
			s := takeRoutingDump(t, db)
			if got := len(s.Trunks) == 0 && len(s.DIDs) == 0 && len(s.Routes) == 0 && len(s.Pools) == 0 &&
				len(s.Blacklist) == 0 && s.Inbound == nil; got != tt.prune {
				t.Errorf("everything gone = %v, want %v", got, tt.prune)
			}
			if s.Policy.ExtensionCallsPerMinute != 5 {
				t.Errorf("policy changed: %+v", s.Policy)
			}
		})
	}
}

func TestApplyRoutingReferences(t *testing.T) {
	tests := []struct {
		name  string
		m     func(d *Document)
		prune bool
		want  []string
	}{
		{"route names an unknown trunk", func(d *Document) {
			r := d.OutboundRoutes["local"]
			r.Trunks = []string{"carrier1", "carrier9"}
			d.OutboundRoutes["local"] = r
		}, false, []string{"outbound_routes.local.trunks"}},
		{"route allows an unknown extension", func(d *Document) {
			r := d.OutboundRoutes["local"]
			r.AllowExtensions = []string{"1009"}
			d.OutboundRoutes["local"] = r
		}, false, []string{"outbound_routes.local.allow_extensions"}},
		{"route names an unknown pool", func(d *Document) {
			r := d.OutboundRoutes["mobile"]
			r.CallerNumber.Pool = "bj"
			d.OutboundRoutes["mobile"] = r
		}, false, []string{"outbound_routes.mobile.caller_number.pool"}},
		{"DID to an unknown extension", func(d *Document) {
			d.DIDs["+862110000002"] = DID{Destination: Destination{Type: "extension", Target: "1009"}}
		}, false, []string{"dids.+862110000002.destination.target"}},
		{"DID from an unknown trunk", func(d *Document) {
			d.DIDs["+862110000002"] = DID{Trunk: "nope", Destination: Destination{Type: "hangup"}}
		}, false, []string{"dids.+862110000002.trunk"}},
		{"inbound default to an unknown extension", func(d *Document) {
			d.InboundDefault = &Destination{Type: "extension", Target: "1009"}
		}, false, []string{"inbound_default.target"}},
		{"pruning a trunk a kept route uses", func(d *Document) { delete(d.Trunks, "backup-ip") }, true,
			[]string{"outbound_routes.any.trunks", "outbound_routes.mobile.trunks"}},
		{"pruning an extension a DID uses", func(d *Document) { delete(d.Extensions, "1001") }, true,
			[]string{"dids.+862110000000.destination.target", "outbound_routes.local.allow_extensions"}},
		{"a new register trunk needs a secret", func(d *Document) {
			d.Trunks["carrier2"] = Trunk{Kind: "register", Host: "127.0.0.5", Username: "u"}
		}, false, []string{"trunks.carrier2"}},
		{"a queue destination is not available yet", func(d *Document) {
			d.DIDs["+862110000000"] = DID{Destination: Destination{Type: "queue", Target: "sales"}}
		}, false, []string{"dids.+862110000000.destination.type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newStore(t)
			mustApply(t, db, mustParse(t, routingDoc), Options{})
			before := takeRoutingDump(t, db)
			beforeAll := takeDump(t, db)
			// A half-bad document: good changes beside the bad one.
			d := mustParse(t, routingDoc)
			d.System.Title = "changed"
			tr := d.Trunks["carrier1"]
			tr.Secret, tr.MaxCalls = "a-new-secret", 99
			d.Trunks["carrier1"] = tr
			d.Blacklist = append(d.Blacklist, BlacklistEntry{Number: "123", Direction: "both"})
			tt.m(&d)
			for _, dry := range []bool{true, false} {
				_, err := Apply(context.Background(), db, newHasher(), d, Options{Prune: tt.prune, DryRun: dry})
				var got []string
				for _, fe := range fieldErrors(t, err) {
					got = append(got, fe.Path)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("DryRun=%v: errors at %v, want %v", dry, got, tt.want)
				}
			}
			if after := takeRoutingDump(t, db); !reflect.DeepEqual(after, before) {
				t.Error("a refused apply changed the routing")
			}
			if after := takeDump(t, db); !reflect.DeepEqual(after, beforeAll) {
				t.Error("a refused apply changed the store")
			}
		})
	}
}

func TestApplyReferenceLines(t *testing.T) {
	db := newStore(t)
	src := baseDoc + `outbound_routes:
  r:
    patterns: ["X."]
    trunks: [missing]
`
	_, err := Apply(context.Background(), db, newHasher(), mustParse(t, src), Options{})
	want := []where{{"outbound_routes.r.trunks", strings.Count(src, "\n")}}
	if got := positions(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v", got, want)
	}
}

func TestApplyInboundDefault(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, extDoc), Options{})
	tests := []struct {
		name  string
		set   *Destination
		prune bool
		want  []Change
		after *store.Destination
	}{
		{"left out, none stored", nil, false, nil, nil},
		{"set", &Destination{Type: "extension", Target: "1001"}, false,
			[]Change{{Action: ActionCreate, Kind: KindInboundDefault, Name: KindInboundDefault}},
			&store.Destination{Type: store.DestExtension, Target: "1001"}},
		{"same", &Destination{Type: "extension", Target: "1001"}, false, nil,
			&store.Destination{Type: store.DestExtension, Target: "1001"}},
		{"change", &Destination{Type: "extension", Target: "1002"}, false,
			[]Change{{Action: ActionUpdate, Kind: KindInboundDefault, Name: KindInboundDefault, Fields: []string{"target"}}},
			&store.Destination{Type: store.DestExtension, Target: "1002"}},
		{"left out keeps", nil, false, nil, &store.Destination{Type: store.DestExtension, Target: "1002"}},
		{"hangup", &Destination{Type: "hangup"}, false,
			[]Change{{Action: ActionUpdate, Kind: KindInboundDefault, Name: KindInboundDefault, Fields: []string{"type", "target"}}},
			&store.Destination{Type: store.DestHangup}},
		{"none clears", &Destination{Type: "none"}, false,
			[]Change{{Action: ActionDelete, Kind: KindInboundDefault, Name: KindInboundDefault}}, nil},
		{"none again", &Destination{Type: "none"}, false, nil, nil},
		{"set again", &Destination{Type: "hangup"}, false,
			[]Change{{Action: ActionCreate, Kind: KindInboundDefault, Name: KindInboundDefault}},
			&store.Destination{Type: store.DestHangup}},
		{"left out with prune clears", nil, true,
			[]Change{{Action: ActionDelete, Kind: KindInboundDefault, Name: KindInboundDefault}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, extDoc)
			d.InboundDefault = tt.set
			changes := mustApply(t, db, d, Options{Prune: tt.prune})
			if !reflect.DeepEqual(changes, tt.want) {
				t.Errorf("changes = %v, want %v", changes, tt.want)
			}
			if got := takeRoutingDump(t, db).Inbound; !reflect.DeepEqual(got, tt.after) {
				t.Errorf("inbound default = %+v, want %+v", got, tt.after)
			}
		})
	}
	if d := mustParse(t, "version: 1\ninbound_default: ~\n"); !reflect.DeepEqual(d.InboundDefault, &Destination{Type: "none"}) {
		t.Errorf("null parses as %+v", d.InboundDefault)
	}
}

// TestApplyDryRunSealsNothing: a dry run with a trunk secret neither writes
// nor creates the key file.
func TestApplyDryRunSealsNothing(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	changes := mustApply(t, db, mustParse(t, routingDoc), Options{DryRun: true})
	if !containsChange(changes, Change{Action: ActionCreate, Kind: KindTrunk, Name: "carrier1"}) {
		t.Errorf("plan = %v", changes)
	}
	if _, err := os.Stat(filepath.Join(dir, store.SecretKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run created the key file: %v", err)
	}
	if s := takeRoutingDump(t, db); len(s.Trunks) != 0 {
		t.Errorf("a dry run wrote trunks: %+v", s.Trunks)
	}
}

// TestApplyLostSecretKey: with the key file gone, the stored secret no longer
// opens (a clear error), and applying the secret again repairs it.
func TestApplyLostSecretKey(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mustApply(t, db, mustParse(t, routingDoc), Options{})
	if err := os.Remove(filepath.Join(dir, store.SecretKeyFile)); err != nil {
		t.Fatal(err)
	}
	trunk := func() store.Trunk {
		var tr store.Trunk
		db.View(func(tx *store.Tx) (err error) { tr, err = tx.Trunk("carrier1"); return err })
		return tr
	}
	if _, err := db.TrunkSecret(trunk()); !errors.Is(err, store.ErrNoSecretKey) {
		t.Fatalf("err = %v, want store.ErrNoSecretKey", err)
	}
	changes := mustApply(t, db, mustParse(t, routingDoc), Options{})
	if want := []Change{
		{Action: ActionUpdate, Kind: KindTrunk, Name: "carrier1", Fields: []string{"secret"}},
	}; !reflect.DeepEqual(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	if pw, err := db.TrunkSecret(trunk()); err != nil || pw != "carrier-pass-1" {
		t.Errorf("secret = %q, %v", pw, err)
	}
}

func TestCheckReferences(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, routingDoc), Options{})
	if err := db.View(func(tx *store.Tx) error { return CheckReferences(tx) }); err != nil {
		t.Fatalf("a consistent store: %v", err)
	}
	// The API deletes a trunk in a transaction and checks before commit.
	err := db.Update(func(tx *store.Tx) error {
		if err := tx.DeleteTrunk("carrier1"); err != nil {
			return err
		}
		return CheckReferences(tx)
	})
	var got []string
	for _, fe := range fieldErrors(t, err) {
		got = append(got, fe.Path)
	}
	want := []string{"dids.+862110000000.trunk", "outbound_routes.local.trunks", "outbound_routes.mobile.trunks"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v", got, want)
	}
	if n := len(takeRoutingDump(t, db).Trunks); n != 2 {
		t.Errorf("%d trunks after a refused delete", n)
	}
}

func TestPolicyClock(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"00:00", 0, true},
		{"09:30", 570, true},
		{"24:00", 1440, true},
		{"24:01", 0, false},
		{"9:30", 0, false},
		{"09:60", 0, false},
		{"-1:00", 0, false},
		{"0930", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseClock(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseClock(%q) = %d, %v", tt.in, got, err)
		}
		if tt.ok && formatClock(got) != tt.in {
			t.Errorf("formatClock(%d) = %q", got, formatClock(got))
		}
	}
}
