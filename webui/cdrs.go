package webui

import (
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// cdrDefaultWindow is how far back GET /api/v1/cdrs looks without ?from=:
// a day of calls, not the 30 days of the logs, because a busy box makes
// tens of thousands of calls a day.
const cdrDefaultWindow = 24 * time.Hour

// listCDRs answers GET /api/v1/cdrs?from=&to=&limit=: calls started in
// [from, to), newest first. Admins and supervisors see every call.
func (s *Server) listCDRs(c *fiber.Ctx) error {
	from, to, limit, err := timeRange(c, s.now())
	if err != nil {
		return err
	}
	if c.Query("from") == "" {
		from = to.Add(-cdrDefaultWindow)
	}
	out := []store.CDR{}
	err = s.opts.Store.View(func(tx *store.Tx) error {
		cs, err := tx.CDRs(from, to, limit)
		out = append(out, cs...)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"cdrs": out})
}

// getCDR answers GET /api/v1/cdrs/:serial with one call's record (404 when
// there is none).
func (s *Server) getCDR(c *fiber.Ctx) error {
	var cdr store.CDR
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		cdr, err = tx.CDRBySerial(c.Params("serial"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(cdr)
}
