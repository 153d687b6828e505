package provision

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/config/store"
)

func TestCallFeatureChecks(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"dtmf default", CheckDTMFMode(""), true},
		{"dtmf rfc4733", CheckDTMFMode("rfc4733"), true},
		{"dtmf info", CheckDTMFMode("info"), true},
		{"dtmf inband", CheckDTMFMode("inband"), true},
		{"dtmf upper", CheckDTMFMode("INFO"), false},
		{"dtmf unknown", CheckDTMFMode("sip-info"), false},
		{"forward off", CheckForward("1001", ""), true},
		{"forward extension", CheckForward("1001", "1002"), true},
		{"forward 2 digits", CheckForward("1001", "10"), true},
		{"forward 1 digit", CheckForward("1001", "1"), false},
		{"forward outside", CheckForward("1001", "+8613800000000"), true},
		{"forward 20 digits", CheckForward("1001", strings.Repeat("9", 20)), true},
		{"forward 21 digits", CheckForward("1001", strings.Repeat("9", 21)), false},
		{"forward plus only", CheckForward("1001", "+"), false},
		{"forward plus inside", CheckForward("1001", "10+02"), false},
		{"forward star", CheckForward("1001", "*72"), false},
		{"forward space", CheckForward("1001", "100 2"), false},
		{"forward to itself", CheckForward("1001", "1001"), false},
		{"seconds default", CheckNoAnswerSeconds(0), true},
		{"seconds 5", CheckNoAnswerSeconds(5), true},
		{"seconds 300", CheckNoAnswerSeconds(300), true},
		{"seconds 4", CheckNoAnswerSeconds(4), false},
		{"seconds 301", CheckNoAnswerSeconds(301), false},
		{"seconds negative", CheckNoAnswerSeconds(-1), false},
		{"group none", CheckPickupGroup(""), true},
		{"group", CheckPickupGroup("Sales_2-east"), true},
		{"group 32", CheckPickupGroup(strings.Repeat("g", 32)), true},
		{"group 33", CheckPickupGroup(strings.Repeat("g", 33)), false},
		{"group space", CheckPickupGroup("front desk"), false},
		{"group dot", CheckPickupGroup("a.b"), false},
		{"group non-ascii", CheckPickupGroup("前台"), false},
		{"ring on default", CheckRingOn(""), true},
		{"ring on both", CheckRingOn("both"), true},
		{"ring on phone", CheckRingOn("phone"), true},
		{"ring on seat", CheckRingOn("seat"), true},
		{"ring on upper", CheckRingOn("Seat"), false},
		{"ring on space", CheckRingOn(" phone"), false},
		{"ring on browser", CheckRingOn("browser"), false},
		{"ring on none", CheckRingOn("none"), false},
		{"code disabled", CheckFeatureCode(""), true},
		{"code star", CheckFeatureCode("*72"), true},
		{"code hash", CheckFeatureCode("#1"), true},
		{"code one char", CheckFeatureCode("*"), true},
		{"code 8", CheckFeatureCode("*1234567"), true},
		{"code 9", CheckFeatureCode("*12345678"), false},
		{"code digits", CheckFeatureCode("72"), false},
		{"code letter", CheckFeatureCode("*7a"), false},
		{"code space", CheckFeatureCode("* 7"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", tt.err, tt.ok)
			}
			var fe *FieldError
			if tt.err != nil && (!errors.As(tt.err, &fe) || fe.Path != "" || fe.Problem == "") {
				t.Errorf("error %#v, want a *FieldError with only Problem", tt.err)
			}
		})
	}
}

func TestNormalRingOn(t *testing.T) {
	tests := []struct{ in, want, target string }{
		{"", "", "both"},
		{"both", "", "both"},
		{"phone", "phone", "phone"},
		{"seat", "seat", "seat"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := NormalRingOn(tt.in)
			if got != tt.want {
				t.Errorf("NormalRingOn(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if target := (store.Extension{RingOn: got}).RingTarget(); target != tt.target {
				t.Errorf("stored %q rings %q, want %q", got, target, tt.target)
			}
		})
	}
}

