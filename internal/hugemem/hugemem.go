// Package hugemem allocates large slices on transparent huge pages.
//
// Fresh memory costs a page fault per 4 KiB page at its first touch, and
// on a virtual machine a fault costs tens of microseconds. A large slice
// the server grows at once (an index table, a collection's entries, a
// snapshot's copy of the index) is touched from one end to the other
// right after its allocation, so its faults come in a burst on the event
// loop. Advised for huge pages, the same memory costs a fault per 2 MiB
// (perf/results/hotpath.md, "Compaction's lists of moved entries" and
// "Huge pages for large collections").
package hugemem

import (
	"slices"
	"unsafe"
)

// Threshold is the size in bytes from which Slice and Grow advise huge
// pages; below it a slice spans too few 2 MiB pages to gain.
const Threshold = 4 << 20

// Slice returns make([]T, 0, n), with huge pages advised for its backing
// array (Advise) when it takes at least Threshold bytes.
func Slice[T any](n int) []T {
	s := make([]T, 0, n)
	if b := uintptr(n) * unsafe.Sizeof(*new(T)); b >= Threshold {
		Advise(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s[:n]))), b))
	}
	return s
}

// Grow returns s with room for at least need more elements, as
// slices.Grow does; when it must reallocate to at least Threshold bytes,
// the new array (twice the length needed) comes from Slice.
func Grow[T any](s []T, need int) []T {
	if cap(s)-len(s) >= need {
		return s
	}
	n := 2 * (len(s) + need)
	if uintptr(n)*unsafe.Sizeof(*new(T)) < Threshold {
		return slices.Grow(s, need)
	}
	return append(Slice[T](n), s...)
}
