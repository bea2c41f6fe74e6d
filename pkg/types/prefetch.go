package types

import (
	"unsafe"

	"github.com/toonstore/toonstore/internal/prefetch"
)

// A lookup in a large dict costs three dependent cache misses: the home
// slot, then the entry it points to, then the key's bytes (compared with
// the one looked up). A pipeline of HSETs on one large hash pays them
// command after command, each waiting for the last. prefetch takes the
// members of the commands buffered next and asks for their lines in three
// passes, so that the misses of all of them are in flight at once; the
// commands then find their lines in the cache.
//
// prefetchMinSlots is the table size from which that pays: 256 KiB of
// slots, which a dict has from about 12k entries on (a table holds at most
// 3/4 of its slots: 32k slots hold 12k-24k entries), whose entries and
// keys are a few MiB. A smaller dict stays in the CPU's caches, where hashing every
// member twice is pure cost.
const (
	prefetchMinSlots = 1 << 15
	prefetchGroup    = 32 // members per pass: about the misses a core keeps in flight
)

// prefetchWorth reports whether prefetch would pay off.
func (d *dict[V]) prefetchWorth() bool { return len(d.slots) >= prefetchMinSlots }

// prefetch is a hint that keys are about to be looked up: it brings their
// slots, entries and key bytes into the CPU caches (the entries' values
// too, with val, for a dict whose values are pointers to what a command
// reads next, such as the nodes of a sorted set). It changes nothing and
// returns a sink for the loads of architectures without a prefetch
// instruction.
func (d *dict[V]) prefetch(keys [][]byte, val func(*V) unsafe.Pointer) (sink uint64) {
	if !d.prefetchWorth() {
		return 0
	}
	for len(keys) > 0 {
		n := min(len(keys), prefetchGroup)
		sink += d.prefetchGroup(keys[:n], val)
		keys = keys[n:]
	}
	return sink
}

func (d *dict[V]) prefetchGroup(keys [][]byte, val func(*V) unsafe.Pointer) (sink uint64) {
	var hs [prefetchGroup]uint32
	var es [prefetchGroup]*dentry[V]
	for i, k := range keys {
		h := d.hash(bstr(k))
		hs[i] = h
		sink += uint64(prefetch.Line(unsafe.Pointer(&d.slots[h&uint32(len(d.slots)-1)])))
		if d.old != nil {
			sink += uint64(prefetch.Line(unsafe.Pointer(&d.old[h&uint32(len(d.old)-1)])))
		}
	}
	for i := range keys {
		e := d.peekEntry(d.slots, hs[i])
		if e == nil && d.old != nil {
			e = d.peekEntry(d.old, hs[i])
		}
		if e != nil {
			es[i] = e
			sink += uint64(prefetch.Line(unsafe.Pointer(e)))
		}
	}
	for _, e := range es[:len(keys)] {
		if e == nil {
			continue
		}
		if len(e.key) > 0 {
			sink += uint64(prefetch.Line(unsafe.Pointer(unsafe.StringData(e.key))))
		}
		if val != nil {
			if p := val(&e.val); p != nil {
				sink += uint64(prefetch.Line(p))
			}
		}
	}
	return sink
}

// peekEntry returns the first entry of table t whose slot carries hash h,
// without comparing keys (a hint: usually the key's own entry), or nil.
func (d *dict[V]) peekEntry(t []uint64, h uint32) *dentry[V] {
	mask := uint32(len(t) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t[i]
		if s == 0 {
			return nil
		}
		if uint32(s>>32) == h {
			return d.at(int(uint32(s)) - 1)
		}
	}
}

// Prefetch is a hint that fields are about to be looked up (HSET, HGET,
// ...): in a large hash it brings what their lookups read into the CPU
// caches, so that the lookups of a pipeline overlap their cache misses.
// It changes nothing; fields are only read during the call.
func (h *Hash) Prefetch(fields [][]byte) uint64 { return h.d.prefetch(fields, nil) }

// PrefetchWorth reports whether Prefetch can pay off: the hash is too
// large to stay in the CPU caches.
func (h *Hash) PrefetchWorth() bool { return h.d.prefetchWorth() }

// Prefetch is Hash.Prefetch for members of a set.
func (s *Set) Prefetch(members [][]byte) uint64 { return s.d.prefetch(members, nil) }

// PrefetchWorth is Hash.PrefetchWorth for a set.
func (s *Set) PrefetchWorth() bool { return s.d.prefetchWorth() }

// Prefetch is Hash.Prefetch for members of a sorted set (the dict's
// entry holds the member's score).
func (z *ZSet) Prefetch(members [][]byte) uint64 { return z.d.prefetch(members, nil) }

// PrefetchWorth is Hash.PrefetchWorth for a sorted set.
func (z *ZSet) PrefetchWorth() bool { return z.d.prefetchWorth() }
