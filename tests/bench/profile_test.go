package bench

import (
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
)

// profileBox, when BENCH_PROFILE names a file, takes a CPU profile of the
// box for d (its admin-only /api/v1/debug/pprof) in the background and
// writes it there; wait returns once it is written. Without BENCH_PROFILE
// it does nothing: the figures of a run are never taken while profiling.
func profileBox(b *testing.B, app *harness.App, d time.Duration) (wait func()) {
	b.Helper()
	path := os.Getenv("BENCH_PROFILE")
	if path == "" {
		return func() {}
	}
	c := app.Client(b)
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		b.Fatalf("profile: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var body string
		status, err := c.Do(http.MethodGet, "/api/v1/debug/pprof/profile?seconds="+strconv.Itoa(int(d.Seconds())), nil, &body)
		if err != nil || status != http.StatusOK {
			b.Errorf("profile: %d %v", status, err)
			return
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			b.Errorf("profile: %v", err)
		}
	}()
	return func() { <-done }
}

// heapBox, when BENCH_HEAP names a file, writes the box's in-use heap
// profile there (its admin-only /api/v1/debug/pprof/heap), at once, and
// its goroutines, grouped by stack, and /metrics beside it
// (file.goroutines, file.metrics): goroutine stacks and the collector's
// headroom are memory the heap profile does not show.
func heapBox(b *testing.B, app *harness.App) {
	b.Helper()
	path := os.Getenv("BENCH_HEAP")
	if path == "" {
		return
	}
	c := app.Client(b)
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		b.Errorf("heap profile: %v", err)
		return
	}
	var body string
	if status, err := c.Do(http.MethodGet, "/api/v1/debug/pprof/heap?gc=1", nil, &body); err != nil || status != http.StatusOK {
		b.Errorf("heap profile: %d %v", status, err)
		return
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		b.Errorf("heap profile: %v", err)
	}
	if status, err := c.Do(http.MethodGet, "/api/v1/debug/pprof/goroutine?debug=1", nil, &body); err != nil || status != http.StatusOK {
		b.Errorf("goroutine profile: %d %v", status, err)
		return
	}
	if err := os.WriteFile(path+".goroutines", []byte(body), 0o644); err != nil {
		b.Errorf("goroutine profile: %v", err)
	}
	// The runtime's own account (go_memstats_*: heap in use, stacks, GC
	// goal) from /metrics, to set RSS against.
	if status, err := c.Do(http.MethodGet, "/metrics", nil, &body); err != nil || status != http.StatusOK {
		b.Errorf("metrics: %d %v", status, err)
		return
	}
	if err := os.WriteFile(path+".metrics", []byte(body), 0o644); err != nil {
		b.Errorf("metrics: %v", err)
	}
}
