package sip

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeStates is a DeviceStates the tests set by hand.
type fakeStates struct {
	mu sync.Mutex
	m  map[string]call.DeviceState
}

func (f *fakeStates) State(d call.Device) call.DeviceState {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.m[d.ID]; ok {
		return s
	}
	return call.DeviceIdle
}

func (f *fakeStates) put(ext string, s call.DeviceState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[ext] = s
}

// presEnv is a running server with busy lamps.
type presEnv struct {
	*env
	p      *Presence
	states *fakeStates
}

// startPresence runs a server with Presence on 127.0.0.1 until the test
// ends; mod adjusts the presence config.
func startPresence(t *testing.T, mod func(*PresenceConfig)) *presEnv {
	t.Helper()
	checkGoroutines(t)
	e := startServer(t, nil, nil)
	eventually(t, 5*time.Second, "UDP listener ready", func() bool { return e.srv.listenAddr(TransportUDP).IsValid() })
	cfg := PresenceConfig{Registerer: e.reg, SweepInterval: 20 * time.Millisecond, NotifyTimeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	states := &fakeStates{m: map[string]call.DeviceState{}}
	exists := func(ext Extension) bool { _, ok := testPasswords[ext]; return ok }
	p, err := NewPresence(e.srv, states, exists, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the server's cleanup, so it runs first: the
	// workers stop before the transports close.
	t.Cleanup(p.Close)
	return &presEnv{env: e, p: p, states: states}
}

// set changes ext's state in the fake and tells presence, as the
// appliance does for each device.state_changed event.
func (pe *presEnv) set(ext string, s call.DeviceState) {
	pe.states.put(ext, s)
	pe.p.DeviceChanged(call.Device{Kind: call.DeviceSIP, ID: ext}, s)
}

func newWatcher(t *testing.T, transport, addr string) *siptest.Watcher {
	t.Helper()
	w, err := siptest.NewWatcher(transport, addr, testLog())
	if err != nil {
		t.Fatalf("watcher: %v", err)
	}
	t.Cleanup(w.Close)
	return w
}

// subscribe subscribes 1001 to target and fails the test unless it gets 200.
func (pe *presEnv) subscribe(t *testing.T, w *siptest.Watcher, target string, expires int) (*siptest.Subscription, *sip.Response) {
	t.Helper()
	sub, res, err := w.Subscribe(ctxT(t, 5*time.Second), siptest.Subscribe{
		Server: pe.udp, Target: target, Ext: "1001", Password: testPasswords["1001"], Algorithm: "SHA-256", Expires: expires,
	})
	if err != nil {
		t.Fatalf("subscribe to %s: %v %v", target, res, err)
	}
	return sub, res
}

// nextNotify waits for the next NOTIFY and checks it parsed.
func nextNotify(t *testing.T, sub *siptest.Subscription, what string) siptest.Notify {
	t.Helper()
	n, err := sub.WaitNotify(ctxT(t, 5*time.Second), what, func(siptest.Notify) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if n.Err != nil {
		t.Fatalf("%s: body %q: %v", what, n.Body, n.Err)
	}
	return n
}

// TestPresenceLamps: a subscribed phone gets the full state at once, then
// a NOTIFY per change of what the lamp shows: idle, early, confirmed,
// terminated; changes the lamp does not show send nothing. Over UDP and TCP.
func TestPresenceLamps(t *testing.T) {
	for _, tr := range []struct{ name, ip string }{{"udp", "127.0.0.21"}, {"tcp", "127.0.0.22"}} {
		t.Run(tr.name, func(t *testing.T) {
			pe := startPresence(t, nil)
			w := newWatcher(t, tr.name, tr.ip+":0")
			sub, res := pe.subscribe(t, w, "1002", 600)
			ourTag, _ := res.To().Params.Get("tag")
			if ourTag == "" || res.Contact() == nil || res.GetHeader("Expires") == nil || res.GetHeader("Expires").Value() != "600" {
				t.Fatalf("200 lacks To tag, Contact or Expires 600:\n%v", res)
			}
			if tr.name == "tcp" {
				if v, _ := res.Contact().Address.UriParams.Get("transport"); v != "tcp" {
					t.Errorf("Contact %v over TCP without transport=tcp", res.Contact())
				}
			}
			if got := pe.p.Count(); got != 1 {
				t.Errorf("Count %d, want 1", got)
			}
			if g := value(t, pe.p.gauge); g != 1 {
				t.Errorf("pbx_sip_subscriptions %v, want 1", g)
			}

			first := nextNotify(t, sub, "initial state")
			if first.State != "active" || first.Expires < 598 || first.Expires > 600 {
				t.Errorf("Subscription-State %q expires %d, want active ~600", first.State, first.Expires)
			}
			if first.Lamp() != "idle" || first.Info.Version != 0 || first.Info.State != "full" || first.Info.Entity != "sip:1002@"+testRealm {
				t.Errorf("initial document %+v", first.Info)
			}
			req := first.Request
			if fromTag, _ := req.From().Params.Get("tag"); fromTag != ourTag {
				t.Errorf("NOTIFY From tag %q, want the 200's To tag %q", fromTag, ourTag)
			}
			if req.CallID().Value() != res.CallID().Value() {
				t.Errorf("NOTIFY Call-ID %q, want %q", req.CallID().Value(), res.CallID().Value())
			}
			if first.Event != "dialog" || req.GetHeader("Content-Type").Value() != "application/dialog-info+xml" || req.Contact() == nil {
				t.Errorf("NOTIFY headers: Event %q, Content-Type %v, Contact %v", first.Event, req.GetHeader("Content-Type"), req.Contact())
			}
			if req.Recipient.Host+":"+strconv.Itoa(req.Recipient.Port) != w.Addr {
				t.Errorf("NOTIFY Request-URI %v, want the watcher's contact %s", req.Recipient, w.Addr)
			}
			if req.Transport() != map[string]string{"udp": "UDP", "tcp": "TCP"}[tr.name] {
				t.Errorf("NOTIFY came over %s", req.Transport())
			}

			pe.set("1002", call.DeviceRinging)
			ring := nextNotify(t, sub, "ringing")
			if ring.Lamp() != "early" || ring.Info.Dialogs[0].Direction != "recipient" || ring.Info.Version != 1 {
				t.Errorf("ringing document %+v", ring.Info)
			}
			pe.set("1002", call.DeviceInUse)
			talk := nextNotify(t, sub, "answered")
			if talk.Lamp() != "confirmed" || talk.Info.Dialogs[0].ID != ring.Info.Dialogs[0].ID {
				t.Errorf("answered document %+v, want confirmed with the ringing dialog's id %q", talk.Info, ring.Info.Dialogs[0].ID)
			}
			pe.set("1002", call.DeviceIdle)
			end := nextNotify(t, sub, "hung up")
			if end.Lamp() != "terminated" || end.Info.Dialogs[0].ID != ring.Info.Dialogs[0].ID {
				t.Errorf("hang-up document %+v, want the dialog terminated", end.Info)
			}
			// Idle to unavailable shows the same lamp: no NOTIFY. The next
			// one proves it, by its version and CSeq following directly.
			pe.set("1002", call.DeviceUnavailable)
			pe.set("1002", call.DeviceRinging)
			again := nextNotify(t, sub, "ringing again")
			if again.Lamp() != "early" || again.Info.Version != end.Info.Version+1 || again.CSeq != end.CSeq+1 {
				t.Errorf("after an unseen change: version %d CSeq %d, want %d and %d",
					again.Info.Version, again.CSeq, end.Info.Version+1, end.CSeq+1)
			}
			if again.Info.Dialogs[0].ID == ring.Info.Dialogs[0].ID {
				t.Errorf("a new call kept the old dialog id %q", again.Info.Dialogs[0].ID)
			}
			pe.set("1002", call.DeviceIdle)
			nextNotify(t, sub, "hung up again")
		})
	}
}

// TestPresenceInitialBusy: a phone subscribing to an extension already in
// a call sees a confirmed dialog in the first NOTIFY.
func TestPresenceInitialBusy(t *testing.T) {
	pe := startPresence(t, nil)
	pe.states.put("1002", call.DeviceInUse)
	w := newWatcher(t, "udp", "127.0.0.23:0")
	sub, _ := pe.subscribe(t, w, "1002", 300)
	if n := nextNotify(t, sub, "initial state"); n.Lamp() != "confirmed" {
		t.Fatalf("initial lamp %q, want confirmed", n.Lamp())
	}
}

// TestPresenceRefreshUnsubscribe: an in-dialog SUBSCRIBE refreshes the
// expiry and gets the state again; Expires 0 ends it with a final NOTIFY;
// a refresh after that is 481.
func TestPresenceRefreshUnsubscribe(t *testing.T) {
	pe := startPresence(t, nil)
	w := newWatcher(t, "udp", "127.0.0.24:0")
	sub, _ := pe.subscribe(t, w, "1002", 120)
	nextNotify(t, sub, "initial state")

	res, err := sub.Refresh(ctxT(t, 5*time.Second), 99999)
	if err != nil || res.StatusCode != sip.StatusOK || res.GetHeader("Expires").Value() != "3600" {
		t.Fatalf("refresh: %v %v, want 200 with Expires clamped to 3600", res, err)
	}
	if n := nextNotify(t, sub, "after refresh"); n.State != "active" || n.Expires < 3598 || n.Lamp() != "idle" {
		t.Errorf("after refresh: %q expires %d lamp %q", n.State, n.Expires, n.Lamp())
	}

	res, err = sub.Unsubscribe(ctxT(t, 5*time.Second))
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("unsubscribe: %v %v", res, err)
	}
	if n := nextNotify(t, sub, "final"); n.State != "terminated" || n.Reason != "timeout" {
		t.Errorf("final NOTIFY %q reason %q, want terminated;reason=timeout", n.State, n.Reason)
	}
	if got := pe.p.Count(); got != 0 {
		t.Errorf("Count %d after unsubscribe", got)
	}
	if g := value(t, pe.p.gauge); g != 0 {
		t.Errorf("pbx_sip_subscriptions %v after unsubscribe", g)
	}
	res, err = sub.Refresh(ctxT(t, 5*time.Second), 300)
	if err != nil || res.StatusCode != sip.StatusCallTransactionDoesNotExists {
		t.Fatalf("refresh of an ended subscription: %v %v, want 481", res, err)
	}
}

// TestPresenceFetch: Expires 0 on a new SUBSCRIBE fetches the state once
// (RFC 6665 §4.4.3) and keeps nothing.
func TestPresenceFetch(t *testing.T) {
	pe := startPresence(t, nil)
	pe.set("1002", call.DeviceRinging)
	w := newWatcher(t, "udp", "127.0.0.25:0")
	sub, _ := pe.subscribe(t, w, "1002", 0)
	n := nextNotify(t, sub, "fetched state")
	if n.State != "terminated" || n.Lamp() != "early" {
		t.Errorf("fetch: %q lamp %q, want terminated with an early dialog", n.State, n.Lamp())
	}
	if got := pe.p.Count(); got != 0 {
		t.Errorf("Count %d after a fetch", got)
	}
}

// TestPresenceRefused: what a SUBSCRIBE is refused with.
func TestPresenceRefused(t *testing.T) {
	pe := startPresence(t, nil)
	w := newWatcher(t, "udp", "127.0.0.26:0")
	tests := []struct {
		name   string
		mod    func(*siptest.Subscribe)
		status int
		header string // a header the response must carry
	}{
		{"no credentials", func(s *siptest.Subscribe) { s.Password = "" }, sip.StatusUnauthorized, "WWW-Authenticate"},
		{"wrong password", func(s *siptest.Subscribe) { s.Password = "wrong" }, sip.StatusForbidden, ""},
		{"unknown target", func(s *siptest.Subscribe) { s.Target = "1999" }, sip.StatusNotFound, ""},
		{"presence package", func(s *siptest.Subscribe) { s.Event = "presence" }, 489, "Allow-Events"},
		{"message-summary package", func(s *siptest.Subscribe) { s.Event = "message-summary" }, 489, "Allow-Events"},
		{"accept pidf only", func(s *siptest.Subscribe) { s.Accept = "application/pidf+xml" }, sip.StatusNotAcceptable, "Accept"},
		{"too brief", func(s *siptest.Subscribe) { s.Expires = 10 }, sip.StatusIntervalToBrief, "Min-Expires"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := siptest.Subscribe{Server: pe.udp, Target: "1002", Ext: "1001", Password: testPasswords["1001"], Expires: 300}
			tc.mod(&s)
			sub, res, err := w.Subscribe(ctxT(t, 5*time.Second), s)
			if sub != nil || !errors.Is(err, siptest.ErrRefused) {
				t.Fatalf("got %v, %v; want refused", sub, err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.header != "" && res.GetHeader(tc.header) == nil {
				t.Errorf("%d without %s", res.StatusCode, tc.header)
			}
		})
	}
	if got := pe.p.Count(); got != 0 {
		t.Errorf("Count %d after refusals", got)
	}
	// The event package is accepted with parameters.
	sub, _, err := w.Subscribe(ctxT(t, 5*time.Second), siptest.Subscribe{Server: pe.udp, Target: "1002", Ext: "1001",
		Password: testPasswords["1001"], Expires: 300, Event: "dialog;id=key7", Accept: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if n := nextNotify(t, sub, "initial state"); n.Event != "dialog;id=key7" {
		t.Errorf("NOTIFY Event %q, want the subscription's id echoed", n.Event)
	}
}

// TestPresenceLimits: the box and per-subscriber limits, and Close.
func TestPresenceLimits(t *testing.T) {
	tests := []struct {
		name   string
		cfg    PresenceConfig
		status int
	}{
		{"box", PresenceConfig{MaxSubscriptions: 2}, sip.StatusServiceUnavailable},
		{"subscriber", PresenceConfig{MaxPerSubscriber: 2}, sip.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pe := startPresence(t, func(c *PresenceConfig) {
				c.MaxSubscriptions, c.MaxPerSubscriber = tc.cfg.MaxSubscriptions, tc.cfg.MaxPerSubscriber
			})
			w := newWatcher(t, "udp", "127.0.0.27:0")
			pe.subscribe(t, w, "1002", 300)
			pe.subscribe(t, w, "1001", 300)
			_, res, err := w.Subscribe(ctxT(t, 5*time.Second), siptest.Subscribe{Server: pe.udp, Target: "1002", Ext: "1001",
				Password: testPasswords["1001"], Expires: 300})
			if !errors.Is(err, siptest.ErrRefused) || res.StatusCode != tc.status {
				t.Fatalf("third subscription: %v %v, want %d", res, err, tc.status)
			}
			if tc.status == sip.StatusServiceUnavailable && res.GetHeader("Retry-After") == nil {
				t.Errorf("503 without Retry-After")
			}
		})
	}
	t.Run("closed", func(t *testing.T) {
		pe := startPresence(t, nil)
		w := newWatcher(t, "udp", "127.0.0.28:0")
		pe.p.Close()
		_, res, err := w.Subscribe(ctxT(t, 5*time.Second), siptest.Subscribe{Server: pe.udp, Target: "1002", Ext: "1001",
			Password: testPasswords["1001"], Expires: 300})
		if !errors.Is(err, siptest.ErrRefused) || res.StatusCode != sip.StatusServiceUnavailable {
			t.Fatalf("after Close: %v %v, want 503", res, err)
		}
	})
}

// TestPresenceExpiry: an unrefreshed subscription is swept at its expiry
// with a final NOTIFY.
func TestPresenceExpiry(t *testing.T) {
	pe := startPresence(t, nil)
	w := newWatcher(t, "udp", "127.0.0.29:0")
	sub, _ := pe.subscribe(t, w, "1002", 60)
	nextNotify(t, sub, "initial state")
	pe.clock.Advance(59 * time.Second)
	pe.set("1002", call.DeviceRinging)
	if n := nextNotify(t, sub, "before expiry"); n.State != "active" || n.Expires != 1 {
		t.Errorf("a second before expiry: %q expires %d", n.State, n.Expires)
	}
	pe.clock.Advance(time.Second)
	if n := nextNotify(t, sub, "expiry"); n.State != "terminated" || n.Reason != "timeout" {
		t.Errorf("at expiry: %q reason %q, want terminated;reason=timeout", n.State, n.Reason)
	}
	if got := pe.p.Count(); got != 0 {
		t.Errorf("Count %d after expiry", got)
	}
}

// TestPresenceDeadSubscriber: a phone that answers NOTIFY 481, or three
// NOTIFYs in a row not at all, loses its subscription.
func TestPresenceDeadSubscriber(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer int
	}{{"481", sip.StatusCallTransactionDoesNotExists}, {"silent", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			pe := startPresence(t, func(c *PresenceConfig) { c.NotifyTimeout = 200 * time.Millisecond })
			w := newWatcher(t, "udp", "127.0.0.30:0")
			sub, _ := pe.subscribe(t, w, "1002", 300)
			nextNotify(t, sub, "initial state")
			sub.SetNotifyAnswer(tc.answer)
			ringing := false
			// Each poll changes the lamp, so NOTIFYs keep going out.
			eventually(t, 10*time.Second, "subscription dropped", func() bool {
				ringing = !ringing
				if ringing {
					pe.set("1002", call.DeviceRinging)
				} else {
					pe.set("1002", call.DeviceIdle)
				}
				return pe.p.Count() == 0
			})
			got := len(sub.Notifies()) - 1
			if tc.answer > 0 && got != 1 {
				t.Errorf("%d NOTIFYs after the first, want 1 (the one answered 481)", got)
			}
			if tc.answer < 0 && got < maxNotifyFailures {
				t.Errorf("dropped after %d unanswered NOTIFYs, want %d", got, maxNotifyFailures)
			}
		})
	}
}

// TestPresenceDeviceKinds: changes of other kinds of device (seats) do
// not reach SIP subscribers.
func TestPresenceDeviceKinds(t *testing.T) {
	pe := startPresence(t, nil)
	w := newWatcher(t, "udp", "127.0.0.31:0")
	sub, _ := pe.subscribe(t, w, "1002", 300)
	first := nextNotify(t, sub, "initial state")
	pe.p.DeviceChanged(call.Device{Kind: call.DeviceSeat, ID: "1002"}, call.DeviceInUse)
	pe.set("1002", call.DeviceRinging)
	if n := nextNotify(t, sub, "ringing"); n.Lamp() != "early" || n.CSeq != first.CSeq+1 {
		t.Errorf("after a seat change: lamp %q CSeq %d, want early and %d", n.Lamp(), n.CSeq, first.CSeq+1)
	}
}

// TestPresenceMissingDependency: NewPresence refuses nil dependencies.
func TestPresenceMissingDependency(t *testing.T) {
	e := startServer(t, nil, nil)
	exists := func(Extension) bool { return true }
	if _, err := NewPresence(e.srv, nil, exists, PresenceConfig{}); !errors.Is(err, ErrMissingDependency) {
		t.Errorf("nil states: %v", err)
	}
	if _, err := NewPresence(e.srv, &fakeStates{}, nil, PresenceConfig{}); !errors.Is(err, ErrMissingDependency) {
		t.Errorf("nil exists: %v", err)
	}
	reg := prometheus.NewRegistry()
	p, err := NewPresence(e.srv, &fakeStates{}, exists, PresenceConfig{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := NewPresence(e.srv, &fakeStates{}, exists, PresenceConfig{Registerer: reg}); err == nil {
		t.Error("a second registration of the gauge was accepted")
	}
}
