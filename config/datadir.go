package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// CheckDataDir reports, without writing anything, when DataDir cannot be
// used: it exists but is not a directory, a parent component is a file, it
// (or, when it does not exist yet, its nearest existing parent, where it
// would be created) is not writable. The error is a *FieldError for
// data_dir with an empty Source.
func (c Config) CheckDataDir() error {
	return checkDataDir(c.DataDir, unix.Access)
}

// checkDataDir is CheckDataDir with the access(2) call injected, so that
// tests running as root (for whom access always grants W_OK) can still
// exercise the "not writable" path.
func checkDataDir(dir string, access func(path string, mode uint32) error) error {
	bad := func(err error, format string, args ...any) error {
		return &FieldError{Field: "data_dir", Problem: fmt.Sprintf(format, args...), Err: err}
	}
	if dir == "" {
		return bad(nil, "is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return bad(err, "%q: cannot make the path absolute: %v", dir, err)
	}
	// Creating files needs write and search permission on the directory.
	const mode = unix.W_OK | unix.X_OK
	for p := abs; ; {
		fi, err := os.Stat(p)
		switch {
		case err == nil && p == abs && !fi.IsDir():
			return bad(nil, "%q exists but is not a directory", dir)
		case err == nil && !fi.IsDir():
			return bad(nil, "%q cannot be created: %q is not a directory", dir, p)
		case err == nil:
			if aerr := access(p, mode); aerr != nil {
				if p == abs {
					return bad(aerr, "%q is not writable: %v", dir, aerr)
				}
				return bad(aerr, "%q cannot be created: %q is not writable: %v", dir, p, aerr)
			}
			return nil
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			// Missing, or below a file: look further up; the loop finds
			// the file (or the writable parent) there.
			if _, lerr := os.Lstat(p); lerr == nil && p == abs {
				return bad(err, "%q is a symbolic link to a missing target", dir)
			}
		default:
			return bad(err, "%q cannot be inspected: %v", dir, unwrapPath(err))
		}
		parent := filepath.Dir(p)
		if parent == p {
			return bad(err, "%q: no existing parent directory", dir)
		}
		p = parent
	}
}
