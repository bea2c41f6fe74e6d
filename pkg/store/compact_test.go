package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func val(round, i int) string { return fmt.Sprintf("v%d-%d-%s", round, i, strings.Repeat("x", 60)) }

// TestCompactReclaims: overwritten, deleted and expired records go; live
// ones stay (values, kinds, expiries, databases across a SWAPDB, ids), in
// memory, after a crash image and after a clean reopen; Check is clean.
func TestCompactReclaims(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, Now: fixedClock(harnessNow), Databases: 4}
	s := openT(t, "/d", opts)
	for round := range 5 {
		for i := range 40 {
			mustSet(t, s.DB(i%2), fmt.Sprint("k", i), val(round, i), 0)
		}
	}
	for i := range 10 {
		s.DB(i % 2).Delete([]byte(fmt.Sprint("k", i)))
	}
	for i := 10; i < 15; i++ {
		s.DB(i%2).SetExpire([]byte(fmt.Sprint("k", i)), harnessNow-1) // expired: dropped
	}
	for i := 15; i < 20; i++ {
		s.DB(i%2).SetExpire([]byte(fmt.Sprint("k", i)), harnessNow+1000) // kept, with its expiry
	}
	id, _ := s.Put([]byte("by id"))
	dead, _ := s.Put([]byte("deleted id"))
	s.Delete(dead)
	s.SwapDB(1, 3) // db 1's keys now live in db 3
	mustSet(t, s.DB(2), "big", strings.Repeat("b", 5000), 0)
	mustSet(t, s.DB(2), "last", "in the active segment", 0)
	before := s.Stats()
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	after := s.Stats()
	if after.Compactions != 1 || after.Reclaimed <= 0 || after.Segments >= before.Segments || after.DiskBytes != before.DiskBytes-after.Reclaimed {
		t.Fatalf("Stats before %+v\nafter %+v", before, after)
	}
	if after.CompactDone != after.CompactTotal || after.Compacting {
		t.Fatalf("progress %d/%d, compacting %v", after.CompactDone, after.CompactTotal, after.Compacting)
	}
	check := func(s *Store, label string) {
		t.Helper()
		for i := range 40 {
			db := s.DB(map[int]int{0: 0, 1: 3}[i%2])
			k := fmt.Sprint("k", i)
			switch {
			case i < 15:
				wantMissing(t, db, k)
			case i < 20:
				wantGet(t, db, k, val(4, i), harnessNow+1000)
			default:
				wantGet(t, db, k, val(4, i), 0)
			}
		}
		wantGet(t, s.DB(2), "big", strings.Repeat("b", 5000), 0)
		if v, err := s.Get(id); err != nil || string(v) != "by id" {
			t.Fatalf("%s: Get(%d) = %q, %v", label, id, v, err)
		}
		if _, err := s.Get(dead); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: deleted id: %v", label, err)
		}
	}
	check(s, "in memory")
	mustSet(t, s.DB(0), "post", "compaction", 0)
	s.Sync()
	reopenImages(t, s, fs, "/d", opts, "reopened", func(s *Store, label string) {
		check(s, label)
		wantGet(t, s.DB(0), "post", "compaction", 0)
	})
}

// TestCompactLogsOneLine: a compaction renames its outputs into place
// with the code that finishes an interrupted rewrite at open, but it says
// so only when it is one: the compaction itself logs "compacted the log"
// and nothing else (then the snapshot after it its own line).
func TestCompactLogsOneLine(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, Logger: zap.New(core)}
	s := openT(t, "/d", opts)
	for round := range 5 {
		for i := range 40 {
			mustSet(t, s.DB(0), fmt.Sprint("k", i), val(round, i), 0)
		}
	}
	logs.TakeAll()
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	var entries []observer.LoggedEntry
	for _, e := range logs.TakeAll() {
		if e.Message == "store: wrote the index snapshot" {
			continue // Compact writes a snapshot after the compaction
		}
		msgs = append(msgs, e.Message)
		entries = append(entries, e)
	}
	if len(msgs) != 1 || msgs[0] != "store: compacted the log" {
		t.Fatalf("a compaction logged %q, want only the compaction's line", msgs)
	}
	// The line says how long the compaction took, from its start to the
	// end of its switch: at least the time writers waited for the switch.
	f := entries[0].ContextMap()
	took, ok1 := f["took"].(time.Duration)
	wp, ok2 := f["write_pause"].(time.Duration)
	if !ok1 || !ok2 || took <= 0 || took < wp {
		t.Fatalf("the compaction's line has took %v, write_pause %v: %v", f["took"], f["write_pause"], f)
	}
	closeT(t, s)
}

