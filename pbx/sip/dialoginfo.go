package sip

import (
	"encoding/xml"

	"github.com/ccbox/ccbox/pbx/call"
)

// dialogInfoType is the Content-Type of dialog event package bodies (RFC 4235 §4.1).
const dialogInfoType = "application/dialog-info+xml"

// dialogInfoNS is the dialog-info XML namespace (RFC 4235 §4.1).
const dialogInfoNS = "urn:ietf:params:xml:ns:dialog-info"

// lampState is the state a busy lamp shows for an extension: the state of
// the one dialog the dialog-info document describes (RFC 4235 §3.7.1).
type lampState uint8

// Lamp states. The zero value is lampUnknown.
const (
	lampUnknown lampState = iota
	// lampIdle: no dialog (the extension is idle or unreachable).
	lampIdle
	// lampEarly: a dialog in the early state, the extension rings.
	lampEarly
	// lampConfirmed: a confirmed dialog, the extension is in a call.
	lampConfirmed
)

func (s lampState) String() string {
	switch s {
	case lampIdle:
		return "idle"
	case lampEarly:
		return "early"
	case lampConfirmed:
		return "confirmed"
	}
	return "unknown"
}

// active reports whether the lamp shows a dialog.
func (s lampState) active() bool { return s == lampEarly || s == lampConfirmed }

// lampOf maps a device state onto what the lamp shows. Unavailable shows
// idle: desk phones have no "unreachable" lamp in the dialog package, and an
// unregistered extension has no call.
func lampOf(s call.DeviceState) lampState {
	switch s {
	case call.DeviceRinging:
		return lampEarly
	case call.DeviceInUse:
		return lampConfirmed
	}
	return lampIdle
}

// dialogInfoDoc is the dialog-info document (RFC 4235 §4.1). encoding/xml
// escapes the attribute values (the entity holds the realm).
type dialogInfoDoc struct {
	XMLName xml.Name        `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	Version uint32          `xml:"version,attr"`
	State   string          `xml:"state,attr"`
	Entity  string          `xml:"entity,attr"`
	Dialogs []dialogInfoDlg `xml:"dialog"`
}

type dialogInfoDlg struct {
	ID        string `xml:"id,attr"`
	Direction string `xml:"direction,attr,omitempty"`
	State     string `xml:"state"`
}

// dialogView is what one NOTIFY body says about the watched extension.
type dialogView struct {
	version uint32
	entity  string    // sip:ext@realm
	lamp    lampState // what the lamp shows now
	id      string    // the dialog's id while lamp is active, or of the dialog that just ended
	// ended shows the dialog id with state terminated instead of no dialog:
	// sent once right after a call, as Asterisk does, because some phones
	// only switch the lamp off when they see the dialog terminate.
	ended bool
}

// dialogInfo builds the full-state dialog-info document of v (RFC 4235
// §4.1): no dialog element when idle, one early dialog (direction
// recipient: the extension is being called) while ringing, one confirmed
// dialog while in a call.
func dialogInfo(v dialogView) []byte {
	doc := dialogInfoDoc{Version: v.version, State: "full", Entity: v.entity}
	switch {
	case v.lamp == lampEarly:
		doc.Dialogs = []dialogInfoDlg{{ID: v.id, Direction: "recipient", State: "early"}}
	case v.lamp == lampConfirmed:
		doc.Dialogs = []dialogInfoDlg{{ID: v.id, State: "confirmed"}}
	case v.ended && v.id != "":
		doc.Dialogs = []dialogInfoDlg{{ID: v.id, State: "terminated"}}
	}
	b, err := xml.Marshal(doc)
	if err != nil {
		// Strings and integers always marshal; keep the body well-formed anyway.
		b = []byte(`<dialog-info xmlns="` + dialogInfoNS + `" version="0" state="full" entity=""></dialog-info>`)
	}
	return append([]byte(xml.Header), b...)
}
