package store

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/toonstore/toonstore/internal/hugemem"
)

// table is the index of one logical database: an open-addressing hash table
// with linear probing over a power-of-two slice of fixed-size slots.
//
// A slot holds no Go pointer: the low 32 bits of its key's hash, the
// location of its newest record, and a reference into the table's key
// arena (keys.go), where a copy of the key lets a lookup confirm a hash
// match without reading the record (a slot without an arena entry compares
// the key bytes in the mapped record). The garbage collector therefore
// never scans the index (a []slot and the arena are pointer-free
// allocations), whatever the number of keys, and a key costs 24 bytes per
// slot, divided by the load factor (kept between 3/8 and 3/4 while
// growing), plus its arena entry (5 bytes and the key).
//
// The home slot of a key is hash & mask, which the stored 32 bits give
// exactly while the table has at most 2^32 slots (maxTableSize).
//
// Invariants:
//   - slots[i].loc == 0 means empty; every other slot is a live key.
//   - a key lives in its home slot (hash & mask) or after it in one
//     unbroken run of non-empty slots (linear probing); deletion shifts
//     later slots of the run back (no tombstones), which keeps this true.
//   - used <= len(slots)*7/8 after every insert, and <= 3/4 but while
//     the table doubles incrementally or after its doubling was dropped
//     (grow.go).
//
// Concurrency: a table is mutated only by a writer that holds both
// Store.appendMu and the owning DB.mu in write mode; readers hold DB.mu in
// read mode. A writer holding only appendMu may read it (no one else
// mutates it then) and may build a resized copy without blocking readers.
type table struct {
	slots   []slot
	keys    keyArena
	mask    uint64
	used    int   // live keys
	expires int   // live keys with expireAt != 0
	live    int64 // padded bytes of the records the slots point to
}

// slot is one index entry; 24 bytes, no pointers.
type slot struct {
	hash     uint32 // the low 32 bits of the key's hash
	kref     uint32 // offset of the key's entry in the table's arena, or noKey
	loc      uint64 // makeLoc(segment id, offset) of the newest record; 0 = empty
	expireAt int64  // absolute Unix ms, 0 = none (an expire record changes it in place)
}

// maxTableSize is the most slots a table may have: the home slot of a key
// is then within the 32 bits of its hash that a slot keeps.
const maxTableSize = 1 << 32

const minTableSize = 8

func newTable(size int) *table {
	return &table{slots: hugeSlice[slot](size)[:size], mask: uint64(size - 1)}
}

// hugeSlice returns make([]T, 0, n), with huge pages advised for it
// when it takes at least hugemem.Threshold bytes. Fresh memory costs a
// page fault per 4 KiB at its first touch, which on some virtual machines
// is tens of microseconds: compaction's lists of moved entries (48 bytes
// per live record) spent more time in those faults than in their work
// (perf/results/hotpath.md, "Compaction's lists of moved entries").
func hugeSlice[T any](n int) []T { return hugemem.Slice[T](n) }

// segSet is a snapshot of the mapped segments, indexed by segment id. It is
// copied on write (Store.segs), so readers use it without a lock.
type segSet []*segment

// record returns the bytes of the record at loc from its header to the end
// of its value, or nil if loc does not hold a well-formed record (only
// possible if the file was changed behind the store's back).
func (ss segSet) record(loc uint64) []byte { return ss.recordInto(loc, nil) }

// recordInto is record for a reader with a scratch buffer: a record still
// in the write buffer is copied into *scratch (segment.bufferedInto), not
// into a new allocation, and is valid until the reader next passes it.
func (ss segSet) recordInto(loc uint64, scratch *[]byte) []byte {
	g, off := ss.at(loc)
	if g == nil {
		return nil
	}
	if off >= g.filled.Load() {
		// Not flushed when filled was loaded: in the write buffer, unless
		// a flush moved it past off since (wbuf.go).
		if r, ok := g.bufferedInto(off, scratch); ok {
			return r
		}
	}
	return g.mappedRecord(off)
}

