package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// waitSpare waits until the segment a rotation asked for is prepared.
func waitSpare(s *Store) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.spareID != 0 {
		g := <-s.spareCh
		s.spareCh <- g
	}
}

// wantPresent fails with why unless every key is in d.
func wantPresent(t *testing.T, d *DB, keys []string, why string) {
	t.Helper()
	for _, k := range keys {
		if _, ok, err := d.Get([]byte(k)); !ok || err != nil {
			t.Fatalf("%s (%v): %s", k, err, why)
		}
	}
}

// headerFlags reads the header flags of segment id in dir (fs nil: the OS).
func headerFlags(t *testing.T, fs FS, dir string, id uint32) uint32 {
	t.Helper()
	if fs == nil {
		fs = OSFS()
	}
	b, err := readFile(fs, filepath.Join(dir, segName(id)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := checkSegHeader(b, id)
	if err != nil {
		t.Fatalf("%s: %v", segName(id), err)
	}
	return f
}

// sealBlocked opens a store in dir whose fdatasync of segment 1 waits
// until the returned release is called, and fills several 4 KiB segments.
// It returns the keys written, in order.
func sealBlocked(t *testing.T, dir string, opts Options) (*Store, []string, func()) {
	t.Helper()
	h := defaultHooks()
	release := make(chan struct{})
	var entered atomic.Int32
	var armed atomic.Bool // after Open, which syncs segment 1 too
	h.sync = func(g *segment) error {
		if g.id == 1 && armed.Load() {
			entered.Add(1)
			<-release
		}
		return syncSegment(g)
	}
	opts.SegmentSize, opts.CompactRatio = 4096, -1
	s, err := open(dir, opts, h)
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	var keys []string
	for i := range 120 {
		k := fmt.Sprintf("key-%03d", i)
		mustSet(t, s.DB(0), k, strings.Repeat(string(rune('a'+i%26)), 100), 0)
		keys = append(keys, k)
	}
	for deadline := time.Now().Add(10 * time.Second); entered.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("segment 1 was never sealed")
		}
		time.Sleep(time.Millisecond)
	}
	var once atomic.Bool
	return s, keys, func() {
		if once.CompareAndSwap(false, true) {
			close(release)
		}
	}
}

// writeMore writes n more keys of 100 bytes (about 26 records to a 4 KiB
// segment) and returns them in order.
func writeMore(t *testing.T, s *Store, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("more-%03d", i)
		mustSet(t, s.DB(0), keys[i], strings.Repeat("m", 100), 0)
	}
	return keys
}

// TestRotationSealsInBackground: with the policies everysec and no, the
// writer never waits for a rotation's fdatasync: writes went on through
// several rotations while segment 1's seal was blocked, every segment
// written since is flagged, and no compaction takes them. Once the seal
// finishes, the flags go; after Close no header has flags left (older
// builds read such a directory) and no prepared segment is left behind.
func TestRotationSealsInBackground(t *testing.T) {
	for _, pol := range []SyncPolicy{SyncEverySec, SyncNo} {
		t.Run(fmt.Sprint("policy=", pol), func(t *testing.T) {
			fs := NewMemFS()
			s, keys, release := sealBlocked(t, "/d", Options{FS: fs, Sync: pol})
			defer release()
			s.appendMu.Lock()
			active := s.active.id
			unsealed := len(s.unsealed)
			first := s.unsealed[0].id
			s.appendMu.Unlock()
			if active < 4 || first != 1 || unsealed != int(active-1) {
				t.Fatalf("active segment %d, %d unsealed from %d; want several rotations, all unsealed from 1", active, unsealed, first)
			}
			for id := uint32(2); id <= active; id++ {
				if headerFlags(t, fs, "/d", id) != segFlagPredUnsealed {
					t.Fatalf("segment %d is not flagged while segment 1 is unsealed", id)
				}
			}
			release()
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			for id := uint32(1); id <= active; id++ {
				if f := headerFlags(t, fs, "/d", id); f != 0 {
					t.Fatalf("segment %d keeps flags %#x after the seals", id, f)
				}
			}
			if n := len(s.unsealed); n != 0 {
				t.Fatalf("%d segments still unsealed after Sync", n)
			}
			closeT(t, s)
			ids, err := listSegments(fs, "/d")
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if f := headerFlags(t, fs, "/d", id); f != 0 {
					t.Fatalf("segment %d has flags %#x after Close", id, f)
				}
			}
			r := openT(t, "/d", Options{FS: fs})
			if int(ids[len(ids)-1]) != int(r.active.id) {
				t.Fatalf("segments %v after Close, active %d on reopen: a prepared segment was left", ids, r.active.id)
			}
			wantPresent(t, r.DB(0), keys, "lost")
			closeT(t, r)
		})
	}
}

