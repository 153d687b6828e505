//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

// dirLock is a no-op where flock is unavailable: Badger's own directory guard
// stays on and Open recognises its error as ErrLocked.
type dirLock struct{}

func lockDir(string, bool) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) held() bool { return false }

func (*dirLock) release() {}
