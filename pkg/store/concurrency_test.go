package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestConcurrentReadersWriters runs writers, readers, scanners, syncs and
// swaps at once (run with -race). A value always starts with its key, so a
// reader can tell a torn or misdirected read.
func TestConcurrentReadersWriters(t *testing.T) {
	seed := testSeed(t)
	dir := t.TempDir()
	opts := Options{Databases: 4, SegmentSize: 64 << 10, Sync: SyncEverySec}
	s := openT(t, dir, opts)
	const workers, ops = 4, 3000
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	report := func(err error) {
		select {
		case errc <- err:
		default:
		}
	}
	for w := range workers {
		wg.Add(3)
		go func() { // writer
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range ops {
				d := s.DB(r.IntN(4))
				k := fmt.Appendf(nil, "k%d", r.IntN(500))
				switch r.IntN(10) {
				case 0:
					if _, err := d.Delete(k); err != nil {
						report(err)
					}
				case 1:
					if _, err := d.SetExpire(k, int64(i)); err != nil {
						report(err)
					}
				default:
					v := append(append(k, '='), randBytes(r, r.IntN(200))...)
					if err := d.Set(k, KindString, v, 0); err != nil {
						report(err)
					}
				}
				if i%500 == 0 {
					if err := s.Sync(); err != nil {
						report(err)
					}
				}
			}
		}()
		go func() { // reader
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 100+uint64(w)))
			for range ops * 2 {
				k := fmt.Appendf(nil, "k%d", r.IntN(500))
				e, ok, err := s.DB(r.IntN(4)).Get(k)
				if err != nil {
					report(err)
				} else if ok && !bytes.HasPrefix(e.Value, append(k, '=')) {
					report(fmt.Errorf("Get(%s) = %q", k, e.Value))
				}
				if _, err := s.Put(k); err != nil {
					report(err)
				}
			}
		}()
		go func() { // scanner and swapper
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 200+uint64(w)))
			for i := range 100 {
				d := s.DB(r.IntN(4))
				cur := uint64(0)
				for {
					cur = d.Scan(cur, 10, func(key []byte, kind Kind, exp int64) {
						if len(key) == 0 || key[0] != 'k' {
							report(fmt.Errorf("Scan gave %q", key))
						}
					})
					if cur == 0 {
						break
					}
				}
				if i%10 == 0 {
					if err := s.SwapDB(r.IntN(4), r.IntN(4)); err != nil {
						report(err)
					}
				}
				_ = s.Stats()
				d.RandomKey(r.Uint64())
				s.Scan(func(id ID, v []byte) bool { return id%7 != 0 })
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	// The crash image and the clean reopen agree with the running store.
	want := map[string]string{}
	for db := range 4 {
		s.DB(db).Range(func(key []byte, kind Kind, exp int64) bool {
			e, _, _ := s.DB(db).Get(key)
			want[fmt.Sprint(db, "/", string(key), "/", exp)] = string(e.Value)
			return true
		})
	}
	img := copyDir(t, dir)
	closeT(t, s)
	for _, d := range []string{dir, img} {
		s2 := openT(t, d, opts)
		got := 0
		for db := range 4 {
			s2.DB(db).Range(func(key []byte, kind Kind, exp int64) bool {
				e, _, _ := s2.DB(db).Get(key)
				if v, ok := want[fmt.Sprint(db, "/", string(key), "/", exp)]; !ok || v != string(e.Value) {
					t.Errorf("%s: db %d key %q exp %d: %q, want %q (%v)", d, db, key, exp, e.Value, v, ok)
				}
				got++
				return true
			})
		}
		if got != len(want) {
			t.Errorf("%s: %d keys, want %d", d, got, len(want))
		}
		closeT(t, s2)
	}
}

// slowSync is a sync hook that sleeps first, as a disk does, so that
// callers pile up while one fsync runs.
func slowSync(calls *atomic.Int64) func(g *segment) error {
	return func(g *segment) error {
		calls.Add(1)
		time.Sleep(2 * time.Millisecond)
		return syncSegment(g)
	}
}

