package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestCheckDataDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(base, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(base, "dangling")
	if err := os.Symlink(filepath.Join(base, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, base)

	tests := []struct {
		name    string
		dir     string
		wantErr bool
	}{
		{"existing directory", existing, false},
		{"missing directory in a writable parent", filepath.Join(base, "new"), false},
		{"missing several levels deep", filepath.Join(base, "a", "b", "c"), false},
		{"relative path", ".", false},
		{"empty", "", true},
		{"a file", file, true},
		{"below a file", filepath.Join(file, "data"), true},
		{"deep below a file", filepath.Join(file, "x", "y"), true},
		{"dangling symlink", dangling, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.DataDir = tt.dir
			err := c.CheckDataDir()
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckDataDir(%q) = %v, wantErr %v", tt.dir, err, tt.wantErr)
			}
			if err != nil {
				checkProblems(t, err, []want{{"data_dir", ""}})
			}
		})
	}
	if after := listTree(t, base); !slices.Equal(before, after) {
		t.Errorf("CheckDataDir wrote to the file system: before %v after %v", before, after)
	}
}

// TestCheckDataDirNotWritable drives the access(2) answer directly: root
// (as in many CI containers) is granted W_OK everywhere.
func TestCheckDataDirNotWritable(t *testing.T) {
	base := t.TempDir()
	existing := filepath.Join(base, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		dir       string
		deny      string // the path access refuses
		wantErr   bool
		wantCause error
	}{
		{"existing directory read-only", existing, existing, true, syscall.EACCES},
		{"parent read-only", filepath.Join(base, "new", "deeper"), base, true, syscall.EACCES},
		{"other path denied", filepath.Join(base, "new"), existing, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			access := func(path string, mode uint32) error {
				asked = append(asked, path)
				if path == tt.deny {
					return syscall.EACCES
				}
				return nil
			}
			err := checkDataDir(tt.dir, access)
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkDataDir(%q) = %v (asked %v), wantErr %v", tt.dir, err, asked, tt.wantErr)
			}
			if tt.wantCause != nil && !errors.Is(err, tt.wantCause) {
				t.Errorf("error %v does not wrap %v", err, tt.wantCause)
			}
		})
	}
}

func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
