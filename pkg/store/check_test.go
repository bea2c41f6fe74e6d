package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkT runs Check and fails the test on an error.
func checkT(t *testing.T, fs FS, dir string, fix bool) Report {
	t.Helper()
	var last, total int64 = -1, -1
	rep, err := Check(dir, CheckOptions{FS: fs, Fix: fix, Progress: func(done, tot int64) {
		if done < last || (total >= 0 && tot != total) || done > tot {
			t.Fatalf("progress went %d/%d -> %d/%d", last, total, done, tot)
		}
		last, total = done, tot
	}})
	if err != nil {
		t.Fatalf("Check(fix=%v): %v", fix, err)
	}
	if last != total {
		t.Fatalf("final progress %d/%d", last, total)
	}
	return rep
}

// fillStore writes n distinct keys (one record each) and returns where
// each record went.
func fillStore(t *testing.T, r *rand.Rand, s *Store, prefix string, n int) []writtenRecord {
	t.Helper()
	recs := make([]writtenRecord, n)
	for i := range recs {
		k, v := fmt.Sprintf("%s%d", prefix, i), string(randBytes(r, r.IntN(300)))
		if r.IntN(30) == 0 {
			v = string(randBytes(r, 5000)) // a segment of its own
		}
		mustSet(t, s.DB(0), k, v, 0)
		loc := locOf(t, s.DB(0), k)
		_, size := recordLen(len(k), len(v))
		recs[i] = writtenRecord{k, v, locSeg(loc), locOff(loc), locOff(loc) + size}
	}
	return recs
}

func TestCheckCleanStore(t *testing.T) {
	for _, fs := range []FS{NewMemFS(), OSFS()} {
		dir := "/data"
		if fs == OSFS() {
			dir = t.TempDir()
		}
		s := openT(t, dir, Options{FS: fs, SegmentSize: 4096})
		fillStore(t, rand.New(rand.NewPCG(1, 2)), s, "key-", 300)
		closeT(t, s)
		rep := checkT(t, fs, dir, true)
		if len(rep.Problems) != 0 || !rep.OK() || rep.Records != 300 || rep.Fixed {
			t.Fatalf("Check of a clean store: %+v", rep)
		}
		if _, err := Check(dir, CheckOptions{FS: fs}); err != nil {
			t.Fatal(err)
		}
		s = openT(t, dir, Options{FS: fs})
		if _, err := Check(dir, CheckOptions{FS: fs}); !errors.Is(err, ErrLocked) {
			t.Fatalf("Check of an open store = %v, want ErrLocked", err)
		}
		closeT(t, s)
	}
}

// damage is one injected defect.
type damage struct {
	file     string
	seg      uint32
	off, end int64 // bytes changed; a truncation changes [off, old size)
	truncate bool
	what     string
}

