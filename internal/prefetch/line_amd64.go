package prefetch

import "unsafe"

// Line asks the CPU to bring the cache line at p into its caches
// without waiting for it (PREFETCHT0), and returns 0. It never faults: an
// address that is not mapped is ignored.
//
//go:noescape
func Line(p unsafe.Pointer) byte
