package provision

import (
	"fmt"

	"github.com/ccbox/ccbox/config/store"
)

// Export reads the configuration from db as a Document. Passwords appear only
// as their bcrypt hashes and extension secrets as their HA1s (valid only
// under this box's realm); trunk secrets do not appear at all (applying a
// trunk without secret keeps the stored one). Applying the export changes
// nothing. The region table is not part of it (it is large; see
// `appliance regions import`).
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
		return exportRouting(tx, &d)
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
		OutboundNumber:  e.OutboundNumber,
	}
}

// exportRouting adds the trunk and routing sections; the outbound policy
// is always written, so every export documents the guard in force.
func exportRouting(tx *store.Tx, d *Document) error {
	s, err := readRouting(tx)
	if err != nil {
		return err
	}
	for name, t := range s.trunks {
		if d.Trunks == nil {
			d.Trunks = map[string]Trunk{}
		}
		d.Trunks[name] = trunkFromStore(t)
	}
	for n, did := range s.dids {
		if d.DIDs == nil {
			d.DIDs = map[string]DID{}
		}
		d.DIDs[n] = didFromStore(did)
	}
	if s.inbound != nil {
		d.InboundDefault = &Destination{Type: string(s.inbound.Type), Target: s.inbound.Target}
	}
	for name, r := range s.routes {
		if d.OutboundRoutes == nil {
			d.OutboundRoutes = map[string]OutboundRoute{}
		}
		d.OutboundRoutes[name] = routeFromStore(r)
	}
	for name, p := range s.pools {
		if d.CallerPools == nil {
			d.CallerPools = map[string]CallerPool{}
		}
		d.CallerPools[name] = poolFromStore(p)
	}
	bl, err := tx.Blacklist() // in its sorted order
	if err != nil {
		return err
	}
	for _, e := range bl {
		d.Blacklist = append(d.Blacklist, blacklistFromStore(e))
	}
	pol := policyFromStore(s.policy)
	d.OutboundPolicy = &pol
	return nil
}
