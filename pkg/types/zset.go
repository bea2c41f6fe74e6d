package types

import "unsafe"

// zB is the most entries a node of a sorted set's tree holds: elements in
// a leaf, children in an inner node. A node that falls below zBMin
// entries is merged with a neighbour, or takes entries from it when the
// two do not fit in one node, so every node but the root holds at least
// zBMin-1.
const (
	zB    = 64
	zBMin = zB / 4
)

// zleaf is a leaf of the tree: n elements in order, (scores[i],
// members[i]), with links to the neighbouring leaves. The scores are one
// array, apart from the members, so that a binary search reads a few
// lines of them and a member only where scores tie. One slot
// beyond zB takes the insertion that splits the leaf.
type zleaf struct {
	n          int
	prev, next *zleaf
	scores     [zB + 1]float64
	members    [zB + 1]string
}

// zinner is a node above the leaves. kids[i] (a *zinner, or a *zleaf at
// the level above the leaves) holds cnt[i] elements. For i >= 1, (scores[i],
// members[i]) is a separator: above every element under kids[i-1], at or
// below every element under kids[i] (the first element it had when it was
// made; removals leave it as a bound). (scores[0], members[0]) is the
// node's own lower bound, the separator its parent holds for it.
type zinner struct {
	n       int
	cnt     [zB + 1]int
	kids    [zB + 1]unsafe.Pointer
	scores  [zB + 1]float64
	members [zB + 1]string
}

// before reports whether (s1, m1) sorts before (s2, m2): by score, ties by
// member bytes, as Redis orders a sorted set.
func before(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || s1 == s2 && m1 < m2
}

// lower returns the position of the first element of x at or after (s,
// m), x.n if none.
func (x *zleaf) lower(s float64, m string) int {
	lo, hi := 0, x.n
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if before(x.scores[h], x.members[h], s, m) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// route returns the child of x whose range holds (s, m): the last i with
// separator i at or below (s, m), 0 if none.
func (x *zinner) route(s float64, m string) int {
	lo, hi := 1, x.n
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if before(s, m, x.scores[h], x.members[h]) {
			hi = h
		} else {
			lo = h + 1
		}
	}
	return lo - 1
}

// ZSet is a Redis sorted set: members with float64 scores, ordered by
// score then by member bytes. The order is a B+ tree whose inner nodes
// count the elements under each child (O(log n) insertion, deletion, rank
// and access by rank), with the leaves linked for walks, plus a member ->
// score dict (O(1) score lookup). Redis keeps a skip list; a step of its
// search is a cache miss that depends on the one before, about twenty of
// them in a set of a million members, where a search of the tree reads a
// few lines of scores per level (perf/results/hotpath.md, "Sorted sets
// in a B+ tree").
//
// Scores must not be NaN: methods taking a score panic on NaN (callers
// reject it first, as Redis does with "ERR resulting score is not a
// number (NaN)"). -0 and +0 compare equal, as in C; the stored bits are
// kept. (Redis 7.0 turns -0 into 0 in listpack-encoded sorted sets, at
// most 128 members of at most 64 bytes by default, and keeps -0 in
// skiplist-encoded ones: callers emulating that pass +0.)
//
// A ZSet is not safe for concurrent use. Member strings passed to
// callbacks are immutable and stay valid forever.
//
// The zero ZSet is empty and ready to use.
type ZSet struct {
	root   unsafe.Pointer // *zinner when height > 1, *zleaf when 1, nil before the first insertion
	height int
	n      int
	d      dict[float64]
	// enc is the encoding Redis 7.0 would hold the set in, as far as this
	// object knows (SetEnc): it converts a sorted set to a skip list when
	// an insertion goes over its listpack limits, and never back. In
	// memory only, like Redis's encoding, which a restart recomputes from
	// the size; a ZSet decoded from the store starts EncUnknown.
	enc ZSetEnc
}

