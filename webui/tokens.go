package webui

import (
	"net/http"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// API tokens let programs (monitoring, `appliance apply --server`) act as
// the user who made them. The secret is shown once; the store keeps only
// its SHA-256.

type tokenView struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Token   string    `json:"token,omitempty"` // only in the answer that creates it
}

func newTokenView(t store.Token) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, User: t.User, Created: t.Created, Expires: t.Expires}
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	p := principalOf(c)
	out := []tokenView{}
	err := s.opts.Store.View(func(tx *store.Tx) error {
		ts, err := tx.Tokens(p.user.Name)
		for _, t := range ts {
			out = append(out, newTokenView(t))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tokens": out})
}

type createTokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days"` // 0: never
}

func (s *Server) createToken(c *fiber.Ctx) error {
	p := principalOf(c)
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 64 {
		return errBadRequest("name", "name the token (1 to 64 characters), e.g. what uses it")
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 3650 {
		return errBadRequest("expires_in_days", "expires_in_days must be between 0 (never) and 3650")
	}
	now := s.now()
	secret := randomID(32)
	t := store.Token{ID: strings.ReplaceAll(randomID(9), "_", "-"), Name: req.Name, User: p.user.Name,
		SecretHash: store.HashSecret(secret), Created: now}
	if req.ExpiresInDays > 0 {
		t.Expires = now.Add(time.Duration(req.ExpiresInDays) * 24 * time.Hour)
	}
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if err := tx.PutToken(t); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: now, User: p.user.Name, Action: "token.create", Object: "token:" + t.ID, Detail: t.Name})
	})
	if err != nil {
		return err
	}
	v := newTokenView(t)
	v.Token = tokenPrefix + t.ID + "_" + secret
	return c.Status(fiber.StatusCreated).JSON(v)
}

// deleteToken revokes one of the caller's tokens; admins may revoke anyone's.
func (s *Server) deleteToken(c *fiber.Ctx) error {
	p := principalOf(c)
	id := c.Params("id")
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		t, err := tx.Token(id)
		if err != nil {
			return err
		}
		if t.User != p.user.Name && p.user.Role != store.RoleAdmin {
			return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such token"}
		}
		if err := tx.DeleteToken(id); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: s.now(), User: p.user.Name, Action: "token.delete", Object: "token:" + id})
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
