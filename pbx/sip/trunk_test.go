package sip

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// TestTrunkRegister runs a registration trunk against a carrier that
// challenges with one algorithm and grants 2 s: the trunk answers the
// challenge, re-registers before expiry, backs off while the carrier
// answers 503, recovers, and unregisters when Set removes it.
func TestTrunkRegister(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		t.Run(alg, func(t *testing.T) {
			e := startServer(t, nil, nil)
			car := newCarrier(t, "127.0.0.2", alg, 2)
			reg := prometheus.NewRegistry()
			log := &statusLog{}
			trunks := newTestTrunks(t, e, reg, log)
			host, port := car.hostPort()
			cfg := TrunkConfig{Name: "carrier1", Kind: TrunkRegister, Host: host, Port: port,
				Username: carrierUser, AuthUsername: carrierAuthUser, Secret: carrierSecret,
				Expires: 60 * time.Second, OptionsInterval: 200 * time.Millisecond}
			trunks.Set([]TrunkConfig{cfg})

			// Registered and re-registered: the carrier grants 2 s, so a
			// refresh comes about 1.6 s after the first.
			eventually(t, 5*time.Second, "a re-registration", func() bool { return len(car.accepted()) >= 2 })
			regs := car.accepted()
			if gap := regs[1].at.Sub(regs[0].at); gap < time.Second || gap > 2500*time.Millisecond {
				t.Errorf("refresh after %v, want about 1.6 s (80 %% of 2 s)", gap)
			}
			if regs[0].callID != regs[1].callID || regs[1].cseq <= regs[0].cseq {
				t.Errorf("refresh not in the same registration: %+v then %+v", regs[0], regs[1])
			}
			if regs[0].expires != 2 {
				t.Errorf("granted %d s, want the carrier's 2", regs[0].expires)
			}
			if n := car.badAuth.Load(); n != 0 {
				t.Errorf("%d wrong digest responses", n)
			}
			want := "sip:" + carrierUser + "@127.0.0.1:"
			if c := regs[0].contact; len(c) < len(want) || c[:len(want)] != want {
				t.Errorf("contact %q, want %s<port>", c, want)
			}
			eventually(t, 3*time.Second, "registered and up", func() bool {
				s := trunkStatus(t, trunks, "carrier1")
				return s.Registered && s.Up && s.LastError == ""
			})
			if s := trunkStatus(t, trunks, "carrier1"); s.RegisteredUntil.Before(time.Now()) {
				t.Errorf("registered until %v, in the past", s.RegisteredUntil)
			}
			eventually(t, 2*time.Second, "pbx_trunk_up 1", func() bool {
				return trunkGauge(t, reg, "pbx_trunk_up", "carrier1") == 1
			})

			// The carrier fails: the refresh gets 503, the trunk shows
			// not registered and retries with back-off.
			car.failCode.Store(sip.StatusServiceUnavailable)
			eventually(t, 5*time.Second, "not registered after 503", func() bool {
				s := trunkStatus(t, trunks, "carrier1")
				return !s.Registered && s.LastError != ""
			})
			if v := trunkGauge(t, reg, "pbx_trunk_up", "carrier1"); v != 0 {
				t.Errorf("pbx_trunk_up = %v while not registered", v)
			}
			start := time.Now()
			failedAt := car.failed.Load()
			eventually(t, 5*time.Second, "retries", func() bool { return car.failed.Load() >= failedAt+3 })
			// 100, 200, 400 ms: three retries take at least 0.3 s (not a
			// tight loop) and well under the 5 s default.
			if d := time.Since(start); d < 250*time.Millisecond {
				t.Errorf("3 retries in %v: no back-off", d)
			}

			// It recovers.
			before := len(car.accepted())
			car.failCode.Store(0)
			eventually(t, 3*time.Second, "registered again", func() bool {
				s := trunkStatus(t, trunks, "carrier1")
				return s.Registered && s.LastError == "" && len(car.accepted()) > before
			})
			if !log.seen(func(s TrunkStatus) bool { return s.Name == "carrier1" && !s.Registered && s.LastError != "" }) ||
				!log.seen(func(s TrunkStatus) bool { return s.Name == "carrier1" && s.Registered }) {
				t.Error("OnChange was not told both registration states")
			}

			// Removed: it unregisters (Expires: 0, authenticated).
			trunks.Set(nil)
			eventually(t, 3*time.Second, "unregister", func() bool {
				regs := car.accepted()
				return regs[len(regs)-1].expires == 0 && car.bound() == 0
			})
			if _, ok := trunks.TrunkStatus("carrier1"); ok {
				t.Error("removed trunk still has a status")
			}
			if hasTrunkSeries(t, reg, "pbx_trunk_up", "carrier1") {
				t.Error("removed trunk still has pbx_trunk_up")
			}
		})
	}
}

