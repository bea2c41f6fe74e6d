package types

import (
	"fmt"
	"testing"
)

// TestPrefetchIsAHint checks that Prefetch of a hash, a set and a sorted set
// changes nothing: every member reads back as before, present or absent,
// in groups smaller and larger than a prefetch group, with duplicates,
// empty members and members sharing a probe run, before the table
// doubles, while it doubles (members in the old table only) and after
// deletions; and that PrefetchWorth answers by size.
func TestPrefetchIsAHint(t *testing.T) {
	var h Hash
	var s Set
	var z ZSet
	field := func(i int) []byte { return fmt.Appendf(nil, "f%d", i) }
	if h.PrefetchWorth() || s.PrefetchWorth() || z.PrefetchWorth() {
		t.Fatal("PrefetchWorth of empty collections")
	}
	var probe [][]byte
	for i := range 30000 {
		probe = append(probe, field(i))
	}
	probe = append(probe, nil, []byte{}, probe[5], probe[5])
	check := func(stage string, n int) {
		t.Helper()
		for _, g := range []int{0, 1, prefetchGroup - 1, prefetchGroup, prefetchGroup + 1, 500, len(probe)} {
			h.Prefetch(probe[:g])
			s.Prefetch(probe[:g])
			z.Prefetch(probe[:g])
		}
		for i, f := range probe[:30000] {
			want := i < n && i%5 != 0
			v, ok := h.Get(f)
			if ok != want || ok && v != fmt.Sprint(i) {
				t.Fatalf("%s: Hash.Get(%s) = %q, %v; want present %v", stage, f, v, ok, want)
			}
			if s.Has(f) != want {
				t.Fatalf("%s: Set.Has(%s) = %v, want %v", stage, f, !want, want)
			}
			if sc, ok := z.Score(f); ok != want || ok && sc != float64(i) {
				t.Fatalf("%s: ZSet.Score(%s) = %v, %v; want present %v", stage, f, sc, ok, want)
			}
		}
		if h.Len() != s.Len() || s.Len() != z.Len() {
			t.Fatalf("%s: lengths %d, %d, %d", stage, h.Len(), s.Len(), z.Len())
		}
	}
	n := 0
	add := func(to int) {
		for ; n < to; n++ {
			f := field(n)
			h.Set(f, []byte(fmt.Sprint(n)))
			s.Add(f)
			z.Add(f, float64(n))
			if n%5 == 0 { // removed again: tombstones, shifted probe runs
				h.Delete(f)
				s.Remove(f)
				z.Remove(f)
			}
		}
	}
	add(1000)
	if h.PrefetchWorth() {
		t.Fatalf("PrefetchWorth with %d slots", len(h.d.slots))
	}
	check("small", n)
	for h.d.old == nil || len(h.d.slots) < prefetchMinSlots {
		add(n + 1)
	}
	if !h.PrefetchWorth() || !s.PrefetchWorth() || !z.PrefetchWorth() {
		t.Fatalf("PrefetchWorth false with %d, %d, %d slots", len(h.d.slots), len(s.d.slots), len(z.d.slots))
	}
	if s.d.old == nil || z.d.old == nil {
		t.Fatal("the set and sorted set are not doubling with the hash")
	}
	check("doubling", n)
	add(n + 20000)
	check("large", n)
}
