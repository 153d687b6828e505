package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a runtime failure
	exitUsage  = 2 // bad configuration or command line: nothing was written
)

func usage(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprint(w, `usage:
  appliance [run] [flags]             start the box (default)
  appliance export [flags]            print the configuration document (YAML)
  appliance apply [flags] FILE        apply a configuration document ("-" reads stdin)
        --dry-run   print the plan, change nothing
        --prune     also delete what the document omits
  appliance backup [flags] FILE       write a backup of the store
  appliance restore [flags] FILE      replace the store with a backup
  appliance version                   print the version

export, apply, backup and restore work on a stopped box's data directory
(-data-dir or APPLIANCE_DATA_DIR), or on a running box with
--server URL --token TOKEN (or APPLIANCE_SERVER, APPLIANCE_TOKEN).
Run "appliance run -h" for the configuration flags.
`)
}

// tuneGC trades memory for CPU: the call path allocates per SIP message
// (sipgo), and at the default GOGC=100 the collector takes a sixth of the
// CPU at 1,000 calls per second. At 200 the heap may grow to three times
// the live data. (A soft memory limit is left out: the SIP stack keeps
// every finished transaction for its RFC 3261 timers, 32 s, so at a
// thousand calls a second hundreds of MB are live, and a limit below that
// would make the collector run without pause.) GOGC in the environment wins.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}
