package sip

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
)

// rawPeer is a UDP socket standing in for a phone the box dials, to see
// exactly what the box sends and when.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	box  *net.UDPAddr // where the box's messages came from
	// sipPort is the box's listening socket, which everything it sends
	// must leave from: a phone's NAT mapping is for it.
	sipPort netip.AddrPort
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(calleeIP)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawPeer{t: t, conn: conn}
}

// next reads the box's next message within wait; nil when none came.
func (p *rawPeer) next(wait time.Duration) sip.Message {
	p.t.Helper()
	buf := make([]byte, 65535)
	if err := p.conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		p.t.Fatal(err)
	}
	n, from, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		return nil
	}
	p.box = from
	if from.AddrPort() != p.sipPort {
		p.t.Errorf("a message from %v, want the box's listening socket %v", from, p.sipPort)
	}
	m, err := sip.ParseMessage(buf[:n])
	if err != nil {
		p.t.Fatalf("unparsable message from the box: %v\n%s", err, buf[:n])
	}
	return m
}

func (p *rawPeer) send(m sip.Message) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDP([]byte(m.String()), p.box); err != nil {
		p.t.Fatal(err)
	}
}

// dialRaw has the box dial p as extension 1002 over UDP and returns the
// leg with the INVITE p received.
func dialRaw(t *testing.T, ce *callEnv, p *rawPeer) (*outLeg, *sip.Request) {
	t.Helper()
	addr := p.conn.LocalAddr().(*net.UDPAddr)
	p.sipPort = ce.calls.srv.listenAddr(TransportUDP)
	l, err := ce.calls.dial(outSpec{
		dev: call.Device{Kind: call.DeviceSIP, ID: "1002"}, ext: "1002",
		binding: Binding{Source: addr.String(), Transport: TransportUDP},
		uri:     sip.Uri{Scheme: "sip", User: "1002", Host: calleeIP, Port: addr.Port},
		from:    call.Party{Number: "1001"}, to: call.Party{Number: "1002"},
		fromHost: "ccbox.test", toHost: "ccbox.test", codecs: []codec.Codec{codec.PCMU},
	})
	if err != nil {
		t.Fatal(err)
	}
	inv, ok := p.next(2 * time.Second).(*sip.Request)
	if !ok || inv.Method != sip.INVITE {
		t.Fatalf("first message %v, want the INVITE", inv)
	}
	return l, inv
}

func branchOf(t *testing.T, r *sip.Request) string {
	t.Helper()
	if r.Via() == nil {
		t.Fatalf("%s without Via", r.Method)
	}
	b, _ := r.Via().Params.Get("branch")
	return b
}

// An INVITE over UDP has no client transaction: the leg repeats it until
// a response, and acknowledges a failure itself with the INVITE's branch.
func TestUDPInviteRepeatedThenFailureAcked(t *testing.T) {
	ce := startCalls(t, callOpts{})
	p := newRawPeer(t)
	l, first := dialRaw(t, ce, p)
	sentAt := time.Now()
	again, ok := p.next(2 * time.Second).(*sip.Request)
	if !ok || again.Method != sip.INVITE {
		t.Fatalf("no INVITE repeated while unanswered (got %v)", again)
	}
	if gap := time.Since(sentAt); gap < 300*time.Millisecond {
		t.Errorf("repeated after %v, want about T1 (500 ms)", gap)
	}
	if branchOf(t, again) != branchOf(t, first) || again.CSeq().SeqNo != first.CSeq().SeqNo {
		t.Errorf("the repeat is another request: branch %s CSeq %v, first %s %v",
			branchOf(t, again), again.CSeq(), branchOf(t, first), first.CSeq())
	}

	busy := sip.NewResponseFromRequest(first, sip.StatusBusyHere, "Busy Here", nil)
	busy.To().Params.Add("tag", "busy1")
	p.send(busy)
	ack, ok := p.next(2 * time.Second).(*sip.Request)
	if !ok || ack.Method != sip.ACK {
		t.Fatalf("after 486: %v, want the ACK", ack)
	}
	if branchOf(t, ack) != branchOf(t, first) || ack.CSeq().SeqNo != first.CSeq().SeqNo || ack.CSeq().MethodName != sip.ACK {
		t.Errorf("ACK branch %s CSeq %v: want the INVITE's branch and number", branchOf(t, ack), ack.CSeq())
	}
	if tag, _ := ack.To().Params.Get("tag"); tag != "busy1" {
		t.Errorf("ACK To %s, want the 486's tag", ack.To().Value())
	}
	select {
	case <-l.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the leg did not end on 486")
	}
	if l.Cause() != call.CauseBusy || l.status.Load() != sip.StatusBusyHere {
		t.Errorf("cause %v status %d, want busy, 486", l.Cause(), l.status.Load())
	}
	// Answered: no more repeats.
	if m := p.next(1200 * time.Millisecond); m != nil {
		t.Errorf("after the failure the box sent %s", m)
	}
	// The 486 again, as if the ACK were lost: the leg has ended, and the
	// same ACK answers it (Timer D).
	p.send(busy)
	again2, ok := p.next(2 * time.Second).(*sip.Request)
	if !ok || again2.Method != sip.ACK {
		t.Fatalf("486 repeated after the leg ended: %v, want the ACK again", again2)
	}
	if branchOf(t, again2) != branchOf(t, first) || again2.CSeq().SeqNo != first.CSeq().SeqNo || again2.To().Value() != ack.To().Value() {
		t.Errorf("second ACK branch %s CSeq %v To %s: want the first ACK's", branchOf(t, again2), again2.CSeq(), again2.To().Value())
	}
	if n := len(again2.GetHeaders("Via")); n != 1 {
		t.Errorf("second ACK has %d Via headers, want 1", n)
	}
}

// An answered INVITE over UDP is acknowledged, and acknowledged again when
// the 2xx comes again (its ACK was lost); the dialog's BYE follows.
func TestUDPInviteAnsweredAckRepeated(t *testing.T) {
	ce := startCalls(t, callOpts{})
	p := newRawPeer(t)
	l, inv := dialRaw(t, ce, p)
	ok200 := sip.NewResponseFromRequest(inv, sip.StatusOK, "OK", nil)
	ok200.To().Params.Add("tag", "ans1")
	ok200.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: calleeIP,
		Port: p.conn.LocalAddr().(*net.UDPAddr).Port}})
	p.send(ok200)
	for i := range 2 {
		ack, ok := p.next(2 * time.Second).(*sip.Request)
		if !ok || ack.Method != sip.ACK {
			t.Fatalf("2xx #%d answered with %v, want an ACK", i+1, ack)
		}
		if ack.CSeq().SeqNo != inv.CSeq().SeqNo || branchOf(t, ack) == branchOf(t, inv) {
			t.Errorf("ACK CSeq %v branch %s: want the INVITE's number and a branch of its own", ack.CSeq(), branchOf(t, ack))
		}
		if tag, _ := ack.To().Params.Get("tag"); tag != "ans1" {
			t.Errorf("ACK To %s", ack.To().Value())
		}
		if i == 0 {
			p.send(ok200) // as if the ACK were lost
		}
	}
	go l.Hangup(call.CauseNormal)
	bye, ok := p.next(2 * time.Second).(*sip.Request)
	if !ok || bye.Method != sip.BYE || bye.CSeq().SeqNo <= inv.CSeq().SeqNo {
		t.Fatalf("hang-up sent %v, want a BYE with a higher CSeq", bye)
	}
	p.send(sip.NewResponseFromRequest(bye, sip.StatusOK, "OK", nil))
	select {
	case <-l.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the leg did not end")
	}
}
