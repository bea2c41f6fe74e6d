package store

import (
	"os"
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
	waitSpare(s)
	s.appendMu.Lock()
	g := <-s.spareCh
	s.spareCh <- g
	s.appendMu.Unlock()
	if g == nil {
		t.Fatal("no segment was prepared")
	}
	page := os.Getpagesize()
	vec := make([]byte, (len(g.data)+page-1)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&g.data[0])), uintptr(len(g.data)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	cold := 0
	for _, v := range vec {
		if v&1 == 0 {
			cold++
		}
	}
	if cold > 0 {
		t.Fatalf("%d of the prepared segment's %d pages are not in the page cache", cold, len(vec))
	}
}
