package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// getFeatureCodes answers GET /api/v1/feature-codes: the table's rows in
// order. Any signed-in user may read it: agents dial the codes too.
func (s *Server) getFeatureCodes(c *fiber.Ctx) error {
	var fc store.FeatureCodes
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		fc, err = tx.FeatureCodes()
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"feature_codes": fc.Table()})
}

// putFeatureCodes answers PUT /api/v1/feature-codes: the whole table as
// one object, every key present ("" disables a feature). It is checked as
// a whole (provision.CheckFeatureCodes) and written all at once or not at
// all; the answer is the new table.
func (s *Server) putFeatureCodes(c *fiber.Ctx) error {
	var fc store.FeatureCodes
	if err := decodeJSON(c, &fc); err != nil {
		return err
	}
	// A missing key would silently disable its feature: a partial table is
	// refused instead.
	var present map[string]json.RawMessage
	if err := json.Unmarshal(c.Body(), &present); err != nil {
		return errBadRequest("", "send a JSON object in the request body")
	}
	for _, r := range fc.Table() {
		if _, ok := present[r.Key]; !ok {
			return errBadRequest(r.Key, fmt.Sprintf("%s is missing: send the whole table (\"\" disables a feature)", r.Key))
		}
	}
	if err := featureCodesError(provision.CheckFeatureCodes(fc)); err != nil {
		return err
	}
	actor := principalOf(c).user.Name
	var changed []string
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		old, err := tx.FeatureCodes()
		if err != nil {
			return err
		}
		oldRows := old.Table()
		for i, r := range fc.Table() {
			if r.Code != oldRows[i].Code {
				changed = append(changed, r.Key)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		if err := tx.PutFeatureCodes(fc); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: s.now(), User: actor, Action: "feature_codes.update",
			Object: "feature_codes", Detail: strings.Join(changed, ", ")})
	})
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		s.opts.Bus.Publish("feature_codes.updated", "feature_codes", fiber.Map{"feature_codes": fc.Table()})
	}
	return c.JSON(fiber.Map{"feature_codes": fc.Table()})
}

// featureCodesError turns the table's problems into one 400 listing each
// bad key (the first also as the error's field).
func featureCodesError(err error) error {
	if err == nil {
		return nil
	}
	var probs []problem
	parts := []error{err}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		parts = joined.Unwrap()
	}
	for _, e := range parts {
		var fe *provision.FieldError
		if !errors.As(e, &fe) {
			return err
		}
		probs = append(probs, problem{Path: fe.Path, Problem: fe.Problem})
	}
	return &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: probs[0].Path, Problems: probs,
		Message: fmt.Sprintf("%s: %s", probs[0].Path, probs[0].Problem)}
}
