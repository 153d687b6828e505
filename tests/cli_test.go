package tests

import (
	"errors"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ccbox/ccbox/tests/harness"
	"gopkg.in/yaml.v3"
)

// The command line's contract, as the usage text, docs/configuration.md and
// docs/configuration-as-code.md give it: a bad configuration or document
// exits with status 2 and one line per problem on stderr, having written
// nothing; bootstrap problems read `config: FIELD (SOURCE): PROBLEM`, the
// source of a file setting being "file PATH line N"; document problems
// carry "line N" and the dotted path; apply prints "no changes" or one line
// per change ("create user NAME").
const cliExitUsage = 2

// cliAnyFailure, as a wanted exit status, accepts any non-zero one.
const cliAnyFailure = -1

// cliProblem is one expected line of a bootstrap configuration error.
type cliProblem struct {
	field  string // the line starts "config: FIELD"
	source string // when set, FIELD is followed by " (SOURCE): "
	phrase string // when set, the rest of the line contains it
}

func (p cliProblem) matches(line string) bool {
	rest, ok := strings.CutPrefix(line, "config: "+p.field)
	if !ok {
		return false
	}
	switch {
	case p.source != "":
		if rest, ok = strings.CutPrefix(rest, " ("+p.source+"): "); !ok {
			return false
		}
	case !strings.HasPrefix(rest, ": ") && !strings.HasPrefix(rest, " ("):
		// Another field whose name starts with this one.
		return false
	}
	return strings.Contains(rest, p.phrase)
}

func (p cliProblem) String() string {
	s := "config: " + p.field
	if p.source != "" {
		s += " (" + p.source + ")"
	}
	if p.phrase != "" {
		s += ": …" + p.phrase + "…"
	}
	return s
}

// cliBadStart is what one case of TestConfigErrors runs and expects.
type cliBadStart struct {
	dataDir string // must not exist before or after
	args    []string
	env     []string
	want    []cliProblem
	// after, when set, checks what else must be left as it was.
	after func(t *testing.T)
}

