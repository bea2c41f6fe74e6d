package store

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// syncSegment makes every byte written to g durable, by pwrite or through
// its mapping: on Linux the page cache is unified, so fdatasync of the file
// writes back the pages dirtied either way.
func syncSegment(g *segment) error { return g.f.Sync() }

// mapDrops counts dropMapped's madvise calls (tests read it).
var mapDrops atomic.Int64

// dropMapped removes from the page tables the pages of g's mapping that
// hold [lo, hi), bytes flushLocked copied into the mapping, before
// fdatasync writes them back. Writeback must write-protect every page
// table entry that maps a dirty page writable, and it does so one page at
// a time, each with its own TLB flush of every CPU the process runs on
// (folio_mkclean); on a virtual machine each flush is a hypervisor exit,
// and under a stream of small writes the everysec fdatasync spent most of
// its time there (perf/results/hotpath.md, "Writeback's TLB flushes").
// MADV_DONTNEED unmaps the range with one flush: the pages stay in the
// page cache, still dirty, and a later access maps them again. Only
// mappings of real files are touched (MemFS's are process memory, which
// MADV_DONTNEED would zero). Best effort: an error changes nothing but
// the cost.
func dropMapped(g *segment, lo, hi int64) {
	if hi <= lo {
		return
	}
	if _, ok := g.m.(osMapping); !ok {
		return
	}
	page := int64(os.Getpagesize())
	lo &^= page - 1
	hi = min((hi+page-1)&^(page-1), int64(len(g.data)))
	if hi <= lo {
		return
	}
	mapDrops.Add(1)
	_ = unix.Madvise(g.data[lo:hi], unix.MADV_DONTNEED)
}

// populateRead maps the pages of g that hold [lo, hi), in the page cache,
// into g's mapping with one MADV_POPULATE_READ (segment.mapChunk). Only
// mappings of real files are touched. Best effort.
func populateRead(g *segment, lo, hi int64) {
	if _, ok := g.m.(osMapping); ok {
		_ = unix.Madvise(g.data[lo:hi], unix.MADV_POPULATE_READ)
	}
}

// startWriteback starts writing [lo, hi) of g's file to the disk without
// waiting for it (sync_file_range SYNC_FILE_RANGE_WRITE): no durability
// guarantee, only less left for the next fdatasync. Best effort: errors
// (and files not from the OS) are ignored.
func startWriteback(g *segment, lo, hi int64) {
	if f, ok := g.f.(osFile); ok {
		_ = unix.SyncFileRange(int(f.Fd()), lo, hi-lo, unix.SYNC_FILE_RANGE_WRITE)
	}
}
