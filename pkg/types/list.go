package types

import (
	"bytes"
	"slices"
)

// Chunk limits, as Redis's quicklist's default list-max-listpack-size -2
// (8 KB) with an element cap: a chunk is split when an insertion would
// take it past either limit (a single larger element gets a chunk of its
// own), and neighbours are merged when together they fill less than 3/4
// of both limits.
const (
	chunkMaxElems = 128
	chunkMaxBytes = 8 << 10
)

// chunk holds up to chunkMaxElems elements packed in one byte slice: the
// element stored at position j is data[start(j):ends[j]], start(0) = 0,
// start(j) = ends[j-1]. The packing costs 4 bytes of overhead per element
// and no pointer per element, so the garbage collector sees one object per
// chunk.
//
// A chunk stores its elements first to last, or, when rev is set, last to
// first. A list that grows at its head (LPUSH) gets reversed chunks there,
// so that a push appends to the packed bytes instead of moving all of them
// (up to 8 KB per push). Positions below head hold elements already
// removed: removing the elements at the start of storage (LPOP from a
// chunk in order, RPOP from a reversed one) only moves head, so a queue
// (LPUSH with RPOP, RPUSH with LPOP) moves no bytes either; the chunk's
// memory goes when it empties. Element i is at position head+i, or, in a
// reversed chunk, len(ends)-1-i. The methods below take element indexes;
// the p-prefixed ones take positions.
type chunk struct {
	data []byte
	ends []uint32
	head int
	rev  bool
}

func (c *chunk) n() int { return len(c.ends) - c.head }

func (c *chunk) start(j int) int {
	if j == 0 {
		return 0
	}
	return int(c.ends[j-1])
}

// pos returns the position of element i.
func (c *chunk) pos(i int) int {
	if c.rev {
		return len(c.ends) - 1 - i
	}
	return c.head + i
}

func (c *chunk) get(i int) []byte { return c.pget(c.pos(i)) }

func (c *chunk) pget(j int) []byte { return c.data[c.start(j):c.ends[j]:c.ends[j]] }

// newChunkAfter returns an empty chunk for a push of an element of b
// bytes next to cs[i], the end chunk that is full (i == 0: a push at the
// head, which gets a reversed chunk, as does the first chunk of a list
// made by a push at the head). A list that grows at an end will
// likely fill the new chunk as it filled the last: its arrays are sized
// like cs[i]'s from the start (up to the chunk limits), instead of being
// regrown (and copied) several times per chunk. The first chunk of a list
// grows as needed, so that small lists stay small.
func newChunkAfter(cs []*chunk, i, b int) *chunk {
	if len(cs) == 0 {
		return &chunk{rev: i == 0}
	}
	nb := cs[i]
	return &chunk{
		data: make([]byte, 0, max(b, min(len(nb.data), chunkMaxBytes))),
		ends: make([]uint32, 0, max(1, min(nb.n(), chunkMaxElems))),
		rev:  i == 0,
	}
}

// fits reports whether an element of size b can join c without a split.
func (c *chunk) fits(b int) bool {
	return c.n() == 0 || len(c.ends) < chunkMaxElems && len(c.data)+b <= chunkMaxBytes
}

// insert puts v before element i (0 <= i <= n). O(chunk), O(1) amortized
// at the chunk's end in storage order (the tail, or the head of a
// reversed chunk).
func (c *chunk) insert(i int, v []byte) {
	if c.rev {
		c.pinsert(len(c.ends)-i, v)
	} else {
		c.pinsert(c.head+i, v)
	}
}

func (c *chunk) pinsert(j int, v []byte) {
	s := c.start(j)
	if j == len(c.ends) {
		c.data = append(c.data, v...)
		c.ends = append(c.ends, uint32(len(c.data)))
		return
	}
	c.data = slices.Insert(c.data, s, v...)
	c.ends = slices.Insert(c.ends, j, uint32(s))
	for k := j; k < len(c.ends); k++ {
		c.ends[k] += uint32(len(v))
	}
}

