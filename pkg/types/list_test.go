package types

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

func listElems(l *List) []string {
	var out []string
	l.All(func(e []byte) bool {
		out = append(out, string(e))
		return true
	})
	return out
}

// checkChunks verifies the chunk invariants.
func checkChunks(t *testing.T, l *List) {
	t.Helper()
	n := 0
	for p, c := range l.chunks() {
		if c.n() == 0 {
			t.Fatalf("chunk %d is empty", p)
		}
		prev := uint32(0)
		for i, e := range c.ends {
			if e < prev {
				t.Fatalf("chunk %d: ends[%d] = %d < %d", p, i, e, prev)
			}
			prev = e
		}
		if int(prev) != len(c.data) {
			t.Fatalf("chunk %d: last end %d, data %d bytes", p, prev, len(c.data))
		}
		if c.n() > chunkMaxElems {
			t.Fatalf("chunk %d holds %d elements", p, c.n())
		}
		n += c.n()
	}
	requireEqual(t, "element count", n, l.n)
	for i := 0; i < l.lo; i++ {
		if l.cs[i] != nil {
			t.Fatalf("headroom slot %d not cleared", i)
		}
	}
}

// Reference implementations, written from Redis's documentation.

func modelRange(m []string, start, stop int) []string {
	n := len(m)
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if stop >= n {
		stop = n - 1
	}
	if start > stop {
		return nil
	}
	return slices.Clone(m[start : stop+1])
}

func modelRemove(m []string, count int, v string) ([]string, int) {
	keep := make([]bool, len(m))
	removed := 0
	for k := range m {
		i := k
		if count < 0 {
			i = len(m) - 1 - k
		}
		if m[i] == v && (count == 0 || removed < max(count, -count)) {
			removed++
			continue
		}
		keep[i] = true
	}
	var out []string
	for i, e := range m {
		if keep[i] {
			out = append(out, e)
		}
	}
	return out, removed
}

func modelPos(m []string, v string, rank, count, maxlen int) []int {
	var out []int
	matches := 0
	for k := range m {
		if maxlen != 0 && k >= maxlen {
			break
		}
		i := k
		if rank < 0 {
			i = len(m) - 1 - k
		}
		if m[i] == v {
			matches++
			if matches >= max(rank, -rank) {
				out = append(out, i)
				if count != 0 && len(out) >= count {
					break
				}
			}
		}
	}
	return out
}

func listValue(r *rand.Rand) []byte {
	if r.IntN(200) == 0 {
		return bytes.Repeat([]byte{'x'}, 9000) // larger than a chunk
	}
	return randBytes(r, 30)
}

