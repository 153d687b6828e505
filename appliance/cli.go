package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
)

// command is what every subcommand gets: its parsed configuration and
// positional arguments, and where to read and write.
type command struct {
	cfg    config.Config
	args   []string
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	// Remote mode: talk to a running box's API instead of its data dir.
	server   string
	token    string
	insecure bool
	dryRun   bool
	prune    bool
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "version":
		fmt.Fprintln(stdout, "appliance", version)
		return exitOK
	case "help":
		usage(stdout)
		return exitOK
	case "run", "export", "apply", "backup", "restore":
	default:
		fmt.Fprintf(stderr, "appliance: unknown command %q\n", name)
		usage(stderr)
		return exitUsage
	}

	fs := flag.NewFlagSet("appliance "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.AddFlags(fs)
	cmd := &command{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if name != "run" {
		fs.StringVar(&cmd.server, "server", getenv("APPLIANCE_SERVER"), "URL of a running appliance (env APPLIANCE_SERVER)")
		fs.StringVar(&cmd.token, "token", "", "API token for --server (env APPLIANCE_TOKEN)")
		fs.BoolVar(&cmd.insecure, "insecure", false, "with an https --server, accept a self-signed certificate")
	}
	if name == "apply" {
		fs.BoolVar(&cmd.dryRun, "dry-run", false, "print the plan, change nothing")
		fs.BoolVar(&cmd.prune, "prune", false, "also delete what the document omits")
	}
	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if cmd.token == "" {
		cmd.token = getenv("APPLIANCE_TOKEN")
	}
	cmd.args = positional

	cfg, err := flags.Load(getenv)
	if name == "run" {
		// Report the data directory and first-admin problems together with
		// the configuration's, so one attempt shows everything to fix.
		err = errors.Join(err, preflight(cfg))
	}
	if err != nil {
		printProblems(stderr, err)
		return exitUsage
	}
	cmd.cfg = cfg

	if name == "run" {
		if len(positional) > 0 {
			fmt.Fprintf(stderr, "appliance run: unexpected argument %q\n", positional[0])
			return exitUsage
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
		if err := run(ctx, cfg, log); err != nil {
			var ce configError
			if errors.As(err, &ce) {
				printProblems(stderr, ce.err)
				return exitUsage
			}
			log.Error("appliance failed", "err", err)
			return exitFailed
		}
		return exitOK
	}

	var do func(context.Context) error
	want := 1
	switch name {
	case "export":
		do, want = cmd.export, 0
	case "apply":
		do = cmd.apply
	case "backup":
		do = cmd.backup
	case "restore":
		do = cmd.restore
	}
	if len(positional) != want {
		fmt.Fprintf(stderr, "appliance %s: expected %d file argument(s), got %d\n", name, want, len(positional))
		usage(stderr)
		return exitUsage
	}
	if err := do(ctx); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			printProblems(stderr, ue.err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "appliance %s: %v\n", name, err)
		return exitFailed
	}
	return exitOK
}

// usageError is a problem with what the user gave (a document with
// errors, a file that is not a backup): exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// parseInterleaved lets flags come before or after positional arguments
// ("apply FILE --dry-run" as well as "apply --dry-run FILE").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// printProblems prints one line per problem.
func printProblems(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			printProblems(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

// undoNewDataDir returns a func that removes what a command created when
// it found no store in the data directory: a failed (or dry-run) apply or
// restore must leave nothing behind, not an empty store that a first start
// would then take for an existing box.
func (cmd *command) undoNewDataDir() func() {
	dir := cmd.cfg.DataDir
	dbDir := filepath.Join(dir, "db")
	if _, err := os.Stat(dbDir); err == nil {
		return func() {}
	}
	_, dirErr := os.Stat(dir)
	return func() {
		os.RemoveAll(dbDir)
		if dirErr != nil {
			os.Remove(dir) // only if we made it and it is empty
		}
	}
}

// openStore opens a stopped box's store; a running box holds the lock, and
// the answer says how to reach it instead.
func (cmd *command) openStore(readOnly bool) (*store.DB, error) {
	db, err := store.Open(store.Options{Dir: cmd.cfg.DataDir, ReadOnly: readOnly})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("the appliance is running on %s; use --server URL --token TOKEN to reach it: %w", cmd.cfg.DataDir, err)
	}
	return db, err
}

func (cmd *command) export(ctx context.Context) error {
	if cmd.server != "" {
		body, err := cmd.call(ctx, http.MethodGet, "/api/v1/config", nil)
		if err != nil {
			return err
		}
		_, err = cmd.stdout.Write(body)
		return err
	}
	db, err := cmd.openStore(true)
	if err != nil {
		return err
	}
	defer db.Close()
	doc, err := provision.Export(db)
	if err != nil {
		return err
	}
	out, err := provision.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = cmd.stdout.Write(out)
	return err
}

func (cmd *command) readFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(cmd.stdin)
	}
	return os.ReadFile(name)
}

