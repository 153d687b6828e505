package webui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// extensionView is an extension as the API shows it: never its secret.
type extensionView struct {
	Number   string   `json:"number"`
	Name     string   `json:"name"`
	User     string   `json:"user"`
	MaxCalls int      `json:"max_calls"` // 0 = the default (2)
	Codecs   []string `json:"codecs"`    // [] = the default (PCMU, PCMA)
	Disabled bool     `json:"disabled"`
	callFeatures
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// callFeatures are an extension's call-feature settings, the same fields
// in views and in create requests.
type callFeatures struct {
	DTMFMode        string `json:"dtmf_mode"`         // "" = rfc4733 (default), info, inband
	DND             bool   `json:"dnd"`               // do not disturb
	ForwardAlways   string `json:"forward_always"`    // "" = off
	ForwardBusy     string `json:"forward_busy"`      // "" = off
	ForwardNoAnswer string `json:"forward_no_answer"` // "" = off
	NoAnswerSeconds int    `json:"no_answer_seconds"` // 0 = the default (20)
	PickupGroup     string `json:"pickup_group"`      // "" = in no group
	RingOn          string `json:"ring_on"`           // "" = both (default), phone, seat
	OutboundNumber  string `json:"outbound_number"`   // caller number on outside calls ("" = the route's or trunk's)
}

func featuresOf(e store.Extension) callFeatures {
	return callFeatures{DTMFMode: e.DTMFMode, DND: e.DND, ForwardAlways: e.ForwardAlways, ForwardBusy: e.ForwardBusy,
		ForwardNoAnswer: e.ForwardNoAnswer, NoAnswerSeconds: e.NoAnswerSeconds, PickupGroup: e.PickupGroup, RingOn: e.RingOn,
		OutboundNumber: e.OutboundNumber}
}

// set copies the features into e, the DTMF mode and ring_on in their
// stored forms.
func (f callFeatures) set(e *store.Extension) {
	e.DTMFMode, e.DND, e.PickupGroup = provision.NormalDTMFMode(f.DTMFMode), f.DND, f.PickupGroup
	e.RingOn = provision.NormalRingOn(f.RingOn)
	e.ForwardAlways, e.ForwardBusy, e.ForwardNoAnswer = f.ForwardAlways, f.ForwardBusy, f.ForwardNoAnswer
	e.NoAnswerSeconds = f.NoAnswerSeconds
	e.OutboundNumber = f.OutboundNumber
}

// checkCallFeatures checks the call features of extension number; the
// first bad field is a 400 naming it.
func checkCallFeatures(number string, f callFeatures) error {
	for _, check := range []struct {
		field string
		err   error
	}{
		{"dtmf_mode", provision.CheckDTMFMode(f.DTMFMode)},
		{"forward_always", provision.CheckForward(number, f.ForwardAlways)},
		{"forward_busy", provision.CheckForward(number, f.ForwardBusy)},
		{"forward_no_answer", provision.CheckForward(number, f.ForwardNoAnswer)},
		{"no_answer_seconds", provision.CheckNoAnswerSeconds(f.NoAnswerSeconds)},
		{"pickup_group", provision.CheckPickupGroup(f.PickupGroup)},
		{"ring_on", provision.CheckRingOn(f.RingOn)},
		{"outbound_number", provision.CheckOutboundNumber(f.OutboundNumber)},
	} {
		if err := fieldError(check.field, check.err); err != nil {
			return err
		}
	}
	return nil
}

// ExtensionEvent is an extension as the API and extension.* events show it
// (no secrets): for changes made outside the web API, such as a phone's
// feature codes, so their events look the same.
func ExtensionEvent(e store.Extension) any { return newExtensionView(e) }

func newExtensionView(e store.Extension) extensionView {
	codecs := e.Codecs
	if codecs == nil {
		codecs = []string{}
	}
	return extensionView{Number: e.Number, Name: e.Name, User: e.User, MaxCalls: e.MaxCalls, Codecs: codecs,
		Disabled: e.Disabled, callFeatures: featuresOf(e), Created: e.Created, Updated: e.Updated}
}

func (s *Server) listExtensions(c *fiber.Ctx) error {
	out := []extensionView{}
	err := s.opts.Store.View(func(tx *store.Tx) error {
		exts, err := tx.Extensions()
		for _, e := range exts {
			out = append(out, newExtensionView(e))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"extensions": out})
}

func (s *Server) getExtension(c *fiber.Ctx) error {
	var e store.Extension
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		e, err = tx.Extension(c.Params("number"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(newExtensionView(e))
}

type createExtensionRequest struct {
	Number   string   `json:"number"`
	Name     string   `json:"name"`
	User     string   `json:"user"`
	Secret   string   `json:"secret"`
	MaxCalls int      `json:"max_calls"`
	Codecs   []string `json:"codecs"`
	Disabled bool     `json:"disabled"`

	// The call features, spelled out rather than embedded so that a type
	// error names the field as the client wrote it.
	DTMFMode        string `json:"dtmf_mode"`
	DND             bool   `json:"dnd"`
	ForwardAlways   string `json:"forward_always"`
	ForwardBusy     string `json:"forward_busy"`
	ForwardNoAnswer string `json:"forward_no_answer"`
	NoAnswerSeconds int    `json:"no_answer_seconds"`
	PickupGroup     string `json:"pickup_group"`
	RingOn          string `json:"ring_on"`
	OutboundNumber  string `json:"outbound_number"`
}

func (r createExtensionRequest) features() callFeatures {
	return callFeatures{DTMFMode: r.DTMFMode, DND: r.DND, ForwardAlways: r.ForwardAlways, ForwardBusy: r.ForwardBusy,
		ForwardNoAnswer: r.ForwardNoAnswer, NoAnswerSeconds: r.NoAnswerSeconds, PickupGroup: r.PickupGroup, RingOn: r.RingOn,
		OutboundNumber: r.OutboundNumber}
}

// numberTaken turns a numbering-plan clash found in the transaction into a 409.
func numberTaken(field string, err error) error {
	var fe *provision.FieldError
	if errors.As(err, &fe) {
		return &apiError{Status: http.StatusConflict, Code: "number_taken", Field: field, Message: fe.Problem}
	}
	return err
}

// extensionOwner checks, inside the transaction, that the owning user exists.
func extensionOwner(tx *store.Tx, user string) error {
	if user == "" {
		return nil
	}
	if _, err := tx.User(user); errors.Is(err, store.ErrNotFound) {
		return errBadRequest("user", "user \""+user+"\" does not exist")
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Server) createExtension(c *fiber.Ctx) error {
	var req createExtensionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Number = strings.TrimSpace(req.Number)
	for _, check := range []struct {
		field string
		err   error
	}{
		{"number", provision.CheckExtensionNumber(req.Number)},
		{"name", provision.CheckExtensionName(req.Name)},
		{"user", provision.CheckExtensionUser(req.User)},
		{"secret", provision.CheckSecret(req.Number, req.Secret)},
		{"max_calls", provision.CheckMaxCalls(req.MaxCalls)},
		{"codecs", provision.CheckCodecs(req.Codecs)},
	} {
		if err := fieldError(check.field, check.err); err != nil {
			return err
		}
	}
	if err := checkCallFeatures(req.Number, req.features()); err != nil {
		return err
	}
	if len(req.Codecs) == 0 {
		req.Codecs = nil
	}
	// The realm is normally fixed at start-up; this covers a store that
	// has never been started as a box.
	realm, err := store.EnsureRealm(s.opts.Store)
	if err != nil {
		return err
	}
	md5Hex, shaHex := provision.HA1(req.Number, realm, req.Secret)
	actor := principalOf(c).user.Name
	now := s.now()
	e := store.Extension{Number: req.Number, Name: req.Name, User: req.User, HA1MD5: md5Hex, HA1SHA256: shaHex,
		MaxCalls: req.MaxCalls, Codecs: req.Codecs, Disabled: req.Disabled, Created: now, Updated: now}
	req.features().set(&e)
	err = s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.Extension(e.Number); err == nil {
			return &apiError{Status: http.StatusConflict, Code: "exists", Field: "number", Message: "an extension with this number already exists"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		self := provision.NumberHolder{Number: e.Number, Kind: provision.NumberExtension, Name: e.Number}
		if err := numberTaken("number", provision.CheckNumberFree(tx, self)); err != nil {
			return err
		}
		if err := extensionOwner(tx, e.User); err != nil {
			return err
		}
		if err := tx.PutExtension(e); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: now, User: actor, Action: "extension.create", Object: "extension:" + e.Number})
	})
	if err != nil {
		return err
	}
	v := newExtensionView(e)
	s.opts.Bus.Publish("extension.created", "extension:"+e.Number, v)
	return c.Status(fiber.StatusCreated).JSON(v)
}

type updateExtensionRequest struct {
	Name     *string   `json:"name"`
	User     *string   `json:"user"` // "" removes the owner
	MaxCalls *int      `json:"max_calls"`
	Codecs   *[]string `json:"codecs"` // [] = the default
	Disabled *bool     `json:"disabled"`

	DTMFMode        *string `json:"dtmf_mode"`
	DND             *bool   `json:"dnd"`
	ForwardAlways   *string `json:"forward_always"` // "" turns it off
	ForwardBusy     *string `json:"forward_busy"`
	ForwardNoAnswer *string `json:"forward_no_answer"`
	NoAnswerSeconds *int    `json:"no_answer_seconds"` // 0 = the default
	PickupGroup     *string `json:"pickup_group"`      // "" = in no group
	RingOn          *string `json:"ring_on"`           // "" or "both", "phone", "seat"
	OutboundNumber  *string `json:"outbound_number"`   // "" removes it
}

// features is the extension's call features with the request's changes.
func (r updateExtensionRequest) features(f callFeatures) callFeatures {
	pick := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	pick(&f.DTMFMode, r.DTMFMode)
	pick(&f.ForwardAlways, r.ForwardAlways)
	pick(&f.ForwardBusy, r.ForwardBusy)
	pick(&f.ForwardNoAnswer, r.ForwardNoAnswer)
	pick(&f.PickupGroup, r.PickupGroup)
	pick(&f.RingOn, r.RingOn)
	pick(&f.OutboundNumber, r.OutboundNumber)
	if r.DND != nil {
		f.DND = *r.DND
	}
	if r.NoAnswerSeconds != nil {
		f.NoAnswerSeconds = *r.NoAnswerSeconds
	}
	return f
}

func (s *Server) updateExtension(c *fiber.Ctx) error {
	var req updateExtensionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Name != nil {
		if err := fieldError("name", provision.CheckExtensionName(*req.Name)); err != nil {
			return err
		}
	}
	if req.User != nil {
		if err := fieldError("user", provision.CheckExtensionUser(*req.User)); err != nil {
			return err
		}
	}
	if req.MaxCalls != nil {
		if err := fieldError("max_calls", provision.CheckMaxCalls(*req.MaxCalls)); err != nil {
			return err
		}
	}
	if req.Codecs != nil {
		if err := fieldError("codecs", provision.CheckCodecs(*req.Codecs)); err != nil {
			return err
		}
	}
	number := strings.Clone(c.Params("number")) // kept in events and logs after the handler
	// Checked on their own first, so a bad value is a 400 even for an
	// extension that does not exist (as for the fields above).
	if err := checkCallFeatures(number, req.features(callFeatures{})); err != nil {
		return err
	}
	actor := principalOf(c).user.Name
	var e store.Extension
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if e, err = tx.Extension(number); err != nil {
			return err
		}
		req.features(featuresOf(e)).set(&e)
		if req.Name != nil {
			e.Name = *req.Name
		}
		if req.User != nil {
			if err := extensionOwner(tx, *req.User); err != nil {
				return err
			}
			e.User = *req.User
		}
		if req.MaxCalls != nil {
			e.MaxCalls = *req.MaxCalls
		}
		if req.Codecs != nil {
			e.Codecs = *req.Codecs
			if len(e.Codecs) == 0 {
				e.Codecs = nil
			}
		}
		if req.Disabled != nil {
			e.Disabled = *req.Disabled
		}
		e.Updated = s.now()
		if err := tx.PutExtension(e); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: e.Updated, User: actor, Action: "extension.update", Object: "extension:" + number})
	})
	if err != nil {
		return err
	}
	v := newExtensionView(e)
	s.opts.Bus.Publish("extension.updated", "extension:"+number, v)
	return c.JSON(v)
}