// TestTrunkRegisterClose: Close unregisters every registration trunk and
// a changed configuration re-registers without losing the binding to the
// old loop's unregister.
func TestTrunkRegisterClose(t *testing.T) {
	e := startServer(t, nil, nil)
	car := newCarrier(t, "127.0.0.2", "MD5", 60)
	trunks := newTestTrunks(t, e, prometheus.NewRegistry(), nil)
	host, port := car.hostPort()
	cfg := TrunkConfig{Name: "c1", Kind: TrunkRegister, Host: host, Port: port,
		Username: carrierUser, AuthUsername: carrierAuthUser, Secret: carrierSecret, Expires: 60 * time.Second}
	trunks.Set([]TrunkConfig{cfg})
	eventually(t, 3*time.Second, "registered", func() bool { return trunkStatus(t, trunks, "c1").Registered })

	cfg.Expires = 120 * time.Second // a change: restart
	trunks.Set([]TrunkConfig{cfg})
	eventually(t, 3*time.Second, "re-registered after the change", func() bool {
		regs := car.accepted()
		return len(regs) >= 3 && regs[len(regs)-1].expires > 0 && trunkStatus(t, trunks, "c1").Registered
	})
	regs := car.accepted()
	if regs[1].expires != 0 {
		t.Errorf("the old registration was not removed before the new one: %+v", regs)
	}
	if car.bound() != 1 {
		t.Errorf("carrier holds %d contacts, want 1", car.bound())
	}

	trunks.Close()
	if car.bound() != 0 {
		t.Errorf("after Close the carrier holds %d contacts", car.bound())
	}
	trunks.Set([]TrunkConfig{cfg}) // ignored after Close
	if len(trunks.Status()) != 0 {
		t.Error("Set after Close started a trunk")
	}
}

// TestTrunkRegisterRejected: wrong credentials are not retried in a loop
// within one attempt, and the status says why.
func TestTrunkRegisterRejected(t *testing.T) {
	e := startServer(t, nil, nil)
	car := newCarrier(t, "127.0.0.2", "SHA-256", 60)
	trunks := newTestTrunks(t, e, prometheus.NewRegistry(), nil)
	host, port := car.hostPort()
	trunks.Set([]TrunkConfig{{Name: "c1", Kind: TrunkRegister, Host: host, Port: port,
		Username: carrierUser, AuthUsername: carrierAuthUser, Secret: "wrong"}})
	eventually(t, 3*time.Second, "a rejected registration", func() bool {
		s := trunkStatus(t, trunks, "c1")
		return !s.Registered && s.LastError != "" && car.badAuth.Load() >= 2
	})
	if len(car.accepted()) != 0 {
		t.Error("carrier accepted a wrong secret")
	}
}

// TestTrunkOptions: a carrier that stops answering OPTIONS is down after
// three unanswered intervals and up again at its first answer.
func TestTrunkOptions(t *testing.T) {
	e := startServer(t, nil, nil)
	car := newCarrier(t, "127.0.0.3", "MD5", 60)
	reg := prometheus.NewRegistry()
	trunks := newTestTrunks(t, e, reg, nil)
	host, port := car.hostPort()
	const interval = 150 * time.Millisecond
	trunks.Set([]TrunkConfig{{Name: "peer", Kind: TrunkIP, Host: host, Port: port, OptionsInterval: interval}})
	eventually(t, 2*time.Second, "up", func() bool { return trunkStatus(t, trunks, "peer").Up })
	if v := trunkGauge(t, reg, "pbx_trunk_up", "peer"); v != 1 {
		t.Errorf("pbx_trunk_up = %v, want 1", v)
	}
	if trunkStatus(t, trunks, "peer").Registered {
		t.Error("an IP trunk shows registered")
	}

	// Counted before the carrier goes silent, so every unanswered OPTIONS
	// is in the difference.
	asked := car.options.Load()
	car.silent.Store(true)
	// Three misses take three intervals and three (interval-long) timeouts:
	// about 0.9 s; the deadline leaves room for a loaded machine.
	eventually(t, 3*time.Second, "down", func() bool { return !trunkStatus(t, trunks, "peer").Up })
	if n := car.options.Load() - asked; n < 3 {
		t.Errorf("down after %d unanswered OPTIONS, want 3", n)
	}
	if v := trunkGauge(t, reg, "pbx_trunk_up", "peer"); v != 0 {
		t.Errorf("pbx_trunk_up = %v while down", v)
	}

	car.silent.Store(false)
	eventually(t, 2*time.Second, "up again", func() bool { return trunkStatus(t, trunks, "peer").Up })
}

