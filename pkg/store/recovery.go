package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"
)

// recover maps the segments ids (ascending) and replays them in order into
// the indexes, then leaves the store ready to append after the last valid
// record. With no segment it creates the first one. See doc.go, "Recovery".
func (s *Store) recover(meta *metadata, ids []uint32) error {
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 && !meta.allowsGap(ids[i-1], ids[i]) {
			return fmt.Errorf("%w: %s: segment missing between %s and %s", ErrCorrupt,
				filepath.Join(s.dir, segName(ids[i-1]+1)), segName(ids[i-1]), segName(ids[i]))
		}
	}
	clean := false
	if meta != nil {
		clean = meta.cleanShutdown
		for _, ms := range meta.segments {
			if !slices.Contains(ids, ms.id) {
				return fmt.Errorf("%w: %s: listed in %s but missing", ErrCorrupt, filepath.Join(s.dir, segName(ms.id)), metaName)
			}
		}
		if !clean {
			s.log.Warn("store: previous run did not shut down cleanly; replaying the log", zap.String("dir", s.dir))
		}
	}
	if len(ids) == 0 {
		empty := segSet{}
		s.segs.Store(&empty)
		g, err := createSegment(s.fs, s.dir, 1, s.opts.SegmentSize, 0, true, s.hooks)
		if err != nil {
			return err
		}
		ss := segSet{nil, g}
		s.segs.Store(&ss)
		s.setActiveLocked(g, segHeaderSize)
		s.diskBytes.Add(int64(len(g.data)))
		if meta != nil {
			s.seq, s.nextID = meta.lastSequence, max(s.nextID, meta.nextID)
		}
		return nil
	}
	if !clean {
		if err := s.repairUnwritten(ids); err != nil {
			return err
		}
	}
	ss := make(segSet, ids[len(ids)-1]+1)
	s.segs.Store(&ss)
	var logBytes int64
	for n, id := range ids {
		last := n == len(ids)-1
		g, err := openSegment(s.fs, filepath.Join(s.dir, segName(id)), id, last)
		if err != nil {
			return err
		}
		ss[id] = g
		s.diskBytes.Add(int64(len(g.data)))
		logBytes += int64(len(g.data))
	}
	for n, id := range ids {
		// A short last segment after a crash is a torn tail, as is one
		// whose successor took records before it was sealed.
		g := ss[id]
		if meta == nil || !clean && (n == len(ids)-1 || ss[ids[n+1]].predUnsealed && ids[n+1] == id+1) {
			continue
		}
		for _, ms := range meta.segments {
			if ms.id == id && int64(len(g.data)) < ms.size {
				return fmt.Errorf("%w: %s offset %d: segment is %d bytes, %s says %d: truncated", ErrCorrupt, g.path, len(g.data), len(g.data), metaName, ms.size)
			}
		}
	}

	// The snapshot, if usable, replaces the replay of the log it covers.
	ld := &loading{st: s.opts.Load, total: logBytes}
	var pos uint64
	if !s.opts.NoSnapshot {
		var err error
		pos, err = s.loadSnapshot(ld)
		switch {
		case errors.Is(err, errSnapshot):
			ld.done, ld.total = 0, logBytes
			s.log.Warn("store: ignoring the index snapshot; replaying the whole log",
				zap.String("file", filepath.Join(s.dir, snapName)), zap.Error(err))
		case err != nil:
			return err
		}
	}
	trust := s.opts.TrustSnapshot
	if pos != 0 && !trust {
		// Verify the covered log too (checksums, order, zeros) without
		// applying it: records before pos only advance seq and lastLoc.
		s.applyFrom, s.seq, s.lastLoc, s.lastSwapLoc = pos, 0, 0, 0
		ld.total += ld.done
	}
	if pos != 0 {
		s.loadedSnap = true
	}
	if pos != 0 && trust {
		ld.total = ld.done
		for _, id := range ids {
			if id >= locSeg(pos) {
				ld.total += int64(len(ss[id].data))
			}
		}
		ld.total -= locOff(pos)
	}
	ld.report()
	for n, id := range ids {
		last := n == len(ids)-1
		g := ss[id]
		start := int64(segHeaderSize)
		switch {
		case pos != 0 && trust && id < locSeg(pos):
			continue
		case pos != 0 && trust && id == locSeg(pos):
			start = locOff(pos)
		}
		// The first record of a segment written before its predecessor was
		// sealed must continue the predecessor's numbering (records are
		// numbered one after the other); a gap means the predecessor lost
		// records at its end, and what follows them goes (emptyAfter).
		if n > 0 && g.predUnsealed && ids[n-1] == id-1 && start == segHeaderSize && !clean {
			if h, _, _, _, st, _ := decodeRecord(g.data[segHeaderSize:]); st == recOK && h.seq != s.seq+1 {
				s.log.Warn("store: the log lost records at the end of an unsealed segment (crash); dropping what was written after them",
					zap.String("file", g.path), zap.Uint64("sequence", h.seq), zap.Uint64("expected", s.seq+1))
				if err := s.emptyAfter(ss, ids[n:]); err != nil {
					return err
				}
			}
		}
		// A segment whose successor took records before it was sealed may
		// end in a torn tail like the last one; what follows the cut goes
		// too (emptyAfter), so that the log stays a prefix.
		var cutRest func() error
		if !last && !clean && ss[ids[n+1]].predUnsealed && ids[n+1] == id+1 {
			cutRest = func() error { return s.emptyAfter(ss, ids[n+1:]) }
		}
		end, err := s.replay(g, start, last, clean, cutRest, ld)
		if err != nil {
			return err
		}
		if last {
			s.setActiveLocked(g, end)
		}
	}

	ld.done = ld.total
	ld.report()
	if meta != nil {
		if meta.lastSequence > s.seq {
			if clean {
				return fmt.Errorf("%w: %s says last_sequence %d, the log ends at %d", ErrCorrupt, metaName, meta.lastSequence, s.seq)
			}
			s.seq = meta.lastSequence // never reuse a sequence number
		}
		s.nextID = max(s.nextID, meta.nextID)
	}
	for i := range s.dbs {
		s.recovered += int64(s.dbs[i].t.used)
	}
	return nil
}

