package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
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

// wantCopiedAndReopen checks the n keys writeCopied set, closes s, and
// checks them again in the store reopened from dir.
func wantCopiedAndReopen(t *testing.T, s *Store, dir string, n int) {
	t.Helper()
	wantCopied(t, s, n)
	closeT(t, s)
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	wantCopied(t, s, n)
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
	wantCopiedAndReopen(t, s, dir, n)
}

// TestRotationDropsCopiedPages: sealing a segment syncs it, and its pages
// copied into the mapping are dropped first in the same way. The seals
// run on the background syncer after the rotations: the test waits for
// them.
func TestRotationDropsCopiedPages(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{BufferWrites: true, Sync: SyncNo, SegmentSize: 128 << 10})
	const n = 2000 // about four segments
	writeCopied(t, s, n)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.appendMu.Lock()
		pending := len(s.unsealed)
		s.appendMu.Unlock()
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rotated segments still unsealed after 10 s", pending)
		}
	}
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
	wantCopiedAndReopen(t, s, dir, n)
}

// TestReadMapsWholeChunk: records written with pwrite are in the page
// cache but in no page table; the first read in a fully written 2 MiB
// chunk maps the whole chunk with one call (segment.mapChunk), later reads
// in it make none, and a read in the chunk still being written maps only
// what its page fault maps.
func TestReadMapsWholeChunk(t *testing.T) {
	s := openT(t, t.TempDir(), Options{BufferWrites: true, Sync: SyncNo, SegmentSize: 16 << 20})
	defer closeT(t, s)
	const n = 5000 // 1056-byte records: about 5.3 MiB, chunks 0 and 1 full, chunk 2 not
	val := strings.Repeat("v", 1000)
	for i := range n {
		mustSet(t, s.DB(0), fmt.Sprintf("key:%06d", i), val, 0)
		if i%50 == 49 {
			if err := s.FlushWrites(); err != nil { // about 52 KiB: one pwrite
				t.Fatal(err)
			}
		}
	}
	if err := s.FlushWrites(); err != nil {
		t.Fatal(err)
	}
	g := s.active
	if g.filled.Load() < 4<<20 || g.filled.Load() >= 6<<20 {
		t.Fatalf("records end at %d, want within chunk 2", g.filled.Load())
	}
	read := func(i int) (calls int64, grewKB int) {
		t.Helper()
		c0, kb0 := mapChunkCalls.Load(), mappedKB(t, g)
		wantGet(t, s.DB(0), fmt.Sprintf("key:%06d", i), val, 0)
		return mapChunkCalls.Load() - c0, mappedKB(t, g) - kb0
	}
	if calls, grew := read(100); calls != 1 || grew < 2000 {
		t.Errorf("first read in chunk 0: %d mappings, %d KiB newly mapped; want 1 and the whole 2 MiB chunk", calls, grew)
	}
	if calls, _ := read(1500); calls != 0 {
		t.Errorf("second read in chunk 0: %d mappings, want 0", calls)
	}
	if calls, grew := read(4990); calls != 0 || grew >= 2000 {
		t.Errorf("read in chunk 2, still being written: %d mappings, %d KiB newly mapped; want none and a page fault's worth", calls, grew)
	}
	if calls, grew := read(3000); calls != 1 || grew < 2000 {
		t.Errorf("first read in chunk 1: %d mappings, %d KiB newly mapped; want 1 and the whole chunk", calls, grew)
	}
	for i := range n {
		wantGet(t, s.DB(0), fmt.Sprintf("key:%06d", i), val, 0)
	}
}
