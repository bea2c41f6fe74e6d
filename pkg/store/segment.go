package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Segment file layout: a segHeaderSize-byte header, then records from
// segHeaderSize on, then zeros up to the preallocated size.
//
//	off size field
//	  0    7 magic   "TOONSEG"
//	  7    1 version segFormatVersion
//	  8    8 id      the segment id, also in the file name
//	 16    4 crc     CRC32C of bytes [0, 16)
//	 20    4 flags   0, or segFlagPredUnsealed
//	 24    4 crc2    0 when flags is 0, else CRC32C of bytes [0, 24)
//	 28    4 reserved zero
//
// A header with flags 0 is all zeros from byte 20, as in the first
// version of the format (which requires that), so a segment without
// flags reads the same to every build.
const (
	segHeaderSize    = 32
	segMagic         = "TOONSEG"
	segFormatVersion = 1

	// segFlagPredUnsealed marks a segment that took records before its
	// predecessor's rotation fdatasync finished (sync policies everysec and
	// no, where that seal runs in the background: sync.go). Until the flag
	// is cleared, after the seal, the predecessor may end in a torn tail
	// that recovery cuts, dropping every later record. See doc.go,
	// "Rotation".
	segFlagPredUnsealed = 1

	segPrefix = "data-"
	segSuffix = ".toon"
	tmpSuffix = ".tmp"
	lockName  = "LOCK"
	fixSuffix = ".fix"

	// locOffsetBits is how many low bits of a location hold the offset in
	// the segment; the segment id takes the rest.
	locOffsetBits = 40
	locOffsetMask = 1<<locOffsetBits - 1
	maxSegmentID  = 1<<(64-locOffsetBits) - 1
)

// A location names a record: segment id << locOffsetBits | offset. Offset 0
// is a segment header, so location 0 is never a record and marks an empty
// index slot.
func makeLoc(id uint32, off int64) uint64 { return uint64(id)<<locOffsetBits | uint64(off) }
func locSeg(loc uint64) uint32            { return uint32(loc >> locOffsetBits) }
func locOff(loc uint64) int64             { return int64(loc & locOffsetMask) }

// segment is one data file mapped in memory.
//
// Lifetime: a segment is created (preallocated, header written, fsynced,
// renamed into place) by rotate, found by Open or written by a compaction,
// and mapped until Close, or until Options.RetireGrace after a compaction
// replaced it. Its data never moves, so slices of it handed to callers stay
// valid that long. Bytes before the store's write offset are immutable records; bytes
// after it are zero (the invariant that makes a zero length word the end
// of data).
type segment struct {
	id   uint32
	path string
	f    File
	m    Mapping
	data []byte // m.Bytes(): the whole file; read-only mapping for sealed segments at Open

	// written and synced count records appended to and made durable in this
	// segment; guarded by Store.appendMu.
	written, synced uint64

	// filled is the offset below which the mapping holds every record of
	// the segment: the write offset as of the last flush while the segment
	// is active, the file's size otherwise. Records at or past it are in
	// wb, the store's write buffer (set once the segment was active).
	// writer marks the alias of the active segment that Store.wview hands
	// the holder of appendMu (filled 0: every read looks at the buffer
	// first). See wbuf.go.
	filled atomic.Int64
	wb     *wbuf
	writer bool

	// mapLo and mapHi bound the bytes flushLocked copied into the mapping
	// since the segment's last sync (mapHi 0: none); guarded by
	// Store.appendMu. Their pages are dropped from the page tables before
	// the next fdatasync (dropMapped).
	mapLo, mapHi int64
	// kicked is the offset up to which writeback of the file was started
	// (flushLocked's kicks; appendMu).
	kicked int64

	// predUnsealed is the segFlagPredUnsealed flag of the header: set by a
	// rotation whose seal runs in the background, cleared (in the file,
	// then here) once the predecessor is durable; guarded by appendMu
	// while the store is open. hdrDirty: the header was rewritten since
	// the file's last fdatasync.
	predUnsealed, hdrDirty bool
	// fresh: made without fsyncs (createSegment), so its header and its
	// directory entry are not known durable yet; appendMu.
	fresh bool
	// endSeq is the sequence number of the last record, set when a
	// rotation seals the segment, and rotatedAt when it left it unsealed
	// (appendMu).
	endSeq    uint64
	rotatedAt time.Time

	// rechunked is the offset below which the segment's page cache was
	// rebuilt in 2 MiB folios (rechunk.go); only compactLoop uses it.
	rechunked int64

	// mapped has bit c set once chunk c (the 2 MiB at c<<mapChunkShift)
	// was mapped into the page tables in one go (mapChunk). Chunks past
	// the 64th (only a segment made for one record over 128 MiB has them)
	// are left to page faults.
	mapped atomic.Uint64
}

