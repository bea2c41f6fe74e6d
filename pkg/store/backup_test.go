package store

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// gatedWriter passes writes to w, but its first write waits until open is
// closed: a backup is then copying while the test's writers go on.
type gatedWriter struct {
	w    io.Writer
	open <-chan struct{}
	once sync.Once
	hit  chan struct{} // closed at the first write
}

func (g *gatedWriter) Write(b []byte) (int, error) {
	g.once.Do(func() { close(g.hit); <-g.open })
	return g.w.Write(b)
}

// backupWorkload runs writers against s until stop is closed: sets and
// overwrites in several databases, deletes, expiries, collection images
// with chains of operations, id puts and deletes. It returns how many
// operations ran.
func backupWorkload(t *testing.T, s *Store, seed uint64, writers int, stop <-chan struct{}) (*sync.WaitGroup, *atomic.Int64) {
	t.Helper()
	var wg sync.WaitGroup
	var ops atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var ids []ID
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				d := s.DB(r.IntN(3))
				key := fmt.Appendf(nil, "w%d:k%d", w, r.IntN(200))
				var err error
				switch p := r.IntN(100); {
				case p < 55:
					err = d.Set(key, KindString, randBytes(r, r.IntN(300)), 0)
				case p < 62:
					_, err = d.Delete(key)
				case p < 67:
					_, err = d.SetExpire(key, 4_000_000_000_000+int64(r.IntN(1000)))
				case p < 75:
					hk := fmt.Appendf(nil, "w%d:hash%d", w, r.IntN(5))
					if _, err = d.AppendOp(hk, KindHash, fmt.Appendf(nil, "op%d", i)); errors.Is(err, ErrNotFound) || errors.Is(err, ErrWrongKind) {
						err = d.Set(hk, KindHash, fmt.Appendf(nil, "image%d", i), 0)
					}
				case p < 85:
					var id ID
					if id, err = s.Put(randBytes(r, r.IntN(100))); err == nil {
						ids = append(ids, id)
					}
				case len(ids) > 0:
					j := r.IntN(len(ids))
					err = s.Delete(ids[j])
					ids = append(ids[:j], ids[j+1:]...)
				}
				if err != nil {
					t.Errorf("writer %d op %d: %v", w, i, err)
					return
				}
				ops.Add(1)
			}
		}()
	}
	return &wg, &ops
}