func TestSyncGroupCommit(t *testing.T) {
	var fsyncs atomic.Int64
	h := defaultHooks()
	h.sync = slowSync(&fsyncs)
	s, err := open(t.TempDir(), Options{Sync: SyncAlways}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, s)
	before, hooked := s.Stats().Syncs, fsyncs.Load() // Open syncs the recovered log
	const goroutines, rounds = 16, 10
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				k := fmt.Appendf(nil, "%d-%d", g, i)
				if err := s.DB(0).Set(k, KindString, k, 0); err != nil {
					t.Error(err)
					return
				}
				// The write must be covered by the sync that Sync waits for.
				s.appendMu.Lock()
				seg, w := s.active, s.active.written
				s.appendMu.Unlock()
				if err := s.Sync(); err != nil {
					t.Error(err)
					return
				}
				s.appendMu.Lock()
				synced := seg.synced
				s.appendMu.Unlock()
				if synced < w {
					t.Errorf("Sync returned with %d of %d records synced", synced, w)
				}
			}
		}()
	}
	wg.Wait()
	calls := uint64(goroutines * rounds)
	n := s.Stats().Syncs - before
	t.Logf("%d Sync calls, %d fsyncs", calls, n)
	if n == 0 || n >= calls || int64(n) != fsyncs.Load()-hooked {
		t.Fatalf("%d Sync calls made %d fsyncs (hook saw %d), want 0 < fsyncs < calls", calls, n, fsyncs.Load()-hooked)
	}
	// Nothing written since: Sync does not fsync.
	if err := s.Sync(); err != nil || s.Stats().Syncs-before != n {
		t.Fatalf("idle Sync: %v, fsyncs %d -> %d", err, n, s.Stats().Syncs-before)
	}
}

func TestSyncFailureMakesReadOnly(t *testing.T) {
	var failing atomic.Bool
	h := defaultHooks()
	h.sync = func(g *segment) error {
		if failing.Load() {
			return syscall.EIO
		}
		return syncSegment(g)
	}
	dir := t.TempDir()
	s, err := open(dir, Options{Sync: SyncAlways}, h)
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, s.DB(0), "k", "before", 0)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	mustSet(t, s.DB(0), "k2", "unsynced", 0)
	err = s.Sync()
	wantErrIs(t, err, ErrReadOnly)
	wantErrIs(t, err, syscall.EIO)
	wantErrIs(t, s.DB(0).Set([]byte("k"), KindString, []byte("after"), 0), ErrReadOnly)
	if _, err := s.DB(0).Delete([]byte("k")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Delete = %v", err)
	}
	if _, err := s.Put(nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Put = %v", err)
	}
	wantGet(t, s.DB(0), "k", "before", 0) // reads keep working
	wantGet(t, s.DB(0), "k2", "unsynced", 0)
	if st := s.Stats(); !errors.Is(st.LastSyncError, syscall.EIO) {
		t.Fatalf("Stats.LastSyncError = %v", st.LastSyncError)
	}
	wantErrIs(t, s.Close(), ErrReadOnly)
	m, _ := readMetadata(OSFS(), dir)
	if m.cleanShutdown {
		t.Fatal("a failed store wrote clean_shutdown: true")
	}
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	wantGet(t, s.DB(0), "k", "before", 0)
}

func TestFullDiskAtRotation(t *testing.T) {
	var full atomic.Bool
	h := defaultHooks()
	h.allocate = func(f File, size int64) error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return preallocate(f, size)
	}
	dir := t.TempDir()
	s, err := open(dir, Options{SegmentSize: 4096, Sync: SyncNo}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, s)
	full.Store(true)
	mustSet(t, s.DB(0), "k", "old", 0)
	var i int
	for i = 0; ; i++ {
		err = s.DB(0).Set([]byte("k"), KindString, bytes.Repeat([]byte("x"), 100), 0)
		if err != nil {
			break
		}
		if i > 100 {
			t.Fatal("no rotation in 100 writes of a 4 KiB segment")
		}
	}
	wantErrIs(t, err, ErrNoSpace)
	wantErrIs(t, err, syscall.ENOSPC)
	wantGet(t, s.DB(0), "k", string(bytes.Repeat([]byte("x"), 100)), 0)
	if st := s.Stats(); st.Segments != 1 || st.LastSyncError != nil {
		t.Fatalf("Stats after ENOSPC = %+v", st)
	}
	full.Store(false)                             // space freed: writes resume, the store is not read-only
	big := string(bytes.Repeat([]byte("n"), 100)) // does not fit the full segment
	mustSet(t, s.DB(0), "k", big, 0)
	wantGet(t, s.DB(0), "k", big, 0)
	waitSpare(s)
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	// 2 segments and the one the rotation had prepared, metadata, LOCK
	if want := []string{lockName, segName(1), segName(2), segName(3), metaName}; !slices.Equal(names, want) {
		t.Fatalf("dir has %v, want %v (no leftover temporary file)", names, want)
	}
}