func (cmd *command) apply(ctx context.Context) error {
	data, err := cmd.readFile(cmd.args[0])
	if err != nil {
		return err
	}
	var changes []provision.Change
	if cmd.server != "" {
		q := url.Values{}
		if cmd.dryRun {
			q.Set("dry_run", "1")
		}
		if cmd.prune {
			q.Set("prune", "1")
		}
		body, err := cmd.call(ctx, http.MethodPost, "/api/v1/config/apply?"+q.Encode(), data)
		if err != nil {
			return err
		}
		var resp struct {
			Changes []provision.Change `json:"changes"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return fmt.Errorf("read the server's answer: %w", err)
		}
		changes = resp.Changes
	} else {
		doc, err := provision.Parse(data)
		if err == nil {
			err = doc.Validate()
		}
		if err != nil {
			return usageError{prefixProblems(cmd.args[0], err)}
		}
		undo := cmd.undoNewDataDir()
		db, err := cmd.openStore(false)
		if err != nil {
			undo()
			return err
		}
		changes, err = provision.Apply(ctx, db, password.NewHasher(0, 0), doc,
			provision.Options{DryRun: cmd.dryRun, Prune: cmd.prune, Actor: "cli"})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil || cmd.dryRun {
			undo()
		}
		if err != nil {
			var fe *provision.FieldError
			if errors.As(err, &fe) {
				return usageError{prefixProblems(cmd.args[0], err)}
			}
			return err
		}
	}
	printPlan(cmd.stdout, changes, cmd.dryRun)
	return nil
}

// prefixProblems names the file in front of every problem line.
func prefixProblems(file string, err error) error {
	var joined interface{ Unwrap() []error }
	var errs []error
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s: %w", file, e)
	}
	return errors.Join(out...)
}

func printPlan(w io.Writer, changes []provision.Change, dryRun bool) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "no changes")
		return
	}
	verb := "applied"
	if dryRun {
		verb = "would apply (dry run)"
	}
	fmt.Fprintf(w, "%s %d change(s):\n", verb, len(changes))
	for _, c := range changes {
		line := fmt.Sprintf("  %s %s %s", c.Action, c.Kind, c.Name)
		if len(c.Fields) > 0 {
			line += " (" + strings.Join(c.Fields, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
}

func (cmd *command) backup(ctx context.Context) error {
	var data []byte
	if cmd.server != "" {
		var err error
		if data, err = cmd.call(ctx, http.MethodGet, "/api/v1/backup", nil); err != nil {
			return err
		}
	} else {
		db, err := cmd.openStore(true)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		err = db.Backup(&buf)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		data = buf.Bytes()
	}
	// Written whole or not at all: a half-written backup is worse than none.
	tmp := cmd.args[0] + ".partial"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, cmd.args[0]); err != nil {
		os.Remove(tmp)
		return err
	}
	fmt.Fprintf(cmd.stdout, "backup written to %s (%d bytes)\n", cmd.args[0], len(data))
	return nil
}

func (cmd *command) restore(ctx context.Context) error {
	data, err := cmd.readFile(cmd.args[0])
	if err != nil {
		return err
	}
	if cmd.server != "" {
		if _, err := cmd.call(ctx, http.MethodPost, "/api/v1/restore", data); err != nil {
			return err
		}
	} else {
		undo := cmd.undoNewDataDir()
		if err := store.RestoreDir(cmd.cfg.DataDir, bytes.NewReader(data)); err != nil {
			undo()
			if errors.Is(err, store.ErrBadBackup) {
				return usageError{fmt.Errorf("%s: %w", cmd.args[0], err)}
			}
			if errors.Is(err, store.ErrLocked) {
				return fmt.Errorf("the appliance is running on %s; use --server URL --token TOKEN to reach it: %w", cmd.cfg.DataDir, err)
			}
			return err
		}
	}
	fmt.Fprintf(cmd.stdout, "restored from %s\n", cmd.args[0])
	return nil
}

// call sends one request to a running box's API with the bearer token and
// returns the body, or the API's error message.
func (cmd *command) call(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	if cmd.token == "" {
		return nil, usageError{errors.New("--server needs --token (or APPLIANCE_TOKEN): create one in the web UI or with POST /api/v1/tokens")}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(cmd.server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cmd.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	client := &http.Client{Timeout: 5 * time.Minute}
	if cmd.insecure {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 300 {
		return data, nil
	}
	var e struct {
		Error struct {
			Code     string `json:"code"`
			Message  string `json:"message"`
			Problems []struct {
				Path    string `json:"path"`
				Line    int    `json:"line"`
				Problem string `json:"problem"`
			} `json:"problems"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
		return nil, fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if len(e.Error.Problems) == 0 {
		err := fmt.Errorf("%s (%s)", e.Error.Message, e.Error.Code)
		if resp.StatusCode == http.StatusBadRequest {
			return nil, usageError{err}
		}
		return nil, err
	}
	errs := make([]error, len(e.Error.Problems))
	for i, p := range e.Error.Problems {
		errs[i] = &provision.FieldError{Path: p.Path, Line: p.Line, Problem: p.Problem}
	}
	return nil, usageError{prefixProblems(cmd.args[0], errors.Join(errs...))}
}