// lastNonZeroFile returns the index, relative to from, of the last
// non-zero byte of f in [from, to), or -1. It reads with ReadAt in large
// chunks rather than through the mapping: the zero tail of a preallocated
// segment is most of it, and faulting it in page by page through the
// mapping costs far more (about 100 ms per 64 MiB here) than reading it.
func lastNonZeroFile(f File, from, to int64) (int, error) {
	const chunk = 1 << 20
	buf := make([]byte, min(chunk, max(to-from, 0)))
	last := -1
	for off := from; off < to; {
		n := min(int64(len(buf)), to-off)
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return 0, err
		}
		if k := lastNonZero(buf[:n]); k >= 0 {
			last = int(off - from + int64(k))
		}
		off += n
	}
	return last, nil
}

// replay applies the records of g in order. In the last segment an invalid
// record ends the log (the torn tail of a crash, unless the previous run
// shut down cleanly): everything from it on is zeroed so appends resume
// there. So it does in a segment whose successor was written before it
// was sealed (cutRest non-nil, called first to empty the later segments);
// in any other segment it is corruption. It returns the offset after the
// last valid record.
func (s *Store) replay(g *segment, start int64, last, clean bool, cutRest func() error, ld *loading) (int64, error) {
	tornOK := (last || cutRest != nil) && !clean
	data := g.data
	off := start
	defer func() { ld.add(off - start) }()
	for off < int64(len(data)) {
		if off-start >= progressStep {
			ld.add(off - start)
			start = off
		}
		h, key, value, size, st, why := decodeRecord(data[off:])
		if st == recOK && h.seq <= s.seq {
			st, why = recInvalid, fmt.Sprintf("sequence number %d after %d", h.seq, s.seq)
		}
		if st == recEnd {
			break
		}
		if st == recInvalid {
			if !tornOK {
				return 0, fmt.Errorf("%w: %s offset %d: %s", ErrCorrupt, g.path, off, why)
			}
			s.log.Warn("store: invalid record at the end of the log (torn write of a crash); cutting the log here",
				zap.String("file", g.path), zap.Int64("offset", off), zap.String("reason", why))
			break
		}
		loc := makeLoc(g.id, off)
		if h.kind == kindSwapDB {
			s.lastSwapLoc = loc
		}
		if loc >= s.applyFrom {
			if err := s.apply(h, key, value, loc, size); err != nil {
				return 0, fmt.Errorf("%w: %s offset %d: %v", ErrCorrupt, g.path, off, err)
			}
			s.replayed++
		}
		s.seq = h.seq
		s.lastLoc = loc
		g.written++
		off += size
	}
	g.synced = g.written
	rest := data[off:]
	k, err := lastNonZeroFile(g.f, off, int64(len(data)))
	if err != nil {
		return 0, fmt.Errorf("store: read %s: %w", g.path, err)
	}
	if k < 0 {
		return off, nil
	}
	if !tornOK {
		return 0, fmt.Errorf("%w: %s offset %d: non-zero bytes after the end of the data", ErrCorrupt, g.path, off+int64(k))
	}
	s.log.Warn("store: cut a torn tail off the log",
		zap.String("file", g.path), zap.Int64("offset", off), zap.Int("bytes", k+1))
	if !last {
		// Everything after the cut goes first: were the cut made durable
		// before, a crash could leave g ending cleanly, followed by records
		// with a gap of lost ones before them.
		if err := cutRest(); err != nil {
			return 0, err
		}
		if err := zeroFile(s.fs, g.path, off, int64(k+1)); err != nil {
			return 0, err
		}
		s.truncated += int64(k + 1)
		return off, nil
	}
	clear(rest[:k+1])
	s.truncated += int64(k + 1)
	if err := s.hooks.sync(g); err != nil {
		return 0, fmt.Errorf("store: sync %s after cutting its tail: %w", g.path, err)
	}
	return off, nil
}

