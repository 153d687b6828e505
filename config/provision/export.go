package provision

import (
	"fmt"

	"github.com/ccbox/ccbox/config/store"
)

// Export reads the configuration from db as a Document. Passwords appear only
// as their bcrypt hashes; applying the export changes nothing.
func Export(db *store.DB) (Document, error) {
	d := Document{Version: Version}
	err := db.View(func(tx *store.Tx) error {
		sys, err := tx.System()
		if err != nil {
			return err
		}
		d.System = &System{Title: sys.Title}
		users, err := tx.Users()
		if err != nil {
			return err
		}
		for _, u := range users {
			if d.Users == nil {
				d.Users = make(map[string]User, len(users))
			}
			d.Users[u.Name] = fromStore(u)
		}
		return nil
	})
	if err != nil {
		return Document{}, fmt.Errorf("provision: export: %w", err)
	}
	return d, nil
}

func fromStore(u store.User) User {
	return User{
		DisplayName:  u.DisplayName,
		Role:         string(u.Role),
		PasswordHash: u.PasswordHash,
		Disabled:     u.Disabled,
		Language:     u.Language,
	}
}
