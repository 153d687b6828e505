package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/config/cert"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/event"
	"github.com/ccbox/ccbox/pbx/sip"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/prometheus/client_golang/prometheus"
)

func openTestStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func putExtension(t *testing.T, db *store.DB, realm, number, secret string, disabled bool) {
	t.Helper()
	now := time.Now()
	err := db.Update(func(tx *store.Tx) error {
		return tx.PutExtension(store.Extension{
			Number: number, Disabled: disabled, Created: now, Updated: now,
			HA1MD5:    sip.HA1("MD5", number, realm, secret),
			HA1SHA256: sip.HA1("SHA-256", number, realm, secret),
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSIPDirectory(t *testing.T) {
	db := openTestStore(t)
	putExtension(t, db, "r", "1001", "secret-1001", false)
	putExtension(t, db, "r", "1002", "secret-1002", true)
	dir := sipDirectory{db: db}
	tests := []struct {
		ext     sip.Extension
		want    sip.Credentials
		wantErr error
	}{
		{"1001", sip.Credentials{HA1MD5: sip.HA1("MD5", "1001", "r", "secret-1001"), HA1SHA256: sip.HA1("SHA-256", "1001", "r", "secret-1001")}, nil},
		{"1002", sip.Credentials{HA1MD5: sip.HA1("MD5", "1002", "r", "secret-1002"), HA1SHA256: sip.HA1("SHA-256", "1002", "r", "secret-1002"), Disabled: true}, nil},
		{"1003", sip.Credentials{}, sip.ErrNoSuchExtension},
		// A name that cannot be a store key is just not there.
		{"10/01", sip.Credentials{}, sip.ErrNoSuchExtension},
	}
	for _, tt := range tests {
		t.Run(string(tt.ext), func(t *testing.T) {
			got, err := dir.Credentials(tt.ext)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("Credentials(%s) = %+v, %v; want %+v, %v", tt.ext, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSIPBindingsRoundTrip(t *testing.T) {
	db := openTestStore(t)
	bs := sipBindings{db: db, log: slog.New(slog.DiscardHandler)}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	a := []sip.Binding{
		// A contact may hold a slash; the store key must not.
		{Contact: "sip:1001@192.0.2.1:5060;transport=udp;x=a/b", Source: "192.0.2.1:5060", Transport: sip.TransportUDP,
			Expires: exp, CallID: "c1", CSeq: 7, UserAgent: "baresip", Available: true},
		{Contact: "sip:1001@192.0.2.2:5061;transport=tls", Source: "192.0.2.2:40000", Transport: sip.TransportTLS,
			Expires: exp.Add(time.Minute), CallID: "c2", CSeq: 1},
	}
	b := []sip.Binding{{Contact: "sip:1002@192.0.2.3", Source: "192.0.2.3:5060", Transport: sip.TransportTCP, Expires: exp, Available: true}}
	if err := bs.SaveBindings("1001", a); err != nil {
		t.Fatal(err)
	}
	if err := bs.SaveBindings("1002", b); err != nil {
		t.Fatal(err)
	}
	got, err := bs.LoadBindings()
	if err != nil {
		t.Fatal(err)
	}
	byContact := func(bs []sip.Binding) map[string]sip.Binding {
		m := map[string]sip.Binding{}
		for _, b := range bs {
			m[b.Contact] = b
		}
		return m
	}
	if len(got) != 2 || !reflect.DeepEqual(byContact(got["1001"]), byContact(a)) || !reflect.DeepEqual(got["1002"], b) {
		t.Fatalf("LoadBindings = %+v", got)
	}

	// Saving replaces: one binding left for 1001, none for 1002.
	if err := bs.SaveBindings("1001", a[1:]); err != nil {
		t.Fatal(err)
	}
	if err := bs.SaveBindings("1002", nil); err != nil {
		t.Fatal(err)
	}
	got, err = bs.LoadBindings()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[sip.Extension][]sip.Binding{"1001": a[1:]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after replacing: %+v, want %+v", got, want)
	}
}

// TestSIPServerWiring runs the SIP server as run() builds it, on loopback
// sockets: a SHA-256 REGISTER over TLS (the HTTPS certificate) and an MD5
// one over UDP are accepted, stored, listed for the web API and published
// as device.state_changed; a wrong secret is refused.
func TestSIPServerWiring(t *testing.T) {
	db := openTestStore(t)
	const realm = "ccbox-test"
	putExtension(t, db, realm, "1001", "secret-1001", false)
	certificate, err := cert.LoadOrCreate(filepath.Join(t.TempDir(), "tls"), "", "", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bus := event.NewBus(nil)
	sub := bus.Subscribe(16)
	defer sub.Close()
	cfg := config.Default()
	srv, err := newSIPServer(sipDeps{cfg: cfg, realm: realm, certificate: certificate, db: db, devices: call.NewDevices(bus),
		reg: prometheus.NewRegistry(), log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := bind(config.Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", SIPTLSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, sip.Listeners{UDP: ls.sipUDP, TCP: ls.sipTCP, TLS: ls.sipTLS}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	log := slog.New(slog.DiscardHandler)
	tlsPhone, err := siptest.New("tls", "127.0.0.2:5061", log)
	if err != nil {
		t.Fatal(err)
	}
	defer tlsPhone.Close()
	res, err := tlsPhone.Register(rctx, siptest.Register{Server: ls.sipTLS.Addr().String(), Ext: "1001",
		Password: "secret-1001", Algorithm: "SHA-256", Expires: 300})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("TLS SHA-256 register: %v, %v", res, err)
	}
	udpPhone, err := siptest.New("udp", "127.0.0.3:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer udpPhone.Close()
	res, err = udpPhone.Register(rctx, siptest.Register{Server: ls.sipUDP.LocalAddr().String(), Ext: "1001",
		Password: "secret-1001", Algorithm: "MD5", Expires: 300})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("UDP MD5 register: %v, %v", res, err)
	}
	res, err = udpPhone.Register(rctx, siptest.Register{Server: ls.sipUDP.LocalAddr().String(), Ext: "1001",
		Password: "wrong-secret", Algorithm: "MD5", Expires: 300})
	if err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong secret: %v, %v; want 403", res, err)
	}

	// One event per accepted REGISTER, the second with two contacts.
	var got []call.DeviceView
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for len(got) < 2 {
		select {
		case e := <-sub.C():
			if e.Type != call.EventDeviceStateChanged || e.Subject != "device:sip:1001" {
				t.Fatalf("event %+v", e)
			}
			got = append(got, e.Data.(call.DeviceView))
		case <-timeout.C:
			t.Fatalf("device.state_changed events: %+v, want 2", got)
		}
	}
	want := []call.DeviceView{
		{Kind: call.DeviceSIP, ID: "1001", State: "idle", Contacts: 1, Available: 1},
		{Kind: call.DeviceSIP, ID: "1001", State: "idle", Contacts: 2, Available: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %+v, want %+v", got, want)
	}

	listed := sipRegistrations(srv)("1001")
	transports := map[string]string{}
	for _, c := range listed {
		transports[c.Transport] = c.Source
	}
	if len(listed) != 2 || transports["udp"] != udpPhone.Addr || transports["tls"] == "" {
		t.Errorf("listed contacts %+v", listed)
	}
	stored, err := sipBindings{db: db, log: log}.LoadBindings()
	if err != nil || len(stored["1001"]) != 2 {
		t.Errorf("stored bindings %+v, %v; want 2 of 1001", stored, err)
	}
}

// TestBindReportsEveryPortInUse: every listener that cannot be bound is
// reported, each under its own setting, and nothing stays bound.
func TestBindReportsEveryPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer takenUDP.Close()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	tcpInUse, udpInUse := taken.Addr().String(), takenUDP.LocalAddr().String()
	tests := []struct {
		name string
		cfg  config.Config
		want []string
	}{
		{"http and sip tls", config.Config{HTTPAddr: tcpInUse, HTTPSAddr: free(), SIPAddr: "127.0.0.1:0", SIPTLSAddr: tcpInUse},
			[]string{"http_addr", "sip_tls_addr"}},
		{"sip tcp", config.Config{HTTPAddr: free(), HTTPSAddr: free(), SIPAddr: tcpInUse, SIPTLSAddr: free()},
			[]string{"sip_addr"}},
		{"sip udp and https", config.Config{HTTPAddr: free(), HTTPSAddr: tcpInUse, SIPAddr: udpInUse, SIPTLSAddr: free()},
			[]string{"https_addr", "sip_addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, err := bind(tt.cfg)
			if err == nil {
				ls.close()
				t.Fatal("bind succeeded")
			}
			var fields []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var fe *config.FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("%v is not a FieldError", e)
				}
				fields = append(fields, fe.Field)
			}
			if !reflect.DeepEqual(fields, tt.want) {
				t.Errorf("problems for %v, want %v", fields, tt.want)
			}
			// What was bound was released: the free addresses bind again.
			for _, a := range []string{tt.cfg.HTTPAddr, tt.cfg.HTTPSAddr, tt.cfg.SIPTLSAddr} {
				if a == tcpInUse {
					continue
				}
				l, err := net.Listen("tcp", a)
				if err != nil {
					t.Errorf("%s still bound after a failed bind: %v", a, err)
					continue
				}
				l.Close()
			}
		})
	}
}