// TestCompactAbortsOnSwapAfterPrefix: a SWAPDB in the active segment makes
// the copies' database numbers stale; compaction aborts (nothing changes)
// until that SWAPDB is sealed into the prefix.
func TestCompactAbortsOnSwapAfterPrefix(t *testing.T) {
	fs := NewMemFS()
	s := openT(t, "/d", Options{FS: fs, SegmentSize: 4096, CompactRatio: -1})
	defer closeT(t, s)
	for round := range 3 {
		for i := range 30 {
			mustSet(t, s.DB(0), fmt.Sprint("k", i), val(round, i), 0)
		}
	}
	s.SwapDB(0, 1)
	if err := s.compact(); !errors.Is(err, errCompactAborted) {
		t.Fatalf("compact with a SWAPDB after the prefix = %v, want errCompactAborted", err)
	}
	for i := range 30 {
		wantGet(t, s.DB(1), fmt.Sprint("k", i), val(2, i), 0)
	}
	mustSet(t, s.DB(2), "big", strings.Repeat("b", 5000), 0) // seals the swap
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		wantGet(t, s.DB(1), fmt.Sprint("k", i), val(2, i), 0)
	}
}

// TestCompactConcurrent runs compactions (and one background-triggered
// one) while writers overwrite and readers read, on the OS filesystem:
// every value read is one written for its key, and the end state is the
// writers' last values, in memory and after reopening.
func TestCompactConcurrent(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 16 << 10, Sync: SyncNo, CompactRatio: 0.3, RetireGrace: time.Millisecond}
	// Every other compaction rewrites a random suffix of the sealed
	// segments only (a partial compaction; no database operation here).
	h := defaultHooks()
	var calls, partials atomic.Int64
	h.compactStart = func(sv []segSurvey, chosen int) int {
		if calls.Add(1)%2 == 0 || len(sv) < 2 {
			return chosen
		}
		partials.Add(1)
		return 1 + rand.IntN(len(sv)-1)
	}
	s, err := open(dir, opts, h)
	if err != nil {
		t.Fatal(err)
	}
	const writers, keys = 2, 200
	var stop atomic.Bool
	var wg sync.WaitGroup
	last := make([][]int, writers)
	errc := make(chan error, 8)
	for w := range writers {
		last[w] = make([]int, keys)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; !stop.Load(); n++ {
				i := n % keys
				k := fmt.Sprintf("w%d-%d", w, i)
				if err := s.DB(w).Set([]byte(k), KindString, []byte(fmt.Sprintf("%s=%d;%s", k, n, strings.Repeat("p", n%200))), 0); err != nil {
					errc <- err
					return
				}
				last[w][i] = n
			}
		}()
	}
	wg.Add(1)
	go func() { // reader
		defer wg.Done()
		for n := 0; !stop.Load(); n++ {
			w, i := n%writers, n%keys
			k := fmt.Sprintf("w%d-%d", w, i)
			e, ok, err := s.DB(w).Get([]byte(k))
			if err != nil {
				errc <- err
				return
			}
			if ok && !bytes.HasPrefix(e.Value, []byte(k+"=")) {
				errc <- fmt.Errorf("Get(%s) = %q", k, e.Value)
				return
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	compactions := 0
	for compactions < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		switch err := s.Compact(); {
		case err == nil:
			compactions = int(s.Stats().Compactions)
		case errors.Is(err, errCompactAborted):
		default:
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if compactions < 5 || partials.Load() == 0 {
		t.Fatalf("%d compactions in 20 s, %d of them partial", compactions, partials.Load())
	}
	st := s.Stats()
	t.Logf("%d compactions (%d partial), %d bytes reclaimed, %d segments left", st.Compactions, partials.Load(), st.Reclaimed, st.Segments)
	want := func(s *Store) {
		t.Helper()
		for w := range writers {
			for i := range keys {
				if n := last[w][i]; n > 0 {
					k := fmt.Sprintf("w%d-%d", w, i)
					wantGet(t, s.DB(w), k, fmt.Sprintf("%s=%d;%s", k, n, strings.Repeat("p", n%200)), 0)
				}
			}
		}
	}
	want(s)
	closeT(t, s)
	s = openT(t, dir, opts)
	want(s)
	closeT(t, s)
	if rep := checkT(t, OSFS(), dir, false); len(rep.Problems) != 0 {
		t.Fatalf("Check: %v", rep.Problems)
	}
}

// TestCompactRetiredMappingStaysValid: a value returned by Get before a
// compaction is still readable after it, for RetireGrace.
func TestCompactRetiredMappingStaysValid(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 4096, CompactRatio: -1})
	defer closeT(t, s)
	mustSet(t, s.DB(0), "keep", "the value read before the switch", 0)
	e, _, _ := s.DB(0).Get([]byte("keep"))
	for i := range 100 {
		mustSet(t, s.DB(0), "churn", val(i, i), 0)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if s.Stats().Compactions != 1 {
		t.Fatal("no compaction")
	}
	if string(e.Value) != "the value read before the switch" {
		t.Fatalf("retired mapping reads %q", e.Value)
	}
	wantGet(t, s.DB(0), "keep", "the value read before the switch", 0)
}

// TestCompactBackground: the background goroutine compacts once dead
// bytes pass CompactRatio.
func TestCompactBackground(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 4096, CompactRatio: 0.5, Sync: SyncNo})
	defer closeT(t, s)
	for round := range 20 {
		for i := range 20 {
			mustSet(t, s.DB(0), fmt.Sprint("k", i), val(round, i), 0)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Compactions == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no background compaction within 10 s: %+v", s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 20 {
		wantGet(t, s.DB(0), fmt.Sprint("k", i), val(19, i), 0)
	}
}
