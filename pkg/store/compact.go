package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
)

// Clock tells the time for expiry decisions of the store (compaction drops
// records whose expiry has passed). Options.Now; nil means the wall clock.
// (An interface, not a func, so that Options stays comparable.)
type Clock interface {
	// UnixMilli returns the current Unix time in milliseconds.
	UnixMilli() int64
}

type wallClock struct{}

func (wallClock) UnixMilli() int64 { return time.Now().UnixMilli() }

// Defaults of the compaction options.
const (
	DefaultCompactRatio = 0.5
	DefaultRetireGrace  = 10 * time.Second
	compactCheckEvery   = time.Second
)

// errCompactAborted: the log changed in a way the rewrite cannot absorb
// (a SWAPDB after the compacted prefix, an expired key revived); the next
// attempt starts over.
var errCompactAborted = errors.New("store: compaction aborted; will retry")

// moved is an index entry a compaction re-points at the switch.
type moved struct {
	db       int    // -1 for the id index
	hash     uint64 // for a keyed entry
	id       ID     // for an id entry
	old, new uint64 // locations; new = 0: drop the entry (expired)
	size     int64
	img      uint64 // for an operation record of a chain: its image's (old) location; else 0
}

// compact rewrites every sealed segment (the log before the active
// segment: a prefix of it) into as few new segments as the live records
// need, then switches. See doc.go, "Compaction", for the protocol and why
// each step is safe. It returns errCompactAborted if the log changed in a
// way the rewrite cannot absorb, nil if there was nothing to compact.
func (s *Store) compact() (err error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.compacting.Store(true)
	defer s.compacting.Store(false)

	s.appendMu.Lock()
	if s.closed.Load() || s.failure.Load() != nil {
		s.appendMu.Unlock()
		return ErrClosed
	}
	if s.switchPending {
		// The metadata still has the last switch's first_segment: a crash
		// during this compaction would make Open take this one's .fix
		// files for that switch's. Clear it first.
		if err := s.writeMeta(false); err != nil {
			s.appendMu.Unlock()
			return err
		}
	}
	ss := *s.segs.Load()
	k := s.active.id - 1
	var first uint32
	for id := uint32(1); id <= k; id++ {
		if int(id) < len(ss) && ss[id] != nil {
			first = id
			break
		}
	}
	s.appendMu.Unlock()
	if first == 0 {
		return nil // no sealed segment
	}
	var inBytes int64
	for id := first; id <= k; id++ {
		inBytes += int64(len(ss[id].data))
	}
	s.compactTotal.Store(inBytes)
	s.compactProgress.Store(0)
	now := s.opts.Now.UnixMilli()

	// Pass 1: where does the content of each database end up at the end of
	// the prefix? SWAPDB moves contents between databases and FLUSHDB or
	// FLUSHALL empties them; records carry the database they were written
	// to. A "class" names the content a database holds; records join the
	// class of their database when written.
	ndb := len(s.dbs)
	content := make([]int, ndb)
	evolve := func(h recHeader, value []byte, next *int) {
		switch h.kind {
		case kindSwapDB:
			b := int(binary.LittleEndian.Uint32(value))
			content[h.db], content[b] = content[b], content[h.db]
		case kindFlushDB:
			content[h.db] = *next
			*next++
		case kindFlushAll:
			for d := range content {
				content[d] = *next
				*next++
			}
		}
	}
	scan := func(fn func(h recHeader, key, value, rec []byte, loc uint64) error) error {
		for id := first; id <= k; id++ {
			if s.closed.Load() {
				return ErrClosed // Close waits for compactMu: stop reading the mappings
			}
			data := ss[id].data
			for off := int64(segHeaderSize); off < int64(len(data)); {
				h, key, value, size, st, why := decodeRecord(data[off:])
				if st == recEnd {
					break
				}
				if st != recOK {
					return fmt.Errorf("%w: %s offset %d: %s", ErrCorrupt, ss[id].path, off, why)
				}
				if err := fn(h, key, value, data[off:off+size], makeLoc(id, off)); err != nil {
					return err
				}
				off += size
			}
		}
		return nil
	}
	for d := range content {
		content[d] = d
	}
	next := ndb
	if err := scan(func(h recHeader, key, value, rec []byte, loc uint64) error {
		evolve(h, value, &next)
		return nil
	}); err != nil {
		return err
	}
	dbOf := make(map[int]int, ndb) // class -> database at the end of the prefix
	for d, c := range content {
		dbOf[c] = d
	}

	// Pass 2: copy the live records, in log order, into temporary files.
	out := &compactWriter{s: s, segSize: s.opts.SegmentSize}
	defer out.cleanup()
	var moves []moved
	for d := range content {
		content[d] = d
	}
	next = ndb
	err = scan(func(h recHeader, key, value, rec []byte, loc uint64) error {
		s.compactProgress.Add(int64(len(rec)))
		switch {
		case h.kind.IsValue():
			db, ok := dbOf[content[h.db]]
			if !ok {
				return nil // its database was flushed later in the prefix
			}
			d := &s.dbs[db]
			hash := d.hash(key)
			d.mu.RLock()
			i := d.t.find(*s.segs.Load(), hash, key)
			live := i >= 0 && d.t.slots[i].loc == loc
			var exp int64
			if live {
				exp = d.t.slots[i].expireAt
			}
			d.mu.RUnlock()
			size := int64(len(rec))
			switch {
			case !live:
			case exp != 0 && exp <= now:
				moves = append(moves, moved{db: db, hash: hash, old: loc, size: size})
			default:
				nl, err := out.add(rec, recHeader{seq: h.seq, db: uint32(db), kind: h.kind, expireAt: exp}, key, value, h.db != uint32(db) || h.expireAt != exp)
				if err != nil {
					return err
				}
				moves = append(moves, moved{db: db, hash: hash, old: loc, new: nl, size: size})
			}
		case h.kind.isChainOp():
			// Live if it is in the chain of its key's live image; copied
			// (in log order, after its image) unless the key expired, when
			// the image's move drops the whole entry.
			db, ok := dbOf[content[h.db]]
			if !ok {
				return nil
			}
			d := &s.dbs[db]
			hash := d.hash(key)
			d.mu.RLock()
			i := d.t.find(*s.segs.Load(), hash, key)
			var img uint64
			var exp int64
			live := false
			if i >= 0 {
				img, exp = d.t.slots[i].loc, d.t.slots[i].expireAt
				_, j := d.opIndex(img, loc)
				live = j >= 0
			}
			d.mu.RUnlock()
			if !live || exp != 0 && exp <= now {
				return nil
			}
			nl, err := out.add(rec, recHeader{seq: h.seq, db: uint32(db), kind: h.kind}, key, value, h.db != uint32(db))
			if err != nil {
				return err
			}
			moves = append(moves, moved{db: db, hash: hash, old: loc, new: nl, size: int64(len(rec)), img: img})
		case h.kind == kindIDPut:
			id := ID(binary.BigEndian.Uint64(key))
			s.ids.mu.RLock()
			i := s.ids.find(id)
			live := i >= 0 && s.ids.ents[i].loc == loc
			s.ids.mu.RUnlock()
			if live {
				nl, err := out.add(rec, h, key, value, false)
				if err != nil {
					return err
				}
				moves = append(moves, moved{db: -1, id: id, old: loc, new: nl, size: int64(len(rec))})
			}
		default:
			// Operations only affect older records, all in the prefix and
			// all resolved above: none is needed any more.
			evolve(h, value, &next)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := out.finish(); err != nil {
		return err
	}
	s.compactProgress.Store(inBytes)
	m := uint32(len(out.files))
	if m > k-first+1 {
		return fmt.Errorf("store: compaction needs %d segments for %d", m, k-first+1)
	}
	F := k - m + 1 // the outputs take the ids of the last m inputs

	// The switch. No snapshot writer may be reading the old segments;
	// writers wait (readers too, for the index flip).
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	writersStalled := time.Now()
	if s.closed.Load() || s.failure.Load() != nil {
		return ErrClosed
	}
	if s.lastSwapLoc != 0 && locSeg(s.lastSwapLoc) > k {
		return errCompactAborted // a SWAPDB after the prefix: the databases of the copies are stale
	}
	for _, mv := range moves {
		if mv.new == 0 { // an expired key must still be there, still expired
			d := &s.dbs[mv.db]
			j := d.t.findLoc(mv.hash, mv.old)
			if j >= 0 && (d.t.slots[j].expireAt == 0 || d.t.slots[j].expireAt > now) {
				return errCompactAborted
			}
		}
	}
	// Liveness was judged against the whole log up to now, including
	// unsynced writes (an overwrite, a delete): make them durable before
	// their older versions disappear, or a crash could lose both.
	if g := s.active; g.synced < g.written {
		if err := s.hooks.sync(g); err != nil {
			return s.fail(fmt.Errorf("store: sync %s: %w", g.path, err)).ro
		}
		s.syncs.Add(1)
		g.synced = g.written
	}
	if err := out.install(F); err != nil {
		return err
	}
	// index.toon describes the old layout (same ids, other contents).
	if err := s.fs.Remove(filepath.Join(s.dir, snapName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: compaction: remove %s: %w", snapName, err)
	}
	if err := syncDir(s.fs, s.dir); err != nil {
		return err
	}
	meta := s.metaLocked(false)
	meta.firstSegment = F
	meta.segments = meta.segments[:0]
	for j, sz := range out.sizes {
		meta.segments = append(meta.segments, metaSegment{F + uint32(j), sz})
	}
	for id := k + 1; int(id) < len(ss); id++ {
		if g := (*s.segs.Load())[id]; g != nil {
			meta.segments = append(meta.segments, metaSegment{id, int64(len(g.data))})
		}
	}
	if err := writeMetadata(s.fs, s.dir, meta); err != nil { // the switch (if the rename happened)
		return s.fail(fmt.Errorf("store: compaction switch: %w", err)).ro
	}
	out.switched = true
	if err := finishSwitch(s.fs, s.dir, meta, s.log); err != nil {
		return s.fail(err).ro
	}
	newSegs := make([]*segment, m)
	for j := range newSegs {
		id := F + uint32(j)
		g, err := openSegment(s.fs, filepath.Join(s.dir, segName(id)), id, false)
		if err != nil {
			for _, g := range newSegs[:j] {
				g.close()
			}
			return s.fail(fmt.Errorf("store: compaction: %w", err)).ro
		}
		newSegs[j] = g
	}
	// Flip the index and the segment set together: every DB lock, in
	// order, then the id index's.
	allStalled := time.Now()
	for i := range s.dbs {
		s.dbs[i].mu.Lock()
	}
	s.ids.mu.Lock()
	cur := *s.segs.Load()
	// New locations reuse the ids (F..k) of old ones, so a new location may
	// equal another record's old one: first drop the expired entries
	// (deletion moves slots), then find every slot by its old location,
	// and only then write the new ones.
	for _, mv := range moves {
		if mv.new == 0 {
			d := &s.dbs[mv.db]
			if j := d.t.findLoc(mv.hash, mv.old); j >= 0 {
				d.t.deleteAt(j, mv.size+d.chainBytes(mv.old))
				delete(d.chains, mv.old)
			}
		}
	}
	// Chains: find every moved operation (by its image's old location) and
	// every moved image's chain before any location changes.
	type chainMove struct {
		c   *chain
		j   int    // index of the operation in c.ops, or -1 for an image
		db  int    // for an image: its database
		old uint64 // for an image: its old location
		new uint64 // its new location
	}
	var cmoves []chainMove
	for _, mv := range moves {
		switch {
		case mv.new == 0 || mv.db < 0:
		case mv.img != 0:
			if c, j := s.dbs[mv.db].opIndex(mv.img, mv.old); j >= 0 {
				cmoves = append(cmoves, chainMove{c: c, j: j, new: makeLoc(F+locSeg(mv.new), locOff(mv.new))})
			}
		default:
			d := &s.dbs[mv.db]
			if c := d.chains[mv.old]; c != nil && d.t.findLoc(mv.hash, mv.old) >= 0 {
				cmoves = append(cmoves, chainMove{c: c, j: -1, db: mv.db, old: mv.old, new: makeLoc(F+locSeg(mv.new), locOff(mv.new))})
			}
		}
	}
	for _, cm := range cmoves {
		if cm.j < 0 {
			delete(s.dbs[cm.db].chains, cm.old)
		}
	}
	for _, cm := range cmoves {
		if cm.j >= 0 {
			cm.c.ops[cm.j] = cm.new
		} else {
			s.dbs[cm.db].chains[cm.new] = cm.c
		}
	}
	slotOf := make([]int, len(moves))
	for n, mv := range moves {
		switch {
		case mv.new == 0 || mv.img != 0:
			slotOf[n] = -1
		case mv.db < 0:
			slotOf[n] = s.ids.findLoc(mv.id, mv.old)
		default:
			slotOf[n] = s.dbs[mv.db].t.findLoc(mv.hash, mv.old) // -1: overwritten or deleted meanwhile
		}
	}
	for n, mv := range moves {
		j := slotOf[n]
		if j < 0 {
			continue
		}
		nl := makeLoc(F+locSeg(mv.new), locOff(mv.new))
		if mv.db < 0 {
			s.ids.ents[j].loc = nl
		} else {
			s.dbs[mv.db].t.slots[j].loc = nl
		}
	}
	nss := append(segSet(nil), cur...)
	var retired []*segment
	var outBytes int64
	for id := first; id <= k; id++ {
		retired = append(retired, nss[id])
		nss[id] = nil
	}
	for j, g := range newSegs {
		nss[F+uint32(j)] = g
		outBytes += int64(len(g.data))
	}
	s.segs.Store(&nss)
	s.ids.mu.Unlock()
	for i := len(s.dbs) - 1; i >= 0; i-- {
		s.dbs[i].mu.Unlock()
	}
	pause := time.Since(allStalled)
	s.diskBytes.Add(outBytes - inBytes)
	s.reclaimed.Add(inBytes - outBytes)
	s.compactions.Add(1)
	s.retire(retired)
	// Drop first_segment from the metadata now that the switch is done, so
	// that .fix files of a later rewrite are never mistaken for this one's
	// (if this fails, the next compaction retries it before anything else).
	s.switchPending = true
	if err := s.writeMeta(false); err != nil {
		s.log.Warn("store: could not rewrite metadata after compaction", zap.Error(err))
	}
	s.log.Info("store: compacted the log", zap.Uint32("segments_in", k-first+1), zap.Uint32("segments_out", m),
		zap.Int64("bytes_reclaimed", inBytes-outBytes), zap.Int("records_moved", len(moves)),
		zap.Duration("pause", pause), zap.Duration("write_pause", time.Since(writersStalled)))
	return nil
}

// findLoc returns the slot holding loc for a key of hash h, or -1.
func (t *table) findLoc(h, loc uint64) int {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.loc == 0 {
			return -1
		}
		if s.loc == loc && s.hash == h {
			return int(i)
		}
	}
}

// findLoc returns the entry of id if it holds loc, or -1.
func (x *idIndex) findLoc(id ID, loc uint64) int {
	if i := x.find(id); i >= 0 && x.ents[i].loc == loc {
		return i
	}
	return -1
}

// retire hands segments no longer in the segment set to the reaper: they
// stay mapped for Options.RetireGrace (slices returned by Get may still
// point into them), then are unmapped and closed. Their files are already
// gone from the directory. The caller holds appendMu.
func (s *Store) retire(gs []*segment) {
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	at := time.Now().Add(s.opts.RetireGrace)
	for _, g := range gs {
		s.retired = append(s.retired, retiredSeg{g, at})
	}
}

// reap unmaps retired segments whose grace has passed (all of them if
// force, at Close).
func (s *Store) reap(force bool) {
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	now := time.Now()
	keep := s.retired[:0]
	for _, r := range s.retired {
		if force || now.After(r.at) {
			if err := r.g.close(); err != nil {
				s.log.Warn("store: unmap retired segment", zap.String("file", r.g.path), zap.Error(err))
			}
			continue
		}
		keep = append(keep, r)
	}
	s.retired = keep
}

type retiredSeg struct {
	g  *segment
	at time.Time
}

// compactLoop checks once a second whether dead bytes in the sealed
// segments pass Options.CompactRatio, compacts if so, and reaps retired
// segments.
func (s *Store) compactLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(compactCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-s.compactKick:
		}
		s.reap(false)
		if s.failure.Load() != nil || !s.compactDue() {
			continue
		}
		err := s.compact()
		switch {
		case err == nil:
			if !s.opts.NoSnapshot { // the snapshot was removed at the switch
				if err := s.snapshot(); err != nil {
					s.log.Warn("store: could not write the index snapshot after compaction", zap.Error(err))
				}
			}
		case errors.Is(err, errCompactAborted), errors.Is(err, ErrClosed):
		default:
			s.log.Warn("store: compaction failed", zap.Error(err))
		}
	}
}

// compactDue estimates whether compaction would reclaim enough: dead
// bytes (sealed segments' bytes minus live bytes, assuming every live
// record is sealed, which underestimates) at least CompactRatio of the
// sealed bytes and at least one segment's worth.
func (s *Store) compactDue() bool {
	s.appendMu.Lock()
	sealed := s.diskBytes.Load() - int64(len(s.active.data))
	s.appendMu.Unlock()
	if sealed <= 0 {
		return false
	}
	var live int64
	for i := range s.dbs {
		d := &s.dbs[i]
		d.mu.RLock()
		live += d.t.live
		d.mu.RUnlock()
	}
	s.ids.mu.RLock()
	live += s.ids.live
	s.ids.mu.RUnlock()
	dead := sealed - live
	return dead >= s.opts.SegmentSize && float64(dead) >= s.opts.CompactRatio*float64(sealed)
}

// Compact runs a compaction now (BGREWRITEAOF): it rewrites the sealed
// segments keeping only live records and reclaims the rest, while reads
// and writes continue. It returns when done; nil also when there was
// nothing to compact. It fails with an error wrapping errCompactAborted's
// message if a SWAPDB raced with it (try again).
func (s *Store) Compact() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.compact(); err != nil {
		return err
	}
	if !s.opts.NoSnapshot {
		return s.snapshot()
	}
	return nil
}

