//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import (
	"errors"
	"os"
)

func lockFile(name string) (*os.File, error) {
	return nil, errors.New("store: directory locking is not implemented on this platform")
}