func TestListRandomized(t *testing.T) {
	r := newRand(t)
	var l List
	var m []string
	c := &chain{image: l.AppendImage(nil)}
	idx := func() int { return r.IntN(2*len(m)+6) - len(m) - 3 }
	revChunks := 0 // chunks stored last to first, summed over the steps
	defer func() {
		if revChunks == 0 && !t.Failed() {
			t.Error("no reversed chunk (pushes at the head) was exercised")
		}
	}()
	for step := 0; step < steps(t); step++ {
		switch op := r.IntN(100); {
		case op < 30:
			left := r.IntN(2) == 0
			var vals [][]byte
			for k := 1 + r.IntN(20); k > 0; k-- {
				v := listValue(r)
				vals = append(vals, v)
				if left {
					m = append([]string{string(v)}, m...)
				} else {
					m = append(m, string(v))
				}
			}
			if left {
				l.PushLeft(vals...)
			} else {
				l.PushRight(vals...)
			}
			c.add(AppendOpListPush(nil, left, vals...))
		case op < 45:
			left := r.IntN(2) == 0
			n := r.IntN(6)
			if r.IntN(20) == 0 {
				n = r.IntN(300)
			}
			var got []string
			fn := func(e []byte) { got = append(got, string(e)) }
			var popped int
			var want []string
			k := min(n, len(m))
			if left {
				popped = l.PopLeft(n, fn)
				want, m = slices.Clone(m[:k]), m[k:]
			} else {
				popped = l.PopRight(n, fn)
				want = slices.Clone(m[len(m)-k:])
				slices.Reverse(want)
				m = m[:len(m)-k]
			}
			requireEqual(t, "popped count", popped, k)
			requireEqual(t, "popped", got, want)
			c.add(AppendOpListPop(nil, left, popped))
		case op < 55:
			i, v := idx(), listValue(r)
			got := l.Set(i, v)
			j := i
			if j < 0 {
				j += len(m)
			}
			if j < 0 || j >= len(m) {
				requireEqual(t, "Set out of range", got, -1)
				break
			}
			requireEqual(t, "Set index", got, j)
			m[j] = string(v)
			c.add(AppendOpListSet(nil, got, v))
		case op < 65:
			before := r.IntN(2) == 0
			pivot, v := listValue(r), listValue(r)
			got := l.Insert(before, pivot, v)
			want := slices.Index(m, string(pivot))
			if want >= 0 && !before {
				want++
			}
			requireEqual(t, "Insert index", got, want)
			if got >= 0 {
				m = slices.Insert(m, got, string(v))
				c.add(AppendOpListInsert(nil, got, v))
			}
		case op < 70:
			i, v := r.IntN(len(m)+1), listValue(r)
			l.InsertAt(i, v)
			m = slices.Insert(m, i, string(v))
			c.add(AppendOpListInsert(nil, i, v))
		case op < 78:
			count, v := r.IntN(7)-3, listValue(r)
			var want int
			m, want = modelRemove(m, count, string(v))
			requireEqual(t, "Remove", l.Remove(count, v), want)
			c.add(AppendOpListRemove(nil, count, v))
		case op < 80:
			start, stop := idx(), idx()
			if r.IntN(2) == 0 {
				start, stop = r.IntN(5), -1-r.IntN(5)
			}
			left, right := l.Trim(start, stop)
			m = modelRange(m, start, stop)
			c.add(AppendOpListTrim(nil, left, right))
		case op < 88:
			i := idx()
			got, ok := l.Index(i)
			j := i
			if j < 0 {
				j += len(m)
			}
			if j >= 0 && j < len(m) {
				requireEqual(t, "Index", string(got)+fmt.Sprint(ok), m[j]+"true")
			} else {
				requireEqual(t, "Index out of range", ok, false)
			}
		case op < 94:
			start, stop := idx(), idx()
			var got []string
			l.Range(start, stop, func(e []byte) bool { got = append(got, string(e)); return true })
			requireEqual(t, fmt.Sprintf("Range(%d, %d)", start, stop), got, modelRange(m, start, stop))
		default:
			v := listValue(r)
			if len(m) > 0 && r.IntN(2) == 0 {
				v = []byte(m[r.IntN(len(m))])
			}
			rank := r.IntN(3) + 1
			if r.IntN(2) == 0 {
				rank = -rank
			}
			count, maxlen := r.IntN(3), 0
			if r.IntN(2) == 0 {
				maxlen = r.IntN(len(m) + 2)
			}
			requireEqual(t, "Pos", l.Pos(v, rank, count, maxlen), modelPos(m, string(v), rank, count, maxlen))
		}
		checkChunks(t, &l)
		for _, c := range l.chunks() {
			revChunks += b2i(c.rev)
		}
		requireEqual(t, "Len", l.Len(), len(m))
		requireEqual(t, "All", listElems(&l), m)
		if step%37 == 0 {
			img := l.AppendImage(nil)
			requireEqual(t, "ImageSize", l.ImageSize(), len(img))
			d, err := DecodeList(img)
			requireNoErr(t, err, "DecodeList")
			requireEqual(t, "image round trip", listElems(d), m)
			requireEqual(t, "re-encoded image", d.AppendImage(nil), img)
			f, err := DecodeList(c.image)
			requireNoErr(t, err, "DecodeList chain image")
			for i, op := range c.ops {
				requireNoErr(t, f.Apply(op), fmt.Sprintf("List.Apply op %d %x", i, op[:min(len(op), 16)]))
			}
			requireEqual(t, "image+ops fold", listElems(f), m)
			checkChunks(t, f)
			c.fold(img)
		}
	}
}

