package store

import (
	"errors"
	"os"

	"unsafe"

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

// adviseHuge asks the kernel to back b (anonymous memory: a large index
// table) with transparent huge pages where THP is "madvise" (the common
// default): a table of tens of MiB then costs a few 2 MiB page faults
// instead of thousands of 4 KiB ones when it is first written, and its
// random probes miss the TLB far less. Only the 2 MiB-aligned interior is
// advised. Best effort: an error (no THP support) changes nothing.
func adviseHuge(b []byte) {
	const huge = 2 << 20
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := int((huge - p%huge) % huge) // offset of the first 2 MiB boundary
	n := (len(b) - lo) &^ (huge - 1)
	if lo >= len(b) || n <= 0 {
		return
	}
	_ = unix.Madvise(b[lo:lo+n], unix.MADV_HUGEPAGE)
}
