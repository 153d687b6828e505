package bench

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// Bounds of a directly launched process.
const (
	// readyPoll is how often /readyz is polled while timing a start-up:
	// the resolution of the start-up figures.
	readyPoll = 2 * time.Millisecond
	// readyTimeout bounds one start-up; the target is 300 ms.
	readyTimeout = 15 * time.Second
	// stopTimeout bounds the exit after SIGTERM, before SIGKILL.
	stopTimeout = 10 * time.Second
)

// benchEnv returns the environment every box of the benchmarks gets besides
// its addresses and data directory: the log level it ships with
// (harness.Start sets debug, which would time the debug logging too).
func benchEnv() []string { return []string{"APPLIANCE_LOG_LEVEL=info"} }

// proc is an appliance process started by exec'ing the binary directly
// rather than through harness.Start, whose 50 ms ready poll is too coarse
// to time a start-up.
type proc struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:port
	logPath string
	done    chan struct{} // closed when the process has exited
	started time.Time     // just before exec
}

// launch starts the binary bin on free loopback ports with dataDir. It
// returns at once; waitReady times the start-up from the exec.
func launch(b *testing.B, bin, dataDir string) *proc {
	b.Helper()
	ports := harness.FreePorts(b, 4, true)
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	p := &proc{
		url:     "http://" + addr(ports[0]),
		logPath: filepath.Join(b.TempDir(), "appliance.log"),
		done:    make(chan struct{}),
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		b.Fatalf("appliance log: %v", err)
	}
	p.cmd = exec.Command(bin, "run")
	p.cmd.Env = append(harness.WithoutAppliance(os.Environ()),
		"APPLIANCE_DATA_DIR="+dataDir,
		"APPLIANCE_HTTP_ADDR="+addr(ports[0]),
		"APPLIANCE_HTTPS_ADDR="+addr(ports[1]),
		"APPLIANCE_SIP_ADDR="+addr(ports[2]),
		"APPLIANCE_SIP_TLS_ADDR="+addr(ports[3]),
		"APPLIANCE_ADMIN_PASSWORD="+harness.DefaultAdminPassword,
		"APPLIANCE_PUBLIC_IP=127.0.0.1",
	)
	p.cmd.Env = append(p.cmd.Env, benchEnv()...)
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	p.started = time.Now()
	err = p.cmd.Start()
	logFile.Close() // the child holds its own copy
	if err != nil {
		b.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		// The exit status is in ProcessState; stop checks it.
		_ = p.cmd.Wait()
		close(p.done)
	}()
	// A failed benchmark must not leave a box running.
	b.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitReady polls /readyz every readyPoll and returns the time from the
// exec to the first 200.
func (p *proc) waitReady(b *testing.B) time.Duration {
	b.Helper()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		resp, err := client.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started)
			}
		}
		select {
		case <-p.done:
			b.Fatalf("appliance exited (%v) before it was ready; log:\n%s", p.cmd.ProcessState, p.log())
		case <-deadline.C:
			b.Fatalf("appliance not ready within %v; log:\n%s", readyTimeout, p.log())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and returns how long the exit took. A hung shutdown
// (SIGKILL after stopTimeout) or a non-zero exit fails the benchmark: a
// restart on that data dir would not measure a clean start.
func (p *proc) stop(b *testing.B) time.Duration {
	b.Helper()
	start := time.Now()
	// An error means the process is gone already; done is then closed.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		b.Fatalf("appliance did not exit within %v of SIGTERM; log:\n%s", stopTimeout, p.log())
	}
	took := time.Since(start)
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		b.Fatalf("appliance exited with %v after SIGTERM; log:\n%s", p.cmd.ProcessState, p.log())
	}
	return took
}

// log returns the process's log, for a failure message.
func (p *proc) log() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	return string(data)
}

// hideNsPerOp replaces the ns/op column, which for these one-pass
// benchmarks would be the length of the whole pass, with nothing: the
// testing package leaves out a metric reported as zero.
func hideNsPerOp(b *testing.B) { b.ReportMetric(0, "ns/op") }

// errNoToken is returned when POST /api/v1/tokens answers without a token.
var errNoToken = errors.New("the answer has no token")

// adminToken logs in as admin on c and returns a new API token of admin.
func adminToken(c *harness.Client) (string, error) {
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	body := map[string]any{"name": "bench", "expires_in_days": 1}
	if _, err := c.Do(http.MethodPost, "/api/v1/tokens", body, &tok); err != nil {
		return "", err
	}
	if tok.Token == "" {
		return "", fmt.Errorf("POST /api/v1/tokens: %w", errNoToken)
	}
	return tok.Token, nil
}
