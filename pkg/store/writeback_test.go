package store

import (
	"fmt"
	"sync"
	"testing"
)

// TestWritebackKicks: the flushes hand what they wrote to the active
// segment's file to writebackLoop in ranges of at least kickBytes, which
// cover each segment from its start without gap or overlap; each new
// segment starts its own, and Close stops the loop.
func TestWritebackKicks(t *testing.T) {
	type rng struct {
		id     uint32
		lo, hi int64
	}
	var mu sync.Mutex
	var got []rng
	h := defaultHooks()
	h.writeback = func(g *segment, lo, hi int64) {
		mu.Lock()
		got = append(got, rng{g.id, lo, hi})
		mu.Unlock()
	}
	const segSize = 20 << 20
	s, err := open("/d", Options{FS: NewMemFS(), SegmentSize: segSize, BufferWrites: true, CompactRatio: -1, NoSnapshot: true}, h)
	if err != nil {
		t.Fatal(err)
	}
	d := s.DB(0)
	v := make([]byte, 1024)
	for i := range 50_000 { // about 50 MiB: three segments
		if err := d.Set(fmt.Appendf(nil, "k%d", i), KindString, v, 0); err != nil {
			t.Fatal(err)
		}
		if i%64 == 63 {
			if err := s.FlushWrites(); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeT(t, s)
	mu.Lock()
	defer mu.Unlock()
	if n := s.kicks.Load(); n != int64(len(got)) || n < 4 {
		t.Fatalf("%d kicks counted, %d ranges recorded; want the same, at least 4", n, len(got))
	}
	end := map[uint32]int64{}
	for _, r := range got {
		if r.lo != end[r.id] || r.hi-r.lo < kickBytes || r.hi > segSize {
			t.Fatalf("range [%d, %d) of segment %d after %d (ranges %v)", r.lo, r.hi, r.id, end[r.id], got)
		}
		end[r.id] = r.hi
	}
	if len(end) < 2 {
		t.Fatalf("kicks in %d segments, want every segment written past kickBytes (ranges %v)", len(end), got)
	}
}
