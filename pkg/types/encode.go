package types

import (
	"encoding/binary"
	"fmt"
)

// Opcodes, the third byte of an operation record. Part of the on-disk
// format.
const (
	opHashSet    = 1 // items: field, value, field, value...
	opHashDelete = 2 // items: field...

	opSetAdd    = 1 // items: member...
	opSetRemove = 2 // items: member...

	opListPushLeft  = 1 // items: value... (each pushed at the head in turn)
	opListPushRight = 2 // items: value...
	opListPopLeft   = 3 // uvarint n
	opListPopRight  = 4 // uvarint n
	opListSet       = 5 // uvarint index, value
	opListInsert    = 6 // uvarint index, value
	opListRemove    = 7 // varint count, value
	opListTrim      = 8 // uvarint left, uvarint right

	opZAdd         = 1 // items: score (8 bytes LE), member...
	opZRemove      = 2 // items: member...
	opZRemoveRanks = 3 // uvarint lo, uvarint hi
)

func appendOp(dst []byte, k Kind, op byte) []byte {
	return append(appendHeader(dst, k), op)
}

func appendItems(dst []byte, items [][]byte) []byte {
	for _, b := range items {
		dst = appendBytes(dst, b)
	}
	return dst
}

// AppendItem appends one byte string to the operation record being built
// at the end of dst: a field or value of AppendOpHashSet, a field of
// AppendOpHashDelete, a member of AppendOpSetAdd, AppendOpSetRemove or
// AppendOpZRemove, a value of AppendOpListPush. Those constructors take
// their first items as arguments; more can follow with AppendItem, so a
// record can be built without collecting the items in a slice.
func AppendItem(dst, b []byte) []byte { return appendBytes(dst, b) }

// AppendItemString is AppendItem for a string.
func AppendItemString(dst []byte, s string) []byte { return appendString(dst, s) }

// Spill takes the part of an image encoded so far (AppendImageTo) and
// returns the slice to go on appending to, usually the same buffer
// emptied: the image is the concatenation of every slice handed to spill,
// in order, and the slice AppendImageTo returns. An encoder calls it after
// an element once its output fills half its capacity, so a caller that
// passes a buffer of b bytes gets pieces of about b/2 bytes and more (an
// element larger than the buffer makes append grow it). A nil Spill makes
// AppendImageTo AppendImage.
type Spill func(dst []byte) []byte

// maybe hands dst to spill if it fills half its capacity.
func (spill Spill) maybe(dst []byte) []byte {
	if spill != nil && len(dst) >= cap(dst)/2 {
		return spill(dst)
	}
	return dst
}

// ---- Hash ----

// AppendImage appends h's image: kind, version, uvarint count, then each
// field and value as uvarint length + bytes, in insertion order.
func (h *Hash) AppendImage(dst []byte) []byte { return h.AppendImageTo(dst, nil) }

// AppendImageTo is AppendImage that hands the image over in pieces
// (spill, above).
func (h *Hash) AppendImageTo(dst []byte, spill Spill) []byte {
	dst = appendHeader(dst, KindHash)
	dst = binary.AppendUvarint(dst, uint64(h.Len()))
	h.All(func(f, v string) bool {
		dst = spill.maybe(appendString(appendString(dst, f), v))
		return true
	})
	return dst
}

