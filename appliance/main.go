package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
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
