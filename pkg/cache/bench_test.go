package cache

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
)

// TestAllocsCachedGet guards the hot path: Lock, Get of a decoded value,
// Unlock allocate nothing; neither do Set of a present key and multi-key
// locks.
func TestAllocsCachedGet(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	k := []byte("hot")
	mustSet(t, c, 0, k, bytes.Repeat([]byte("x"), 1024), 0)
	ttl := []byte("hot-ttl")
	mustSet(t, c, 0, ttl, []byte("v"), c.Now()+3_600_000)
	keys := [][]byte{k, ttl, []byte("other")}
	setVal := bytes.Repeat([]byte("y"), 1024)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Lock/Get/Unlock", func() {
			tx := c.Lock(k)
			if _, ok, _ := tx.Get(0, k); !ok {
				panic("absent")
			}
			tx.Unlock()
		}},
		{"Get with TTL", func() {
			tx := c.Lock(ttl)
			if _, ok, _ := tx.Get(0, ttl); !ok {
				panic("absent")
			}
			tx.Unlock()
		}},
		{"Exists", func() {
			tx := c.Lock(k)
			tx.Exists(0, k)
			tx.Unlock()
		}},
		{"Set of a present key", func() {
			// Includes the store's append: the cache side adds nothing
			// once the key has its decoded entry.
			tx := c.Lock(k)
			if err := tx.Set(0, k, Value{Str: setVal}); err != nil {
				panic(err)
			}
			tx.Unlock()
		}},
		{"LockKeys", func() {
			tx := c.LockKeys(keys)
			tx.Unlock()
		}},
		{"LockArgs", func() {
			tx := c.LockArgs(keys, 1, -1, 1)
			tx.Unlock()
		}},
	} {
		if n := testing.AllocsPerRun(1000, tc.f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tc.name, n)
		}
	}
}

// BenchmarkGet: cached is the seed's "cached Get" workload (1 KB values,
// every read a hit), run from all Ps; miss reads keys whose decoded copy
// was evicted (capacity far below the key count), so each Get loads and
// copies from the store.
func BenchmarkGet(b *testing.B) {
	const nkeys = 10000
	value := bytes.Repeat([]byte("v"), 1024)
	keys := benchKeys(nkeys)
	b.Run("cached", func(b *testing.B) {
		c := openTest(b, "", Options{NoActiveExpiry: true, Capacity: 2 * nkeys})
		for _, k := range keys {
			mustSet(b, c, 0, k, value, 0)
			get(b, c, 0, k) // writes go around the cache: the first read loads it
		}
		missed := c.Stats().Misses
		var next atomic.Uint64
		b.ReportAllocs()
		b.SetBytes(int64(len(value)))
		b.ResetTimer()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(7919))
			for pb.Next() {
				k := keys[i%nkeys]
				i++
				tx := c.Lock(k)
				v, ok, err := tx.Get(0, k)
				tx.Unlock()
				if !ok || err != nil || len(v.Str) != len(value) {
					b.Fatalf("Get(%q) = %d bytes %v %v", k, len(v.Str), ok, err)
				}
			}
		})
		if st := c.Stats(); st.Misses != missed {
			b.Fatalf("cached workload missed %d times", st.Misses-missed)
		}
	})
	b.Run("miss", func(b *testing.B) {
		c := openTest(b, "", Options{NoActiveExpiry: true, Capacity: 16})
		for _, k := range keys {
			mustSet(b, c, 0, k, value, 0)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(value)))
		b.ResetTimer()
		defer reportCPU(b)()
		for i := 0; b.Loop(); i++ {
			k := keys[(i*7919)%nkeys]
			tx := c.Lock(k)
			v, ok, err := tx.Get(0, k)
			tx.Unlock()
			if !ok || err != nil || len(v.Str) != len(value) {
				b.Fatalf("Get(%q) = %d bytes %v %v", k, len(v.Str), ok, err)
			}
		}
	})
}

// BenchmarkSet overwrites 10000 keys with 1 KB values: store append plus
// decoded update.
func BenchmarkSet(b *testing.B) {
	const nkeys = 10000
	value := bytes.Repeat([]byte("v"), 1024)
	keys := benchKeys(nkeys)
	c := openTest(b, "", Options{NoActiveExpiry: true, Capacity: 2 * nkeys})
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	for i := 0; b.Loop(); i++ {
		k := keys[i%nkeys]
		tx := c.Lock(k)
		err := tx.Set(0, k, Value{Str: value})
		tx.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchKeys returns n distinct keys "key:00000000", "key:00000001", ...
func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%08d", i)
	}
	return keys
}
