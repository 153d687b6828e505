package bench

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/harness"
	"golang.org/x/crypto/bcrypt"
)

// Start-up benchmark parameters.
const (
	// startupRuns is how many starts are timed, for each of the two kinds.
	startupRuns = 10
	// startupTarget is the release target for start-up to ready.
	startupTarget = 300 * time.Millisecond
	// seedUsers and seedLogins are the data a restart finds: users put
	// in by a configuration document, and logins (login log, audit log).
	seedUsers  = 500
	seedLogins = 10
)

// BenchmarkStartup times start-up to ready: from the exec of the binary to
// the first 200 from /readyz, polled every 2 ms. First startupRuns times on
// an empty data dir each (a first start: store created, admin user hashed,
// certificate made), then startupRuns restarts of one data dir that holds
// data (seedUsers users, seedLogins logins, a system title).
func BenchmarkStartup(b *testing.B) {
	bin := harness.Binary(b)
	var fresh, restart, stops []time.Duration
	for range b.N {
		for range startupRuns {
			p := launch(b, bin, b.TempDir())
			fresh = append(fresh, p.waitReady(b))
			stops = append(stops, p.stop(b))
		}

		dir := b.TempDir()
		p := launch(b, bin, dir)
		p.waitReady(b)
		seed(b, p.url)
		p.stop(b)
		for range startupRuns {
			p := launch(b, bin, dir)
			restart = append(restart, p.waitReady(b))
			stops = append(stops, p.stop(b))
		}
	}

	f, r, s := summarize(fresh), summarize(restart), summarize(stops)
	hideNsPerOp(b)
	b.ReportMetric(ms(f.P50), "median-ms")
	b.ReportMetric(ms(f.Max), "max-ms")
	b.ReportMetric(ms(r.P50), "restart-median-ms")
	b.ReportMetric(ms(r.Max), "restart-max-ms")
	b.Logf("start-up to ready, empty data dir:   median %.1f ms, max %.1f ms (%d starts; target < %v: %s)",
		ms(f.P50), ms(f.Max), f.N, startupTarget, verdict(f.Max < startupTarget))
	b.Logf("restart to ready, %d users in store: median %.1f ms, max %.1f ms (%d starts; target < %v: %s)",
		seedUsers, ms(r.P50), ms(r.Max), r.N, startupTarget, verdict(r.Max < startupTarget))
	b.Logf("shutdown after SIGTERM:               median %.1f ms, max %.1f ms", ms(s.P50), ms(s.Max))
	b.Logf("each start, ms: empty %s; restart %s", msList(fresh), msList(restart))
}

// seed gives the box at url data for the restarts to load: a system title
// and seedUsers users through one configuration document (with a
// ready-made bcrypt hash, so the box hashes nothing), then seedLogins
// logins as admin.
func seed(b *testing.B, url string) {
	b.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("seed-password-1"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatalf("bcrypt: %v", err)
	}
	var doc strings.Builder
	doc.WriteString("version: 1\nsystem:\n  title: \"Benchmark box\"\nusers:\n")
	for i := range seedUsers {
		fmt.Fprintf(&doc, "  seed%03d:\n    display_name: \"Seed %d\"\n    role: agent\n    password_hash: %s\n", i, i, hash)
	}
	c := harness.NewClient(b, url)
	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Do(http.MethodPost, "/api/v1/config/apply", []byte(doc.String()), nil); err != nil {
		b.Fatal(err)
	}
	for range seedLogins {
		if err := harness.NewClient(b, url).Login("admin", harness.DefaultAdminPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// msList prints durations in whole milliseconds, for the log.
func msList(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.0f", ms(d))
	}
	return strings.Join(parts, " ")
}
