package provision

import (
	"fmt"

	"github.com/ccbox/ccbox/config/store"
)

// Export reads the configuration from db as a Document. Passwords appear only
// as their bcrypt hashes and extension secrets as their HA1s (valid only
// under this box's realm); applying the export changes nothing.
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
		exts, err := tx.Extensions()
		if err != nil {
			return err
		}
		for _, e := range exts {
			if d.Extensions == nil {
				d.Extensions = make(map[string]Extension, len(exts))
			}
			d.Extensions[e.Number] = extensionFromStore(e)
		}
		// Always written, so the table is in every export.
		fc, err := tx.FeatureCodes()
		if err != nil {
			return err
		}
		d.FeatureCodes = make(map[string]string)
		for _, r := range fc.Table() {
			d.FeatureCodes[r.Key] = r.Code
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
		AgentNumber:  u.AgentNumber,
		PasswordHash: u.PasswordHash,
		Disabled:     u.Disabled,
		Language:     u.Language,
	}
}

// extensionFromStore is the exported form: the secret only as its HA1s.
func extensionFromStore(e store.Extension) Extension {
	return Extension{
		Name:            e.Name,
		User:            e.User,
		SecretHA1MD5:    e.HA1MD5,
		SecretHA1SHA256: e.HA1SHA256,
		MaxCalls:        e.MaxCalls,
		Codecs:          e.Codecs,
		Disabled:        e.Disabled,
		DTMFMode:        e.DTMFMode,
		DND:             e.DND,
		ForwardAlways:   e.ForwardAlways,
		ForwardBusy:     e.ForwardBusy,
		ForwardNoAnswer: e.ForwardNoAnswer,
		NoAnswerSeconds: e.NoAnswerSeconds,
		PickupGroup:     e.PickupGroup,
		RingOn:          e.RingOn,
	}
}
