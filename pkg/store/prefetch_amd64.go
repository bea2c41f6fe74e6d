package store

// prefetchLine asks the CPU to bring the cache line at addr into its caches
// without waiting for it (PREFETCHT0). It never faults: an address that is
// not mapped is ignored.
//
//go:noescape
func prefetchLine(addr uintptr)
