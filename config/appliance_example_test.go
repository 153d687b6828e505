package config

import (
	"os"
	"reflect"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// The example file ships with every key set to its default. Loading it must
// give exactly Default(), and it must mention every key (an equal result
// alone would not notice a key missing from the example).
func TestExampleFile(t *testing.T) {
	const path = "appliance.example.yaml"
	c, err := load(t, []string{"-config", path}, nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("example differs from the defaults:\n got %+v\nwant %+v", c, Default())
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	root := doc.Content[0]
	for i := 0; i < len(root.Content); i += 2 {
		keys = append(keys, root.Content[i].Value)
	}
	for _, fd := range fields() {
		if !slices.Contains(keys, fd.name) {
			t.Errorf("example lacks key %q", fd.name)
		}
	}
}
