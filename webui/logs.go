package webui

import (
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// timeRange reads ?from=&to= (RFC 3339; default: the last 30 days) and
// ?limit= (1-1000, default 100).
func timeRange(c *fiber.Ctx, now time.Time) (from, to time.Time, limit int, err error) {
	to, from = now, now.AddDate(0, 0, -30)
	if v := c.Query("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, errBadRequest("from", "from must be a time like 2026-01-02T15:04:05+08:00")
		}
	}
	if v := c.Query("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, errBadRequest("to", "to must be a time like 2026-01-02T15:04:05+08:00")
		}
	}
	if to.Before(from) {
		return from, to, 0, errBadRequest("to", "to is before from")
	}
	limit = c.QueryInt("limit", 100)
	if limit < 1 || limit > 1000 {
		return from, to, 0, errBadRequest("limit", "limit must be between 1 and 1000")
	}
	return from, to, limit, nil
}

func (s *Server) loginLog(c *fiber.Ctx) error {
	from, to, limit, err := timeRange(c, s.now())
	if err != nil {
		return err
	}
	out := []store.LoginEntry{}
	err = s.opts.Store.View(func(tx *store.Tx) error {
		es, err := tx.Logins(from, to, limit)
		out = append(out, es...)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"entries": out})
}

func (s *Server) auditLog(c *fiber.Ctx) error {
	from, to, limit, err := timeRange(c, s.now())
	if err != nil {
		return err
	}
	out := []store.AuditEntry{}
	err = s.opts.Store.View(func(tx *store.Tx) error {
		es, err := tx.Audits(from, to, limit)
		out = append(out, es...)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"entries": out})
}
