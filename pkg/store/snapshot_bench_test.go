package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// BenchmarkSnapshot writes index.toon for a store of 1M keys (16-byte
// keys, as redis-benchmark -r 1000000 makes) with 16-byte and 1 KiB
// values, after overwriting random keys so that the live records are
// spread over the log as a workload leaves them. The figure to read is
// CPU-ns/op (the process's CPU time per snapshot).
func BenchmarkSnapshot(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	for _, size := range []int{16, 1024} {
		b.Run(fmt.Sprintf("keys=%d/value=%d", n, size), func(b *testing.B) {
			dir, err := os.MkdirTemp("", "snapbench")
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(dir)
			s, err := Open(dir, Options{Sync: SyncNo, CompactRatio: -1, SnapshotLogBytes: -1, SnapshotInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			d := s.DB(0)
			val := make([]byte, size)
			key := func(i int) []byte { return fmt.Appendf(nil, "key:%012d", i) }
			for i := range n {
				if err := d.Set(key(i), KindString, val, 0); err != nil {
					b.Fatal(err)
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			for range n / 2 {
				if err := d.Set(key(r.IntN(n)), KindString, val, 0); err != nil {
					b.Fatal(err)
				}
			}
			defer reportCPU(b)()
			for b.Loop() {
				s.appendMu.Lock()
				s.snapSeq = 0 // write one even though nothing changed
				s.appendMu.Unlock()
				if err := s.snapshot(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
