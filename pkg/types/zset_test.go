package types

import (
	"bytes"
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

// checkSkiplist verifies order, backward links, tail, level count and
// every span.
func checkSkiplist(t *testing.T, z *ZSet) {
	t.Helper()
	if z.head == nil {
		requireEqual(t, "empty zset length", z.n, 0)
		return
	}
	rank := map[*znode]int{z.head: 0}
	var prev *znode
	i := 0
	for x := z.head.lv(0).forward; x != nil; x = x.lv(0).forward {
		i++
		rank[x] = i
		if x.backward != prev {
			t.Fatalf("backward link of %q broken", x.member)
		}
		if prev != nil && !before(prev.score, prev.member, x.score, x.member) {
			t.Fatalf("order broken: %q %v before %q %v", prev.member, prev.score, x.member, x.score)
		}
		prev = x
	}
	requireEqual(t, "length", i, z.n)
	if z.tail != prev {
		t.Fatal("tail is not the last node")
	}
	for lvl := 0; lvl < zMaxLevel; lvl++ {
		for x := z.head; x != nil; x = x.lv(lvl).forward {
			if lvl >= x.height {
				t.Fatalf("node %q linked at level %d beyond its height", x.member, lvl)
			}
			f := x.lv(lvl).forward
			if lvl >= z.level {
				if x == z.head && f != nil {
					t.Fatalf("level %d used beyond z.level %d", lvl, z.level)
				}
				break
			}
			want := z.n - rank[x] // a span to the end counts the nodes after x
			if f != nil {
				want = rank[f] - rank[x]
			}
			if x.lv(lvl).span != want {
				t.Fatalf("span of %q at level %d = %d, want %d", x.member, lvl, x.lv(lvl).span, want)
			}
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
	checkSkiplist(t, z)
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

// TestZSetInlineMember checks the node layout: a member of up to zInline
// bytes is copied into the node's allocation (the caller's bytes may
// change after), after the levels (writing every level leaves it
// intact), at every height class.
func TestZSetInlineMember(t *testing.T) {
	for _, lvl := range []int{1, 2, 3, 4, 5, 8, 9, zMaxLevel} {
		for _, n := range []int{0, 1, zInline - 1, zInline, zInline + 1} {
			b := bytes.Repeat([]byte{'m'}, n)
			want := string(b)
			x := newNode(lvl, 1.5, bstr(b))
			for i := range b {
				b[i] = 'X' // the caller reuses its buffer
			}
			if n > zInline {
				if unsafe.StringData(x.member) != &b[0] {
					t.Errorf("lvl %d, %d bytes: a long member was copied", lvl, n)
				}
				continue
			}
			for i := 0; i < lvl; i++ {
				x.lv(i).forward, x.lv(i).span = x, -1
			}
			if x.member != want || x.score != 1.5 || x.height != lvl {
				t.Errorf("lvl %d, %d bytes: node holds %q score %v height %d", lvl, n, x.member, x.score, x.height)
			}
		}
	}
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
