package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func parseMsg(t *testing.T, raw string) sip.Message {
	t.Helper()
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const dialogInvite = "INVITE sip:1002@ccbox.test SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinv1\r\n" +
	"Record-Route: <sip:p1.example;lr>\r\n" +
	"Record-Route: <sip:p2.example;lr>\r\n" +
	"From: \"Alice\" <sip:1001@ccbox.test>;tag=caller1\r\n" +
	"To: <sip:1002@ccbox.test>\r\n" +
	"Call-ID: dlg-1@127.0.0.2\r\n" +
	"CSeq: 7 INVITE\r\n" +
	"Contact: <sip:1001@127.0.0.2:5070>\r\n" +
	"Max-Forwards: 70\r\n" +
	"Content-Length: 0\r\n\r\n"

func TestUASDialogRequests(t *testing.T) {
	inv := parseMsg(t, dialogInvite).(*sip.Request)
	inv.SetSource("127.0.0.2:5070")
	contact := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "ccbox", Host: "127.0.0.1", Port: 5060}}
	d := uasDialog(&sender{}, inv, "ours", contact)

	if tag, _ := inv.To().Params.Get("tag"); tag != "" {
		t.Errorf("the INVITE's To got tag %q: its Params are shared with the dialog", tag)
	}
	bye := d.newRequest(sip.BYE)
	d.prepare(bye)
	info := d.newRequest(sip.INFO)
	d.prepare(info)

	if got := bye.Recipient.String(); got != "sip:1001@127.0.0.2:5070" {
		t.Errorf("Request-URI %s, want the caller's Contact", got)
	}
	if tag, _ := bye.From().Params.Get("tag"); tag != "ours" || bye.From().Address.User != "1002" {
		t.Errorf("From %s, want the INVITE's To with our tag", bye.From().Value())
	}
	if tag, _ := bye.To().Params.Get("tag"); tag != "caller1" || bye.To().Address.User != "1001" {
		t.Errorf("To %s, want the INVITE's From", bye.To().Value())
	}
	if bye.CallID().Value() != "dlg-1@127.0.0.2" {
		t.Errorf("Call-ID %s", bye.CallID().Value())
	}
	if bye.CSeq().SeqNo != 8 || bye.CSeq().MethodName != sip.BYE || info.CSeq().SeqNo != 9 {
		t.Errorf("CSeqs %v, %v: want 8 BYE then 9", bye.CSeq(), info.CSeq())
	}
	// The UAS's route set is the Record-Route in order; the request goes
	// to the first (a loose router).
	routes := bye.GetHeaders("Route")
	if len(routes) != 2 || routes[0].Value() != "<sip:p1.example;lr>" || routes[1].Value() != "<sip:p2.example;lr>" {
		t.Errorf("Route %v", routes)
	}
	if bye.Destination() != "p1.example:5060" {
		t.Errorf("destination %q, want the first route", bye.Destination())
	}
	if bye.Contact() != nil {
		t.Error("BYE carries a Contact")
	}
	if info.Contact() != contact {
		t.Errorf("INFO Contact %v, want ours", info.Contact())
	}
}

