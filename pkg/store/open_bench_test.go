package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

// abandon releases s as a killed process would: no sync, no snapshot, no
// metadata; the files stay as they are.
func abandon(s *Store) {
	s.appendMu.Lock()
	s.closed.Store(true)
	s.appendMu.Unlock()
	if s.stopBG != nil {
		close(s.stopBG)
		<-s.bgDone
	}
	if s.stopSnap != nil {
		close(s.stopSnap)
		<-s.snapDone
	}
	s.closeFiles()
}

// buildOpenBench writes n keys of 16 bytes with 32-byte values into a new
// directory and returns it twice: shut down cleanly (with index.toon) and
// as a kill -9 would leave it (synced, no snapshot, clean_shutdown false).
func buildOpenBench(b *testing.B, n int) (clean, killed string) {
	b.Helper()
	clean, err := os.MkdirTemp("", "tstd-open-bench-")
	if err != nil {
		b.Fatal(err)
	}
	killed, err = os.MkdirTemp("", "tstd-open-bench-")
	if err != nil {
		b.Fatal(err)
	}
	for _, dir := range []string{clean, killed} {
		s, err := Open(dir, Options{Sync: SyncNo, SnapshotInterval: -1, SnapshotLogBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		key, val := make([]byte, 16), make([]byte, 32)
		for i := range n {
			binary.BigEndian.PutUint64(key, uint64(i)*0x9E3779B97F4A7C15)
			binary.BigEndian.PutUint64(key[8:], uint64(i))
			binary.LittleEndian.PutUint64(val, uint64(i))
			if err := s.DB(0).Set(key, KindString, val, 0); err != nil {
				b.Fatal(err)
			}
		}
		if dir == clean {
			err = s.Close()
		} else {
			err = s.Sync()
			abandon(s)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	return clean, killed
}

// BenchmarkOpen measures Open of a directory of N keys (16-byte keys,
// 32-byte values): after a clean shutdown (index.toon loaded, the covered
// log verified or, with TrustSnapshot, not read), and after a kill (no
// snapshot: the whole log replayed). ns/key is the figure to compare.
// keys=1e7 runs only with TSTD_BENCH_BIG=1 (about 1 GB of log, 2 GB of
// disk for the two directories).
func BenchmarkOpen(b *testing.B) {
	sizes := []int{1e5, 1e6}
	if os.Getenv("TSTD_BENCH_BIG") == "1" {
		sizes = append(sizes, 1e7)
	}
	for _, n := range sizes {
		var clean, killed string
		built := false
		build := func(b *testing.B) {
			if !built {
				b.StopTimer()
				clean, killed = buildOpenBench(b, n)
				built = true
				b.StartTimer()
			}
		}
		for _, mode := range []struct {
			name   string
			killed bool
			opts   Options
		}{
			{"shutdown=clean/snapshot=verify", false, Options{}},
			{"shutdown=clean/snapshot=trust", false, Options{TrustSnapshot: true}},
			{"shutdown=kill", true, Options{}},
		} {
			b.Run(fmt.Sprintf("keys=%d/%s", n, mode.name), func(b *testing.B) {
				b.ReportAllocs()
				build(b)
				dir := clean
				if mode.killed {
					dir = killed
				}
				for b.Loop() {
					s, err := Open(dir, mode.opts)
					if err != nil {
						b.Fatal(err)
					}
					if st := s.Stats(); st.Keys != int64(n) || st.LoadedSnapshot == mode.killed {
						b.Fatalf("Open: %d keys, snapshot %v", st.Keys, st.LoadedSnapshot)
					}
					b.StopTimer()
					abandon(s) // leaves the directory as it was (clean_shutdown aside, which Open does not time)
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
			})
		}
		if built {
			os.RemoveAll(clean)
			os.RemoveAll(killed)
		}
	}
}