// TestConfigErrors starts the box with bad bootstrap configurations: each
// run must exit with status 2, print exactly one line per problem (all of
// them at once), and leave the data directory uncreated.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) cliBadStart
	}{
		{
			name: "config file with four problems",
			setup: func(t *testing.T) cliBadStart {
				const file = "testdata/bootstrap-four-problems.yaml"
				src := func(line int) string { return "file " + file + " line " + strconv.Itoa(line) }
				dataDir := filepath.Join(t.TempDir(), "data")
				return cliBadStart{
					dataDir: dataDir,
					args:    []string{"run", "-config", file},
					// The file's own http_addr is one of the problems, so
					// the environment must not override it.
					env: append(cliListenEnv(t, "APPLIANCE_HTTP_ADDR"), "APPLIANCE_DATA_DIR="+dataDir),
					want: []cliProblem{
						{field: "http_addr", source: src(2)},
						{field: "htp_addr", source: src(3), phrase: "unknown key"},
						{field: "rtp_ports", source: src(4)},
						{field: "colour", source: src(5), phrase: "unknown key"},
					},
				}
			},
		},
		{
			name: "RTP range from the environment is not a range",
			setup: func(t *testing.T) cliBadStart {
				dataDir := filepath.Join(t.TempDir(), "data")
				return cliBadStart{
					dataDir: dataDir,
					args:    []string{"run"},
					env:     append(cliListenEnv(t), "APPLIANCE_DATA_DIR="+dataDir, "APPLIANCE_RTP_PORTS=abc"),
					want:    []cliProblem{{field: "rtp_ports", source: "APPLIANCE_RTP_PORTS", phrase: "abc"}},
				}
			},
		},
		{
			// As root, access(2) grants everything, so the unwritable data
			// dir is one that cannot be created: its parent is a file.
			name: "data dir below a regular file",
			setup: func(t *testing.T) cliBadStart {
				parent := filepath.Join(t.TempDir(), "not-a-dir")
				const content = "a file, not a directory\n"
				if err := os.WriteFile(parent, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				dataDir := filepath.Join(parent, "data")
				return cliBadStart{
					dataDir: dataDir,
					args:    []string{"run"},
					env:     append(cliListenEnv(t), "APPLIANCE_DATA_DIR="+dataDir),
					want:    []cliProblem{{field: "data_dir", phrase: parent}},
					after: func(t *testing.T) {
						got, err := os.ReadFile(parent)
						if err != nil || string(got) != content {
							t.Errorf("the file in the data dir's path was changed: %q, %v", got, err)
						}
					},
				}
			},
		},
		{
			name: "HTTP port already in use",
			setup: func(t *testing.T) cliBadStart {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				dataDir := filepath.Join(t.TempDir(), "data")
				return cliBadStart{
					dataDir: dataDir,
					args:    []string{"run"},
					env: append(cliListenEnv(t, "APPLIANCE_HTTP_ADDR"),
						"APPLIANCE_DATA_DIR="+dataDir, "APPLIANCE_HTTP_ADDR="+ln.Addr().String()),
					want: []cliProblem{{field: "http_addr", phrase: "in use"}},
				}
			},
		},
		{
			name: "first admin password too short",
			setup: func(t *testing.T) cliBadStart {
				dataDir := filepath.Join(t.TempDir(), "data")
				return cliBadStart{
					dataDir: dataDir,
					args:    []string{"run"},
					env:     append(cliListenEnv(t), "APPLIANCE_DATA_DIR="+dataDir, "APPLIANCE_ADMIN_PASSWORD=short"),
					want:    []cliProblem{{field: "admin_password", source: "APPLIANCE_ADMIN_PASSWORD", phrase: "8 to 72"}},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.setup(t)
			_, stderr, code := harness.Run(t, c.args, c.env...)
			if code != cliExitUsage {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, cliExitUsage, stderr)
			}
			lines := cliLines(stderr)
			if len(lines) != len(c.want) {
				t.Errorf("stderr has %d lines, want one per problem (%d):\n%s", len(lines), len(c.want), stderr)
			}
			used := make([]bool, len(lines))
			for _, w := range c.want {
				i := slices.IndexFunc(lines, func(l string) bool { return w.matches(l) })
				if i < 0 || used[i] {
					t.Errorf("no line for the problem %s; stderr:\n%s", w, stderr)
					continue
				}
				used[i] = true
			}
			// Below a file, Lstat fails with ENOTDIR: that is "not created" too.
			if _, err := os.Lstat(c.dataDir); !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				t.Errorf("data dir %s: %v; want it never created", c.dataDir, err)
			}
			if c.after != nil {
				c.after(t)
			}
		})
	}
}

// TestFirstStartRandomPassword starts a box without APPLIANCE_ADMIN_PASSWORD:
// the admin password is random, shown once in the log, works, and is not
// shown again on the next start.
func TestFirstStartRandomPassword(t *testing.T) {
	// An empty variable counts as unset; it overrides the harness's default.
	app := harness.Start(t, harness.Options{Env: []string{"APPLIANCE_ADMIN_PASSWORD="}})
	log := app.Log()
	var shown []string
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, "password=") {
			shown = append(shown, line)
		}
	}
	if len(shown) != 1 {
		t.Fatalf("%d log lines show a password, want exactly 1:\n%s", len(shown), strings.Join(shown, "\n"))
	}
	m := regexp.MustCompile(`\bpassword="?([^"\s]+)`).FindStringSubmatch(shown[0])
	if m == nil {
		t.Fatalf("no password value in %q", shown[0])
	}
	password := m[1]
	if n := strings.Count(log, password); n != 1 {
		t.Errorf("the password appears %d times in the log, want once", n)
	}
	if password == harness.DefaultAdminPassword {
		t.Fatalf("the random password is the harness default %q", password)
	}

	if err := app.Client(t).Login("admin", password); err != nil {
		t.Fatalf("login with the password from the log: %v", err)
	}
	err := app.Client(t).Login("admin", harness.DefaultAdminPassword)
	cliWantAPIError(t, err, http.StatusUnauthorized, "bad_credentials")

	again := app.Restart(t)
	if log := again.Log(); strings.Contains(log, password) || strings.Contains(log, "password=") {
		t.Errorf("the second start shows a password again; log:\n%s", log)
	}
	if err := again.Client(t).Login("admin", password); err != nil {
		t.Fatalf("login after the restart: %v", err)
	}
}

