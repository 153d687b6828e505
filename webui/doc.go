// Package webui is the appliance's web front: the JSON API under /api/v1, the
// event WebSocket at /api/v1/ws, /healthz, /readyz, /metrics and the embedded
// browser UI (login, per-role home, admin console), served by one fiber app
// on both the HTTP and the HTTPS listener.
//
// Every route is declared once in routes.go together with the permission it
// needs; roles map to permissions in permissions.go, and the resulting table
// is kept as a golden file (testdata/permissions.golden) that a test checks
// against every route and role. Errors leave the API in one shape,
// {"error":{"code","message","field"}}, mapped in errors.go.
//
// webui may import config, media and pbx packages; it must not import
// appliance or tests.
package webui
