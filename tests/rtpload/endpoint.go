package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// SIP timer T1 (RFC 3261 §17.1.1.1): the first retransmission interval;
// it doubles up to t2.
const (
	t1 = 500 * time.Millisecond
	t2 = 4 * time.Second
)

// errTimeout is returned by transact when no final response came in time.
var errTimeout = errors.New("no final response in time")

// endpoint is one UDP SIP socket talking to one server: it runs client
// transactions (retransmitting until the answer) and hands every request it
// receives to its handler.
type endpoint struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	addr   string // host:port, for Via and Contact

	// onRequest handles a request received from the server; it runs on the
	// reader goroutine and must not block.
	onRequest func(e *endpoint, m *message, from *net.UDPAddr)

	mu      sync.Mutex
	pending map[string]chan *message // branch → responses
}

// newEndpoint binds a UDP socket on ip (port chosen by the kernel).
func newEndpoint(ip string, server *net.UDPAddr, onRequest func(*endpoint, *message, *net.UDPAddr)) (*endpoint, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		return nil, err
	}
	return &endpoint{conn: conn, server: server, addr: conn.LocalAddr().String(),
		onRequest: onRequest, pending: map[string]chan *message{}}, nil
}

// run reads until the socket is closed.
func (e *endpoint) run() {
	buf := make([]byte, 8192)
	for {
		n, from, err := e.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error of an earlier send; nothing to do
		}
		m, err := parseMessage(buf[:n])
		if err != nil {
			continue // not for us: a UDP endpoint drops what it cannot parse
		}
		if m.method != "" {
			if e.onRequest != nil {
				e.onRequest(e, m, from)
			}
			continue
		}
		e.mu.Lock()
		ch := e.pending[m.branch()]
		e.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default: // a retransmitted response the transaction has not read yet
			}
		}
	}
}

func (e *endpoint) close() { e.conn.Close() }

// send writes one datagram to to (the server when nil).
func (e *endpoint) send(b []byte, to *net.UDPAddr) error {
	if to == nil {
		to = e.server
	}
	_, err := e.conn.WriteToUDP(b, to)
	return err
}

// transact sends r and returns its final response, retransmitting on T1
// (an INVITE only until a provisional response, RFC 3261 §17.1.1.2).
func (e *endpoint) transact(ctx context.Context, r request) (*message, error) {
	ch := make(chan *message, 8)
	e.mu.Lock()
	e.pending[r.branch] = ch
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.pending, r.branch)
		e.mu.Unlock()
	}()
	b := r.bytes()
	if err := e.send(b, nil); err != nil {
		return nil, err
	}
	interval := t1
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	for {
		select {
		case m := <-ch:
			if m.status >= 200 {
				return m, nil
			}
			if r.method == "INVITE" {
				retrans.Stop()
			}
		case <-retrans.C:
			if err := e.send(b, nil); err != nil {
				return nil, err
			}
			interval = min(2*interval, t2)
			retrans.Reset(interval)
		case <-ctx.Done():
			return nil, fmt.Errorf("%s %s: %w", r.method, r.uri, errTimeout)
		}
	}
}