// ZSetEnc is a ZSet's Redis encoding as its callers tracked it.
type ZSetEnc uint8

// ZSet encodings.
const (
	EncUnknown  ZSetEnc = iota // not looked at since the ZSet was made or decoded
	EncListpack                // within the listpack limits at every insertion since
	EncSkipList                // went over them: Redis keeps a skip list for good
)

// Enc returns the encoding recorded with SetEnc (EncUnknown if none).
func (z *ZSet) Enc() ZSetEnc { return z.enc }

// SetEnc records the encoding Redis would hold z in.
func (z *ZSet) SetEnc(e ZSetEnc) { z.enc = e }

// Len returns the number of members. O(1).
func (z *ZSet) Len() int { return z.n }

// Score returns member's score. O(1).
func (z *ZSet) Score(member []byte) (float64, bool) {
	if i := z.d.find(bstr(member)); i >= 0 {
		return z.d.at(i).val, true
	}
	return 0, false
}

// Add sets member's score, copying member when it is new, and returns the
// previous score and whether the member existed. Redis's ZADD flags (NX,
// XX, GT, LT, INCR, CH) are decisions the caller makes with Score first.
// O(log n). It panics if score is NaN.
func (z *ZSet) Add(member []byte, score float64) (old float64, existed bool) {
	if i := z.d.find(bstr(member)); i >= 0 {
		return z.update(i, score), true
	}
	return 0, z.addNew(string(member), score)
}

// AddString is Add for a string member, which the ZSet keeps without
// copying.
func (z *ZSet) AddString(member string, score float64) (old float64, existed bool) {
	if i := z.d.find(member); i >= 0 {
		return z.update(i, score), true
	}
	return 0, z.addNew(member, score)
}

func (z *ZSet) addNew(member string, score float64) bool {
	if score != score {
		panic("types: NaN score")
	}
	z.insert(score, member)
	z.d.insert(member, score)
	return false
}

func (z *ZSet) update(i int, score float64) float64 {
	if score != score {
		panic("types: NaN score")
	}
	e := z.d.at(i)
	old := e.val
	if score != old {
		z.remove(old, e.key)
		z.insert(score, e.key)
		e.val = score
	}
	return old
}

// Remove removes member and reports whether it was present. O(log n).
func (z *ZSet) Remove(member []byte) bool {
	i := z.d.find(bstr(member))
	if i < 0 {
		return false
	}
	e := z.d.at(i)
	z.remove(e.val, e.key)
	z.d.remove(i)
	return true
}

// count returns the number of elements under node p of height h (1: a
// leaf).
func count(p unsafe.Pointer, h int) int {
	if h == 1 {
		return (*zleaf)(p).n
	}
	x := (*zinner)(p)
	c := 0
	for _, k := range x.cnt[:x.n] {
		c += k
	}
	return c
}

// entries returns the number of entries of node p of height h: elements
// of a leaf, children of an inner node.
func entries(p unsafe.Pointer, h int) int {
	if h == 1 {
		return (*zleaf)(p).n
	}
	return (*zinner)(p).n
}

// insert adds (score, member), which must be absent.
func (z *ZSet) insert(score float64, member string) {
	if z.root == nil {
		z.root, z.height = unsafe.Pointer(new(zleaf)), 1
	}
	if r, rs, rm := z.ins(z.root, z.height, score, member); r != nil {
		nr := new(zinner)
		nr.n = 2
		nr.kids[0], nr.kids[1] = z.root, r
		nr.cnt[1] = count(r, z.height)
		nr.cnt[0] = z.n + 1 - nr.cnt[1]
		nr.scores[1], nr.members[1] = rs, rm
		z.root = unsafe.Pointer(nr)
		z.height++
	}
	z.n++
}

