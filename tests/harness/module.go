package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// moduleRoot caches the module root: `go env GOMOD` costs a process, and the
// answer cannot change while the tests run.
var moduleRoot struct {
	once sync.Once
	dir  string
	err  error
}

// ModuleRoot returns the directory of the module's go.mod, found with
// `go env GOMOD` from the test's working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	moduleRoot.once.Do(func() {
		moduleRoot.dir, moduleRoot.err = findModuleRoot()
	})
	if moduleRoot.err != nil {
		t.Fatalf("find the module root: %v", moduleRoot.err)
	}
	return moduleRoot.dir
}

func findModuleRoot() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module")
	}
	return filepath.Dir(mod), nil
}

// goTool returns the go command: `go test` puts its own GOROOT/bin first in
// PATH, so the tests build with the toolchain that runs them.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// ArtifactsDir returns the directory where tests leave files for a person to
// look at after a failed run (screenshots, logs): $ARTIFACTS_DIR when set,
// else tests/artifacts in the module (ignored by git). It creates it.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join(ModuleRoot(t), "tests", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// ArtifactPath returns the path of an artifact of the running test: the
// test's name (subtests included, made safe for a file name), a dash, and
// name, in ArtifactsDir.
func ArtifactPath(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(ArtifactsDir(t), safeName(t.Name())+"-"+safeName(name))
}

// safeName keeps letters, digits, dot, dash and underscore, and turns every
// other byte (the "/" of subtests, spaces) into "_".
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WithoutAppliance returns env without its APPLIANCE_* variables, so the
// environment of whoever runs the tests cannot change the box under test.
func WithoutAppliance(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "APPLIANCE_") {
			out = append(out, kv)
		}
	}
	return out
}

// trimOutput shortens command output for a failure message.
func trimOutput(b []byte) string {
	return tail(string(bytes.TrimSpace(b)), 200)
}