// del removes k elements from i. O(chunk), O(1) at the start of storage.
func (c *chunk) del(i, k int) {
	if c.rev {
		c.pdel(len(c.ends)-i-k, k)
	} else {
		c.pdel(c.head+i, k)
	}
}

func (c *chunk) pdel(j, k int) {
	if k == 0 {
		return
	}
	if j == c.head {
		c.head += k
		return
	}
	s, e := c.start(j), int(c.ends[j+k-1])
	c.data = slices.Delete(c.data, s, e)
	c.ends = slices.Delete(c.ends, j, j+k)
	for m := j; m < len(c.ends); m++ {
		c.ends[m] -= uint32(e - s)
	}
}

// set replaces element i by v. O(chunk).
func (c *chunk) set(i int, v []byte) {
	j := c.pos(i)
	s, e := c.start(j), int(c.ends[j])
	c.data = slices.Replace(c.data, s, e, v...)
	d := uint32(len(v) - (e - s)) // wraps when shrinking; the sum below wraps back
	for k := j; k < len(c.ends); k++ {
		c.ends[k] += d
	}
}

// split moves elements [at:] to a new chunk, stored in the same order as
// c's, and returns it.
func (c *chunk) split(at int) *chunk {
	if !c.rev {
		return c.psplit(c.head + at)
	}
	// Elements [at:] are the positions before len(ends)-at: the new chunk
	// takes those (and head) and c keeps the rest.
	nc := c.psplit(len(c.ends) - at)
	c.data, nc.data = nc.data, c.data
	c.ends, nc.ends = nc.ends, c.ends
	c.head, nc.head = nc.head, c.head
	nc.rev = true
	return nc
}

// psplit moves positions [j:], j >= head, to a new chunk (not reversed)
// and returns it.
func (c *chunk) psplit(j int) *chunk {
	s := c.start(j)
	nc := &chunk{
		data: append([]byte(nil), c.data[s:]...),
		ends: make([]uint32, len(c.ends)-j),
	}
	for k := range nc.ends {
		nc.ends[k] = c.ends[j+k] - uint32(s)
	}
	c.data = slices.Clip(c.data[:s])
	c.ends = slices.Clip(c.ends[:j])
	return nc
}

// forward stores c's elements first to last from position 0 (head 0).
// O(chunk).
func (c *chunk) forward() {
	if !c.rev && c.head == 0 {
		return
	}
	data := make([]byte, 0, cap(c.data))
	ends := make([]uint32, 0, cap(c.ends))
	for i := range c.n() {
		data = append(data, c.get(i)...)
		ends = append(ends, uint32(len(data)))
	}
	c.data, c.ends, c.head, c.rev = data, ends, 0, false
}

// appendChunk moves every element of o to the end of c.
func (c *chunk) appendChunk(o *chunk) {
	if c.rev && o.rev {
		// Last to first: o's elements, then c's.
		data := make([]byte, 0, len(o.data)+len(c.data))
		ends := make([]uint32, 0, o.n()+c.n())
		for _, x := range []*chunk{o, c} {
			for j := x.head; j < len(x.ends); j++ {
				data = append(data, x.pget(j)...)
				ends = append(ends, uint32(len(data)))
			}
		}
		c.data, c.ends, c.head = data, ends, 0
		return
	}
	c.forward()
	o.forward()
	base := uint32(len(c.data))
	c.data = append(c.data, o.data...)
	for _, e := range o.ends {
		c.ends = append(c.ends, base+e)
	}
}

// List is a Redis list: a deque of byte strings in chunks (a quicklist).
//
// Costs, n elements, C = 128 the chunk size: push and pop at either end
// O(C) worst case, O(1) at the tail end of a chunk; Len O(1); access by
// index O(n/C + C) walking chunks from the nearer end; Insert, Remove and
// Pos O(n) like Redis's.
//
// Byte slices returned or passed to callbacks alias the list's storage:
// they are valid only until the next mutation of the list and must not be
// modified. A List is not safe for concurrent use.
//
// The zero List is empty and ready to use.
type List struct {
	cs []*chunk // cs[lo:] are the chunks in order, none empty
	lo int
	n  int
}

// Len returns the number of elements. O(1).
func (l *List) Len() int { return l.n }