// hasKey reports whether loc holds a well-formed record of key, comparing
// a record still in the write buffer in place (no copy).
func (ss segSet) hasKey(loc uint64, key []byte) bool {
	g, off := ss.at(loc)
	if g == nil {
		return false
	}
	if off >= g.filled.Load() {
		if eq, ok := g.bufferedHasKey(off, key); ok {
			return eq
		}
	}
	r := g.mappedRecord(off)
	return r != nil && bytes.Equal(recKey(r), key)
}

// at returns the segment loc is in and the offset in it; nil if the set
// has no such segment.
func (ss segSet) at(loc uint64) (*segment, int64) {
	if id := locSeg(loc); int(id) < len(ss) {
		return ss[id], locOff(loc)
	}
	return nil, 0
}

// mappedRecord is the record at off in g's mapping (recordAt).
func (g *segment) mappedRecord(off int64) []byte {
	g.mapFor(off)
	return recordAt(g.data, off)
}

// recordAt is segSet.record within b (a mapping or the write buffer).
func recordAt(b []byte, off int64) []byte {
	if off+recHeaderSize > int64(len(b)) {
		return nil
	}
	n := int64(binary.LittleEndian.Uint32(b[off+offLength:]))
	if n < recHeaderSize || off+n > int64(len(b)) {
		return nil
	}
	r := b[off : off+n]
	if recHeaderSize+uint64(binary.LittleEndian.Uint32(r[offKLen:])) > uint64(n) {
		return nil
	}
	return r
}

// recKey returns the key of record r (from segSet.record).
func recKey(r []byte) []byte {
	return r[recHeaderSize : recHeaderSize+binary.LittleEndian.Uint32(r[offKLen:])]
}

// recValue returns the value of record r.
func recValue(r []byte) []byte {
	return r[recHeaderSize+binary.LittleEndian.Uint32(r[offKLen:]):]
}

// recSize returns the padded size of the record at loc, or 0.
func (ss segSet) recSize(loc uint64) int64 {
	r := ss.record(loc)
	return padded(int64(len(r)))
}

// find returns the slot index of key (with hash h), or -1. It confirms a
// key from the arena where it can: for callers that do not read the record.
func (t *table) find(ss segSet, h uint64, key []byte) int {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.loc == 0 {
			return -1
		}
		if s.hash == uint32(h) && t.keyIs(ss, s, key) {
			return int(i)
		}
	}
}

// findRec is find for a caller that reads the record next (Get, ...): it
// confirms the key from the record, which that read brings into the
// caches anyway, and so costs no access to the arena.
func (t *table) findRec(ss segSet, h uint64, key []byte) int {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.loc == 0 {
			return -1
		}
		if s.hash == uint32(h) {
			if ss.hasKey(s.loc, key) {
				return int(i)
			}
		}
	}
}

// findOrEmpty returns the slot of key, or the empty slot where it would be
// inserted and found=false.
func (t *table) findOrEmpty(ss segSet, h uint64, key []byte) (i int, found bool) {
	for j := h & t.mask; ; j = (j + 1) & t.mask {
		s := &t.slots[j]
		if s.loc == 0 {
			return int(j), false
		}
		if s.hash == uint32(h) && t.keyIs(ss, s, key) {
			return int(j), true
		}
	}
}

// needsGrow reports whether inserting one more key would pass 3/4 load.
func (t *table) needsGrow() bool { return (t.used+1)*4 > len(t.slots)*3 }

// shrinkSize returns the size t should shrink to after deletions, or 0 to
// keep it: below 1/8 load, to the smallest size at or under 1/2 load.
func (t *table) shrinkSize() int {
	if len(t.slots) <= minTableSize || t.used*8 >= len(t.slots) {
		return 0
	}
	n := minTableSize
	for n < t.used*2 {
		n *= 2
	}
	return n
}

