package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scaleSizes are the key counts of the scale benchmarks: 1e6, and 1e7 with
// TSTD_BENCH_BIG=1 (about 0.6 GB of log and 0.5 GB of heap per store).
func scaleSizes() []int {
	sizes := []int{1e6}
	if os.Getenv("TSTD_BENCH_BIG") == "1" {
		sizes = append(sizes, 1e7)
	}
	return sizes
}

// scaleKey writes key i (16 bytes, spread over the hash space) into key.
func scaleKey(key []byte, i int) {
	binary.BigEndian.PutUint64(key, uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint64(key[8:], uint64(i))
}

// heapAlloc returns the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// gcCycle returns the wall time of one forced full collection (mark of
// every reachable pointer, sweep), with the heap as it is.
func gcCycle() time.Duration {
	start := time.Now()
	runtime.GC()
	return time.Since(start)
}

// BenchmarkKeyHeap measures what N keys (16-byte keys, 32-byte values) cost
// on the Go heap and to the garbage collector, for the store and, as the
// reference in the same run, a Go map[string][]byte of the same data (one
// Go pointer or more per key, which is what the store's index avoids):
//
//	heap-B/key   growth of the live heap after a full GC, per key
//	gc-ms        wall time of one forced full collection with the keys live
//
// The timed loop is the fill itself (ns/op is per key inserted). Run:
//
//	go test ./pkg/store -run '^$' -bench 'KeyHeap' -benchtime 1x
//	TSTD_BENCH_BIG=1 go test ./pkg/store -run '^$' -bench 'KeyHeap' -benchtime 1x -timeout 60m
func BenchmarkKeyHeap(b *testing.B) {
	for _, n := range scaleSizes() {
		b.Run(fmt.Sprintf("keys=%d/impl=store", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				before := heapAlloc()
				s, err := Open(dir, Options{Sync: SyncNo, SnapshotInterval: -1, SnapshotLogBytes: -1, CompactRatio: -1})
				if err != nil {
					b.Fatal(err)
				}
				d := s.DB(0)
				key, val := make([]byte, 16), make([]byte, 32)
				b.StartTimer()
				for i := range n {
					scaleKey(key, i)
					binary.LittleEndian.PutUint64(val, uint64(i))
					if err := d.Set(key, KindString, val, 0); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				heap := float64(heapAlloc()-before) / float64(n)
				gc := gcCycle()
				if st := s.Stats(); st.Keys != int64(n) {
					b.Fatalf("%d keys, want %d", st.Keys, n)
				}
				b.ReportMetric(heap, "heap-B/key")
				b.ReportMetric(float64(len(d.t.slots)*24)/float64(n), "index-B/key")
				b.ReportMetric(float64(gc.Microseconds())/1000, "gc-ms")
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
		b.Run(fmt.Sprintf("keys=%d/impl=gomap", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				before := heapAlloc()
				m := make(map[string][]byte)
				key := make([]byte, 16)
				b.StartTimer()
				for i := range n {
					scaleKey(key, i)
					val := make([]byte, 32)
					binary.LittleEndian.PutUint64(val, uint64(i))
					m[string(key)] = val
				}
				b.StopTimer()
				heap := float64(heapAlloc()-before) / float64(n)
				gc := gcCycle()
				if len(m) != n {
					b.Fatalf("%d keys, want %d", len(m), n)
				}
				b.ReportMetric(heap, "heap-B/key")
				b.ReportMetric(float64(gc.Microseconds())/1000, "gc-ms")
				runtime.KeepAlive(m)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
	}
}

// gcKV is the load of BenchmarkGCPause: the store, or the reference.
type gcKV interface {
	set(key, val []byte) error
	get(key []byte) bool
}

type storeKV struct{ d *DB }

func (k storeKV) set(key, val []byte) error { return k.d.Set(key, KindString, val, 0) }
func (k storeKV) get(key []byte) bool       { _, ok, err := k.d.Get(key); return ok && err == nil }

// mapKV is the reference: a Go map under a RWMutex, a copied value per Set
// (what a Go cache of the keyspace holds: pointers per key).
type mapKV struct {
	mu sync.RWMutex // guards m
	m  map[string][]byte
}

func (k *mapKV) set(key, val []byte) error {
	v := slices.Clone(val)
	k.mu.Lock()
	k.m[string(key)] = v
	k.mu.Unlock()
	return nil
}

func (k *mapKV) get(key []byte) bool {
	k.mu.RLock()
	_, ok := k.m[string(key)]
	k.mu.RUnlock()
	return ok
}

// BenchmarkGCPause runs a 90% Get / 10% Set load of 16-byte keys and 32-byte
// values over N keys on GOMAXPROCS goroutines while a goroutine forces a
// garbage collection every 20 ms (the store allocates almost nothing per
// operation, so without it the load would see few cycles), and reports the
// stop-the-world pauses of the collections that ran during the load
// (runtime.MemStats.PauseNs: both pauses of a cycle, summed). impl=gomap,
// a map[string][]byte under a RWMutex, is the reference in the same run.
//
//	pause-p50-us, pause-max-us   per cycle
//	gcs                          cycles measured
//	gc-ms                        mean wall time of the forced cycles (the mark work)
//
// Run with -benchtime 3000000x so that tens of cycles fall inside the
// load; TSTD_BENCH_BIG=1 adds keys=1e7.
func BenchmarkGCPause(b *testing.B) {
	for _, n := range scaleSizes() {
		for _, impl := range []string{"store", "gomap"} {
			b.Run(fmt.Sprintf("keys=%d/impl=%s", n, impl), func(b *testing.B) {
				b.ReportAllocs()
				var kv gcKV
				if impl == "store" {
					s, err := Open(b.TempDir(), Options{Sync: SyncEverySec, SnapshotInterval: -1, SnapshotLogBytes: -1, CompactRatio: -1})
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					kv = storeKV{s.DB(0)}
				} else {
					kv = &mapKV{m: make(map[string][]byte, n)}
				}
				key, val := make([]byte, 16), make([]byte, 32)
				for i := range n {
					scaleKey(key, i)
					if err := kv.set(key, val); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)

				stop := make(chan struct{})
				var forced, cycles atomic.Int64
				var wg sync.WaitGroup
				wg.Go(func() {
					t := time.NewTicker(20 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							forced.Add(int64(gcCycle()))
							cycles.Add(1)
						}
					}
				})
				var seed atomic.Uint64
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					key, val := make([]byte, 16), make([]byte, 32)
					i := int(seed.Add(1) * 7919)
					for pb.Next() {
						i += 104729
						scaleKey(key, i%n)
						if i%10 == 0 {
							if err := kv.set(key, val); err != nil {
								b.Error(err)
								return
							}
						} else if !kv.get(key) {
							b.Error("a key is missing")
							return
						}
					}
				})
				b.StopTimer()
				close(stop)
				wg.Wait()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				var pauses []uint64
				// PauseNs is a ring of the last 256 cycles.
				for g := max(before.NumGC+1, after.NumGC-255); g <= after.NumGC; g++ {
					pauses = append(pauses, after.PauseNs[(g+255)%256])
				}
				b.ReportMetric(float64(len(pauses)), "gcs")
				if len(pauses) > 0 {
					slices.Sort(pauses)
					b.ReportMetric(float64(pauses[len(pauses)/2])/1e3, "pause-p50-us")
					b.ReportMetric(float64(pauses[len(pauses)-1])/1e3, "pause-max-us")
				}
				if c := cycles.Load(); c > 0 {
					b.ReportMetric(float64(forced.Load())/float64(c)/1e6, "gc-ms")
				}
				runtime.KeepAlive(kv)
			})
		}
	}
}
