package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"
)

// The write buffer.
//
// Appends encode their records into a write buffer in process memory, not
// into the mapping, and a flush copies what accumulated to the active
// segment's file: one pwrite, or, for a flush of at most smallFlush bytes,
// a copy into the mapping. On Linux the page cache is unified, so the
// mapping shows what pwrite wrote as soon as it returns; what the file
// holds after a crash is the same either way.
//
// Why not copy every record into the shared writable mapping, as the
// engine once did: every page of the log then has to be faulted in
// writable (the filesystem zero-fills it first) and, each time the kernel
// writes it back, write-protected again, which flushes the TLB of every CPU
// running the process. On a virtual machine both are hypervisor exits; they
// were over a third of the server's CPU time under a stream of 1 KiB SETs
// (perf/results/hotpath.md, "Writing the log with pwrite"). pwrite fills
// whole pages without a fault and never maps them writable.
//
// There is one buffer, reused from its start after every flush (so the
// bytes a burst writes stay in the CPU's caches and no memory is freshly
// allocated). Readers find a record (segSet.record) below segment.filled,
// the flushed offset, in the mapping. Above it the record is in the buffer,
// and who reads it there depends on the caller:
//
//   - A writer (the holder of appendMu) reads it in place: it reads the
//     segments through Store.wview, whose entry for the active segment is
//     an alias marked writer, and the buffer cannot change under it.
//   - Any other reader gets a copy, taken under wbuf.mu, unless a flush
//     got there first. The buffer's start moves (and its bytes are
//     reused) only under wbuf.mu, after the flush stored filled: so a
//     reader either copies intact bytes or, seeing the new start past its
//     record, finds it in the mapping. A reader never holds a slice of the
//     buffer. wbuf.mu is a plain mutex, not a read-write one: the writer
//     takes it at every merge (merge.go) and copying readers are rare, and
//     an uncontended Mutex costs two atomic operations to RWMutex's four
//     (BenchmarkAppendOpMerged about 72 -> 57 ns).
//
// When records reach the file: with Options.BufferWrites unset, at once
// (every append flushes); with it set, at FlushWrites (the server calls it
// before any reply leaves, so no acknowledged write is only in process
// memory), at Sync, at rotation, Backup and Close. Until then a kill
// loses them, as it would lose a write still in a socket buffer.
type wbuf struct {
	mu   sync.Mutex // held by the appendMu holder to move base, replace buf or change a buffered record; by copying readers to copy
	id   uint32     // the segment the buffered records belong to (0: none yet)
	base int64      // segment offset of buf[0]
	buf  []byte     // [0, write offset - base) holds records
	// small is the buffer of wbufSize set aside while a larger record has
	// a buffer of its own: it is back in use after that record's flush,
	// so the next records do not fault in a fresh megabyte.
	small []byte
}

const (
	// wbufSize is the size of the write buffer (a record larger than this
	// gets a buffer of its own size until it is flushed).
	wbufSize = 1 << 20
	// smallFlush is the largest flush that is copied into the mapping
	// rather than written with pwrite: below it the system call costs more
	// than the page faults the copy may take.
	smallFlush = 2 << 10
)

// reserveLocked returns the size bytes of write buffer at the log's end
// (offset s.woff of the active segment g) for a record to be encoded
// into. It flushes first when the record does not fit. The caller holds
// appendMu.
func (s *Store) reserveLocked(g *segment, size int64) []byte {
	s.sealOpen() // a record after it: no merge may grow it any more
	w := &s.wb
	if w.id != g.id || s.woff+size > w.base+int64(len(w.buf)) {
		_ = s.flushLocked() // a failure is the store's now; the next flush of the writer's batch reports it
		w.mu.Lock()
		w.id, w.base = g.id, s.woff
		switch {
		case size <= int64(len(w.buf)):
		case size <= wbufSize:
			w.buf = make([]byte, wbufSize)
		default:
			// A large record (a large SET's value; a fold's image is
			// streamed instead, streamLocked): a buffer of its size, on
			// huge pages from 4 MiB (hugeSlice). Its first touch faulted
			// in 4 KiB at a time was most of the cost of folding a list
			// of millions of elements (hotpath.md, "Compaction's lists of
			// moved entries").
			if len(w.buf) == wbufSize {
				w.small = w.buf
			}
			w.buf = hugeSlice[byte](int(size))[:size]
		}
		w.mu.Unlock()
	}
	return w.buf[s.woff-w.base : s.woff-w.base+size]
}