func (s *Server) deleteExtension(c *fiber.Ctx) error {
	number := strings.Clone(c.Params("number")) // kept in events and logs after the handler
	actor := principalOf(c).user.Name
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if err := tx.DeleteExtension(number); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: s.now(), User: actor, Action: "extension.delete", Object: "extension:" + number})
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("extension.deleted", "extension:"+number, fiber.Map{"number": number})
	return c.SendStatus(fiber.StatusNoContent)
}

type extensionSecretRequest struct {
	Secret string `json:"secret"`
}

// setExtensionSecret replaces an extension's secret. The answer and the event
// carry the extension, never the secret.
func (s *Server) setExtensionSecret(c *fiber.Ctx) error {
	var req extensionSecretRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	number := strings.Clone(c.Params("number")) // kept in events and logs after the handler
	if err := fieldError("secret", provision.CheckSecret(number, req.Secret)); err != nil {
		return err
	}
	realm, err := store.EnsureRealm(s.opts.Store)
	if err != nil {
		return err
	}
	md5Hex, shaHex := provision.HA1(number, realm, req.Secret)
	actor := principalOf(c).user.Name
	var e store.Extension
	err = s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if e, err = tx.Extension(number); err != nil {
			return err
		}
		e.HA1MD5, e.HA1SHA256 = md5Hex, shaHex
		e.Updated = s.now()
		if err := tx.PutExtension(e); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: e.Updated, User: actor, Action: "extension.secret", Object: "extension:" + number})
	})
	if err != nil {
		return err
	}
	v := newExtensionView(e)
	s.opts.Bus.Publish("extension.updated", "extension:"+number, v)
	return c.JSON(v)
}