func TestCheckFeatureCodes(t *testing.T) {
	with := func(m func(*store.FeatureCodes)) store.FeatureCodes {
		fc := store.DefaultFeatureCodes()
		m(&fc)
		return fc
	}
	tests := []struct {
		name string
		fc   store.FeatureCodes
		want []string // keys, in table order
	}{
		{"defaults", store.DefaultFeatureCodes(), nil},
		{"all disabled", store.FeatureCodes{}, nil},
		{"one disabled", with(func(fc *store.FeatureCodes) { fc.GroupPickup = "" }), nil},
		{"two disabled is no clash", with(func(fc *store.FeatureCodes) { fc.DNDOn, fc.DNDOff = "", "" }), nil},
		{"bad syntax", with(func(fc *store.FeatureCodes) { fc.DNDOn = "78" }), []string{"dnd_on"}},
		{"too long", with(func(fc *store.FeatureCodes) { fc.DNDOff = "*7900000000" }), []string{"dnd_off"}},
		{"duplicate", with(func(fc *store.FeatureCodes) { fc.DNDOff = "*78" }), []string{"dnd_off"}},
		{"prefix of an earlier code", with(func(fc *store.FeatureCodes) { fc.GroupPickup = "*7" }),
			[]string{"group_pickup"}},
		{"earlier code is a prefix", with(func(fc *store.FeatureCodes) { fc.DirectedPickup = "*520" }),
			[]string{"directed_pickup"}},
		{"several", with(func(fc *store.FeatureCodes) {
			fc.ForwardAlwaysOn, fc.ForwardBusyOff, fc.DirectedPickup = "x", "*90", "*"
		}), []string{"forward_always_on", "forward_busy_off", "directed_pickup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, fe := range fieldErrors(t, CheckFeatureCodes(tt.fc)) {
				got = append(got, fe.Path)
				if fe.Problem == "" {
					t.Error("empty problem")
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems at %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFeatureCodeKeys: every row of the table can be set by its key.
func TestFeatureCodeKeys(t *testing.T) {
	var fc store.FeatureCodes
	for i, r := range fc.Table() {
		ref := featureCodeRef(&fc, r.Key)
		if ref == nil {
			t.Fatalf("no field for key %q", r.Key)
		}
		*ref = string(rune('a' + i))
	}
	for i, r := range fc.Table() {
		if r.Code != string(rune('a'+i)) {
			t.Errorf("key %q sets another field", r.Key)
		}
	}
	if featureCodeRef(&fc, "colour") != nil {
		t.Error("an unknown key has a field")
	}
}

func TestValidateCallFeatures(t *testing.T) {
	doc := func(e Extension, codes map[string]string) Document {
		return Document{Version: Version, Extensions: map[string]Extension{"1001": e}, FeatureCodes: codes}
	}
	tests := []struct {
		name string
		doc  Document
		want []string
	}{
		{"all set", doc(Extension{DTMFMode: "inband", DND: true, ForwardAlways: "1002", ForwardBusy: "+861012345678",
			ForwardNoAnswer: "1003", NoAnswerSeconds: 45, PickupGroup: "sales", RingOn: "seat"}, map[string]string{"dnd_on": "#7", "group_pickup": ""}), nil},
		{"dtmf", doc(Extension{DTMFMode: "rtp"}, nil), []string{"extensions.1001.dtmf_mode"}},
		{"forward always", doc(Extension{ForwardAlways: "1001"}, nil), []string{"extensions.1001.forward_always"}},
		{"forward busy", doc(Extension{ForwardBusy: "x"}, nil), []string{"extensions.1001.forward_busy"}},
		{"forward no answer", doc(Extension{ForwardNoAnswer: "1"}, nil), []string{"extensions.1001.forward_no_answer"}},
		{"seconds", doc(Extension{NoAnswerSeconds: 2}, nil), []string{"extensions.1001.no_answer_seconds"}},
		{"group", doc(Extension{PickupGroup: "a b"}, nil), []string{"extensions.1001.pickup_group"}},
		{"ring on", doc(Extension{RingOn: "browser"}, nil), []string{"extensions.1001.ring_on"}},
		{"code", doc(Extension{}, map[string]string{"dnd_on": "78"}), []string{"feature_codes.dnd_on"}},
		{"code key", doc(Extension{}, map[string]string{"dnd": "*78"}), []string{"feature_codes.dnd"}},
		{"every field", doc(Extension{DTMFMode: "x", ForwardAlways: "x", ForwardBusy: "x", ForwardNoAnswer: "x",
			NoAnswerSeconds: 1000, PickupGroup: "x y", RingOn: "x"}, nil), []string{"extensions.1001.dtmf_mode", "extensions.1001.forward_always",
			"extensions.1001.forward_busy", "extensions.1001.forward_no_answer", "extensions.1001.no_answer_seconds",
			"extensions.1001.pickup_group", "extensions.1001.ring_on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, fe := range fieldErrors(t, tt.doc.Validate()) {
				got = append(got, fe.Path)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseCallFeatures(t *testing.T) {
	src := `version: 1
extensions:
  1001:
    dtmf_mode: info
    dnd: true
    forward_always: "1002"
    forward_busy: "+8613800000000"
    forward_no_answer: 1003
    no_answer_seconds: 30
    pickup_group: sales
    ring_on: seat
feature_codes:
  dnd_on: "#78"
  group_pickup: ""
  directed_pickup: ~
`
	d := mustParse(t, src)
	want := Extension{DTMFMode: "info", DND: true, ForwardAlways: "1002", ForwardBusy: "+8613800000000",
		ForwardNoAnswer: "1003", NoAnswerSeconds: 30, PickupGroup: "sales", RingOn: "seat"}
	if got := d.Extensions["1001"]; !reflect.DeepEqual(got, want) {
		t.Errorf("extension %+v\nwant %+v", got, want)
	}
	if want := map[string]string{"dnd_on": "#78", "group_pickup": "", "directed_pickup": ""}; !reflect.DeepEqual(d.FeatureCodes, want) {
		t.Errorf("feature codes %v, want %v", d.FeatureCodes, want)
	}

	bad := []struct {
		name string
		src  string
		want []where
	}{
		{"unknown code key", "version: 1\nfeature_codes:\n  dnd: '*78'\n", []where{{"feature_codes.dnd", 3}}},
		{"code not a string", "version: 1\nfeature_codes:\n  dnd_on: [1]\n", []where{{"feature_codes.dnd_on", 3}}},
		{"dnd not a bool", "version: 1\nextensions:\n  1001:\n    dnd: yes please\n", []where{{"extensions.1001.dnd", 4}}},
		{"seconds not an int", "version: 1\nextensions:\n  1001:\n    no_answer_seconds: soon\n", []where{{"extensions.1001.no_answer_seconds", 4}}},
		{"ring on not a string", "version: 1\nextensions:\n  1001:\n    ring_on: [seat]\n", []where{{"extensions.1001.ring_on", 4}}},
		{"ring on misspelt", "version: 1\nextensions:\n  1001:\n    ringon: seat\n", []where{{"extensions.1001.ringon", 4}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if got := positions(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestApplyCallFeatures(t *testing.T) {
	db := newStore(t)
	setRealm(t, db, "ccbox-test")
	doc := `version: 1
users:
  admin:
    role: admin
    password_hash: ` + testHash + `
extensions:
  1001:
    secret: long-secret
    dtmf_mode: rfc4733
    dnd: true
    forward_busy: "1002"
    no_answer_seconds: 25
    pickup_group: sales
feature_codes:
  dnd_on: "#78"
  group_pickup: ""
`
	changes := mustApply(t, db, mustParse(t, doc), Options{})
	if !containsChange(changes, Change{Action: ActionUpdate, Kind: KindFeatureCodes, Name: KindFeatureCodes,
		Fields: []string{"dnd_on", "group_pickup"}}) {
		t.Errorf("changes %v lack the feature codes", changes)
	}
	e, err := getExtension(t, db, "1001")
	if err != nil {
		t.Fatal(err)
	}
	if e.DTMFMode != "" || !e.DND || e.ForwardBusy != "1002" || e.NoAnswerSeconds != 25 || e.PickupGroup != "sales" {
		t.Errorf("stored %+v", e)
	}
	want := store.DefaultFeatureCodes()
	want.DNDOn, want.GroupPickup = "#78", ""
	if got := takeDump(t, db).Codes; got != want {
		t.Errorf("codes %+v\nwant %+v", got, want)
	}
	if again := mustApply(t, db, mustParse(t, doc), Options{}); len(again) != 0 {
		t.Errorf("second apply changed %v", again)
	}

	// Export, then apply the export: no change.
	exp, err := Export(db)
	if err != nil {
		t.Fatal(err)
	}
	text, err := Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustApply(t, db, mustParse(t, string(text)), Options{}); len(again) != 0 {
		t.Errorf("applying the export changed %v\n%s", again, text)
	}

	// A dry run shows the change and writes nothing.
	before := takeDump(t, db)
	planned := mustApply(t, db, mustParse(t, strings.Replace(doc, "dnd: true", "dnd: false", 1)), Options{DryRun: true})
	if !containsChange(planned, Change{Action: ActionUpdate, Kind: KindExtension, Name: "1001", Fields: []string{"dnd"}}) {
		t.Errorf("dry run planned %v", planned)
	}
	if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
		t.Error("a dry run wrote")
	}
	if s := (Change{Action: ActionUpdate, Kind: KindFeatureCodes, Name: KindFeatureCodes, Fields: []string{"dnd_on"}}).String(); s != "update feature_codes (dnd_on)" {
		t.Errorf("String() = %q", s)
	}
}

// TestApplyFeatureCodeClash: a code clashing with one the document leaves
// out (as stored) is refused where the document writes it, and nothing is
// written.
func TestApplyFeatureCodeClash(t *testing.T) {
	db := newStore(t)
	mustApply(t, db, mustParse(t, "version: 1\nusers:\n  admin:\n    role: admin\n    password_hash: "+testHash+"\nfeature_codes:\n  dnd_on: '#5'\n"), Options{})
	before := takeDump(t, db)
	tests := []struct {
		name string
		doc  string
		want []where
	}{
		{"same as a stored code", "version: 1\nfeature_codes:\n  dnd_off: '#5'\n", []where{{"feature_codes.dnd_off", 3}}},
		{"a stored code is its prefix", "version: 1\nfeature_codes:\n  group_pickup: '#55'\n", []where{{"feature_codes.group_pickup", 3}}},
		{"prefix within the document", "version: 1\nfeature_codes:\n  dnd_on: '*6'\n  dnd_off: '*61'\n", []where{{"feature_codes.dnd_off", 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Apply(context.Background(), db, newHasher(), mustParse(t, tt.doc), Options{})
			if got := positions(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v (%v), want %v", got, err, tt.want)
			}
			if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
				t.Error("a refused apply wrote")
			}
		})
	}
	// Moving a code away and taking it in one document is fine.
	mustApply(t, db, mustParse(t, "version: 1\nfeature_codes:\n  dnd_on: '*78'\n  dnd_off: '#5'\n"), Options{})
}

// TestApplyRingOn: ring_on is applied, "both" is stored as the default (so
// applying it again is no change), a change is reported by its key, the
// export carries it and applies back with no change, and a bad value is
// refused where it is written with nothing stored.
func TestApplyRingOn(t *testing.T) {
	db := newStore(t)
	setRealm(t, db, "ccbox-test")
	doc := func(ringOn string) string {
		return `version: 1
users:
  admin:
    role: admin
    password_hash: ` + testHash + `
extensions:
  1001:
    user: admin
    secret: long-secret
    ring_on: ` + ringOn + `
`
	}
	stored := func(t *testing.T) string {
		t.Helper()
		e, err := getExtension(t, db, "1001")
		if err != nil {
			t.Fatal(err)
		}
		return e.RingOn
	}
	mustApply(t, db, mustParse(t, doc("both")), Options{})
	if got := stored(t); got != "" {
		t.Fatalf("both stored as %q, want the default", got)
	}
	if again := mustApply(t, db, mustParse(t, doc(`""`)), Options{}); len(again) != 0 {
		t.Errorf("applying the default after both changed %v", again)
	}

	steps := []struct {
		ringOn  string
		stored  string
		changed bool
	}{
		{"seat", "seat", true},
		{"seat", "seat", false},
		{"phone", "phone", true},
		{"both", "", true},
		{"both", "", false},
		{"seat", "seat", true},
	}
	for i, s := range steps {
		changes := mustApply(t, db, mustParse(t, doc(s.ringOn)), Options{})
		want := Change{Action: ActionUpdate, Kind: KindExtension, Name: "1001", Fields: []string{"ring_on"}}
		if s.changed && (len(changes) != 1 || !containsChange(changes, want)) {
			t.Errorf("step %d (%s): changes %v, want %v", i, s.ringOn, changes, want)
		}
		if !s.changed && len(changes) != 0 {
			t.Errorf("step %d (%s): changes %v, want none", i, s.ringOn, changes)
		}
		if got := stored(t); got != s.stored {
			t.Errorf("step %d (%s): stored %q, want %q", i, s.ringOn, got, s.stored)
		}
	}

	exp, err := Export(db)
	if err != nil {
		t.Fatal(err)
	}
	if got := exp.Extensions["1001"].RingOn; got != "seat" {
		t.Errorf("exported ring_on %q, want seat", got)
	}
	text, err := Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "ring_on: seat\n") {
		t.Errorf("export lacks ring_on:\n%s", text)
	}
	if again := mustApply(t, db, mustParse(t, string(text)), Options{}); len(again) != 0 {
		t.Errorf("applying the export changed %v\n%s", again, text)
	}

	before := takeDump(t, db)
	d, err := Parse([]byte(strings.Replace(doc("browser"), "    user: admin\n", "    user: admin\n    name: Changed\n", 1)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	_, err = Apply(context.Background(), db, newHasher(), d, Options{})
	if got, want := positions(t, err), []where{{"extensions.1001.ring_on", 11}}; !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v (%v), want %v", got, err, want)
	}
	if after := takeDump(t, db); !reflect.DeepEqual(after, before) {
		t.Error("a refused apply wrote")
	}
}
