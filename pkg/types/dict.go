package types

import (
	"hash/maphash"
	"sort"
	"unsafe"

	"github.com/toonstore/toonstore/internal/hugemem"
)

// deadBit marks a deleted entry's sequence number.
const deadBit = 1 << 63

// Entries are stored in blocks of blockLen: growing the dict allocates a
// block, never copies the entries (the first block alone grows by
// doubling, up to blockLen, so that a small dict stays small). A block
// takes 96-160 KiB. (Blocks of 3-5 MiB, advised for huge pages, made
// lookups in a dict of 1M no faster, and their allocations stalled
// inserts for up to 15-33 ms.)
const (
	blockShift = 12
	blockLen   = 1 << blockShift
)

// While a table doubles, each insert or remove moves up to rehashStep
// entries into the new one. The new table has room for about as many
// inserts as the dict has live entries, and there are at most twice as
// many entries (tombstones included) plus 16, so a step of 4 would end
// the move in time; 8 ends it well before. Tables below rehashMin slots
// are rebuilt at once.
const (
	rehashStep = 8
	rehashMin  = 64
)

// Tombstones are squeezed out once they outnumber the live entries: at
// once in a dict of up to squeezeMin entries, else incrementally, each
// insert or remove moving the next squeezeStep entries down over the
// gap. The squeeze visits the n entries there were plus those inserted
// meanwhile, at most one per step, so it ends within n/(squeezeStep-1)
// operations, before the tombstones can double.
const (
	squeezeStep = 8
	squeezeMin  = 4096
)

// dentry is one element of a dict. Entries are kept in insertion order,
// so their seq (masked) ascends along the index.
type dentry[V any] struct {
	key string
	val V
	seq uint64 // insertion sequence number (from 1); deadBit set once deleted
}

// dict is the map under Hash, Set and ZSet: insertion-ordered entries
// (in blocks of blockLen) plus an open-addressing index of 8-byte slots,
// linear probing with backward-shift deletion.
//
// Deleted entries stay as tombstones (their seq keeps its place, so
// binary search by seq still works) until they outnumber the live ones,
// when they are squeezed out, keeping the order: that O(n) is amortized
// over the at least n/2 deletions that caused it, and paid in steps (see
// below). Because a squeeze keeps the order of seqs, a Scan cursor (a
// seq) stays meaningful across any mutation: every element present for a
// whole scan is returned exactly once.
//
// A slot is 0 when empty, else hash<<32 | index+1 where hash is the key's
// 32-bit hash: its low bits place the slot, all 32 bits filter key
// comparisons. The table holds at most 3/4 of its slots.
//
// Growth never stops the caller for O(n), as Redis's dict does not: the
// entries grow by blocks, and a full table doubles incrementally. The
// old table stays as it was (removes still delete from it), the new one
// starts with no entry, and each mutation places the next rehashStep
// entries of those that existed (below mark) in the new table, in index
// order; entries inserted meanwhile go to the new table only. So entry i
// is in the new table if i < moved or i >= mark, and in the old one if
// i < mark; a lookup tries the new table, then the old.
//
// Squeezing tombstones out is incremental too: live entries move down
// over a growing gap of dead ones (the slot of each moved entry is
// re-pointed), a few per mutation. Entries below the gap and from its
// end on keep their seq order, so Scan searches the two runs and skips
// the gap. A squeeze and a rehash never run together: a squeeze starts
// only when no rehash runs, and a table that must double finishes the
// squeeze first.
//
// The zero dict is empty and ready to use.
type dict[V any] struct {
	seed   maphash.Seed
	blocks [][]dentry[V]
	n      int // entries, tombstones included
	slots  []uint64
	live   int
	next   uint64 // seq of the next insertion, minus one

	old   []uint64 // the table being replaced; nil when not rehashing
	moved int      // entries below it are placed in slots
	mark  int      // n when the rehash started

	// A squeeze (incremental compaction) is running while sr > 0:
	// entries below sw are squeezed, sw..sr is a gap of dead entries,
	// entries from sr on are not visited yet.
	sw, sr int
}

