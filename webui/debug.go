package webui

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// debugProfile serves Go's runtime profiles (CPU, heap, goroutines...) to
// admins, for diagnosing a box under load without restarting it:
//
//	curl -sk -H 'Authorization: Bearer TOKEN' https://box:8443/api/v1/debug/pprof/heap > heap.pb.gz
//	go tool pprof -top heap.pb.gz
func (s *Server) debugProfile(c *fiber.Ctx) error {
	name := strings.TrimPrefix(c.Params("*"), "/")
	var h http.Handler
	switch name {
	case "":
		h = http.HandlerFunc(pprof.Index)
	case "profile":
		h = http.HandlerFunc(pprof.Profile)
	case "trace":
		h = http.HandlerFunc(pprof.Trace)
	case "symbol":
		h = http.HandlerFunc(pprof.Symbol)
	case "cmdline":
		h = http.HandlerFunc(pprof.Cmdline)
	default:
		h = pprof.Handler(name)
	}
	return adaptor.HTTPHandler(h)(c)
}