// flushLocked copies the buffered records of the active segment to its
// file and starts the buffer again at the write offset. A failed pwrite
// falls back to copying into the mapping (the page cache, as a successful
// one would have) and turns the store read-only, as a failed fsync does:
// the next fsync reports the device's state. It returns that failure
// (ErrReadOnly wrapping it) when this flush's pwrite failed, so that the
// writes it carried are not acknowledged. The caller holds appendMu.
func (s *Store) flushLocked() (err error) {
	s.sealOpen()
	g, w := s.active, &s.wb
	from := g.filled.Load()
	if w.id != g.id || s.woff <= from {
		return nil
	}
	p := w.buf[from-w.base : s.woff-w.base]
	if len(p) <= smallFlush && !s.opts.pwriteOnly {
		copy(g.data[from:], p)
		g.noteMapped(from, s.woff)
	} else if _, werr := writeFlush(g.f, p, from); werr != nil {
		copy(g.data[from:], p) // s.fail logs the error
		g.noteMapped(from, s.woff)
		err = s.fail(fmt.Errorf("store: write %s (the records were copied into its mapping instead): %w", g.path, werr)).ro
	}
	g.filled.Store(s.woff)
	s.kickLocked(g, s.woff)
	w.mu.Lock()
	w.base = s.woff
	if len(w.buf) > wbufSize {
		w.buf, w.small = w.small, nil // drop a large record's own buffer
	}
	w.mu.Unlock()
	s.unflushed.Store(0)
	return err
}

// heldWriter is a File that can write without handing the calling
// goroutine's processor to another thread for the system call (osFile:
// pwriteHeld).
type heldWriter interface {
	writeAtHeld(p []byte, off int64) (int, error)
}

// maxHeldFlush is the largest flush written with writeAtHeld: a round of
// an event loop at pipeline 64 with 50 connections writing 1 KiB values
// flushes about 3.5 MB. A larger write (a big value's record) goes
// through the scheduler, so that a one-processor server's other
// goroutines do not wait for it.
const maxHeldFlush = 8 << 20

// writeFlush writes a flush's records to f at off with one pwrite.
func writeFlush(f File, p []byte, off int64) (int, error) {
	if hw, ok := f.(heldWriter); ok && len(p) <= maxHeldFlush {
		return hw.writeAtHeld(p, off)
	}
	return f.WriteAt(p, off)
}