// ins inserts (s, m) under node p of height h and, when p splits, returns
// its new right sibling and that sibling's lower bound.
func (z *ZSet) ins(p unsafe.Pointer, h int, s float64, m string) (unsafe.Pointer, float64, string) {
	if h == 1 {
		x := (*zleaf)(p)
		i := x.lower(s, m)
		copy(x.scores[i+1:x.n+1], x.scores[i:x.n])
		copy(x.members[i+1:x.n+1], x.members[i:x.n])
		x.scores[i], x.members[i] = s, m
		x.n++
		if x.n <= zB {
			return nil, 0, ""
		}
		r := x.split()
		return unsafe.Pointer(r), r.scores[0], r.members[0]
	}
	x := (*zinner)(p)
	i := x.route(s, m)
	x.cnt[i]++
	r, rs, rm := z.ins(x.kids[i], h-1, s, m)
	if r == nil {
		return nil, 0, ""
	}
	rc := count(r, h-1)
	x.cnt[i] -= rc
	j := i + 1
	copy(x.kids[j+1:x.n+1], x.kids[j:x.n])
	copy(x.cnt[j+1:x.n+1], x.cnt[j:x.n])
	copy(x.scores[j+1:x.n+1], x.scores[j:x.n])
	copy(x.members[j+1:x.n+1], x.members[j:x.n])
	x.kids[j], x.cnt[j], x.scores[j], x.members[j] = r, rc, rs, rm
	x.n++
	if x.n <= zB {
		return nil, 0, ""
	}
	nr := x.split()
	return unsafe.Pointer(nr), nr.scores[0], nr.members[0]
}

// split moves the upper half of a full leaf into a new leaf after it.
func (x *zleaf) split() *zleaf {
	keep := x.n - x.n/2
	r := &zleaf{n: x.n - keep, prev: x, next: x.next}
	copy(r.scores[:], x.scores[keep:x.n])
	copy(r.members[:], x.members[keep:x.n])
	clear(x.members[keep:x.n])
	x.n = keep
	if x.next != nil {
		x.next.prev = r
	}
	x.next = r
	return r
}

// split moves the upper half of a full inner node into a new node; the
// separator of its first child becomes its lower bound.
func (x *zinner) split() *zinner {
	keep := x.n - x.n/2
	r := &zinner{n: x.n - keep}
	copy(r.kids[:], x.kids[keep:x.n])
	copy(r.cnt[:], x.cnt[keep:x.n])
	copy(r.scores[:], x.scores[keep:x.n])
	copy(r.members[:], x.members[keep:x.n])
	clear(x.kids[keep:x.n])
	clear(x.cnt[keep:x.n])
	clear(x.members[keep:x.n])
	x.n = keep
	return r
}

// remove deletes (score, member), which must be present.
func (z *ZSet) remove(score float64, member string) {
	z.del(z.root, z.height, score, member)
	z.shrink()
}

// removeAt deletes the element of rank r (0 <= r < n) and returns it: one
// descent by the counts, no comparison.
func (z *ZSet) removeAt(r int) (float64, string) {
	s, m := z.delRank(z.root, z.height, r)
	z.shrink()
	return s, m
}

// shrink counts a deletion and lowers the tree while its root has one
// child.
func (z *ZSet) shrink() {
	z.n--
	for z.height > 1 && (*zinner)(z.root).n == 1 {
		z.root = (*zinner)(z.root).kids[0]
		z.height--
	}
}

func (z *ZSet) del(p unsafe.Pointer, h int, s float64, m string) {
	if h == 1 {
		x := (*zleaf)(p)
		i := x.lower(s, m)
		if i == x.n || x.scores[i] != s || x.members[i] != m {
			panic("types: ZSet element not in its leaf")
		}
		x.cut(i)
		return
	}
	x := (*zinner)(p)
	i := x.route(s, m)
	x.cnt[i]--
	z.del(x.kids[i], h-1, s, m)
	x.rebalance(i, h)
}