// TestBackupPointInTime: a backup taken while writers run (and a
// compaction is asked for) restores to exactly the state at its point in
// time, read under the append lock, and not to any later state.
func TestBackupPointInTime(t *testing.T) {
	seed := testSeed(t)
	dir := t.TempDir()
	var want *mstate
	var s *Store
	h := defaultHooks()
	h.backupCaptured = func() { want = dumpStore(t, s) }
	s, err := open(dir, Options{SegmentSize: 16 << 10, Databases: 3, CompactRatio: -1, RetireGrace: 1}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	stop := make(chan struct{})
	wg, ops := backupWorkload(t, s, seed, 3, stop)
	for ops.Load() < 3000 { // a log of several segments before the backup
		if t.Failed() {
			t.FailNow()
		}
		runtime.Gosched()
	}
	// The first write of the archive waits until the writers did 3000 more
	// operations and a compaction was asked for: all of that runs while
	// the backup copies the log.
	open := make(chan struct{})
	gw := &gatedWriter{w: new(bytes.Buffer), open: open, hit: make(chan struct{})}
	var info BackupInfo
	var berr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		info, berr = s.Backup(gw)
	}()
	<-gw.hit
	base := ops.Load()
	compacted := make(chan error, 1)
	go func() { compacted <- s.Compact() }()
	for ops.Load() < base+3000 && !t.Failed() {
		runtime.Gosched()
	}
	close(open)
	<-done
	close(stop)
	wg.Wait()
	if berr != nil {
		t.Fatalf("Backup: %v", berr)
	}
	if err := <-compacted; err != nil && !errors.Is(err, errCompactAborted) {
		t.Fatalf("Compact during the backup: %v", err)
	}
	after := dumpStore(t, s)
	if want.equal(after) {
		t.Fatal("the writes during the backup changed nothing; the test proves nothing")
	}
	archive := gw.w.(*bytes.Buffer).Bytes()
	t.Logf("backup: %d segments, %d bytes, last sequence %d, %d bytes compressed; %d writes ran during it",
		info.Segments, info.Bytes, info.LastSequence, len(archive), ops.Load()-base)

	if vinfo, err := VerifyBackup(bytes.NewReader(archive)); err != nil || vinfo.LastSequence != info.LastSequence {
		t.Fatalf("VerifyBackup = %+v, %v", vinfo, err)
	}
	rdir := filepath.Join(t.TempDir(), "restored")
	rinfo, err := Restore(bytes.NewReader(archive), rdir, RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if rinfo.LastSequence != info.LastSequence || rinfo.Segments != info.Segments || rinfo.Bytes != info.Bytes {
		t.Fatalf("Restore's info %+v, Backup's %+v", rinfo, info)
	}
	r := openT(t, rdir, Options{SegmentSize: 16 << 10, Databases: 3})
	got := dumpStore(t, r)
	if !want.equal(got) {
		t.Fatalf("restored state differs from the state at the backup's start: %s", want.diff(got))
	}
	// The restored store takes writes (its last segment is full-sized to
	// its data: the first write rotates) and reopens with them.
	mustSet(t, r.DB(0), "after-restore", "yes", 0)
	closeT(t, r)
	r = openT(t, rdir, Options{SegmentSize: 16 << 10, Databases: 3})
	wantGet(t, r.DB(0), "after-restore", "yes", 0)
	closeT(t, r)

	// The archive extracted by hand is an openable directory too.
	xdir := t.TempDir()
	untar(t, archive, xdir)
	x := openT(t, xdir, Options{SegmentSize: 16 << 10, Databases: 3})
	if got := dumpStore(t, x); !want.equal(got) {
		t.Fatalf("hand-extracted state differs: %s", want.diff(got))
	}
	closeT(t, x)
}

// TestRestoreRejectsDamagedBackups: every truncation of a backup, a
// flipped bit, and foreign files are ErrBadBackup, and leave the target
// directory's store as it was.
func TestRestoreRejectsDamagedBackups(t *testing.T) {
	src := t.TempDir()
	s := openT(t, src, Options{SegmentSize: 4 << 10})
	for i := range 200 {
		mustSet(t, s.DB(0), fmt.Sprintf("key%03d", i), strings.Repeat("v", i), 0)
	}
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	closeT(t, s)
	archive := buf.Bytes()

	// An existing store in the target, to see it survive every failure.
	target := t.TempDir()
	s = openT(t, target, Options{})
	mustSet(t, s.DB(0), "old", "store", 0)
	closeT(t, s)

	cases := map[string][]byte{
		"empty":       nil,
		"not gzip":    []byte("REDIS0009 this is an RDB file, not a ToonStore backup"),
		"last byte":   archive[:len(archive)-1],
		"gzip header": archive[:10],
	}
	for _, n := range []int{20, 100, 1000, len(archive) / 3, len(archive) / 2, len(archive) - 40} {
		cases[fmt.Sprintf("truncated at %d", n)] = archive[:n]
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 8; {
		b := bytes.Clone(archive)
		off := 20 + r.IntN(len(b)-30)
		b[off] ^= 1 << r.IntN(8)
		if sameGzipContent(archive, b) {
			// The flip hit bits a decoder ignores (the padding that
			// byte-aligns a flushed deflate block): the file still
			// holds exactly the backup, so it is not damaged. Draw again.
			continue
		}
		cases[fmt.Sprintf("bit flip %d at %d", i, off)] = b
		i++
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := VerifyBackup(bytes.NewReader(b)); !errors.Is(err, ErrBadBackup) {
				t.Fatalf("VerifyBackup: %v, want ErrBadBackup", err)
			}
			_, err := Restore(bytes.NewReader(b), target, RestoreOptions{Force: true})
			if !errors.Is(err, ErrBadBackup) {
				t.Fatalf("Restore: %v, want ErrBadBackup", err)
			}
			t.Logf("%v", err)
			s := openT(t, target, Options{})
			defer closeT(t, s)
			wantGet(t, s.DB(0), "old", "store", 0)
			if n := s.DB(0).Len(); n != 1 {
				t.Fatalf("%d keys in the untouched target, want 1", n)
			}
		})
	}
	if entries, _ := os.ReadDir(target); len(entries) > 5 {
		t.Fatalf("leftover files in the target: %v", entries)
	}

	// Without Force an existing store is refused; with it, replaced.
	if _, err := Restore(bytes.NewReader(archive), target, RestoreOptions{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Restore over a store without Force: %v, want ErrNotEmpty", err)
	}
	if _, err := Restore(bytes.NewReader(archive), target, RestoreOptions{Force: true}); err != nil {
		t.Fatalf("Restore with Force: %v", err)
	}
	s = openT(t, target, Options{})
	defer closeT(t, s)
	wantMissing(t, s.DB(0), "old")
	for i := range 200 {
		wantGet(t, s.DB(0), fmt.Sprintf("key%03d", i), strings.Repeat("v", i), 0)
	}
	// A running store's directory is locked.
	if _, err := Restore(bytes.NewReader(archive), target, RestoreOptions{Force: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Restore into an open store: %v, want ErrLocked", err)
	}
}

// TestRestoreCrashSafe: a crash at any file operation of a Restore that
// replaces a store leaves either the old store or the restored one.
func TestRestoreCrashSafe(t *testing.T) {
	fs := NewMemFS()
	src := openT(t, "/src", Options{FS: fs, SegmentSize: 2 << 10})
	for i := range 60 {
		mustSet(t, src.DB(0), fmt.Sprintf("new%02d", i), strings.Repeat("n", i), 0)
	}
	var buf bytes.Buffer
	if _, err := src.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	closeT(t, src)

	old := openT(t, "/dst", Options{FS: fs, SegmentSize: 2 << 10})
	for i := range 80 {
		mustSet(t, old.DB(0), fmt.Sprintf("old%02d", i), strings.Repeat("o", i), 0)
	}
	closeT(t, old)

	isOld := func(s *Store) bool { _, ok, _ := s.DB(0).Get([]byte("old00")); return ok }
	var images []*MemFS
	fs.SetHook(func(op, name string) error {
		if strings.HasPrefix(name, "/dst") {
			images = append(images, fs.Crash(CrashOptions{}))
		}
		return nil
	})
	if _, err := Restore(bytes.NewReader(buf.Bytes()), "/dst", RestoreOptions{FS: fs, Force: true}); err != nil {
		t.Fatal(err)
	}
	fs.SetHook(nil)
	sawOld, sawNew := false, false
	for i, img := range images {
		s, err := Open("/dst", Options{FS: img, SegmentSize: 2 << 10})
		if err != nil {
			t.Fatalf("crash image %d: Open: %v", i, err)
		}
		if isOld(s) {
			sawOld = true
			if s.DB(0).Len() != 80 {
				t.Fatalf("crash image %d: old store with %d keys, want 80", i, s.DB(0).Len())
			}
		} else {
			sawNew = true
			for j := range 60 {
				wantGet(t, s.DB(0), fmt.Sprintf("new%02d", j), strings.Repeat("n", j), 0)
			}
			if s.DB(0).Len() != 60 {
				t.Fatalf("crash image %d: restored store with %d keys, want 60", i, s.DB(0).Len())
			}
		}
		closeT(t, s)
	}
	if !sawOld || !sawNew {
		t.Fatalf("%d crash images: old seen %v, restored seen %v; want both", len(images), sawOld, sawNew)
	}
}

// TestBackupFile: BackupFile replaces its target atomically, refuses the
// store's own files, and Close stops a backup.
func TestBackupFile(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	mustSet(t, s.DB(0), "a", "1", 0)
	for _, name := range []string{"metadata.toon", "index.toon", "LOCK", "data-000001.toon"} {
		if _, err := s.BackupFile(filepath.Join(dir, name)); !errors.Is(err, ErrBackupTarget) {
			t.Fatalf("BackupFile(%s): %v, want ErrBackupTarget", name, err)
		}
	}
	path := filepath.Join(dir, "dump.rdb")
	info, err := s.BackupFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + tmpSuffix); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, err := VerifyBackup(f); err != nil || v.LastSequence != info.LastSequence || v.LastSequence != 1 {
		t.Fatalf("VerifyBackup = %+v, %v; Backup said %+v", v, err, info)
	}
	closeT(t, s)
	if _, err := s.Backup(io.Discard); !errors.Is(err, ErrClosed) {
		t.Fatalf("Backup after Close: %v", err)
	}
	// The store reopens with the backup file in its directory.
	s = openT(t, dir, Options{})
	wantGet(t, s.DB(0), "a", "1", 0)
	closeT(t, s)

	// Offline: BackupDir opens the directory itself, and a running store's
	// directory is locked.
	out := filepath.Join(t.TempDir(), "offline.tar.gz")
	if _, err := BackupDir(dir, out, Options{}); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	if _, err := BackupDir(dir, out, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("BackupDir of an open store: %v, want ErrLocked", err)
	}
	closeT(t, s)
	rdir := t.TempDir()
	f2, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if _, err := Restore(f2, rdir, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	s = openT(t, rdir, Options{})
	wantGet(t, s.DB(0), "a", "1", 0)
	closeT(t, s)
}

// TestCloseStopsBackup: Close during a backup makes it return ErrClosed
// (and waits for it) rather than unmap under it.
func TestCloseStopsBackup(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 64 << 10})
	for i := range 2000 {
		mustSet(t, s.DB(0), fmt.Sprintf("k%d", i), strings.Repeat("x", 100), 0)
	}
	open := make(chan struct{})
	gw := &gatedWriter{w: io.Discard, open: open, hit: make(chan struct{})}
	done := make(chan error, 1)
	go func() { _, err := s.Backup(gw); done <- err }()
	<-gw.hit
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for !s.closed.Load() {
		runtime.Gosched()
	}
	close(open)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Backup during Close: %v, want ErrClosed", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// untar extracts a backup archive into dir as tar(1) would.
func untar(t *testing.T, archive []byte, dir string) {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, h.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sameGzipContent reports whether b decompresses, without error, to exactly
// what a does.
func sameGzipContent(a, b []byte) bool {
	unzip := func(x []byte) ([]byte, error) {
		zr, err := gzip.NewReader(bytes.NewReader(x))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	ua, errA := unzip(a)
	ub, errB := unzip(b)
	return errA == nil && errB == nil && bytes.Equal(ua, ub)
}
