package webui

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// exportConfig serves the configuration document (`appliance export`).
func (s *Server) exportConfig(c *fiber.Ctx) error {
	doc, err := provision.Export(s.opts.Store)
	if err != nil {
		return err
	}
	out, err := provision.Marshal(doc)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
	return c.Send(out)
}

// applyConfig applies a YAML configuration document
// (?dry_run=1 plans only, ?prune=1 removes what the document omits).
func (s *Server) applyConfig(c *fiber.Ctx) error {
	body := c.Body()
	if len(body) > maxYAML {
		return errTooLarge
	}
	doc, err := provision.Parse(body)
	if err == nil {
		err = doc.Validate()
	}
	if err != nil {
		return documentError(err)
	}
	opts := provision.Options{DryRun: c.QueryBool("dry_run"), Prune: c.QueryBool("prune"), Actor: principalOf(c).user.Name}
	changes, err := provision.Apply(c.UserContext(), s.opts.Store, s.opts.Hasher, doc, opts)
	if err != nil {
		return documentError(err)
	}
	if changes == nil {
		changes = []provision.Change{}
	}
	if !opts.DryRun && len(changes) > 0 {
		s.opts.Bus.Publish("config.applied", "config", fiber.Map{"changes": changes})
	}
	return c.JSON(fiber.Map{"dry_run": opts.DryRun, "changes": changes})
}

// documentError turns a document's problems into one 400 listing them all.
func documentError(err error) error {
	var probs []problem
	var fe *provision.FieldError
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			if errors.As(e, &fe) {
				probs = append(probs, problem{Path: fe.Path, Line: fe.Line, Problem: fe.Problem})
			} else {
				probs = append(probs, problem{Problem: e.Error()})
			}
		}
	} else if errors.As(err, &fe) {
		probs = append(probs, problem{Path: fe.Path, Line: fe.Line, Problem: fe.Problem})
	} else {
		return err
	}
	ae := &apiError{Status: http.StatusBadRequest, Code: "invalid", Problems: probs,
		Message: fmt.Sprintf("the document has %d problem(s); nothing was applied", len(probs))}
	if len(probs) == 1 {
		ae.Field = probs[0].Path
	}
	return ae
}

// backup streams a backup file of the whole store.
func (s *Server) backup(c *fiber.Ctx) error {
	var buf bytes.Buffer
	if err := s.opts.Store.Backup(&buf); err != nil {
		return err
	}
	name := "ccbox-backup-" + s.now().UTC().Format("20060102-150405") + ".bak"
	c.Set(fiber.HeaderContentType, "application/octet-stream")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Send(buf.Bytes())
}

// restore replaces the whole store with an uploaded backup. The store
// verifies the file completely before touching anything and rolls back on
// failure. Sessions are not part of a backup, so everyone logs in again.
func (s *Server) restore(c *fiber.Ctx) error {
	actor := principalOf(c).user.Name
	if err := s.opts.Store.Restore(bytes.NewReader(c.Body())); err != nil {
		if errors.Is(err, store.ErrBadBackup) {
			return &apiError{Status: http.StatusBadRequest, Code: "bad_backup", Field: "file", Message: err.Error()}
		}
		return err
	}
	if err := s.opts.Store.Update(func(tx *store.Tx) error {
		return tx.AddAudit(store.AuditEntry{Time: s.now(), User: actor, Action: "store.restore", Object: "store"})
	}); err != nil {
		s.log.Error("audit restore", "err", err)
	}
	s.opts.Bus.Publish("system.restored", "system", fiber.Map{"by": actor, "time": s.now().Format(time.RFC3339)})
	return c.JSON(fiber.Map{"restored": true})
}