func (z *ZSet) delRank(p unsafe.Pointer, h, r int) (float64, string) {
	if h == 1 {
		x := (*zleaf)(p)
		s, m := x.scores[r], x.members[r]
		x.cut(r)
		return s, m
	}
	x := (*zinner)(p)
	i := 0
	for r >= x.cnt[i] {
		r -= x.cnt[i]
		i++
	}
	x.cnt[i]--
	s, m := z.delRank(x.kids[i], h-1, r)
	x.rebalance(i, h)
	return s, m
}

// cut removes element i of the leaf.
func (x *zleaf) cut(i int) {
	copy(x.scores[i:x.n-1], x.scores[i+1:x.n])
	copy(x.members[i:x.n-1], x.members[i+1:x.n])
	x.n--
	x.members[x.n] = ""
}

// rebalance follows a deletion under child i of x (x of height h): a
// child left with fewer than zBMin entries is merged with a neighbour or
// takes entries from it.
func (x *zinner) rebalance(i, h int) {
	if x.n > 1 && entries(x.kids[i], h-1) < zBMin {
		a := max(i-1, 0)
		if h == 2 {
			x.fixLeaves(a)
		} else {
			x.fixInner(a)
		}
	}
}

// removeKid removes child j of x (its elements went to child j-1).
func (x *zinner) removeKid(j int) {
	copy(x.kids[j:x.n-1], x.kids[j+1:x.n])
	copy(x.cnt[j:x.n-1], x.cnt[j+1:x.n])
	copy(x.scores[j:x.n-1], x.scores[j+1:x.n])
	copy(x.members[j:x.n-1], x.members[j+1:x.n])
	x.n--
	x.kids[x.n], x.cnt[x.n], x.members[x.n] = nil, 0, ""
}

// fixLeaves merges leaves a and a+1 of x when they fit in one, else
// shares their elements evenly.
func (x *zinner) fixLeaves(a int) {
	A, B := (*zleaf)(x.kids[a]), (*zleaf)(x.kids[a+1])
	t := A.n + B.n
	if t <= zB {
		copy(A.scores[A.n:], B.scores[:B.n])
		copy(A.members[A.n:], B.members[:B.n])
		A.n = t
		A.next = B.next
		if B.next != nil {
			B.next.prev = A
		}
		x.cnt[a] = t
		x.removeKid(a + 1)
		return
	}
	ka := t / 2
	if A.n > ka { // A's last m elements go to the front of B
		m := A.n - ka
		copy(B.scores[m:B.n+m], B.scores[:B.n])
		copy(B.members[m:B.n+m], B.members[:B.n])
		copy(B.scores[:m], A.scores[ka:A.n])
		copy(B.members[:m], A.members[ka:A.n])
		clear(A.members[ka:A.n])
	} else { // B's first m elements go to the end of A
		m := ka - A.n
		copy(A.scores[A.n:ka], B.scores[:m])
		copy(A.members[A.n:ka], B.members[:m])
		copy(B.scores[:B.n-m], B.scores[m:B.n])
		copy(B.members[:B.n-m], B.members[m:B.n])
		clear(B.members[B.n-m : B.n])
	}
	A.n, B.n = ka, t-ka
	x.cnt[a], x.cnt[a+1] = A.n, B.n
	x.scores[a+1], x.members[a+1] = B.scores[0], B.members[0]
}

