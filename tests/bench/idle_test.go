package bench

import (
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// Idle memory benchmark parameters.
const (
	// idleWait is how long the box sits idle before its memory is read.
	idleWait = 5 * time.Second
	// idleRSSTarget is the release target for the idle resident set.
	idleRSSTarget = 60 << 20
)

// BenchmarkIdleRSS reads the resident set (VmRSS of /proc/PID/status) of a
// box that is ready, has done one login (so the first bcrypt hash has been
// computed and its memory touched) and has then been idle for idleWait.
func BenchmarkIdleRSS(b *testing.B) {
	var rss, ready, hwm int64
	for range b.N {
		app := harness.Start(b, harness.Options{Env: benchEnv()})
		pid := app.PID()
		ready = mustStatus(b, pid, "VmRSS")
		if err := app.Client(b).Login("admin", harness.DefaultAdminPassword); err != nil {
			b.Fatal(err)
		}
		// The idle time is the measurement itself, not a wait for a
		// condition: the box must be left alone for it.
		idle := time.NewTimer(idleWait)
		<-idle.C
		if exited, code := app.Exited(); exited {
			b.Fatalf("appliance exited (status %d) while idle", code)
		}
		rss = max(rss, mustStatus(b, pid, "VmRSS"))
		hwm = max(hwm, mustStatus(b, pid, "VmHWM"))
		app.Stop(b)
	}
	hideNsPerOp(b)
	b.ReportMetric(mb(rss), "rss-MB")
	b.Logf("idle RSS after one login and %v idle: %.1f MB (target < %d MB: %s); at ready %.1f MB; peak so far (VmHWM) %.1f MB",
		idleWait, mb(rss), idleRSSTarget>>20, verdict(rss < idleRSSTarget), mb(ready), mb(hwm))
}

// mustStatus is statusBytes that fails the benchmark on an error.
func mustStatus(b *testing.B, pid int, key string) int64 {
	b.Helper()
	n, err := statusBytes(pid, key)
	if err != nil {
		b.Fatalf("read %s of the appliance: %v", key, err)
	}
	return n
}