func TestListTable(t *testing.T) {
	mk := func(vals ...string) *List {
		var l List
		for _, v := range vals {
			l.PushRight([]byte(v))
		}
		return &l
	}
	t.Run("lpush order", func(t *testing.T) {
		var l List
		l.PushLeft([]byte("a"), []byte("b"), []byte("c"))
		requireEqual(t, "elems", listElems(&l), []string{"c", "b", "a"})
	})
	t.Run("lrange", func(t *testing.T) {
		l := mk("a", "b", "c", "d")
		for _, tc := range []struct {
			start, stop int
			want        []string
		}{
			{0, -1, []string{"a", "b", "c", "d"}},
			{-2, -1, []string{"c", "d"}},
			{-100, 1, []string{"a", "b"}},
			{2, 100, []string{"c", "d"}},
			{3, 2, nil},
			{4, 10, nil},
			{-1, -2, nil},
		} {
			var got []string
			l.Range(tc.start, tc.stop, func(e []byte) bool { got = append(got, string(e)); return true })
			requireEqual(t, fmt.Sprint(tc.start, tc.stop), got, tc.want)
		}
	})
	t.Run("lrem", func(t *testing.T) {
		l := mk("a", "x", "b", "x", "c", "x")
		requireEqual(t, "removed", l.Remove(-2, []byte("x")), 2)
		requireEqual(t, "elems", listElems(l), []string{"a", "x", "b", "c"})
		requireEqual(t, "removed", l.Remove(0, []byte("x")), 1)
		requireEqual(t, "removed", l.Remove(1, []byte("zz")), 0)
	})
	t.Run("lpos", func(t *testing.T) {
		l := mk("a", "b", "c", "1", "2", "3", "c", "c")
		requireEqual(t, "first", l.Pos([]byte("c"), 1, 1, 0), []int{2})
		requireEqual(t, "rank 2", l.Pos([]byte("c"), 2, 1, 0), []int{6})
		requireEqual(t, "rank -1", l.Pos([]byte("c"), -1, 1, 0), []int{7})
		requireEqual(t, "count 0", l.Pos([]byte("c"), 1, 0, 0), []int{2, 6, 7})
		requireEqual(t, "rank -1 count 2", l.Pos([]byte("c"), -1, 2, 0), []int{7, 6})
		requireEqual(t, "maxlen", l.Pos([]byte("c"), 1, 0, 7), []int{2, 6})
		requireEqual(t, "absent", l.Pos([]byte("z"), 1, 0, 0), []int(nil))
	})
	t.Run("ltrim", func(t *testing.T) {
		l := mk("a", "b", "c", "d", "e")
		left, right := l.Trim(1, -2)
		requireEqual(t, "counts", [2]int{left, right}, [2]int{1, 1})
		requireEqual(t, "elems", listElems(l), []string{"b", "c", "d"})
		left, right = l.Trim(5, 10)
		requireEqual(t, "all", [2]int{left, right}, [2]int{3, 0})
		requireEqual(t, "len", l.Len(), 0)
	})
	t.Run("lset linsert", func(t *testing.T) {
		l := mk("a", "b")
		requireEqual(t, "set -1", l.Set(-1, []byte("B")), 1)
		requireEqual(t, "set 2", l.Set(2, []byte("x")), -1)
		requireEqual(t, "insert after a", l.Insert(false, []byte("a"), []byte("m")), 1)
		requireEqual(t, "insert before zz", l.Insert(true, []byte("zz"), []byte("m")), -1)
		requireEqual(t, "elems", listElems(l), []string{"a", "m", "B"})
	})
	t.Run("many chunks", func(t *testing.T) {
		var l List
		for i := 0; i < 1000; i++ {
			l.PushLeft([]byte(fmt.Sprint(i)))
		}
		checkChunks(t, &l)
		if len(l.chunks()) < 1000/chunkMaxElems {
			t.Fatalf("%d chunks for 1000 elements", len(l.chunks()))
		}
		for i := 0; i < 1000; i++ {
			e, _ := l.Index(i)
			requireEqual(t, "Index", string(e), fmt.Sprint(999-i))
		}
	})
}

