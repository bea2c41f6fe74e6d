package store

import (
	"runtime/debug"
	"unsafe"
)

// releaseMinBytes is the size of a replaced index table from which the
// store hands its memory back to the OS at once.
const releaseMinBytes = 32 << 20

// releaseOldTable is called after an index table of oldSlots slots was
// replaced by a resized one. The old table is garbage, but nothing makes
// the Go runtime collect it soon: with a large live heap the next GC is
// far away (GOGC), and a server that just bulk-loaded allocates little
// afterwards. Each growth of a 10M-key index would then leave the previous
// tables (hundreds of MiB, half the live size) in the process's anonymous
// memory indefinitely. For tables of releaseMinBytes and more, a
// background goroutine runs debug.FreeOSMemory (a GC, then the freed pages
// returned to the OS). The index holds no pointers, so that GC is cheap
// (milliseconds at 10M keys, ARCHITECTURE.md "Scale"), and it happens once
// per doubling of the index: O(log n) times over a load. At most one runs
// at a time; a resize meanwhile is covered by the running one or the next.
func (s *Store) releaseOldTable(oldSlots int) {
	if uintptr(oldSlots)*unsafe.Sizeof(slot{}) < releaseMinBytes {
		return
	}
	if !s.releasing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.releasing.Store(false)
		debug.FreeOSMemory()
	}()
}
