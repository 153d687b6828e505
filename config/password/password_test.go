package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const testCost = 4 // bcrypt's minimum: fast tests

func TestNewHasherDefaults(t *testing.T) {
	tests := []struct {
		concurrency, cost         int
		wantConcurrency, wantCost int
	}{
		{0, 0, runtime.GOMAXPROCS(0), DefaultCost},
		{-1, -1, runtime.GOMAXPROCS(0), DefaultCost},
		{3, 5, 3, 5},
	}
	for _, tt := range tests {
		h := NewHasher(tt.concurrency, tt.cost)
		if cap(h.slots) != tt.wantConcurrency || h.cost != tt.wantCost {
			t.Errorf("NewHasher(%d, %d) = %d slots, cost %d", tt.concurrency, tt.cost, cap(h.slots), h.cost)
		}
	}
}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(2, testCost)
	const pw = "correct horse battery"
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != testCost {
		t.Errorf("cost = %d, %v", cost, err)
	}
	if !IsHash(hash) {
		t.Errorf("IsHash(%q) = false", hash)
	}
	long72 := strings.Repeat("a", 72)
	hash72, err := h.Hash(ctx, long72)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		hash    string
		plain   string
		want    bool
		wantErr error
	}{
		{"match", hash, pw, true, nil},
		{"wrong", hash, "correct horse battery!", false, nil},
		{"empty plain", hash, "", false, nil},
		{"no hash", "", pw, false, nil},
		{"invalid hash", "plaintext-in-db", pw, false, ErrInvalidHash},
		{"72 bytes", hash72, long72, true, nil},
		{"73 bytes share the first 72", hash72, long72 + "b", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Verify(ctx, tt.hash, tt.plain)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if len(h.dummy) == 0 {
		t.Error("Verify without a hash did not spend a comparison on the dummy hash")
	} else if cost, _ := bcrypt.Cost(h.dummy); cost != testCost {
		t.Errorf("dummy hash cost %d, want the hasher's %d", cost, testCost)
	}

	if _, err := h.Hash(ctx, long72+"b"); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(73 bytes) = %v, want ErrTooLong", err)
	}
	other, _ := h.Hash(ctx, pw)
	if other == hash {
		t.Error("two hashes of one password are equal (no salt?)")
	}
}

func TestSlotWaitRespectsContext(t *testing.T) {
	h := NewHasher(1, testCost)
	h.slots <- struct{}{} // the only slot is busy

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "password1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash = %v, want DeadlineExceeded", err)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := h.Verify(cctx, "", "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify = %v, want Canceled", err)
	}

	// Once the slot frees, a waiting Hash proceeds.
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "password1")
		done <- err
	}()
	<-h.slots
	if err := <-done; err != nil {
		t.Errorf("Hash after release = %v", err)
	}
}

func TestConcurrencyBound(t *testing.T) {
	h := NewHasher(2, testCost)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "password1"); err != nil {
				t.Error(err)
			}
			if n := len(h.slots); n > 2 {
				t.Errorf("%d hashes in flight", n)
			}
		}()
	}
	wg.Wait()
	if n := len(h.slots); n != 0 {
		t.Errorf("%d slots still held", n)
	}
}

func TestIsHash(t *testing.T) {
	valid, _ := bcrypt.GenerateFromPassword([]byte("x"), testCost) // $2a$
	v := string(valid)
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"2a", v, true},
		{"2b", "$2b$" + v[4:], true},
		{"2y", "$2y$" + v[4:], true},
		{"2x", "$2x$" + v[4:], false},
		{"empty", "", false},
		{"plaintext", "password123", false},
		{"truncated", v[:59], false},
		{"bad cost", "$2a$xx$" + v[7:], false},
		{"cost out of range", "$2a$99$" + v[7:], false},
	}
	for _, tt := range tests {
		if got := IsHash(tt.s); got != tt.want {
			t.Errorf("%s: IsHash(%q) = %v", tt.name, tt.s, got)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		plain string
		want  error
	}{
		{"", ErrTooShort},
		{"1234567", ErrTooShort},
		{"12345678", nil},
		{"密码密码密", nil}, // 15 bytes
		{strings.Repeat("x", 72), nil},
		{strings.Repeat("x", 73), ErrTooLong},
		{"        ", ErrBlank},
		{" \t\n  \t\n ", ErrBlank},
		{"  pass word  ", nil},
	}
	for _, tt := range tests {
		if err := Check(tt.plain); !errors.Is(err, tt.want) {
			t.Errorf("Check(%q) = %v, want %v", tt.plain, err, tt.want)
		}
	}
}

func TestRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := Random()
		if len(p) != 16 {
			t.Fatalf("Random() = %q, want 16 chars", p)
		}
		for _, c := range p {
			if !strings.ContainsRune(alphabet, c) || strings.ContainsRune("0Oo1lI", c) {
				t.Fatalf("Random() = %q has %q", p, c)
			}
		}
		if err := Check(p); err != nil {
			t.Fatalf("Random() = %q fails the policy: %v", p, err)
		}
		if seen[p] {
			t.Fatalf("Random() repeated %q", p)
		}
		seen[p] = true
	}
}
