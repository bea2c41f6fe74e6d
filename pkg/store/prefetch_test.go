package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPrefetchIsAHint checks that Prefetch changes nothing: every key reads
// back as before, present or absent, in groups smaller and larger than a
// prefetch group, duplicates and empty keys included, after deletions that
// shifted probe runs, and after Close.
func TestPrefetchIsAHint(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	d := s.DB(0)
	want := map[string]string{}
	for i := range 2000 {
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		mustSet(t, d, k, v, int64(i%3))
		want[k] = v
	}
	for i := 0; i < 2000; i += 7 {
		k := fmt.Sprintf("k%d", i)
		if ok, err := d.Delete([]byte(k)); err != nil || !ok {
			t.Fatalf("Delete(%s) = %v, %v", k, ok, err)
		}
		delete(want, k)
	}
	var keys [][]byte
	for i := range 2100 {
		keys = append(keys, []byte(fmt.Sprintf("k%d", i)))
	}
	keys = append(keys, nil, []byte{}, keys[5], keys[5])
	for _, n := range []int{0, 1, 2, prefetchGroup - 1, prefetchGroup, prefetchGroup + 1, 200, len(keys)} {
		d.Prefetch(keys[:n], n%2 == 0, n%3 != 0)
		for _, k := range keys {
			if v, ok := want[string(k)]; ok {
				i := 0
				fmt.Sscanf(string(k), "k%d", &i)
				wantGet(t, d, string(k), v, int64(i%3))
			} else {
				wantMissing(t, d, string(k))
			}
		}
	}
	if got := s.DB(1).Prefetch(keys, true, true); got != 0 {
		t.Errorf("Prefetch on an empty database read %d, want nothing", got)
	}
	closeT(t, s)
	if got := d.Prefetch(keys, true, true); got != 0 {
		t.Errorf("Prefetch after Close = %d, want 0", got)
	}
}

// TestPrefetchWorth checks that PrefetchWorth reports false for a small
// index and true once it has prefetchMinSlots slots.
func TestPrefetchWorth(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	d := s.DB(0)
	if d.PrefetchWorth() {
		t.Fatal("PrefetchWorth on an empty database")
	}
	for i := 0; ; i++ {
		mustSet(t, d, fmt.Sprintf("k%d", i), "", 0)
		d.mu.RLock()
		n := len(d.t.slots)
		d.mu.RUnlock()
		if got, want := d.PrefetchWorth(), n >= prefetchMinSlots; got != want {
			t.Fatalf("%d keys, %d slots: PrefetchWorth = %v, want %v", i+1, n, got, want)
		}
		if n >= prefetchMinSlots {
			break
		}
	}
}

// TestPrefetchNoAlloc checks that Prefetch does not allocate, whatever the
// number of keys.
func TestPrefetchNoAlloc(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	d := s.DB(0)
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%d", i))
		if i%2 == 0 {
			mustSet(t, d, string(keys[i]), "v", 0)
		}
	}
	if n := testing.AllocsPerRun(100, func() { d.Prefetch(keys, true, true); d.Prefetch(keys, false, true) }); n != 0 {
		t.Errorf("Prefetch allocates %v times per call, want 0", n)
	}
}

// TestPrefetchConcurrent runs Prefetch against writers that grow, shrink
// and rewrite the index (run with -race).
func TestPrefetchConcurrent(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	d := s.DB(0)
	keys := make([][]byte, 64)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%d", i))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			for _, k := range keys {
				if err := d.Set(k, KindString, k, 0); err != nil {
					t.Error(err)
					return
				}
			}
			for _, k := range keys {
				if _, err := d.Delete(k); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
			d.Prefetch(keys, true, false)
			d.Prefetch(keys, false, true)
			d.Prefetch(keys, true, true)
		}
	}
}

// BenchmarkGetBatch looks up random keys of a 1M-key database (16-byte keys
// and values, as redis-benchmark -r 1000000 -d 16 makes) one by one, and
// with a Prefetch of each group of 16 or 64 keys before their lookups, as
// the server does for a pipeline. The figure to compare is ns/lookup.
func BenchmarkGetBatch(b *testing.B) {
	const n = 1_000_000
	s, err := Open(b.TempDir(), Options{Sync: SyncNo})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	d := s.DB(0)
	keys := make([][]byte, n)
	val := make([]byte, 16)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
		if err := d.Set(keys[i], KindString, val, 0); err != nil {
			b.Fatal(err)
		}
	}
	// The keys to look up lie one after another in one buffer, as requests
	// do in a connection's read buffer: reading them costs no misses.
	r := rand.New(rand.NewPCG(1, 2))
	order := make([][]byte, 1<<20)
	var buf []byte
	for range order {
		buf = append(buf, keys[r.IntN(n)]...)
	}
	for i := range order {
		order[i] = buf[i*16 : (i+1)*16 : (i+1)*16]
	}
	for _, group := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("group=%d", group), func(b *testing.B) {
			b.ReportAllocs()
			lookups := 0
			for b.Loop() {
				i := lookups & (len(order) - 1)
				batch := order[i:min(i+group, len(order))]
				if group > 1 {
					d.Prefetch(batch, true, false)
				}
				for _, k := range batch {
					if _, ok, _ := d.Get(k); !ok {
						b.Fatal("missing")
					}
				}
				lookups += len(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lookups), "ns/lookup")
		})
	}
}