// Header states, as headerState reads them.
const (
	hdrValid     = iota // a valid header without flags
	hdrFlagged          // a valid header with segFlagPredUnsealed
	hdrUnwritten        // no header: the file is shorter than one, or it is all zeros
	hdrBad              // anything else (corruption; openSegment reports it)
)

// headerState classifies the first bytes b of segment id's file of size
// bytes.
func headerState(b []byte, size int64, id uint32) int {
	if size < segHeaderSize || len(b) >= segHeaderSize && allZero(b[:segHeaderSize]) {
		return hdrUnwritten
	}
	flags, err := checkSegHeader(b, id)
	switch {
	case err != nil:
		return hdrBad
	case flags&segFlagPredUnsealed != 0:
		return hdrFlagged
	}
	return hdrValid
}

// unwrittenFrom returns the index of the first segment whose header a
// crash left unwritten (a fresh segment: createSegment) and after which
// every segment is unwritten or flagged, i.e. was made after it without
// it being synced; -1 if there is none. From there on nothing was ever
// synced: the log ends before it.
func unwrittenFrom(states []int) int {
	c := -1
	for i := len(states) - 1; i >= 0; i-- {
		switch states[i] {
		case hdrUnwritten:
			c = i
		case hdrFlagged:
		default:
			return c
		}
	}
	return c
}

// repairUnwritten makes the segments from unwrittenFrom on valid and
// empty (records zeroed, a header flagged segFlagPredUnsealed so that the
// segment before them may end in a torn tail, preallocated to the segment
// size), the last first, so that a crash in the middle leaves a directory
// the same rule repairs.
func (s *Store) repairUnwritten(ids []uint32) error {
	states := make([]int, len(ids))
	sizes := make([]int64, len(ids))
	for i, id := range ids {
		path := filepath.Join(s.dir, segName(id))
		f, err := s.fs.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return fmt.Errorf("store: open segment: %w", err)
		}
		size, err := f.Size()
		b := make([]byte, segHeaderSize)
		if err == nil && size >= segHeaderSize {
			_, err = f.ReadAt(b, 0)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("store: read %s: %w", path, err)
		}
		states[i], sizes[i] = headerState(b, size, id), size
	}
	c := unwrittenFrom(states)
	if c < 0 {
		return nil
	}
	for i := len(ids) - 1; i >= c; i-- {
		if states[i] != hdrUnwritten {
			continue // flagged: replay deals with it
		}
		id := ids[i]
		path := filepath.Join(s.dir, segName(id))
		s.log.Warn("store: a segment made before a crash has no header; emptying it and the log after it",
			zap.String("file", path), zap.Int64("size", sizes[i]))
		f, err := s.fs.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("store: open %s: %w", path, err)
		}
		err = s.rewriteEmpty(f, id, sizes[i])
		f.Close()
		if err != nil {
			return fmt.Errorf("store: repair %s: %w", path, err)
		}
	}
	return syncDir(s.fs, s.dir)
}

