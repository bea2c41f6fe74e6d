package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rotateOnce writes 1 KiB values to database 0 of s until its active
// segment changes.
func rotateOnce(t *testing.T, s *Store) {
	t.Helper()
	s.appendMu.Lock()
	from := s.active.id
	s.appendMu.Unlock()
	v := strings.Repeat("v", 1024)
	for i := 0; ; i++ {
		mustSet(t, s.DB(0), fmt.Sprintf("key-%d-%07d", from, i), v, 0)
		s.appendMu.Lock()
		id := s.active.id
		s.appendMu.Unlock()
		if id != from {
			return
		}
	}
}

// warmHeld opens a store on MemFS with segments of three warm chunks whose
// prepared segment's warming holds at its second chunk until a rotation
// or Close wants the segment; stuck reports a wait that lasted 5 s
// without that. (MemFS has no page cache: the chunks take no time.)
func warmHeld(t *testing.T) (s *Store, reached, stuck *atomic.Bool) {
	t.Helper()
	h := defaultHooks()
	reached, stuck = new(atomic.Bool), new(atomic.Bool)
	h.warm = func(g *segment, off, _ int64) time.Duration {
		if off != warmChunk {
			return 0
		}
		reached.Store(true)
		for deadline := time.Now().Add(5 * time.Second); !s.spareWanted.Load(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				stuck.Store(true)
				return 0
			}
		}
		return 0
	}
	var err error
	s, err = open("/d", Options{FS: NewMemFS(), SegmentSize: 3 * warmChunk, CompactRatio: -1}, h)
	if err != nil {
		t.Fatal(err)
	}
	return s, reached, stuck
}

// waitReached waits until the prepared segment's warming is held up.
func waitReached(t *testing.T, reached *atomic.Bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !reached.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the prepared segment was never warmed")
		}
	}
}

// A rotation that finds the next segment still warming takes it at once,
// without waiting for the rest to be warmed; so does Close.
func TestWarmingStopsWhenWanted(t *testing.T) {
	t.Run("rotation", func(t *testing.T) {
		s, reached, stuck := warmHeld(t)
		rotateOnce(t, s) // segment 2 becomes active; 3 is prepared
		waitReached(t, reached)
		reached.Store(false)
		rotateOnce(t, s) // takes 3 while it warms
		if stuck.Load() {
			t.Fatal("the rotation waited for the prepared segment's warming to finish")
		}
		s.appendMu.Lock()
		id := s.active.id
		s.appendMu.Unlock()
		if id != 3 {
			t.Fatalf("active segment %d, want 3", id)
		}
		closeT(t, s)
	})
	t.Run("close", func(t *testing.T) {
		s, reached, stuck := warmHeld(t)
		rotateOnce(t, s)
		waitReached(t, reached)
		closeT(t, s)
		if stuck.Load() {
			t.Fatal("Close waited for the prepared segment's warming to finish")
		}
	})
}

// Warming goes on while the chunks are slow (memory the host backs only
// when touched) and stops after warmFastRun fast ones in a row: the
// writer's own page allocations are cheap there.
func TestWarmingStopsOnBackedMemory(t *testing.T) {
	h := defaultHooks()
	var mu sync.Mutex
	var warmed []int64
	slow := map[int64]bool{0: true, 1: true, 3: true, 4: true} // chunk 2 fast, then 5 and 6
	h.warm = func(g *segment, off, _ int64) time.Duration {
		if g.id != 3 {
			return 0
		}
		mu.Lock()
		warmed = append(warmed, off/warmChunk)
		mu.Unlock()
		if slow[off/warmChunk] {
			return warmFast
		}
		return warmFast - 1
	}
	s, err := open("/d", Options{FS: NewMemFS(), SegmentSize: 10 * warmChunk, CompactRatio: -1}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, s)
	rotateOnce(t, s) // segment 3 is prepared
	waitSpare(s)
	mu.Lock()
	defer mu.Unlock()
	if want := []int64{0, 1, 2, 3, 4, 5, 6}; !slices.Equal(warmed, want) {
		t.Fatalf("warmed chunks %v, want %v", warmed, want)
	}
}
