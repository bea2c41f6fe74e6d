package store

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The prepared segment's pages are in the page cache before the writer
// reaches them: a fresh preallocated file has none there (but the
// header's) until warmSpare reads them in.
func TestSpareIsWarmed(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 2 * warmChunk, CompactRatio: -1})
	defer closeT(t, s)
	rotateOnce(t, s)
	g := waitSpare(s)
	if g == nil {
		t.Fatal("no segment was prepared")
	}
	if cold, pages := notResident(t, g.data); cold > 0 {
		if !readaheadFills(t) && os.Getenv("CI") == "" { // CI's /tmp is a disk's
			t.Skip("this filesystem does not read unwritten blocks ahead (tmpfs?): nothing to warm")
		}
		t.Fatalf("%d of the prepared segment's %d pages are not in the page cache", cold, pages)
	}
}

// notResident counts the pages of the mapping b that are not in the page
// cache (mincore).
func notResident(t *testing.T, b []byte) (cold, pages int) {
	t.Helper()
	page := os.Getpagesize()
	vec := make([]byte, (len(b)+page-1)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	for _, v := range vec {
		if v&1 == 0 {
			cold++
		}
	}
	return cold, len(vec)
}

// readaheadFills reports whether warmRange fills the page cache for a
// preallocated file in the test's temporary directory (a control for
// filesystems without readahead, such as tmpfs).
func readaheadFills(t *testing.T) bool {
	t.Helper()
	fs := OSFS()
	f, err := fs.OpenFile(filepath.Join(t.TempDir(), "control"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Allocate(warmChunk); err != nil {
		t.Fatal(err)
	}
	m, err := f.Map(warmChunk, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	g := &segment{f: f, m: m, data: m.Bytes()}
	warmRange(g, 0, warmChunk)
	cold, _ := notResident(t, g.data)
	return cold == 0
}
