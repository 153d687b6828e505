package webui

import (
	"net"
	"strconv"
	"strings"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// defaultTitle is shown until an admin names the system.
const defaultTitle = "CCBox"

// branding is what the login page needs before anyone logs in.
func (s *Server) branding(c *fiber.Ctx) error {
	sys, err := s.system()
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"title": sys.Title, "version": s.opts.Version, "https_url": s.httpsURL(c)})
}

// httpsURL is the same host on the HTTPS port: where to send a browser
// that opened the UI over plain HTTP from another machine.
func (s *Server) httpsURL(c *fiber.Ctx) string {
	host := c.Hostname()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if s.opts.HTTPSPort == 443 {
		return "https://" + host
	}
	return "https://" + host + ":" + strconv.Itoa(s.opts.HTTPSPort)
}

func (s *Server) system() (store.System, error) {
	var sys store.System
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		sys, err = tx.System()
		return err
	})
	if sys.Title == "" {
		sys.Title = defaultTitle
	}
	return sys, err
}

func (s *Server) getSystem(c *fiber.Ctx) error {
	sys, err := s.system()
	if err != nil {
		return err
	}
	return c.JSON(sys)
}

func (s *Server) putSystem(c *fiber.Ctx) error {
	var req store.System
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Title = strings.TrimSpace(req.Title)
	if err := fieldError("title", provision.CheckTitle(req.Title)); err != nil {
		return err
	}
	actor := principalOf(c).user.Name
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if err := tx.PutSystem(req); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: s.now(), User: actor, Action: "system.update", Object: "system", Detail: req.Title})
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("system.updated", "system", req)
	return c.JSON(req)
}
