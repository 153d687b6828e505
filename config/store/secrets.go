package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoSecretKey is returned by OpenSecret when a sealed secret is read but
// the key file (<data dir>/secrets.key) is missing: the data was copied or
// restored without it. Restore the file, or give the secrets again.
var ErrNoSecretKey = errors.New("store: secrets.key is missing from the data directory; restore it or set the secrets again")

// ErrSecretKey is returned when secrets.key is not a key this build wrote, or
// when it does not open a sealed secret (another box's key, or a damaged
// value).
var ErrSecretKey = errors.New("store: secrets.key does not open this secret (wrong or damaged key file)")

// SecretKeyFile is the name of the key file in the data directory.
const SecretKeyFile = "secrets.key"

// sealedPrefix versions the sealed form, so another algorithm or key can be
// introduced beside this one.
const sealedPrefix = "v1:"

const secretKeyLen = 32 // AES-256

// SealSecret encrypts plain with AES-256-GCM under the box's secret key and
// returns the sealed form to store ("v1:" + base64 of nonce and ciphertext).
// label is authenticated with it (TrunkSecretLabel for a trunk), so a sealed
// value copied to another record does not open there.
//
// The key is 32 random bytes in <data dir>/secrets.key, mode 0600, written on
// the first SealSecret. It is deliberately not in the database: a copy of the
// database alone (or of a backup) does not yield the carriers' passwords.
// Keep the key file with backups that must restore trunk secrets.
func (db *DB) SealSecret(label, plain string) (string, error) {
	key, err := db.secretKey(true)
	if err != nil {
		return "", err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("store: seal secret: %w", err)
	}
	out := aead.Seal(nonce, nonce, []byte(plain), []byte(label))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// OpenSecret decrypts a value made by SealSecret with the same label. ""
// opens as "" (no secret). A missing key file is ErrNoSecretKey; a key that
// does not open the value is ErrSecretKey.
func (db *DB) OpenSecret(label, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", fmt.Errorf("open secret: %w: unknown sealed form", ErrSecretKey)
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return "", fmt.Errorf("open secret: %w: %w", ErrSecretKey, err)
	}
	key, err := db.secretKey(false)
	if err != nil {
		return "", err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(data) < aead.NonceSize() {
		return "", fmt.Errorf("open secret: %w: too short", ErrSecretKey)
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(label))
	if err != nil {
		return "", fmt.Errorf("open secret: %w", ErrSecretKey)
	}
	return string(plain), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: secret key: %w", err)
	}
	return cipher.NewGCM(block)
}

// secretKey reads the key file, creating it first when create is set and it
// does not exist. It is read on each use rather than cached: secrets are
// sealed and opened when configuration changes, not per call.
func (db *DB) secretKey(create bool) ([]byte, error) {
	path := filepath.Join(db.dir, SecretKeyFile)
	key, err := readSecretKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if !create {
		return nil, ErrNoSecretKey
	}
	if db.readOnly {
		return nil, fmt.Errorf("create %s: %w", SecretKeyFile, ErrReadOnly)
	}
	if err := writeSecretKey(path); err != nil {
		return nil, err
	}
	return readSecretKey(path)
}

// readSecretKey reads 64 hex digits (and an optional newline).
func readSecretKey(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil || len(key) != secretKeyLen {
		return nil, fmt.Errorf("%s: %w: want %d hex digits", path, ErrSecretKey, 2*secretKeyLen)
	}
	return key, nil
}

// writeSecretKey writes a fresh key to a temporary file and links it into
// place, so that a concurrent reader never sees half a key and, when two
// writers race, the first link wins and both then read the same key.
func writeSecretKey(path string) error {
	var key [secretKeyLen]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("store: secret key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secrets.key-*")
	if err != nil {
		return fmt.Errorf("store: secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store: secret key: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key[:]) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("store: secret key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("store: secret key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store: secret key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: secret key: %w", err)
	}
	return nil
}