// TestConfigAsCodeStoppedBox drives `appliance export` and `appliance apply`
// on the data directory of a stopped box, then starts the box and logs in as
// the user the document created.
func TestConfigAsCodeStoppedBox(t *testing.T) {
	first := harness.Start(t, harness.Options{})
	first.Stop(t)
	dataDir := first.DataDir()

	doc := cliParseDocument(t, cliExport(t, dataDir))
	if doc.Version != 1 {
		t.Errorf("export: version %d, want 1", doc.Version)
	}
	if h := doc.Users["admin"].PasswordHash; !strings.HasPrefix(h, "$2") {
		t.Errorf("export: users.admin.password_hash = %q, want a bcrypt hash", h)
	}

	const threeProblems = "testdata/users-three-problems.yaml"
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // phrases of stdout
		wantErr  []string // for exit 2: each problem line holds one of these, in some order
		// noWrite: the export is the same before and after.
		noWrite bool
	}{
		{
			name:    "apply creates a user",
			args:    []string{"apply", "testdata/users-agent.yaml"},
			wantOut: []string{"create user agent1"},
		},
		{
			name:    "apply the same file again",
			args:    []string{"apply", "testdata/users-agent.yaml"},
			wantOut: []string{"no changes"},
			noWrite: true,
		},
		{
			name:    "dry run",
			args:    []string{"apply", "--dry-run", "testdata/users-temp.yaml"},
			wantOut: []string{"dry run", "create user temp1"},
			noWrite: true,
		},
		{
			name:     "document with three problems",
			args:     []string{"apply", threeProblems},
			wantCode: cliExitUsage,
			wantErr:  []string{"line 5: users.carl.role: ", "line 6: users.carl.password: ", "line 7: users.carl.language: "},
			noWrite:  true,
		},
		{
			name:    "apply another user",
			args:    []string{"apply", "testdata/users-temp.yaml"},
			wantOut: []string{"create user temp1"},
		},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := cliExport(t, dataDir)
			stdout, stderr := cliRun(t, dataDir, s.wantCode, s.args...)
			for _, w := range s.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if s.wantErr != nil {
				cliWantProblems(t, stderr, threeProblems, s.wantErr)
			}
			if after := cliExport(t, dataDir); s.noWrite && after != before {
				t.Errorf("the export changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}

	exported := cliExport(t, dataDir)
	doc = cliParseDocument(t, exported)
	if u, ok := doc.Users["agent1"]; !ok || u.Password != "" || !strings.HasPrefix(u.PasswordHash, "$2") || u.Role != "agent" {
		t.Errorf("export: users.agent1 = %+v (present %v), want role agent and only a password_hash", u, ok)
	}

	t.Run("prune removes a user the document omits", func(t *testing.T) {
		file := cliWithoutUser(t, exported, "temp1")
		stdout, _ := cliRun(t, dataDir, 0, "apply", "--prune", file)
		if !strings.Contains(stdout, "delete user temp1") {
			t.Errorf("stdout lacks %q:\n%s", "delete user temp1", stdout)
		}
		if lines := cliLines(stdout); len(lines) != 2 {
			t.Errorf("want a header and one change:\n%s", stdout)
		}
		users := cliParseDocument(t, cliExport(t, dataDir)).Users
		if _, ok := users["temp1"]; ok || len(users) != 2 {
			t.Errorf("users after --prune: %v, want admin and agent1", slices.Sorted(maps.Keys(users)))
		}
	})

	t.Run("applying the export changes nothing", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "export.yaml")
		if err := os.WriteFile(file, []byte(cliExport(t, dataDir)), 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, _ := cliRun(t, dataDir, 0, "apply", file)
		if strings.TrimSpace(stdout) != "no changes" {
			t.Errorf("apply of the export printed:\n%s\nwant \"no changes\"", stdout)
		}
	})

	app := harness.Start(t, harness.Options{DataDir: dataDir})
	if err := app.Client(t).Login("agent1", "agent1-password"); err != nil {
		t.Errorf("login as the applied user: %v", err)
	}
	err := app.Client(t).Login("temp1", "temp1-password")
	cliWantAPIError(t, err, http.StatusUnauthorized, "bad_credentials")
}

// TestCLIAgainstRunningBox drives export, apply and backup against a running
// box's API with --server and --token, and checks that the data directory
// of a running box is not opened behind its back.
func TestCLIAgainstRunningBox(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	admin := cliAdmin(t, app)
	token := cliNewToken(t, admin)
	server := []string{"--server", app.URL(), "--token", token}
	backupFile := filepath.Join(t.TempDir(), "box.bak")
	const threeProblems = "testdata/users-three-problems.yaml"

	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int      // cliAnyFailure: any non-zero status
		wantOut  []string // phrases of stdout
		wantErr  []string // phrases of stderr
		// wantProblems: for exit 2, one line per document problem.
		wantProblems []string
	}{
		{
			name:    "apply",
			args:    slices.Concat([]string{"apply"}, server, []string{"testdata/users-remote.yaml"}),
			wantOut: []string{"create user remote1", "update system system"},
		},
		{
			name:    "apply again",
			args:    slices.Concat([]string{"apply"}, server, []string{"testdata/users-remote.yaml"}),
			wantOut: []string{"no changes"},
		},
		{
			name:         "document with three problems",
			args:         slices.Concat([]string{"apply"}, server, []string{threeProblems}),
			wantCode:     cliExitUsage,
			wantProblems: []string{"line 5: users.carl.role: ", "line 6: users.carl.password: ", "line 7: users.carl.language: "},
		},
		{
			name:    "export",
			args:    slices.Concat([]string{"export"}, server),
			wantOut: []string{"version: 1", "remote1:", "远程热线"},
		},
		{
			name:     "apply without a token",
			args:     []string{"apply", "--server", app.URL(), "testdata/users-remote.yaml"},
			wantCode: cliExitUsage,
			wantErr:  []string{"--token"},
		},
		{
			name:     "export without a token",
			args:     []string{"export", "--server", app.URL()},
			wantCode: cliExitUsage,
			wantErr:  []string{"--token"},
		},
		{
			name:    "backup",
			args:    slices.Concat([]string{"backup"}, server, []string{backupFile}),
			wantOut: []string{backupFile},
		},
		{
			name:     "export on the data dir of the running box",
			args:     []string{"export"},
			env:      []string{"APPLIANCE_DATA_DIR=" + app.DataDir()},
			wantCode: cliAnyFailure,
			wantErr:  []string{"--server"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := harness.Run(t, tt.args, tt.env...)
			if code != tt.wantCode && (tt.wantCode != cliAnyFailure || code == 0) {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.wantProblems != nil {
				cliWantProblems(t, stderr, threeProblems, tt.wantProblems)
			}
		})
	}

	if fi, err := os.Stat(backupFile); err != nil || fi.Size() == 0 {
		t.Errorf("backup file: %v, want a non-empty file", err)
	}
	if err := app.Client(t).Login("remote1", "remote1-password"); err != nil {
		t.Errorf("login as the user applied over the API: %v", err)
	}
}

// TestBackupRestore backs a running box up with the CLI, restores it through
// the API (a bad file changes nothing) and, stopped, with `appliance
// restore`.
func TestBackupRestore(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	admin := cliAdmin(t, app)
	bot := app.Client(t)
	bot.Token = cliNewToken(t, admin)

	cliCreateUser(t, admin, "before")
	backupFile := filepath.Join(t.TempDir(), "box.bak")
	cliRun(t, t.TempDir(), 0, "backup", "--server", app.URL(), "--token", bot.Token, backupFile)
	backup, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	cliCreateUser(t, admin, "after")

	if status, err := bot.Do(http.MethodPost, "/api/v1/restore", backup, nil); err != nil || status != http.StatusOK {
		t.Fatalf("restore: status %d, %v; want 200", status, err)
	}
	_, err = admin.Do(http.MethodGet, "/api/v1/me", nil, nil)
	cliWantAPIError(t, err, http.StatusUnauthorized, "unauthenticated")
	admin = cliAdmin(t, app)
	cliWantUsers(t, admin, map[string]bool{"before": true, "after": false})

	cliCreateUser(t, admin, "after2")
	_, err = bot.Do(http.MethodPost, "/api/v1/restore", []byte("CCBox? no: this is not a backup\n"), nil)
	cliWantAPIError(t, err, http.StatusBadRequest, "bad_backup")
	cliWantUsers(t, admin, map[string]bool{"before": true, "after2": true})

	app.Stop(t)
	garbage := filepath.Join(t.TempDir(), "garbage.bak")
	if err := os.WriteFile(garbage, []byte("not a backup either\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := cliExport(t, app.DataDir())
	cliRun(t, app.DataDir(), cliExitUsage, "restore", garbage)
	if after := cliExport(t, app.DataDir()); after != before {
		t.Errorf("a bad backup changed the stopped box:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	stdout, _ := cliRun(t, app.DataDir(), 0, "restore", backupFile)
	if !strings.Contains(stdout, "restored") {
		t.Errorf("restore printed:\n%s", stdout)
	}

	again := harness.Start(t, harness.Options{DataDir: app.DataDir()})
	cliWantUsers(t, cliAdmin(t, again), map[string]bool{"before": true, "after2": false})
}

// TestKillKeepsAcknowledgedChanges cuts the power (SIGKILL) right after two
// acknowledged changes and checks both survive.
func TestKillKeepsAcknowledgedChanges(t *testing.T) {
	app := harness.Start(t, harness.Options{})
	admin := cliAdmin(t, app)
	cliCreateUser(t, admin, "durable")
	const title = "Durable hotline 持久热线"
	if status, err := admin.Do(http.MethodPut, "/api/v1/settings/system", map[string]string{"title": title}, nil); err != nil || status != http.StatusOK {
		t.Fatalf("set the title: status %d, %v", status, err)
	}
	app.Kill(t)

	again := harness.Start(t, harness.Options{DataDir: app.DataDir()})
	admin = cliAdmin(t, again)
	cliWantUsers(t, admin, map[string]bool{"durable": true})
	var sys struct {
		Title string `json:"title"`
	}
	if _, err := admin.Do(http.MethodGet, "/api/v1/settings/system", nil, &sys); err != nil {
		t.Fatal(err)
	}
	if sys.Title != title {
		t.Errorf("title after kill -9 = %q, want %q", sys.Title, title)
	}
}

// cliListenEnv sets the listen addresses to free loopback ports, except
// those named in skip, so that a box that should refuse to start but does
// not cannot take a well-known port.
func cliListenEnv(t *testing.T, skip ...string) []string {
	t.Helper()
	ports := harness.FreePorts(t, 4, true)
	var env []string
	for i, name := range []string{"APPLIANCE_HTTP_ADDR", "APPLIANCE_HTTPS_ADDR", "APPLIANCE_SIP_ADDR", "APPLIANCE_SIP_TLS_ADDR"} {
		if !slices.Contains(skip, name) {
			env = append(env, name+"="+net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i])))
		}
	}
	return env
}

// cliLines returns the non-empty lines of s.
func cliLines(s string) []string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

// cliWantProblems checks that stderr has one line per wanted problem, each
// naming the file and holding one of the wanted phrases.
func cliWantProblems(t *testing.T, stderr, file string, want []string) {
	t.Helper()
	lines := cliLines(stderr)
	if len(lines) != len(want) {
		t.Errorf("stderr has %d lines, want one per problem (%d):\n%s", len(lines), len(want), stderr)
	}
	for _, w := range want {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, w) })
		if i < 0 {
			t.Errorf("no problem line holds %q:\n%s", w, stderr)
			continue
		}
		if !strings.Contains(lines[i], file) {
			t.Errorf("problem line does not name the file %s: %s", file, lines[i])
		}
	}
}

