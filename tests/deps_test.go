package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// listedPackage is the part of `go list -json` output the rules read.
type listedPackage struct {
	ImportPath string
	Imports    []string // direct imports of the non-test files
	Deps       []string // every package the non-test files need, transitively
	Error      *struct{ Err string }
}

// depRule is one rule of the import graph. A package at rel (its path inside
// the module, "" for the root) that the rule applies to must not have a
// forbidden import: among its direct imports when direct is set, else among
// all its dependencies.
type depRule struct {
	name      string
	applies   func(rel string) bool
	direct    bool
	forbidden func(dep, depRel string) bool // depRel is "" for a package outside the module
}

// violation is a package that breaks a rule through dep.
type violation struct {
	rule, pkg, dep string
}

// under reports whether the module-relative path rel is dir or inside it.
func under(rel, dir string) bool {
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// layers is the direction of imports: a package may import packages of its
// own layer and the layers before it, never after it.
var layers = []string{"config", "media", "pbx", "webui", "appliance"}

// layerOf returns the index of rel's layer in layers, or -1.
func layerOf(rel string) int {
	return slices.IndexFunc(layers, func(l string) bool { return under(rel, l) })
}

// dependencyRules are the rules of docs/architecture.md.
func dependencyRules() []depRule {
	rules := []depRule{}
	for i, layer := range layers[:len(layers)-1] {
		rules = append(rules, depRule{
			name:    layer + " imports only earlier layers",
			applies: func(rel string) bool { return under(rel, layer) },
			forbidden: func(_, depRel string) bool {
				return depRel != "" && layerOf(depRel) > i
			},
		})
	}
	for _, dir := range []string{"appliance", "tests"} {
		rules = append(rules, depRule{
			name:      "nothing imports " + dir,
			applies:   func(rel string) bool { return !under(rel, dir) },
			forbidden: func(_, depRel string) bool { return depRel != "" && under(depRel, dir) },
		})
	}
	// The box's own packages reach a library only through its one
	// package; the test tools under tests are peers on the wire (a load
	// generator of browser seats is a WebRTC client) and may use it.
	only := func(name, dir, lib string) depRule {
		return depRule{
			name:      name,
			applies:   func(rel string) bool { return !under(rel, dir) && !under(rel, "tests") },
			direct:    true,
			forbidden: func(dep, _ string) bool { return dep == lib || strings.HasPrefix(dep, lib+"/") },
		}
	}
	rules = append(rules,
		only("only pbx/sip imports sipgo", "pbx/sip", "github.com/emiago/sipgo"),
		only("only media/webrtc imports pion/webrtc", "media/webrtc", "github.com/pion/webrtc/v4"),
		depRule{
			// Pure functions over numbers: nothing but the standard
			// library, so routing decisions are testable alone.
			name:    "pbx/dialplan imports only the standard library",
			applies: func(rel string) bool { return under(rel, "pbx/dialplan") },
			direct:  true,
			forbidden: func(dep, _ string) bool {
				first, _, _ := strings.Cut(dep, "/")
				return strings.Contains(first, ".")
			},
		},
		depRule{
			// Direct imports only: fiber itself links testing through
			// fasthttp, which no rule of ours can change.
			name:      "no production package imports testing",
			applies:   func(rel string) bool { return !under(rel, "tests") },
			direct:    true,
			forbidden: func(dep, _ string) bool { return dep == "testing" || strings.HasPrefix(dep, "testing/") },
		},
	)
	return rules
}

// violations checks the module's packages (module path mod) against rules.
func violations(mod string, pkgs []listedPackage, rules []depRule) []violation {
	rel := func(path string) (string, bool) {
		switch {
		case path == mod:
			return "", true
		case strings.HasPrefix(path, mod+"/"):
			return strings.TrimPrefix(path, mod+"/"), true
		}
		return "", false
	}
	var out []violation
	for _, p := range pkgs {
		pr, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !r.applies(pr) {
				continue
			}
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				dr, _ := rel(d)
				if r.forbidden(d, dr) {
					out = append(out, violation{rule: r.name, pkg: p.ImportPath, dep: d})
				}
			}
		}
	}
	return out
}

