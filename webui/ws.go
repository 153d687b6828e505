package webui

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// The event WebSocket (/api/v1/ws). The protocol is in docs/events.md:
// the server sends a snapshot carrying the seq it is current to, then the
// events the user may see, each with "prev", the seq of the message before
// it on this connection. A client whose last seq differs from prev has
// missed something and sends {"type":"snapshot"} for a fresh one.
const (
	wsPingEvery  = 20 * time.Second
	wsReadLimit  = 64 << 10
	wsDeadline   = 3 * wsPingEvery // no pong for this long: the peer is gone
	wsWriteLimit = 10 * time.Second
	wsBuffer     = 256
	// wsSeatBuffer is how many seat messages may wait for the socket; a
	// page that far behind is cut off (it reconnects and resumes).
	wsSeatBuffer = 64
)

// eventPermissions says who may see which events, by type prefix. Anyone
// sees events about themselves (subject "user:<name>").
var eventPermissions = []struct {
	prefix string
	perm   Permission
}{
	{"user.", PermUsersRead},
	{"extension.", PermUsersRead},
	{"config.", PermConfigRead},
	{"system.", PermSignedIn},
	{"device.", PermUsersRead},
	{"call.", PermCallsRead},
}

func visible(p *principal, e event.Event) bool {
	if e.Subject == "user:"+p.user.Name {
		return true
	}
	for _, ep := range eventPermissions {
		if strings.HasPrefix(e.Type, ep.prefix) {
			return allows(p.user.Role, ep.perm)
		}
	}
	return p.user.Role == store.RoleAdmin
}

type wsEvent struct {
	event.Event
	Prev uint64 `json:"prev"`
}

type wsSnapshot struct {
	Type string         `json:"type"` // "snapshot"
	Seq  uint64         `json:"seq"`
	Data map[string]any `json:"data"`
}

type wsRequest struct {
	Type string `json:"type"`
}

func (s *Server) websocket() fiber.Handler {
	upgrade := websocket.New(s.serveWS, websocket.Config{
		HandshakeTimeout: 10 * time.Second,
		// Origin is checked before the upgrade (sameOrigin), where the
		// request is at hand.
		Origins: []string{"*"},
	})
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return &apiError{Status: http.StatusUpgradeRequired, Code: "upgrade_required", Message: "this is a WebSocket endpoint"}
		}
		if !sameOrigin(c) {
			return &apiError{Status: http.StatusForbidden, Code: "bad_origin", Message: "the Origin header does not match this host"}
		}
		return upgrade(c)
	}
}

// sameOrigin refuses cross-site WebSockets (a page elsewhere riding on the
// user's cookie). Programs using a bearer token may omit Origin.
func sameOrigin(c *fiber.Ctx) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		p := principalOf(c)
		return p != nil && p.session == nil
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, c.Hostname())
}

func (s *Server) serveWS(conn *websocket.Conn) {
	p, _ := conn.Locals(principalKey).(*principal)
	if p == nil {
		return
	}
	defer conn.Close()
	sub := s.opts.Bus.Subscribe(wsBuffer)
	defer sub.Close()

	conn.SetReadLimit(wsReadLimit)
	_ = conn.SetReadDeadline(time.Now().Add(wsDeadline))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wsDeadline)) })

	requests := make(chan string, 4)
	readerDone := make(chan struct{})
	seatOut := make(chan any, wsSeatBuffer)
	killed := make(chan struct{})
	var killOnce sync.Once
	kill := func() { killOnce.Do(func() { close(killed) }) }
	defer kill() // whatever ends the connection, seat sends fail from then on
	var seats SeatConn
	if s.opts.Seats != nil {
		addr := ""
		if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			addr = a.IP.String()
		}
		seats = s.opts.Seats.Connect(p.user.Name, addr, func(v any) bool {
			select {
			case <-killed:
				return false
			default:
			}
			select {
			case seatOut <- v:
				return true
			default:
				return false
			}
		}, kill)
		defer seats.Close()
	}
	go func() {
		defer close(readerDone)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var req wsRequest
			if json.Unmarshal(msg, &req) != nil {
				continue
			}
			if strings.HasPrefix(req.Type, "seat.") {
				if seats == nil {
					continue
				}
				// On this goroutine: a page's seat messages are handled
				// in order (an offer before its candidates).
				seats.Handle(msg)
				continue
			}
			select {
			case requests <- req.Type:
			default:
			}
		}
	}()
	// The reader must be gone before this handler returns: the WebSocket
	// library recycles the connection then. Closing it ends the read.
	defer func() {
		_ = conn.SetReadDeadline(time.Now()) // a read in progress returns now
		_ = conn.Close()
		<-readerDone
	}()

	write := func(v any) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(wsWriteLimit))
		return conn.WriteJSON(v) == nil
	}
	var last uint64
	var dropped uint64
	snapshot := func() bool {
		snap, err := s.snapshot(p)
		if err != nil {
			s.log.Error("websocket snapshot", "err", err)
			return false
		}
		last = snap.Seq
		dropped = sub.Dropped()
		return write(snap)
	}
	if !snapshot() {
		return
	}
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		select {
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			if e.Seq <= last || !visible(p, e) {
				continue
			}
			prev := last
			if d := sub.Dropped(); d != dropped {
				// Events were lost while this client was slow: make it resync.
				dropped, prev = d, 0
			}
			if !write(wsEvent{Event: e, Prev: prev}) {
				return
			}
			last = e.Seq
		case m := <-seatOut:
			if !write(m) {
				return
			}
		case <-killed:
			return
		case req := <-requests:
			if req == "snapshot" && !snapshot() {
				return
			}
		case <-ping.C:
			if !s.stillSignedIn(p) {
				_ = conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(4001, "session ended"), time.Now().Add(time.Second))
				return
			}
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteLimit)) != nil {
				return
			}
		case <-readerDone:
			return
		case <-s.done:
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "shutting down"), time.Now().Add(time.Second))
			return
		}
	}
}

// snapshot is the state a browser needs, current to the returned seq.
// The seq is read before the state, so the state is at least that new; an
// event re-applied on top of a newer state is harmless (events carry whole
// objects, not deltas).
func (s *Server) snapshot(p *principal) (wsSnapshot, error) {
	snap := wsSnapshot{Type: "snapshot", Seq: s.opts.Bus.Seq(), Data: map[string]any{"me": newMeView(p)}}
	sys, err := s.system()
	if err != nil {
		return snap, err
	}
	snap.Data["system"] = sys
	if allows(p.user.Role, PermUsersRead) {
		users := []userView{}
		err := s.opts.Store.View(func(tx *store.Tx) error {
			us, err := tx.Users()
			for _, u := range us {
				users = append(users, newUserView(u))
			}
			return err
		})
		if err != nil {
			return snap, err
		}
		snap.Data["users"] = users
	}
	return snap, nil
}

// stillSignedIn reports whether the connection's session or token is
// still valid (logout, a password change or a disabled account end it).
func (s *Server) stillSignedIn(p *principal) bool {
	err := s.opts.Store.View(func(tx *store.Tx) error {
		var u store.User
		var err error
		if p.session != nil {
			var sess store.Session
			if sess, err = tx.Session(p.session.ID); err != nil {
				return err
			}
			if !sess.Expires.After(s.now()) {
				return store.ErrNotFound
			}
		} else if _, err = tx.Token(p.token.ID); err != nil {
			return err
		}
		if u, err = tx.User(p.user.Name); err != nil {
			return err
		}
		if u.Disabled {
			return store.ErrNotFound
		}
		return nil
	})
	return err == nil
}
