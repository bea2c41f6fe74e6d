package store

import (
	"bytes"
	"encoding/binary"

	"github.com/toonstore/toonstore/internal/hugemem"
)

// keyArena holds, for the slots of one table that have one, a copy of the
// key and the padded size of the record the slot points to. With it a
// write decides whether a slot holds its key, and learns how many bytes
// the record it replaces or deletes frees, without reading that record:
// in a log of gigabytes a random record costs a TLB miss and a page walk
// through the mapping's 4 KiB page tables (about 1.5 us on a virtual
// machine), while the arena is one allocation on huge pages. The key of a
// read has to be confirmed too, but a read then reads its record anyway.
//
// Entry layout at offset ref (little endian): size u32 (the padded bytes
// of the slot's record, 0 if not known) | klen u8 | key. Entries are
// appended; a key's bytes never change once written (a snapshot writer
// may read them without a lock), only its size does, under the table's
// write rules. An entry whose key is deleted becomes garbage until the
// arena is rebuilt (table.withKeys).
//
// A slot has no entry (kref noKey) when its key is longer than
// maxArenaKey, when the arena would pass 4 GiB, or when the slot was
// loaded from a snapshot (which stores no keys): the first write of such
// a key through Set gives it one; until then its lookups read the record,
// as they did before the arena.
type keyArena struct {
	b       []byte
	garbage int // bytes of entries no slot refers to
}

const (
	noKey        = ^uint32(0)
	maxArenaKey  = 255
	arenaEntHead = 5
	maxArena     = 1<<32 - 1
)

// entLen is the bytes of the entry of a key of n bytes.
func entLen(n int) int { return arenaEntHead + n }

// arenaKey returns the key of the entry at ref.
func (a *keyArena) key(ref uint32) []byte {
	n := int(a.b[ref+4])
	return a.b[int(ref)+arenaEntHead : int(ref)+arenaEntHead+n]
}

// size returns the record size stored at ref (0: not known).
func (a *keyArena) size(ref uint32) int64 {
	return int64(binary.LittleEndian.Uint32(a.b[ref:]))
}

func (a *keyArena) setSize(ref uint32, size int64) {
	if size > maxArena {
		size = 0 // not representable: read from the record when needed
	}
	binary.LittleEndian.PutUint32(a.b[ref:], uint32(size))
}

// takes reports whether key may have an entry in a: not too long, and
// the arena stays addressable by a 32-bit offset.
func (a *keyArena) takes(key []byte) bool {
	return len(key) <= maxArenaKey && len(a.b)+entLen(len(key)) <= maxArena
}

// fits reports whether an entry for key can be added to a without a new
// backing array (see room).
func (a *keyArena) fits(key []byte) bool {
	return a.takes(key) && cap(a.b)-len(a.b) >= entLen(len(key))
}

// room returns a's bytes with space for an entry of key appended, in a
// new backing array if the current one is full. The caller holds appendMu
// but not the table's lock: readers may read the current array meanwhile
// (the copy only reads it), and the result is installed under the lock.
func (a *keyArena) room(key []byte) []byte {
	if !a.takes(key) {
		return a.b
	}
	return hugemem.Grow(a.b, entLen(len(key)))
}

// add appends an entry for key with size and returns its ref, or noKey if
// it does not fit (room was not called, or the key is too long).
func (a *keyArena) add(key []byte, size int64) uint32 {
	if !a.fits(key) {
		return noKey
	}
	ref := uint32(len(a.b))
	a.b = binary.LittleEndian.AppendUint32(a.b, 0)
	a.b = append(a.b, byte(len(key)))
	a.b = append(a.b, key...)
	a.setSize(ref, size)
	return ref
}

// drop marks the entry at ref garbage.
func (a *keyArena) drop(ref uint32) {
	if ref != noKey {
		a.garbage += entLen(int(a.b[ref+4]))
	}
}

// worthRebuilding reports whether garbage is at least half of the arena
// (and the arena large enough for the copy to matter).
func (a *keyArena) worthRebuilding() bool {
	return a.garbage >= 1<<20 && a.garbage*2 >= len(a.b)
}

// keyIs reports whether slot s (whose hash matched) holds key: from the
// arena if s has an entry, else from its record.
func (t *table) keyIs(ss segSet, s *slot, key []byte) bool {
	if s.kref != noKey {
		return bytes.Equal(t.keys.key(s.kref), key)
	}
	return ss.hasKey(s.loc, key)
}

// imageSize returns the padded size of the record slot i points to: from
// the arena if known there, else read from the record.
func (t *table) imageSize(ss segSet, i int) int64 {
	s := &t.slots[i]
	if s.kref != noKey {
		if n := t.keys.size(s.kref); n != 0 {
			return n
		}
	}
	return ss.recSize(s.loc)
}

// withKeys returns a copy of t (same size) whose arena holds only the
// entries its slots refer to: the rebuild after many deletions. Like
// resized, it only reads t, so readers keep using t meanwhile.
func (t *table) withKeys() *table {
	nt := &table{slots: hugeSlice[slot](len(t.slots))[:len(t.slots)], mask: t.mask,
		used: t.used, expires: t.expires, live: t.live}
	copy(nt.slots, t.slots)
	nt.keys.b = hugemem.Slice[byte](len(t.keys.b) - t.keys.garbage)
	for i := range nt.slots {
		s := &nt.slots[i]
		if s.loc == 0 || s.kref == noKey {
			continue
		}
		old := s.kref
		s.kref = uint32(len(nt.keys.b))
		nt.keys.b = append(nt.keys.b, t.keys.b[old:int(old)+entLen(int(t.keys.b[old+4]))]...)
	}
	return nt
}
