package types

import (
	"hash/maphash"
	"sort"
	"unsafe"

	"github.com/toonstore/toonstore/internal/hugemem"
)

// deadBit marks a deleted entry's sequence number.
const deadBit = 1 << 63

// dentry is one element of a dict. Entries sit in ents in insertion
// order, so their seq (masked) ascends along the slice.
type dentry[V any] struct {
	key string
	val V
	seq uint64 // insertion sequence number (from 1); deadBit set once deleted
}

// dict is the map under Hash, Set and ZSet: an insertion-ordered slice of
// entries plus an open-addressing index of 8-byte slots, linear probing
// with backward-shift deletion.
//
// Deleted entries stay in ents as tombstones (their seq keeps its place,
// so binary search by seq still works) until they outnumber the live
// ones, when compact squeezes them out in O(n), keeping the order: that
// cost is amortized over the at least n/2 deletions that caused it.
// Because compaction keeps the order of seqs, a Scan cursor (a seq) stays
// meaningful across any mutation: every element present for a whole scan
// is returned exactly once.
//
// A slot is 0 when empty, else hash<<32 | index+1 where hash is the key's
// 32-bit hash: its low bits place the slot, all 32 bits filter key
// comparisons. The table holds at most 3/4 of its slots.
//
// The zero dict is empty and ready to use.
type dict[V any] struct {
	seed  maphash.Seed
	ents  []dentry[V]
	slots []uint64
	live  int
	next  uint64 // seq of the next insertion, minus one
}

