package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// writtenMapping writes data to a fresh preallocated file of the OS
// filesystem in pieces of piece bytes, then maps it (writable): the file
// and the mapping are closed and unmapped when t ends.
func writtenMapping(t *testing.T, data []byte, piece int) (File, []byte) {
	t.Helper()
	f, err := OSFS().OpenFile(filepath.Join(t.TempDir(), "seg"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Allocate(int64(len(data))); err != nil && !errNoFallocate(err) {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += piece {
		if _, err := f.WriteAt(data[off:off+piece], int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := f.Map(len(data), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Unmap() })
	return f, m.Bytes()
}

func mappingAddr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// pmdFiles reports whether, here, a file written in whole 2 MiB-aligned
// chunks (as compaction writes) and read through a 2 MiB-aligned mapping is
// mapped with huge entries: the filesystem keeps large folios (ext4 from
// Linux 6.16, XFS) and transparent huge pages are on. Not on tmpfs with
// shmem huge pages off, for one.
func pmdFiles(t *testing.T) bool {
	t.Helper()
	_, b := writtenMapping(t, bytes.Repeat([]byte{1}, 4<<20), 2<<20)
	var sum int
	for off := 0; off < len(b); off += 4096 {
		sum += int(b[off])
	}
	return sum == len(b)/4096 && mappingAddr(b)%(2<<20) == 0 && pmdMappedKB(b) > 0
}

// TestRechunk writes a file in small pieces, maps it and rechunks it: the
// contents must read back the same, and where files written in aligned
// 2 MiB chunks get huge mappings (pmdFiles) and this mapping is 2 MiB-
// aligned (as ext4 places large mappings), the file must then be mapped
// with huge entries too.
func TestRechunk(t *testing.T) {
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i*7 + i>>12)
	}
	f, b := writtenMapping(t, want, 16<<10)
	_ = b[len(b)/2] // map some of it in small pieces first
	if err := rechunk(f.(osFile).File, b, 0, len(b)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("contents changed")
	}
	addr := mappingAddr(b)
	kb := pmdMappedKB(b)
	pmd := pmdFiles(t)
	t.Logf("huge folios %v, huge file mappings %v, mapping at %#x, FilePmdMapped %d kB", hugeFolios(), pmd, addr, kb)
	if pmd && addr%(2<<20) == 0 && kb < 2<<10 {
		t.Fatalf("FilePmdMapped %d kB after rechunk, want at least 2048", kb)
	}
}

// waitRechunked waits (at most 10 s) until compactLoop has taken the
// queue of sealed segments, then for its pass over them.
func waitRechunked(s *Store) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		s.appendMu.Lock()
		left := len(s.rechunkQ)
		s.appendMu.Unlock()
		if left == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
}

// wantKeysAndReopen checks that keys k0..k<n-1> of s hold val(i), then
// closes s, reopens dir with opts and checks them again.
func wantKeysAndReopen(t *testing.T, s *Store, dir string, opts Options, n int, val func(int) string) {
	t.Helper()
	for i := range n {
		wantGet(t, s.DB(0), fmt.Sprint("k", i), val(i), 0)
	}
	closeT(t, s)
	s = openT(t, dir, opts)
	defer closeT(t, s)
	for i := range n {
		wantGet(t, s.DB(0), fmt.Sprint("k", i), val(i), 0)
	}
}

// TestRechunkUnderLoad runs a store with its background loop (which
// rechunks each segment a rotation seals) while a writer fills several
// segments and readers check every value they read, then checks them all
// again, also after a reopen.
func TestRechunkUnderLoad(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 4 << 20, Sync: SyncNo, Rechunk: true}
	s := openT(t, dir, opts)
	d := s.DB(0)
	val := func(i int) string { return fmt.Sprintf("%08d-%s", i, strings.Repeat("v", 1000)) }
	const n = 20000 // about 20 MiB: five sealed segments
	var written atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	bad := make(chan string, 1)
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := r; ; j += 7 {
				select {
				case <-stop:
					return
				default:
				}
				w := int(written.Load())
				if w == 0 {
					continue
				}
				i := j % w
				e, ok, err := d.Get([]byte(fmt.Sprint("k", i)))
				if err != nil || !ok || string(e.Value) != val(i) {
					select {
					case bad <- fmt.Sprintf("k%d: %v %v %q", i, ok, err, abbrev(string(e.Value))):
					default:
					}
					return
				}
			}
		}()
	}
	for i := range n {
		mustSet(t, d, fmt.Sprint("k", i), val(i), 0)
		written.Store(int64(i + 1))
	}
	waitRechunked(s)
	close(stop)
	wg.Wait()
	select {
	case msg := <-bad:
		t.Fatal(msg)
	default:
	}
	if hugeFolios() && s.rechunks.Load() == 0 { // rechunk runs wherever THP is on
		t.Fatalf("no segment rechunked (%d sealed)", s.active.id-1)
	}
	wantKeysAndReopen(t, s, dir, opts, n, val)
}

