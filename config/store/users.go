package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Role is what a user may do in the web UI and API.
type Role string

// The roles, from most to least privileged.
const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleSupervisor, RoleAgent:
		return true
	}
	return false
}

// User is a person who logs in to the web UI.
type User struct {
	Name            string    `json:"name"`
	DisplayName     string    `json:"display_name,omitempty"`
	Role            Role      `json:"role"`
	AgentNumber     string    `json:"agent_number,omitempty"` // 工号: digits; unique in the numbering plan (checked by provision)
	PasswordHash    string    `json:"password_hash"`
	Disabled        bool      `json:"disabled,omitempty"`
	Language        string    `json:"language,omitempty"`
	Created         time.Time `json:"created"`
	Updated         time.Time `json:"updated"`
	PasswordChanged time.Time `json:"password_changed"`
}

// User returns the user called name, or ErrNotFound.
func (tx *Tx) User(name string) (User, error) {
	var u User
	if name == "" {
		return u, ErrNotFound
	}
	err := tx.getJSON(userKey(name), &u)
	return u, err
}

// Users returns every user, sorted by name.
func (tx *Tx) Users() ([]User, error) {
	var users []User
	err := tx.scan(prefixUser, func(key, val []byte) error {
		var u User
		if err := json.Unmarshal(val, &u); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		users = append(users, u)
		return nil
	})
	return users, err
}

// PutUser creates or replaces the user u.Name. Created is set to now when zero;
// Updated is always set to now.
func (tx *Tx) PutUser(u User) error {
	if u.Name == "" {
		return fmt.Errorf("put user: %w: empty name", ErrInvalid)
	}
	now := tx.db.now()
	if u.Created.IsZero() {
		u.Created = now
	}
	u.Updated = now
	return tx.putJSON(userKey(u.Name), u, 0)
}

// DeleteUser removes the user and, with it, the user's sessions and API
// tokens: nothing may keep acting for a user who no longer exists. The
// user's extensions stay, without an owner.
// It returns ErrNotFound if there is no such user.
func (tx *Tx) DeleteUser(name string) error {
	if name == "" {
		return ErrNotFound
	}
	ok, err := tx.exists(userKey(name))
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	if err := tx.DeleteUserSessions(name); err != nil {
		return err
	}
	tokens, err := tx.Tokens(name)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if err := tx.delete(tokenKey(t.ID)); err != nil {
			return err
		}
	}
	if err := tx.clearExtensionOwner(name); err != nil {
		return err
	}
	return tx.delete(userKey(name))
}

// CountUsers returns the number of users (first start creates an admin when it is 0).
func (tx *Tx) CountUsers() (int, error) { return tx.count(prefixUser) }
