package types

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAllocationFree guards the paths documented as allocation-free: the
// lookups with []byte keys (no string conversion), reads of list
// elements, range walks, and SPOP without a count.
func TestAllocationFree(t *testing.T) {
	ks := keys(1000)
	var h Hash
	var s Set
	var z ZSet
	var l List
	for i, k := range ks {
		h.Set(k, k)
		s.Add(k)
		z.Add(k, float64(i))
		l.PushRight(k)
	}
	r := rand.New(rand.NewPCG(1, 2))
	sink := 0
	for name, fn := range map[string]func(){
		"Hash.Get":   func() { v, _ := h.Get(ks[r.IntN(1000)]); sink += len(v) },
		"Set.Has":    func() { _ = s.Has(ks[r.IntN(1000)]) },
		"ZSet.Score": func() { f, _ := z.Score(ks[r.IntN(1000)]); sink += int(f) },
		"ZSet.Rank":  func() { n, _ := z.Rank(ks[r.IntN(1000)], true); sink += n },
		"List.Index": func() { e, _ := l.Index(r.IntN(1000)); sink += len(e) },
		"List.Range": func() { l.Range(100, 200, func(e []byte) bool { sink += len(e); return true }) },
		"ZSet.RangeByScore": func() {
			z.RangeByScore(ScoreRange{Min: 10, Max: math.Inf(1)}, true, 2, 10, func(string, float64) bool { sink++; return true })
		},
		"Set.Pop(1)": func() { s.Pop(r, 1, func(m string) { sink += len(m) }) },
	} {
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %.1f allocations per call, want 0", name, a)
		}
	}
	_ = sink
}
