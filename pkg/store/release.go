package store

import (
	"runtime/debug"
	"unsafe"
)

// releaseMinBytes is the size of garbage (a snapshot's copy of the index,
// a key arena replaced by a larger one, a table rebuilt after deletes)
// from which the store hands its memory back to the OS at once. A
// variable for tests.
var releaseMinBytes uintptr = 32 << 20

// releaseTableMinBytes is the same for an index table replaced by its
// double, which happens once per doubling of the keyspace. 16 MiB takes
// in the table of 1M slots (24 MiB) that a keyspace of 786k keys
// outgrows: at 32 MiB, since the index grows in steps (grow.go), a server
// loaded with 1M keys kept 141-161 MiB of anonymous memory instead of 106
// (perf/results/hotpath.md, "Memory at 1M keys after incremental index
// growth"). The other kinds keep 32 MiB: a snapshot's copy recurs with
// every snapshot, and each release also returns the free heap that the
// next allocations would have reused.
var releaseTableMinBytes uintptr = 16 << 20

// releaseOldTable is called after an index table of oldSlots slots was
// replaced by a resized one. The old table is garbage, but nothing makes
// the Go runtime collect it soon: with a large live heap the next GC is
// far away (GOGC), and a server that just bulk-loaded allocates little
// afterwards. Each growth of a 10M-key index would then leave the previous
// tables (hundreds of MiB, half the live size) in the process's anonymous
// memory indefinitely. For tables of releaseTableMinBytes and more, a
// background goroutine runs debug.FreeOSMemory (a GC, then the freed pages
// returned to the OS). The index holds no pointers, so that GC is cheap
// (milliseconds at 10M keys, ARCHITECTURE.md "Scale"), and it happens once
// per doubling of the index: O(log n) times over a load. At most one runs
// at a time; a resize meanwhile is covered by the running one or the next.
func (s *Store) releaseOldTable(oldSlots int) {
	s.release(uintptr(oldSlots)*unsafe.Sizeof(slot{}), releaseTableMinBytes)
}

// releaseGarbage hands n bytes that just became garbage back to the OS at
// once when they are releaseMinBytes or more (see releaseOldTable): the
// copy of the index a snapshot wrote (24 bytes per key: 240 MB at 10M
// keys, taken every time the log has grown by as many records as there
// are keys), a key arena replaced by a larger one, or a table rebuilt
// after deletes.
func (s *Store) releaseGarbage(n uintptr) { s.release(n, releaseMinBytes) }

// release hands n bytes of garbage back to the OS at once if n >= least.
func (s *Store) release(n, least uintptr) {
	if n < least {
		return
	}
	if !s.releasing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.releasing.Store(false)
		debug.FreeOSMemory()
		s.releases.Add(1)
	}()
}