// FlushWrites copies the records appended since the last flush to the
// log file (the page cache): after it returns they survive a crash of the
// process, as a write through the mapping would. It is a no-op, one
// atomic load, when nothing is buffered, and never needed without
// Options.BufferWrites. An error (ErrReadOnly wrapping the cause) means
// this flush's write failed: the records are in the page cache all the
// same (copied through the mapping), but the device may not have them,
// and the store is read-only from now on; the writes the flush carried
// must not be acknowledged.
func (s *Store) FlushWrites() error {
	if s.unflushed.Load() == 0 {
		return nil
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.active == nil {
		return nil
	}
	return s.flushLocked()
}

// Unflushed returns the size in bytes of the records appended since the
// last flush (FlushWrites): 0 when a reply may leave without one. A flush
// of more than smallFlush bytes (2 KiB) is one pwrite, so a caller that
// can wait gathers several batches' records into one (tstd's event loops
// flush once per round for every batch they hold, whatever its size).
// Safe from any goroutine.
func (s *Store) Unflushed() int64 { return s.unflushed.Load() }

// sealLocked flushes the active segment's buffer before the segment is
// sealed (rotation); from then on every record of it is in the mapping.
// The caller holds appendMu.
func (s *Store) sealLocked(g *segment) {
	_ = s.flushLocked() // a failure is the store's now; the seal's fsync reports it
	g.filled.Store(int64(len(g.data)))
}

// setActiveLocked makes g, written up to woff, the segment appends go to.
func (s *Store) setActiveLocked(g *segment, woff int64) {
	s.active, s.woff = g, woff
	g.filled.Store(woff)
	g.wb = &s.wb
}

// wview returns the segments as a writer (the holder of appendMu) reads
// them: the active segment's buffered records in place, not copied. Only
// the holder of appendMu may use it.
func (s *Store) wview() segSet {
	cur := s.segs.Load()
	if s.wviewOf != cur || s.wviewAct != s.active {
		ss := slices.Clone(*cur)
		if a := s.active; a != nil && int(a.id) < len(ss) && ss[a.id] == a {
			ss[a.id] = &segment{id: a.id, path: a.path, data: a.data, wb: a.wb, writer: true}
		}
		s.wviewSS, s.wviewOf, s.wviewAct = ss, cur, s.active
	}
	return s.wviewSS
}

// maxViewScratch is the largest record a reader copies into its scratch
// (bufferedInto): a larger one gets a copy of its own, so that a scratch
// does not keep a large value's memory.
const maxViewScratch = 64 << 10

// bufferedInto returns the record at off (offset in g, at or past
// g.filled when loaded) from the write buffer: in place for a writer
// alias, as a copy for any other reader; ok false if a flush moved the
// buffer past it (the caller reads the mapping then), r nil if off is not
// a record. The copy goes into *scratch (grown as needed) when scratch is
// not nil and the record is at most maxViewScratch bytes, and is then
// valid until the reader next passes scratch; otherwise it is a new
// slice.
func (g *segment) bufferedInto(off int64, scratch *[]byte) (r []byte, ok bool) {
	w := g.wb
	if w == nil {
		return nil, false
	}
	if g.writer {
		if w.id != g.id || off < w.base {
			return nil, false
		}
		return recordAt(w.buf, off-w.base), true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.id != g.id || off < w.base {
		return nil, false
	}
	if r = recordAt(w.buf, off-w.base); r != nil {
		if scratch != nil && len(r) <= maxViewScratch {
			*scratch = append((*scratch)[:0], r...)
			r = *scratch
		} else {
			r = slices.Clone(r)
		}
	}
	return r, true
}

// bufferedHasKey is buffered for a key comparison (findRec's probe): eq
// reports whether the record at off holds key, compared in place under
// wbuf.mu, without a copy; ok is false when a flush moved the buffer past
// off (the caller reads the mapping then).
func (g *segment) bufferedHasKey(off int64, key []byte) (eq, ok bool) {
	w := g.wb
	if w == nil {
		return false, false
	}
	if !g.writer {
		w.mu.Lock()
		defer w.mu.Unlock()
	}
	if w.id != g.id || off < w.base {
		return false, false
	}
	r := recordAt(w.buf, off-w.base)
	return r != nil && bytes.Equal(recKey(r), key), true
}

// streamLocked appends a record of n value bytes that fill encodes in
// pieces (DB.SetImage's records over imageChunk bytes): each piece is
// written to the file at its place as fill spills it, the checksum
// accumulated on the way, and the header (with the checksum) last; the
// padding is already zero, as everything past woff is. Until the header
// is written the bytes at the log's end start with a zero length, so
// neither a reader nor recovery takes them for a record; recovery clears
// such bytes as a torn tail. The record
// bypasses the write buffer, whose contents are flushed first (appends
// stay in log order) and whose memory serves as fill's buffer. size is
// the record's padded size, which fits in the active segment; the caller
// holds appendMu. If fill's image is not n bytes, the bytes written are
// cleared and the result is ErrImageSize. A failed write is handled as
// flushLocked does: the piece is copied into the mapping and the store
// turns read-only; the record is completed and its location returned
// with the error.
func (s *Store) streamLocked(h recHeader, key []byte, n int, size int64, fill func(dst []byte, spill func([]byte) []byte) []byte) (loc uint64, err error) {
	if err := s.flushLocked(); err != nil {
		return 0, err
	}
	g, w := s.active, &s.wb
	buf := w.buf // nothing is buffered past the flush: free to reuse
	if len(buf) < s.opts.imageChunk {
		buf = make([]byte, s.opts.imageChunk)
	}
	buf = buf[:0:s.opts.imageChunk]
	s.seq++
	h.seq = s.seq
	head := make([]byte, recHeaderSize+len(key))
	putHead(head, h, key, n)
	tab := crc32.MakeTable(crc32.Castagnoli)
	crc := crc32.Update(0, tab, head[offLength:])
	start := s.woff + int64(len(head))
	end := start + int64(n)
	pos := start
	var werr error // the first failed write
	put := func(p []byte, at int64) {
		if werr == nil {
			if _, e := g.f.WriteAt(p, at); e != nil {
				werr = e
			}
		}
		if werr != nil { // as flushLocked: the page cache gets it through the mapping
			copy(g.data[at:], p)
			g.noteMapped(at, at+int64(len(p)))
		}
	}
	long := false
	spill := func(p []byte) []byte {
		if long || pos+int64(len(p)) > end {
			long = true
		} else {
			crc = crc32.Update(crc, tab, p)
			put(p, pos)
			pos += int64(len(p))
		}
		return buf
	}
	spill(fill(buf, spill))
	if long || pos != end {
		// Not the size announced: clear what was written (the log past
		// woff must stay zero).
		clear(buf[:cap(buf)])
		for at := start; at < pos; {
			k := min(pos-at, int64(cap(buf)))
			put(buf[:k], at)
			at += k
		}
		err = fmt.Errorf("%w: %d bytes or more, not %d", ErrImageSize, pos-start, n)
		if werr != nil {
			err = s.fail(fmt.Errorf("store: write %s (copied into its mapping instead): %w", g.path, werr)).ro
		}
		return 0, err
	}
	binary.LittleEndian.PutUint32(head[offCRC:], crc)
	put(head, s.woff)
	g.filled.Store(s.woff + size)
	s.kickLocked(g, s.woff+size)
	w.mu.Lock()
	w.id, w.base = g.id, s.woff+size
	w.mu.Unlock()
	loc, err = s.appendedLocked(g, size)
	s.unflushed.Store(0) // appendedLocked counted the record as buffered
	if werr != nil {
		err = s.fail(fmt.Errorf("store: write %s (the image was copied into its mapping instead): %w", g.path, werr)).ro
	}
	return loc, err
}