// TestCompactSkipsUnsealed: a compaction seals what rotations left
// unsealed before it chooses what to rewrite; while a seal cannot
// finish, it waits rather than rewrite a segment that may still be torn.
func TestCompactSkipsUnsealed(t *testing.T) {
	fs := NewMemFS()
	s, _, release := sealBlocked(t, "/d", Options{FS: fs, Sync: SyncNo})
	defer release()
	done := make(chan error, 1)
	go func() { done <- s.Compact() }()
	select {
	case err := <-done:
		t.Fatalf("Compact returned (%v) while segment 1's seal was blocked", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Compactions != 1 {
		t.Fatalf("Compactions = %d, want 1", st.Compactions)
	}
	closeT(t, s)
}

// unsealedImage makes a crash image (the page cache's view, copyDir) of a
// store on disk whose segment 1 was never sealed while later segments took
// records; damage, if set, edits the image's segment 1 (the records at and
// after the byte offset it returns are lost). It returns the image, the
// keys, and for each key its segment and the end of its record.
func unsealedImage(t *testing.T, damage func(path string) int64) (string, []writtenRecord, int64) {
	t.Helper()
	dir := t.TempDir()
	s, keys, release := sealBlocked(t, dir, Options{Sync: SyncNo})
	recs := make([]writtenRecord, len(keys))
	for i, k := range keys {
		loc := locOf(t, s.DB(0), k)
		_, size := recordLen(len(k), 100)
		recs[i] = writtenRecord{k, "", locSeg(loc), locOff(loc), locOff(loc) + size}
	}
	img := copyDir(t, dir)
	release()
	closeT(t, s)
	return img, recs, damage(filepath.Join(img, segName(1)))
}

// wantCutAt checks a reopened image: the records of segment 1 that end
// at or before cut are back, nothing after them is.
func wantCutAt(t *testing.T, r *Store, recs []writtenRecord, cut int64) {
	t.Helper()
	back := 0
	for _, rec := range recs {
		_, ok, err := r.DB(0).Get([]byte(rec.key))
		want := rec.seg == 1 && rec.end <= cut
		if err != nil || ok != want {
			t.Fatalf("%s (segment %d, end %d): present %v, want %v (cut at %d)", rec.key, rec.seg, rec.end, ok, want, cut)
		}
		if ok {
			back++
		}
	}
	if back == 0 || back == len(recs) {
		t.Fatalf("%d of %d keys back: the test cut nothing or everything", back, len(recs))
	}
}

// TestOpenCutsAfterUnsealedSegment: a crash while segment 1 was unsealed
// and later segments held records. Its torn tail (bytes changed), or
// records missing at its end (a gap in the numbering where the next
// segment starts), end the log there: Open drops what follows, Check
// reports the same as torn tails, and the store goes on. If the successor
// is not flagged, the same damage is corruption.
func TestOpenCutsAfterUnsealedSegment(t *testing.T) {
	lastRecord := func(path string) (data []byte, off int64) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		off = segHeaderSize
		for {
			_, _, _, size, st, _ := decodeRecord(data[off:])
			if st != recOK || off+size >= int64(len(data)) {
				t.Fatal("segment 1 is not a run of records")
			}
			if _, _, _, _, st2, _ := decodeRecord(data[off+size:]); st2 != recOK {
				return data, off
			}
			off += size
		}
	}
	torn := func(path string) int64 {
		data, off := lastRecord(path)
		data[off+recHeaderSize+3] ^= 0xff
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return off
	}
	lost := func(path string) int64 {
		data, off := lastRecord(path)
		clear(data[off:])
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return off
	}
	for name, damage := range map[string]func(string) int64{"torn": torn, "lost": lost} {
		t.Run(name, func(t *testing.T) {
			img, recs, cut := unsealedImage(t, damage)
			rep, err := Check(img, CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) == 0 {
				t.Fatal("Check found nothing")
			}
			for _, p := range rep.Problems {
				if p.Kind != ProblemTornTail {
					t.Fatalf("Check: %v", rep.Problems)
				}
			}
			r := openT(t, img, Options{})
			wantCutAt(t, r, recs, cut)
			if st := r.Stats(); st.TruncatedTail == 0 {
				t.Fatal("TruncatedTail = 0")
			}
			mustSet(t, r.DB(0), "after", "x", 0)
			closeT(t, r)
			r = openT(t, img, Options{})
			wantCutAt(t, r, recs, cut)
			wantGet(t, r.DB(0), "after", "x", 0)
			closeT(t, r)
			if rep := checkT(t, OSFS(), img, false); len(rep.Problems) != 0 {
				t.Fatalf("Check after the repair: %v", rep.Problems)
			}
		})
	}
	t.Run("successor not flagged", func(t *testing.T) {
		img, _, _ := unsealedImage(t, torn)
		f, err := os.OpenFile(filepath.Join(img, segName(2)), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(encodeSegHeader(2, 0), 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := Open(img, Options{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open = %v, want ErrCorrupt", err)
		}
	})
}

// TestOpenRepairsUnwrittenSegment: segments made without fsyncs may come
// back from a crash without a header (all zeros, or shorter than one).
// After an unclean shutdown, when only such or flagged segments follow,
// Open empties them (the log ends before them: nothing in them was ever
// synced); anywhere else, or after a clean shutdown, it is corruption.
func TestOpenRepairsUnwrittenSegment(t *testing.T) {
	setup := func(t *testing.T) (string, *Store, uint32) {
		dir := t.TempDir()
		s := openT(t, dir, Options{SegmentSize: 4096, Sync: SyncNo, CompactRatio: -1})
		for i := range 120 {
			mustSet(t, s.DB(0), fmt.Sprintf("key-%03d", i), strings.Repeat("v", 100), 0)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		return dir, s, s.active.id
	}
	// inSeg tells, for each key, whether its record is in segment id.
	inSeg := func(t *testing.T, s *Store, id uint32) map[string]bool {
		m := map[string]bool{}
		for i := range 120 {
			k := fmt.Sprintf("key-%03d", i)
			m[k] = locSeg(locOf(t, s.DB(0), k)) == id
		}
		return m
	}
	for _, short := range []bool{false, true} {
		t.Run(fmt.Sprint("truncated=", short), func(t *testing.T) {
			dir, s, active := setup(t)
			mustSet(t, s.DB(0), "unsynced", "x", 0)
			lost := inSeg(t, s, active)
			img := copyDir(t, dir)
			closeT(t, s)
			path := filepath.Join(img, segName(active))
			if short {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			} else {
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt(make([]byte, segHeaderSize), 0)
				f.Close()
			}
			rep := checkT(t, OSFS(), img, false)
			if len(rep.Problems) == 0 || rep.Problems[0].Kind != ProblemTornTail {
				t.Fatalf("Check: %v", rep.Problems)
			}
			r := openT(t, img, Options{})
			wantMissing(t, r.DB(0), "unsynced")
			n := 0
			for k, gone := range lost {
				if _, ok, _ := r.DB(0).Get([]byte(k)); ok == gone {
					t.Fatalf("%s: present %v, want %v", k, ok, !gone)
				}
				if gone {
					n++
				}
			}
			if n == 0 {
				t.Fatal("no key was in the emptied segment")
			}
			if r.active.id < active { // the repaired one, or a prepared one after it
				t.Fatalf("active segment %d, want at least %d", r.active.id, active)
			}
			mustSet(t, r.DB(0), "after", "y", 0)
			closeT(t, r)
			r = openT(t, img, Options{})
			wantGet(t, r.DB(0), "after", "y", 0)
			closeT(t, r)
		})
	}
	t.Run("followed by a valid segment", func(t *testing.T) {
		dir, s, active := setup(t)
		img := copyDir(t, dir)
		closeT(t, s)
		f, err := os.OpenFile(filepath.Join(img, segName(active-2)), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt(make([]byte, segHeaderSize), 0)
		f.Close()
		if _, err := Open(img, Options{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open = %v, want ErrCorrupt", err)
		}
	})
	t.Run("clean shutdown", func(t *testing.T) {
		dir, s, active := setup(t)
		closeT(t, s)
		if err := os.Truncate(filepath.Join(dir, segName(active)), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open = %v, want ErrCorrupt", err)
		}
	})
}

// TestSegHeaderFlags: a header without flags is the first format's, byte
// for byte; flags are covered by their own checksum; unknown flags are
// refused.
func TestSegHeaderFlags(t *testing.T) {
	h := encodeSegHeader(7, 0)
	if !allZero(h[20:]) {
		t.Fatalf("header without flags: % x", h)
	}
	if f, err := checkSegHeader(h, 7); err != nil || f != 0 {
		t.Fatalf("checkSegHeader = %d, %v", f, err)
	}
	h = encodeSegHeader(7, segFlagPredUnsealed)
	if f, err := checkSegHeader(h, 7); err != nil || f != segFlagPredUnsealed {
		t.Fatalf("checkSegHeader = %d, %v", f, err)
	}
	bad := append([]byte(nil), h...)
	bad[20] = 0x03
	if _, err := checkSegHeader(bad, 7); err == nil {
		t.Fatal("flags changed without their checksum: accepted")
	}
	bad = append([]byte(nil), h...)
	bad[24] ^= 1
	if _, err := checkSegHeader(bad, 7); err == nil {
		t.Fatal("bad flags checksum accepted")
	}
	bad = encodeSegHeader(7, 0x02)
	if _, err := checkSegHeader(bad, 7); err == nil {
		t.Fatal("unknown flag accepted")
	}
	bad = append([]byte(nil), h...)
	bad[30] = 1
	if _, err := checkSegHeader(bad, 7); err == nil {
		t.Fatal("non-zero reserved bytes accepted")
	}
}

// TestSyncSealsRotationsMeanwhile: a Sync covers every write made before
// it was called, also when the segment that was active then is rotated
// while it seals older ones (the event loop writes on while the syncer
// works): a crash image taken when it returns, with only what was synced,
// has them all.
func TestSyncSealsRotationsMeanwhile(t *testing.T) {
	fs := NewMemFS()
	h := defaultHooks()
	release := make(chan struct{})
	var armed atomic.Bool
	h.sync = func(g *segment) error {
		if armed.Load() && g.id == 1 {
			<-release
		}
		return syncSegment(g)
	}
	s, err := open("/d", Options{FS: fs, SegmentSize: 4096, Sync: SyncNo, CompactRatio: -1}, h)
	if err != nil {
		t.Fatal(err)
	}
	// Only this test's Sync seals: stop the background syncer (Close
	// finds its channels done).
	close(s.stopBG)
	<-s.bgDone
	s.stopBG, s.bgDone = make(chan struct{}), make(chan struct{})
	close(s.bgDone)
	armed.Store(true)
	set := func(prefix string, n int) (keys []string) {
		for i := range n {
			k := fmt.Sprintf("%s-%03d", prefix, i)
			mustSet(t, s.DB(0), k, strings.Repeat("v", 100), 0)
			keys = append(keys, k)
		}
		return keys
	}
	keys := set("key", 40)
	done := make(chan error, 1)
	go func() { done <- s.Sync() }()
	time.Sleep(20 * time.Millisecond) // Sync is sealing segment 1
	s.appendMu.Lock()
	before := s.active.id
	s.appendMu.Unlock()
	set("more", 60) // during the Sync: not covered
	s.appendMu.Lock()
	after := s.active.id
	s.appendMu.Unlock()
	if after <= before+1 {
		t.Fatalf("active segment %d -> %d: the test needs rotations while Sync seals", before, after)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	img := fs.Crash(CrashOptions{})
	closeT(t, s)
	r := openT(t, "/d", Options{FS: img})
	wantPresent(t, r.DB(0), keys, "written before Sync was called, is not in the crash image")
	closeT(t, r)
}

// TestUnsealedBacklogBounded: when seals fall behind (here segment 1's
// never finishes), at most maxUnsealed segments wait with records not
// synced; later rotations sync their predecessor on the writer's path, as
// Redis's everysec delays writes behind a slow fsync. Those segments stay
// queued, and their successors flagged, until the seals before them are
// done (TestCrashWithUnsealedBacklog).
func TestUnsealedBacklogBounded(t *testing.T) {
	fs := NewMemFS()
	s, _, release := sealBlocked(t, "/d", Options{FS: fs, Sync: SyncNo})
	defer release()
	writeMore(t, s, 400)
	s.appendMu.Lock()
	active, n, unsynced := s.active.id, len(s.unsealed), 0
	for _, p := range s.unsealed {
		if p.synced < p.written {
			unsynced++
		}
	}
	s.appendMu.Unlock()
	if unsynced > maxUnsealed || active <= maxUnsealed+2 {
		t.Fatalf("%d of %d unsealed segments hold unsynced records with segment %d active; want at most %d, and more rotations",
			unsynced, n, active, maxUnsealed)
	}
	release()
	closeT(t, s)
}

// TestCrashWithUnsealedBacklog: a crash while a seal is stuck on the disk
// and the backlog made the writer seal on its own path. Segment 1's
// fdatasync waits, so segments 2 and on were made without a durable
// header; the rotations after maxUnsealed sync their predecessor on the
// writer's path, but their headers must stay flagged while older
// segments are unsealed: an unflagged header tells recovery the log
// before it is intact, and Open then failed on the first segment without
// a header ("bad segment magic"). Open of the crash image must succeed
// with a prefix of the writes, and the flags go once the seals catch up.
func TestCrashWithUnsealedBacklog(t *testing.T) {
	fs := NewMemFS()
	s, keys, release := sealBlocked(t, "/d", Options{FS: fs, Sync: SyncNo})
	defer release()
	keys = append(keys, writeMore(t, s, 400)...)
	s.appendMu.Lock()
	active := s.active.id
	s.appendMu.Unlock()
	if active <= maxUnsealed+2 {
		t.Fatalf("segment %d active: the backlog never made the writer seal", active)
	}
	img := fs.Crash(CrashOptions{})
	for id := uint32(2); id <= active; id++ {
		if f := headerFlags(t, fs, "/d", id); f == 0 {
			t.Errorf("segment %d unflagged while segment 1 is unsealed", id)
		}
	}
	c, err := Open("/d", Options{FS: img, CompactRatio: -1})
	if err != nil {
		t.Fatalf("Open of the crash image: %v", err)
	}
	n := 0
	for n < len(keys) {
		if _, ok, _ := c.DB(0).Get([]byte(keys[n])); !ok {
			break
		}
		n++
	}
	for _, k := range keys[n:] {
		if _, ok, _ := c.DB(0).Get([]byte(k)); ok {
			t.Fatalf("the crash image holds %s but not %s: not a prefix of the writes", k, keys[n])
		}
	}
	closeT(t, c)
	release()
	closeT(t, s)
	for id := uint32(1); id <= active; id++ {
		if f := headerFlags(t, fs, "/d", id); f != 0 {
			t.Errorf("segment %d still flagged after Close", id)
		}
	}
}
