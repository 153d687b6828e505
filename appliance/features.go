package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccbox/ccbox/config/provision"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/media/player"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/ccbox/ccbox/webui"
)

// callFeatures gives the call layer the feature-code table and lets a
// phone's feature codes change its own extension: validated like the
// admin's edits, audit-logged as the extension, announced as
// extension.updated.
type callFeatures struct {
	db  *store.DB
	bus *event.Bus
	now func() time.Time
}

func (f callFeatures) FeatureCodes() (call.FeatureCodes, error) {
	var fc store.FeatureCodes
	err := f.db.View(func(tx *store.Tx) (err error) {
		fc, err = tx.FeatureCodes()
		return err
	})
	return call.FeatureCodes{
		ForwardAlwaysOn: fc.ForwardAlwaysOn, ForwardAlwaysOff: fc.ForwardAlwaysOff,
		ForwardBusyOn: fc.ForwardBusyOn, ForwardBusyOff: fc.ForwardBusyOff,
		ForwardNoAnswerOn: fc.ForwardNoAnswerOn, ForwardNoAnswerOff: fc.ForwardNoAnswerOff,
		DNDOn: fc.DNDOn, DNDOff: fc.DNDOff,
		GroupPickup: fc.GroupPickup, DirectedPickup: fc.DirectedPickup,
	}, err
}

// errNoSuchTarget refuses a forward to a short number that is no
// extension (a typo would send every call nowhere).
var errNoSuchTarget = errors.New("forward target is not an extension")

// minOutsideDigits: a forward target this long or longer is an outside
// number (the outbound routes and the forwarding extension's permissions
// decide at call time); shorter ones must be extensions.
const minOutsideDigits = 7

func (f callFeatures) SetForward(ext string, kind call.ForwardKind, to string) error {
	if to != "" {
		if err := provision.CheckForward(ext, to); err != nil {
			return err
		}
	}
	return f.update(ext, "extension.forward_"+kind.String(), func(tx *store.Tx, e *store.Extension) error {
		if to != "" && len(strings.TrimPrefix(to, "+")) < minOutsideDigits {
			if t, err := tx.Extension(to); err != nil || t.Disabled {
				return fmt.Errorf("%w: %s", errNoSuchTarget, to)
			}
		}
		switch kind {
		case call.ForwardAlways:
			e.ForwardAlways = to
		case call.ForwardBusy:
			e.ForwardBusy = to
		case call.ForwardNoAnswer:
			e.ForwardNoAnswer = to
		}
		return nil
	})
}

func (f callFeatures) SetDND(ext string, on bool) error {
	return f.update(ext, "extension.dnd", func(_ *store.Tx, e *store.Extension) error {
		e.DND = on
		return nil
	})
}

func (f callFeatures) PickupGroup(ext string) (string, error) {
	var e store.Extension
	err := f.db.View(func(tx *store.Tx) (err error) {
		e, err = tx.Extension(ext)
		return err
	})
	return e.PickupGroup, err
}

// update changes one extension from its own phone.
func (f callFeatures) update(number, action string, change func(*store.Tx, *store.Extension) error) error {
	var e store.Extension
	err := f.db.Update(func(tx *store.Tx) (err error) {
		e, err = tx.UpdateExtension(number, func(e *store.Extension) error { return change(tx, e) })
		if err != nil {
			return err
		}
		return tx.AddAudit(store.AuditEntry{Time: f.now(), User: "phone:" + number, Action: action, Object: "extension:" + number})
	})
	if err != nil {
		return err
	}
	if f.bus != nil {
		f.bus.Publish("extension.updated", "extension:"+number, webui.ExtensionEvent(e))
	}
	return nil
}

// sounds plays the call layer's sounds with media/player.
type sounds struct{ p *player.Player }

func (s sounds) Play(ep *rtp.Endpoint, what call.Sound, loop bool) call.Playback {
	var snd *player.Sound
	switch what {
	case call.SoundHold:
		snd = player.HoldMusic()
	case call.SoundRingback:
		snd = player.Ringback()
	case call.SoundBeep:
		snd = player.Beep()
	default:
		snd = player.Error()
	}
	return s.p.Play(ep, snd, loop)
}
