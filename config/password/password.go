package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Policy limits, in bytes.
const (
	MinLength = 8
	MaxLength = 72 // bcrypt ignores everything after 72 bytes
)

// DefaultCost is the bcrypt cost used when NewHasher is given cost <= 0
// (about 50 ms per hash on the appliance's class of CPU).
const DefaultCost = 10

// ErrTooShort is returned by Check for a password under MinLength bytes.
var ErrTooShort = errors.New("password: shorter than 8 bytes")

// ErrTooLong is returned by Check (and Hash) for a password over MaxLength
// bytes: bcrypt would silently ignore the rest.
var ErrTooLong = errors.New("password: longer than 72 bytes")

// ErrBlank is returned by Check for a password of nothing but whitespace.
var ErrBlank = errors.New("password: only whitespace")

// ErrInvalidHash is returned by Verify when the stored hash is not a bcrypt
// hash this package can verify (the comparison is still spent).
var ErrInvalidHash = errors.New("password: stored hash is not a valid bcrypt hash")

// Hasher hashes people's passwords with bcrypt, with a bound on how many hashes
// run at once (bcrypt burns CPU; unbounded it lets a burst of logins starve calls).
type Hasher struct {
	slots chan struct{}
	cost  int

	dummyOnce sync.Once
	dummy     []byte // hash of a fixed string at cost, for Verify with no hash
}

// NewHasher returns a Hasher running at most concurrency hashes at once
// (<= 0: runtime.GOMAXPROCS(0)) at the given bcrypt cost (<= 0: DefaultCost).
func NewHasher(concurrency, cost int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	if cost <= 0 {
		cost = DefaultCost
	}
	return &Hasher{slots: make(chan struct{}, concurrency), cost: cost}
}

// acquire waits for a hashing slot or for ctx to end.
func (h *Hasher) acquire(ctx context.Context) error {
	if ctx.Err() != nil {
		// select picks at random when a slot is free too; an ended ctx must win.
		return context.Cause(ctx)
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the bcrypt hash of plain. It refuses passwords longer than
// MaxLength (ErrTooLong); the rest of the policy is Check's.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	if len(plain) > MaxLength {
		return "", ErrTooLong
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	b, err := bcrypt.GenerateFromPassword([]byte(plain), h.cost)
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return string(b), nil
}

// Verify reports whether plain matches hash. With hash == "" it still spends
// one bcrypt comparison against a fixed dummy hash and returns false, so an
// unknown user takes as long as a known one. A hash that is not a valid bcrypt hash is treated the same way and reported
// as ErrInvalidHash. Only a cancelled ctx (while waiting for a slot) or a bad
// hash returns an error; a wrong password is (false, nil).
func (h *Hasher) Verify(ctx context.Context, hash, plain string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" || !IsHash(hash) {
		bcrypt.CompareHashAndPassword(h.dummyHash(), []byte(plain))
		if hash == "" {
			return false, nil
		}
		return false, ErrInvalidHash
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(plain))
	// bcrypt compares only the first 72 bytes; a longer password is never ours.
	return err == nil && len(plain) <= MaxLength, nil
}

// dummyHash is computed on first use, at the Hasher's cost so that it takes as
// long as a real comparison.
func (h *Hasher) dummyHash() []byte {
	h.dummyOnce.Do(func() {
		h.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user; constant time"), h.cost)
	})
	return h.dummy
}

// IsHash reports whether s is a bcrypt hash this package can verify
// ($2a$/$2b$/$2y$, parseable cost).
func IsHash(s string) bool {
	if len(s) != 60 {
		return false
	}
	switch s[:4] {
	case "$2a$", "$2b$", "$2y$":
	default:
		return false
	}
	_, err := bcrypt.Cost([]byte(s))
	return err == nil
}

// Check applies the password policy: 8 to 72 bytes (bcrypt's limit), not all whitespace.
func Check(plain string) error {
	switch {
	case len(plain) < MinLength:
		return ErrTooShort
	case len(plain) > MaxLength:
		return ErrTooLong
	case strings.TrimSpace(plain) == "":
		return ErrBlank
	}
	return nil
}

// alphabet leaves out characters that are easy to misread (0 O o 1 l I).
const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// Random returns 16 characters from an unambiguous alphabet, drawn with
// crypto/rand: the first-start admin password.
func Random() string {
	const n = 16
	// Rejection sampling keeps every character equally likely.
	const limit = 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf) // never returns an error (it crashes the program instead)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