// resized returns a copy of t with size slots (a power of two holding
// t.used at under 3/4 load). Keys are unique, so no key is compared. The
// copy shares t's arena: only the table installed in its place (t is
// dropped) appends to it.
func (t *table) resized(size int) *table {
	nt := newTable(min(size, maxTableSize))
	nt.used, nt.expires, nt.live, nt.keys = t.used, t.expires, t.live, t.keys
	for _, s := range t.slots {
		if s.loc == 0 {
			continue
		}
		j := uint64(s.hash) & nt.mask
		for nt.slots[j].loc != 0 {
			j = (j + 1) & nt.mask
		}
		nt.slots[j] = s
	}
	return nt
}

// insertAt puts a new key in empty slot i (from findOrEmpty), with an
// arena entry for key if the arena has room for it (keyArena.room); a nil
// key gives no entry.
func (t *table) insertAt(i int, h uint64, key []byte, loc uint64, expireAt int64, size int64) {
	ref := noKey
	if key != nil {
		ref = t.keys.add(key, size)
	}
	t.slots[i] = slot{hash: uint32(h), kref: ref, loc: loc, expireAt: expireAt}
	t.used++
	if expireAt != 0 {
		t.expires++
	}
	t.live += size
}

// replaceAt points existing slot i at a new record of size padded
// bytes; oldSize is what the entry it replaces counted (its record and
// chain). key, if not nil, gives the slot an arena entry if it has none
// and the arena has room.
func (t *table) replaceAt(i int, key []byte, loc uint64, expireAt int64, size, oldSize int64) {
	s := &t.slots[i]
	t.setExpireAt(i, expireAt)
	s.loc = loc
	t.live += size - oldSize
	if s.kref != noKey {
		t.keys.setSize(s.kref, size)
	} else if key != nil {
		s.kref = t.keys.add(key, size)
	}
}

// setExpireAt changes the expiry of slot i.
func (t *table) setExpireAt(i int, expireAt int64) {
	s := &t.slots[i]
	if s.expireAt != 0 {
		t.expires--
	}
	if expireAt != 0 {
		t.expires++
	}
	s.expireAt = expireAt
}

// deleteAt removes slot i (oldSize is its record's padded size) by
// backward-shift deletion: every later slot of the run whose home is not in
// (i, j] moves back into the hole, so no probe run is ever broken. moved,
// if not nil, is told of each slot moved (grow.go).
func (t *table) deleteAt(i int, oldSize int64, moved func(s slot, from, to uint64)) {
	if t.slots[i].expireAt != 0 {
		t.expires--
	}
	t.used--
	t.live -= oldSize
	t.keys.drop(t.slots[i].kref)
	t.shiftOut(uint64(i), moved)
}

// shiftOut empties slot hole by backward shift (deleteAt).
func (t *table) shiftOut(hole uint64, moved func(s slot, from, to uint64)) {
	for j := (hole + 1) & t.mask; ; j = (j + 1) & t.mask {
		s := t.slots[j]
		if s.loc == 0 {
			break
		}
		home := uint64(s.hash) & t.mask
		// s may move to hole iff its home is not cyclically in (hole, j].
		if (j-home)&t.mask >= (j-hole)&t.mask {
			t.slots[hole] = s
			if moved != nil {
				moved(s, j, hole)
			}
			hole = j
		}
	}
	t.slots[hole] = slot{}
}

// scanBucket visits home bucket c: it calls fn for every key whose home slot
// is c (they sit in the probe run starting at c).
func (t *table) scanBucket(c uint64, fn func(s *slot)) {
	for j := c; ; j = (j + 1) & t.mask {
		s := &t.slots[j]
		if s.loc == 0 {
			return
		}
		if uint64(s.hash)&t.mask == c {
			fn(s)
		}
		if (j+1)&t.mask == c { // full circle (cannot happen below 3/4 load)
			return
		}
	}
}

// nextCursor is Redis's reverse-binary cursor increment (dictScan): it
// increments the masked bits of c starting from the high bit. Buckets are
// thus visited in an order where every bucket of a larger table expands a
// bucket of the smaller one, so a cursor carried across a resize still
// covers every home bucket a key present throughout can have. It returns 0
// after the last bucket.
func nextCursor(c, mask uint64) uint64 {
	c |= ^mask
	c = bits.Reverse64(c)
	c++
	return bits.Reverse64(c)
}