// rewriteEmpty zeroes the records of segment id's file f (of size bytes),
// preallocates it to the segment size and gives it a header flagged
// segFlagPredUnsealed, durably.
func (s *Store) rewriteEmpty(f File, id uint32, size int64) error {
	if size > segHeaderSize {
		k, err := lastNonZeroFile(f, segHeaderSize, size)
		if err != nil {
			return err
		}
		if k >= 0 {
			if err := writeZeros(f, segHeaderSize, int64(k+1)); err != nil {
				return err
			}
			s.truncated += int64(k + 1)
		}
	}
	if size < s.opts.SegmentSize {
		if err := s.hooks.allocate(f, s.opts.SegmentSize); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil { // the zeros before the header that makes them a segment
		return err
	}
	if _, err := f.WriteAt(encodeSegHeader(id, segFlagPredUnsealed), 0); err != nil {
		return err
	}
	return f.Sync()
}

// emptyAfter makes the segments ids (those after a cut) empty: their
// records are zeroed, durably, so that the log ends at the cut. Their
// files stay (metadata.toon may list them); the last stays the active
// segment, and compaction removes the others.
func (s *Store) emptyAfter(ss segSet, ids []uint32) error {
	for _, id := range ids {
		g := ss[id]
		k, err := lastNonZeroFile(g.f, segHeaderSize, int64(len(g.data)))
		if err != nil {
			return fmt.Errorf("store: read %s: %w", g.path, err)
		}
		if k < 0 {
			continue
		}
		s.log.Warn("store: dropping records written after a torn tail",
			zap.String("file", g.path), zap.Int("bytes", k+1))
		if err := zeroFile(s.fs, g.path, segHeaderSize, int64(k+1)); err != nil {
			return err
		}
		s.truncated += int64(k + 1)
	}
	return nil
}

// zeroFile durably zeroes n bytes of the file at path from off, through a
// handle of its own (the segment may be mapped read-only).
func zeroFile(fs FS, path string, off, n int64) error {
	f, err := fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	if err := writeZeros(f, off, n); err != nil {
		return fmt.Errorf("store: cut %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: sync %s: %w", path, err)
	}
	return nil
}

// writeZeros writes n zero bytes to f at off, 1 MiB at a time.
func writeZeros(f File, off, n int64) error {
	zeros := make([]byte, min(n, 1<<20))
	for n > 0 {
		c := min(n, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:c], off); err != nil {
			return err
		}
		off, n = off+c, n-c
	}
	return nil
}

// clearPredUnsealed rewrites, durably, the headers that still carry
// segFlagPredUnsealed once replay has dealt with what it allows and
// metadata.toon has the segments' sizes as they are now (a segment made
// without fsyncs may have come back shorter, which only a flagged
// successor excuses): every segment is durable then, and a flag left set
// would let a later corruption of its predecessor pass for a torn tail.
// Open calls it last.
func (s *Store) clearPredUnsealed() error {
	ss := *s.segs.Load()
	for id, g := range ss {
		if g == nil || !g.predUnsealed {
			continue
		}
		if p := ss[id-1]; p != nil { // its records: a kill leaves them in the page cache
			if err := s.hooks.sync(p); err != nil {
				return fmt.Errorf("store: sync %s: %w", p.path, err)
			}
		}
		f, err := s.fs.OpenFile(g.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("store: open %s: %w", g.path, err)
		}
		_, err = f.WriteAt(encodeSegHeader(uint32(id), 0), 0)
		if err == nil {
			err = f.Sync()
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("store: rewrite the header of %s: %w", g.path, err)
		}
		g.predUnsealed = false
	}
	return nil
}

