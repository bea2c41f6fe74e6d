package types

import (
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// zMaxLevel and the level probability 1/4 are Redis's ZSKIPLIST_MAXLEVEL
// and ZSKIPLIST_P.
const zMaxLevel = 32

type zlevel struct {
	forward *znode
	span    int // number of level-0 steps to forward (to the end when nil)
}

// znode is a skip list node. The header node has zMaxLevel levels and no
// member.
//
// Its height levels follow it in the same allocation (newNode allocates a
// struct of the node and an array of levels), as the levels of Redis's
// zskiplistNode are a flexible array member: a node of one level (3 in 4
// are) is 56 bytes, one 64-byte line of its size class, and a step of a
// search loads the next node's score and its forward pointer from the
// same line. (A []zlevel field cost a 24-byte header and a dependent load
// per step, and spread a one-level node over two lines.)
type znode struct {
	score    float64
	member   string
	backward *znode
	height   int
}

// lv returns level i of x, i < x.height (not checked).
func (x *znode) lv(i int) *zlevel {
	return (*zlevel)(unsafe.Add(unsafe.Pointer(x), unsafe.Sizeof(znode{})+uintptr(i)*unsafe.Sizeof(zlevel{})))
}

// zInline is the longest member a node holds in its own allocation,
// after its levels: a member of redis-benchmark's ZADD ("element:" and 12
// digits) fits. A search comparing members (equal scores) then reads the
// member from the node it already loaded, not from a string elsewhere in
// memory, and the member costs no allocation of its own.
const zInline = 24

// zalloc is a node's allocation: the node, its levels, and room for an
// inline member (M is [zInline]byte or [0]byte).
type zalloc[L, M any] struct {
	n znode
	_ L // the levels, reached through znode.lv
	m M
}

func allocNode[L, M any]() (*znode, unsafe.Pointer) {
	p := new(zalloc[L, M])
	return &p.n, unsafe.Pointer(&p.m)
}

// newNode allocates a node of lvl levels, its levels in the same
// allocation (znode), rounded up to 1, 2, 4 or 8 levels; heights above 8
// (1 node in 65536) and the header get zMaxLevel. A member of up to
// zInline bytes is copied into the allocation too (x.member then points
// there); a longer one is kept as given.
func newNode(lvl int, score float64, member string) *znode {
	in := len(member) <= zInline && member != ""
	var x *znode
	var m unsafe.Pointer
	switch {
	case lvl == 1 && in:
		x, m = allocNode[[1]zlevel, [zInline]byte]()
	case lvl == 1:
		x, _ = allocNode[[1]zlevel, [0]byte]()
	case lvl == 2 && in:
		x, m = allocNode[[2]zlevel, [zInline]byte]()
	case lvl == 2:
		x, _ = allocNode[[2]zlevel, [0]byte]()
	case lvl <= 4 && in:
		x, m = allocNode[[4]zlevel, [zInline]byte]()
	case lvl <= 4:
		x, _ = allocNode[[4]zlevel, [0]byte]()
	case lvl <= 8 && in:
		x, m = allocNode[[8]zlevel, [zInline]byte]()
	case lvl <= 8:
		x, _ = allocNode[[8]zlevel, [0]byte]()
	case in:
		x, m = allocNode[[zMaxLevel]zlevel, [zInline]byte]()
	default:
		x, _ = allocNode[[zMaxLevel]zlevel, [0]byte]()
	}
	if m != nil {
		b := unsafe.Slice((*byte)(m), zInline)
		copy(b, member)
		member = unsafe.String(&b[0], len(member))
	}
	x.score, x.member, x.height = score, member, lvl
	return x
}

// randomLevel returns a level in [1, zMaxLevel], level k+1 with
// probability (1/4)^k * 3/4.
func randomLevel() int {
	l := 1 + bits.TrailingZeros64(rand.Uint64())/2
	return min(l, zMaxLevel)
}

// before reports whether (s1, m1) sorts before (s2, m2): by score, ties by
// member bytes, as Redis orders a sorted set.
func before(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || s1 == s2 && m1 < m2
}

// ZSet is a Redis sorted set: members with float64 scores, ordered by
// score then by member bytes. It is Redis's zset: a skip list with spans
// (O(log n) insertion, deletion, rank and access by rank, expected) plus
// a member -> node dict (O(1) score lookup).
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
	head  *znode
	tail  *znode
	n     int
	level int
	d     dict[*znode]
}