// mapChunkShift: segment.mapChunk maps 1<<mapChunkShift bytes at a time.
const mapChunkShift = 21

// mapFor is called before a read of the mapping at off: the first read in
// a 2 MiB chunk whose records are all in the file maps the whole chunk
// (mapChunk). Else every 64 KiB read first costs a page fault, which on a
// virtual machine costs tens of microseconds; records written with pwrite
// are in the page cache but in no page table until read.
func (g *segment) mapFor(off int64) {
	if c := uint(off >> mapChunkShift); c < 64 && g.mapped.Load()&(1<<c) == 0 {
		g.mapChunk(c)
	}
}

// mapChunk maps chunk c of g's mapping if every byte of it is flushed
// (below filled: no later copy into the mapping writes to it), once.
func (g *segment) mapChunk(c uint) {
	lo, hi := int64(c)<<mapChunkShift, int64(c+1)<<mapChunkShift
	if hi > g.filled.Load() || hi > int64(len(g.data)) {
		return // the chunk is still being written: read it page by page
	}
	if g.mapped.Or(1<<c)&(1<<c) != 0 {
		return // another reader got there first
	}
	mapChunkCalls.Add(1)
	populateRead(g, lo, hi)
}

// mapChunkCalls counts mapChunk's mappings (tests read it).
var mapChunkCalls atomic.Int64

// noteMapped records that [from, to) was copied into the mapping. The
// caller holds appendMu.
func (g *segment) noteMapped(from, to int64) {
	if g.mapHi == 0 {
		g.mapLo = from
	}
	g.mapHi = to
}

// takeMapped returns the range noteMapped recorded and starts a new one.
// The caller holds appendMu.
func (g *segment) takeMapped() (lo, hi int64) {
	lo, hi = g.mapLo, g.mapHi
	g.mapLo, g.mapHi = 0, 0
	return lo, hi
}

// newSegment wraps a mapped file; every record of it is in the mapping
// (filled) until it becomes the active segment.
func newSegment(id uint32, path string, f File, m Mapping) *segment {
	g := &segment{id: id, path: path, f: f, m: m, data: m.Bytes()}
	g.filled.Store(int64(len(g.data)))
	return g
}

// segName returns the file name of segment id.
func segName(id uint32) string { return fmt.Sprintf("%s%06d%s", segPrefix, id, segSuffix) }

// parseSegName returns the id of a segment file name.
func parseSegName(name string) (uint32, bool) {
	if !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
		return 0, false
	}
	n, err := strconv.ParseUint(name[len(segPrefix):len(name)-len(segSuffix)], 10, 32)
	if err != nil || n == 0 || n > maxSegmentID {
		return 0, false
	}
	return uint32(n), true
}

func encodeSegHeader(id uint32, flags uint32) []byte {
	h := make([]byte, segHeaderSize)
	copy(h, segMagic)
	h[7] = segFormatVersion
	binary.LittleEndian.PutUint64(h[8:], uint64(id))
	binary.LittleEndian.PutUint32(h[16:], crc32c(h[:16]))
	if flags != 0 {
		binary.LittleEndian.PutUint32(h[20:], flags)
		binary.LittleEndian.PutUint32(h[24:], crc32c(h[:24]))
	}
	return h
}

