package sip

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// dialog is a call leg's dialog as the leg keeps it for the call's life
// (RFC 3261 §12): its identifiers, route set, remote target and our CSeq,
// and where its requests go. It is built from the dialog-forming INVITE
// and 2xx and keeps none of their messages: the library's dialog sessions
// hold the INVITE, a clone of it, the 2xx and an ACK template for as long
// as a call lasts, which was the larger part of a call's memory.
type dialog struct {
	snd        *sender
	callID     sip.CallIDHeader
	local      sip.FromHeader     // our URI and tag: the From of our requests
	remote     sip.ToHeader       // the peer's URI and tag
	target     sip.Uri            // the peer's Contact: our Request-URI
	routes     []string           // the route set, in the order of our Route headers
	dest       string             // host:port of the peer when there is no route set
	transport  string             // the INVITE's transport
	contact    *sip.ContactHeader // ours, in requests that may refresh the target
	inviteCSeq uint32             // the CSeq of the dialog's INVITE (its ACK's)
	cseq       atomic.Uint32      // the CSeq of our last request
}

// uasDialog is the dialog of an INVITE we answer, tag being ours.
// Requests go to where the INVITE came from: phones sit behind NAT, and
// the Contact they write is often unreachable.
func uasDialog(snd *sender, inv *sip.Request, tag string, contact *sip.ContactHeader) *dialog {
	local := inv.To().AsFrom()
	local.Params = local.Params.Clone() // the INVITE's own To stays untagged
	local.Params.Add("tag", tag)
	d := &dialog{
		snd:        snd,
		callID:     *inv.CallID(),
		local:      local,
		remote:     inv.From().AsTo(),
		target:     inv.Contact().Address,
		dest:       inv.Source(),
		transport:  inv.Transport(),
		contact:    contact,
		inviteCSeq: inv.CSeq().SeqNo,
	}
	// The UAS's route set is the INVITE's Record-Route, in order (§12.1.1).
	for _, h := range inv.GetHeaders("Record-Route") {
		d.routes = append(d.routes, h.Value())
	}
	d.cseq.Store(inv.CSeq().SeqNo)
	return d
}

// uacDialog is the dialog our INVITE inv made with the 2xx res.
func uacDialog(snd *sender, inv *sip.Request, res *sip.Response, contact *sip.ContactHeader) *dialog {
	d := &dialog{
		snd:        snd,
		callID:     *inv.CallID(),
		local:      *inv.From(),
		remote:     *res.To(),
		target:     inv.Recipient,
		dest:       res.Source(),
		transport:  inv.Transport(),
		contact:    contact,
		inviteCSeq: inv.CSeq().SeqNo,
	}
	if c := res.Contact(); c != nil {
		d.target = c.Address
	}
	// The UAC's route set is the 2xx's Record-Route, reversed (§12.1.2).
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		d.routes = append(d.routes, rr[i].Value())
	}
	d.cseq.Store(inv.CSeq().SeqNo)
	return d
}

// prepare makes req a request of the dialog (§12.2.1.1): its From, To,
// Call-ID, the next CSeq (an ACK takes the INVITE's), the route set, our
// Contact, and the destination and transport.
func (d *dialog) prepare(req *sip.Request) {
	seq := d.inviteCSeq
	if req.Method != sip.ACK {
		seq = d.cseq.Add(1)
	}
	callID := d.callID
	maxFwd := sip.MaxForwardsHeader(70)
	req.PrependHeader(sip.HeaderClone(&d.local), sip.HeaderClone(&d.remote), &callID,
		&sip.CSeqHeader{SeqNo: seq, MethodName: req.Method}, &maxFwd)
	for _, r := range d.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.SetDestination(d.dest)
	if rt := req.Route(); rt != nil {
		if !rt.Address.UriParams.Has("lr") {
			// A strict router takes the request with itself as the
			// Request-URI (§12.2.1.1).
			req.Recipient = rt.Address
		}
		port := rt.Address.Port
		if port == 0 {
			port = 5060 // RFC 3263 §4.2 without SRV: the transport's default
			if strings.EqualFold(d.transport, "TLS") {
				port = 5061
			}
		}
		req.SetDestination(net.JoinHostPort(rt.Address.Host, strconv.Itoa(port)))
	}
	if req.Contact() == nil && req.Method != sip.ACK && req.Method != sip.BYE {
		req.AppendHeader(d.contact)
	}
	req.SetTransport(d.transport)
	if req.Body() == nil {
		req.SetBody(nil) // Content-Length: 0
	}
}

// newRequest is a request of method to the peer's Contact.
func (d *dialog) newRequest(method sip.RequestMethod) *sip.Request {
	return sip.NewRequest(method, *d.target.Clone())
}

// do sends req in the dialog and waits for its final response.
func (d *dialog) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	d.prepare(req)
	return d.snd.transact(ctx, req)
}

// sender sends the calls' requests on one transport through client;
// over UDP from the listening socket (laddr): a phone's NAT mapping, and
// a carrier's idea of where we are, are for that port.
type sender struct {
	client *sipgo.Client
	laddr  sip.Addr // UDP: the listening socket's address; zero otherwise
}

func (s *sender) from(req *sip.Request) {
	if s.laddr.IP != nil {
		s.laddr.Copy(&req.Laddr)
	}
}

// transaction sends req in a client transaction.
func (s *sender) transaction(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	s.from(req)
	return s.client.TransactionRequest(ctx, req, addVia)
}

// transact sends req in a client transaction and waits for its final
// response.
func (s *sender) transact(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := s.transaction(ctx, req)
	if err != nil {
		return nil, err
	}
	return finalResponse(ctx, tx)
}

// write sends req straight to the transport (an ACK; an INVITE over UDP).
func (s *sender) write(req *sip.Request) error {
	s.from(req)
	return s.client.WriteRequest(req, addVia)
}

// finalResponse waits for the final response of tx and ends it;
// errNoResponse when none came before ctx ended.
func finalResponse(ctx context.Context, tx sip.ClientTransaction) (*sip.Response, error) {
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errNoResponse
		case <-ctx.Done():
			return nil, errNoResponse
		}
	}
}

// ack sends the ACK of the dialog's 2xx. It goes straight to the
// transport, not through a transaction: a retransmitted 2xx means it was
// lost, and it is sent again (strayResponse).
func (d *dialog) ack() error {
	req := d.newRequest(sip.ACK)
	d.prepare(req)
	return d.snd.write(req)
}

// bye ends the dialog with BYE and waits for the peer's answer.
func (d *dialog) bye(ctx context.Context) error {
	res, err := d.do(ctx, d.newRequest(sip.BYE))
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return &statusError{code: res.StatusCode}
	}
	return nil
}

// statusError is a final response that was not a success.
type statusError struct{ code int }

func (e *statusError) Error() string { return "sip: answered " + strconv.Itoa(e.code) }

// addVia gives a request we send its Via (a new branch) unless it has one,
// and nothing else: the dialog already wrote its other headers.
func addVia(c *sipgo.Client, req *sip.Request) error {
	if req.Via() == nil {
		return sipgo.ClientRequestAddVia(c, req)
	}
	return nil
}