func (z *ZSet) init() {
	if z.head == nil {
		z.head = newNode(zMaxLevel, 0, "")
		z.level = 1
	}
}

// Len returns the number of members. O(1).
func (z *ZSet) Len() int { return z.n }

// Score returns member's score. O(1).
func (z *ZSet) Score(member []byte) (float64, bool) {
	if i := z.d.find(bstr(member)); i >= 0 {
		return z.d.at(i).val.score, true
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
	if len(member) <= zInline {
		return 0, z.addNew(bstr(member), score) // copied into the node
	}
	return 0, z.addNew(string(member), score)
}

// AddString is Add for a string member, which the ZSet keeps without
// copying when it is longer than zInline bytes (a shorter one is copied
// into its node).
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
	x := z.insert(score, member)
	z.d.insert(x.member, x) // the node's copy when inline
	return false
}

func (z *ZSet) update(i int, score float64) float64 {
	if score != score {
		panic("types: NaN score")
	}
	x := z.d.at(i).val
	old := x.score
	if score != old {
		z.d.at(i).val = z.updateScore(x, score)
	}
	return old
}

// Remove removes member and reports whether it was present. O(log n).
func (z *ZSet) Remove(member []byte) bool {
	i := z.d.find(bstr(member))
	if i < 0 {
		return false
	}
	x := z.d.at(i).val
	z.d.remove(i)
	var update [zMaxLevel]*znode
	z.search(x.score, x.member, &update)
	z.deleteNode(x, &update)
	return true
}

// search fills update with the rightmost node before (score, member) at
// every level, as zslInsert/zslDelete do, and returns the rank (number of
// nodes) before that position.
func (z *ZSet) search(score float64, member string, update *[zMaxLevel]*znode) int {
	x := z.head
	rank := 0
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && before(f.score, f.member, score, member); f = x.lv(i).forward {
			rank += x.lv(i).span
			x = f
		}
		update[i] = x
	}
	return rank
}

// insert adds a node for (score, member), which must be absent: a port of
// zslInsert.
func (z *ZSet) insert(score float64, member string) *znode {
	z.init()
	return z.link(score, member, nil)
}

// link inserts node x, or a new node of random height when x is nil, at
// the place of (score, member).
func (z *ZSet) link(score float64, member string, x *znode) *znode {
	var update [zMaxLevel]*znode
	var rank [zMaxLevel]int
	p := z.head
	for i := z.level - 1; i >= 0; i-- {
		if i != z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := p.lv(i).forward; f != nil && before(f.score, f.member, score, member); f = p.lv(i).forward {
			rank[i] += p.lv(i).span
			p = f
		}
		update[i] = p
	}
	var lvl int
	if x != nil {
		lvl = x.height
		x.score, x.backward = score, nil
	} else {
		lvl = randomLevel()
	}
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = z.head
			update[i].lv(i).span = z.n
		}
		z.level = lvl
	}
	if x == nil {
		x = newNode(lvl, score, member)
	}
	for i := 0; i < lvl; i++ {
		x.lv(i).forward = update[i].lv(i).forward
		update[i].lv(i).forward = x
		x.lv(i).span = update[i].lv(i).span - (rank[0] - rank[i])
		update[i].lv(i).span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].lv(i).span++
	}
	if update[0] != z.head {
		x.backward = update[0]
	}
	if f := x.lv(0).forward; f != nil {
		f.backward = x
	} else {
		z.tail = x
	}
	z.n++
	return x
}