// checkSegHeader verifies the header of segment id and returns its flags.
func checkSegHeader(b []byte, id uint32) (uint32, error) {
	if len(b) < segHeaderSize {
		return 0, errors.New("file shorter than the segment header")
	}
	flags := binary.LittleEndian.Uint32(b[20:])
	switch {
	case string(b[:7]) != segMagic:
		return 0, errors.New("bad segment magic")
	case binary.LittleEndian.Uint32(b[16:]) != crc32c(b[:16]):
		return 0, errors.New("segment header checksum mismatch")
	case flags == 0 && !allZero(b[20:segHeaderSize]):
		return 0, errors.New("non-zero reserved segment header bytes")
	case flags != 0 && binary.LittleEndian.Uint32(b[24:]) != crc32c(b[:24]):
		return 0, errors.New("segment header flags checksum mismatch")
	case flags&^segFlagPredUnsealed != 0 || !allZero(b[28:segHeaderSize]):
		return 0, fmt.Errorf("unknown segment header flags %#x", flags)
	case b[7] != segFormatVersion:
		return 0, fmt.Errorf("unsupported segment format version %d", b[7])
	case binary.LittleEndian.Uint64(b[8:]) != uint64(id):
		return 0, fmt.Errorf("segment header names id %d", binary.LittleEndian.Uint64(b[8:]))
	}
	return flags, nil
}

// createSegment makes segment id of size bytes in dir: a temporary file
// is preallocated (so that a full disk is ErrNoSpace here, not an error in
// the middle of a record later), gets its header and is renamed into
// place. If durable, the file is fsynced before the rename and the
// directory after it; otherwise the segment is fresh: neither is known
// durable until syncNow or seal makes them so, before any of its records
// counts as synced (a crash may leave it without its header or its name:
// see recovery's unwrittenFrom). The result is mapped read-write.
func createSegment(fs FS, dir string, id uint32, size int64, flags uint32, durable bool, h *hooks) (_ *segment, err error) {
	path := filepath.Join(dir, segName(id))
	tmp := path + tmpSuffix
	f, err := fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: create segment: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			fs.Remove(tmp)
		}
	}()
	if err := h.allocate(f, size); err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return nil, fmt.Errorf("%w: preallocating %s (%d bytes): %w", ErrNoSpace, tmp, size, err)
		}
		return nil, fmt.Errorf("store: preallocate %s: %w", tmp, err)
	}
	if _, err := f.WriteAt(encodeSegHeader(id, flags), 0); err != nil {
		return nil, fmt.Errorf("store: write segment header %s: %w", tmp, err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("store: sync %s: %w", tmp, err)
		}
	}
	if err := fs.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("store: rename %s: %w", tmp, err)
	}
	if durable {
		if err := syncDir(fs, dir); err != nil {
			return nil, err
		}
	}
	m, err := f.Map(int(size), true)
	if err != nil {
		return nil, fmt.Errorf("store: map %s: %w", path, err)
	}
	g := newSegment(id, path, f, m)
	g.predUnsealed = flags&segFlagPredUnsealed != 0
	g.fresh = !durable
	return g, nil
}

// openSegment opens and maps an existing segment file, read-write if
// writable. It checks the header.
func openSegment(fs FS, path string, id uint32, writable bool) (*segment, error) {
	flag := os.O_RDONLY
	if writable {
		flag = os.O_RDWR
	}
	f, err := fs.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("store: open segment: %w", err)
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: stat segment: %w", err)
	}
	if size < segHeaderSize {
		f.Close()
		return nil, fmt.Errorf("%w: %s offset 0: file shorter than the segment header (%d bytes)", ErrCorrupt, path, size)
	}
	m, err := f.Map(int(size), writable)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: map %s: %w", path, err)
	}
	flags, err := checkSegHeader(m.Bytes(), id)
	if err != nil {
		m.Unmap()
		f.Close()
		return nil, fmt.Errorf("%w: %s offset 0: %v", ErrCorrupt, path, err)
	}
	g := newSegment(id, path, f, m)
	g.predUnsealed = flags&segFlagPredUnsealed != 0
	return g, nil
}

// close unmaps and closes the segment. The caller guarantees no reader
// holds a slice of it any more.
func (g *segment) close() error {
	err := g.m.Unmap()
	g.data = nil
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	return err
}
