package cert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/ccbox/ccbox/config"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names of the self-signed certificate and its key inside dir.
const (
	CertFileName = "cert.pem"
	KeyFileName  = "key.pem"
)

const (
	// Lifetime is the validity of a self-signed certificate: 825 days is
	// the longest that Apple platforms accept for a TLS server certificate.
	Lifetime = 825 * 24 * time.Hour
	// RenewBefore is how long before expiry a self-signed certificate is
	// made again (at the next start).
	RenewBefore = 30 * 24 * time.Hour
	// backdate covers clocks of clients running a little behind ours.
	backdate = time.Hour
)

// ErrIncomplete is returned when only one of the certificate and key files
// is given: an administrator-installed certificate needs both.
var ErrIncomplete = errors.New("cert: give both the certificate and the key file, or neither")

// ErrNoPEM is wrapped in a *FileError when a file holds no PEM block of
// the expected kind (CERTIFICATE, or a PRIVATE KEY).
var ErrNoPEM = errors.New("no PEM block of the expected kind")

// ErrMismatch is wrapped in a *FileError (naming the key file) when the
// private key does not belong to the certificate.
var ErrMismatch = errors.New("private key does not match the certificate")

// FileError is a problem with one certificate or key file.
type FileError struct {
	Path string // the file
	Err  error  // what is wrong with it
}

// Error returns "cert: PATH: problem".
func (e *FileError) Error() string { return "cert: " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the problem.
func (e *FileError) Unwrap() error { return e.Err }

// LoadOrCreate returns the certificate at certFile/keyFile when both are set
// (administrator-installed; errors are *FileError naming the file and the
// problem, or ErrIncomplete), otherwise the self-signed one kept in dir
// (normally DataDir/tls, holding cert.pem and key.pem with mode 0600),
// creating it on first start.
//
// A self-signed certificate uses ECDSA P-256, is valid for 825 days and
// names the host name, "localhost", every address of every local interface
// (IPv6 link-local ones excepted: a URL cannot carry their zone) and every
// address in extra (such as the configured public IP). It is made again
// when it expires within 30 days, is not yet valid at now, or lacks one of
// those names, so a box that moved to a new address or host name gets a
// certificate for it at the next start.
//
// An installed certificate is returned even when it has expired, so that
// an outdated certificate cannot stop the telephone service; the caller may
// warn on the returned Leaf.NotAfter.
func LoadOrCreate(dir, certFile, keyFile string, extra []net.IP, now time.Time) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		return loadInstalled(certFile, keyFile)
	}
	host, err := os.Hostname()
	if err != nil {
		host = ""
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		// Without the interface list the certificate still covers
		// localhost and extra; better than no HTTPS at all.
		addrs = nil
	}
	return loadOrCreateSelfSigned(dir, wantedNames(host, addrs, extra), now, rand.Reader)
}

// names are the subject alternative names a self-signed certificate must
// carry.
type names struct {
	dns []string
	ips []net.IP
}

// wantedNames lists the names for host, the interface addresses and extra,
// without duplicates.
func wantedNames(host string, addrs []net.Addr, extra []net.IP) names {
	var n names
	addDNS := func(s string) {
		s = strings.ToLower(strings.TrimSuffix(s, "."))
		if !config.IsHostname(s) {
			return
		}
		for _, d := range n.dns {
			if d == s {
				return
			}
		}
		n.dns = append(n.dns, s)
	}
	addIP := func(ip net.IP) {
		if ip == nil || ip.IsUnspecified() || ip.IsMulticast() {
			return
		}
		if ip.To4() == nil && ip.IsLinkLocalUnicast() {
			return
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		for _, have := range n.ips {
			if have.Equal(ip) {
				return
			}
		}
		n.ips = append(n.ips, ip)
	}
	addDNS(host)
	addDNS("localhost")
	// localhost resolves to the loopback addresses; name them even when
	// the interface list is unavailable.
	addIP(net.IPv4(127, 0, 0, 1))
	addIP(net.IPv6loopback)
	for _, a := range addrs {
		switch a := a.(type) {
		case *net.IPNet:
			addIP(a.IP)
		case *net.IPAddr:
			addIP(a.IP)
		}
	}
	for _, ip := range extra {
		addIP(ip)
	}
	return n
}

// loadOrCreateSelfSigned returns the certificate in dir when it is still
// good for want at now, and otherwise makes and stores a new one.
func loadOrCreateSelfSigned(dir string, want names, now time.Time, random io.Reader) (tls.Certificate, error) {
	certPath := filepath.Join(dir, CertFileName)
	keyPath := filepath.Join(dir, KeyFileName)

	existing, err := loadPair(certPath, keyPath)
	switch {
	case err == nil && stillGood(existing.Leaf, want, now):
		// An older version or a hand copy may have left the key readable
		// by others; tighten it while we are here.
		if fi, serr := os.Stat(keyPath); serr == nil && fi.Mode().Perm()&0o077 != 0 {
			if cerr := os.Chmod(keyPath, 0o600); cerr != nil {
				return tls.Certificate{}, &FileError{Path: keyPath, Err: cerr}
			}
		}
		return existing, nil
	case err == nil:
		// Expiring or missing a name: make a new one below.
	case errors.Is(err, fs.ErrNotExist):
		// First start.
	case errors.Is(err, fs.ErrPermission):
		// Not ours to replace.
		return tls.Certificate{}, err
	default:
		// Unparsable or mismatched files are ours (a crash between writing
		// the key and the certificate leaves a mismatched pair): replace.
	}

	certPEM, keyPEM, err := create(want, now, random)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, &FileError{Path: dir, Err: err}
	}
	// The key first: a crash between the two writes leaves a pair that
	// does not match, which the next start replaces.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cert: new self-signed certificate: %w", err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("cert: new self-signed certificate: %w", err)
		}
	}
	return c, nil
}

