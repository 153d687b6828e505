package webui

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/dialplan"
	"github.com/gofiber/fiber/v2"
)

// maxRegionCSV bounds a region table upload: a full national table of
// mobile prefixes is some hundreds of thousands of lines, a few tens of MiB.
const maxRegionCSV = 64 << 20

// regionCache holds the region table built from the store for lookups, so
// a lookup does not decode hundreds of thousands of rows. It is rebuilt
// when the stored table's size or import time changes (an import through
// the API or the command line).
type regionCache struct {
	mu    sync.Mutex
	info  store.RegionInfo
	table *dialplan.RegionTable
}

// get returns the table matching the store's, rebuilding it if needed.
func (rc *regionCache) get(db *store.DB) (*dialplan.RegionTable, error) {
	var info store.RegionInfo
	err := db.View(func(tx *store.Tx) (err error) {
		info, err = tx.RegionInfo()
		return err
	})
	if err != nil {
		return nil, err
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.table != nil && rc.info.Rows == info.Rows && rc.info.Updated.Equal(info.Updated) {
		return rc.table, nil
	}
	var rows []store.RegionRow
	err = db.View(func(tx *store.Tx) (err error) {
		if info, err = tx.RegionInfo(); err != nil {
			return err
		}
		rows, err = tx.Regions()
		return err
	})
	if err != nil {
		return nil, err
	}
	dr := make([]dialplan.RegionRow, len(rows))
	for i, r := range rows {
		dr[i] = dialplan.RegionRow{Prefix: r.Prefix, Province: r.Province, City: r.City}
	}
	t, err := dialplan.NewRegionTable(dr)
	if err != nil {
		return nil, fmt.Errorf("stored region table: %w", err)
	}
	rc.info, rc.table = info, t
	return t, nil
}

// regionsView is GET /regions: the size of the table and when it was
// imported (absent before the first import).
type regionsView struct {
	Count   int       `json:"count"`
	Updated time.Time `json:"updated,omitzero"`
}

func (s *Server) getRegions(c *fiber.Ctx) error {
	var info store.RegionInfo
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		info, err = tx.RegionInfo()
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(regionsView{Count: info.Rows, Updated: info.Updated})
}

// lineProblem is one bad line of an uploaded region table.
type lineProblem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// importRegions replaces the whole region table with a CSV upload
// ("prefix,province,city" lines, text/csv). A file with any bad line is
// refused whole: 400 with every bad line listed, nothing stored.
func (s *Server) importRegions(c *fiber.Ctx) error {
	mt, _, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	// Excel on Windows makes browsers label a .csv file as
	// application/vnd.ms-excel; the content decides in the end.
	if err != nil || (mt != "text/csv" && mt != "text/plain" && mt != "application/vnd.ms-excel") {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "send the region table as text/csv: prefix,province,city lines"}
	}
	body := c.Body()
	if len(body) > maxRegionCSV {
		return errTooLarge
	}
	table, lineErrs, err := dialplan.ParseRegionCSV(bytes.NewReader(body))
	if errors.Is(err, dialplan.ErrBadRegionCSV) {
		lines := make([]lineProblem, 0, len(lineErrs))
		for _, le := range lineErrs {
			lines = append(lines, lineProblem{Line: le.Line, Message: le.Msg})
		}
		return c.Status(http.StatusBadRequest).JSON(fiber.Map{"error": fiber.Map{
			"code":    "invalid",
			"message": fmt.Sprintf("%d bad line(s); nothing was stored", len(lines)),
			"lines":   lines,
		}})
	}
	if err != nil {
		return err
	}
	if table.Len() == 0 {
		return errBadRequest("", "the file holds no region lines (prefix,province,city); the table was not replaced")
	}
	rows := make([]store.RegionRow, 0, table.Len())
	for _, r := range table.Rows() {
		rows = append(rows, store.RegionRow{Prefix: r.Prefix, Province: r.Province, City: r.City})
	}
	var info store.RegionInfo
	err = s.opts.Store.Update(func(tx *store.Tx) error {
		if err := tx.ReplaceRegions(rows); err != nil {
			return err
		}
		var err error
		if info, err = tx.RegionInfo(); err != nil {
			return err
		}
		return s.audit(c, tx, "regions.import", "regions", fmt.Sprintf("%d rows", len(rows)))
	})
	if err != nil {
		return err
	}
	v := regionsView{Count: info.Rows, Updated: info.Updated}
	s.opts.Bus.Publish("regions.imported", "regions", v)
	return c.JSON(v)
}

// regionLookupView is GET /regions/lookup?number=…
type regionLookupView struct {
	Number   string `json:"number"`   // as given
	Key      string `json:"key"`      // the normalized number
	Kind     string `json:"kind"`     // mobile, landline, service…
	Found    bool   `json:"found"`    // the table has a prefix for it
	Province string `json:"province"` // "" when not found
	City     string `json:"city"`
}

func (s *Server) lookupRegion(c *fiber.Ctx) error {
	raw := strings.Clone(c.Query("number"))
	n, err := dialplan.DefaultNumberPlan().Normalize(raw)
	if err != nil {
		return errBadRequest("number", "is not a phone number")
	}
	t, err := s.regions.get(s.opts.Store)
	if err != nil {
		return err
	}
	v := regionLookupView{Number: raw, Key: n.Key(), Kind: n.Kind.String()}
	if r, ok := t.Lookup(n); ok {
		v.Found, v.Province, v.City = true, r.Province, r.City
	}
	return c.JSON(v)
}
