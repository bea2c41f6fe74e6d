package types

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// hashModel is the obviously-correct reference: an ordered key slice and
// a map.
type hashModel struct {
	keys []string
	vals map[string]string
}

func (m *hashModel) set(f, v string) bool {
	if _, ok := m.vals[f]; ok {
		m.vals[f] = v
		return false
	}
	m.keys = append(m.keys, f)
	m.vals[f] = v
	return true
}

func (m *hashModel) del(f string) bool {
	if _, ok := m.vals[f]; !ok {
		return false
	}
	delete(m.vals, f)
	m.keys = slices.DeleteFunc(m.keys, func(k string) bool { return k == f })
	return true
}

func hashPairs(h *Hash) []string {
	var out []string
	h.All(func(f, v string) bool {
		out = append(out, f, v)
		return true
	})
	return out
}

func (m *hashModel) pairs() []string {
	var out []string
	for _, k := range m.keys {
		out = append(out, k, m.vals[k])
	}
	return out
}

// chain is an image plus the operation records after it, folded into a
// new image when the records outweigh it, as the store does.
type chain struct {
	image []byte
	ops   [][]byte
	bytes int
}

func (c *chain) add(op []byte) {
	c.ops = append(c.ops, op)
	c.bytes += len(op)
}

func (c *chain) fold(image []byte) {
	if c.bytes > len(c.image) {
		c.image, c.ops, c.bytes = image, nil, 0
	}
}

func TestHashTable(t *testing.T) {
	var h Hash
	requireEqual(t, "new a", h.Set([]byte("a"), []byte("1")), true)
	requireEqual(t, "new b", h.Set([]byte("b"), []byte("2")), true)
	requireEqual(t, "update a", h.Set([]byte("a"), []byte("3")), false)
	v, ok := h.Get([]byte("a"))
	requireEqual(t, "get a", v+fmt.Sprint(ok), "3true")
	_, ok = h.Get([]byte("zz"))
	requireEqual(t, "get missing", ok, false)
	requireEqual(t, "order", hashPairs(&h), []string{"a", "3", "b", "2"})
	requireEqual(t, "delete missing", h.Delete([]byte("x")), false)
	requireEqual(t, "delete a", h.Delete([]byte("a")), true)
	requireEqual(t, "len", h.Len(), 1)
	requireEqual(t, "has b", h.Has([]byte("b")), true)
	requireEqual(t, "delete b", h.Delete([]byte("b")), true)
	requireEqual(t, "empty", h.Len(), 0)
	requireEqual(t, "empty field", h.Set(nil, []byte("v")), true)
	v, ok = h.Get([]byte{})
	requireEqual(t, "get empty field", v+fmt.Sprint(ok), "vtrue")
}

func TestHashRandomized(t *testing.T) {
	r := newRand(t)
	var h Hash
	m := &hashModel{vals: map[string]string{}}
	c := &chain{image: h.AppendImage(nil)}
	pool := 40
	for step := 0; step < steps(t); step++ {
		if step%500 == 0 {
			pool = []int{10, 40, 300}[r.IntN(3)]
		}
		switch op := r.IntN(10); {
		case op < 5:
			var pairs [][]byte
			for k := 1 + r.IntN(3); k > 0; k-- {
				f, v := randBytes(r, pool), randBytes(r, 1000)
				pairs = append(pairs, f, v)
				requireEqual(t, "Set added", h.Set(f, v), m.set(string(f), string(v)))
			}
			c.add(AppendOpHashSet(nil, pairs...))
		case op < 8:
			var fields [][]byte
			for k := 1 + r.IntN(3); k > 0; k-- {
				f := randBytes(r, pool)
				fields = append(fields, f)
				requireEqual(t, "Delete", h.Delete(f), m.del(string(f)))
			}
			c.add(AppendOpHashDelete(nil, fields...))
		case op < 9:
			f := randBytes(r, pool)
			v, ok := h.Get(f)
			mv, mok := m.vals[string(f)]
			requireEqual(t, "Get", fmt.Sprint(v, ok), fmt.Sprint(mv, mok))
		default:
			count := r.IntN(2*pool+1) - pool
			var got []string
			h.Random(r, count, func(f, v string) {
				requireEqual(t, "Random value", v, m.vals[f])
				got = append(got, f)
			})
			checkRandom(t, got, m.keys, count)
		}
		requireEqual(t, "Len", h.Len(), len(m.keys))
		requireEqual(t, "All", hashPairs(&h), m.pairs())
		if step%37 == 0 {
			img := h.AppendImage(nil)
			requireEqual(t, "ImageSize", h.ImageSize(), len(img))
			d, err := DecodeHash(img)
			requireNoErr(t, err, "DecodeHash")
			requireEqual(t, "image round trip", hashPairs(d), m.pairs())
			requireEqual(t, "re-encoded image", d.AppendImage(nil), img)
			f, err := DecodeHash(c.image)
			requireNoErr(t, err, "DecodeHash chain image")
			for _, op := range c.ops {
				requireNoErr(t, f.Apply(op), "Hash.Apply")
			}
			requireEqual(t, "image+ops fold", hashPairs(f), m.pairs())
			c.fold(img)
		}
	}
}

