package store

import (
	"encoding/binary"
	"errors"
	"fmt"
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
		g, err := createSegment(s.fs, s.dir, 1, s.opts.SegmentSize, s.hooks)
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
		if meta != nil && (!last || clean) { // a short last segment after a crash is a torn tail
			for _, ms := range meta.segments {
				if ms.id == id && int64(len(g.data)) < ms.size {
					return fmt.Errorf("%w: %s offset %d: segment is %d bytes, %s says %d: truncated", ErrCorrupt, g.path, len(g.data), len(g.data), metaName, ms.size)
				}
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
		end, err := s.replay(g, start, last, clean, ld)
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
// there. In any other segment it is corruption. It returns the offset
// after the last valid record.
func (s *Store) replay(g *segment, start int64, last, clean bool, ld *loading) (int64, error) {
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
			if !last || clean {
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
	if !last || clean {
		return 0, fmt.Errorf("%w: %s offset %d: non-zero bytes after the end of the data", ErrCorrupt, g.path, off+int64(k))
	}
	s.log.Warn("store: cut a torn tail off the log",
		zap.String("file", g.path), zap.Int64("offset", off), zap.Int("bytes", k+1))
	clear(rest[:k+1])
	s.truncated += int64(k + 1)
	if err := s.hooks.sync(g); err != nil {
		return 0, fmt.Errorf("store: sync %s after cutting its tail: %w", g.path, err)
	}
	return off, nil
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
