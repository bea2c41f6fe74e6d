package store

import (
	"fmt"
	"strings"
	"testing"
)

// mappedKB is the resident size of g's mapping, from /proc/self/smaps.
func mappedKB(t *testing.T, g *segment) int {
	t.Helper()
	kb := smapsKB(g.data, "Rss:")
	if kb < 0 {
		t.Fatalf("segment %d: no mapping in /proc/self/smaps", g.id)
	}
	return kb
}

// writeCopied sets n keys of a 200-byte value, flushing after each: every
// flush is at most smallFlush bytes, so it is copied into the mapping.
func writeCopied(t *testing.T, s *Store, n int) {
	t.Helper()
	val := strings.Repeat("v", 200)
	for i := range n {
		mustSet(t, s.DB(0), fmt.Sprintf("key:%06d", i), val, 0)
		if err := s.FlushWrites(); err != nil {
			t.Fatal(err)
		}
	}
}

// wantCopied checks the n keys writeCopied set.
func wantCopied(t *testing.T, s *Store, n int) {
	t.Helper()
	val := strings.Repeat("v", 200)
	for i := range n {
		wantGet(t, s.DB(0), fmt.Sprintf("key:%06d", i), val, 0)
	}
}

// TestSyncDropsCopiedPages: records copied into the active segment's
// mapping leave its pages mapped writable, and Sync must take them out of
// the page tables before fdatasync (dropMapped), so that writeback does
// not write-protect them one TLB flush at a time. Every record must still
// read back, and survive a reopen.
func TestSyncDropsCopiedPages(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{BufferWrites: true, Sync: SyncNo})
	const n = 2000 // about 500 KiB of records
	writeCopied(t, s, n)
	g := s.active
	before := mappedKB(t, g)
	if before < 256 {
		t.Fatalf("before Sync: %d KiB of the active segment mapped, want the ~500 KiB copied into it", before)
	}
	drops := mapDrops.Load()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if after := mappedKB(t, g); after > 4 {
		t.Errorf("after Sync: %d KiB of the active segment still mapped (%d KiB before)", after, before)
	}
	if mapDrops.Load() == drops {
		t.Error("Sync made no madvise call")
	}
	wantCopied(t, s, n)
	closeT(t, s)
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	wantCopied(t, s, n)
}

// TestRotationDropsCopiedPages: sealing a segment syncs it, and its pages
// copied into the mapping are dropped first in the same way.
func TestRotationDropsCopiedPages(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{BufferWrites: true, Sync: SyncNo, SegmentSize: 128 << 10})
	const n = 2000 // about four segments
	writeCopied(t, s, n)
	sealed := 0
	for _, g := range *s.segs.Load() {
		if g == nil || g == s.active {
			continue
		}
		sealed++
		if kb := mappedKB(t, g); kb > 4 {
			t.Errorf("sealed segment %d: %d KiB still mapped", g.id, kb)
		}
	}
	if sealed < 2 {
		t.Fatalf("%d sealed segments, want several", sealed)
	}
	wantCopied(t, s, n)
	closeT(t, s)
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	wantCopied(t, s, n)
}