// bstr views b as a string for lookups only: the string must not outlive
// the call, nor be stored (it aliases the caller's bytes). This saves a
// copy on every lookup with a []byte key.
func bstr(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (d *dict[V]) hash(key string) uint32 {
	return uint32(maphash.String(d.seed, key))
}

// find returns the index in ents of key, or -1.
func (d *dict[V]) find(key string) int {
	if d.live == 0 {
		return -1
	}
	h := d.hash(key)
	mask := uint32(len(d.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == h {
			if idx := int(uint32(s)) - 1; d.ents[idx].key == key {
				return idx
			}
		}
	}
}

// findSlot returns the slot position holding entry idx, whose key is key.
func (d *dict[V]) findSlot(key string, idx int) uint32 {
	h := d.hash(key)
	mask := uint32(len(d.slots) - 1)
	want := uint64(h)<<32 | uint64(idx+1)
	for i := h & mask; ; i = (i + 1) & mask {
		if d.slots[i] == want {
			return i
		}
		if d.slots[i] == 0 {
			panic("types: dict entry missing from its index")
		}
	}
}

// insert adds key, which must not be present, and returns its index. The
// dict keeps key as is: the caller passes a string it owns.
func (d *dict[V]) insert(key string, val V) int {
	if d.slots == nil {
		d.seed = maphash.MakeSeed()
		d.slots = make([]uint64, 8)
	}
	if (d.live+1)*4 > len(d.slots)*3 {
		d.rebuild(len(d.slots) * 2)
	}
	d.next++
	idx := len(d.ents)
	// From hugemem.Threshold bytes the entries grow on huge pages: a
	// collection of a million elements otherwise faults its doubled
	// array in 4 KiB at a time, on the event loop.
	d.ents = append(hugemem.Grow(d.ents, 1), dentry[V]{key: key, val: val, seq: d.next})
	d.place(d.hash(key), idx)
	d.live++
	return idx
}

func (d *dict[V]) place(h uint32, idx int) {
	mask := uint32(len(d.slots) - 1)
	i := h & mask
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = uint64(h)<<32 | uint64(idx+1)
}

// rebuild makes a table of n slots (a power of two) holding every live
// entry.
func (d *dict[V]) rebuild(n int) {
	if d.slots == nil {
		d.seed = maphash.MakeSeed()
	}
	old := d.slots
	d.slots = hugemem.Slice[uint64](n)[:n]
	if len(old) > 0 {
		for _, s := range old {
			if s != 0 {
				d.place(uint32(s>>32), int(uint32(s))-1)
			}
		}
		return
	}
	for i := range d.ents {
		if d.ents[i].seq&deadBit == 0 {
			d.place(d.hash(d.ents[i].key), i)
		}
	}
}

// tableSize returns the number of slots for n live entries.
func tableSize(n int) int {
	s := 8
	for n*4 > s*3 {
		s *= 2
	}
	return s
}

// remove deletes entry idx: its slot is freed by backward shift and the
// entry becomes a tombstone, its key and value cleared so that they can
// be collected. It may compact, which renumbers entries.
func (d *dict[V]) remove(idx int) {
	e := &d.ents[idx]
	mask := uint32(len(d.slots) - 1)
	i := d.findSlot(e.key, idx)
	// Backward shift: move later entries of the probe run into the hole
	// when their home slot does not lie cyclically in (hole, j].
	for j := (i + 1) & mask; d.slots[j] != 0; j = (j + 1) & mask {
		home := uint32(d.slots[j]>>32) & mask
		if (j-home)&mask >= (j-i)&mask {
			d.slots[i] = d.slots[j]
			i = j
		}
	}
	d.slots[i] = 0
	var zero V
	e.key, e.val = "", zero
	e.seq |= deadBit
	d.live--
	if dead := len(d.ents) - d.live; dead > d.live && dead > 16 || d.live == 0 {
		d.compact()
	}
}

// compact removes the tombstones, keeping the order, and rebuilds the
// table for the live entries. O(number of entries).
func (d *dict[V]) compact() {
	w := 0
	for i := range d.ents {
		if d.ents[i].seq&deadBit == 0 {
			d.ents[w] = d.ents[i]
			w++
		}
	}
	clear(d.ents[w:])
	d.ents = d.ents[:w]
	if cap(d.ents) > 4*w+16 {
		d.ents = append([]dentry[V](nil), d.ents...)
	}
	old := d.slots
	d.slots = nil
	if len(old) > 0 || w > 0 {
		d.slots = hugemem.Slice[uint64](tableSize(w))[:tableSize(w)]
		for i := range d.ents {
			d.place(d.hash(d.ents[i].key), i)
		}
	}
}

// scan calls fn for up to count live entries (at least one if count < 1)
// whose seq is at least cursor, in order, and returns the cursor to
// continue from, or 0 when the scan is complete.
func (d *dict[V]) scan(cursor uint64, count int, fn func(e *dentry[V])) uint64 {
	if count < 1 {
		count = 1
	}
	i := sort.Search(len(d.ents), func(i int) bool { return d.ents[i].seq&^deadBit >= cursor })
	for ; i < len(d.ents) && count > 0; i++ {
		if d.ents[i].seq&deadBit == 0 {
			fn(&d.ents[i])
			count--
		}
	}
	if i == len(d.ents) {
		return 0
	}
	return d.ents[i].seq &^ deadBit
}

// each calls fn for every live entry in insertion order until fn returns
// false. fn must not mutate the dict.
func (d *dict[V]) each(fn func(e *dentry[V]) bool) {
	for i := range d.ents {
		if d.ents[i].seq&deadBit == 0 && !fn(&d.ents[i]) {
			return
		}
	}
}

// random returns the index of a uniformly random live entry; the dict
// must not be empty. Tombstones are at most half of ents (plus 16), so
// the expected number of draws is below 2 for large dicts.
func (d *dict[V]) random(r Rand) int {
	for {
		i := r.IntN(len(d.ents))
		if d.ents[i].seq&deadBit == 0 {
			return i
		}
	}
}

// randomIndexes returns entry indexes following Redis's HRANDFIELD,
// SRANDMEMBER and ZRANDMEMBER count rules: count > 0 gives min(count,
// len) distinct entries, count < 0 gives -count entries that may repeat.
// With count >= len every entry is returned in insertion order; otherwise
// the order is random.
func (d *dict[V]) randomIndexes(r Rand, count int) []int {
	switch {
	case count == 0 || d.live == 0:
		return nil
	case count < 0:
		n := -count
		out := make([]int, n)
		for i := range out {
			out[i] = d.random(r)
		}
		return out
	case count >= d.live:
		out := make([]int, 0, d.live)
		for i := range d.ents {
			if d.ents[i].seq&deadBit == 0 {
				out = append(out, i)
			}
		}
		return out
	case count*3 > d.live:
		// Many of the elements: partial Fisher-Yates over all of them.
		all := make([]int, 0, d.live)
		for i := range d.ents {
			if d.ents[i].seq&deadBit == 0 {
				all = append(all, i)
			}
		}
		for i := 0; i < count; i++ {
			j := i + r.IntN(len(all)-i)
			all[i], all[j] = all[j], all[i]
		}
		return all[:count]
	default:
		// Few of the elements: draw with rejection of repeats.
		seen := make(map[int]struct{}, count)
		out := make([]int, 0, count)
		for len(out) < count {
			i := d.random(r)
			if _, ok := seen[i]; !ok {
				seen[i] = struct{}{}
				out = append(out, i)
			}
		}
		return out
	}
}