// fixInner is fixLeaves for inner children: B's lower bound (which is
// x's separator for it) goes with B's first child, and the separator of
// the child that becomes B's first is B's new bound and x's separator.
func (x *zinner) fixInner(a int) {
	A, B := (*zinner)(x.kids[a]), (*zinner)(x.kids[a+1])
	t := A.n + B.n
	if t <= zB {
		copy(A.kids[A.n:], B.kids[:B.n])
		copy(A.cnt[A.n:], B.cnt[:B.n])
		copy(A.scores[A.n:], B.scores[:B.n])
		copy(A.members[A.n:], B.members[:B.n])
		A.n = t
		x.cnt[a] += x.cnt[a+1]
		x.removeKid(a + 1)
		return
	}
	ka := t / 2
	moved := 0
	if A.n > ka {
		m := A.n - ka
		copy(B.kids[m:B.n+m], B.kids[:B.n])
		copy(B.cnt[m:B.n+m], B.cnt[:B.n])
		copy(B.scores[m:B.n+m], B.scores[:B.n])
		copy(B.members[m:B.n+m], B.members[:B.n])
		copy(B.kids[:m], A.kids[ka:A.n])
		copy(B.cnt[:m], A.cnt[ka:A.n])
		copy(B.scores[:m], A.scores[ka:A.n])
		copy(B.members[:m], A.members[ka:A.n])
		for _, c := range B.cnt[:m] {
			moved -= c
		}
		clear(A.kids[ka:A.n])
		clear(A.cnt[ka:A.n])
		clear(A.members[ka:A.n])
	} else {
		m := ka - A.n
		copy(A.kids[A.n:ka], B.kids[:m])
		copy(A.cnt[A.n:ka], B.cnt[:m])
		copy(A.scores[A.n:ka], B.scores[:m])
		copy(A.members[A.n:ka], B.members[:m])
		for _, c := range B.cnt[:m] {
			moved += c
		}
		copy(B.kids[:B.n-m], B.kids[m:B.n])
		copy(B.cnt[:B.n-m], B.cnt[m:B.n])
		copy(B.scores[:B.n-m], B.scores[m:B.n])
		copy(B.members[:B.n-m], B.members[m:B.n])
		clear(B.kids[B.n-m : B.n])
		clear(B.cnt[B.n-m : B.n])
		clear(B.members[B.n-m : B.n])
	}
	A.n, B.n = ka, t-ka
	x.cnt[a] += moved
	x.cnt[a+1] -= moved
	x.scores[a+1], x.members[a+1] = B.scores[0], B.members[0]
}

// countWhile returns how many leading elements satisfy pred, which must
// hold for a prefix of the order (and is asked about separators too,
// which are bounds between elements). O(log n).
func (z *ZSet) countWhile(pred func(score float64, member string) bool) int {
	if z.n == 0 {
		return 0
	}
	p, rank := z.root, 0
	for h := z.height; h > 1; h-- {
		x := (*zinner)(p)
		i := zfirstNot(&x.scores, &x.members, 1, x.n, pred) - 1
		for _, c := range x.cnt[:i] {
			rank += c
		}
		p = x.kids[i]
	}
	x := (*zleaf)(p)
	return rank + zfirstNot(&x.scores, &x.members, 0, x.n, pred)
}

// zfirstNot returns the first i in [lo, n) whose entry fails pred, which
// holds for a prefix of them; n if none fails.
func zfirstNot(scores *[zB + 1]float64, members *[zB + 1]string, lo, n int, pred func(float64, string) bool) int {
	for lo < n {
		h := int(uint(lo+n) >> 1)
		if pred(scores[h], members[h]) {
			lo = h + 1
		} else {
			n = h
		}
	}
	return lo
}

// byRank returns the leaf and position of 0-based rank r, 0 <= r < n.
// O(log n).
func (z *ZSet) byRank(r int) (*zleaf, int) {
	if r < 0 || r >= z.n {
		panic("types: ZSet rank out of range")
	}
	p := z.root
	for h := z.height; h > 1; h-- {
		x := (*zinner)(p)
		i := 0
		for r >= x.cnt[i] {
			r -= x.cnt[i]
			i++
		}
		p = x.kids[i]
	}
	return (*zleaf)(p), r
}

// zpos is an element's place: a leaf and a position in it, x nil past
// either end.
type zpos struct {
	x *zleaf
	i int
}

func (p *zpos) next() {
	if p.i++; p.i >= p.x.n {
		p.x, p.i = p.x.next, 0
	}
}