// TestTrunkMatch: which trunk an inbound INVITE is from.
func TestTrunkMatch(t *testing.T) {
	srv, err := New(Config{Realm: testRealm}, Deps{Log: testLog(), Registerer: prometheus.NewRegistry(),
		Directory: fakeDir{testPasswords}, Store: &fakeStore{}})
	if err != nil {
		t.Fatal(err)
	}
	// The server is not running: the trunks' loops wait for it, so nothing
	// is sent and no name is looked up.
	trunks, err := NewTrunks(srv, TrunkOptions{Log: testLog(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trunks.Close)
	trunks.Set([]TrunkConfig{
		{Name: "ip-a", Kind: TrunkIP, Host: "127.0.0.10"},
		{Name: "ip-b", Kind: TrunkIP, Host: "127.0.0.20", Addresses: []netip.Prefix{mustPrefix("127.0.1.0/24")}},
		{Name: "reg-a", Kind: TrunkRegister, Host: "127.0.0.30", Username: "acct1"},
		{Name: "reg-b", Kind: TrunkRegister, Host: "127.0.0.30", Username: "acct2"},
		{Name: "reg-c", Kind: TrunkRegister, Host: "carrier.invalid", Username: "acct3"},
		{Name: "reg-d", Kind: TrunkRegister, Host: "carrier2.invalid", Username: "acct4",
			Addresses: []netip.Prefix{mustPrefix("127.0.2.0/24")}},
	})
	tests := []struct {
		name, ruriUser, src string
		want                string // "" : no trunk
	}{
		{"ip trunk by host address", "8675512345", "127.0.0.10", "ip-a"},
		{"ip trunk other source", "8675512345", "127.0.0.11", ""},
		{"ip trunk by Addresses", "8675512345", "127.0.1.7", "ip-b"},
		{"Addresses replace the host's", "8675512345", "127.0.0.20", ""},
		{"register trunk by R-URI user", "acct2", "127.0.0.30", "reg-b"},
		{"register trunk by R-URI user, first account", "acct1", "127.0.0.30", "reg-a"},
		{"register trunk by source, DID in R-URI", "8675512345", "127.0.0.30", "reg-a"},
		{"R-URI user from a foreign source", "acct1", "127.0.0.99", ""},
		{"unresolved host: nobody is the carrier yet", "acct3", "127.0.0.77", ""},
		{"R-URI user within Addresses", "acct4", "127.0.2.9", "reg-d"},
		{"R-URI user outside Addresses", "acct4", "127.0.0.77", ""},
		{"phone: unknown user and source", "1001", "127.0.0.5", ""},
		{"phone: no user", "", "127.0.0.5", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: tc.ruriUser, Host: "127.0.0.1", Port: 5060})
			req.SetSource(tc.src + ":5060")
			got, ok := trunks.Match(req)
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("Match = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

// TestTrunkCalls: the per-trunk call limit and the call metrics.
func TestTrunkCalls(t *testing.T) {
	srv, err := New(Config{Realm: testRealm}, Deps{Log: testLog(), Registerer: prometheus.NewRegistry(),
		Directory: fakeDir{testPasswords}, Store: &fakeStore{}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	trunks, err := NewTrunks(srv, TrunkOptions{Log: testLog(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trunks.Close)
	cfg := TrunkConfig{Name: "t1", Kind: TrunkIP, Host: "127.0.0.10", MaxCalls: 2}
	trunks.Set([]TrunkConfig{cfg})

	c1, err := trunks.BeginCall("t1", TrunkInbound)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := trunks.BeginCall("t1", TrunkOutbound)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trunks.BeginCall("t1", TrunkOutbound); !errors.Is(err, ErrTrunkFull) {
		t.Fatalf("third call: %v, want ErrTrunkFull", err)
	}
	if _, err := trunks.BeginCall("nope", TrunkOutbound); !errors.Is(err, ErrNoSuchTrunk) {
		t.Fatalf("unknown trunk: %v, want ErrNoSuchTrunk", err)
	}
	if s := trunkStatus(t, trunks, "t1"); s.CallsActive != 2 {
		t.Errorf("CallsActive = %d, want 2", s.CallsActive)
	}
	if v := trunkGauge(t, reg, "pbx_trunk_calls_active", "t1"); v != 2 {
		t.Errorf("pbx_trunk_calls_active = %v, want 2", v)
	}

	// A configuration change keeps counting the calls in progress.
	cfg.MaxCalls = 3
	trunks.Set([]TrunkConfig{cfg})
	c3, err := trunks.BeginCall("t1", TrunkOutbound)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trunks.BeginCall("t1", TrunkOutbound); !errors.Is(err, ErrTrunkFull) {
		t.Fatalf("fourth call after the change: %v, want ErrTrunkFull", err)
	}
	c1.End(true, call.CauseNormal)
	c1.End(true, call.CauseNormal) // ignored
	c2.End(false, call.CauseBusy)
	c3.End(false, call.CauseFailed)
	if s := trunkStatus(t, trunks, "t1"); s.CallsActive != 0 {
		t.Errorf("CallsActive = %d after every End, want 0", s.CallsActive)
	}
	for _, tc := range []struct {
		dir, result string
		want        float64
	}{
		{"inbound", "answered", 1},
		{"outbound", "busy", 1},
		{"outbound", "failed", 1},
		{"outbound", "limit", 2},
	} {
		if v := counterValue(t, reg, "pbx_trunk_calls_total", map[string]string{
			"trunk": "t1", "direction": tc.dir, "result": tc.result}); v != tc.want {
			t.Errorf("pbx_trunk_calls_total{%s,%s} = %v, want %v", tc.dir, tc.result, v, tc.want)
		}
	}
}

// TestTrunkKinds: the enums' names round-trip and unknown names fail.
func TestTrunkKinds(t *testing.T) {
	for _, k := range []TrunkKind{TrunkRegister, TrunkIP} {
		if got, err := ParseTrunkKind(k.String()); err != nil || got != k {
			t.Errorf("ParseTrunkKind(%q) = %v, %v", k, got, err)
		}
	}
	for _, s := range []CalledSource{CalledFromRURI, CalledFromTo, CalledFromDiversion} {
		if got, err := ParseCalledSource(s.String()); err != nil || got != s {
			t.Errorf("ParseCalledSource(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []CallerSource{CallerFromFrom, CallerFromPAI} {
		if got, err := ParseCallerSource(s.String()); err != nil || got != s {
			t.Errorf("ParseCallerSource(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseTrunkKind("peer"); !errors.Is(err, ErrUnknownTrunkKind) {
		t.Errorf("ParseTrunkKind(peer): %v", err)
	}
	if _, err := ParseCalledSource("from"); !errors.Is(err, ErrUnknownNumberSource) {
		t.Errorf("ParseCalledSource(from): %v", err)
	}
	if _, err := ParseCallerSource("to"); !errors.Is(err, ErrUnknownNumberSource) {
		t.Errorf("ParseCallerSource(to): %v", err)
	}
}

// trunkGauge reads a trunk-labelled gauge.
func trunkGauge(t *testing.T, reg *prometheus.Registry, name, trunk string) float64 {
	t.Helper()
	return counterValue(t, reg, name, map[string]string{"trunk": trunk})
}

// counterValue reads the series of name whose labels are exactly labels.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metric
				}
			}
			if m.Gauge != nil {
				return m.Gauge.GetValue()
			}
			return m.Counter.GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func hasTrunkSeries(t *testing.T, reg *prometheus.Registry, name, trunk string) bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "trunk" && l.GetValue() == trunk {
					return true
				}
			}
		}
	}
	return false
}

// TestTrunkCallsPerMinute: a trunk starts at most CallsPerMinute calls in
// any minute, whichever direction; a minute later it takes calls again.
func TestTrunkCallsPerMinute(t *testing.T) {
	srv, err := New(Config{Realm: testRealm}, Deps{Log: testLog(), Registerer: prometheus.NewRegistry(),
		Directory: fakeDir{testPasswords}, Store: &fakeStore{}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	trunks, err := NewTrunks(srv, TrunkOptions{Log: testLog(), Registerer: prometheus.NewRegistry(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trunks.Close)
	trunks.Set([]TrunkConfig{{Name: "t1", Kind: TrunkIP, Host: "127.0.0.10", CallsPerMinute: 2}})
	for i, dir := range []TrunkDirection{TrunkInbound, TrunkOutbound} {
		c, err := trunks.BeginCall("t1", dir)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		c.End(true, call.CauseNormal) // ended calls still count for the minute
	}
	if _, err := trunks.BeginCall("t1", TrunkOutbound); !errors.Is(err, ErrTrunkRate) {
		t.Fatalf("third call in the minute: %v, want ErrTrunkRate", err)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	c, err := trunks.BeginCall("t1", TrunkOutbound)
	if err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	c.End(false, call.CauseBusy)
}

// TestTrunkTrace: while a trace runs, datagrams to and from the trunk's
// carrier are logged whole; others are not, and the trace ends by itself.
func TestTrunkTrace(t *testing.T) {
	srv, err := New(Config{Realm: testRealm}, Deps{Log: testLog(), Registerer: prometheus.NewRegistry(),
		Directory: fakeDir{testPasswords}, Store: &fakeStore{}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var logs syncLog
	trunks, err := NewTrunks(srv, TrunkOptions{Log: slog.New(slog.NewTextHandler(&logs, nil)), Registerer: prometheus.NewRegistry(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trunks.Close)
	trunks.Set([]TrunkConfig{{Name: "t1", Kind: TrunkIP, Host: "127.0.0.41", OptionsInterval: time.Hour}})
	if err := trunks.Trace("nope", time.Minute); !errors.Is(err, ErrNoSuchTrunk) {
		t.Fatalf("unknown trunk: %v", err)
	}

	box, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	conn := trunks.TracePacketConn(box)
	carrier, err := net.ListenPacket("udp", "127.0.0.41:0")
	if err != nil {
		t.Fatal(err)
	}
	defer carrier.Close()
	other, err := net.ListenPacket("udp", "127.0.0.42:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	exchange := func(peer net.PacketConn, msg string) {
		t.Helper()
		if _, err := conn.WriteTo([]byte(msg+" out"), peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.WriteTo([]byte(msg+" in"), box.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := conn.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
	}
	exchange(carrier, "OPTIONS before")
	if err := trunks.Trace("t1", time.Minute); err != nil {
		t.Fatal(err)
	}
	exchange(carrier, "INVITE traced")
	exchange(other, "INVITE other")
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	exchange(carrier, "BYE after")
	got := logs.String()
	for _, want := range []string{"INVITE traced out", "INVITE traced in"} {
		if !strings.Contains(got, want) {
			t.Errorf("the trace lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"OPTIONS before", "INVITE other", "BYE after"} {
		if strings.Contains(got, not) {
			t.Errorf("the trace has %q:\n%s", not, got)
		}
	}
}

// syncLog is a log sink tests read while handlers write.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *syncLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestTrunkCallsPerMinuteChange: a changed CallsPerMinute applies at once
// (an admin raising or lifting the limit of a trunk hitting it).
func TestTrunkCallsPerMinuteChange(t *testing.T) {
	srv, err := New(Config{Realm: testRealm}, Deps{Log: testLog(), Registerer: prometheus.NewRegistry(),
		Directory: fakeDir{testPasswords}, Store: &fakeStore{}})
	if err != nil {
		t.Fatal(err)
	}
	trunks, err := NewTrunks(srv, TrunkOptions{Log: testLog(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trunks.Close)
	cfg := TrunkConfig{Name: "t1", Kind: TrunkIP, Host: "127.0.0.10", CallsPerMinute: 1}
	trunks.Set([]TrunkConfig{cfg})
	c, err := trunks.BeginCall("t1", TrunkOutbound)
	if err != nil {
		t.Fatal(err)
	}
	c.End(true, call.CauseNormal)
	if _, err := trunks.BeginCall("t1", TrunkOutbound); !errors.Is(err, ErrTrunkRate) {
		t.Fatalf("second call at 1 a minute: %v, want ErrTrunkRate", err)
	}
	for _, tc := range []struct {
		perMinute int
		want      error
	}{
		{perMinute: 0, want: nil}, // lifted
		{perMinute: 1, want: ErrTrunkRate},
		{perMinute: 10, want: nil}, // raised
	} {
		cfg.CallsPerMinute = tc.perMinute
		trunks.Set([]TrunkConfig{cfg})
		if got, _ := trunks.Config("t1"); got.CallsPerMinute != tc.perMinute {
			t.Fatalf("CallsPerMinute %d after Set, want %d", got.CallsPerMinute, tc.perMinute)
		}
		c, err := trunks.BeginCall("t1", TrunkOutbound)
		if !errors.Is(err, tc.want) {
			t.Fatalf("CallsPerMinute %d: %v, want %v", tc.perMinute, err, tc.want)
		}
		if err == nil {
			c.End(true, call.CauseNormal)
		}
	}
}