func TestUACDialogRequests(t *testing.T) {
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.3", Port: 5080})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "1001", Host: "ccbox.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", "ours")
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: "ccbox.test"}})
	callID := sip.CallIDHeader("uac-1")
	inv.AppendHeader(&callID)
	inv.AppendHeader(&sip.CSeqHeader{SeqNo: 2, MethodName: sip.INVITE})
	res := parseMsg(t, "SIP/2.0 200 OK\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n"+
		"Record-Route: <sip:p1.example;lr>\r\n"+
		"Record-Route: <sip:p2.example;lr>\r\n"+
		"From: <sip:1001@ccbox.test>;tag=ours\r\n"+
		"To: <sip:1002@ccbox.test>;tag=callee9\r\n"+
		"Call-ID: uac-1\r\n"+
		"CSeq: 2 INVITE\r\n"+
		"Contact: <sip:1002@10.0.0.9:5099>\r\n"+
		"Content-Length: 0\r\n\r\n").(*sip.Response)
	res.SetSource("127.0.0.3:5080")
	d := uacDialog(&sender{}, inv, res, nil)

	ack := d.newRequest(sip.ACK)
	d.prepare(ack)
	upd := d.newRequest(sip.UPDATE)
	d.prepare(upd)
	if ack.CSeq().SeqNo != 2 || ack.CSeq().MethodName != sip.ACK || upd.CSeq().SeqNo != 3 {
		t.Errorf("CSeqs %v, %v: the ACK takes the INVITE's, then 3", ack.CSeq(), upd.CSeq())
	}
	if got := ack.Recipient.String(); got != "sip:1002@10.0.0.9:5099" {
		t.Errorf("Request-URI %s, want the 2xx's Contact", got)
	}
	if tag, _ := ack.To().Params.Get("tag"); tag != "callee9" {
		t.Errorf("To %s, want the callee's tag", ack.To().Value())
	}
	// The UAC's route set is the 2xx's Record-Route reversed.
	routes := upd.GetHeaders("Route")
	if len(routes) != 2 || routes[0].Value() != "<sip:p2.example;lr>" {
		t.Errorf("Route %v, want p2 first", routes)
	}

	// Without a route set, requests go where the 2xx came from (NAT).
	res2 := parseMsg(t, "SIP/2.0 200 OK\r\nFrom: <sip:1001@ccbox.test>;tag=ours\r\nTo: <sip:1002@ccbox.test>;tag=c\r\n"+
		"Call-ID: uac-1\r\nCSeq: 2 INVITE\r\nContact: <sip:1002@10.0.0.9:5099>\r\nContent-Length: 0\r\n\r\n").(*sip.Response)
	res2.SetSource("127.0.0.3:5080")
	bye := uacDialog(&sender{}, inv, res2, nil).newRequest(sip.BYE)
	uacDialog(&sender{}, inv, res2, nil).prepare(bye)
	if bye.Destination() != "127.0.0.3:5080" || len(bye.GetHeaders("Route")) != 0 {
		t.Errorf("destination %q, routes %v", bye.Destination(), bye.GetHeaders("Route"))
	}
}

func TestHopByHop(t *testing.T) {
	inv := parseMsg(t, dialogInvite).(*sip.Request)
	inv.SetDestination("127.0.0.3:5080")
	c := hopByHop(inv, sip.CANCEL, inv.To())
	if c.Method != sip.CANCEL || c.Recipient.String() != inv.Recipient.String() {
		t.Fatalf("CANCEL %s", c.StartLine())
	}
	if b, _ := c.Via().Params.Get("branch"); b != "z9hG4bKinv1" || len(c.GetHeaders("Via")) != 1 {
		t.Errorf("Via %v, want the INVITE's top Via alone", c.GetHeaders("Via"))
	}
	if c.CSeq().SeqNo != 7 || c.CSeq().MethodName != sip.CANCEL || c.Destination() != "127.0.0.3:5080" {
		t.Errorf("CSeq %v, destination %q", c.CSeq(), c.Destination())
	}
	if tag, _ := c.To().Params.Get("tag"); tag != "" {
		t.Errorf("CANCEL To tag %q, want the INVITE's To", tag)
	}

	res := parseMsg(t, "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinv1\r\n"+
		"From: <sip:1001@ccbox.test>;tag=caller1\r\nTo: <sip:1002@ccbox.test>;tag=busy\r\n"+
		"Call-ID: dlg-1@127.0.0.2\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n").(*sip.Response)
	ack := hopByHop(inv, sip.ACK, res.To())
	if b, _ := ack.Via().Params.Get("branch"); b != "z9hG4bKinv1" || ack.CSeq().MethodName != sip.ACK || ack.CSeq().SeqNo != 7 {
		t.Errorf("ACK Via %v CSeq %v: want the INVITE's branch and number", ack.Via(), ack.CSeq())
	}
	if tag, _ := ack.To().Params.Get("tag"); tag != "busy" || ack.Recipient.String() != inv.Recipient.String() {
		t.Errorf("ACK %s To %s: want the INVITE's Request-URI and the response's To", ack.StartLine(), ack.To().Value())
	}
	if len(ack.GetHeaders("Route")) != 0 {
		t.Errorf("ACK routes %v (the INVITE had none)", ack.GetHeaders("Route"))
	}
}
