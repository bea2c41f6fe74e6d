package types

import (
	"runtime"
	"testing"
)

// heapDelta returns the live heap bytes that build allocates and keeps.
func heapDelta(build func() any) (int, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int(after.HeapAlloc) - int(before.HeapAlloc), v
}

// TestMemoryPerElement measures the heap overhead per element (bytes held
// beyond the element bytes themselves) of each type at 100k elements of
// 10-byte members and values, built by the mutators and decoded from an
// image, and bounds it so that a regression fails.
func TestMemoryPerElement(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: -short")
	}
	const n = 100_000
	ks := keys(n) // 10 bytes each
	cases := []struct {
		name    string
		payload int // element bytes per element
		limit   int // overhead bound, bytes per element
		build   func() any
	}{
		{"hash/built", 20, 110, func() any {
			h := &Hash{}
			for _, k := range ks {
				h.Set(k, k)
			}
			return h
		}},
		{"hash/decoded", 20, 90, func() any {
			h := &Hash{}
			for _, k := range ks {
				h.Set(k, k)
			}
			img := h.AppendImage(nil)
			h = nil
			d, _ := DecodeHash(img)
			return d
		}},
		{"set/built", 10, 80, func() any {
			s := &Set{}
			for _, k := range ks {
				s.Add(k)
			}
			return s
		}},
		{"list", 10, 12, func() any {
			l := &List{}
			for _, k := range ks {
				l.PushRight(k)
			}
			return l
		}},
		{"zset/built", 10, 180, func() any {
			z := &ZSet{}
			for i, k := range ks {
				z.Add(k, float64(i))
			}
			return z
		}},
	}
	for _, tc := range cases {
		delta, v := heapDelta(tc.build)
		per := float64(delta)/n - float64(tc.payload)
		t.Logf("%-13s %6.1f bytes/element overhead (%d-byte payload, %.1f total)", tc.name, per, tc.payload, float64(delta)/n)
		if per > float64(tc.limit) {
			t.Errorf("%s: %.1f bytes/element overhead, bound %d", tc.name, per, tc.limit)
		}
		runtime.KeepAlive(v)
	}
}
