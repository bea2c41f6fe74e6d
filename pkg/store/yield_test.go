package store

import (
	"fmt"
	"strings"
	"testing"
)

// TestBackgroundWorkYields: compaction yields the processor at least once
// per yieldEvery bytes in each of its two passes over the sealed segments,
// and the index snapshot once per 64 KiB buffer it writes, so that an event
// loop sharing one processor with them waits for microseconds, not for the
// scheduler's 10 ms preemption.
func TestBackgroundWorkYields(t *testing.T) {
	s := openT(t, "/d", Options{FS: NewMemFS(), SegmentSize: 256 << 10, CompactRatio: -1})
	v := strings.Repeat("v", 1000)
	for round := range 3 {
		for i := range 1000 {
			mustSet(t, s.DB(0), fmt.Sprint("k", i), fmt.Sprint(round, v), 0)
		}
	}
	in := s.Stats().DiskBytes
	before := yields.Load()
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	n := int(yields.Load() - before) // other stores' background work can only add
	// Both passes read every sealed segment (all but the active one).
	if min := int(2*(in-256<<10)/yieldEvery) - 2; n < min {
		t.Fatalf("compaction of %d bytes yielded %d times, want at least %d", in, n, min)
	}
	mustSet(t, s.DB(0), "after", "the compaction", 0) // something new to snapshot
	before = yields.Load()
	if err := s.snapshot(); err != nil {
		t.Fatal(err)
	}
	if n := yields.Load() - before; s.Stats().Snapshots == 0 || n < 1 {
		t.Fatalf("snapshot yielded %d times", n)
	}
}
