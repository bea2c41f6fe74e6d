package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// pmdMappedKB returns FilePmdMapped of the mapping that starts at addr in
// /proc/self/smaps (-1 if none does).
func pmdMappedKB(t *testing.T, addr uintptr) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if lo, _, ok := strings.Cut(strings.Fields(line)[0], "-"); ok && !strings.HasSuffix(strings.Fields(line)[0], ":") {
			a, err := strconv.ParseUint(lo, 16, 64)
			in = err == nil && uintptr(a) == addr
			continue
		}
		if in && strings.HasPrefix(line, "FilePmdMapped:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return kb
		}
	}
	return -1
}

// pmdFiles reports whether, here, a file written in whole 2 MiB-aligned
// chunks (as compaction writes) and read through a 2 MiB-aligned mapping is
// mapped with huge entries: the filesystem keeps large folios (ext4 from
// Linux 6.16, XFS) and transparent huge pages are on. Not on tmpfs with
// shmem huge pages off, for one.
func pmdFiles(t *testing.T) bool {
	t.Helper()
	const size = 4 << 20
	f, err := OSFS().OpenFile(filepath.Join(t.TempDir(), "ref"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{1}, 2<<20)
	for off := 0; off < size; off += len(chunk) {
		if _, err := f.WriteAt(chunk, int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := f.Map(size, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	b := m.Bytes()
	var sum byte
	for off := 0; off < size; off += 4096 {
		sum += b[off]
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return sum == size/4096%256 && addr%(2<<20) == 0 && pmdMappedKB(t, addr) > 0
}

// TestRechunk writes a file in small pieces, maps it and rechunks it: the
// contents must read back the same, and where files written in aligned
// 2 MiB chunks get huge mappings (pmdFiles) and this mapping is 2 MiB-
// aligned (as ext4 places large mappings), the file must then be mapped
// with huge entries too.
func TestRechunk(t *testing.T) {
	const size = 8 << 20
	path := filepath.Join(t.TempDir(), "seg")
	f, err := OSFS().OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Allocate(size); err != nil && !errNoFallocate(err) {
		t.Fatal(err)
	}
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i*7 + i>>12)
	}
	for off := 0; off < size; off += 16 << 10 {
		if _, err := f.WriteAt(want[off:off+16<<10], int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := f.Map(size, true)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	b := m.Bytes()
	_ = b[size/2] // map some of it in small pieces first
	if err := rechunk(f.(osFile).File, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("contents changed")
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	kb := pmdMappedKB(t, addr)
	pmd := pmdFiles(t)
	t.Logf("huge folios %v, huge file mappings %v, mapping at %#x, FilePmdMapped %d kB", hugeFolios(), pmd, addr, kb)
	if pmd && addr%(2<<20) == 0 && kb < 2<<10 {
		t.Fatalf("FilePmdMapped %d kB after rechunk, want at least 2048", kb)
	}
}

// TestRechunkUnderLoad runs a store with its background loop (which
// rechunks each segment a rotation seals) while a writer fills several
// segments and readers check every value they read, then checks them all
// again, also after a reopen.
func TestRechunkUnderLoad(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 4 << 20, Sync: SyncNo}
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.appendMu.Lock()
		left := len(s.rechunkQ)
		s.appendMu.Unlock()
		if left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // the loop's pass over the last queue
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
	for i := range n {
		wantGet(t, d, fmt.Sprint("k", i), val(i), 0)
	}
	closeT(t, s)
	s = openT(t, dir, opts)
	defer closeT(t, s)
	for i := range n {
		wantGet(t, s.DB(0), fmt.Sprint("k", i), val(i), 0)
	}
}
