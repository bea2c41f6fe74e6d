package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func fillKeys(t *testing.T, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		mustSet(t, s.DB(i%3), fmt.Sprint("k", i), fmt.Sprint("v", i), int64(i%5))
	}
}

func wantKeys(t *testing.T, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		wantGet(t, s.DB(i%3), fmt.Sprint("k", i), fmt.Sprint("v", i), int64(i%5))
	}
	n := 0
	for i := range s.Databases() {
		n += s.DB(i).Len()
	}
	if n != to-from {
		t.Fatalf("%d keys, want %d", n, to-from)
	}
}

func TestSnapshotLoadAndTail(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprint("trust=", trust), func(t *testing.T) {
			fs := NewMemFS()
			opts := Options{FS: fs, SegmentSize: 4096, TrustSnapshot: trust}
			s := openT(t, "/d", opts)
			fillKeys(t, s, 0, 500)
			id, _ := s.Put([]byte("by id"))
			s.DB(1).Delete([]byte("k1"))
			closeT(t, s)
			if _, err := readFile(fs, "/d/"+snapName); err != nil {
				t.Fatalf("no snapshot after Close: %v", err)
			}
			ld := new(LoadState)
			opts.Load = ld
			s = openT(t, "/d", opts)
			if st := s.Stats(); !st.LoadedSnapshot || st.Replayed != 0 {
				t.Fatalf("reopen after Close: LoadedSnapshot %v, Replayed %d; want true, 0", st.LoadedSnapshot, st.Replayed)
			}
			if done, total := ld.Progress(); ld.Loading() || done != total || total == 0 {
				t.Fatalf("LoadState after Open: loading %v, %d/%d", ld.Loading(), done, total)
			}
			wantMissing(t, s.DB(1), "k1")
			mustSet(t, s.DB(1), "k1", "v1", 1)
			wantKeys(t, s, 0, 500)
			if v, err := s.Get(id); err != nil || string(v) != "by id" {
				t.Fatalf("Get(%d) = %q, %v", id, v, err)
			}
			// A crash after more writes: the snapshot plus the tail.
			fillKeys(t, s, 500, 520)
			s.Sync()
			img := fs.Crash(CrashOptions{})
			s.Close()
			opts.FS = img
			s = openT(t, "/d", opts)
			if st := s.Stats(); !st.LoadedSnapshot || st.Replayed != 21 {
				t.Fatalf("after a crash: LoadedSnapshot %v, Replayed %d; want true, 21", st.LoadedSnapshot, st.Replayed)
			}
			wantKeys(t, s, 0, 520)
			if id2, err := s.Put(nil); err != nil || id2 != id+1 {
				t.Fatalf("Put after reopen = %d, %v; want id %d", id2, err, id+1)
			}
			closeT(t, s)
		})
	}
}

// TestSnapshotInvalidIgnored: a damaged, foreign, mismatched or stale
// snapshot never changes what Open recovers; the unusable ones are
// ignored with a warning.
func TestSnapshotInvalidIgnored(t *testing.T) {
	build := func(n int) (*MemFS, []byte) {
		fs := NewMemFS()
		s := openT(t, "/d", Options{FS: fs, SegmentSize: 4096})
		fillKeys(t, s, 0, n)
		closeT(t, s)
		snap, err := readFile(fs, "/d/"+snapName)
		if err != nil {
			t.Fatal(err)
		}
		return fs, snap
	}
	put := func(fs FS, b []byte) {
		if err := writeFileAtomic(fs, "/d/"+snapName, b); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		mangle  func(fs *MemFS, snap []byte)
		dbs     int
		useful  bool   // the snapshot is still used
		warning string // in the log when not
	}{
		{"intact", func(fs *MemFS, snap []byte) {}, 0, true, ""},
		{"flipped byte", func(fs *MemFS, snap []byte) { snap[len(snap)/2] ^= 4; put(fs, snap) }, 0, false, "checksum"},
		{"truncated", func(fs *MemFS, snap []byte) { put(fs, snap[:len(snap)-9]) }, 0, false, "checksum"},
		{"empty", func(fs *MemFS, snap []byte) { put(fs, nil) }, 0, false, "shorter"},
		{"foreign log", func(fs *MemFS, snap []byte) {
			o := NewMemFS() // another log of the same shape
			os := openT(t, "/d", Options{FS: o, SegmentSize: 4096})
			for i := range 400 {
				mustSet(t, os.DB(i%3), fmt.Sprint("k", i), fmt.Sprint("w", i), int64(i%5))
			}
			closeT(t, os)
			other, _ := readFile(o, "/d/"+snapName)
			put(fs, other)
		}, 0, false, "not the one"},
		{"other database count", func(fs *MemFS, snap []byte) {}, 5, false, "databases"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, snap := build(400)
			tc.mangle(fs, snap)
			core, logs := observer.New(zapcore.WarnLevel)
			s := openT(t, "/d", Options{FS: fs, Logger: zap.New(core), Databases: tc.dbs})
			defer closeT(t, s)
			if st := s.Stats(); st.LoadedSnapshot != tc.useful {
				t.Fatalf("LoadedSnapshot = %v, want %v", st.LoadedSnapshot, tc.useful)
			}
			if !tc.useful {
				found := false
				for _, e := range logs.All() {
					if strings.Contains(e.Message, "ignoring the index snapshot") && strings.Contains(fmt.Sprint(e.ContextMap()), tc.warning) {
						found = true
					}
				}
				if !found {
					t.Fatalf("no warning mentioning %q; logs: %v", tc.warning, logs.All())
				}
			}
			for i := range 400 {
				db := i % 3
				if db < s.Databases() {
					wantGet(t, s.DB(db), fmt.Sprint("k", i), fmt.Sprint("v", i), int64(i%5))
				}
			}
		})
	}
}