func (l *List) chunks() []*chunk { return l.cs[l.lo:] }

// insertChunk puts c at chunk position p (0 <= p <= number of chunks).
func (l *List) insertChunk(p int, c *chunk) {
	if p == 0 {
		if l.lo == 0 {
			n := len(l.cs)
			h := n/2 + 4
			ns := make([]*chunk, h+n, h+n+n/2+4)
			copy(ns[h:], l.cs)
			l.cs, l.lo = ns, h
		}
		l.lo--
		l.cs[l.lo] = c
		return
	}
	l.cs = slices.Insert(l.cs, l.lo+p, c)
}

// deleteChunk removes the chunk at position p.
func (l *List) deleteChunk(p int) {
	if p == 0 {
		l.cs[l.lo] = nil
		l.lo++
		if l.lo == len(l.cs) {
			l.cs, l.lo = l.cs[:0], 0
		}
		return
	}
	l.cs = slices.Delete(l.cs, l.lo+p, l.lo+p+1)
}

// locate returns the chunk position and the offset in it of element i,
// 0 <= i < n, walking from the nearer end.
func (l *List) locate(i int) (p, off int) {
	cs := l.chunks()
	if i < l.n/2 {
		for p = 0; i >= cs[p].n(); p++ {
			i -= cs[p].n()
		}
		return p, i
	}
	j := l.n - 1 - i // position from the tail
	for p = len(cs) - 1; j >= cs[p].n(); p-- {
		j -= cs[p].n()
	}
	return p, cs[p].n() - 1 - j
}

// PushLeft inserts each value at the head in turn, copying it, as LPUSH
// does: PushLeft(a, b) leaves b first.
func (l *List) PushLeft(vals ...[]byte) {
	for _, v := range vals {
		cs := l.chunks()
		if len(cs) == 0 || !cs[0].fits(len(v)) {
			l.insertChunk(0, newChunkAfter(cs, 0, len(v)))
		}
		l.cs[l.lo].insert(0, v)
		l.n++
	}
}

// PushRight appends each value at the tail, copying it, as RPUSH does.
func (l *List) PushRight(vals ...[]byte) {
	for _, v := range vals {
		cs := l.chunks()
		if len(cs) == 0 || !cs[len(cs)-1].fits(len(v)) {
			l.insertChunk(len(cs), newChunkAfter(cs, len(cs)-1, len(v)))
		}
		cs = l.chunks()
		cs[len(cs)-1].insert(cs[len(cs)-1].n(), v)
		l.n++
	}
}

// PopLeft removes min(count, Len) elements from the head, calling fn for
// each in order just before it is removed (the slice is valid only during
// the call; fn may be nil). It returns the number removed.
func (l *List) PopLeft(count int, fn func(elem []byte)) int {
	done := 0
	for done < count && l.n > 0 {
		c := l.cs[l.lo]
		k := min(count-done, c.n())
		if fn != nil {
			for i := 0; i < k; i++ {
				fn(c.get(i))
			}
		}
		if k == c.n() {
			l.deleteChunk(0)
		} else {
			c.del(0, k)
		}
		l.n -= k
		done += k
	}
	return done
}

// PopRight removes min(count, Len) elements from the tail, calling fn for
// each, last first, just before it is removed; see PopLeft.
func (l *List) PopRight(count int, fn func(elem []byte)) int {
	done := 0
	for done < count && l.n > 0 {
		p := len(l.cs) - l.lo - 1
		c := l.cs[l.lo+p]
		k := min(count-done, c.n())
		if fn != nil {
			for i := c.n() - 1; i >= c.n()-k; i-- {
				fn(c.get(i))
			}
		}
		if k == c.n() {
			l.deleteChunk(p)
		} else {
			c.del(c.n()-k, k)
		}
		l.n -= k
		done += k
	}
	return done
}

// normIndex applies LINDEX/LSET's negative indexes.
func (l *List) normIndex(i int) (int, bool) {
	if i < 0 {
		i += l.n
	}
	return i, i >= 0 && i < l.n
}