// deleteNode unlinks x given update from search: zslDeleteNode.
func (z *ZSet) deleteNode(x *znode, update *[zMaxLevel]*znode) {
	for i := 0; i < z.level; i++ {
		if update[i].lv(i).forward == x {
			update[i].lv(i).span += x.lv(i).span - 1
			update[i].lv(i).forward = x.lv(i).forward
		} else {
			update[i].lv(i).span--
		}
	}
	if f := x.lv(0).forward; f != nil {
		f.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.head.lv(z.level-1).forward == nil {
		z.level--
	}
	z.n--
}

// updateScore moves x to newScore, in place when its neighbours allow
// (zslUpdateScore), and returns the node now holding the member.
func (z *ZSet) updateScore(x *znode, newScore float64) *znode {
	if (x.backward == nil || x.backward.score < newScore) &&
		(x.lv(0).forward == nil || x.lv(0).forward.score > newScore) {
		x.score = newScore
		return x
	}
	var update [zMaxLevel]*znode
	z.searchAlong(x.score, x.member, newScore, &update)
	z.deleteNode(x, &update)
	return z.link(newScore, x.member, x) // reuse the node, as Redis does
}

// searchAlong is search for (score, member) without the rank, filling
// update, with a second walk down the list to (score2, member) in the same
// loop, step for step, that only loads the nodes on its way.
//
// Redis's zslUpdateScore walks the list twice, one walk after the other:
// zslDelete's search for the node, then zslInsert's for its new place. In
// a large sorted set every step of a walk is a cache miss that depends on
// the one before, so the second walk's misses are waited for after the
// first's. Walked in one loop, the two walks' misses are waited for
// together, and link, after deleteNode, finds the path to the new place
// in the cache (it walks the same nodes, less the one moved; the second
// walk may pass that node, as it walks the list with it).
// BenchmarkZSet/op=update/n=1000000, binaries alternated: 4.4-4.7 us ->
// 3.8-4.3 us (perf/results/hotpath.md, "Sorted-set score updates walk to
// both places at once").
func (z *ZSet) searchAlong(score float64, member string, score2 float64, update *[zMaxLevel]*znode) {
	x, y := z.head, z.head
	for i := z.level - 1; i >= 0; i-- {
		for {
			fx, fy := x.lv(i).forward, y.lv(i).forward
			ax := fx != nil && before(fx.score, fx.member, score, member)
			ay := fy != nil && before(fy.score, fy.member, score2, member)
			if ax {
				x = fx
			}
			if ay {
				y = fy
			}
			if !ax && !ay {
				break
			}
		}
		update[i] = x
	}
}

// Rank returns member's 0-based rank, counted from the highest score when
// reverse (ZRANK, ZREVRANK). O(log n).
func (z *ZSet) Rank(member []byte, reverse bool) (int, bool) {
	i := z.d.find(bstr(member))
	if i < 0 {
		return 0, false
	}
	x := z.d.at(i).val
	r := z.countWhile(func(f *znode) bool { return !before(x.score, x.member, f.score, f.member) }) - 1
	if reverse {
		r = z.n - 1 - r
	}
	return r, true
}

// countWhile descends the skip list and returns how many leading nodes
// satisfy pred, which must hold for a prefix of the list. O(log n).
func (z *ZSet) countWhile(pred func(*znode) bool) int {
	if z.n == 0 {
		return 0
	}
	x := z.head
	rank := 0
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && pred(f); f = x.lv(i).forward {
			rank += x.lv(i).span
			x = f
		}
	}
	return rank
}