// TestSnapshotStale: an older snapshot (covering less of the log) plus the
// replay of the rest gives the current state.
func TestSnapshotStale(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096}
	s := openT(t, "/d", opts)
	fillKeys(t, s, 0, 200)
	closeT(t, s)
	old, _ := readFile(fs, "/d/"+snapName)
	s = openT(t, "/d", opts)
	fillKeys(t, s, 200, 400)
	for i := 0; i < 100; i++ {
		s.DB(i % 3).Delete([]byte(fmt.Sprint("k", i)))
	}
	s.FlushAll()
	fillKeys(t, s, 400, 450)
	closeT(t, s)
	if err := writeFileAtomic(fs, "/d/"+snapName, old); err != nil {
		t.Fatal(err)
	}
	s = openT(t, "/d", opts)
	defer closeT(t, s)
	if st := s.Stats(); !st.LoadedSnapshot || st.Replayed != 200+100+1+50 {
		t.Fatalf("LoadedSnapshot %v, Replayed %d", st.LoadedSnapshot, st.Replayed)
	}
	wantKeys(t, s, 400, 450)
}

// TestSnapshotPeriodic: the background goroutine writes a snapshot after
// SnapshotLogBytes of log.
func TestSnapshotPeriodic(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{SnapshotLogBytes: 16 << 10, SnapshotInterval: -1, Sync: SyncNo})
	defer closeT(t, s)
	fillKeys(t, s, 0, 1000) // about 60 KiB of log
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Snapshots == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot written within 10 s after 60 KiB of log")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, snapName)); err != nil {
		t.Fatal(err)
	}
	// A crash image now: the periodic snapshot is usable.
	img := copyDir(t, dir)
	s2 := openT(t, img, Options{})
	defer closeT(t, s2)
	if !s2.Stats().LoadedSnapshot {
		t.Fatal("the periodic snapshot was not used")
	}
	wantKeys(t, s2, 0, 1000)
}

// TestSnapshotPeriodicPerRecord: the log-driven snapshot also waits for as
// many records as there are live keys, so large values (few records per
// SnapshotLogBytes) do not rewrite the whole index every few writes.
func TestSnapshotPeriodicPerRecord(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SnapshotLogBytes: 100 << 10, SnapshotInterval: -1, Sync: SyncNo})
	defer closeT(t, s)
	waitSnapshots := func(n uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.Stats().Snapshots < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d snapshots within 10 s, want %d", s.Stats().Snapshots, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	fillKeys(t, s, 0, 1000) // 1000 live keys, about 60 KiB of log: no kick
	if err := s.snapshot(); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1024)
	for i := range 150 { // 150 KiB of log but only 150 records
		mustSet(t, s.DB(i%3), fmt.Sprint("k", i), big, 0)
	}
	s.appendMu.Lock()
	bytes, recs, kicked := s.sinceSnap, s.sinceSnapRecs, len(s.snapKick)
	s.appendMu.Unlock()
	if snaps := s.Stats().Snapshots; bytes < 100<<10 || recs != 150 || kicked != 0 || snaps != 1 {
		t.Fatalf("after 150 records: %d bytes, %d records since the snapshot, kick pending %d, %d snapshots; want >= 100 KiB, 150, 0, 1", bytes, recs, kicked, snaps)
	}
	snaps := s.Stats().Snapshots
	for i := 150; i < 1000; i++ {
		mustSet(t, s.DB(i%3), fmt.Sprint("k", i), big, 0)
	}
	waitSnapshots(snaps + 1)
}

func TestNoSnapshot(t *testing.T) {
	fs := NewMemFS()
	s := openT(t, "/d", Options{FS: fs, NoSnapshot: true})
	fillKeys(t, s, 0, 10)
	closeT(t, s)
	if _, err := readFile(fs, "/d/"+snapName); err == nil {
		t.Fatal("NoSnapshot wrote a snapshot")
	}
}
