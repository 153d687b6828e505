package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSecretsSealOpen(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, Options{Dir: dir})
	keyPath := filepath.Join(dir, SecretKeyFile)
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("key file exists before first use: %v", err)
	}
	if _, err := db.OpenSecret("trunk/a", "v1:AAAA"); !errors.Is(err, ErrNoSecretKey) {
		t.Fatalf("open without a key file: err = %v, want ErrNoSecretKey", err)
	}

	sealed, err := db.SealSecret("trunk/a", "s3cret pass")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "s3cret") || !strings.HasPrefix(sealed, "v1:") {
		t.Errorf("sealed = %q", sealed)
	}
	st, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	again, _ := db.SealSecret("trunk/a", "s3cret pass")
	if again == sealed {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}

	tests := []struct {
		name    string
		label   string
		sealed  string
		want    string
		wantErr error
	}{
		{"opens", "trunk/a", sealed, "s3cret pass", nil},
		{"empty is no secret", "trunk/a", "", "", nil},
		{"other label", "trunk/b", sealed, "", ErrSecretKey},
		{"tampered", "trunk/a", sealed[:len(sealed)-2] + "AA", "", ErrSecretKey},
		{"unknown form", "trunk/a", "v2:abc", "", ErrSecretKey},
		{"not base64", "trunk/a", "v1:***", "", ErrSecretKey},
		{"too short", "trunk/a", "v1:AAAA", "", ErrSecretKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.OpenSecret(tt.label, tt.sealed)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("OpenSecret = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}

	t.Run("another box's key", func(t *testing.T) {
		other := openTest(t, Options{Dir: t.TempDir()})
		if _, err := other.SealSecret("x", "y"); err != nil {
			t.Fatal(err)
		}
		if _, err := other.OpenSecret("trunk/a", sealed); !errors.Is(err, ErrSecretKey) {
			t.Errorf("err = %v, want ErrSecretKey", err)
		}
	})
	t.Run("damaged key file", func(t *testing.T) {
		dir := t.TempDir()
		db := openTest(t, Options{Dir: dir})
		if err := os.WriteFile(filepath.Join(dir, SecretKeyFile), []byte("not hex\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SealSecret("a", "b"); !errors.Is(err, ErrSecretKey) {
			t.Errorf("seal: err = %v, want ErrSecretKey", err)
		}
		if _, err := db.OpenSecret("a", sealed); !errors.Is(err, ErrSecretKey) {
			t.Errorf("open: err = %v, want ErrSecretKey", err)
		}
	})
}

// TestSecretKeyCreatedOnce: concurrent first uses agree on one key.
func TestSecretKeyCreatedOnce(t *testing.T) {
	db := openTest(t, Options{Dir: t.TempDir()})
	const n = 8
	sealed := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { sealed[i], errs[i] = db.SealSecret("l", "secret") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got, err := db.OpenSecret("l", sealed[i]); err != nil || got != "secret" {
			t.Errorf("seal %d opens as %q, %v", i, got, err)
		}
	}
}

func TestSecretReadOnly(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, Options{Dir: dir})
	db.Close()
	ro := openTest(t, Options{Dir: dir, ReadOnly: true})
	if _, err := ro.SealSecret("a", "b"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("err = %v, want ErrReadOnly", err)
	}
	if _, err := os.Stat(filepath.Join(dir, SecretKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only store wrote the key file: %v", err)
	}
}
