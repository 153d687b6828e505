package webui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/password"
	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/gofiber/fiber/v2"
)

// userView is a user as the API shows it: never the password hash.
type userView struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Role        store.Role `json:"role"`
	AgentNumber string     `json:"agent_number"`
	Disabled    bool       `json:"disabled"`
	Language    string     `json:"language"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
}

func newUserView(u store.User) userView {
	return userView{Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, AgentNumber: u.AgentNumber,
		Disabled: u.Disabled, Language: u.Language, Created: u.Created, Updated: u.Updated}
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	var out []userView
	err := s.opts.Store.View(func(tx *store.Tx) error {
		users, err := tx.Users()
		for _, u := range users {
			out = append(out, newUserView(u))
		}
		return err
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []userView{}
	}
	return c.JSON(fiber.Map{"users": out})
}

func (s *Server) getUser(c *fiber.Ctx) error {
	var u store.User
	err := s.opts.Store.View(func(tx *store.Tx) (err error) {
		u, err = tx.User(c.Params("name"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(newUserView(u))
}

type createUserRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	AgentNumber string `json:"agent_number"`
	Password    string `json:"password"`
	Language    string `json:"language"`
}

// agentNumberFree checks, inside the transaction, that user may hold the
// agent number (none is always free).
func agentNumberFree(tx *store.Tx, user, number string) error {
	if number == "" {
		return nil
	}
	self := provision.NumberHolder{Number: number, Kind: provision.NumberAgent, Name: user}
	return numberTaken("agent_number", provision.CheckNumberFree(tx, self))
}

// fieldError turns the configuration document's validation error for one
// field into the API's 400, so the API and `appliance apply` accept exactly
// the same values.
func fieldError(field string, err error) error {
	if err == nil {
		return nil
	}
	return errBadRequest(field, err.Error())
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var req createUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if err := fieldError("name", provision.CheckUserName(req.Name)); err != nil {
		return err
	}
	if err := fieldError("display_name", provision.CheckDisplayName(req.DisplayName)); err != nil {
		return err
	}
	if err := fieldError("role", provision.CheckRole(req.Role)); err != nil {
		return err
	}
	if err := fieldError("language", provision.CheckLanguage(req.Language)); err != nil {
		return err
	}
	if err := fieldError("agent_number", provision.CheckAgentNumber(req.AgentNumber)); err != nil {
		return err
	}
	if err := password.Check(req.Password); err != nil {
		return errBadRequest("password", passwordProblem(err))
	}
	hash, err := s.opts.Hasher.Hash(c.UserContext(), req.Password)
	if err != nil {
		return err
	}
	actor := principalOf(c).user.Name
	now := s.now()
	u := store.User{Name: req.Name, DisplayName: req.DisplayName, Role: store.Role(req.Role), AgentNumber: req.AgentNumber,
		PasswordHash: hash, Language: req.Language, Created: now, Updated: now, PasswordChanged: now}
	err = s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.User(u.Name); err == nil {
			return &apiError{Status: http.StatusConflict, Code: "exists", Field: "name", Message: "a user with this name already exists"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := agentNumberFree(tx, u.Name, u.AgentNumber); err != nil {
			return err
		}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: now, User: actor, Action: "user.create", Object: "user:" + u.Name})
	})
	if err != nil {
		return err
	}
	v := newUserView(u)
	s.opts.Bus.Publish("user.created", "user:"+u.Name, v)
	return c.Status(fiber.StatusCreated).JSON(v)
}

type updateUserRequest struct {
	DisplayName *string `json:"display_name"`
	Role        *string `json:"role"`
	AgentNumber *string `json:"agent_number"` // "" removes it
	Disabled    *bool   `json:"disabled"`
	Language    *string `json:"language"`
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	var req updateUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.DisplayName != nil {
		if err := fieldError("display_name", provision.CheckDisplayName(*req.DisplayName)); err != nil {
			return err
		}
	}
	if req.Role != nil {
		if err := fieldError("role", provision.CheckRole(*req.Role)); err != nil {
			return err
		}
	}
	if req.Language != nil {
		if err := fieldError("language", provision.CheckLanguage(*req.Language)); err != nil {
			return err
		}
	}
	if req.AgentNumber != nil {
		if err := fieldError("agent_number", provision.CheckAgentNumber(*req.AgentNumber)); err != nil {
			return err
		}
	}
	name := c.Params("name")
	actor := principalOf(c).user.Name
	var u store.User
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		var err error
		if u, err = tx.User(name); err != nil {
			return err
		}
		if req.DisplayName != nil {
			u.DisplayName = *req.DisplayName
		}
		if req.Role != nil {
			u.Role = store.Role(*req.Role)
		}
		if req.Language != nil {
			u.Language = *req.Language
		}
		if req.AgentNumber != nil {
			if err := agentNumberFree(tx, name, *req.AgentNumber); err != nil {
				return err
			}
			u.AgentNumber = *req.AgentNumber
		}
		if req.Disabled != nil {
			u.Disabled = *req.Disabled
		}
		u.Updated = s.now()
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if err := keepAnAdmin(tx); err != nil {
			return err
		}
		if u.Disabled {
			if err := tx.DeleteUserSessions(name); err != nil {
				return err
			}
		}
		return tx.AddAudit(store.AuditEntry{Time: u.Updated, User: actor, Action: "user.update", Object: "user:" + name})
	})
	if err != nil {
		return err
	}
	v := newUserView(u)
	s.opts.Bus.Publish("user.updated", "user:"+name, v)
	return c.JSON(v)
}

func (s *Server) deleteUser(c *fiber.Ctx) error {
	name := c.Params("name")
	actor := principalOf(c).user.Name
	var orphaned []store.Extension // the user's extensions, which stay without an owner
	err := s.opts.Store.Update(func(tx *store.Tx) error {
		if _, err := tx.User(name); err != nil {
			return err
		}
		orphaned = orphaned[:0]
		exts, err := tx.Extensions()
		if err != nil {
			return err
		}
		for _, e := range exts {
			if e.User == name {
				orphaned = append(orphaned, e)
			}
		}
		if err := tx.DeleteUser(name); err != nil {
			return err
		}
		if err := keepAnAdmin(tx); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(name); err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: s.now(), User: actor, Action: "user.delete", Object: "user:" + name})
	})
	if err != nil {
		return err
	}
	s.opts.Bus.Publish("user.deleted", "user:"+name, fiber.Map{"name": name})
	for _, e := range orphaned {
		e.User = ""
		s.opts.Bus.Publish("extension.updated", "extension:"+e.Number, newExtensionView(e))
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// keepAnAdmin refuses a change that would leave nobody able to administer
// the box. It runs inside the transaction, after the change.
func keepAnAdmin(tx *store.Tx) error {
	users, err := tx.Users()
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Role == store.RoleAdmin && !u.Disabled {
			return nil
		}
	}
	return &apiError{Status: http.StatusConflict, Code: "last_admin", Message: "at least one enabled admin must remain"}
}

type resetPasswordRequest struct {
	Password string `json:"password"`
}

func (s *Server) resetPassword(c *fiber.Ctx) error {
	var req resetPasswordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := password.Check(req.Password); err != nil {
		return errBadRequest("password", passwordProblem(err))
	}
	name := c.Params("name")
	if err := s.opts.Store.View(func(tx *store.Tx) error { _, err := tx.User(name); return err }); err != nil {
		return err
	}
	return s.setPassword(c, principalOf(c), name, req.Password)
}
