package sip

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/pbx/call"
)

// TestLampOf: device states onto lamps.
func TestLampOf(t *testing.T) {
	tests := []struct {
		in   call.DeviceState
		want lampState
	}{
		{call.DeviceUnknown, lampIdle},
		{call.DeviceUnavailable, lampIdle},
		{call.DeviceIdle, lampIdle},
		{call.DeviceRinging, lampEarly},
		{call.DeviceInUse, lampConfirmed},
	}
	for _, tc := range tests {
		t.Run(tc.in.String(), func(t *testing.T) {
			if got := lampOf(tc.in); got != tc.want {
				t.Errorf("lampOf(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// parsedDoc mirrors RFC 4235's schema independently of dialogInfoDoc.
type parsedDoc struct {
	XMLName xml.Name
	Version string `xml:"version,attr"`
	State   string `xml:"state,attr"`
	Entity  string `xml:"entity,attr"`
	Dialogs []struct {
		XMLName   xml.Name
		ID        string `xml:"id,attr"`
		Direction string `xml:"direction,attr"`
		State     string `xml:"state"`
	} `xml:"dialog"`
}

// TestDialogInfo: the document has the shape desk phones read, and
// encoding/xml reads it back.
func TestDialogInfo(t *testing.T) {
	tests := []struct {
		name      string
		view      dialogView
		wantState string // the one dialog's state; "" for none
		wantDir   string
	}{
		{"idle", dialogView{version: 0, entity: "sip:1002@box", lamp: lampIdle}, "", ""},
		{"idle after a call", dialogView{version: 3, entity: "sip:1002@box", lamp: lampIdle, ended: true, id: "1002-1"}, "terminated", ""},
		{"ringing", dialogView{version: 1, entity: "sip:1002@box", lamp: lampEarly, id: "1002-1"}, "early", "recipient"},
		{"in a call", dialogView{version: 2, entity: "sip:1002@box", lamp: lampConfirmed, id: "1002-1"}, "confirmed", ""},
		{"escaped entity", dialogView{version: 9, entity: `sip:1002@a&b<"c">`, lamp: lampEarly, id: "x&y"}, "early", "recipient"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := dialogInfo(tc.view)
			if !strings.HasPrefix(string(b), "<?xml") {
				t.Errorf("no XML declaration: %s", b)
			}
			var d parsedDoc
			if err := xml.Unmarshal(b, &d); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if d.XMLName.Space != dialogInfoNS || d.XMLName.Local != "dialog-info" {
				t.Errorf("root %v", d.XMLName)
			}
			if d.State != "full" || d.Entity != tc.view.entity || d.Version != strconv.FormatUint(uint64(tc.view.version), 10) {
				t.Errorf("attributes %+v", d)
			}
			if tc.wantState == "" {
				if len(d.Dialogs) != 0 {
					t.Errorf("dialogs %+v, want none", d.Dialogs)
				}
				return
			}
			if len(d.Dialogs) != 1 {
				t.Fatalf("dialogs %+v, want one", d.Dialogs)
			}
			dl := d.Dialogs[0]
			if dl.XMLName.Space != dialogInfoNS || dl.ID != tc.view.id || dl.State != tc.wantState || dl.Direction != tc.wantDir {
				t.Errorf("dialog %+v, want id %q state %q direction %q", dl, tc.view.id, tc.wantState, tc.wantDir)
			}
		})
	}
}
