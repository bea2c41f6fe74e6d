package store

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// fallocate reserves size bytes of disk for f (mode 0: blocks allocated,
// file size extended, contents read as zeros).
func fallocate(f *os.File, size int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// errNoFallocate reports whether err means the filesystem cannot
// preallocate, so zeros must be written instead.
func errNoFallocate(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS)
}

// fdatasync flushes f's data, including pages dirtied through a shared
// mapping (Linux writes those back on fdatasync of the file).
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
