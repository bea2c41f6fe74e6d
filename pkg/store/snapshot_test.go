package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

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
	core, logs := observer.New(zapcore.InfoLevel)
	s := openT(t, dir, Options{SnapshotLogBytes: 16 << 10, SnapshotInterval: -1, Sync: SyncNo, Logger: zap.New(core)})
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
	// Each snapshot is logged with what it covered and how long it took.
	lines := logs.FilterMessage("store: wrote the index snapshot").All()
	if len(lines) == 0 {
		t.Fatalf("no log line for the snapshot: %v", logs.All())
	}
	if f := lines[0].ContextMap(); f["seq"] == nil || f["seq"].(uint64) == 0 || f["took"] == nil || f["capture"] == nil {
		t.Fatalf("snapshot log line fields %v, want seq > 0, capture and took", f)
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

// snapshotHead captures s's index (s must be quiescent) and returns it,
// the segments, and the header that every version of index.toon starts
// with (magic to nextID), as version, for tests that write old versions.
func snapshotHead(s *Store, version uint32) (*snapState, segSet, []byte) {
	s.appendMu.Lock()
	st := s.captureLocked(nil)
	s.appendMu.Unlock()
	ss := *s.segs.Load()
	le := binary.LittleEndian
	b := []byte(snapMagic)
	b = le.AppendUint32(b, version)
	b = le.AppendUint32(b, uint32(len(st.dbs)))
	b = le.AppendUint64(b, st.seq)
	b = le.AppendUint64(b, st.pos)
	b = le.AppendUint64(b, st.prevLoc)
	var prevCRC uint32
	if r := ss.record(st.prevLoc); r != nil {
		prevCRC = le.Uint32(r[offCRC:])
	}
	b = le.AppendUint32(b, prevCRC)
	b = le.AppendUint32(b, 0)
	return st, ss, le.AppendUint64(b, uint64(st.nextID))
}

// snapshotTail appends the id index and the checksum, as every version
// ends.
func snapshotTail(st *snapState, ss segSet, b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint64(b, uint64(len(st.ids)))
	for _, e := range st.ids {
		b = le.AppendUint64(b, uint64(e.id))
		b = le.AppendUint64(b, e.loc)
		b = le.AppendUint32(b, uint32(len(recValue(ss.record(e.loc)))))
	}
	return le.AppendUint32(b, crc32c(b))
}

// keyedSnapshot returns s's index as an index.toon of version 1 or 2, which
// stored keys rather than hashes, byte for byte as the releases that wrote
// those versions did (version 1 has no chains: s must have none). s must
// be quiescent.
func keyedSnapshot(t *testing.T, s *Store, version uint32) []byte {
	t.Helper()
	st, ss, b := snapshotHead(s, version)
	le := binary.LittleEndian
	for i, ents := range st.dbs {
		b = le.AppendUint64(b, uint64(len(ents)))
		for _, e := range ents {
			r := ss.record(e.loc)
			key := recKey(r)
			b = le.AppendUint64(b, e.loc)
			b = le.AppendUint64(b, uint64(e.expireAt))
			b = le.AppendUint32(b, uint32(len(key)))
			b = le.AppendUint32(b, uint32(len(r)-recHeaderSize-len(key)))
			ops := st.chains[i][e.loc].ops
			if version == 1 {
				if len(ops) > 0 {
					t.Fatal("version 1 cannot hold chains")
				}
			} else {
				b = le.AppendUint32(b, uint32(len(ops)))
			}
			b = append(b, key...)
			for _, l := range ops {
				b = le.AppendUint64(b, l)
				b = le.AppendUint32(b, uint32(ss.recSize(l)))
			}
		}
	}
	return snapshotTail(st, ss, b)
}

// hashedSnapshotV3 returns s's index as an index.toon of version 3, byte
// for byte as the releases that wrote it did: the layout of version 4,
// with each key's whole 64-bit hash (read from its record here). s must
// be quiescent.
func hashedSnapshotV3(t *testing.T, s *Store) []byte {
	t.Helper()
	st, ss, b := snapshotHead(s, 3)
	le := binary.LittleEndian
	for _, k := range st.hkey {
		b = le.AppendUint64(b, k)
	}
	for i, ents := range st.dbs {
		b = le.AppendUint64(b, uint64(len(ents)))
		b = le.AppendUint64(b, uint64(st.live[i]))
		for _, e := range ents {
			h := s.dbs[i].hash(recKey(ss.record(e.loc)))
			if uint32(h) != e.hash || h>>32 == 0 {
				t.Fatalf("slot hash %x, key hash %x", e.hash, h)
			}
			b = le.AppendUint64(b, h)
			b = le.AppendUint64(b, e.loc)
			b = le.AppendUint64(b, uint64(e.expireAt))
			c := st.chains[i][e.loc]
			b = le.AppendUint32(b, uint32(len(c.ops)))
			if len(c.ops) > 0 {
				b = le.AppendUint64(b, uint64(c.bytes))
				for _, l := range c.ops {
					b = le.AppendUint64(b, l)
				}
			}
		}
	}
	return snapshotTail(st, ss, b)
}

// TestSnapshotVersions: a snapshot of every version loads to the state a
// full replay gives (keys, values, expiries, chains, ids, live bytes). The
// keyed versions are hashed with the store's own key; versions 3 and 4
// bring their key (version 3 with whole 64-bit hashes, 4 with their low
// 32 bits).
func TestSnapshotVersions(t *testing.T) {
	for _, version := range []uint32{1, 2, 3, snapFormatVersion} {
		t.Run(fmt.Sprint("version=", version), func(t *testing.T) {
			fs := NewMemFS()
			opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, Databases: 3}
			s := openT(t, "/d", opts)
			fillKeys(t, s, 0, 300)
			for i := range 50 {
				s.DB(i % 3).Delete([]byte(fmt.Sprint("k", i*5)))
			}
			if version >= 2 {
				for c := range 5 {
					key := fmt.Sprint("c", c)
					if err := s.DB(c%3).Set([]byte(key), KindList, []byte("image"), int64(c)); err != nil {
						t.Fatal(err)
					}
					for j := range 20 * c {
						appendOpT(t, s.DB(c%3), key, KindList, fmt.Sprint("op", j))
					}
				}
			}
			for range 10 {
				if _, err := s.Put([]byte("by id")); err != nil {
					t.Fatal(err)
				}
			}
			want, wantStats := dumpStore(t, s), s.Stats()
			var snap []byte
			switch version {
			case 1, 2:
				snap = keyedSnapshot(t, s, version)
			case 3:
				snap = hashedSnapshotV3(t, s)
			}
			closeT(t, s)
			if snap != nil {
				if err := writeFileAtomic(fs, "/d/"+snapName, snap); err != nil {
					t.Fatal(err)
				}
			}
			s = openT(t, "/d", opts)
			defer closeT(t, s)
			st := s.Stats()
			if !st.LoadedSnapshot || st.Replayed != 0 {
				t.Fatalf("LoadedSnapshot %v, Replayed %d", st.LoadedSnapshot, st.Replayed)
			}
			if got := dumpStore(t, s); !got.equal(want) {
				t.Fatalf("state after loading the snapshot differs: %s", want.diff(got))
			}
			if st.Keys != wantStats.Keys || st.LiveBytes != wantStats.LiveBytes {
				t.Fatalf("Keys %d LiveBytes %d after the load, want %d %d", st.Keys, st.LiveBytes, wantStats.Keys, wantStats.LiveBytes)
			}
			// Writes after the load find the loaded keys (same hash).
			mustSet(t, s.DB(1), "k1", "again", 0)
			wantGet(t, s.DB(1), "k1", "again", 0)
			if ok, err := s.DB(1).Delete([]byte("k4")); !ok || err != nil {
				t.Fatalf("Delete of a loaded key = %v, %v", ok, err)
			}
			if s.DB(1).Len() != len(want.dbs[1])-1 {
				t.Fatalf("db 1 has %d keys after overwriting a loaded one and deleting another, want %d", s.DB(1).Len(), len(want.dbs[1])-1)
			}
			checkKeys(t, s.DB(1))
		})
	}
}

