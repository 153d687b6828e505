package webui

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

type wsMessage struct {
	Type    string          `json:"type"`
	Seq     uint64          `json:"seq"`
	Prev    uint64          `json:"prev"`
	Subject string          `json:"subject"`
	Data    json.RawMessage `json:"data"`
}

func serve(t *testing.T, ts *testServer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return ln.Addr().String()
}

func dialWS(t *testing.T, addr string, s session, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if s.cookie != "" {
		h.Set("Cookie", sessionCookie+"="+s.cookie)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("ws://"+addr+"/api/v1/ws", h)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func readWS(t *testing.T, c *websocket.Conn) wsMessage {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m wsMessage
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read websocket: %v", err)
	}
	return m
}

func TestWebSocketSnapshotEventsAndVisibility(t *testing.T) {
	ts := newTestServer(t)
	addr := serve(t, ts)
	admin := ts.login(t, "admin", testPassword)
	agent := ts.login(t, "agent", testPassword)
	origin := "http://" + addr

	ac, _, err := dialWS(t, addr, admin, origin)
	if err != nil {
		t.Fatal(err)
	}
	gc, _, err := dialWS(t, addr, agent, origin)
	if err != nil {
		t.Fatal(err)
	}
	snapA, snapG := readWS(t, ac), readWS(t, gc)
	if snapA.Type != "snapshot" || snapG.Type != "snapshot" {
		t.Fatalf("first messages: %+v %+v", snapA, snapG)
	}

	// A user created by the admin: the admin's socket sees it, the agent's does not.
	if resp, body := ts.do(t, admin, http.MethodPost, "/api/v1/users", map[string]any{"name": "dave", "role": "agent", "password": "long-enough-1"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	// A title change: everyone sees it.
	if resp, body := ts.do(t, admin, http.MethodPut, "/api/v1/settings/system", map[string]string{"title": "Hotline"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("title: %d %s", resp.StatusCode, body)
	}
	e1 := readWS(t, ac)
	if e1.Type != "user.created" || e1.Subject != "user:dave" || e1.Prev != snapA.Seq {
		t.Fatalf("admin event 1: %+v (snapshot seq %d)", e1, snapA.Seq)
	}
	e2 := readWS(t, ac)
	if e2.Type != "system.updated" || e2.Prev != e1.Seq {
		t.Fatalf("admin event 2: %+v", e2)
	}
	g1 := readWS(t, gc)
	if g1.Type != "system.updated" || g1.Prev != snapG.Seq {
		t.Fatalf("agent saw %+v, want system.updated after its snapshot", g1)
	}

	// Asking for a snapshot gets one, current to the newest event.
	if err := gc.WriteJSON(map[string]string{"type": "snapshot"}); err != nil {
		t.Fatal(err)
	}
	if s := readWS(t, gc); s.Type != "snapshot" || s.Seq != e2.Seq {
		t.Fatalf("resnapshot: %+v, want seq %d", s, e2.Seq)
	}
}

func TestWebSocketRefusals(t *testing.T) {
	ts := newTestServer(t)
	addr := serve(t, ts)
	agent := ts.login(t, "agent", testPassword)

	if _, resp, err := dialWS(t, addr, session{}, "http://"+addr); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous: %v %v", err, resp)
	}
	if _, resp, err := dialWS(t, addr, agent, "http://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin: %v %v", err, resp)
	}
}

// fakeSeats records what the seat protocol gets from sockets.
type fakeSeats struct {
	conns chan *fakeSeatConn
}

type fakeSeatConn struct {
	user, addr string
	send       func(any) bool
	kill       func()
	msgs       chan string
	closed     chan struct{}
}

func (f *fakeSeats) Connect(user, addr string, send func(any) bool, kill func()) SeatConn {
	c := &fakeSeatConn{user: user, addr: addr, send: send, kill: kill, msgs: make(chan string, 8), closed: make(chan struct{})}
	f.conns <- c
	return c
}

func (c *fakeSeatConn) Handle(msg []byte) {
	c.msgs <- string(msg)
	c.send(map[string]string{"type": "seat.pong"})
}

func (c *fakeSeatConn) Close() { close(c.closed) }

func TestWebSocketCarriesTheSeatProtocol(t *testing.T) {
	ts := newTestServer(t)
	seats := &fakeSeats{conns: make(chan *fakeSeatConn, 2)}
	ts.opts.Seats = seats
	addr := serve(t, ts)
	agent := ts.login(t, "agent", testPassword)
	c, _, err := dialWS(t, addr, agent, "http://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	readWS(t, c) // the snapshot
	sc := <-seats.conns
	if sc.user != "agent" || sc.addr != "127.0.0.1" {
		t.Fatalf("seat conn for %q from %q", sc.user, sc.addr)
	}
	// seat.* messages go to the seat protocol, in order, and its answers
	// come back on the socket; other requests do not reach it.
	for _, m := range []string{`{"type":"seat.ping","n":1}`, `{"type":"snapshot"}`, `{"type":"seat.dial","number":"1002"}`} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if got := <-sc.msgs; got != `{"type":"seat.ping","n":1}` {
		t.Fatalf("first seat message %s", got)
	}
	if got := <-sc.msgs; got != `{"type":"seat.dial","number":"1002"}` {
		t.Fatalf("second seat message %s", got)
	}
	var types []string
	for len(types) < 3 {
		types = append(types, readWS(t, c).Type)
	}
	if n := countOf(types, "seat.pong"); n != 2 || countOf(types, "snapshot") != 1 {
		t.Fatalf("messages back: %v", types)
	}
	// kill closes the socket; the seat side hears Close.
	sc.kill()
	select {
	case <-sc.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("seat conn not closed after kill")
	}
	if sc.send(map[string]string{"type": "seat.pong"}) {
		t.Fatal("send after the socket ended reports success")
	}
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