// checkRandom checks a draw against Redis's count rules.
func checkRandom(t *testing.T, got, all []string, count int) {
	t.Helper()
	present := map[string]bool{}
	for _, k := range all {
		present[k] = true
	}
	for _, g := range got {
		if !present[g] {
			t.Fatalf("random draw returned absent %q", g)
		}
	}
	switch {
	case count >= len(all):
		requireEqual(t, "draw of all", got, slices.Clone(all)[:len(all):len(all)])
	case count >= 0:
		requireEqual(t, "distinct draw size", len(got), count)
		seen := map[string]bool{}
		for _, g := range got {
			if seen[g] {
				t.Fatalf("distinct draw repeats %q", g)
			}
			seen[g] = true
		}
	default:
		want := -count
		if len(all) == 0 {
			want = 0
		}
		requireEqual(t, "repeating draw size", len(got), want)
	}
}

func TestRandomDistribution(t *testing.T) {
	// A fixed seed: the bounds below are ~10 standard deviations wide.
	r := rand.New(rand.NewPCG(1, 2))
	var s Set
	for i := 0; i < 10; i++ {
		s.Add([]byte{byte('a' + i)})
	}
	for i := 0; i < 10; i += 2 { // tombstones must not bias the draw
		s.Remove([]byte{byte('a' + i)})
	}
	for i := 10; i < 15; i++ {
		s.Add([]byte{byte('a' + i)})
	}
	for _, count := range []int{-1, 1, 3} {
		hits := map[string]int{}
		const draws = 50000
		for i := 0; i < draws; i++ {
			s.Random(r, count, func(m string) { hits[m]++ })
		}
		abs := max(count, -count)
		for m, n := range hits {
			want := draws * abs / s.Len()
			if n < want*8/10 || n > want*12/10 {
				t.Errorf("count %d: member %q drawn %d times, want about %d", count, m, n, want)
			}
		}
		requireEqual(t, "members drawn", len(hits), s.Len())
	}
}

// TestScanGuarantee interleaves mutations with a scan: every element
// present for the whole scan must come back exactly once.
func TestScanGuarantee(t *testing.T) {
	r := newRand(t)
	for round := 0; round < 200; round++ {
		var s Set
		for i := 0; i < r.IntN(300); i++ {
			s.Add([]byte(fmt.Sprint(r.IntN(400))))
		}
		present := map[string]bool{}
		s.All(func(m string) bool { present[m] = true; return true })
		seen := map[string]int{}
		cursor := uint64(0)
		for calls := 0; ; calls++ {
			cursor = s.Scan(cursor, 1+r.IntN(20), func(m string) { seen[m]++ })
			if cursor == 0 {
				break
			}
			if calls > 10000 {
				t.Fatal("scan does not terminate")
			}
			for k := r.IntN(30); k > 0; k-- {
				m := []byte(fmt.Sprint(r.IntN(400)))
				if r.IntN(2) == 0 {
					s.Add(m)
				} else if s.Remove(m) {
					delete(present, string(m))
				}
			}
		}
		for m := range present {
			if seen[m] != 1 {
				t.Fatalf("round %d: %q present throughout, returned %d times", round, m, seen[m])
			}
		}
	}
}

func TestHashScan(t *testing.T) {
	var h Hash
	for i := 0; i < 100; i++ {
		h.Set([]byte(fmt.Sprint("f", i)), []byte(fmt.Sprint(i)))
	}
	var got []string
	cursor := uint64(0)
	for {
		cursor = h.Scan(cursor, 7, func(f, v string) { got = append(got, f+"="+v) })
		if cursor == 0 {
			break
		}
	}
	requireEqual(t, "scanned", len(got), 100)
	requireEqual(t, "first", got[0], "f0=0")
	// Invented cursors are safe.
	h.Scan(1<<62, 10, func(string, string) {})
	h.Scan(^uint64(0), 10, func(string, string) {})
}

func TestHashDecodeErrors(t *testing.T) {
	var h Hash
	h.Set([]byte("a"), []byte("1"))
	h.Set([]byte("b"), []byte("2"))
	img := h.AppendImage(nil)
	dup := append(appendHeader(nil, KindHash), 2, 1, 'a', 1, '1', 1, 'a', 1, '2')
	cases := map[string][]byte{
		"empty":          nil,
		"one byte":       {byte(KindHash)},
		"wrong kind":     new(List).AppendImage(nil),
		"truncated":      img[:len(img)-1],
		"trailing":       append(slices.Clone(img), 0),
		"bad version":    append([]byte{byte(KindHash), 9}, img[2:]...),
		"huge count":     append(appendHeader(nil, KindHash), 0xff, 0xff, 0xff, 0xff, 0x0f),
		"duplicate":      dup,
		"set image":      new(Set).AppendImage(nil),
		"overlong field": append(appendHeader(nil, KindHash), 1, 0x7f, 'a'),
	}
	for name, b := range cases {
		if _, err := DecodeHash(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeHash(%x) = %v, want ErrCorrupt", name, b, err)
		}
	}
	opCases := map[string][]byte{
		"odd set":        append(appendOp(nil, KindHash, opHashSet), 1, 'a'),
		"unknown opcode": appendOp(nil, KindHash, 99),
		"no opcode":      appendHeader(nil, KindHash),
		"truncated item": append(appendOp(nil, KindHash, opHashDelete), 5, 'a'),
		"set op":         AppendOpSetAdd(nil, []byte("x")),
	}
	before := h.AppendImage(nil)
	for name, b := range opCases {
		if err := h.Apply(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Apply(%x) = %v, want ErrCorrupt", name, b, err)
		}
		if !bytes.Equal(h.AppendImage(nil), before) {
			t.Errorf("%s: a failed Apply changed the hash", name)
		}
	}
}