// TestSnapshotReleasesCopy: a snapshot whose copy of the index is at least
// releaseMinBytes hands it back to the OS when written (releaseGarbage),
// a smaller one does not.
func TestSnapshotReleasesCopy(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo, SnapshotLogBytes: -1, SnapshotInterval: -1, CompactRatio: -1})
	defer closeT(t, s)
	fillKeys(t, s, 0, 1000) // ~333 keys per database: ~8 KB of copy each
	old := releaseMinBytes
	defer func() { releaseMinBytes = old }()
	for _, tc := range []struct {
		min  uintptr
		want uint64
	}{{1 << 20, 0}, {4 << 10, 1}} {
		releaseMinBytes = tc.min
		before := s.releases.Load()
		s.appendMu.Lock()
		s.snapSeq = 0 // write one even though nothing changed
		s.appendMu.Unlock()
		if err := s.snapshot(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for s.releases.Load()-before < tc.want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // an unexpected release would show by now
		for s.releasing.Load() {
			time.Sleep(time.Millisecond)
		}
		if got := s.releases.Load() - before; got != tc.want {
			t.Fatalf("releaseMinBytes %d: %d releases after a snapshot, want %d", tc.min, got, tc.want)
		}
	}
}

// TestSnapshotHugeChainCount: a snapshot (checksum intact) whose entry
// claims 2^32-1 chained operations is refused as truncated before any
// allocation of that size, and Open replays the log instead.
func TestSnapshotHugeChainCount(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096}
	s := openT(t, "/d", opts)
	mustSet(t, s.DB(0), "k", "v", 0)
	closeT(t, s)
	snap, err := readFile(fs, "/d/"+snapName)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint32(snap[8:]) != snapFormatVersion || le.Uint64(snap[snapHeaderSize:]) != 1 {
		t.Fatalf("unexpected snapshot: version %d, %d entries in db 0", le.Uint32(snap[8:]), le.Uint64(snap[snapHeaderSize:]))
	}
	le.PutUint32(snap[snapHeaderSize+16+24:], math.MaxUint32) // the entry's nops
	le.PutUint32(snap[len(snap)-4:], crc32c(snap[:len(snap)-4]))
	if err := writeFileAtomic(fs, "/d/"+snapName, snap); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.WarnLevel)
	s = openT(t, "/d", Options{FS: fs, SegmentSize: 4096, Logger: zap.New(core)})
	defer closeT(t, s)
	if s.Stats().LoadedSnapshot {
		t.Fatal("the snapshot was loaded")
	}
	if !strings.Contains(fmt.Sprint(logs.All()), "truncated") {
		t.Fatalf("no warning saying truncated: %v", logs.All())
	}
	wantGet(t, s.DB(0), "k", "v", 0)
}