// stillGood reports whether leaf is valid at now, for more than
// RenewBefore, and names everything in want.
func stillGood(leaf *x509.Certificate, want names, now time.Time) bool {
	if now.Before(leaf.NotBefore) || !now.Add(RenewBefore).Before(leaf.NotAfter) {
		return false
	}
	for _, d := range want.dns {
		found := false
		for _, have := range leaf.DNSNames {
			if strings.EqualFold(have, d) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, ip := range want.ips {
		found := false
		for _, have := range leaf.IPAddresses {
			if have.Equal(ip) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// create makes a self-signed certificate for want and returns it and its
// key in PEM.
func create(want names, now time.Time, random io.Reader) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), random)
	if err != nil {
		return nil, nil, fmt.Errorf("cert: generate key: %w", err)
	}
	serial, err := rand.Int(random, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("cert: serial number: %w", err)
	}
	cn := "CCBox appliance"
	if len(want.dns) > 0 && want.dns[0] != "localhost" {
		cn = want.dns[0]
	}
	notBefore := now.Add(-backdate).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"CCBox self-signed"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(Lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              want.dns,
		IPAddresses:           want.ips,
	}
	der, err := x509.CreateCertificate(random, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("cert: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("cert: encode key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// loadInstalled loads an administrator-installed pair, checking each file
// on its own first so that the error names the file at fault.
func loadInstalled(certFile, keyFile string) (tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return tls.Certificate{}, ErrIncomplete
	}
	return loadPair(certFile, keyFile)
}

// loadPair reads and checks a certificate file and its key file. Errors
// are *FileError; a missing file wraps fs.ErrNotExist.
func loadPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, &FileError{Path: certFile, Err: unwrapPath(err)}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, &FileError{Path: keyFile, Err: unwrapPath(err)}
	}

	block := findPEM(certPEM, func(t string) bool { return t == "CERTIFICATE" })
	if block == nil {
		return tls.Certificate{}, &FileError{Path: certFile, Err: fmt.Errorf("%w: want CERTIFICATE", ErrNoPEM)}
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return tls.Certificate{}, &FileError{Path: certFile, Err: err}
	}

	kblock := findPEM(keyPEM, func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") })
	if kblock == nil {
		return tls.Certificate{}, &FileError{Path: keyFile, Err: fmt.Errorf("%w: want PRIVATE KEY", ErrNoPEM)}
	}
	key, err := parsePrivateKey(kblock)
	if err != nil {
		return tls.Certificate{}, &FileError{Path: keyFile, Err: err}
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return tls.Certificate{}, &FileError{Path: keyFile, Err: fmt.Errorf("%w in %s", ErrMismatch, certFile)}
	}

	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, &FileError{Path: certFile, Err: err}
	}
	c.Leaf = leaf
	return c, nil
}

// findPEM returns the first PEM block in data whose type matches.
func findPEM(data []byte, match func(string) bool) *pem.Block {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil
		}
		if match(b.Type) {
			return b
		}
	}
}

// parsePrivateKey parses the key encodings tls.X509KeyPair accepts.
func parsePrivateKey(b *pem.Block) (crypto.Signer, error) {
	if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
		return nil, errors.New("the private key is encrypted; store it without a passphrase")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("unsupported private key type %T", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("cannot parse the %s block (PKCS#8, PKCS#1 and SEC 1 are supported)", b.Type)
}

// unwrapPath drops the *fs.PathError wrapper whose path FileError already
// shows; errors.Is(err, fs.ErrNotExist) still holds.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so that a crash leaves the old file or the new one, never half.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return &FileError{Path: path, Err: err}
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return &FileError{Path: path, Err: err}
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return &FileError{Path: path, Err: err}
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return &FileError{Path: path, Err: err}
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
