package sip

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const testRealm = "ccbox.test"

// fakeDir is a Directory of extensions with plain test passwords.
type fakeDir struct{ passwords map[Extension]string }

func (d fakeDir) Credentials(ext Extension) (Credentials, error) {
	pw, ok := d.passwords[ext]
	if !ok {
		return Credentials{}, ErrNoSuchExtension
	}
	return Credentials{
		HA1MD5:    HA1("MD5", string(ext), testRealm, pw),
		HA1SHA256: HA1("SHA-256", string(ext), testRealm, pw),
	}, nil
}

// fakeStore keeps bindings in memory.
type fakeStore struct {
	mu    sync.Mutex
	saved map[Extension][]Binding
}

func (f *fakeStore) SaveBindings(ext Extension, b []Binding) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saved == nil {
		f.saved = map[Extension][]Binding{}
	}
	f.saved[ext] = b
	return nil
}

func (f *fakeStore) LoadBindings() (map[Extension][]Binding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[Extension][]Binding{}
	for k, v := range f.saved {
		out[k] = v
	}
	return out, nil
}

// clock is a manual clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// changes records OnChange calls.
type changes struct {
	mu   sync.Mutex
	last map[Extension]int
}

func (c *changes) on(ext Extension, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[Extension]int{}
	}
	c.last[ext] = n
}

func (c *changes) get(ext Extension) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.last[ext]
	return n, ok
}

// env is a running server on 127.0.0.1 with its fakes.
type env struct {
	srv     *Server
	reg     *prometheus.Registry
	clock   *clock
	store   *fakeStore
	changes *changes
	udp     string // host:port of UDP and TCP
	tls     string
}

func testLog() *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

var testPasswords = map[Extension]string{"1001": "secret-1001", "1002": "secret-1002"}

// startServer runs a server on 127.0.0.1 (UDP and TCP on one port, TLS on
// another) until the test ends. mod adjusts the config.
func startServer(t *testing.T, mod func(*Config), store *fakeStore) *env {
	t.Helper()
	e := &env{reg: prometheus.NewRegistry(), clock: &clock{t: time.Now()}, store: store, changes: &changes{}}
	if e.store == nil {
		e.store = &fakeStore{}
	}
	cfg := Config{Realm: testRealm, TLS: testTLSConfig(t)}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg, Deps{
		Log: testLog(), Registerer: e.reg, Directory: fakeDir{testPasswords},
		Store: e.store, Now: e.clock.Now, OnChange: e.changes.on,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv = srv
	var uc net.PacketConn
	var tl net.Listener
	// UDP and TCP share a port; retry a few times if TCP's is taken.
	for i := 0; i < 10 && tl == nil; i++ {
		uc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tl, err = net.Listen("tcp", uc.LocalAddr().String())
		if err != nil {
			uc.Close()
			tl = nil
		}
	}
	if tl == nil {
		t.Fatal("no UDP+TCP port pair")
	}
	tlsl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.udp, e.tls = uc.LocalAddr().String(), tlsl.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, Listeners{UDP: uc, TCP: tl, TLS: tlsl}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	})
	return e
}

// phone starts a test phone on a loopback address of its own.
func newPhone(t *testing.T, transport, addr string) *siptest.Phone {
	t.Helper()
	p, err := siptest.New(transport, addr, testLog())
	if err != nil {
		t.Fatalf("phone: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, bounded by the deadline
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// value reads a counter's or gauge's current value. (prometheus's testutil
// would pull a module this repository does not carry.)
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	t.Fatal("not a counter or gauge")
	return 0
}
