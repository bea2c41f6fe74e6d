package store

import (
	"unsafe"

	"github.com/toonstore/toonstore/internal/prefetch"
)

// prefetchGroup is how many keys Prefetch handles per pass: the hashes live
// in a stack array of this size, and it is about as many cache misses as a
// core keeps in flight (line fill buffers) with room to spare.
const prefetchGroup = 32

// prefetchMinSlots is the index size from which PrefetchWorth reports that
// Prefetch pays: 1.5 MiB of slots (24k to 49k keys). A smaller index and
// its records mostly stay in the CPU caches, where Prefetch's own work
// (hashing every key twice) is pure cost.
const prefetchMinSlots = 1 << 16

// PrefetchWorth reports whether the database's index is large enough for
// Prefetch to pay off, so that a caller can skip collecting keys for it.
// It is a heuristic and may change as keys come and go.
func (d *DB) PrefetchWorth() bool {
	d.mu.RLock()
	big := len(d.t.slots) >= prefetchMinSlots
	d.mu.RUnlock()
	return big
}

// Prefetch is a hint that keys are about to be looked up (Get, Set, ...) in
// this database: it brings their index slots and the headers of their
// records into the CPU caches, so that the lookups that follow hit warm
// lines. A lookup in a large index costs two dependent cache (and TLB)
// misses, the home slot and then the record (or, for a write, the arena
// entry) that confirms the key; one lookup cannot overlap them, but
// Prefetch asks for the home slots of all keys first (prefetch
// instructions, which the CPU keeps in flight together; loads on
// architectures without prefetch.Line's instruction), then for the records
// or entries of the slots whose hash matches, so a pipeline of n lookups
// pays about two miss latencies instead of 2n. reads says that some of the
// keys are about to be read (their records are fetched), writes that some
// are about to be written (their arena entries are fetched); a key without
// an arena entry has its record fetched either way.
//
// Prefetch changes nothing and reports nothing about the keys: its result
// is an opaque value derived from what it read, returned only so that the
// compiler cannot discard those reads; callers ignore it. It takes the
// database's read lock once per group of keys, does not allocate, and
// after Close returns at once. keys are only read, during the call.
//
//go:noinline
func (d *DB) Prefetch(keys [][]byte, reads, writes bool) uint64 {
	var sink uint64
	for len(keys) > 0 {
		n := min(len(keys), prefetchGroup)
		sink += d.prefetchGroup(keys[:n], reads, writes)
		keys = keys[n:]
	}
	return sink
}

// prefetchGroup is Prefetch for at most prefetchGroup keys.
func (d *DB) prefetchGroup(keys [][]byte, reads, writes bool) uint64 {
	var hs [prefetchGroup]uint64
	hs2 := hs[:len(keys)]
	for i, k := range keys {
		hs2[i] = d.hash(k)
	}
	var sink uint64
	d.mu.RLock()
	if d.s.closed.Load() {
		d.mu.RUnlock()
		return 0
	}
	t := d.t
	slots, mask := t.slots, t.mask
	// Pass 1: the home slots, with prefetch instructions: each retires at
	// once, so all of the group's misses are in flight together (a plain
	// load that misses holds up retirement, and the reorder buffer fills
	// after a handful of them).
	for _, h := range hs2 {
		sink += uint64(prefetch.Line(unsafe.Pointer(&slots[h&mask])))
	}
	// Pass 2: for the first slot in each probe run whose hash matches
	// (these loads wait for pass 1's lines, which arrive together), its
	// arena entry if writes (a write confirms its key there: find), and its
	// record's header if reads (a read confirms its key from the record:
	// findRec) or the key has no entry: prefetched again. A collision with
	// another key's hash only wastes the prefetch.
	ss := *d.s.segs.Load()
	for i, h := range hs2 {
		for j := h & mask; ; j = (j + 1) & mask {
			s := &slots[j]
			if s.loc == 0 {
				break
			}
			if s.hash == uint32(h) {
				if s.kref != noKey {
					if writes {
						sink += uint64(prefetch.Line(unsafe.Pointer(&t.keys.b[s.kref+arenaEntHead-1])))
					}
					if !reads {
						break
					}
				}
				// The header's first line, and the line where the key
				// ends and the value starts (a small record's last).
				id, off := locSeg(s.loc), locOff(s.loc)
				if int(id) < len(ss) && ss[id] != nil && off < ss[id].filled.Load() {
					ss[id].mapFor(int64(off))
					data := ss[id].data
					end := off + recHeaderSize + int64(len(keys[i]))
					if end < int64(len(data)) {
						sink += uint64(prefetch.Line(unsafe.Pointer(&data[off])))
						sink += uint64(prefetch.Line(unsafe.Pointer(&data[end])))
					}
				}
				break
			}
		}
	}
	d.mu.RUnlock()
	return sink
}