// DecodeHash decodes an image made by Hash.AppendImage. The result does
// not alias image (which may be a mapped record): it makes one copy of it
// and shares that among all fields and values. Errors wrap ErrCorrupt.
// O(n).
func DecodeHash(image []byte) (*Hash, error) {
	r := reader{b: image}
	r.header(KindHash, false)
	n := r.count(2)
	if r.err != nil {
		return nil, r.err
	}
	s := string(image)
	h := &Hash{}
	h.d.reserve(n)
	for i := 0; i < n; i++ {
		flo, fhi := r.span()
		vlo, vhi := r.span()
		if r.err != nil {
			return nil, r.err
		}
		f := s[flo:fhi]
		if h.d.find(f) >= 0 {
			return nil, fmt.Errorf("%w: duplicate hash field", ErrCorrupt)
		}
		h.d.insert(f, s[vlo:vhi])
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return h, nil
}

// AppendOpHashSet appends an operation record setting each field to its
// value, pairs being field, value, field, value... (HSET's arguments);
// more pairs may follow with AppendItem. It panics on an odd count.
func AppendOpHashSet(dst []byte, pairs ...[]byte) []byte {
	if len(pairs)%2 != 0 {
		panic("types: AppendOpHashSet with an odd number of items")
	}
	return appendItems(appendOp(dst, KindHash, opHashSet), pairs)
}

// AppendOpHashDelete appends an operation record deleting fields (absent
// ones are ignored); more may follow with AppendItem.
func AppendOpHashDelete(dst []byte, fields ...[]byte) []byte {
	return appendItems(appendOp(dst, KindHash, opHashDelete), fields)
}

// Apply applies an operation record made by an AppendOpHash constructor.
// A record that is malformed leaves h unchanged and returns an error
// wrapping ErrCorrupt. Values are copied from op (one copy per record).
// O(size of the record).
func (h *Hash) Apply(op []byte) error {
	r := reader{b: op}
	code := r.header(KindHash, true)
	if r.err != nil {
		return r.err
	}
	items, err := r.items()
	if err != nil {
		return err
	}
	switch code {
	case opHashSet:
		if len(items)%2 != 0 {
			return fmt.Errorf("%w: odd hash set record", ErrCorrupt)
		}
		s := string(op) // one copy, shared by the fields and values kept
		for i := 0; i < len(items); i += 2 {
			h.set(s[items[i].lo:items[i].hi], s[items[i+1].lo:items[i+1].hi])
		}
	case opHashDelete:
		for _, it := range items {
			if i := h.d.find(bstr(op[it.lo:it.hi])); i >= 0 {
				h.d.remove(i)
			}
		}
	default:
		return fmt.Errorf("%w: unknown hash opcode %d", ErrCorrupt, code)
	}
	return nil
}

type span struct{ lo, hi int }

// items reads length-prefixed strings to the end of the record.
func (r *reader) items() ([]span, error) {
	var out []span
	for r.err == nil && r.off < len(r.b) {
		lo, hi := r.span()
		out = append(out, span{lo, hi})
	}
	return out, r.err
}

// ---- Set ----

// AppendImage appends s's image: kind, version, uvarint count, then each
// member as uvarint length + bytes, in insertion order.
func (s *Set) AppendImage(dst []byte) []byte { return s.AppendImageTo(dst, nil) }

// AppendImageTo is AppendImage that hands the image over in pieces
// (Spill).
func (s *Set) AppendImageTo(dst []byte, spill Spill) []byte {
	dst = appendHeader(dst, KindSet)
	dst = binary.AppendUvarint(dst, uint64(s.Len()))
	s.All(func(m string) bool {
		dst = spill.maybe(appendString(dst, m))
		return true
	})
	return dst
}

// DecodeSet decodes an image made by Set.AppendImage, copying it once.
// Errors wrap ErrCorrupt. O(n).
func DecodeSet(image []byte) (*Set, error) {
	r := reader{b: image}
	r.header(KindSet, false)
	n := r.count(1)
	if r.err != nil {
		return nil, r.err
	}
	str := string(image)
	s := &Set{}
	s.d.reserve(n)
	for i := 0; i < n; i++ {
		lo, hi := r.span()
		if r.err != nil {
			return nil, r.err
		}
		if !s.AddString(str[lo:hi]) {
			return nil, fmt.Errorf("%w: duplicate set member", ErrCorrupt)
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return s, nil
}

// AppendOpSetAdd appends an operation record adding members (present ones
// are ignored); more may follow with AppendItem.
func AppendOpSetAdd(dst []byte, members ...[]byte) []byte {
	return appendItems(appendOp(dst, KindSet, opSetAdd), members)
}

// AppendOpSetRemove appends an operation record removing members (absent
// ones are ignored); more may follow with AppendItem or AppendItemString.
func AppendOpSetRemove(dst []byte, members ...[]byte) []byte {
	return appendItems(appendOp(dst, KindSet, opSetRemove), members)
}

// Apply applies an operation record made by an AppendOpSet constructor;
// see Hash.Apply.
func (s *Set) Apply(op []byte) error {
	r := reader{b: op}
	code := r.header(KindSet, true)
	if r.err != nil {
		return r.err
	}
	items, err := r.items()
	if err != nil {
		return err
	}
	switch code {
	case opSetAdd:
		str := string(op)
		for _, it := range items {
			s.AddString(str[it.lo:it.hi])
		}
	case opSetRemove:
		for _, it := range items {
			if i := s.d.find(bstr(op[it.lo:it.hi])); i >= 0 {
				s.d.remove(i)
			}
		}
	default:
		return fmt.Errorf("%w: unknown set opcode %d", ErrCorrupt, code)
	}
	return nil
}

// ---- List ----

// AppendImage appends l's image: kind, version, uvarint count, then each
// element as uvarint length + bytes, head first.
func (l *List) AppendImage(dst []byte) []byte { return l.AppendImageTo(dst, nil) }

// AppendImageTo is AppendImage that hands the image over in pieces
// (Spill).
func (l *List) AppendImageTo(dst []byte, spill Spill) []byte {
	dst = appendHeader(dst, KindList)
	dst = binary.AppendUvarint(dst, uint64(l.n))
	l.All(func(e []byte) bool {
		dst = spill.maybe(appendBytes(dst, e))
		return true
	})
	return dst
}

// DecodeList decodes an image made by List.AppendImage, copying the
// elements. Errors wrap ErrCorrupt. O(n).
func DecodeList(image []byte) (*List, error) {
	r := reader{b: image}
	r.header(KindList, false)
	n := r.count(1)
	if r.err != nil {
		return nil, r.err
	}
	l := &List{}
	for i := 0; i < n; i++ {
		b := r.bytes()
		if r.err != nil {
			return nil, r.err
		}
		l.PushRight(b)
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return l, nil
}

// AppendOpListPush appends an operation record pushing vals at the head
// (left, LPUSH: each at the head in turn) or the tail (RPUSH); more may
// follow with AppendItem.
func AppendOpListPush(dst []byte, left bool, vals ...[]byte) []byte {
	op := byte(opListPushRight)
	if left {
		op = opListPushLeft
	}
	return appendItems(appendOp(dst, KindList, op), vals)
}

// AppendOpListPop appends an operation record popping n >= 0 elements
// from the head (left) or the tail.
func AppendOpListPop(dst []byte, left bool, n int) []byte {
	op := byte(opListPopRight)
	if left {
		op = opListPopLeft
	}
	return binary.AppendUvarint(appendOp(dst, KindList, op), uint64(n))
}

// AppendOpListSet appends an operation record setting element index (>=
// 0, as List.Set returns it) to v.
func AppendOpListSet(dst []byte, index int, v []byte) []byte {
	dst = binary.AppendUvarint(appendOp(dst, KindList, opListSet), uint64(index))
	return appendBytes(dst, v)
}

// AppendOpListInsert appends an operation record inserting v before
// element index (0 <= index <= length; List.Insert returns it).
func AppendOpListInsert(dst []byte, index int, v []byte) []byte {
	dst = binary.AppendUvarint(appendOp(dst, KindList, opListInsert), uint64(index))
	return appendBytes(dst, v)
}

// AppendOpListRemove appends an operation record removing elements equal
// to v with LREM's count semantics.
func AppendOpListRemove(dst []byte, count int, v []byte) []byte {
	dst = binary.AppendVarint(appendOp(dst, KindList, opListRemove), int64(count))
	return appendBytes(dst, v)
}

// AppendOpListTrim appends an operation record removing left elements
// from the head and right from the tail (as List.Trim returns them).
func AppendOpListTrim(dst []byte, left, right int) []byte {
	dst = binary.AppendUvarint(appendOp(dst, KindList, opListTrim), uint64(left))
	return binary.AppendUvarint(dst, uint64(right))
}

// Apply applies an operation record made by an AppendOpList constructor.
// A malformed record, or one that does not fit l (popping or trimming
// more elements than l has, an index out of range), leaves l unchanged
// and returns an error wrapping ErrCorrupt. O(size of the record) plus
// the cost of the List method it replays.
func (l *List) Apply(op []byte) error {
	r := reader{b: op}
	code := r.header(KindList, true)
	if r.err != nil {
		return r.err
	}
	switch code {
	case opListPushLeft, opListPushRight:
		items, err := r.items()
		if err != nil {
			return err
		}
		for _, it := range items {
			if code == opListPushLeft {
				l.PushLeft(op[it.lo:it.hi])
			} else {
				l.PushRight(op[it.lo:it.hi])
			}
		}
		return nil
	case opListPopLeft, opListPopRight:
		n := r.index(l.n + 1)
		if err := r.end(); err != nil {
			return err
		}
		if code == opListPopLeft {
			l.PopLeft(n, nil)
		} else {
			l.PopRight(n, nil)
		}
	case opListSet:
		i := r.index(l.n)
		v := r.bytes()
		if err := r.end(); err != nil {
			return err
		}
		l.Set(i, v)
	case opListInsert:
		i := r.index(l.n + 1)
		v := r.bytes()
		if err := r.end(); err != nil {
			return err
		}
		l.InsertAt(i, v)
	case opListRemove:
		c := r.varint()
		v := r.bytes()
		if err := r.end(); err != nil {
			return err
		}
		l.Remove(int(c), v)
	case opListTrim:
		left := r.index(l.n + 1)
		right := r.index(l.n - left + 1)
		if err := r.end(); err != nil {
			return err
		}
		l.PopLeft(left, nil)
		l.PopRight(right, nil)
	default:
		return fmt.Errorf("%w: unknown list opcode %d", ErrCorrupt, code)
	}
	return nil
}

// ---- ZSet ----

// AppendImage appends z's image: kind, version, uvarint count, then each
// member in score order as score (IEEE 754 bits, 8 bytes little endian)
// and uvarint length + member bytes.
func (z *ZSet) AppendImage(dst []byte) []byte { return z.AppendImageTo(dst, nil) }

// AppendImageTo is AppendImage that hands the image over in pieces
// (Spill).
func (z *ZSet) AppendImageTo(dst []byte, spill Spill) []byte {
	dst = appendHeader(dst, KindZSet)
	dst = binary.AppendUvarint(dst, uint64(z.n))
	z.All(func(m string, s float64) bool {
		dst = spill.maybe(appendString(appendFloat(dst, s), m))
		return true
	})
	return dst
}

// DecodeZSet decodes an image made by ZSet.AppendImage. Members of up to
// zOwnMax bytes are copied one by one; the longer ones share one copy of
// the image, made only if there is one. NaN scores and duplicate
// members are corrupt. Errors wrap ErrCorrupt. O(n log n).
func DecodeZSet(image []byte) (*ZSet, error) {
	r := reader{b: image}
	r.header(KindZSet, false)
	n := r.count(9)
	if r.err != nil {
		return nil, r.err
	}
	var own zOwner
	z := &ZSet{}
	z.d.reserve(n)
	for i := 0; i < n; i++ {
		sc := r.score()
		lo, hi := r.span()
		if r.err != nil {
			return nil, r.err
		}
		m := own.member(image, lo, hi)
		if z.d.find(m) >= 0 {
			return nil, fmt.Errorf("%w: duplicate zset member", ErrCorrupt)
		}
		z.addNew(m, sc)
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return z, nil
}

// zOwnMax is the longest member of an image or record that zOwner copies
// on its own: redis-benchmark's ZADD members ("element:" and 12 digits)
// are.
const zOwnMax = 24

// zOwner hands out the members of an image or record for ZSet.AddString:
// a member of up to zOwnMax bytes as a copy of its own; a longer one from
// one copy of b made at the first such member, shared by all of them.
type zOwner struct{ str string }

func (o *zOwner) member(b []byte, lo, hi int) string {
	if hi-lo <= zOwnMax {
		return string(b[lo:hi])
	}
	if o.str == "" {
		o.str = string(b)
	}
	return o.str[lo:hi]
}

// AppendOpZAdd starts an operation record setting scores; add members
// with AppendZAddItem. Members are added or have their score replaced.
func AppendOpZAdd(dst []byte) []byte { return appendOp(dst, KindZSet, opZAdd) }

// AppendZAddItem appends one member and its (final, non-NaN) score to a
// record started by AppendOpZAdd.
func AppendZAddItem(dst []byte, score float64, member []byte) []byte {
	return appendBytes(appendFloat(dst, score), member)
}

// AppendOpZRemove appends an operation record removing members (absent
// ones are ignored); more may follow with AppendItem or AppendItemString.
func AppendOpZRemove(dst []byte, members ...[]byte) []byte {
	return appendItems(appendOp(dst, KindZSet, opZRemove), members)
}

// AppendOpZRemoveRanks appends an operation record removing forward ranks
// lo..hi inclusive, 0 <= lo <= hi (ZREMRANGEBY*, ZPOPMIN/MAX: the ranks
// their ZSet methods return).
func AppendOpZRemoveRanks(dst []byte, lo, hi int) []byte {
	dst = binary.AppendUvarint(appendOp(dst, KindZSet, opZRemoveRanks), uint64(lo))
	return binary.AppendUvarint(dst, uint64(hi))
}

// Apply applies an operation record made by an AppendOpZ constructor. A
// malformed record (a NaN score, ranks out of range) leaves z unchanged
// and returns an error wrapping ErrCorrupt.
func (z *ZSet) Apply(op []byte) error {
	r := reader{b: op}
	code := r.header(KindZSet, true)
	if r.err != nil {
		return r.err
	}
	switch code {
	case opZAdd:
		start := r.off
		for r.err == nil && r.off < len(op) {
			r.score()
			r.span()
		}
		if r.err != nil {
			return r.err
		}
		var own zOwner
		r.off = start
		for r.off < len(op) {
			sc := r.score()
			lo, hi := r.span()
			if i := z.d.find(bstr(op[lo:hi])); i >= 0 {
				z.update(i, sc) // no copy of a member the set has
			} else {
				z.addNew(own.member(op, lo, hi), sc)
			}
		}
	case opZRemove:
		items, err := r.items()
		if err != nil {
			return err
		}
		for _, it := range items {
			z.Remove(op[it.lo:it.hi])
		}
	case opZRemoveRanks:
		lo := r.index(z.n)
		hi := r.index(z.n)
		if err := r.end(); err != nil {
			return err
		}
		if lo > hi {
			return fmt.Errorf("%w: empty rank range", ErrCorrupt)
		}
		z.RemoveRangeByRank(lo, hi)
	default:
		return fmt.Errorf("%w: unknown zset opcode %d", ErrCorrupt, code)
	}
	return nil
}

// ---- Merging ----

// MergeOps reports whether the operation record next, applied right after
// prev to the same collection, can be written as one record with the same
// effect, and if so how: the merged record is prev[:keep] followed by tail
// (tail is built in scratch, whose bytes it may reuse). Applying the merged
// record is exactly applying prev then next (Hash, Set, List and ZSet
// Apply), so a log may hold either.
//
// Records merge when both have the same kind and opcode and the opcode
// takes a list of items (HSET, HDEL, SADD, SREM, LPUSH, RPUSH, ZADD, ZREM
// records: the items are concatenated), when both pop from the same end of
// a list (the counts add up), or when both remove adjacent rank ranges of
// a sorted set (ZPOPMIN, ZPOPMAX). Anything else, or a malformed record,
// does not merge. O(len(next)) and no allocation beyond scratch's growth.
func MergeOps(scratch, prev, next []byte) (keep int, tail []byte, ok bool) {
	const hdr = 3 // kind, format version, opcode
	if len(prev) < hdr || len(next) < hdr || prev[0] != next[0] || prev[1] != formatVersion ||
		next[1] != formatVersion || prev[2] != next[2] {
		return 0, nil, false
	}
	switch Kind(prev[0]) {
	case KindHash:
		if prev[2] == opHashSet || prev[2] == opHashDelete {
			return len(prev), next[hdr:], true
		}
	case KindSet:
		if prev[2] == opSetAdd || prev[2] == opSetRemove {
			return len(prev), next[hdr:], true
		}
	case KindList:
		switch prev[2] {
		case opListPushLeft, opListPushRight:
			return len(prev), next[hdr:], true
		case opListPopLeft, opListPopRight:
			a, ok1 := onlyUvarint(prev[hdr:])
			b, ok2 := onlyUvarint(next[hdr:])
			if !ok1 || !ok2 || a+b < a {
				return 0, nil, false
			}
			return hdr, binary.AppendUvarint(scratch[:0], a+b), true
		}
	case KindZSet:
		switch prev[2] {
		case opZAdd, opZRemove:
			return len(prev), next[hdr:], true
		case opZRemoveRanks:
			lo1, hi1, ok1 := rankRange(prev[hdr:])
			lo2, hi2, ok2 := rankRange(next[hdr:])
			if !ok1 || !ok2 {
				return 0, nil, false
			}
			// next's ranks count without prev's hi1-lo1+1 removed ones.
			var lo, hi uint64
			switch {
			case hi2+1 == lo1: // just below prev's range
				lo, hi = lo2, hi1
			case lo2 == lo1: // starting where prev's range was
				lo, hi = lo1, hi2+(hi1-lo1+1)
			default:
				return 0, nil, false
			}
			return hdr, binary.AppendUvarint(binary.AppendUvarint(scratch[:0], lo), hi), true
		}
	}
	return 0, nil, false
}

// onlyUvarint decodes b if it is exactly one uvarint.
func onlyUvarint(b []byte) (uint64, bool) {
	v, n := binary.Uvarint(b)
	return v, n > 0 && n == len(b)
}

// rankRange decodes b if it is exactly two uvarints lo <= hi.
func rankRange(b []byte) (lo, hi uint64, ok bool) {
	lo, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, false
	}
	hi, m := binary.Uvarint(b[n:])
	return lo, hi, m > 0 && n+m == len(b) && lo <= hi && hi < 1<<62
}
