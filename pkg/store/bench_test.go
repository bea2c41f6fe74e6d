package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

const benchKeys = 100_000

// benchStore opens a store holding benchKeys keys with 1 KiB values.
func benchStore(b *testing.B, sync SyncPolicy) (*Store, [][]byte) {
	b.Helper()
	return benchStoreOpts(b, Options{Sync: sync})
}

// benchStoreOpts is benchStore with options.
func benchStoreOpts(b *testing.B, opts Options) (*Store, [][]byte) {
	b.Helper()
	s, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	keys := make([][]byte, benchKeys)
	val := make([]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%08d", i)
		if err := s.DB(0).Set(keys[i], KindString, val, 0); err != nil {
			b.Fatal(err)
		}
	}
	return s, keys
}

func BenchmarkGet(b *testing.B) {
	s, keys := benchStore(b, SyncNo)
	d := s.DB(0)
	// A Go map of the same keys to heap values in the same run: the
	// reference for the ratio (these machines are shared and noisy).
	ref := make(map[string][]byte, len(keys))
	for _, k := range keys {
		ref[string(k)] = make([]byte, 1024)
	}
	b.Run("impl=gomap/mode=serial", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(1024)
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			if _, ok := ref[string(keys[i%len(keys)])]; !ok {
				b.Fatal("missing")
			}
			i += 7919
		}
	})
	b.Run("impl=store/mode=serial", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(1024)
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			if _, ok, _ := d.Get(keys[i%len(keys)]); !ok {
				b.Fatal("missing")
			}
			i += 7919
		}
	})
	b.Run("impl=store/mode=parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(1024)
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(keys))
			for pb.Next() {
				if _, ok, _ := d.Get(keys[i%len(keys)]); !ok {
					b.Fatal("missing")
				}
				i += 7919
			}
		})
	})
}

// BenchmarkSet overwrites random preloaded keys with 1 KiB values
// (appendfsync everysec). TSTD_BENCH_NOCOMPACT=1 turns compaction off to
// isolate the append path.
func BenchmarkSet(b *testing.B) {
	opts := Options{Sync: SyncEverySec}
	if os.Getenv("TSTD_BENCH_NOCOMPACT") != "" {
		opts.CompactRatio = -1
	}
	s, keys := benchStoreOpts(b, opts)
	benchOverwrites(b, s.DB(0), keys, make([]byte, 1024))
}

// benchOverwrites sets one of keys (striding by a prime through them) to
// val per iteration, reporting allocations, val's bytes and CPU time per
// operation.
func benchOverwrites(b *testing.B, d *DB, keys [][]byte, val []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(val)))
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		if err := d.Set(keys[i%len(keys)], KindString, val, 0); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

// BenchmarkMixed is 90% Get, 10% Set over the same keys, in parallel.
func BenchmarkMixed(b *testing.B) {
	s, keys := benchStore(b, SyncEverySec)
	d := s.DB(0)
	b.ReportAllocs()
	b.SetBytes(1024)
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		val := make([]byte, 1024)
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			k := keys[r.IntN(len(keys))]
			if r.IntN(10) == 0 {
				if err := d.Set(k, KindString, val, 0); err != nil {
					b.Fatal(err)
				}
			} else if _, ok, _ := d.Get(k); !ok {
				b.Fatal("missing")
			}
		}
	})
}

func TestGetSetDoNotAllocate(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	defer closeT(t, s)
	d := s.DB(0)
	key, val := []byte("key"), make([]byte, 1024)
	mustSet(t, d, "key", "v", 0)
	cases := []struct {
		name string
		fn   func()
	}{
		{"Get hit", func() { d.Get(key) }},
		{"Get miss", func() { d.Get([]byte("missing")) }},
		{"Set overwrite", func() { d.Set(key, KindString, val, 0) }},
		{"SetExpire", func() { d.SetExpire(key, 5) }},
		{"id Get", func() { s.Get(1) }},
	}
	s.Put(val)
	for _, c := range cases {
		if n := testing.AllocsPerRun(200, c.fn); n != 0 {
			t.Errorf("%s allocates %.1f times per call, want 0", c.name, n)
		}
	}
}