// at returns entry i, 0 <= i < d.n.
func (d *dict[V]) at(i int) *dentry[V] {
	return &d.blocks[i>>blockShift][i&(blockLen-1)]
}

// push appends e and returns its index.
func (d *dict[V]) push(e dentry[V]) int {
	i := d.n
	if b := i >> blockShift; b == len(d.blocks) {
		if b == 0 {
			d.blocks = append(d.blocks, make([]dentry[V], 0, 4))
		} else {
			d.blocks = append(d.blocks, make([]dentry[V], 0, blockLen))
		}
	}
	b := &d.blocks[i>>blockShift]
	if len(*b) == cap(*b) { // only the first block grows: by doubling, to blockLen
		*b = append(make([]dentry[V], 0, min(2*cap(*b), blockLen)), *b...)
	}
	*b = append(*b, e)
	d.n++
	return i
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

// find returns the index of key, or -1.
func (d *dict[V]) find(key string) int {
	if d.live == 0 {
		return -1
	}
	h := d.hash(key)
	if i := d.probe(d.slots, h, key); i >= 0 || d.old == nil {
		return i
	}
	return d.probe(d.old, h, key)
}

// probe returns the index of key (hash h) in table t, or -1.
func (d *dict[V]) probe(t []uint64, h uint32, key string) int {
	mask := uint32(len(t) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == h {
			if idx := int(uint32(s)) - 1; d.at(idx).key == key {
				return idx
			}
		}
	}
}

// unslot removes entry idx, whose key is key, from table t by backward
// shift: later slots of the probe run move into the hole when their home
// slot does not lie cyclically in (hole, j].
func (d *dict[V]) unslot(t []uint64, key string, idx int) {
	h := d.hash(key)
	mask := uint32(len(t) - 1)
	want := uint64(h)<<32 | uint64(idx+1)
	i := h & mask
	for t[i] != want {
		if t[i] == 0 {
			panic("types: dict entry missing from its index")
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; t[j] != 0; j = (j + 1) & mask {
		home := uint32(t[j]>>32) & mask
		if (j-home)&mask >= (j-i)&mask {
			t[i] = t[j]
			i = j
		}
	}
	t[i] = 0
}

// insert adds key, which must not be present, and returns its index. The
// dict keeps key as is: the caller passes a string it owns.
func (d *dict[V]) insert(key string, val V) int {
	if d.slots == nil {
		d.seed = maphash.MakeSeed()
		d.slots = make([]uint64, 8)
	}
	if d.old != nil {
		d.rehash(rehashStep)
	}
	if d.sr > 0 {
		d.squeeze(squeezeStep)
	}
	if (d.live+1)*4 > len(d.slots)*3 {
		if d.sr > 0 {
			d.squeeze(d.n) // rare: the table fills while a squeeze runs
		}
		d.grow()
	}
	d.next++
	idx := d.push(dentry[V]{key: key, val: val, seq: d.next})
	place(d.slots, d.hash(key), idx)
	d.live++
	return idx
}

func place(t []uint64, h uint32, idx int) {
	mask := uint32(len(t) - 1)
	i := h & mask
	for t[i] != 0 {
		i = (i + 1) & mask
	}
	t[i] = uint64(h)<<32 | uint64(idx+1)
}

// grow doubles the table: at once while it is small, else by starting a
// rehash (finishing the last one first, should it still run).
func (d *dict[V]) grow() {
	if d.old != nil {
		d.rehash(d.mark)
	}
	d.resize(2 * len(d.slots))
}

// resize replaces the table by one of n slots: at once while both are
// small, else by starting a rehash. No rehash or squeeze may be running.
func (d *dict[V]) resize(n int) {
	if max(n, len(d.slots)) < rehashMin {
		old := d.slots
		d.slots = make([]uint64, n)
		for _, s := range old {
			if s != 0 {
				place(d.slots, uint32(s>>32), int(uint32(s))-1)
			}
		}
		return
	}
	d.old, d.moved, d.mark = d.slots, 0, d.n
	d.slots = hugemem.Slice[uint64](n)[:n]
}

// rehash moves up to k more entries into the new table, and drops the
// old table when every entry is moved.
func (d *dict[V]) rehash(k int) {
	for end := min(d.moved+k, d.mark); d.moved < end; d.moved++ {
		if e := d.at(d.moved); e.seq&deadBit == 0 {
			place(d.slots, d.hash(e.key), d.moved)
		}
	}
	if d.moved == d.mark {
		d.old = nil
	}
}

// reserve readies an empty dict for n insertions without growth.
func (d *dict[V]) reserve(n int) {
	d.seed = maphash.MakeSeed()
	d.slots = hugemem.Slice[uint64](tableSize(n))[:tableSize(n)]
	d.blocks = make([][]dentry[V], 0, (n+blockLen-1)>>blockShift)
	if n > 0 {
		d.blocks = append(d.blocks, make([]dentry[V], 0, min(n, blockLen)))
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

// remove deletes entry idx: it leaves the index, and the entry becomes a
// tombstone, its key and value cleared so that they can be collected. It
// may compact, which renumbers entries.
func (d *dict[V]) remove(idx int) {
	e := d.at(idx)
	if d.old != nil && idx < d.mark {
		d.unslot(d.old, e.key, idx)
	}
	if d.old == nil || idx < d.moved || idx >= d.mark {
		d.unslot(d.slots, e.key, idx)
	}
	var zero V
	e.key, e.val = "", zero
	e.seq |= deadBit
	d.live--
	switch dead := d.n - d.live; {
	case d.live == 0:
		d.reset()
	case d.sr > 0:
		d.squeeze(squeezeStep)
	case d.old != nil:
		d.rehash(rehashStep)
	case dead > d.live && dead > 16:
		if d.n <= squeezeMin {
			d.compact()
		} else {
			d.sw, d.sr = 0, 0
			d.squeeze(squeezeStep)
		}
	}
}

// reset empties the dict, keeping its seed and its seq count (a Scan
// cursor stays meaningful) and a small table.
func (d *dict[V]) reset() {
	clear(d.blocks)
	d.blocks, d.n, d.old, d.sw, d.sr = nil, 0, nil, 0, 0
	d.slots = make([]uint64, 8)
}

// squeeze visits up to k more entries of a squeeze (starting one if none
// runs: sr is 0 only then), moving each live one down to sw and
// re-pointing its slot, and ends the squeeze once every entry is
// visited.
func (d *dict[V]) squeeze(k int) {
	for ; k > 0 && d.sr < d.n; k-- {
		e := d.at(d.sr)
		if e.seq&deadBit == 0 {
			if d.sw != d.sr {
				d.reslot(e.key, d.sr, d.sw)
				*d.at(d.sw) = *e
				*e = dentry[V]{seq: e.seq | deadBit}
			}
			d.sw++
		}
		d.sr++
	}
	if d.sr < d.n {
		return
	}
	d.truncate(d.sw)
	d.sw, d.sr = 0, 0
	if n := tableSize(2 * d.live); n < len(d.slots)/2 {
		d.resize(n) // the dict shrank: a smaller table
	}
}

// reslot re-points key's slot from entry from to entry to. Only when no
// rehash runs.
func (d *dict[V]) reslot(key string, from, to int) {
	h := d.hash(key)
	mask := uint32(len(d.slots) - 1)
	want := uint64(h)<<32 | uint64(from+1)
	i := h & mask
	for d.slots[i] != want {
		if d.slots[i] == 0 {
			panic("types: dict entry missing from its index")
		}
		i = (i + 1) & mask
	}
	d.slots[i] = uint64(h)<<32 | uint64(to+1)
}

// truncate drops the entries from w on (all of them cleared tombstones),
// with the blocks they leave empty.
func (d *dict[V]) truncate(w int) {
	nb := (w + blockLen - 1) >> blockShift
	clear(d.blocks[nb:])
	d.blocks = d.blocks[:nb]
	if nb > 0 {
		last := &d.blocks[nb-1]
		clear((*last)[w-(nb-1)<<blockShift:])
		*last = (*last)[:w-(nb-1)<<blockShift]
		if nb == 1 && cap(*last) > 4*w+16 {
			*last = append([]dentry[V](nil), *last...)
		}
	}
	d.n = w
}

// compact removes the tombstones at once, keeping the order, and rebuilds
// the table for the live entries (ending any rehash). O(number of
// entries): for small dicts, and tests.
func (d *dict[V]) compact() {
	w := 0
	for i := 0; i < d.n; i++ {
		if e := d.at(i); e.seq&deadBit == 0 {
			if w != i {
				*d.at(w) = *e
			}
			w++
		}
	}
	d.truncate(w)
	d.old, d.sw, d.sr = nil, 0, 0
	d.slots = hugemem.Slice[uint64](tableSize(w))[:tableSize(w)]
	for i := 0; i < w; i++ {
		place(d.slots, d.hash(d.at(i).key), i)
	}
}

// scan calls fn for up to count live entries (at least one if count < 1)
// whose seq is at least cursor, in order, and returns the cursor to
// continue from, or 0 when the scan is complete.
func (d *dict[V]) scan(cursor uint64, count int, fn func(e *dentry[V])) uint64 {
	if count < 1 {
		count = 1
	}
	// Entries below sw and from sr on ascend by seq; the gap between
	// (none unless a squeeze runs) is dead and skipped.
	gap := d.sr - d.sw
	pos := func(v int) int {
		if v >= d.sw {
			return v + gap
		}
		return v
	}
	i := pos(sort.Search(d.n-gap, func(v int) bool { return d.at(pos(v)).seq&^deadBit >= cursor }))
	for ; i < d.n && count > 0; i++ {
		if i == d.sw && gap > 0 {
			i = d.sr
		}
		if e := d.at(i); e.seq&deadBit == 0 {
			fn(e)
			count--
		}
	}
	if i == d.sw && gap > 0 {
		i = d.sr
	}
	if i == d.n {
		return 0
	}
	return d.at(i).seq &^ deadBit
}

// each calls fn for every live entry in insertion order until fn returns
// false. fn must not mutate the dict.
func (d *dict[V]) each(fn func(e *dentry[V]) bool) {
	for _, b := range d.blocks {
		for i := range b {
			if b[i].seq&deadBit == 0 && !fn(&b[i]) {
				return
			}
		}
	}
}

// random returns the index of a uniformly random live entry; the dict
// must not be empty. Tombstones are at most half of the entries (plus
// 16) but during a squeeze, whose gap is not drawn from, so the expected
// number of draws stays near 2 for large dicts.
func (d *dict[V]) random(r Rand) int {
	gap := d.sr - d.sw // a squeeze's gap is all dead: not drawn
	for {
		i := r.IntN(d.n - gap)
		if i >= d.sw {
			i += gap
		}
		if d.at(i).seq&deadBit == 0 {
			return i
		}
	}
}

// liveIndexes returns the indexes of the live entries, in order.
func (d *dict[V]) liveIndexes() []int {
	out := make([]int, 0, d.live)
	for i := 0; i < d.n; i++ {
		if d.at(i).seq&deadBit == 0 {
			out = append(out, i)
		}
	}
	return out
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
		return d.liveIndexes()
	case count*3 > d.live:
		// Many of the elements: partial Fisher-Yates over all of them.
		all := d.liveIndexes()
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
