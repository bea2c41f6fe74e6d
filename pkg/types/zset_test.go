package types

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"unsafe"
)

type scored struct {
	M string
	S float64
}

// zmodel is the reference: a map, sorted naively on demand.
type zmodel map[string]float64

func (m zmodel) sorted() []scored {
	out := make([]scored, 0, len(m))
	for k, v := range m {
		out = append(out, scored{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.S != b.S {
			return a.S < b.S
		}
		return a.M < b.M
	})
	return out
}

func collect(fn func(func(string, float64) bool)) []scored {
	var out []scored
	fn(func(m string, s float64) bool {
		out = append(out, scored{m, s})
		return true
	})
	return out
}

func zAll(z *ZSet) []scored { return collect(z.All) }

// window applies reverse, offset and limit to a forward-ordered slice, as
// the LIMIT forms define them.
func window(in []scored, reverse bool, offset, limit int) []scored {
	in = slices.Clone(in)
	if reverse {
		slices.Reverse(in)
	}
	if offset < 0 || offset >= len(in) {
		return nil
	}
	in = in[offset:]
	if limit >= 0 && limit < len(in) {
		in = in[:limit]
	}
	return in
}

// checkZTree verifies the tree: every node's size (within zB; at least
// zBMin-1 below the root; a root above the leaves has two children), the
// order of each leaf, every separator against the elements on both sides
// (and, but for a first child, against the inner child's lower bound),
// every count, the slots past each node's end (cleared), the chain of
// leaves both ways, the length, and the dict against the elements.
func checkZTree(t *testing.T, z *ZSet) {
	t.Helper()
	if z.root == nil {
		requireEqual(t, "empty zset length", z.n, 0)
		requireEqual(t, "empty zset height", z.height, 0)
		return
	}
	var leaves []*zleaf
	var all []scored
	// walk checks the node p of height h whose elements lie in [lo, hi)
	// (nil: unbounded) and returns how many it holds.
	var walk func(p unsafe.Pointer, h int, lo, hi *scored, root bool) int
	walk = func(p unsafe.Pointer, h int, lo, hi *scored, root bool) int {
		n := entries(p, h)
		if n > zB || !root && n < zBMin-1 {
			t.Fatalf("node of height %d holds %d entries", h, n)
		}
		if h == 1 {
			x := (*zleaf)(p)
			for i := 0; i < x.n; i++ {
				e := scored{x.members[i], x.scores[i]}
				if lo != nil && before(e.S, e.M, lo.S, lo.M) || hi != nil && !before(e.S, e.M, hi.S, hi.M) {
					t.Fatalf("element %v outside its bounds %v %v", e, lo, hi)
				}
				if i > 0 && !before(x.scores[i-1], x.members[i-1], e.S, e.M) {
					t.Fatalf("leaf order broken at %v", e)
				}
				all = append(all, e)
			}
			for i := x.n; i <= zB; i++ {
				if x.members[i] != "" {
					t.Fatalf("leaf slot %d past its %d elements holds %q", i, x.n, x.members[i])
				}
			}
			leaves = append(leaves, x)
			return x.n
		}
		x := (*zinner)(p)
		if root && n < 2 {
			t.Fatalf("root of height %d has %d children", h, n)
		}
		total := 0
		for i := 0; i < x.n; i++ {
			clo, chi := lo, hi
			if i > 0 {
				clo = &scored{x.members[i], x.scores[i]}
			}
			if i+1 < x.n {
				chi = &scored{x.members[i+1], x.scores[i+1]}
			}
			if i > 0 && (lo != nil && before(clo.S, clo.M, lo.S, lo.M) || hi != nil && !before(clo.S, clo.M, hi.S, hi.M)) {
				t.Fatalf("separator %v outside its node's bounds %v %v", *clo, lo, hi)
			}
			if i > 0 && h > 2 {
				k := (*zinner)(x.kids[i])
				if k.scores[0] != x.scores[i] || k.members[0] != x.members[i] {
					t.Fatalf("lower bound of child %d at height %d is not its separator", i, h)
				}
			}
			c := walk(x.kids[i], h-1, clo, chi, false)
			if c != x.cnt[i] {
				t.Fatalf("count of child %d at height %d = %d, holds %d", i, h, x.cnt[i], c)
			}
			total += c
		}
		for i := x.n; i <= zB; i++ {
			if x.kids[i] != nil || x.members[i] != "" || x.cnt[i] != 0 {
				t.Fatalf("inner slot %d past its %d children not cleared", i, x.n)
			}
		}
		return total
	}
	requireEqual(t, "length", walk(z.root, z.height, nil, nil, true), z.n)
	for i, x := range leaves {
		var prev, next *zleaf
		if i > 0 {
			prev = leaves[i-1]
		}
		if i+1 < len(leaves) {
			next = leaves[i+1]
		}
		if x.prev != prev || x.next != next {
			t.Fatalf("leaf %d of %d: links broken", i, len(leaves))
		}
	}
	requireEqual(t, "dict length", z.d.live, z.n)
	for _, e := range all {
		s, ok := z.Score([]byte(e.M))
		if !ok || math.Float64bits(s) != math.Float64bits(e.S) {
			t.Fatalf("dict has %q at %v %v, the tree at %v", e.M, s, ok, e.S)
		}
	}
}

var scorePool = []float64{math.Inf(-1), -2.5, -1, math.Copysign(0, -1), 0, 0.5, 1, 1, 2, 3e10, math.Inf(1)}

func randScore(r *rand.Rand) float64 {
	if r.IntN(4) == 0 {
		return float64(r.IntN(1000)) / 10
	}
	return scorePool[r.IntN(len(scorePool))]
}

func randScoreRange(r *rand.Rand) ScoreRange {
	return ScoreRange{Min: randScore(r), Max: randScore(r), MinEx: r.IntN(3) == 0, MaxEx: r.IntN(3) == 0}
}

func randLexBound(r *rand.Rand, pool int) LexBound {
	switch r.IntN(8) {
	case 0:
		return LexBound{Inf: -1, Ex: true}
	case 1:
		return LexBound{Inf: 1, Ex: true}
	}
	return LexBound{Value: string(randBytes(r, pool)), Ex: r.IntN(2) == 0}
}

func TestZSetRandomized(t *testing.T) {
	t.Run("scores", func(t *testing.T) { testZSetRandomized(t, false) })
	t.Run("lex", func(t *testing.T) { testZSetRandomized(t, true) })
}

func testZSetRandomized(t *testing.T, lex bool) {
	r := newRand(t)
	var z ZSet
	m := zmodel{}
	c := &chain{image: z.AppendImage(nil)}
	pool := 60
	score := func() float64 {
		if lex {
			return 0
		}
		return randScore(r)
	}
	for step := 0; step < steps(t); step++ {
		if step%500 == 0 {
			pool = []int{10, 60, 400}[r.IntN(3)]
		}
		sorted := m.sorted()
		switch op := r.IntN(100); {
		case op < 45:
			rec := AppendOpZAdd(nil)
			for k := 1 + r.IntN(3); k > 0; k-- {
				mem, s := randBytes(r, pool), score()
				old, existed := z.Add(mem, s)
				mold, mexisted := m[string(mem)]
				requireEqual(t, "Add", fmt.Sprint(old, existed), fmt.Sprint(mold, mexisted))
				if !mexisted || mold != s { // Redis keeps the old bits of an equal score (-0 vs 0)
					m[string(mem)] = s
				}
				rec = AppendZAddItem(rec, s, mem)
			}
			c.add(rec)
		case op < 65:
			var ms [][]byte
			for k := 1 + r.IntN(3); k > 0; k-- {
				mem := randBytes(r, pool)
				_, want := m[string(mem)]
				delete(m, string(mem))
				requireEqual(t, "Remove", z.Remove(mem), want)
				ms = append(ms, mem)
			}
			c.add(AppendOpZRemove(nil, ms...))
		case op < 70:
			lo, hi, ok := NormalizeRange(r.IntN(20)-10, r.IntN(20)-10, len(m))
			if !ok {
				requireEqual(t, "RemoveRangeByRank empty", z.RemoveRangeByRank(lo, hi), 0)
				break
			}
			requireEqual(t, "RemoveRangeByRank", z.RemoveRangeByRank(lo, hi), hi-lo+1)
			for _, e := range sorted[lo : hi+1] {
				delete(m, e.M)
			}
			c.add(AppendOpZRemoveRanks(nil, lo, hi))
		case op < 75:
			var first, last int
			var in func(scored) bool
			if lex {
				lr := LexRange{randLexBound(r, pool), randLexBound(r, pool)}
				first, last = z.RemoveRangeByLex(lr)
				in = func(e scored) bool { return lr.Contains(e.M) }
			} else {
				sr := randScoreRange(r)
				first, last = z.RemoveRangeByScore(sr)
				in = func(e scored) bool { return sr.Contains(e.S) }
			}
			var wantFirst, cnt = -1, 0
			for i, e := range sorted {
				if in(e) {
					if wantFirst < 0 {
						wantFirst = i
					}
					cnt++
					delete(m, e.M)
				}
			}
			requireEqual(t, "removed range size", max(0, last-first+1), cnt)
			if cnt > 0 {
				requireEqual(t, "removed range first", first, wantFirst)
				c.add(AppendOpZRemoveRanks(nil, first, last))
			}
		case op < 80:
			count, top := r.IntN(4), r.IntN(2) == 0
			got := []scored{}
			first, last := z.Pop(count, top, func(m string, s float64) { got = append(got, scored{m, s}) })
			want := window(sorted, top, 0, count)
			requireEqual(t, "Pop", got, want)
			for _, e := range want {
				delete(m, e.M)
			}
			if len(want) > 0 {
				c.add(AppendOpZRemoveRanks(nil, first, last))
			}
		default:
			// Read-only queries over random ranges.
			reverse := r.IntN(2) == 0
			offset, limit := r.IntN(6)-1, r.IntN(8)-2
			if lo, hi, ok := NormalizeRange(r.IntN(30)-15, r.IntN(30)-15, len(sorted)); ok {
				got := collect(func(fn func(string, float64) bool) { z.RangeByRank(lo, hi, reverse, fn) })
				rev := slices.Clone(sorted)
				if reverse {
					slices.Reverse(rev)
				}
				requireEqual(t, "RangeByRank", got, rev[lo:hi+1])
			}
			sr := randScoreRange(r)
			var in []scored
			for _, e := range sorted {
				if sr.Contains(e.S) {
					in = append(in, e)
				}
			}
			requireEqual(t, fmt.Sprintf("RangeByScore %+v rev=%v off=%d lim=%d", sr, reverse, offset, limit),
				collect(func(fn func(string, float64) bool) { z.RangeByScore(sr, reverse, offset, limit, fn) }),
				window(in, reverse, offset, limit))
			requireEqual(t, "CountByScore", z.CountByScore(sr), len(in))
			if lex {
				lr := LexRange{randLexBound(r, pool), randLexBound(r, pool)}
				in = nil
				for _, e := range sorted {
					if lr.Contains(e.M) {
						in = append(in, e)
					}
				}
				requireEqual(t, fmt.Sprintf("RangeByLex %+v rev=%v off=%d lim=%d", lr, reverse, offset, limit),
					collect(func(fn func(string, float64) bool) { z.RangeByLex(lr, reverse, offset, limit, fn) }),
					window(in, reverse, offset, limit))
				requireEqual(t, "CountByLex", z.CountByLex(lr), len(in))
				// Members in lex order: the listpack walk finds the same.
				requireEqual(t, fmt.Sprintf("RangeByLexScan %+v rev=%v off=%d lim=%d", lr, reverse, offset, limit),
					collect(func(fn func(string, float64) bool) { z.RangeByLexScan(lr, reverse, offset, limit, fn) }),
					window(in, reverse, offset, limit))
				for _, rev := range []bool{false, true} {
					first, last := z.LexScanRanks(lr, rev)
					requireEqual(t, "LexScanRanks count", max(0, last-first+1), len(in))
				}
			}
		}
		checkZSet(t, &z, m)
		if step%37 == 0 {
			img := z.AppendImage(nil)
			requireEqual(t, "ImageSize", z.ImageSize(), len(img))
			d, err := DecodeZSet(img)
			requireNoErr(t, err, "DecodeZSet")
			checkZSet(t, d, m)
			requireEqual(t, "re-encoded image", d.AppendImage(nil), img)
			f, err := DecodeZSet(c.image)
			requireNoErr(t, err, "DecodeZSet chain image")
			for _, op := range c.ops {
				requireNoErr(t, f.Apply(op), "ZSet.Apply")
			}
			checkZSet(t, f, m)
			c.fold(img)
		}
	}
}

// checkZSet compares z with the model: order, every rank both ways, every
// rank lookup, every score.
func checkZSet(t *testing.T, z *ZSet, m zmodel) {
	t.Helper()
	checkZTree(t, z)
	sorted := m.sorted()
	requireEqual(t, "Len", z.Len(), len(sorted))
	requireEqual(t, "All", zAll(z), sorted)
	for i, e := range sorted {
		s, ok := z.Score([]byte(e.M))
		if !ok || math.Float64bits(s) != math.Float64bits(e.S) {
			t.Fatalf("Score(%q) = %v %v, want %v", e.M, s, ok, e.S)
		}
		rk, ok := z.Rank([]byte(e.M), false)
		requireEqual(t, "Rank", fmt.Sprint(rk, ok), fmt.Sprint(i, true))
		rk, _ = z.Rank([]byte(e.M), true)
		requireEqual(t, "RevRank", rk, len(sorted)-1-i)
		mem, sc := z.At(i, false)
		requireEqual(t, "At", scored{mem, sc}, e)
		mem, sc = z.At(len(sorted)-1-i, true)
		requireEqual(t, "At reverse", scored{mem, sc}, e)
	}
	if _, ok := z.Rank([]byte("absent member"), false); ok {
		t.Fatal("Rank of an absent member")
	}
	var scanned []scored
	for cur := z.Scan(0, 5, func(m string, s float64) { scanned = append(scanned, scored{m, s}) }); cur != 0; {
		cur = z.Scan(cur, 5, func(m string, s float64) { scanned = append(scanned, scored{m, s}) })
	}
	requireEqual(t, "scanned", len(scanned), len(sorted))
}

func TestZSetTable(t *testing.T) {
	var z ZSet
	for i, m := range []string{"a", "b", "c", "d", "e"} {
		z.Add([]byte(m), float64(i+1))
	}
	t.Run("score update keeps node in place", func(t *testing.T) {
		z.Add([]byte("c"), 3.5)
		requireEqual(t, "all", zAll(&z)[2], scored{"c", 3.5})
		z.Add([]byte("c"), 10)
		requireEqual(t, "moved", zAll(&z)[4], scored{"c", 10})
		z.Add([]byte("c"), 3)
	})
	t.Run("ties by member", func(t *testing.T) {
		var y ZSet
		y.Add([]byte("b"), 1)
		y.Add([]byte("a"), 1)
		y.Add([]byte("c"), math.Copysign(0, -1))
		y.Add([]byte("d"), 0)
		requireEqual(t, "order", zAll(&y), []scored{{"c", math.Copysign(0, -1)}, {"d", 0}, {"a", 1}, {"b", 1}})
		old, existed := y.Add([]byte("d"), math.Copysign(0, -1)) // equal score: no change
		requireEqual(t, "old", fmt.Sprint(old, existed), "0 true")
		s, _ := y.Score([]byte("d"))
		requireEqual(t, "kept +0", math.Signbit(s), false)
	})
	t.Run("by score with limit", func(t *testing.T) {
		sr, err := ParseScoreRange([]byte("(1"), []byte("+inf"))
		requireNoErr(t, err, "parse")
		got := collect(func(fn func(string, float64) bool) { z.RangeByScore(sr, false, 1, 2, fn) })
		requireEqual(t, "range", got, []scored{{"c", 3}, {"d", 4}})
		got = collect(func(fn func(string, float64) bool) { z.RangeByScore(sr, true, 0, -1, fn) })
		requireEqual(t, "rev", got, []scored{{"e", 5}, {"d", 4}, {"c", 3}, {"b", 2}})
		got = collect(func(fn func(string, float64) bool) { z.RangeByScore(sr, false, -1, 2, fn) })
		requireEqual(t, "negative offset", len(got), 0)
		requireEqual(t, "count", z.CountByScore(sr), 4)
	})
}

func TestParseScoreRange(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		min, max string
		want     ScoreRange
		err      bool
	}{
		{"1", "2", ScoreRange{Min: 1, Max: 2}, false},
		{"(1", "(2", ScoreRange{Min: 1, Max: 2, MinEx: true, MaxEx: true}, false},
		{"-inf", "+inf", ScoreRange{Min: -inf, Max: inf}, false},
		{"(-inf", "inf", ScoreRange{Min: -inf, Max: inf, MinEx: true}, false},
		{"-Infinity", "INF", ScoreRange{Min: -inf, Max: inf}, false},
		{"", "(", ScoreRange{Min: 0, Max: 0, MaxEx: true}, false},
		{" \t1", "0x10", ScoreRange{Min: 1, Max: 16}, false},
		{"0x1.8", "0X1P1", ScoreRange{Min: 1.5, Max: 2}, false},
		{"1e500", "-1e500", ScoreRange{Min: inf, Max: -inf}, false},
		{"1e-400", ".5", ScoreRange{Min: 0, Max: 0.5}, false},
		{"1\x00junk", "(2\x00", ScoreRange{Min: 1, Max: 2, MaxEx: true}, false},
		{"1 ", "2", ScoreRange{}, true},
		{"nan", "1", ScoreRange{}, true},
		{"1", "(nan", ScoreRange{}, true},
		{"nan(123)", "1", ScoreRange{}, true},
		{"+", "1", ScoreRange{}, true},
		{"1_0", "1", ScoreRange{}, true},
		{"((1", "1", ScoreRange{}, true},
		{"[1", "1", ScoreRange{}, true},
		{" ", "1", ScoreRange{}, true},
		{"0x", "1", ScoreRange{}, true},
		{"1e", "1", ScoreRange{}, true},
		{"infinite", "1", ScoreRange{}, true},
	} {
		got, err := ParseScoreRange([]byte(tc.min), []byte(tc.max))
		if tc.err {
			if !errors.Is(err, ErrScoreRange) {
				t.Errorf("%q %q: err %v, want ErrScoreRange", tc.min, tc.max, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q %q: got %+v %v, want %+v", tc.min, tc.max, got, err, tc.want)
		}
	}
	var re *ReplyError
	if !errors.As(ErrScoreRange, &re) || re.Reply() != "ERR min or max is not a float" {
		t.Fatalf("ErrScoreRange reply %v", re)
	}
	if !errors.As(ErrLexRange, &re) || re.Reply() != "ERR min or max not valid string range item" {
		t.Fatalf("ErrLexRange reply %v", re)
	}
}

func TestParseLexRange(t *testing.T) {
	for _, tc := range []struct {
		min, max string
		want     LexRange
		err      bool
	}{
		{"-", "+", LexRange{LexBound{Inf: -1, Ex: true}, LexBound{Inf: 1, Ex: true}}, false},
		{"[a", "(b", LexRange{LexBound{Value: "a"}, LexBound{Value: "b", Ex: true}}, false},
		{"[", "(", LexRange{LexBound{}, LexBound{Ex: true}}, false},
		{"-\x00x", "+\x00", LexRange{LexBound{Inf: -1, Ex: true}, LexBound{Inf: 1, Ex: true}}, false},
		{"[a\x00b", "+", LexRange{LexBound{Value: "a\x00b"}, LexBound{Inf: 1, Ex: true}}, false},
		{"a", "+", LexRange{}, true},
		{"", "+", LexRange{}, true},
		{"-", "+x", LexRange{}, true},
		{"--", "+", LexRange{}, true},
		{"\x00", "+", LexRange{}, true},
	} {
		got, err := ParseLexRange([]byte(tc.min), []byte(tc.max))
		if tc.err {
			if !errors.Is(err, ErrLexRange) {
				t.Errorf("%q %q: err %v, want ErrLexRange", tc.min, tc.max, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q %q: got %+v %v, want %+v", tc.min, tc.max, got, err, tc.want)
		}
	}
	empty := []struct{ min, max string }{{"+", "-"}, {"[a", "(a"}, {"(a", "[a"}, {"-", "-"}, {"+", "+"}, {"[b", "[a"}}
	for _, e := range empty {
		r, _ := ParseLexRange([]byte(e.min), []byte(e.max))
		if !r.Empty() {
			t.Errorf("%q %q should be empty", e.min, e.max)
		}
	}
	r, _ := ParseLexRange([]byte("[a"), []byte("[a"))
	requireEqual(t, "[a [a non-empty", r.Empty(), false)
}

func TestZSetDecodeErrors(t *testing.T) {
	var z ZSet
	z.Add([]byte("a"), 1)
	nan := appendFloat(append(appendHeader(nil, KindZSet), 1), math.NaN())
	nan = appendString(nan, "x")
	dup := AppendZAddItem(AppendZAddItem(append(appendHeader(nil, KindZSet), 2), 1, []byte("a")), 2, []byte("a"))
	for name, img := range map[string][]byte{
		"nan":       nan,
		"duplicate": dup,
		"short":     append(appendHeader(nil, KindZSet), 1, 0, 0, 0),
		"count":     append(appendHeader(nil, KindZSet), 2),
	} {
		if _, err := DecodeZSet(img); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeZSet = %v, want ErrCorrupt", name, err)
		}
	}
	for name, op := range map[string][]byte{
		"nan add":        AppendZAddItem(AppendZAddItem(AppendOpZAdd(nil), 5, []byte("b")), math.NaN(), []byte("c")),
		"ranks past end": AppendOpZRemoveRanks(nil, 0, 1),
		"ranks reversed": AppendOpZRemoveRanks(nil, 1, 0),
		"unknown":        appendOp(nil, KindZSet, 9),
		"list op":        AppendOpListPop(nil, true, 1),
	} {
		if err := z.Apply(op); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Apply = %v, want ErrCorrupt", name, err)
		}
		requireEqual(t, name+": unchanged", zAll(&z), []scored{{"a", 1}})
	}
}

// TestLexScanUnequalScores: over members whose scores differ, the
// listpack walk gives what redis-server 7.0.15 replies for a small zset
// (ZADD z 1 "\x00z" 2 m2 3 d 4 "" 5 g 6 a 7 m0 8 c, then the commands named).
func TestLexScanUnequalScores(t *testing.T) {
	var z ZSet
	for i, m := range []string{"\x00z", "m2", "d", "", "g", "a", "m0", "c"} {
		z.AddString(m, float64(i+1))
	}
	tests := []struct {
		name, min, max string
		reverse        bool
		offset, limit  int
		want           []string
	}{
		{"ZRANGEBYLEX - [b", "-", "[b", false, 0, -1, []string{"\x00z"}},
		{"ZRANGEBYLEX [b (n", "[b", "(n", false, 0, -1, []string{"m2", "d", "", "g", "a", "m0", "c"}},
		{"ZREVRANGEBYLEX [f (\\x00z", "(\x00z", "[f", true, 0, -1, []string{"c", "m0", "a", "g"}},
		{"ZREVRANGEBYLEX + [b", "[b", "+", true, 0, -1, []string{"c", "m0"}},
		{"ZRANGEBYLEX [b + LIMIT 1 2", "[b", "+", false, 1, 2, []string{"d", ""}},
		{"ZRANGEBYLEX - + LIMIT 7 5", "-", "+", false, 7, 5, []string{"c"}},
		{"ZRANGEBYLEX [b + LIMIT 9 5", "[b", "+", false, 9, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lr, err := ParseLexRange([]byte(tc.min), []byte(tc.max))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			z.RangeByLexScan(lr, tc.reverse, tc.offset, tc.limit, func(m string, _ float64) bool { got = append(got, m); return true })
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestZSetCopiesMember checks that Add keeps a copy of a new member: the
// caller may reuse its buffer after.
func TestZSetCopiesMember(t *testing.T) {
	var z ZSet
	m := []byte("element:000000000042")
	z.Add(m, 0)
	copy(m, "element:999999999999")
	z.Add(m, 1)
	var got []string
	z.All(func(member string, _ float64) bool { got = append(got, member); return true })
	if len(got) != 2 || got[0] != "element:000000000042" || got[1] != "element:999999999999" {
		t.Fatalf("members after reusing the caller's buffer: %q", got)
	}
}

// TestZSetTreeLarge grows a sorted set to four levels and shrinks it
// again through every kind of removal, so that leaves and inner nodes
// split, merge and share entries both ways; the tree and its contents are
// checked against the model along the way.
func TestZSetTreeLarge(t *testing.T) {
	r := newRand(t)
	var z ZSet
	m := zmodel{}
	member := func() string { return fmt.Sprintf("m%06d", r.IntN(60000)) }
	score := func() float64 {
		if r.IntN(2) == 0 {
			return float64(r.IntN(50)) // many ties, ordered by member
		}
		return r.Float64() * 1e6
	}
	check := func(what string) {
		t.Helper()
		checkZTree(t, &z)
		requireEqual(t, what+": All", zAll(&z), m.sorted())
	}
	add := func(mem string, s float64) {
		old, existed := z.Add([]byte(mem), s)
		mold, mexisted := m[mem]
		requireEqual(t, "Add", fmt.Sprint(old, existed), fmt.Sprint(mold, mexisted))
		m[mem] = s
	}
	for len(m) < 40000 {
		add(member(), score())
	}
	check("grown")
	if z.height < 3 {
		t.Fatalf("height %d after 40000 members", z.height)
	}
	for i := 0; i < 60000; i++ {
		mem := member()
		if r.IntN(2) == 0 {
			add(mem, score())
		} else {
			_, want := m[mem]
			delete(m, mem)
			requireEqual(t, "Remove", z.Remove([]byte(mem)), want)
		}
		if i%5000 == 0 {
			check("churn")
		}
	}
	check("churned")
	// Pops from both ends, mostly the lowest (ZPOPMIN), then ranges from
	// the middle: leaves and inner nodes empty from either side.
	sorted := m.sorted()
	for k := 0; len(sorted) > 4000; k++ {
		top := k%4 == 0
		var got []scored
		z.Pop(1+r.IntN(40), top, func(mem string, s float64) { got = append(got, scored{mem, s}) })
		want := window(sorted, top, 0, len(got))
		requireEqual(t, "Pop", got, want)
		for _, e := range want {
			delete(m, e.M)
		}
		if top {
			sorted = sorted[:len(sorted)-len(want)]
		} else {
			sorted = sorted[len(want):]
		}
		if k%300 == 0 {
			check("pops")
		}
	}
	check("popped")
	for z.Len() > 0 {
		sorted := m.sorted()
		lo := r.IntN(len(sorted))
		hi := min(len(sorted)-1, lo+r.IntN(1+len(sorted)/3))
		requireEqual(t, "RemoveRangeByRank", z.RemoveRangeByRank(lo, hi), hi-lo+1)
		for _, e := range sorted[lo : hi+1] {
			delete(m, e.M)
		}
		check("range removed")
	}
	if z.height != 1 {
		t.Fatalf("empty set of height %d", z.height)
	}
	add("again", 1)
	check("refilled")
}
