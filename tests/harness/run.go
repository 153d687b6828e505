package harness

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RunTimeout bounds a one-shot command of Run.
const RunTimeout = 60 * time.Second

// Run runs the appliance binary once with args (a subcommand such as
// "apply", "export", "backup", "restore", and its flags) and returns what it
// wrote and its exit status. env holds KEY=value variables; the process gets
// none of the APPLIANCE_* variables of the test's environment, and
// APPLIANCE_DATA_DIR is a new empty directory unless env sets it, so a
// command never writes into the source tree. It fails the test when the
// command cannot start or runs longer than RunTimeout; a non-zero exit is
// returned, not a failure.
func Run(t testing.TB, args []string, env ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return RunInput(t, "", args, env...)
}

// RunInput is Run with stdin, for a subcommand that reads a file named "-"
// (apply -).
func RunInput(t testing.TB, stdin string, args []string, env ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	bin := Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(WithoutAppliance(os.Environ()), "APPLIANCE_DATA_DIR="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second // output pipes of a killed command
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("appliance %q did not finish within %v\nstdout:\n%s\nstderr:\n%s", args, RunTimeout, tail(out.String(), logTailLines), tail(errOut.String(), logTailLines))
	}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return out.String(), errOut.String(), exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run appliance %q: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}