// apply replays one valid record into the indexes (Open is single-threaded;
// the locks taken by the helpers are uncontended). An error means the
// record is well-formed but impossible (wrong database, bad operand).
func (s *Store) apply(h recHeader, key, value []byte, loc uint64, size int64) error {
	db := func() (*DB, error) {
		if int(h.db) >= len(s.dbs) {
			return nil, fmt.Errorf("record for database %d, but the store has %d (Options.Databases)", h.db, len(s.dbs))
		}
		return &s.dbs[h.db], nil
	}
	switch h.kind {
	case kindFlushAll:
		s.flushAllIndex()
	case kindSwapDB:
		a, err := db()
		if err != nil {
			return err
		}
		if len(value) != 4 || int(binary.LittleEndian.Uint32(value)) >= len(s.dbs) {
			return fmt.Errorf("swapdb record with a bad operand")
		}
		s.swapIndex(a.n, int(binary.LittleEndian.Uint32(value)))
	case kindIDPut, kindIDDelete:
		if len(key) != 8 {
			return fmt.Errorf("id record with a %d-byte key", len(key))
		}
		id := ID(binary.BigEndian.Uint64(key))
		s.nextID = max(s.nextID, id+1)
		if h.kind == kindIDPut {
			if i := s.ids.find(id); i >= 0 {
				s.ids.remove(i, (*s.segs.Load()).recSize(s.ids.ents[i].loc))
			}
			s.ids.put(id, loc, size)
		} else if i := s.ids.find(id); i >= 0 {
			s.ids.remove(i, (*s.segs.Load()).recSize(s.ids.ents[i].loc))
		}
	default:
		d, err := db()
		if err != nil {
			return err
		}
		hash := d.hash(key)
		switch h.kind {
		case kindDelete:
			d.deleteIndex(hash, key)
		case kindExpire:
			d.expireIndex(hash, key, h.expireAt)
		case kindFlushDB:
			d.flushIndex()
		case kindOpHash, kindOpList, kindOpSet, kindOpZSet:
			if !d.applyOp(hash, key, h.kind, value, loc, size, h.seq) {
				s.log.Warn("store: ignoring an operation record whose chain is broken (its key, image or previous operation is missing)",
					zap.Int("db", d.n), zap.Uint32("segment", locSeg(loc)), zap.Int64("offset", locOff(loc)))
			}
		default: // a value kind (decodeRecord rejected unknown kinds)
			d.putIndex(hash, key, loc, h.expireAt, size)
		}
	}
	return nil
}

// LoadState is the progress of an Open, for a server that answers
// -LOADING while its store recovers: it passes a LoadState in
// Options.Load, runs Open on a goroutine of its own, and meanwhile reads
// Loading and Progress (INFO's loading, loading_loaded_bytes,
// loading_total_bytes) from any goroutine. The zero value is ready to use;
// one LoadState serves one Open at a time.
type LoadState struct {
	loading     atomic.Bool
	done, total atomic.Int64
}

// Loading reports whether an Open using l is in progress.
func (l *LoadState) Loading() bool { return l.loading.Load() }

// Progress returns the bytes of snapshot and log processed so far and the
// total. done only grows during a load and equals total at the end; total
// may change once, when the snapshot is accepted or rejected. Updated at
// least every 4 MiB.
func (l *LoadState) Progress() (done, total int64) { return l.done.Load(), l.total.Load() }

// loading accumulates Open's progress and publishes it to a LoadState.
type loading struct {
	st          *LoadState
	done, total int64
}

func (l *loading) add(n int64) {
	l.done += n
	l.report()
}

func (l *loading) report() {
	if l.st != nil {
		l.st.total.Store(l.total)
		l.st.done.Store(min(l.done, l.total))
	}
}