// goList runs `go list -e -deps -json ./...` at the module root and returns
// the module path and the packages.
func goList(t *testing.T) (string, []listedPackage) {
	t.Helper()
	root := harness.ModuleRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(args ...string) []byte {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	mod := strings.TrimSpace(string(run("list", "-m")))
	dec := json.NewDecoder(bytes.NewReader(run("list", "-e", "-deps", "-json", "./...")))
	var pkgs []listedPackage
	for {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return mod, pkgs
}

func TestDependencyRules(t *testing.T) {
	mod, pkgs := goList(t)
	own := 0
	for _, p := range pkgs {
		if p.ImportPath == mod || strings.HasPrefix(p.ImportPath, mod+"/") {
			own++
			if p.Error != nil {
				// The build stages report it; the rules still check the
				// imports that go list could read.
				t.Logf("%s does not load: %s", p.ImportPath, p.Error.Err)
			}
		}
	}
	if own == 0 {
		t.Fatalf("go list found no package of module %s", mod)
	}
	for _, v := range violations(mod, pkgs, dependencyRules()) {
		t.Errorf("%s: %s imports %s", v.rule, v.pkg, v.dep)
	}
}

// TestDependencyRulesCatch proves each rule on a made-up module: a rule
// that can never fire would pass on any code.
func TestDependencyRulesCatch(t *testing.T) {
	const mod = "example.com/box"
	p := func(rel string) string { return mod + "/" + rel }
	tests := []struct {
		name      string
		pkg       listedPackage
		wantRules []string // nil when the package is fine
	}{
		{"config imports media", listedPackage{ImportPath: p("config/store"), Deps: []string{p("media/codec")}}, []string{"config imports only earlier layers"}},
		{"media imports pbx transitively", listedPackage{ImportPath: p("media/rtp"), Deps: []string{"fmt", p("pbx/call")}}, []string{"media imports only earlier layers"}},
		{"media imports config", listedPackage{ImportPath: p("media/rtp"), Deps: []string{p("config")}}, nil},
		{"pbx imports webui", listedPackage{ImportPath: p("pbx/acd"), Deps: []string{p("webui")}}, []string{"pbx imports only earlier layers"}},
		{"pbx imports media", listedPackage{ImportPath: p("pbx/call"), Deps: []string{p("media/mixer"), p("config")}}, nil},
		{"webui imports appliance", listedPackage{ImportPath: p("webui"), Deps: []string{p("appliance")}}, []string{"webui imports only earlier layers", "nothing imports appliance"}},
		{"webui imports pbx", listedPackage{ImportPath: p("webui"), Deps: []string{p("pbx/acd")}}, nil},
		{"image imports appliance", listedPackage{ImportPath: p("image"), Deps: []string{p("appliance")}}, []string{"nothing imports appliance"}},
		{"media imports tests", listedPackage{ImportPath: p("media/mixer"), Deps: []string{p("tests/audiotest")}}, []string{"nothing imports tests"}},
		{"tests import tests", listedPackage{ImportPath: p("tests/browser"), Deps: []string{p("tests/harness")}}, nil},
		{"pbx/call imports sipgo", listedPackage{ImportPath: p("pbx/call"), Imports: []string{"github.com/emiago/sipgo/sip"}}, []string{"only pbx/sip imports sipgo"}},
		{"appliance links sipgo through pbx/sip", listedPackage{ImportPath: p("appliance"), Imports: []string{p("pbx/sip")}, Deps: []string{"github.com/emiago/sipgo"}}, nil},
		{"pbx/sip/digest imports sipgo", listedPackage{ImportPath: p("pbx/sip/digest"), Imports: []string{"github.com/emiago/sipgo"}}, nil},
		{"webui imports pion", listedPackage{ImportPath: p("webui"), Imports: []string{"github.com/pion/webrtc/v4"}}, []string{"only media/webrtc imports pion/webrtc"}},
		{"media/webrtc imports pion", listedPackage{ImportPath: p("media/webrtc"), Imports: []string{"github.com/pion/webrtc/v4/pkg/media"}}, nil},
		{"a test tool imports pion", listedPackage{ImportPath: p("tests/seatload"), Imports: []string{"github.com/pion/webrtc/v4"}}, nil},
		{"pion/webrtc v3 is another module", listedPackage{ImportPath: p("webui"), Imports: []string{"github.com/pion/webrtc/v3"}}, nil},
		{"production imports testing", listedPackage{ImportPath: p("pbx/acd"), Imports: []string{"testing"}}, []string{"no production package imports testing"}},
		{"production imports testing/synctest", listedPackage{ImportPath: p("pbx/acd"), Imports: []string{"testing/synctest"}}, []string{"no production package imports testing"}},
		{"production links testing through a library", listedPackage{ImportPath: p("webui"), Deps: []string{"testing"}}, nil},
		{"tests import testing", listedPackage{ImportPath: p("tests/harness"), Imports: []string{"testing"}}, nil},
		{"another module", listedPackage{ImportPath: "example.com/other/media", Deps: []string{"example.com/other/pbx"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(mod, []listedPackage{tt.pkg}, dependencyRules())
			var rules []string
			for _, v := range got {
				rules = append(rules, v.rule)
			}
			if !slices.Equal(rules, tt.wantRules) {
				t.Errorf("violated rules = %q, want %q", rules, tt.wantRules)
			}
		})
	}
}