// TestRechunkStopsWithoutEffect runs a store in /dev/shm where tmpfs
// keeps files in small pages (shmem huge pages "never"): the first
// rechunk finds no huge mapping, and rechunking stops for good (no later
// segment is queued or read back). Elsewhere it checks only that the
// store works there.
func TestRechunkStopsWithoutEffect(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "toonstore-test-")
	if err != nil {
		t.Logf("no /dev/shm (%v): nothing to check", err)
		return
	}
	defer os.RemoveAll(shm)
	b, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/shmem_enabled")
	smallPages := strings.Contains(string(b), "[never]")
	s := openT(t, shm, Options{SegmentSize: 4 << 20, Sync: SyncNo, Rechunk: true})
	defer closeT(t, s)
	d := s.DB(0)
	v := strings.Repeat("v", 1000)
	for i := range 9000 { // two sealed segments
		mustSet(t, d, fmt.Sprint("k", i), v, 0)
	}
	waitRechunked(s)
	for i := 9000; i < 18000; i++ { // two more
		mustSet(t, d, fmt.Sprint("k", i), v, 0)
	}
	waitRechunked(s)
	t.Logf("shmem small pages %v, huge folios %v: %d rechunked, off %v", smallPages, hugeFolios(), s.rechunks.Load(), s.noRechunk.Load())
	if smallPages && hugeFolios() && (s.rechunks.Load() != 1 || !s.noRechunk.Load()) {
		t.Fatalf("%d segments rechunked, off %v: want 1 and off", s.rechunks.Load(), s.noRechunk.Load())
	}
	for i := range 18000 {
		wantGet(t, d, fmt.Sprint("k", i), v, 0)
	}
}

// TestRechunkActiveWhenIdle: once the log stops growing, the chunks of the
// active segment that the write offset has passed are rebuilt too, without
// a rotation; where files get huge mappings (pmdFiles), they are then
// mapped with huge entries. Every value reads back, also after a reopen.
func TestRechunkActiveWhenIdle(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Sync: SyncNo, Rechunk: true} // one 64 MiB segment
	s := openT(t, dir, opts)
	d := s.DB(0)
	val := func(i int) string { return fmt.Sprintf("%08d-%s", i, strings.Repeat("a", 1000)) }
	const n = 6000 // about 6 MiB: two whole chunks at least
	for i := range n {
		mustSet(t, d, fmt.Sprint("k", i), val(i), 0)
	}
	if err := s.FlushWrites(); err != nil {
		t.Fatal(err)
	}
	g := s.active
	want := g.filled.Load() &^ (rechunkChunk - 1)
	var got int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s.compactMu.Lock()
		got = g.rechunked
		s.compactMu.Unlock()
		if got >= want || s.noRechunk.Load() {
			break
		}
	}
	kb, pmd := pmdMappedKB(g.data), pmdFiles(t)
	t.Logf("huge folios %v, huge file mappings %v: rechunked %d of %d, FilePmdMapped %d kB, off %v", hugeFolios(), pmd, got, want, kb, s.noRechunk.Load())
	if g != s.active || g.id != 1 {
		t.Fatalf("segment %d rotated (active %d)", g.id, s.active.id)
	}
	if hugeFolios() && got < want && !s.noRechunk.Load() {
		t.Fatalf("active segment rechunked up to %d, want %d", got, want)
	}
	if pmd && mappingAddr(g.data)%(2<<20) == 0 && kb < int(want>>10) {
		t.Fatalf("FilePmdMapped %d kB after rechunk, want at least %d", kb, want>>10)
	}
	// Only the rebuilt chunks are advised huge pages: the rest of the
	// segment, where the writes go on, is a mapping of its own without.
	if hugeFolios() && got >= want && mappingAddr(g.data)%(2<<20) == 0 {
		head, tail := vmFlags(t, mappingAddr(g.data)), vmFlags(t, mappingAddr(g.data[want:]))
		t.Logf("VmFlags of the rebuilt part %q, of the rest %q", head, tail)
		if !strings.Contains(" "+head+" ", " hg ") || tail == "" || strings.Contains(" "+tail+" ", " hg ") {
			t.Fatalf("rebuilt part VmFlags %q, rest %q: want hg on the rebuilt part only", head, tail)
		}
	}
	wantKeysAndReopen(t, s, dir, opts, n, val)
}

// vmFlags returns the VmFlags of the mapping of this process that starts
// at addr ("" if none starts there).
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	v, _ := smapsField(addr, "VmFlags:")
	return v
}

// TestRechunkOffByDefault: without Options.Rechunk no segment is queued
// or rebuilt, sealed or idle, and the sealed ones keep their small pages.
func TestRechunkOffByDefault(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 4 << 20, Sync: SyncNo})
	defer closeT(t, s)
	d := s.DB(0)
	val := strings.Repeat("v", 1000)
	for i := range 12000 { // about 12 MiB: two sealed segments at least
		mustSet(t, d, fmt.Sprint("k", i), val, 0)
	}
	if err := s.FlushWrites(); err != nil {
		t.Fatal(err)
	}
	// compactLoop's passes (one per compactCheckEvery) would rebuild the
	// sealed segments, and the active one's chunks once it sees the log
	// idle for a pass.
	time.Sleep(3*compactCheckEvery + 500*time.Millisecond)
	s.appendMu.Lock()
	queued := len(s.rechunkQ)
	s.appendMu.Unlock()
	s.compactMu.Lock()
	active := s.active.rechunked
	s.compactMu.Unlock()
	if queued != 0 || s.rechunks.Load() != 0 || active != 0 {
		t.Fatalf("rechunk off: %d queued, %d rebuilt, active rebuilt up to %d", queued, s.rechunks.Load(), active)
	}
	for _, g := range *s.segs.Load() {
		if g != nil && g != s.active {
			if kb := pmdMappedKB(g.data); kb > 0 {
				t.Fatalf("segment %d: FilePmdMapped %d kB", g.id, kb)
			}
		}
	}
}