// cliRun runs one subcommand on dataDir and fails the test unless it exits
// with wantCode.
func cliRun(t *testing.T, dataDir string, wantCode int, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := harness.Run(t, args, "APPLIANCE_DATA_DIR="+dataDir)
	if code != wantCode {
		t.Fatalf("appliance %s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	return stdout, stderr
}

// cliExport returns `appliance export` of a stopped box.
func cliExport(t *testing.T, dataDir string) string {
	t.Helper()
	stdout, _ := cliRun(t, dataDir, 0, "export")
	return stdout
}

// cliDocument is the part of the configuration document the tests read.
type cliDocument struct {
	Version int `yaml:"version"`
	Users   map[string]struct {
		Role         string `yaml:"role"`
		Password     string `yaml:"password"`
		PasswordHash string `yaml:"password_hash"`
	} `yaml:"users"`
}

func cliParseDocument(t *testing.T, text string) cliDocument {
	t.Helper()
	var d cliDocument
	if err := yaml.Unmarshal([]byte(text), &d); err != nil {
		t.Fatalf("the export is not YAML: %v\n%s", err, text)
	}
	return d
}

// cliWithoutUser writes the document text without users.NAME to a file and
// returns its path.
func cliWithoutUser(t *testing.T, text, name string) string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	users, ok := doc["users"].(map[string]any)
	if !ok {
		t.Fatalf("the document has no users mapping:\n%s", text)
	}
	if _, ok := users[name]; !ok {
		t.Fatalf("the document has no user %s:\n%s", name, text)
	}
	delete(users, name)
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "without-"+name+".yaml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// cliAdmin logs in as admin with the harness's first-start password.
func cliAdmin(t *testing.T, app *harness.App) *harness.Client {
	t.Helper()
	c := app.Client(t)
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

// cliNewToken creates an API token as c's user.
func cliNewToken(t *testing.T, c *harness.Client) string {
	t.Helper()
	var resp struct {
		Token string `json:"token"`
	}
	status, err := c.Do(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "ci"}, &resp)
	if err != nil || status != http.StatusCreated || resp.Token == "" {
		t.Fatalf("create a token: status %d, %v, token %q", status, err, resp.Token)
	}
	return resp.Token
}

// cliCreateUser creates an agent named name with the password name+"-password".
func cliCreateUser(t *testing.T, c *harness.Client, name string) {
	t.Helper()
	user := map[string]string{"name": name, "role": "agent", "password": name + "-password"}
	if status, err := c.Do(http.MethodPost, "/api/v1/users", user, nil); err != nil || status != http.StatusCreated {
		t.Fatalf("create user %s: status %d, %v", name, status, err)
	}
}

// cliWantUsers checks, for each name, that the user exists or does not.
func cliWantUsers(t *testing.T, c *harness.Client, want map[string]bool) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		_, err := c.Do(http.MethodGet, "/api/v1/users/"+name, nil, nil)
		if want[name] {
			if err != nil {
				t.Errorf("user %s: %v; want it to exist", name, err)
			}
			continue
		}
		cliWantAPIError(t, err, http.StatusNotFound, "not_found")
	}
}

func cliWantAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var apiErr *harness.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != status || apiErr.Code != code {
		t.Errorf("got %v, want an API error %d %s", err, status, code)
	}
}

// TestFailedCommandLeavesNewDataDirAlone: an apply that is refused, a
// dry run, or a restore of a bad file on a data directory that holds no
// store yet leaves no store behind (a first start would otherwise take an
// empty store for an existing box and create no admin).
func TestFailedCommandLeavesNewDataDirAlone(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"apply without an admin", []string{"apply", "testdata/users-agent.yaml"}, 2},
		{"dry run", []string{"apply", "--dry-run", "testdata/users-agent.yaml"}, 2},
		{"restore of garbage", []string{"restore", "testdata/users-agent.yaml"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "new")
			cliRun(t, dataDir, tc.code, tc.args...)
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the data dir was left behind: %v", err)
			}
		})
	}
}