func TestListDecodeErrors(t *testing.T) {
	var l List
	l.PushRight([]byte("a"), []byte("b"))
	for name, op := range map[string][]byte{
		"pop too many":     AppendOpListPop(nil, true, 3),
		"set out of range": AppendOpListSet(nil, 2, []byte("x")),
		"insert past end":  AppendOpListInsert(nil, 3, []byte("x")),
		"trim too many":    AppendOpListTrim(nil, 1, 2),
		"unknown":          appendOp(nil, KindList, 42),
		"trailing":         append(AppendOpListPop(nil, true, 1), 0),
		"truncated push":   append(appendOp(nil, KindList, opListPushLeft), 4, 'a'),
		"hash op":          AppendOpHashDelete(nil),
	} {
		if err := l.Apply(op); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Apply = %v, want ErrCorrupt", name, err)
		}
		requireEqual(t, name+": unchanged", listElems(&l), []string{"a", "b"})
	}
	for name, img := range map[string][]byte{
		"count":     append(appendHeader(nil, KindList), 3, 1, 'a'),
		"trailing":  append(l.AppendImage(nil), 1),
		"zset kind": new(ZSet).AppendImage(nil),
	} {
		if _, err := DecodeList(img); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeList = %v, want ErrCorrupt", name, err)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestListQueueMovesNoBytes checks that a list used as a queue (RPUSH
// with LPOP, LPUSH with RPOP) removes elements at the start of a chunk's
// storage without moving the others: the chunk's bytes stay where they
// are and only its head moves.
func TestListQueueMovesNoBytes(t *testing.T) {
	for _, left := range []bool{false, true} {
		var l List
		var want []string
		for i := range 100 {
			v := fmt.Sprintf("v%03d", i)
			if left {
				l.PushLeft([]byte(v))
				want = append([]string{v}, want...)
			} else {
				l.PushRight([]byte(v))
				want = append(want, v)
			}
		}
		if len(l.chunks()) != 1 {
			t.Fatalf("left %v: 100 small elements in %d chunks, want 1", left, len(l.chunks()))
		}
		c := l.chunks()[0]
		data, size := unsafe.SliceData(c.data), len(c.data)
		for range 30 { // pop from the end the pushes did not grow
			if left {
				l.PopRight(1, nil)
				want = want[:len(want)-1]
			} else {
				l.PopLeft(1, nil)
				want = want[1:]
			}
		}
		requireEqual(t, "elements", listElems(&l), want)
		checkChunks(t, &l)
		if unsafe.SliceData(c.data) != data || len(c.data) != size || c.head != 30 {
			t.Fatalf("left %v: 30 pops moved the chunk's bytes (len %d -> %d, head %d)", left, size, len(c.data), c.head)
		}
	}
}

// TestChunkAppend merges chunks of every storage order, with removed
// elements at the start of storage, and checks the elements and order.
func TestChunkAppend(t *testing.T) {
	build := func(rev bool, prefix string) (*chunk, []string) {
		c := &chunk{rev: rev}
		var want []string
		for i := range 6 {
			v := fmt.Sprintf("%s%d", prefix, i)
			c.insert(c.n(), []byte(v))
			want = append(want, v)
		}
		// Remove two elements at the start of storage: the first ones
		// of a chunk in order, the last ones of a reversed chunk.
		if rev {
			c.del(c.n()-2, 2)
			want = want[:len(want)-2]
		} else {
			c.del(0, 2)
			want = want[2:]
		}
		if c.head != 2 {
			t.Fatalf("rev %v: head %d after removing two elements at the start of storage, want 2", rev, c.head)
		}
		return c, want
	}
	for _, crev := range []bool{false, true} {
		for _, orev := range []bool{false, true} {
			c, want := build(crev, "c")
			o, wo := build(orev, "o")
			c.appendChunk(o)
			want = append(want, wo...)
			var got []string
			for i := range c.n() {
				got = append(got, string(c.get(i)))
			}
			requireEqual(t, fmt.Sprintf("rev %v + rev %v", crev, orev), got, want)
		}
	}
}
