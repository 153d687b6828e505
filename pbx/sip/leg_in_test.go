package sip

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const rawOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// rawCaller is extension 1001 on a bare UDP socket, to send the box
// exactly the INVITEs and ACKs a test needs.
type rawCaller struct {
	*rawPeer
	callID, tag string
}

func newRawCaller(t *testing.T, fe *featEnv) *rawCaller {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(callerIP)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	listen := fe.srv.listenAddr(TransportUDP)
	p := &rawPeer{t: t, conn: conn, box: net.UDPAddrFromAddrPort(listen), sipPort: listen}
	return &rawCaller{rawPeer: p, callID: "raw-" + sip.GenerateTagN(10), tag: sip.GenerateTagN(8)}
}

// invite is the caller's INVITE to 1002 with CSeq seq on branch, with
// credentials when auth is set.
func (c *rawCaller) invite(seq uint32, branch, auth string) *sip.Request {
	local := c.conn.LocalAddr().(*net.UDPAddr)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "1002", Host: testRealm})
	req.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP "+local.String()+";branch="+branch+";rport"))
	req.AppendHeader(sip.NewHeader("From", "<sip:1001@"+testRealm+">;tag="+c.tag))
	req.AppendHeader(sip.NewHeader("To", "<sip:1002@"+testRealm+">"))
	req.AppendHeader(sip.NewHeader("Call-ID", c.callID))
	req.AppendHeader(sip.NewHeader("CSeq", strconv.Itoa(int(seq))+" INVITE"))
	req.AppendHeader(sip.NewHeader("Contact", "<sip:1001@"+local.String()+">"))
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	if auth != "" {
		req.AppendHeader(sip.NewHeader("Authorization", auth))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(rawOffer))
	return req
}

// ack is the caller's ACK to res, an answer to inv.
func (c *rawCaller) ack(inv *sip.Request, res *sip.Response, branch string) *sip.Request {
	local := c.conn.LocalAddr().(*net.UDPAddr)
	req := sip.NewRequest(sip.ACK, inv.Recipient)
	req.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP "+local.String()+";branch="+branch))
	req.AppendHeader(sip.NewHeader("From", "<sip:1001@"+testRealm+">;tag="+c.tag))
	req.AppendHeader(sip.HeaderClone(res.To()))
	req.AppendHeader(sip.NewHeader("Call-ID", c.callID))
	req.AppendHeader(sip.NewHeader("CSeq", strconv.Itoa(int(inv.CSeq().SeqNo))+" ACK"))
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	req.SetBody(nil)
	return req
}

// final reads the box's messages until a final response (provisional ones
// skipped) and returns it, with when it came.
func (c *rawCaller) final(wait time.Duration) (*sip.Response, time.Time) {
	c.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		m := c.next(time.Until(deadline))
		if res, ok := m.(*sip.Response); ok && !res.IsProvisional() {
			return res, time.Now()
		}
	}
	return nil, time.Time{}
}

// The 2xx to an INVITE is repeated until its ACK (RFC 3261 §13.3.1.4),
// outside the INVITE's transaction, and a late copy of the INVITE is not
// taken for a new call.
func TestInvite2xxRepeatedUntilAck(t *testing.T) {
	fe := startFeatures(t, nil)
	c := newRawCaller(t, fe)

	first := c.invite(1, "z9hG4bKraw1", "")
	c.send(first)
	chal, _ := c.final(2 * time.Second)
	if chal == nil || chal.StatusCode != sip.StatusUnauthorized {
		t.Fatalf("first INVITE answered %v, want 401", chal)
	}
	c.send(c.ack(first, chal, "z9hG4bKraw1"))
	ch, err := digest.ParseChallenge(chal.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(ch, digest.Options{Method: "INVITE", URI: "sip:1002@" + testRealm,
		Username: "1001", Password: testPasswords["1001"], Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	inv := c.invite(2, "z9hG4bKraw2", cred.String())
	c.send(inv)
	ic := fe.nextIncoming(t)
	answered := make(chan error, 1)
	go func() { answered <- ic.in.Answer(context.Background()) }()

	ok, at := c.final(2 * time.Second)
	if ok == nil || ok.StatusCode != sip.StatusOK {
		t.Fatalf("answered INVITE: %v, want 200", ok)
	}
	tag, _ := ok.To().Params.Get("tag")
	if tag == "" {
		t.Fatal("200 without a To tag")
	}
	again, againAt := c.final(2 * time.Second)
	if again == nil || again.StatusCode != sip.StatusOK {
		t.Fatalf("no 200 repeated while unacknowledged (got %v)", again)
	}
	if tag2, _ := again.To().Params.Get("tag"); tag2 != tag || againAt.Sub(at) < 300*time.Millisecond {
		t.Errorf("repeat after %v with tag %q, want about T1 with %q", againAt.Sub(at), tag2, tag)
	}

	// A late copy of the INVITE: its transaction is over, but it is the
	// same call.
	c.send(inv)
	select {
	case dup := <-fe.mgr.ins:
		dup.in.Hangup(call.CauseNormal)
		t.Fatal("a copy of the answered INVITE became a new call")
	case <-time.After(300 * time.Millisecond):
	}

	c.send(c.ack(inv, ok, "z9hG4bKraw3"))
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("Answer: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Answer did not return after the ACK")
	}
	// Acknowledged: the 200 stops (a copy in flight may still come).
	quiet := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(quiet) {
		if m := c.next(time.Until(quiet)); m != nil && time.Until(quiet) < time.Second {
			t.Errorf("after the ACK the box sent %v", m)
		}
	}

	go ic.in.Hangup(call.CauseNormal)
	bye, isReq := c.next(2 * time.Second).(*sip.Request)
	if !isReq || bye.Method != sip.BYE {
		t.Fatalf("hang-up sent %v, want BYE", bye)
	}
	if ft, _ := bye.From().Params.Get("tag"); ft != tag {
		t.Errorf("BYE From tag %q, want ours %q", ft, tag)
	}
	c.send(sip.NewResponseFromRequest(bye, sip.StatusOK, "OK", nil))
	select {
	case <-ic.in.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the leg did not end")
	}
}