// injectDamage applies a random flip, garbage run or truncation to a
// random segment of dir.
func injectDamage(t *testing.T, r *rand.Rand, fs FS, dir string) damage {
	t.Helper()
	ids, err := listSegments(fs, dir)
	if err != nil {
		t.Fatal(err)
	}
	// A segment an earlier damage truncated to nothing takes no more:
	// the first non-empty one from a random start.
	var (
		id   uint32
		path string
		data []byte
	)
	start := r.IntN(len(ids))
	for k := range ids {
		id = ids[(start+k)%len(ids)]
		path = filepath.Join(dir, segName(id))
		if data, err = readFile(fs, path); err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if len(data) > 0 {
			break
		}
	}
	if len(data) == 0 {
		t.Fatalf("every segment of %s is empty", dir)
	}
	x := r.Int64N(int64(len(data)))
	if r.IntN(3) > 0 { // mostly where the records are
		x = min(x, int64(segHeaderSize)+r.Int64N(2048))
	}
	d := damage{file: path, seg: id, off: x}
	f, err := fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch r.IntN(3) {
	case 0:
		data[x] ^= 1 << r.IntN(8)
		d.end, d.what = x+1, "bit flip"
		_, err = f.WriteAt(data[x:x+1], x)
	case 1:
		d.end = min(x+1+r.Int64N(100), int64(len(data)))
		for i := x; i < d.end; i++ {
			data[i] ^= byte(1 + r.IntN(255))
		}
		d.what = "garbage"
		_, err = f.WriteAt(data[x:d.end], x)
	default:
		d.end, d.truncate, d.what = int64(len(data)), true, "truncation"
		err = f.Truncate(x)
	}
	if err == nil {
		err = f.Sync() // the damage is on disk: crash images keep it
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCheckFindsAndFixesDamage writes a store, closes it, injects up to
// three flips, garbage runs or truncations at random offsets of random
// segments, and checks that Check reports a problem covering each, that
// Open refuses the directory, that Fix keeps exactly the intact records
// (crash-safely: a crash image at any point of the fix reopens to the old
// or the new directory), and that the fixed directory checks clean.
func TestCheckFindsAndFixesDamage(t *testing.T) {
	seed := testSeed(t)
	iters := 150
	if testing.Short() {
		iters = 30
	}
	for iter := range iters {
		r := rand.New(rand.NewPCG(seed, uint64(iter)))
		var fs FS = NewMemFS()
		dir := "/data"
		if iter%50 == 0 { // the OS filesystem too (slower: an fsync per rotation)
			fs, dir = OSFS(), t.TempDir()
		}
		opts := Options{FS: fs, SegmentSize: 4096}
		s := openT(t, dir, opts)
		recs := fillStore(t, r, s, "key-", 50+r.IntN(200))
		closeT(t, s)
		var dmg []damage
		for range 1 + r.IntN(3) {
			dmg = append(dmg, injectDamage(t, r, fs, dir))
		}
		where := fmt.Sprintf("iter %d, damage %+v", iter, dmg)

		rep := checkT(t, fs, dir, false)
		if rep.OK() {
			t.Fatalf("%s: Check found nothing: %+v", where, rep)
		}
		for _, d := range dmg {
			found := false
			for _, p := range rep.Problems {
				if p.File == d.file && p.Offset <= d.off && (d.off < p.Offset+p.Length || d.truncate && d.off <= p.Offset+p.Length) {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s: no problem reported covering %s at %d of %s; problems: %v", where, d.what, d.off, d.file, rep.Problems)
			}
		}
		if _, err := Open(dir, opts); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "offset ") {
			t.Fatalf("%s: Open of the damaged directory = %v, want ErrCorrupt naming file and offset", where, err)
		}

		intact := func(w writtenRecord) bool {
			for _, d := range dmg {
				if d.seg == w.seg && d.off < padded(w.end) && (d.truncate || w.off < d.end) {
					return false
				}
			}
			return true
		}
		wantIntact := func(fs FS, label string) {
			t.Helper()
			s := openT(t, dir, Options{FS: fs})
			defer closeT(t, s)
			n := 0
			for _, w := range recs {
				if intact(w) {
					wantGet(t, s.DB(0), w.key, w.value, 0)
					n++
				} else {
					if _, ok, _ := s.DB(0).Get([]byte(w.key)); ok {
						t.Logf("%s: record %s seg %d [%d,%d)", where, w.key, w.seg, w.off, w.end)
					}
					wantMissing(t, s.DB(0), w.key)
				}
			}
			if s.DB(0).Len() != n {
				t.Fatalf("%s %s: Len %d, want %d", where, label, s.DB(0).Len(), n)
			}
		}

		// Crash images in the middle of the fix (MemFS only).
		var mid []*MemFS
		if m, ok := fs.(*MemFS); ok {
			m.SetHook(func(op, name string) error {
				if r.IntN(5) == 0 {
					mid = append(mid, m.Crash(CrashOptions{Rand: r, Torn: TornSubset, DirKeepUnsynced: 0.3}))
				}
				return nil
			})
		}
		rep = checkT(t, fs, dir, true)
		if m, ok := fs.(*MemFS); ok {
			m.SetHook(nil)
		}
		if !rep.Fixed {
			t.Fatalf("%s: Fix did not rewrite: %+v", where, rep)
		}
		if rep2 := checkT(t, fs, dir, false); len(rep2.Problems) != 0 {
			t.Fatalf("%s: Check after Fix: %v", where, rep2.Problems)
		}
		wantIntact(fs, "after Fix")
		for i, c := range mid {
			label := fmt.Sprintf("crash %d inside Fix", i)
			if s, err := Open(dir, Options{FS: c}); err == nil {
				s.Close() // the switch had happened: the new directory
			} else if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s %s: Open = %v, want success or ErrCorrupt", where, label, err)
			} else { // the old directory: fix again
				checkT(t, c, dir, true)
			}
			wantIntact(c, label)
		}
	}
}

// TestCheckTornTail: after a crash, Check reports the torn tail as such
// (OK: Open handles it) and Fix yields the state Open recovers.
func TestCheckTornTail(t *testing.T) {
	seed := testSeed(t)
	torn := 0
	for iter := range 40 {
		r := rand.New(rand.NewPCG(seed, uint64(iter)))
		fs := NewMemFS()
		s := openT(t, "/data", Options{FS: fs, SegmentSize: 4096, Sync: SyncNo})
		recs := fillStore(t, r, s, "synced-", 20+r.IntN(100))
		s.Sync()
		fillStore(t, r, s, "unsynced-", 20)
		img := fs.Crash(CrashOptions{Rand: r, Torn: TornSubset})
		s.Close()
		img2 := img.Crash(CrashOptions{})
		rep := checkT(t, img, "/data", true)
		if !rep.OK() {
			t.Fatalf("iter %d: Check of a crash image: %v", iter, rep.Problems)
		}
		if len(rep.Problems) > 0 {
			torn++
		}
		a, b := openT(t, "/data", Options{FS: img}), openT(t, "/data", Options{FS: img2})
		if sa, sb := dumpStore(t, a), dumpStore(t, b); !sa.equal(sb) {
			t.Fatalf("iter %d: Fix and Open disagree: %s", iter, sa.diff(sb))
		}
		for _, w := range recs[:20] {
			wantGet(t, a.DB(0), w.key, w.value, 0)
		}
		closeT(t, a)
		closeT(t, b)
	}
	if torn == 0 {
		t.Fatal("no crash image had a torn tail")
	}
}