// Index returns element i, negative i counting from the tail (-1 is the
// last), as LINDEX does; false when out of range. O(n/C).
func (l *List) Index(i int) ([]byte, bool) {
	i, ok := l.normIndex(i)
	if !ok {
		return nil, false
	}
	p, off := l.locate(i)
	return l.cs[l.lo+p].get(off), true
}

// Set replaces element i (negative from the tail) by a copy of v, as LSET
// does, and returns the index it set (normalized, >= 0), or -1 when i is
// out of range. O(n/C + C).
func (l *List) Set(i int, v []byte) int {
	i, ok := l.normIndex(i)
	if !ok {
		return -1
	}
	p, off := l.locate(i)
	c := l.cs[l.lo+p]
	c.set(off, v)
	if len(c.data) > chunkMaxBytes && c.n() > 1 {
		l.insertChunk(p+1, c.split(c.n()/2))
	}
	return i
}

// InsertAt inserts a copy of v before element i, 0 <= i <= Len (i == Len
// appends). It panics if i is out of range. O(n/C + C).
func (l *List) InsertAt(i int, v []byte) {
	if i < 0 || i > l.n {
		panic("types: List.InsertAt index out of range")
	}
	switch i {
	case 0:
		l.PushLeft(v)
		return
	case l.n:
		l.PushRight(v)
		return
	}
	p, off := l.locate(i)
	c := l.cs[l.lo+p]
	if !c.fits(len(v)) {
		if off == 0 { // between chunks: join the previous one or start one
			if p > 0 && l.cs[l.lo+p-1].fits(len(v)) {
				prev := l.cs[l.lo+p-1]
				prev.insert(prev.n(), v)
			} else {
				nc := &chunk{}
				nc.insert(0, v)
				l.insertChunk(p, nc)
			}
			l.n++
			return
		}
		mid := c.n() / 2 // >= 1: off > 0 means c has at least 2 elements
		nc := c.split(mid)
		l.insertChunk(p+1, nc)
		if off >= mid {
			c, off = nc, off-mid
		}
	}
	c.insert(off, v)
	l.n++
}

// Insert inserts a copy of v before (or after) the first element equal to
// pivot, as LINSERT does, and returns the index v now has, or -1 when
// pivot is absent. O(n).
func (l *List) Insert(before bool, pivot, v []byte) int {
	i := 0
	for _, c := range l.chunks() {
		for j := 0; j < c.n(); j++ {
			if bytes.Equal(c.get(j), pivot) {
				if !before {
					i++
				}
				l.InsertAt(i, v)
				return i
			}
			i++
		}
	}
	return -1
}

// Range calls fn for elements start..stop (inclusive, normalized as
// LRANGE does, see NormalizeRange) in order until fn returns false.
// O(n/C + number returned).
func (l *List) Range(start, stop int, fn func(elem []byte) bool) {
	lo, hi, ok := NormalizeRange(start, stop, l.n)
	if !ok {
		return
	}
	p, off := l.locate(lo)
	left := hi - lo + 1
	for _, c := range l.cs[l.lo+p:] {
		for ; off < c.n(); off++ {
			if !fn(c.get(off)) {
				return
			}
			if left--; left == 0 {
				return
			}
		}
		off = 0
	}
}

// All calls fn for every element in order until fn returns false.
func (l *List) All(fn func(elem []byte) bool) { l.Range(0, -1, fn) }