func (p *zpos) prev() {
	if p.i--; p.i < 0 {
		if p.x = p.x.prev; p.x != nil {
			p.i = p.x.n - 1
		}
	}
}

func (p *zpos) step(back bool) {
	if back {
		p.prev()
	} else {
		p.next()
	}
}

func (p zpos) member() string { return p.x.members[p.i] }

// at returns the place of rank r (0 <= r < n).
func (z *ZSet) at(r int) zpos {
	x, i := z.byRank(r)
	return zpos{x, i}
}

// Rank returns member's 0-based rank, counted from the highest score when
// reverse (ZRANK, ZREVRANK). O(log n).
func (z *ZSet) Rank(member []byte, reverse bool) (int, bool) {
	i := z.d.find(bstr(member))
	if i < 0 {
		return 0, false
	}
	e := z.d.at(i)
	s, m := e.val, e.key
	r := z.countWhile(func(fs float64, fm string) bool { return before(fs, fm, s, m) })
	if reverse {
		r = z.n - 1 - r
	}
	return r, true
}

// At returns the member and score of 0-based rank r, counted from the
// highest score when reverse. It panics unless 0 <= r < Len. O(log n).
func (z *ZSet) At(r int, reverse bool) (member string, score float64) {
	if r < 0 || r >= z.n {
		panic("types: ZSet.At rank out of range")
	}
	if reverse {
		r = z.n - 1 - r
	}
	x, i := z.byRank(r)
	return x.members[i], x.scores[i]
}

// RangeByRank calls fn for ranks lo..hi inclusive (0 <= lo <= hi < Len,
// as NormalizeRange returns them), counted from the highest score when
// reverse, in that order, until fn returns false. O(log n + hi-lo).
func (z *ZSet) RangeByRank(lo, hi int, reverse bool, fn func(member string, score float64) bool) {
	if lo < 0 || hi >= z.n || lo > hi {
		return
	}
	if reverse {
		z.walk(z.n-1-lo, hi-lo+1, true, fn)
	} else {
		z.walk(lo, hi-lo+1, false, fn)
	}
}

// walk calls fn for cnt elements from forward rank r, backwards when back.
func (z *ZSet) walk(r, cnt int, back bool, fn func(member string, score float64) bool) {
	for p := z.at(r); cnt > 0 && p.x != nil; cnt-- {
		if !fn(p.x.members[p.i], p.x.scores[p.i]) {
			return
		}
		p.step(back)
	}
}

// All calls fn for every member in order until fn returns false.
func (z *ZSet) All(fn func(member string, score float64) bool) {
	if z.n > 0 {
		z.walk(0, z.n, false, fn)
	}
}

// first and last return the places of the lowest and the highest
// element (n > 0).
func (z *ZSet) first() zpos { return z.at(0) }
func (z *ZSet) last() zpos  { return z.at(z.n - 1) }

// rangeRanks serves the LIMIT forms: the ranks first..last (forward,
// inclusive) viewed in the given direction, skipping offset (offset < 0
// gives nothing, as in Redis) and returning at most limit (< 0: all).
func (z *ZSet) rangeRanks(first, last int, reverse bool, offset, limit int, fn func(member string, score float64) bool) {
	if offset < 0 || first > last {
		return
	}
	cnt := last - first + 1 - offset
	if cnt <= 0 {
		return
	}
	if limit >= 0 && limit < cnt {
		cnt = limit
	}
	if reverse {
		z.walk(last-offset, cnt, true, fn)
	} else {
		z.walk(first+offset, cnt, false, fn)
	}
}

// ScoreRanks returns the forward ranks of the first and the last member
// in r (first > last when none is). O(log n).
func (z *ZSet) ScoreRanks(r ScoreRange) (first, last int) {
	if r.Empty() || z.n == 0 {
		return 0, -1
	}
	first = z.countWhile(func(s float64, _ string) bool { return !r.aboveMin(s) })
	last = z.countWhile(func(s float64, _ string) bool { return r.belowMax(s) }) - 1
	return first, last
}

