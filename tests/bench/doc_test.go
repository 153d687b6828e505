// Package bench measures the appliance against the release's performance
// targets, as a black box: start-up to ready (BenchmarkStartup), idle memory
// (BenchmarkIdleRSS), 200 agents logging in and polling the API
// (BenchmarkLogin200Users), calls (BenchmarkCallsPerSecond,
// BenchmarkConcurrentCalls, BenchmarkRegistrations), the RTP relay against
// a bare C relay (BenchmarkRelay) and browser seats (BenchmarkSeats).
// docs/performance.md lists the targets and the last measured figures.
//
// They are Go benchmarks so that `go test ./tests/...` (CI, without -bench)
// builds them but never runs them; only the small table tests of the
// helpers run there. They are run on purpose, each once:
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./tests/bench/
//
// Every benchmark does its whole measurement in one pass (each pass lasts
// seconds, so the default -benchtime also stops after one); the figures are
// custom metrics (b.ReportMetric) and a readable summary in the log. The
// ns/op column is left out: it would be the length of the whole pass.
//
// The package is test files only. Like the other packages under tests/ it
// sees the appliance only through its external contract (harness, HTTP,
// /proc) and imports no package of the appliance.
package bench
