package store

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkLoad is the store's half of a bulk load (redis-cli --pipe of
// fresh SETs): one op opens an empty store, sets keys fresh keys (16-byte
// keys as the perf harness writes them) with value-byte values, and closes
// it. The index grows from empty, segments rotate. Compaction and the
// snapshot are off; the close is timed too (its final sync). ns/key is the
// figure to read.
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct{ keys, value int }{
		{1_000_000, 16},
		{200_000, 1024},
	} {
		b.Run(fmt.Sprintf("keys=%d/value=%d", c.keys, c.value), func(b *testing.B) {
			keys := loadKeys(c.keys)
			val := make([]byte, c.value)
			b.ReportAllocs()
			b.SetBytes(int64(c.keys * c.value))
			defer reportCPU(b)()
			for b.Loop() {
				load(b, keys, val, nil)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.keys), "ns/key")
		})
	}
}

// BenchmarkPut overwrites random existing keys (a warm index: the SET
// cells of redis-benchmark -r after their first pass) with compaction off,
// to isolate the append and index update.
func BenchmarkPut(b *testing.B) {
	for _, c := range []struct{ keys, value int }{
		{1_000_000, 16},
		{100_000, 1024},
	} {
		b.Run(fmt.Sprintf("keys=%d/value=%d", c.keys, c.value), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Sync: SyncEverySec, CompactRatio: -1, NoSnapshot: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			d := s.DB(0)
			keys := make([][]byte, c.keys)
			val := make([]byte, c.value)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "key:%012d", i)
				if err := d.Set(keys[i], KindString, val, 0); err != nil {
					b.Fatal(err)
				}
			}
			benchOverwrites(b, d, keys, val)
		})
	}
}

// BenchmarkIndexGrowth sets 3.2M fresh keys (32-byte values) into an
// empty store, through two doublings of the keyspace index (at 1,572,864
// and 3,145,728 keys), and reports the longest single Set (worst-ms) and
// how many took over 5 ms (stalls). A doubling used to build the whole
// new table in one Set; it now copies 64 slots per write (grow.go).
func BenchmarkIndexGrowth(b *testing.B) {
	keys := loadKeys(3_200_000)
	val := make([]byte, 32)
	var worst time.Duration
	stalls := 0
	for b.Loop() {
		load(b, keys, val, func(dt time.Duration) {
			if dt > 5*time.Millisecond {
				stalls++
				worst = max(worst, dt)
			}
		})
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
	b.ReportMetric(float64(stalls)/float64(b.N), "stalls")
}

// loadKeys returns n keys as the perf harness writes them.
func loadKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
	}
	return keys
}

// load opens an empty store (compaction and the snapshot off), sets every
// key to val, telling each, if not nil, how long each Set took, and
// closes the store.
func load(b *testing.B, keys [][]byte, val []byte, each func(time.Duration)) {
	s, err := Open(b.TempDir(), Options{Sync: SyncEverySec, CompactRatio: -1, NoSnapshot: true})
	if err != nil {
		b.Fatal(err)
	}
	d := s.DB(0)
	for _, k := range keys {
		var t0 time.Time
		if each != nil {
			t0 = time.Now()
		}
		if err := d.Set(k, KindString, val, 0); err != nil {
			b.Fatal(err)
		}
		if each != nil {
			each(time.Since(t0))
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}
