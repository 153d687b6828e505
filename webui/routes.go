package webui

import (
	"github.com/gofiber/fiber/v2"
)

// route is one API route and the permission it needs.
type route struct {
	method  string
	path    string
	perm    Permission
	handler fiber.Handler
}

// apiRoutes is the whole JSON API. Every route is here, so the permission
// table (testdata/permissions.golden) is generated from this one list.
func (s *Server) apiRoutes() []route {
	return []route{
		{fiber.MethodGet, "/api/v1/branding", PermPublic, s.branding},
		{fiber.MethodPost, "/api/v1/login", PermPublic, s.login},
		{fiber.MethodPost, "/api/v1/logout", PermSignedIn, s.logout},
		{fiber.MethodGet, "/api/v1/me", PermSignedIn, s.me},
		{fiber.MethodPut, "/api/v1/me/password", PermSignedIn, s.changeOwnPassword},
		{fiber.MethodGet, "/api/v1/tokens", PermSignedIn, s.listTokens},
		{fiber.MethodPost, "/api/v1/tokens", PermSignedIn, s.createToken},
		{fiber.MethodDelete, "/api/v1/tokens/:id", PermSignedIn, s.deleteToken},
		{fiber.MethodGet, "/api/v1/users", PermUsersRead, s.listUsers},
		{fiber.MethodPost, "/api/v1/users", PermUsersWrite, s.createUser},
		{fiber.MethodGet, "/api/v1/users/:name", PermUsersRead, s.getUser},
		{fiber.MethodPatch, "/api/v1/users/:name", PermUsersWrite, s.updateUser},
		{fiber.MethodDelete, "/api/v1/users/:name", PermUsersWrite, s.deleteUser},
		{fiber.MethodPost, "/api/v1/users/:name/password", PermUsersWrite, s.resetPassword},
		{fiber.MethodGet, "/api/v1/extensions", PermUsersRead, s.listExtensions},
		{fiber.MethodPost, "/api/v1/extensions", PermUsersWrite, s.createExtension},
		{fiber.MethodGet, "/api/v1/extensions/:number", PermUsersRead, s.getExtension},
		{fiber.MethodPatch, "/api/v1/extensions/:number", PermUsersWrite, s.updateExtension},
		{fiber.MethodDelete, "/api/v1/extensions/:number", PermUsersWrite, s.deleteExtension},
		{fiber.MethodPost, "/api/v1/extensions/:number/secret", PermUsersWrite, s.setExtensionSecret},
		{fiber.MethodGet, "/api/v1/registrations", PermUsersRead, s.listRegistrations},
		{fiber.MethodGet, "/api/v1/devices", PermUsersRead, s.listDevices},
		{fiber.MethodGet, "/api/v1/feature-codes", PermSignedIn, s.getFeatureCodes},
		{fiber.MethodPut, "/api/v1/feature-codes", PermSettingsWrite, s.putFeatureCodes},
		{fiber.MethodGet, "/api/v1/cdrs", PermCallsRead, s.listCDRs},
		{fiber.MethodGet, "/api/v1/cdrs/:serial", PermCallsRead, s.getCDR},
		{fiber.MethodGet, "/api/v1/settings/system", PermSignedIn, s.getSystem},
		{fiber.MethodPut, "/api/v1/settings/system", PermSettingsWrite, s.putSystem},
		{fiber.MethodGet, "/api/v1/login-log", PermLogsRead, s.loginLog},
		{fiber.MethodGet, "/api/v1/audit-log", PermLogsRead, s.auditLog},
		{fiber.MethodGet, "/api/v1/config", PermConfigRead, s.exportConfig},
		{fiber.MethodPost, "/api/v1/config/apply", PermConfigWrite, s.applyConfig},
		{fiber.MethodGet, "/api/v1/trunks", PermConfigRead, s.listTrunks},
		{fiber.MethodPost, "/api/v1/trunks", PermConfigWrite, s.createTrunk},
		{fiber.MethodGet, "/api/v1/trunks/:name", PermConfigRead, s.getTrunk},
		{fiber.MethodPatch, "/api/v1/trunks/:name", PermConfigWrite, s.updateTrunk},
		{fiber.MethodDelete, "/api/v1/trunks/:name", PermConfigWrite, s.deleteTrunk},
		{fiber.MethodGet, "/api/v1/trunks/:name/status", PermConfigRead, s.trunkStatus},
		{fiber.MethodPost, "/api/v1/trunks/:name/trace", PermConfigWrite, s.traceTrunk},
		{fiber.MethodGet, "/api/v1/dids", PermConfigRead, s.listDIDs},
		{fiber.MethodPost, "/api/v1/dids", PermConfigWrite, s.createDID},
		{fiber.MethodGet, "/api/v1/dids/:number", PermConfigRead, s.getDID},
		{fiber.MethodPatch, "/api/v1/dids/:number", PermConfigWrite, s.updateDID},
		{fiber.MethodDelete, "/api/v1/dids/:number", PermConfigWrite, s.deleteDID},
		{fiber.MethodGet, "/api/v1/inbound-default", PermConfigRead, s.getInboundDefault},
		{fiber.MethodPut, "/api/v1/inbound-default", PermConfigWrite, s.putInboundDefault},
		{fiber.MethodGet, "/api/v1/outbound-routes", PermConfigRead, s.listRoutes},
		{fiber.MethodPost, "/api/v1/outbound-routes", PermConfigWrite, s.createRoute},
		{fiber.MethodPut, "/api/v1/outbound-routes/order", PermConfigWrite, s.reorderRoutes},
		{fiber.MethodGet, "/api/v1/outbound-routes/:name", PermConfigRead, s.getRoute},
		{fiber.MethodPatch, "/api/v1/outbound-routes/:name", PermConfigWrite, s.updateRoute},
		{fiber.MethodDelete, "/api/v1/outbound-routes/:name", PermConfigWrite, s.deleteRoute},
		{fiber.MethodGet, "/api/v1/caller-pools", PermConfigRead, s.listPools},
		{fiber.MethodPost, "/api/v1/caller-pools", PermConfigWrite, s.createPool},
		{fiber.MethodGet, "/api/v1/caller-pools/:name", PermConfigRead, s.getPool},
		{fiber.MethodPut, "/api/v1/caller-pools/:name", PermConfigWrite, s.putPool},
		{fiber.MethodDelete, "/api/v1/caller-pools/:name", PermConfigWrite, s.deletePool},
		{fiber.MethodGet, "/api/v1/blacklist", PermConfigRead, s.listBlacklist},
		{fiber.MethodPost, "/api/v1/blacklist", PermConfigWrite, s.createBlacklistEntry},
		{fiber.MethodDelete, "/api/v1/blacklist/:direction/:number", PermConfigWrite, s.deleteBlacklistEntry},
		{fiber.MethodGet, "/api/v1/outbound-policy", PermConfigRead, s.getPolicy},
		{fiber.MethodPut, "/api/v1/outbound-policy", PermConfigWrite, s.putPolicy},
		{fiber.MethodGet, "/api/v1/regions", PermConfigRead, s.getRegions},
		{fiber.MethodPost, "/api/v1/regions", PermConfigWrite, s.importRegions},
		{fiber.MethodGet, "/api/v1/regions/lookup", PermConfigRead, s.lookupRegion},
		{fiber.MethodGet, "/api/v1/backup", PermBackup, s.backup},
		{fiber.MethodPost, "/api/v1/restore", PermBackup, s.restore},
		{fiber.MethodGet, "/api/v1/ws", PermSignedIn, s.websocket()},
		{fiber.MethodGet, "/api/v1/debug/pprof/*", PermDebug, s.debugProfile},
	}
}

// routes registers everything in the order fiber needs: security headers and
// metrics first, then health and metrics, the API (each route behind its
// permission check), a JSON 404 for the rest of /api, and the UI last.
func (s *Server) routes() {
	app := s.app
	app.Use(s.securityHeaders, s.metrics.middleware)

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.metricsHandler())

	for _, r := range s.apiRoutes() {
		app.Add(r.method, r.path, s.authorize(r.perm), r.handler)
	}
	app.Use("/api", func(c *fiber.Ctx) error { return errNotFound })

	s.uiRoutes()
}

func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
	return c.Next()
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if !s.opts.Ready() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "starting"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
