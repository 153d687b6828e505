package cert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"github.com/ccbox/ccbox/config"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustLoad(t *testing.T, dir string, extra []net.IP, now time.Time) tls.Certificate {
	t.Helper()
	c, err := LoadOrCreate(dir, "", "", extra, now)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	if c.Leaf == nil {
		t.Fatal("Leaf not set")
	}
	return c
}

func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	extra := []net.IP{net.ParseIP("203.0.113.7")}
	c := mustLoad(t, dir, extra, t0)
	leaf := c.Leaf

	key, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != 825*24*time.Hour {
		t.Errorf("validity %v, want 825 days", got)
	}
	if !leaf.NotBefore.Before(t0) || !leaf.NotAfter.After(t0.Add(824*24*time.Hour)) {
		t.Errorf("validity %v..%v does not cover now %v for 825 days", leaf.NotBefore, leaf.NotAfter, t0)
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || leaf.IsCA {
		t.Errorf("want a server certificate that is not a CA: eku %v, ca %v", leaf.ExtKeyUsage, leaf.IsCA)
	}
	if !slices.Contains(leaf.DNSNames, "localhost") {
		t.Errorf("DNS names %v lack localhost", leaf.DNSNames)
	}
	if host, err := os.Hostname(); err == nil && config.IsHostname(strings.ToLower(host)) && !slices.Contains(leaf.DNSNames, host) {
		t.Errorf("DNS names %v lack the host name %q", leaf.DNSNames, host)
	}
	wantIPs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("203.0.113.7")}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !(n.IP.To4() == nil && n.IP.IsLinkLocalUnicast()) {
			wantIPs = append(wantIPs, n.IP)
		}
	}
	for _, ip := range wantIPs {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			t.Errorf("IP addresses %v lack %v", leaf.IPAddresses, ip)
		}
	}

	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, CertFileName)); err != nil {
		t.Error(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestReload checks when the kept self-signed certificate is reused and
// when it is made again.
func TestReload(t *testing.T) {
	public := net.ParseIP("203.0.113.7")
	tests := []struct {
		name   string
		extra  []net.IP
		now    time.Time
		damage func(t *testing.T, dir string)
		same   bool
	}{
		{name: "same inputs", now: t0, same: true},
		{name: "a day later", now: t0.Add(24 * time.Hour), same: true},
		{name: "extra already named", extra: []net.IP{public}, now: t0, same: true},
		{name: "extra as IPv4-in-IPv6", extra: []net.IP{public.To16()}, now: t0, same: true},
		{name: "31 days before expiry", now: t0.Add(Lifetime - 31*24*time.Hour), same: true},
		{name: "29 days before expiry", now: t0.Add(Lifetime - 29*24*time.Hour), same: false},
		{name: "expired", now: t0.Add(Lifetime + time.Hour), same: false},
		{name: "clock went back before NotBefore", now: t0.Add(-48 * time.Hour), same: false},
		{name: "new extra address", extra: []net.IP{public, net.ParseIP("198.51.100.1")}, now: t0, same: false},
		{name: "new extra IPv6 address", extra: []net.IP{public, net.ParseIP("2001:db8::1")}, now: t0, same: false},
		{name: "corrupt certificate", now: t0, damage: func(t *testing.T, dir string) {
			writeTestFile(t, filepath.Join(dir, CertFileName), []byte("garbage"))
		}, same: false},
		{name: "key of another pair", now: t0, damage: func(t *testing.T, dir string) {
			_, otherKey := makePair(t, "other", time.Now())
			writeTestFile(t, filepath.Join(dir, KeyFileName), otherKey)
		}, same: false},
		{name: "key missing", now: t0, damage: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, KeyFileName)); err != nil {
				t.Fatal(err)
			}
		}, same: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			first := mustLoad(t, dir, []net.IP{public}, t0)
			if tt.damage != nil {
				tt.damage(t, dir)
			}
			second := mustLoad(t, dir, tt.extra, tt.now)
			same := first.Leaf.SerialNumber.Cmp(second.Leaf.SerialNumber) == 0
			if same != tt.same {
				t.Fatalf("same certificate = %v, want %v", same, tt.same)
			}
			if !same {
				if !stillGood(second.Leaf, wantedNames("", nil, tt.extra), tt.now) {
					t.Errorf("new certificate is not good for %v at %v", tt.extra, tt.now)
				}
				// The new one is what the next start finds.
				third := mustLoad(t, dir, tt.extra, tt.now)
				if third.Leaf.SerialNumber.Cmp(second.Leaf.SerialNumber) != 0 {
					t.Error("the re-made certificate was not kept")
				}
			}
		})
	}
}

