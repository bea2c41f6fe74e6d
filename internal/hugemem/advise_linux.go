package hugemem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Advise asks the kernel to back b (anonymous memory not yet touched) with
// transparent huge pages where THP is "madvise" (the common default). Only
// the 2 MiB-aligned interior is advised. Best effort: an error (no THP
// support) changes nothing.
func Advise(b []byte) {
	const huge = 2 << 20
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := int((huge - p%huge) % huge) // offset of the first 2 MiB boundary
	n := (len(b) - lo) &^ (huge - 1)
	if lo >= len(b) || n <= 0 {
		return
	}
	_ = unix.Madvise(b[lo:lo+n], unix.MADV_HUGEPAGE)
}
