package sip

import (
	"testing"

	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
)

// FuzzParseDialogInfo: the test phone's dialog-info parser (it reads
// NOTIFY bodies off the network) never panics, and what it accepts obeys
// RFC 4235's constraints.
func FuzzParseDialogInfo(f *testing.F) {
	f.Add(dialogInfo(dialogView{entity: "sip:1002@box", lamp: lampIdle}))
	f.Add(dialogInfo(dialogView{version: 7, entity: "sip:1002@box", lamp: lampEarly, id: "1002-1"}))
	f.Add(dialogInfo(dialogView{version: 8, entity: "sip:1002@box", lamp: lampIdle, ended: true, id: "1002-1"}))
	f.Add([]byte(`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="x" state="full" entity="e"/>`))
	f.Add([]byte(`<dialog-info xmlns="other" version="1" state="full" entity="e"><dialog id="a"><state>early</state></dialog></dialog-info>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><dialog-info>&a;&a;</dialog-info>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := siptest.ParseDialogInfo(b)
		if err != nil {
			return
		}
		if d.State != "full" && d.State != "partial" || d.Entity == "" {
			t.Fatalf("accepted %+v", d)
		}
		for _, dl := range d.Dialogs {
			if dl.ID == "" {
				t.Fatalf("accepted a dialog without id: %+v", d)
			}
		}
	})
}

// FuzzDialogInfoRoundTrip: whatever the entity and dialog id hold, the
// document we send is well-formed and says what the view says.
func FuzzDialogInfoRoundTrip(f *testing.F) {
	f.Add(uint32(0), "sip:1002@box", "1002-1", uint8(lampEarly), false)
	f.Add(uint32(5), `sip:a&b@<"x">`, "]]>", uint8(lampConfirmed), false)
	f.Add(uint32(9), "sip:1002@box", "1002-2", uint8(lampIdle), true)
	f.Fuzz(func(t *testing.T, version uint32, entity, id string, lamp uint8, ended bool) {
		if entity == "" || id == "" {
			return
		}
		v := dialogView{version: version, entity: entity, id: id, lamp: lampState(lamp % 4), ended: ended}
		d, err := siptest.ParseDialogInfo(dialogInfo(v))
		if err != nil {
			t.Fatalf("%+v: %v", v, err)
		}
		want := ""
		switch {
		case v.lamp == lampEarly:
			want = "early"
		case v.lamp == lampConfirmed:
			want = "confirmed"
		case ended:
			want = "terminated"
		}
		got := ""
		if len(d.Dialogs) == 1 {
			got = d.Dialogs[0].State
		}
		if d.Version != version || got != want || len(d.Dialogs) > 1 {
			t.Fatalf("%+v read back as %+v", v, d)
		}
	})
}

// FuzzParseSubscribe: any SUBSCRIBE sipgo accepts is refused by
// parseSubscribe or yields an id safe to echo in NOTIFYs.
func FuzzParseSubscribe(f *testing.F) {
	base := "SUBSCRIBE sip:1002@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1002@127.0.0.1>\r\nCall-ID: a\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:1001@127.0.0.9>\r\n"
	f.Add(base + "Event: dialog\r\nAccept: application/dialog-info+xml\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n")
	f.Add(base + "Event: dialog;id=7;sla\r\nAccept: application/pidf+xml, */*;q=0.1\r\nContent-Length: 0\r\n\r\n")
	f.Add(base + "Event: presence\r\nExpires: 99999999999\r\nContent-Length: 0\r\n\r\n")
	f.Add(base + "Event: dialog;id=a\r\n b\r\nAccept:\r\nContent-Length: 0\r\n\r\n")
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, raw string) {
		msg, err := parser.ParseSIP([]byte(raw))
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		r, err := parseSubscribe(req)
		if err != nil {
			code, _, _ := subscribeStatus(err)
			if code < 400 || code > 499 {
				t.Fatalf("refusal mapped to %d", code)
			}
			return
		}
		if !validToken(r.eventID) {
			t.Fatalf("unsafe event id %q accepted", r.eventID)
		}
		if r.expires < 0 {
			t.Fatalf("negative expiry %v", r.expires)
		}
	})
}
