package webui

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

//go:embed assets
var assets embed.FS

// pages maps UI paths to their HTML files. The pages are shells: what a
// user may see is decided by the API each page calls, not by the page.
var pages = map[string]string{
	"/login":     "assets/login.html",
	"/home":      "assets/home.html",
	"/admin":     "assets/admin.html",
	"/softphone": "assets/softphone.html",
	"/workbench": "assets/placeholder.html",
	"/wallboard": "assets/placeholder.html",
	"/reports":   "assets/placeholder.html",
}

func (s *Server) uiRoutes() {
	for path, file := range pages {
		body, err := assets.ReadFile(file)
		if err != nil {
			panic("webui: missing embedded page " + file) // a build defect, caught by every test
		}
		s.app.Get(path, func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderCacheControl, "no-cache")
			c.Type("html", "utf-8")
			return c.Send(body)
		})
	}
	s.app.Get("/", func(c *fiber.Ctx) error {
		if p, _ := s.authenticate(c); p != nil {
			return c.Redirect("/home", fiber.StatusFound)
		}
		return c.Redirect("/login", fiber.StatusFound)
	})
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	s.app.Get("/favicon.ico", func(c *fiber.Ctx) error { return c.Redirect("/assets/favicon.svg", fiber.StatusMovedPermanently) })
	s.app.Use("/assets", filesystem.New(filesystem.Config{
		Root:   http.FS(sub),
		MaxAge: 300,
	}))
}
