// Package harness runs the appliance as a black box for the end-to-end tests
// in tests/: it builds the binary once per test process, starts it on free
// loopback ports with a temporary data directory, waits until it is ready,
// stops it at the end of the test (and shows its log when the test failed),
// runs its one-shot subcommands, and talks to its JSON API.
//
// A test starts a box and logs in:
//
//	app := harness.Start(t, harness.Options{})
//	c := app.Client(t)
//	if err := c.Login("admin", harness.DefaultAdminPassword); err != nil {
//		t.Fatal(err)
//	}
//	var users []map[string]any
//	if _, err := c.Do("GET", "/api/v1/users", nil, &users); err != nil {
//		t.Fatal(err)
//	}
//
// Every wait is bounded; nothing here sleeps for a fixed time.
//
// The package is for tests only (it imports testing). It drives the appliance
// through its external contract (flags, environment, HTTP) and must not
// import any package of the appliance (config, media, pbx, webui, appliance):
// a test that needs the internals belongs beside them.
package harness