// NormalizeRange applies Redis's LRANGE/ZRANGE/LTRIM index rules to
// start and stop over n elements: negative indexes count from the end,
// start is clamped to 0 and stop to n-1. It returns the inclusive bounds,
// and false when the range is empty.
func NormalizeRange(start, stop, n int) (lo, hi int, ok bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, -1, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

// TrimCounts returns how many elements LTRIM start stop removes from the
// head and from the tail of a list of n elements.
func TrimCounts(start, stop, n int) (left, right int) {
	lo, hi, ok := NormalizeRange(start, stop, n)
	if !ok {
		return n, 0
	}
	return lo, n - hi - 1
}

// Trim keeps elements start..stop as LTRIM does and returns how many it
// removed from the head and from the tail (the arguments of
// AppendOpListTrim). O(removed).
func (l *List) Trim(start, stop int) (left, right int) {
	left, right = TrimCounts(start, stop, l.n)
	l.PopLeft(left, nil)
	l.PopRight(right, nil)
	return left, right
}

// Remove removes elements equal to v as LREM does: the first count from
// the head when count > 0, the last -count from the tail when count < 0,
// all when count == 0. It returns the number removed. O(n), stopping
// after the chunk of the last removal.
func (l *List) Remove(count int, v []byte) int {
	if l.n == 0 {
		return 0
	}
	limit := count
	if count < 0 {
		limit = -count
	}
	if count == 0 {
		limit = l.n
	}
	removed := 0
	nc := len(l.chunks())
	for k := 0; k < nc && removed < limit; k++ {
		p := k
		if count < 0 {
			p = nc - 1 - k
		}
		removed += l.cs[l.lo+p].removeEqual(v, limit-removed, count < 0)
	}
	l.n -= removed
	if removed > 0 {
		l.compactChunks()
	}
	return removed
}

// removeEqual removes up to limit elements equal to v, scanning from the
// tail when fromTail, and returns how many it removed.
func (c *chunk) removeEqual(v []byte, limit int, fromTail bool) int {
	var drop []bool
	found := 0
	for k := 0; k < c.n() && found < limit; k++ {
		i := k
		if fromTail {
			i = c.n() - 1 - k
		}
		if bytes.Equal(c.get(i), v) {
			if drop == nil {
				drop = make([]bool, c.n())
			}
			drop[i] = true
			found++
		}
	}
	if found == 0 {
		return 0
	}
	c.forward() // the loop below walks positions as element indexes
	w, wd := 0, 0
	for i := 0; i < c.n(); i++ {
		if drop[i] {
			continue
		}
		s, e := c.start(i), int(c.ends[i])
		copy(c.data[wd:], c.data[s:e])
		wd += e - s
		c.ends[w] = uint32(wd)
		w++
	}
	c.data, c.ends = c.data[:wd], c.ends[:w]
	return found
}

// compactChunks drops empty chunks and merges neighbours that together
// fill at most 3/4 of a chunk. O(number of chunks + n).
func (l *List) compactChunks() {
	out := l.cs[:l.lo]
	for _, c := range l.cs[l.lo:] {
		if c.n() == 0 {
			continue
		}
		if len(out) > l.lo {
			prev := out[len(out)-1]
			if 4*(prev.n()+c.n()) <= 3*chunkMaxElems && 4*(len(prev.data)+len(c.data)) <= 3*chunkMaxBytes {
				prev.appendChunk(c)
				continue
			}
		}
		out = append(out, c)
	}
	clear(l.cs[len(out):])
	l.cs = out
	if l.lo == len(l.cs) {
		l.cs, l.lo = l.cs[:0], 0
	}
}

// Pos returns the indexes (from the head) of elements equal to v with
// LPOS's RANK, COUNT and MAXLEN semantics: rank r > 0 skips the first r-1
// matches from the head, r < 0 searches from the tail skipping -r-1;
// count 0 returns all matches, else at most count; maxlen 0 compares
// every element, else at most maxlen. rank must not be 0 (LPOS rejects
// it before). O(n) or O(maxlen).
func (l *List) Pos(v []byte, rank, count, maxlen int) []int {
	fromTail := rank < 0
	if fromTail {
		rank = -rank
	}
	var out []int
	matches, scanned := 0, 0
	cs := l.chunks()
	for k := range cs {
		c := cs[k]
		if fromTail {
			c = cs[len(cs)-1-k]
		}
		for j := 0; j < c.n(); j++ {
			if maxlen != 0 && scanned >= maxlen {
				return out
			}
			i := j
			if fromTail {
				i = c.n() - 1 - j
			}
			if bytes.Equal(c.get(i), v) {
				matches++
				if matches >= rank {
					if fromTail {
						out = append(out, l.n-1-scanned)
					} else {
						out = append(out, scanned)
					}
					if count != 0 && len(out) >= count {
						return out
					}
				}
			}
			scanned++
		}
	}
	return out
}
