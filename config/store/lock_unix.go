//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// dirLock is a flock on the Badger directory itself: exclusive for a
// read-write open, shared for ReadOnly, exactly like Badger's own guard (which
// Open then bypasses), but with an error we can recognise as ErrLocked.
type dirLock struct{ f *os.File }

func lockDir(dir string, shared bool) (*dirLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", dir, err)
	}
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("store: lock %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("store: lock %s: %w", dir, err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) held() bool { return l.f != nil }

// release drops the lock; closing the descriptor releases the flock.
func (l *dirLock) release() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