// CountByScore returns the number of members in r, as ZCOUNT. O(log n).
func (z *ZSet) CountByScore(r ScoreRange) int {
	first, last := z.ScoreRanks(r)
	return max(0, last-first+1)
}

// RangeByScore calls fn for the members in r in score order (descending
// when reverse), after skipping offset of them (offset < 0: none are
// returned, as in Redis), at most limit (< 0: all), until fn returns
// false: ZRANGEBYSCORE and ZREVRANGEBYSCORE with LIMIT. O(log n +
// returned): the offset is skipped by rank, not by walking.
func (z *ZSet) RangeByScore(r ScoreRange, reverse bool, offset, limit int, fn func(member string, score float64) bool) {
	first, last := z.ScoreRanks(r)
	z.rangeRanks(first, last, reverse, offset, limit, fn)
}

// LexRanks returns the forward ranks of the first and the last member in
// r (first > last when none is). As in Redis, the result is meaningful
// only when all members have the same score. O(log n).
func (z *ZSet) LexRanks(r LexRange) (first, last int) {
	if r.Empty() || z.n == 0 {
		return 0, -1
	}
	// zslIsInLexRange: the tail must reach min and the head max.
	if !r.Min.gteMin(z.last().member()) || !r.Max.lteMax(z.first().member()) {
		return 0, -1
	}
	first = z.countWhile(func(_ float64, m string) bool { return !r.Min.gteMin(m) })
	last = z.countWhile(func(_ float64, m string) bool { return r.Max.lteMax(m) }) - 1
	return first, last
}

// CountByLex returns the number of members in r, as ZLEXCOUNT. O(log n).
func (z *ZSet) CountByLex(r LexRange) int {
	first, last := z.LexRanks(r)
	return max(0, last-first+1)
}

// RangeByLex is RangeByScore for a lex range (ZRANGEBYLEX,
// ZREVRANGEBYLEX). O(log n + returned).
func (z *ZSet) RangeByLex(r LexRange, reverse bool, offset, limit int, fn func(member string, score float64) bool) {
	first, last := z.LexRanks(r)
	z.rangeRanks(first, last, reverse, offset, limit, fn)
}

// LexScanRanks returns the forward ranks of the members a lex range
// covers when found by Redis 7.0's listpack walk rather than by a skip
// list descent: forward (zzlFirstInLexRange), the first member from the
// lowest score at or above min, then on while members stay at or below
// max; reverse (zzlLastInLexRange), the last member at or below max, then
// back while members stay at or above min. first > last when none. When
// all scores are equal (members in lex order) this is LexRanks; when they
// differ Redis's result is unspecified, and this is what Redis replies
// for a zset held as a listpack. O(n): the caller uses it on small zsets.
func (z *ZSet) LexScanRanks(r LexRange, reverse bool) (first, last int) {
	if r.Empty() || z.n == 0 ||
		!r.Min.gteMin(z.last().member()) || !r.Max.lteMax(z.first().member()) {
		return 0, -1
	}
	if reverse {
		p, i := z.last(), z.n-1
		for p.x != nil && !r.Max.lteMax(p.member()) {
			p.prev()
			i--
		}
		if p.x == nil || !r.Min.gteMin(p.member()) {
			return 0, -1
		}
		last = i
		for p.x != nil && r.Min.gteMin(p.member()) {
			p.prev()
			i--
		}
		return i + 1, last
	}
	p, i := z.first(), 0
	for p.x != nil && !r.Min.gteMin(p.member()) {
		p.next()
		i++
	}
	if p.x == nil || !r.Max.lteMax(p.member()) {
		return 0, -1
	}
	first = i
	for p.x != nil && r.Max.lteMax(p.member()) {
		p.next()
		i++
	}
	return first, i - 1
}

