package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildTimeout bounds `go build`: a cold build of the whole appliance with
// its dependencies takes about a minute on a small machine.
const buildTimeout = 10 * time.Minute

// built caches the appliance binary: the tests of one package share one
// build, which `go build` could not make cheap enough on its own (it still
// links every time).
var built struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the appliance binary under test. When the
// environment variable APPLIANCE_BIN is set it is that file (tests/run builds
// once for all packages). Otherwise the first call builds ./appliance at the
// module root with `go build`, CGO_ENABLED=0 and without -race, as it ships;
// later calls in the same process reuse it. A failed build fails the test
// with the compiler's output.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("APPLIANCE_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatalf("APPLIANCE_BIN: %v", err)
		}
		if _, err := os.Stat(abs); err != nil {
			t.Fatalf("APPLIANCE_BIN: %v", err)
		}
		return abs
	}
	root := ModuleRoot(t)
	built.once.Do(func() {
		built.path, built.err = build(root)
	})
	if built.err != nil {
		t.Fatalf("build the appliance: %v", built.err)
	}
	return built.path
}

// build compiles ./appliance into a directory of this process under the
// system temp dir. No hook runs when a test process ends, so each build
// first removes the directories of processes that are gone.
func build(root string) (string, error) {
	base := filepath.Join(os.TempDir(), "ccbox-e2e-bin")
	removeStale(base)
	dir := filepath.Join(base, strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "appliance")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, "./appliance")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	output, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return "", fmt.Errorf("go build ./appliance: timed out after %v\n%s", buildTimeout, trimOutput(output))
	}
	if err != nil {
		return "", fmt.Errorf("go build ./appliance: %w\n%s", err, trimOutput(output))
	}
	return out, nil
}

// removeStale deletes the build directories (named by process ID) under
// base whose process no longer runs.
func removeStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		// Signal 0 checks that the process exists; EPERM means it exists
		// under another user.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
}