// BenchmarkAppendOp appends 32-byte operations to the chain of a
// collection whose image is 1 KiB or 10 MiB: the cost is that of a
// 32-byte record whatever the image size (no fold: the chain grows).
func BenchmarkAppendOp(b *testing.B) {
	for _, size := range []int{1 << 10, 10 << 20} {
		b.Run(fmt.Sprintf("image=%dKiB/op=32B", size>>10), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			d := s.DB(0)
			key := []byte("collection")
			if err := d.Set(key, KindHash, make([]byte, size), 0); err != nil {
				b.Fatal(err)
			}
			op := make([]byte, 32)
			b.ReportAllocs()
			b.SetBytes(int64(len(op)))
			for b.Loop() {
				if _, err := d.AppendOp(key, KindHash, op); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendOpMerged appends 16-byte operations that merge into the
// open record of their key, flushing after every 16 as the server does
// after a round of pipeline 16 on one list: the path of LPUSH and RPUSH
// at pipeline 16 (a merge, then a seal per flush).
func BenchmarkAppendOpMerged(b *testing.B) {
	s := openMerging(b, NewMemFS(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
	defer s.Close()
	d := s.DB(0)
	key := []byte("mylist")
	if err := d.Set(key, KindList, make([]byte, 64), 0); err != nil {
		b.Fatal(err)
	}
	op := append([]byte("+"), make([]byte, 16)...)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := d.AppendOp(key, KindList, op); err != nil {
			b.Fatal(err)
		}
		if n++; n%16 == 0 {
			if err := s.FlushWrites(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkGetChain reads a 1 KiB image and a chain of 16 operations.
func BenchmarkGetChain(b *testing.B) {
	s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	d := s.DB(0)
	key := []byte("collection")
	if err := d.Set(key, KindList, make([]byte, 1024), 0); err != nil {
		b.Fatal(err)
	}
	for range 16 {
		if _, err := d.AppendOp(key, KindList, make([]byte, 32)); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	fn := func(image []byte, ops [][]byte) { n += len(image) + len(ops) }
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok, err := d.GetChain(key, fn); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkAppendOpFolded appends 16-byte operations to a collection whose
// chain is folded (a new image set) every n operations, as a collection
// that keeps growing is: each new chain regrows to n operations. It
// reports ns per operation, the fold's Set included.
func BenchmarkAppendOpFolded(b *testing.B) {
	for _, n := range []int{10_000, 2_000_000} {
		b.Run(fmt.Sprintf("chain=%d", n), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			d := s.DB(0)
			key := []byte("mylist")
			img := make([]byte, 64)
			if err := d.Set(key, KindList, img, 0); err != nil {
				b.Fatal(err)
			}
			op := make([]byte, 16)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.AppendOp(key, KindList, op); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i = 0
					if err := d.Set(key, KindList, img, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkSetImage folds a collection into an image of 1 MiB, 32 MiB or
// 256 MiB (SetImage, in write-buffer mode as the server runs), encoded as
// pkg/types encodes a list of 1 KiB elements: appended one by one, handed
// to spill once they fill half the buffer. The 1 MiB image goes through
// the write buffer, the larger ones are streamed to the file.
func BenchmarkSetImage(b *testing.B) {
	elem := make([]byte, 1024)
	for _, size := range []int{1 << 20, 32 << 20, 256 << 20} {
		b.Run(fmt.Sprintf("image=%dMiB", size>>20), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, BufferWrites: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			d := s.DB(0)
			key := []byte("collection")
			if err := d.Set(key, KindList, []byte("old"), 0); err != nil {
				b.Fatal(err)
			}
			fill := func(dst []byte, spill func([]byte) []byte) []byte {
				for n := 0; n < size; n += len(elem) {
					dst = append(dst, elem...)
					if spill != nil && len(dst) >= cap(dst)/2 {
						dst = spill(dst)
					}
				}
				return dst
			}
			var cpu time.Duration
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				cpu0 := processCPU()
				if err := d.SetImage(key, KindList, 0, size, fill); err != nil {
					b.Fatal(err)
				}
				if err := s.FlushWrites(); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - cpu0
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