// RangeByLexScan is RangeByLex as Redis 7.0 runs it over a listpack (see
// LexScanRanks): from the first member found, offset members are skipped
// without looking at them, then members are returned, at most limit (< 0:
// all), while they stay within the far bound (max forward, min reverse).
// offset < 0 returns nothing, as Redis. O(n).
func (z *ZSet) RangeByLexScan(r LexRange, reverse bool, offset, limit int, fn func(member string, score float64) bool) {
	first, last := z.LexScanRanks(r, reverse)
	if first > last || offset < 0 {
		return
	}
	start := first + offset
	if reverse {
		start = last - offset
	}
	if start < 0 || start >= z.n {
		return
	}
	for p := z.at(start); p.x != nil && limit != 0; limit-- {
		m := p.member()
		if reverse && !r.Min.gteMin(m) || !reverse && !r.Max.lteMax(m) {
			return
		}
		if !fn(m, p.x.scores[p.i]) {
			return
		}
		p.step(reverse)
	}
}

// RemoveRangeByRank removes forward ranks lo..hi inclusive (0 <= lo <= hi
// < Len, else nothing) and returns the number removed, as
// ZREMRANGEBYRANK after NormalizeRange. O(removed * log n).
func (z *ZSet) RemoveRangeByRank(lo, hi int) int {
	if lo < 0 || hi >= z.n || lo > hi {
		return 0
	}
	for k := lo; k <= hi; k++ {
		_, m := z.removeAt(lo)
		z.d.remove(z.d.find(m))
	}
	return hi - lo + 1
}

// RemoveRangeByScore removes the members in r, as ZREMRANGEBYSCORE, and
// returns the forward ranks they had (for AppendOpZRemRangeByRank; first
// > last when none). O(log n + removed).
func (z *ZSet) RemoveRangeByScore(r ScoreRange) (first, last int) {
	first, last = z.ScoreRanks(r)
	z.RemoveRangeByRank(first, last)
	return first, last
}

// RemoveRangeByLex removes the members in r, as ZREMRANGEBYLEX, and
// returns the forward ranks they had. O(log n + removed).
func (z *ZSet) RemoveRangeByLex(r LexRange) (first, last int) {
	first, last = z.LexRanks(r)
	z.RemoveRangeByRank(first, last)
	return first, last
}

// Pop removes min(count, Len) members from the lowest scores (from the
// highest when max), calling fn for each in pop order before removing
// them, as ZPOPMIN/ZPOPMAX do. It returns the forward ranks removed (for
// AppendOpZRemRangeByRank). O(log n + count).
func (z *ZSet) Pop(count int, max bool, fn func(member string, score float64)) (first, last int) {
	count = min(count, z.n)
	if count <= 0 {
		return 0, -1
	}
	first, last = 0, count-1
	if max {
		first, last = z.n-count, z.n-1
	}
	if fn != nil {
		z.rangeRanks(first, last, max, 0, -1, func(m string, s float64) bool { fn(m, s); return true })
	}
	z.RemoveRangeByRank(first, last)
	return first, last
}

// Scan calls fn for up to count members (at least one) from cursor on and
// returns the cursor for the next call, 0 when done; see Hash.Scan for
// the guarantee (Redis's ZSCAN's, strengthened to exactly once). Members
// come in insertion order, not score order.
func (z *ZSet) Scan(cursor uint64, count int, fn func(member string, score float64)) uint64 {
	return z.d.scan(cursor, count, func(e *dentry[float64]) { fn(e.key, e.val) })
}

// Random calls fn for random members with Redis's ZRANDMEMBER count
// rules: count > 0 gives min(count, Len) distinct members (all of them,
// in insertion order, when count >= Len), count < 0 gives -count members
// that may repeat, count 0 gives none. The caller bounds -count.
func (z *ZSet) Random(r Rand, count int, fn func(member string, score float64)) {
	for _, i := range z.d.randomIndexes(r, count) {
		e := z.d.at(i)
		fn(e.key, e.val)
	}
}