// compactWriter writes the output of a compaction to temporary files
// (numbered in order; their segment ids are known only at the end).
type compactWriter struct {
	s        *Store
	segSize  int64
	files    []string // temporary files, in order
	fixes    []string // their names once installed
	sizes    []int64
	buf      []byte
	size     int64
	switched bool // the metadata switch happened: the files are the log's
}

// add appends a record and returns its location as (ordinal << 40 | off).
// If rewrite, the record is re-encoded from h, key and value (another
// database or expiry); else rec is copied as is.
func (w *compactWriter) add(rec []byte, h recHeader, key, value []byte, rewrite bool) (uint64, error) {
	n := int64(len(rec))
	if w.buf == nil || int64(len(w.buf))+n > w.size {
		if err := w.flush(); err != nil {
			return 0, err
		}
		w.size = max(w.segSize, segHeaderSize+n)
		w.buf = append(w.buf[:0], make([]byte, segHeaderSize)...)
	}
	off := int64(len(w.buf))
	w.buf = append(w.buf, rec...)
	if rewrite {
		encodeRecord(w.buf[off:], h, key, value)
	}
	return makeLoc(uint32(len(w.files)), off), nil
}

// flush writes the current output segment (id 0 in its header for now) to
// a temporary file, preallocated and fsynced.
func (w *compactWriter) flush() error {
	if w.buf == nil {
		return nil
	}
	s := w.s
	name := filepath.Join(s.dir, fmt.Sprintf("compact-%06d%s", len(w.files), tmpSuffix))
	f, err := s.fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("store: compaction: %w", err)
	}
	w.files = append(w.files, name)
	w.sizes = append(w.sizes, w.size)
	if err = s.hooks.allocate(f, w.size); err == nil {
		if _, err = f.WriteAt(w.buf, 0); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: compaction: write %s: %w", name, err)
	}
	w.buf = w.buf[:0]
	return nil
}

func (w *compactWriter) finish() error {
	if len(w.buf) > segHeaderSize {
		return w.flush()
	}
	return nil
}

// install gives output j its id F+j (header rewritten, fsynced) and its
// name data-ID.toon.fix, then fsyncs the directory.
func (w *compactWriter) install(F uint32) error {
	s := w.s
	for j, name := range w.files {
		id := F + uint32(j)
		f, err := s.fs.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("store: compaction: %w", err)
		}
		_, err = f.WriteAt(encodeSegHeader(id), 0)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		fix := filepath.Join(s.dir, segName(id)+fixSuffix)
		if err == nil {
			err = s.fs.Rename(name, fix)
		}
		if err != nil {
			return fmt.Errorf("store: compaction: install %s: %w", name, err)
		}
		w.fixes = append(w.fixes, fix)
	}
	return syncDir(s.fs, s.dir)
}

// cleanup removes the temporary files of an unfinished compaction.
func (w *compactWriter) cleanup() {
	if w.switched {
		return
	}
	for _, name := range append(w.files, w.fixes...) {
		w.s.fs.Remove(name) // most were renamed: not-exist errors are expected
	}
}