// TestReloadHostnameChange covers a renamed box, with the names injected.
func TestReloadHostnameChange(t *testing.T) {
	dir := t.TempDir()
	first, err := loadOrCreateSelfSigned(dir, wantedNames("pbx-old", nil, nil), t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	same, err := loadOrCreateSelfSigned(dir, wantedNames("PBX-OLD", nil, nil), t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if same.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Error("host name compared case-sensitively")
	}
	renamed, err := loadOrCreateSelfSigned(dir, wantedNames("pbx-new", nil, nil), t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Fatal("certificate not re-made after a host name change")
	}
	if !slices.Contains(renamed.Leaf.DNSNames, "pbx-new") {
		t.Errorf("DNS names %v lack pbx-new", renamed.Leaf.DNSNames)
	}
}

func TestLooseKeyModeTightened(t *testing.T) {
	dir := t.TempDir()
	first := mustLoad(t, dir, nil, t0)
	key := filepath.Join(dir, KeyFileName)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	again := mustLoad(t, dir, nil, t0)
	if again.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Error("certificate re-made for a mode change")
	}
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestWantedNames(t *testing.T) {
	ipnet := func(s string) net.Addr { return &net.IPNet{IP: net.ParseIP(s), Mask: net.CIDRMask(24, 32)} }
	tests := []struct {
		name    string
		host    string
		addrs   []net.Addr
		extra   []net.IP
		wantDNS []string
		wantIPs []string
	}{
		{"nothing known", "", nil, nil, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{"host name lower-cased", "PBX-1.example.com.", nil, nil, []string{"pbx-1.example.com", "localhost"}, []string{"127.0.0.1", "::1"}},
		{"invalid host name dropped", "my_box", nil, nil, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{"interfaces and extra, deduplicated", "pbx",
			[]net.Addr{ipnet("127.0.0.1"), ipnet("192.168.1.10"), &net.IPAddr{IP: net.ParseIP("2001:db8::10")}, ipnet("fe80::1")},
			[]net.IP{net.ParseIP("192.168.1.10"), net.ParseIP("203.0.113.7"), nil, net.IPv4zero, net.ParseIP("224.0.0.1")},
			[]string{"pbx", "localhost"},
			[]string{"127.0.0.1", "::1", "192.168.1.10", "2001:db8::10", "203.0.113.7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := wantedNames(tt.host, tt.addrs, tt.extra)
			if !slices.Equal(n.dns, tt.wantDNS) {
				t.Errorf("dns = %v, want %v", n.dns, tt.wantDNS)
			}
			var ips []string
			for _, ip := range n.ips {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("ips = %v, want %v", ips, tt.wantIPs)
			}
		})
	}
}

func TestInstalled(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	ecCert, ecKey := makePair(t, "ec", time.Now())
	writeTestFile(t, path("ec.crt"), ecCert)
	writeTestFile(t, path("ec.key"), ecKey)
	_, otherKey := makePair(t, "other", time.Now())
	writeTestFile(t, path("other.key"), otherKey)
	oldCert, oldKey := makePair(t, "old", time.Now().Add(-5*365*24*time.Hour))
	writeTestFile(t, path("old.crt"), oldCert)
	writeTestFile(t, path("old.key"), oldKey)
	rsaCert, rsaKey := makeRSAPair(t)
	writeTestFile(t, path("rsa.crt"), rsaCert)
	writeTestFile(t, path("rsa.key"), rsaKey)
	writeTestFile(t, path("chain.crt"), append(append([]byte{}, ecCert...), rsaCert...))
	writeTestFile(t, path("garbage"), []byte("not pem at all\n"))
	writeTestFile(t, path("bad-der.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}))
	writeTestFile(t, path("bad-der.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
	writeTestFile(t, path("encrypted.key"), pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}))

	tests := []struct {
		name      string
		cert, key string
		wantPath  string // "" with wantIs nil: success
		wantIs    error
		wantCN    string
	}{
		{name: "ECDSA pair", cert: path("ec.crt"), key: path("ec.key"), wantCN: "ec"},
		{name: "RSA PKCS#1 pair", cert: path("rsa.crt"), key: path("rsa.key"), wantCN: "rsa"},
		{name: "chain", cert: path("chain.crt"), key: path("ec.key"), wantCN: "ec"},
		{name: "expired is still served", cert: path("old.crt"), key: path("old.key"), wantCN: "old"},
		{name: "cert only", cert: path("ec.crt"), wantIs: ErrIncomplete},
		{name: "key only", key: path("ec.key"), wantIs: ErrIncomplete},
		{name: "cert missing", cert: path("nope.crt"), key: path("ec.key"), wantPath: path("nope.crt"), wantIs: fs.ErrNotExist},
		{name: "key missing", cert: path("ec.crt"), key: path("nope.key"), wantPath: path("nope.key"), wantIs: fs.ErrNotExist},
		{name: "cert not PEM", cert: path("garbage"), key: path("ec.key"), wantPath: path("garbage"), wantIs: ErrNoPEM},
		{name: "key not PEM", cert: path("ec.crt"), key: path("garbage"), wantPath: path("garbage"), wantIs: ErrNoPEM},
		{name: "key file holds a certificate", cert: path("ec.crt"), key: path("ec.crt"), wantPath: path("ec.crt"), wantIs: ErrNoPEM},
		{name: "cert file holds a key", cert: path("ec.key"), key: path("ec.key"), wantPath: path("ec.key"), wantIs: ErrNoPEM},
		{name: "cert DER broken", cert: path("bad-der.crt"), key: path("ec.key"), wantPath: path("bad-der.crt")},
		{name: "key DER broken", cert: path("ec.crt"), key: path("bad-der.key"), wantPath: path("bad-der.key")},
		{name: "key encrypted", cert: path("ec.crt"), key: path("encrypted.key"), wantPath: path("encrypted.key")},
		{name: "key of another certificate", cert: path("ec.crt"), key: path("other.key"), wantPath: path("other.key"), wantIs: ErrMismatch},
		{name: "directory as cert", cert: dir, key: path("ec.key"), wantPath: dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			selfDir := t.TempDir()
			c, err := LoadOrCreate(selfDir, tt.cert, tt.key, nil, t0)
			if entries, _ := os.ReadDir(selfDir); len(entries) > 0 {
				t.Errorf("self-signed files written although files were given: %v", entries)
			}
			if tt.wantPath == "" && tt.wantIs == nil {
				if err != nil {
					t.Fatalf("LoadOrCreate: %v", err)
				}
				if c.Leaf == nil || c.Leaf.Subject.CommonName != tt.wantCN {
					t.Fatalf("loaded %v, want CN %q", c.Leaf, tt.wantCN)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadOrCreate succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if tt.wantPath != "" {
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v (%T) is not a *FileError", err, err)
				}
				if fe.Path != tt.wantPath {
					t.Errorf("error names %q, want %q", fe.Path, tt.wantPath)
				}
			}
		})
	}
}

// TestServeTLS serves the self-signed certificate on loopback and checks
// that a client trusting just that certificate verifies it for localhost
// and 127.0.0.1.
func TestServeTLS(t *testing.T) {
	c := mustLoad(t, t.TempDir(), nil, time.Now())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			_, _ = io.WriteString(conn, "hello")
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-served
	})

	pool := x509.NewCertPool()
	pool.AddCert(c.Leaf)
	for _, name := range []string{"localhost", "127.0.0.1"} {
		t.Run(name, func(t *testing.T) {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(),
				&tls.Config{RootCAs: pool, ServerName: name, MinVersion: tls.VersionTLS12})
			if err != nil {
				t.Fatalf("dial as %q: %v", name, err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(conn)
			if err != nil || string(got) != "hello" {
				t.Fatalf("read %q, %v", got, err)
			}
		})
	}
	t.Run("other name rejected", func(t *testing.T) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(),
			&tls.Config{RootCAs: pool, ServerName: "example.com", MinVersion: tls.VersionTLS12})
		if err == nil {
			conn.Close()
			t.Fatal("verified for a name the certificate does not carry")
		}
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Errorf("error %v (%T), want x509.HostnameError", err, err)
		}
	})
}

// makePair returns a self-signed ECDSA certificate named cn, valid for a
// year from notBefore, and its PKCS#8 key, in PEM.
func makePair(t *testing.T, cn string, notBefore time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := makeCert(t, cn, notBefore, key.Public(), key)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// makeRSAPair is makePair with an RSA key in PKCS#1 ("RSA PRIVATE KEY").
func makeRSAPair(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der := makeCert(t, "rsa", time.Now(), key.Public(), key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func makeCert(t *testing.T, cn string, notBefore time.Time, pub crypto.PublicKey, signer crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notBefore.Add(365 * 24 * time.Hour),
		DNSNames:     []string{cn + ".example.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
