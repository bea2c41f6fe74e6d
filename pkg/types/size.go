package types

// The ImageSize methods return len(x.AppendImage(nil)) without encoding:
// one pass over the elements' lengths, reading neither the bytes nor, for
// a sorted set, the tree (its dict holds every member). pkg/cache
// uses them to decide whether folding a collection's chain of operations
// into a new image would reclaim anything: a chain that only added
// elements is as large as the image it would become.

// uvarintLen is len(binary.AppendUvarint(nil, x)).
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// stringsLen is the encoded size of a uvarint-length-prefixed string of n
// bytes.
func stringsLen(n int) int { return uvarintLen(uint64(n)) + n }

// headerLen is the size of an image's kind and version bytes and its
// uvarint element count.
func headerLen(count int) int { return 2 + uvarintLen(uint64(count)) }

// ImageSize returns the size of h's image (AppendImage). O(n).
func (h *Hash) ImageSize() int {
	n := headerLen(h.Len())
	h.d.each(func(e *dentry[string]) bool {
		n += stringsLen(len(e.key)) + stringsLen(len(e.val))
		return true
	})
	return n
}

// ImageSize returns the size of s's image (AppendImage). O(n).
func (s *Set) ImageSize() int {
	n := headerLen(s.Len())
	s.d.each(func(e *dentry[struct{}]) bool {
		n += stringsLen(len(e.key))
		return true
	})
	return n
}

// ImageSize returns the size of z's image (AppendImage): a score of 8
// bytes and the member per element. O(n), over the member dict, not the
// tree.
func (z *ZSet) ImageSize() int {
	n := headerLen(z.n)
	z.d.each(func(e *dentry[float64]) bool {
		n += 8 + stringsLen(len(e.key))
		return true
	})
	return n
}

// ImageSize returns the size of l's image (AppendImage). O(n), over the
// chunks' end offsets.
func (l *List) ImageSize() int {
	n := headerLen(l.n)
	for _, c := range l.chunks() {
		for j := c.head; j < len(c.ends); j++ { // the live positions
			n += stringsLen(int(c.ends[j]) - c.start(j))
		}
	}
	return n
}
