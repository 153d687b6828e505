package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
	"golang.org/x/crypto/bcrypt"
)

// Settings of the browser-seat benchmark's box and load.
const (
	// seatUserPrefix and seatPassword make a seat's user: prefix +
	// extension (seatload's defaults).
	seatUserPrefix = "seat"
	seatPassword   = "seat-password-1"
	// echoIP is where rtpload echo registers and answers.
	echoIP = "127.0.0.3"
)

// seatsDoc is a configuration document with n agent users, each owning one
// extension [first, first+n), and the callees [calleeFirst,
// calleeFirst+callees) that rtpload echo registers. The users' password
// hash is made at bcrypt's lowest cost: the box checks it at each login,
// and the sign-ins are not what is measured.
func seatsDoc(b *testing.B, first, n, calleeFirst, callees int) []byte {
	b.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(seatPassword), bcrypt.MinCost)
	if err != nil {
		b.Fatalf("bcrypt: %v", err)
	}
	users := make(map[string]any, n)
	exts := make(map[string]any, n+callees)
	for e := first; e < first+n; e++ {
		num := strconv.Itoa(e)
		users[seatUserPrefix+num] = map[string]any{"role": "agent", "password_hash": string(hash)}
		exts[num] = map[string]any{"user": seatUserPrefix + num, "secret": extSecretPrefix + num, "max_calls": benchMaxCalls}
	}
	for e := calleeFirst; e < calleeFirst+callees; e++ {
		num := strconv.Itoa(e)
		exts[num] = map[string]any{"secret": extSecretPrefix + num, "max_calls": benchMaxCalls}
	}
	doc, _ := json.Marshal(map[string]any{"version": 1, "users": users, "extensions": exts}) // maps of strings always encode
	return doc
}

// provisionSeats applies seatsDoc as admin.
func provisionSeats(b *testing.B, app *harness.App, first, n, calleeFirst, callees int) {
	b.Helper()
	admin := app.Client(b)
	if err := admin.Login("admin", harness.DefaultAdminPassword); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Do(http.MethodPost, "/api/v1/config/apply", seatsDoc(b, first, n, calleeFirst, callees), nil); err != nil {
		b.Fatalf("create the seats' users and extensions: %v", err)
	}
}

// buildSeatLoad compiles tests/seatload into the benchmark's temp dir.
func buildSeatLoad(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "seatload")
	cmd := exec.Command("go", "build", "-o", bin, "./tests/seatload")
	cmd.Dir = harness.ModuleRoot(b)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build seatload: %v\n%s", err, out)
	}
	return bin
}

// echoResult is rtpload echo's final line.
type echoResult struct {
	Invites    int64   `json:"invites"`
	Answered   int64   `json:"answered"`
	Refused    int64   `json:"refused"`
	Byes       int64   `json:"byes"`
	Echoed     uint64  `json:"echoed"`
	Stamped    uint64  `json:"stamped"`
	SendErrors uint64  `json:"send_errors"`
	GenCPUS    float64 `json:"gen_cpu_s"`
	FirstError string  `json:"first_error"`
}

// echoProc is a running `rtpload echo`.
type echoProc struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	lines  chan genEvent // closed when its output ends
}

// errEchoEnded is returned when rtpload echo ended before it was ready or
// without a result.
var errEchoEnded = errors.New("rtpload echo ended early")

// startEcho runs rtpload echo against app, registering callees
// [first, first+count) from echoIP, and waits until they are registered.
func startEcho(b *testing.B, bin string, app *harness.App, first, count int) *echoProc {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "echo", "-server", app.SIPAddr(), "-ip", echoIP,
		"-first", strconv.Itoa(first), "-count", strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatalf("start rtpload echo: %v", err)
	}
	p := &echoProc{cmd: cmd, cancel: cancel, lines: make(chan genEvent, 16)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			ev := genEvent{raw: append([]byte(nil), sc.Bytes()...)}
			if json.Unmarshal(ev.raw, &ev) == nil {
				p.lines <- ev
			}
		}
	}()
	b.Cleanup(func() { p.cancel(); _ = p.cmd.Wait() })
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-p.lines:
			if !ok {
				b.Fatal(errEchoEnded)
			}
			if ev.Event == "registered" {
				return p
			}
		case <-deadline.C:
			b.Fatal("rtpload echo did not register its callees within a minute")
		}
	}
}

// stop ends rtpload echo (SIGTERM) and returns its result.
func (p *echoProc) stop(b *testing.B) echoResult {
	b.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatalf("stop rtpload echo: %v", err)
	}
	var res echoResult
	found := false
	for ev := range p.lines {
		if ev.Event == "result" {
			if err := json.Unmarshal(ev.raw, &res); err != nil {
				b.Fatalf("rtpload echo result %s: %v", ev.raw, err)
			}
			found = true
		}
	}
	if err := p.cmd.Wait(); err != nil {
		b.Fatalf("rtpload echo: %v", err)
	}
	if !found {
		b.Fatal(errEchoEnded)
	}
	return res
}