// byRank returns the node of 0-based rank r, 0 <= r < n: zslGetElementByRank.
// O(log n).
func (z *ZSet) byRank(r int) *znode {
	r++
	x := z.head
	traversed := 0
	for i := z.level - 1; i >= 0; i-- {
		for x.lv(i).forward != nil && traversed+x.lv(i).span <= r {
			traversed += x.lv(i).span
			x = x.lv(i).forward
		}
		if traversed == r {
			return x
		}
	}
	panic("types: ZSet rank out of range")
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
	x := z.byRank(r)
	return x.member, x.score
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

// walk calls fn for cnt nodes from forward rank r, backwards when back.
func (z *ZSet) walk(r, cnt int, back bool, fn func(member string, score float64) bool) {
	x := z.byRank(r)
	for ; cnt > 0 && x != nil; cnt-- {
		if !fn(x.member, x.score) {
			return
		}
		if back {
			x = x.backward
		} else {
			x = x.lv(0).forward
		}
	}
}

// All calls fn for every member in order until fn returns false.
func (z *ZSet) All(fn func(member string, score float64) bool) {
	if z.n == 0 {
		return
	}
	for x := z.head.lv(0).forward; x != nil; x = x.lv(0).forward {
		if !fn(x.member, x.score) {
			return
		}
	}
}

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
	first = z.countWhile(func(f *znode) bool { return !r.aboveMin(f.score) })
	last = z.countWhile(func(f *znode) bool { return r.belowMax(f.score) }) - 1
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
	if !r.Min.gteMin(z.tail.member) || !r.Max.lteMax(z.head.lv(0).forward.member) {
		return 0, -1
	}
	first = z.countWhile(func(f *znode) bool { return !r.Min.gteMin(f.member) })
	last = z.countWhile(func(f *znode) bool { return r.Max.lteMax(f.member) }) - 1
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
		!r.Min.gteMin(z.tail.member) || !r.Max.lteMax(z.head.lv(0).forward.member) {
		return 0, -1
	}
	if reverse {
		x, i := z.tail, z.n-1
		for x != nil && !r.Max.lteMax(x.member) {
			x, i = x.backward, i-1
		}
		if x == nil || !r.Min.gteMin(x.member) {
			return 0, -1
		}
		last = i
		for x != nil && r.Min.gteMin(x.member) {
			x, i = x.backward, i-1
		}
		return i + 1, last
	}
	x, i := z.head.lv(0).forward, 0
	for x != nil && !r.Min.gteMin(x.member) {
		x, i = x.lv(0).forward, i+1
	}
	if x == nil || !r.Max.lteMax(x.member) {
		return 0, -1
	}
	first = i
	for x != nil && r.Max.lteMax(x.member) {
		x, i = x.lv(0).forward, i+1
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
	for x := z.byRank(start); x != nil && limit != 0; limit-- {
		if reverse && !r.Min.gteMin(x.member) || !reverse && !r.Max.lteMax(x.member) {
			return
		}
		if !fn(x.member, x.score) {
			return
		}
		if reverse {
			x = x.backward
		} else {
			x = x.lv(0).forward
		}
	}
}

// RemoveRangeByRank removes forward ranks lo..hi inclusive (0 <= lo <= hi
// < Len, else nothing) and returns the number removed, as
// ZREMRANGEBYRANK after NormalizeRange: zslDeleteRangeByRank. O(log n +
// removed).
func (z *ZSet) RemoveRangeByRank(lo, hi int) int {
	if lo < 0 || hi >= z.n || lo > hi {
		return 0
	}
	var update [zMaxLevel]*znode
	x := z.head
	traversed := 0
	for i := z.level - 1; i >= 0; i-- {
		for x.lv(i).forward != nil && traversed+x.lv(i).span < lo+1 {
			traversed += x.lv(i).span
			x = x.lv(i).forward
		}
		update[i] = x
	}
	traversed++
	x = x.lv(0).forward
	removed := 0
	for x != nil && traversed <= hi+1 {
		next := x.lv(0).forward
		z.deleteNode(x, &update)
		z.d.remove(z.d.find(x.member))
		removed++
		traversed++
		x = next
	}
	return removed
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
	return z.d.scan(cursor, count, func(e *dentry[*znode]) { fn(e.key, e.val.score) })
}

// Random calls fn for random members with Redis's ZRANDMEMBER count
// rules: count > 0 gives min(count, Len) distinct members (all of them,
// in insertion order, when count >= Len), count < 0 gives -count members
// that may repeat, count 0 gives none. The caller bounds -count.
func (z *ZSet) Random(r Rand, count int, fn func(member string, score float64)) {
	for _, i := range z.d.randomIndexes(r, count) {
		e := z.d.at(i)
		fn(e.key, e.val.score)
	}
}
