package types

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Benchmarks at n = 1k and 1M elements: per-operation cost must stay
// (nearly) flat from 1k to 1M, i.e. O(1) or O(log n), not O(n). Sizes stay
// constant during a run (an addition is paired with a removal).

var benchSizes = []int{1_000, 1_000_000}

// keys returns n distinct 10-byte keys.
func keys(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("k%09d", i))
	}
	return out
}

const extra = 4096 // keys beyond n used by add+remove loops

func BenchmarkZSet(b *testing.B) {
	for _, n := range benchSizes {
		ks := keys(n + extra)
		r := rand.New(rand.NewPCG(1, 2))
		var z ZSet
		for _, k := range ks[:n] {
			z.Add(k, float64(r.IntN(n)))
		}
		b.Run(fmt.Sprintf("op=add+remove/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := ks[n+i%extra]
				z.Add(k, float64(r.IntN(n)))
				z.Remove(k)
				i++
			}
		})
		b.Run(fmt.Sprintf("op=update/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				z.Add(ks[r.IntN(n)], float64(r.IntN(n)))
			}
		})
		b.Run(fmt.Sprintf("op=rank/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				z.Rank(ks[r.IntN(n)], false)
			}
		})
		b.Run(fmt.Sprintf("op=rangebyscore-limit10/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			got := 0
			for b.Loop() {
				sr := ScoreRange{Min: float64(r.IntN(n)), Max: math.Inf(1)}
				z.RangeByScore(sr, false, 0, 10, func(string, float64) bool { got++; return true })
			}
			if got == 0 {
				b.Fatal("empty ranges")
			}
		})
	}
}

// BenchmarkZSetSameScore is a ZADD where every member has score 0, so
// the set is ordered by member and each step of a search compares
// members ("element:" and 12 digits).
func BenchmarkZSetSameScore(b *testing.B) {
	const n = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	member := func(i int) []byte { return fmt.Appendf(nil, "element:%012d", i) }
	var z ZSet
	for i := 0; i < n; i++ {
		z.Add(member(r.IntN(1<<40)), 0)
	}
	ks := make([][]byte, extra)
	for i := range ks {
		ks[i] = member(r.IntN(1 << 40))
	}
	b.Run(fmt.Sprintf("op=add+remove/n=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := ks[i%extra]
			z.Add(k, 0)
			z.Remove(k)
			i++
		}
	})
}

func BenchmarkList(b *testing.B) {
	for _, n := range benchSizes {
		ks := keys(1024)
		var l List
		for i := 0; i < n; i++ {
			l.PushRight(ks[i%len(ks)])
		}
		b.Run(fmt.Sprintf("op=rpush+lpop/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				l.PushRight(ks[i%len(ks)])
				l.PopLeft(1, nil)
				i++
			}
		})
		b.Run(fmt.Sprintf("op=lpush+rpop/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				l.PushLeft(ks[i%len(ks)])
				l.PopRight(1, nil)
				i++
			}
		})
		b.Run(fmt.Sprintf("op=index/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			r := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				if _, ok := l.Index(r.IntN(n)); !ok {
					b.Fatal("index out of range")
				}
			}
		})
	}
}

func BenchmarkHash(b *testing.B) {
	for _, n := range benchSizes {
		ks := keys(n + extra)
		var h Hash
		for _, k := range ks[:n] {
			h.Set(k, k)
		}
		b.Run(fmt.Sprintf("op=add+delete/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := ks[n+i%extra]
				h.Set(k, k)
				h.Delete(k)
				i++
			}
		})
		b.Run(fmt.Sprintf("op=get/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			r := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				h.Get(ks[r.IntN(n)])
			}
		})
	}
}

// BenchmarkHashPrefetch looks up pipelines of 64 random fields of a hash
// of 1M, as a pipeline of HGETs or HSETs does: one after the other
// (prefetch=off), and after Prefetch of the 64 (prefetch=on), as the event
// loop's pre-pass does. ns/op is per field.
func BenchmarkHashPrefetch(b *testing.B) {
	const n, batch = 1_000_000, 64
	ks := keys(n)
	var h Hash
	for _, k := range ks {
		h.Set(k, k)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("prefetch=%v", map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
			var fields [batch][]byte
			found := 0
			for i := 0; b.Loop(); i++ {
				if i%batch == 0 {
					for j := range fields {
						fields[j] = ks[r.IntN(n)]
					}
					if on {
						h.Prefetch(fields[:])
					}
				}
				if _, ok := h.Get(fields[i%batch]); ok {
					found++
				}
			}
			if found == 0 {
				b.Fatal("no field found")
			}
		})
	}
}

// BenchmarkHashGrowth grows a hash from empty to 1M fields, as HSET of
// new fields does, and reports the longest single Set (worst-ms) and how
// many took over 2 ms (stalls): the doublings of the slot table and of
// the entries are O(n) each, paid by the insert that triggers them.
func BenchmarkHashGrowth(b *testing.B) {
	ks := keys(1_000_000)
	var worst time.Duration
	stalls := 0
	for b.Loop() {
		var h Hash
		for _, k := range ks {
			t0 := time.Now()
			h.Set(k, k)
			if d := time.Since(t0); d > 2*time.Millisecond {
				stalls++
				worst = max(worst, d)
			}
		}
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
	b.ReportMetric(float64(stalls)/float64(b.N), "stalls")
}

// BenchmarkSetChurn pops random members of a set of 1M and adds new
// ones, as SPOP and SADD do, 1.5M times: the pops leave tombstones,
// squeezed out once they outnumber the members. It reports the longest
// single Pop (worst-ms) and how many took over 2 ms (stalls).
func BenchmarkSetChurn(b *testing.B) {
	const n = 1_000_000
	ks := keys(2 * n)
	var worst time.Duration
	stalls := 0
	for b.Loop() {
		var s Set
		for _, k := range ks[:n] {
			s.Add(k)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 3*n/2; i++ {
			t0 := time.Now()
			s.Pop(r, 1, func(string) {})
			if d := time.Since(t0); d > 2*time.Millisecond {
				stalls++
				worst = max(worst, d)
			}
			s.Add(ks[(n+i)%len(ks)])
		}
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
	b.ReportMetric(float64(stalls)/float64(b.N), "stalls")
}

func BenchmarkSet(b *testing.B) {
	for _, n := range benchSizes {
		ks := keys(n + extra)
		var s Set
		for _, k := range ks[:n] {
			s.Add(k)
		}
		b.Run(fmt.Sprintf("op=add+remove/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := ks[n+i%extra]
				s.Add(k)
				s.Remove(k)
				i++
			}
		})
		b.Run(fmt.Sprintf("op=pop+add/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			r := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				s.Pop(r, 1, func(m string) { s.AddString(m) })
			}
		})
	}
}

// BenchmarkGoMap is the calibration row: Go's own map[string]string with
// the same keys, so Hash figures can be read as a ratio against it in the
// same run (these machines are noisy, and 1M-element figures are
// dominated by cache misses).
func BenchmarkGoMap(b *testing.B) {
	for _, n := range benchSizes {
		ks := keys(n + extra)
		m := make(map[string]string)
		for _, k := range ks[:n] {
			m[string(k)] = string(k)
		}
		b.Run(fmt.Sprintf("op=add+delete/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := ks[n+i%extra]
				m[string(k)] = string(k)
				delete(m, string(k))
				i++
			}
		})
		b.Run(fmt.Sprintf("op=get/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			r := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				_ = m[string(ks[r.IntN(n)])]
			}
		})
	}
}