// TestSnapshotCaptureBuffers: the capture copies into buffers prepared
// outside appendMu when they have room (keys added in between fit in the
// slack), into new memory when they do not, and no buffers are made when
// nothing was written since the last snapshot.
func TestSnapshotCaptureBuffers(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SnapshotLogBytes: -1, SnapshotInterval: -1, Sync: SyncNo})
	defer closeT(t, s)
	for i := range 1000 {
		mustSet(t, s.DB(0), fmt.Sprint("a", i), "v", 0)
	}
	for i := range 10 {
		mustSet(t, s.DB(2), fmt.Sprint("c", i), "v", 0)
	}
	bufs, ok := s.captureBuffers()
	if !ok || len(bufs) != len(s.dbs) {
		t.Fatalf("captureBuffers() = %d buffers, %v; want %d, true", len(bufs), ok, len(s.dbs))
	}
	if len(bufs[0]) != 0 || cap(bufs[0]) < 1000+1000/8+captureSlack || bufs[1] != nil {
		t.Fatalf("buffers: db 0 len %d cap %d, db 1 %v; want 0, >= %d, nil", len(bufs[0]), cap(bufs[0]), bufs[1], 1000+1000/8+captureSlack)
	}
	// Keys written between the look and the capture: within the slack in
	// db 0, past it in db 2.
	for i := 1000; i < 1100; i++ {
		mustSet(t, s.DB(0), fmt.Sprint("a", i), "v", 0)
	}
	n2 := cap(bufs[2]) + 1
	for i := 10; i < n2; i++ {
		mustSet(t, s.DB(2), fmt.Sprint("c", i), "v", 0)
	}
	s.appendMu.Lock()
	st := s.captureLocked(bufs)
	s.appendMu.Unlock()
	if len(st.dbs[0]) != 1100 || unsafe.SliceData(st.dbs[0]) != unsafe.SliceData(bufs[0]) {
		t.Errorf("db 0: %d slots captured, in the prepared buffer %v; want 1100, true", len(st.dbs[0]), unsafe.SliceData(st.dbs[0]) == unsafe.SliceData(bufs[0]))
	}
	if len(st.dbs[2]) != n2 || unsafe.SliceData(st.dbs[2]) == unsafe.SliceData(bufs[2]) {
		t.Errorf("db 2: %d slots captured, in the too small buffer %v; want %d, false", len(st.dbs[2]), unsafe.SliceData(st.dbs[2]) == unsafe.SliceData(bufs[2]), n2)
	}
	if err := s.snapshot(); err != nil {
		t.Fatal(err)
	}
	if bufs, ok := s.captureBuffers(); ok || bufs != nil {
		t.Fatalf("captureBuffers() after a snapshot with no write since = %d buffers, %v; want none, false", len(bufs), ok)
	}
}
