package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
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

// moved is an index entry a compaction re-points at the switch (48 bytes:
// a compaction of n live records holds n of them).
type moved struct {
	hash     uint64 // for a keyed entry; the id for an entry of the id index
	old, new uint64 // locations; new = 0: drop the entry (expired)
	img      uint64 // for an operation record of a chain: its image's (old) location; else 0
	size     uint32 // the record's padded size (maxRecordLen fits)
	db       int32  // -1 for the id index
	// slot is where pass 2 found the entry in its table (a hint, checked
	// at the switch: the table may have changed since); then, at the
	// switch, where it is (-1: overwritten or deleted meanwhile).
	slot int64
}

// compact rewrites the sealed segments (the log before the active
// segment: a prefix of it), all of them or a suffix of them (a partial
// compaction, when the segments before it hold little to reclaim), into as
// few new segments as the live records need, then switches. See doc.go,
// "Compaction" and "Partial compaction", for the protocol and why each
// step is safe. It returns errCompactAborted if the log changed in a
// way the rewrite cannot absorb, nil if there was nothing to compact.
func (s *Store) compact() (err error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.compacting.Store(true)
	defer s.compacting.Store(false)
	started := time.Now()

	// Only durable segments are rewritten (recovery may cut an unsealed
	// one): seal those rotations left (sync.go) first.
	s.sealPending()
	s.metaMu.Lock()
	s.appendMu.Lock()
	if s.closed.Load() || s.failure.Load() != nil {
		s.appendMu.Unlock()
		s.metaMu.Unlock()
		return ErrClosed
	}
	if s.switchPending {
		// The metadata still has the last switch's first_segment: a crash
		// during this compaction would make Open take this one's .fix
		// files for that switch's. Clear it first.
		if err := s.writeMeta(false); err != nil {
			s.appendMu.Unlock()
			s.metaMu.Unlock()
			return err
		}
	}
	ss := *s.segs.Load()
	k := s.active.id - 1
	if len(s.unsealed) > 0 {
		k = s.unsealed[0].id - 1 // rotated since sealPending
	}
	var first uint32
	for id := uint32(1); id <= k; id++ {
		if int(id) < len(ss) && ss[id] != nil {
			first = id
			break
		}
	}
	s.appendMu.Unlock()
	s.metaMu.Unlock()
	if first == 0 {
		return nil // no sealed segment
	}
	var y yielder
	// Which segments to rewrite: all of them, or only a suffix when the
	// segments before it hold little to reclaim (a large dataset written
	// once, then a churning few keys): see doc.go, "Partial compaction".
	start := first
	var nValues, nOther int // records that may move (pass 1 counts them unless the survey did)
	pass1 := true
	if k > first {
		sv, err := s.survey(ss, first, k, &y)
		if err != nil {
			return err
		}
		i := chooseStart(sv)
		if s.hooks.compactStart != nil {
			i = s.hooks.compactStart(sv, i)
		}
		pass1 = false
		for _, g := range sv[i:] {
			pass1 = pass1 || g.dbOp
			nValues += g.values
			nOther += g.others
		}
		if pass1 && i > 0 {
			return errors.New("store: compaction: a partial rewrite must start after the last database operation")
		}
		start = sv[i].id
	}
	partial := start > first
	var kept uint32
	for id := first; id < start; id++ {
		if ss[id] != nil {
			kept++
		}
	}
	var inBytes int64
	var nIn uint32
	for id := start; id <= k; id++ {
		if ss[id] != nil {
			inBytes += int64(len(ss[id].data))
			nIn++
		}
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
		for id := start; id <= k; id++ {
			if ss[id] == nil {
				continue // a gap left by a partial compaction
			}
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
				y.add(size)
			}
		}
		return nil
	}
	for d := range content {
		content[d] = d
	}
	next := ndb
	// Pass 1 only needs the database operations, and counts the records
	// that may move (to size the list of moves). It reads the other
	// records' headers only, without verifying their checksums: pass 2
	// verifies every record, and pass 1's result is used only if pass 2
	// succeeds, which means both walked the same, well-formed records.
	// The survey counted the records already: pass 1 runs only if there is
	// a database operation to follow.
	if pass1 {
		nValues, nOther = 0, 0
	}
	for id := start; pass1 && id <= k; id++ {
		if ss[id] == nil {
			continue
		}
		if s.closed.Load() {
			return ErrClosed
		}
		data := ss[id].data
		for off := int64(segHeaderSize); off < int64(len(data)); {
			if n, kind, ok := peekRecord(data[off:]); ok {
				if kind.IsValue() {
					nValues++
				} else {
					nOther++
				}
				off += n
				y.add(n)
				continue
			}
			h, _, value, size, st, why := decodeRecord(data[off:])
			if st == recEnd {
				break
			}
			if st != recOK {
				return fmt.Errorf("%w: %s offset %d: %s", ErrCorrupt, ss[id].path, off, why)
			}
			evolve(h, value, &next)
			off += size
		}
	}
	dbOf := make(map[int]int, ndb) // class -> database at the end of the prefix
	for d, c := range content {
		dbOf[c] = d
	}

	// Pass 2: copy the live records, in log order, into temporary files.
	// A record is live iff its key's slot holds its very location: findLoc
	// answers that from the table alone (no read of the mapped key).
	var liveKeys, liveOthers int
	var liveBytes int64
	for i := range s.dbs {
		d := &s.dbs[i]
		d.mu.RLock()
		liveKeys += d.t.used
		liveBytes += d.t.live
		for _, c := range d.chains {
			liveOthers += c.ops.len()
		}
		d.mu.RUnlock()
	}
	s.ids.mu.RLock()
	liveBytes += s.ids.live
	liveOthers += s.ids.n
	s.ids.mu.RUnlock()
	out := &compactWriter{s: s, segSize: s.opts.SegmentSize, left: liveBytes}
	defer out.cleanup()
	moves := hugeSlice[moved](min(nValues, liveKeys)) // keyed entries (values), log order
	// Expired entries, chain operations, ids. Sized for the live operations
	// and ids, or the prefix's other records if fewer: grown by append, it
	// was copied about 5 times over and faulted in fresh memory at each
	// growth (467 MB allocated for a chain of 1M operations; hotpath.md,
	// "Compaction's lists of moved entries").
	others := hugeSlice[moved](min(nOther, liveOthers))
	for d := range content {
		content[d] = d
	}
	next = ndb
	// Value records are judged in groups (valueBatch): the home slots of a
	// group's keys are touched first, so that their cache misses overlap
	// instead of costing one full miss per record. Any other record
	// flushes the group first, so records are still handled in log order.
	var batch valueBatch
	judge := func(v *pendingValue) error {
		d := &s.dbs[v.db]
		d.mu.RLock()
		i := d.t.findLoc(v.hash, v.loc)
		var exp int64
		if i >= 0 {
			exp = d.t.slots[i].expireAt
		}
		d.mu.RUnlock()
		size := uint32(len(v.rec))
		switch {
		case i < 0:
		case !partial && exp != 0 && exp <= now: // a partial rewrite copies it: an older version may stay before start
			others = append(others, moved{db: int32(v.db), hash: v.hash, old: v.loc, size: size, slot: -1})
		default:
			h := v.h
			nl, err := out.add(v.rec, recHeader{seq: h.seq, db: uint32(v.db), kind: h.kind, expireAt: exp}, v.key, v.value, h.db != uint32(v.db) || h.expireAt != exp)
			if err != nil {
				return err
			}
			moves = append(moves, moved{db: int32(v.db), hash: v.hash, old: v.loc, new: nl, size: size, slot: int64(i)})
		}
		return nil
	}
	flush := func() error {
		s.compactSink += batch.touch(s)
		for i := range batch.n {
			if err := judge(&batch.v[i]); err != nil {
				return err
			}
		}
		batch.n = 0
		return nil
	}
	err = scan(func(h recHeader, key, value, rec []byte, loc uint64) error {
		s.compactProgress.Add(int64(len(rec)))
		if h.kind.IsValue() {
			db, ok := dbOf[content[h.db]]
			if !ok {
				return nil // its database was flushed later in the prefix
			}
			batch.v[batch.n] = pendingValue{h: h, key: key, value: value, rec: rec, loc: loc, hash: s.dbs[db].hash(key), db: db}
			if batch.n++; batch.n == len(batch.v) {
				return flush()
			}
			return nil
		}
		if err := flush(); err != nil {
			return err
		}
		switch {
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
			i := d.opSlot(hash, loc)
			var img uint64
			var exp int64
			if i >= 0 {
				img, exp = d.t.slots[i].loc, d.t.slots[i].expireAt
			}
			d.mu.RUnlock()
			if i < 0 || !partial && exp != 0 && exp <= now {
				return nil
			}
			nl, err := out.add(rec, recHeader{seq: h.seq, db: uint32(db), kind: h.kind}, key, value, h.db != uint32(db))
			if err != nil {
				return err
			}
			others = append(others, moved{db: int32(db), hash: hash, old: loc, new: nl, size: uint32(len(rec)), img: img, slot: -1})
		case h.kind == kindIDPut:
			id := ID(binary.BigEndian.Uint64(key))
			s.ids.mu.RLock()
			live := s.ids.findLoc(id, loc) >= 0
			s.ids.mu.RUnlock()
			if live {
				nl, err := out.add(rec, h, key, value, false)
				if err != nil {
					return err
				}
				others = append(others, moved{db: -1, hash: uint64(id), old: loc, new: nl, size: uint32(len(rec)), slot: -1})
			}
		case partial && (h.kind == kindDelete || h.kind == kindExpire || h.kind == kindIDDelete):
			// The records these operations affect may be before start, in
			// segments that stay: copy the operation if it still decides
			// something there.
			if s.stillDecides(h, key, start) {
				if _, err := out.add(rec, h, key, value, false); err != nil {
					return err
				}
			}
		default:
			// Operations only affect older records, all in the prefix and
			// all resolved above: none is needed any more. (A partial
			// rewrite starts after the last database operation.)
			evolve(h, value, &next)
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if err := out.finish(); err != nil {
		return err
	}
	s.compactProgress.Store(inBytes)
	m := uint32(len(out.files))
	if m > k-start+1 {
		return fmt.Errorf("store: compaction needs %d segments for %d", m, k-start+1)
	}
	F := k - m + 1 // the outputs take the ids of the last m inputs
	// Everything that does not need the log to stand still happens before
	// the switch takes appendMu: the outputs get their ids and names (a
	// crash before the switch leaves .fix files that Open removes), the
	// moves are put in table order (the switch then walks each table
	// forward instead of at random), and the writes liveness was judged
	// against are made durable (below).
	// No snapshot writer may be reading the old segments from here on, and
	// index.toon, which describes the old layout (same ids, other
	// contents), goes before the switch: install's directory fsync makes
	// both durable. (If the switch then aborts, the next Open replays the
	// log instead of loading a snapshot, or the next snapshot comes first.)
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := s.fs.Remove(filepath.Join(s.dir, snapName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: compaction: remove %s: %w", snapName, err)
	}
	if err := out.install(F); err != nil {
		return err
	}
	s.tableOrder(moves)
	// Liveness was judged against the whole log up to the end of pass 2,
	// including unsynced writes (an overwrite, a delete): make them
	// durable before their older versions disappear, or a crash could
	// lose both. (Writes after pass 2 decided nothing.)
	s.syncNow()
	if f := s.failure.Load(); f != nil {
		return f.ro
	}

	if s.hooks.beforeSwitch != nil {
		s.hooks.beforeSwitch()
	}
	// The switch: writers wait (readers too, for the index flip).
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	writersStalled := time.Now()
	if s.closed.Load() || s.failure.Load() != nil {
		return ErrClosed
	}
	if s.lastSwapLoc != 0 && locSeg(s.lastSwapLoc) > k {
		return errCompactAborted // a SWAPDB after the prefix: the databases of the copies are stale
	}
	for _, mv := range others {
		if mv.new == 0 { // an expired key must still be there, still expired
			d := &s.dbs[mv.db]
			j := d.t.findLoc(mv.hash, mv.old)
			if j >= 0 && (d.t.slots[j].expireAt == 0 || d.t.slots[j].expireAt > now) {
				return errCompactAborted
			}
		}
	}
	meta := s.metaLocked(false) // lists the segments rotated in since ss was taken too
	meta.firstSegment = F
	all := meta.segments
	meta.segments = nil
	for _, ms := range all {
		if ms.id < start { // a partial rewrite's kept segments (none for a whole one)
			meta.segments = append(meta.segments, ms)
		}
	}
	if partial {
		meta.keepBelow = start
	}
	for j, sz := range out.sizes {
		meta.segments = append(meta.segments, metaSegment{F + uint32(j), sz})
	}
	for _, ms := range all {
		if ms.id > k {
			meta.segments = append(meta.segments, ms)
		}
	}
	if err := writeMetadata(s.fs, s.dir, meta); err != nil { // the switch (if the rename happened)
		return s.fail(fmt.Errorf("store: compaction switch: %w", err)).ro
	}
	out.switched = true
	// The renames finishSwitch does here are this compaction's own, not
	// the recovery of an interrupted one: no log line per output segment.
	if err := finishSwitch(s.fs, s.dir, meta, zap.NewNop()); err != nil {
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
	retired, pause := s.flip(moves, others, start, k, F, newSegs)
	var outBytes int64
	for _, g := range newSegs {
		outBytes += int64(len(g.data))
	}
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
	s.log.Info("store: compacted the log", zap.Uint32("segments_in", nIn), zap.Uint32("segments_out", m),
		zap.Uint32("segments_kept", kept),
		zap.Int64("bytes_reclaimed", inBytes-outBytes), zap.Int("records_moved", len(moves)+len(others)),
		zap.Duration("pause", pause), zap.Duration("write_pause", time.Since(writersStalled)),
		zap.Duration("took", time.Since(started)))
	return nil
}

// flip re-points the index entries of moves and others at their copies
// in the outputs (whose ids start at F) and swaps the segment set: newSegs
// replace the segments first..k, which it returns. The caller holds appendMu,
// so no table, chain or id entry changes meanwhile: the entries are found
// without database locks (readers go on) and the write locks are held
// only to write the new locations; it returns how long they were held.
// moves is in table order (database, then slot), so that both walks go
// forward through each table instead of at random.
func (s *Store) flip(moves, others []moved, first, k, F uint32, newSegs []*segment) (retired []*segment, pause time.Duration) {
	s.sealOpen() // the switch rewrites chains: the open record's may move
	for i := range s.dbs {
		s.dbs[i].stopGrowth() // the switch rewrites slots in place
	}
	lockAll := func() time.Time {
		for i := range s.dbs {
			s.dbs[i].mu.Lock()
		}
		s.ids.mu.Lock()
		return time.Now()
	}
	unlockAll := func(since time.Time) {
		pause += time.Since(since)
		s.ids.mu.Unlock()
		for i := len(s.dbs) - 1; i >= 0; i-- {
			s.dbs[i].mu.Unlock()
		}
	}
	newLoc := func(l uint64) uint64 { return makeLoc(F+locSeg(l), locOff(l)) }
	// Drop the expired entries first: deletion moves slots. Readers may
	// see them gone before the rest of the flip: that is a state of the
	// store like any other (the old segments still back every entry).
	for _, mv := range others {
		if mv.new == 0 {
			since := lockAll()
			for _, mv := range others {
				if mv.new == 0 {
					d := &s.dbs[mv.db]
					if j := d.t.findLoc(mv.hash, mv.old); j >= 0 {
						d.t.deleteAt(j, int64(mv.size)+d.chainBytes(mv.old), nil)
						delete(d.chains, mv.old)
					}
				}
			}
			unlockAll(since)
			break
		}
	}
	// New locations reuse the ids (F..k) of old ones, so a new location may
	// equal another record's old one: find every slot by its old location
	// (pass 2's slot, checked; else a probe) before any is written. A slot
	// holding the old location is the entry's: locations are unique.
	for n := range moves {
		mv := &moves[n]
		t := s.dbs[mv.db].t
		if j := mv.slot; j < 0 || j >= int64(len(t.slots)) || t.slots[j].loc != mv.old || t.slots[j].hash != uint32(mv.hash) {
			mv.slot = int64(t.findLoc(mv.hash, mv.old)) // -1: overwritten or deleted meanwhile
		}
	}
	// Chains: find every moved operation (by its image's old location) and
	// every moved image's chain before any location changes.
	type chainMove struct {
		c   *chain
		j   int    // index of the operation in c.ops, or -1 for an image
		db  int32  // for an image: its database
		old uint64 // for an image: its old location
		new uint64 // its new location
	}
	nc := 0 // chainMove entries: the moved operations, and the moved images with a chain (at most one per chain)
	for n := range others {
		if others[n].img != 0 {
			nc++
		}
	}
	for i := range s.dbs {
		nc += len(s.dbs[i].chains)
	}
	cmoves := hugeSlice[chainMove](nc)
	for n := range others {
		mv := &others[n]
		switch {
		case mv.new == 0:
		case mv.db < 0:
			mv.slot = int64(s.ids.findLoc(ID(mv.hash), mv.old))
		case mv.img != 0:
			if c, j := s.dbs[mv.db].opIndex(mv.img, mv.old); j >= 0 {
				cmoves = append(cmoves, chainMove{c: c, j: j, new: newLoc(mv.new)})
			}
		}
	}
	for _, mv := range moves {
		if d := &s.dbs[mv.db]; mv.slot >= 0 && len(d.chains) > 0 {
			if c := d.chains[mv.old]; c != nil {
				cmoves = append(cmoves, chainMove{c: c, j: -1, db: mv.db, old: mv.old, new: newLoc(mv.new)})
			}
		}
	}

	// Write them, and swap the segment set, under every DB lock, in order,
	// then the id index's.
	since := lockAll()
	for _, cm := range cmoves {
		if cm.j < 0 {
			delete(s.dbs[cm.db].chains, cm.old)
		}
	}
	for _, cm := range cmoves {
		if cm.j >= 0 {
			cm.c.ops.set(cm.j, cm.new)
		} else {
			s.dbs[cm.db].chains[cm.new] = cm.c
		}
	}
	for _, mv := range moves {
		if mv.slot >= 0 {
			s.dbs[mv.db].t.slots[mv.slot].loc = newLoc(mv.new)
		}
	}
	for _, mv := range others {
		if mv.db < 0 && mv.slot >= 0 {
			s.ids.ents[mv.slot].loc = newLoc(mv.new)
		}
	}
	nss := append(segSet(nil), *s.segs.Load()...)
	for id := first; id <= k; id++ {
		if nss[id] != nil {
			retired = append(retired, nss[id])
			nss[id] = nil
		}
	}
	for j, g := range newSegs {
		nss[F+uint32(j)] = g
	}
	s.segs.Store(&nss)
	unlockAll(since)
	return retired, pause
}

// tableOrder puts moves (keyed entries) in table order, closely enough
// for the switch's walks to stay within a few KiB of each table at a time:
// by database, then by bucket of at most 2^12 buckets of each table's
// slots (pass 2's slots, a hint). One in-place pass of American flag
// sort, no allocation but the bucket counts: O(len(moves)).
func (s *Store) tableOrder(moves []moved) {
	const bucketBits = 12
	shift := make([]int, len(s.dbs))
	base := make([]int, len(s.dbs)+1) // first bucket of each database
	for i := range s.dbs {
		d := &s.dbs[i]
		d.mu.RLock()
		n := len(d.t.slots)
		d.mu.RUnlock()
		shift[i] = max(0, bits.Len(uint(n-1))-bucketBits)
		base[i+1] = base[i] + (n-1)>>shift[i] + 1
	}
	bucket := func(mv *moved) int {
		b := base[mv.db]
		if mv.slot >= 0 {
			b += int(mv.slot >> shift[mv.db])
		}
		return min(b, base[mv.db+1]-1) // a slot of a table since shrunk
	}
	next := make([]int, base[len(s.dbs)]+1)
	for n := range moves {
		next[bucket(&moves[n])+1]++
	}
	for b := 1; b < len(next); b++ {
		next[b] += next[b-1]
	}
	end := append([]int(nil), next[1:]...)
	for b := range end {
		// next[b] is the first place of bucket b not yet holding one of its
		// moves; end[b] the end of its places.
		for next[b] < end[b] {
			mv := moves[next[b]]
			for c := bucket(&mv); c != b; c = bucket(&mv) {
				moves[next[c]], mv = mv, moves[next[c]]
				next[c]++
			}
			moves[next[b]] = mv
			next[b]++
		}
	}
}

// stillDecides reports whether a partial compaction starting at segment
// start must copy the operation record h (a deletion, an expiry change or
// an id's deletion, in the rewritten segments): whether it may still
// decide the fate of a record before start, which the rewrite keeps as it
// is and a replay applies first. A deletion decides something iff its key
// is still absent (a present key's record is newer than the deletion, so
// the replay applies it last anyway); an expiry change iff its key's
// current record is before start (a record at or after start is copied
// with its current expiry, and a newer one makes the change moot); an id's
// deletion iff the id is still absent. Database operations cannot be in a
// partial rewrite (chooseStart), so h.db is the key's database.
func (s *Store) stillDecides(h recHeader, key []byte, start uint32) bool {
	switch h.kind {
	case kindIDDelete:
		s.ids.mu.RLock()
		defer s.ids.mu.RUnlock()
		return s.ids.find(ID(binary.BigEndian.Uint64(key))) < 0
	case kindDelete, kindExpire:
		d := &s.dbs[h.db]
		hash := d.hash(key)
		d.mu.RLock()
		defer d.mu.RUnlock()
		i := d.t.find(*s.segs.Load(), hash, key)
		if h.kind == kindDelete {
			return i < 0
		}
		return i >= 0 && locSeg(d.t.slots[i].loc) < start
	}
	return false
}

// peekRecord returns the padded size and kind of the record at the start
// of b from its header alone (no checksum), and ok, if the header is
// plausible and the record is not a database operation (SWAPDB, FLUSHDB,
// FLUSHALL); otherwise the caller decodes it with decodeRecord.
func peekRecord(b []byte) (size int64, kind Kind, ok bool) {
	if len(b) < recHeaderSize {
		return 0, 0, false
	}
	n := int64(binary.LittleEndian.Uint32(b[offLength:]))
	kind = Kind(b[offKind])
	if n < recHeaderSize || padded(n) > int64(len(b)) || kind == 0 || kind > maxOpKind ||
		kind == kindSwapDB || kind == kindFlushDB || kind == kindFlushAll {
		return 0, 0, false
	}
	return padded(n), kind, true
}

// opSlot returns the slot of the key (of hash h) whose chain holds the
// operation record at loc, or -1. A location is in one chain at most, so
// no key is read from the mapping. The caller holds a lock of d.
func (d *DB) opSlot(h, loc uint64) int {
	if len(d.chains) == 0 {
		return -1
	}
	t := d.t
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.loc == 0 {
			return -1
		}
		if sl.hash == uint32(h) {
			if _, j := d.opIndex(sl.loc, loc); j >= 0 {
				return int(i)
			}
		}
	}
}

// pendingValue is a value record compaction's pass 2 has read and not yet
// judged (valueBatch).
type pendingValue struct {
	h               recHeader
	key, value, rec []byte // in the mapping
	loc, hash       uint64
	db              int // the database it belongs to at the end of the prefix
}

// valueBatch holds up to prefetchGroup value records of pass 2.
type valueBatch struct {
	v [prefetchGroup]pendingValue
	n int
}

// touch loads the home slot of every record's key, one read lock per run
// of records of the same database: independent loads, so their cache
// misses overlap, and the findLoc that follows hits warm lines (as
// DB.Prefetch does for pipelined lookups). It returns a value derived
// from the loads so that they are not optimized away.
func (b *valueBatch) touch(s *Store) uint64 {
	var sink uint64
	for i := 0; i < b.n; {
		d := &s.dbs[b.v[i].db]
		d.mu.RLock()
		slots, mask := d.t.slots, d.t.mask
		for ; i < b.n && b.v[i].db == d.n; i++ {
			sink += uint64(slots[b.v[i].hash&mask].hash)
		}
		d.mu.RUnlock()
	}
	return sink
}

// findLoc returns the slot holding loc for a key of hash h, or -1.
func (t *table) findLoc(h, loc uint64) int {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.loc == 0 {
			return -1
		}
		if s.loc == loc && s.hash == uint32(h) {
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
		s.rechunkSealed()
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

// compactTrigger is when the background loop compacts (SetCompactTrigger).
type compactTrigger struct {
	ratio   float64 // dead bytes over sealed bytes, as Options.CompactRatio; <= 0: never
	minSize int64   // log bytes (every segment's) below which it never does
}

// SetCompactTrigger sets when the background loop compacts, the way
// Redis's auto-aof-rewrite-percentage and auto-aof-rewrite-min-size start
// BGREWRITEAOF: when the dead bytes reach percent% of the live ones (the
// log has grown percent% past what a compaction would leave of it) and the
// log's segments take at least minSize bytes. percent 0 disables it
// (Compact still works). percent p is Options.CompactRatio p/(100+p): 100,
// Redis's default, is DefaultCompactRatio. A larger percent compacts less
// often, so costs less CPU per write, for more disk: the log stays under
// about (1+percent/100) times the live bytes, plus a segment. It has no
// effect on a store opened with a negative CompactRatio (no background
// loop).
func (s *Store) SetCompactTrigger(percent, minSize int64) {
	t := &compactTrigger{minSize: minSize}
	if percent > 0 {
		t.ratio = float64(percent) / (100 + float64(percent))
	}
	s.trigger.Store(t)
	if s.compactKick != nil {
		select { // check now, not at the next tick
		case s.compactKick <- struct{}{}:
		default:
		}
	}
}

// compactDue estimates whether compaction would reclaim enough: dead
// bytes (sealed segments' bytes minus live bytes, assuming every live
// record is sealed, which underestimates) at least CompactRatio of the
// sealed bytes and at least one segment's worth, and the log at least
// the trigger's minimum size (SetCompactTrigger).
func (s *Store) compactDue() bool {
	ratio, minSize := s.opts.CompactRatio, int64(0)
	if t := s.trigger.Load(); t != nil {
		ratio, minSize = t.ratio, t.minSize
	}
	if ratio <= 0 {
		return false
	}
	s.appendMu.Lock()
	total := s.diskBytes.Load()
	sealed := total - int64(len(s.active.data))
	s.appendMu.Unlock()
	if sealed <= 0 || total < minSize {
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
	return dead >= s.opts.SegmentSize && float64(dead) >= ratio*float64(sealed)
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
// (numbered in order; their segment ids are known only at the end),
// through a buffer of about compactChunk bytes (records larger than that
// are written directly), not the whole segment in memory.
//
// Every write but an output's last (and those around a record written
// directly) covers whole compactChunk-aligned chunks of the file: Linux
// then keeps the output in the page cache in folios of that size, 2 MiB,
// which a read through the mapping maps with one page-table entry. Written
// in unaligned pieces, the same bytes sat in small folios that reads mapped
// 64 KiB per page fault, and every read of a compacted log paid those
// faults again (perf/results/hotpath.md, "Compaction writes whole 2 MiB
// chunks").
type compactWriter struct {
	s        *Store
	segSize  int64
	left     int64    // estimated bytes still to come (live bytes): sizes the buffer
	files    []string // temporary files, in order
	fixes    []string // their names once installed
	sizes    []int64
	f        File   // the output being written; nil if none
	off      int64  // its bytes so far (header included)
	size     int64  // its size
	buf      []byte // its last bytes, not yet written: offsets off-len(buf)..off
	switched bool   // the metadata switch happened: the files are the log's
}

// compactChunk is the unit of a compaction's writes: the size of a huge
// page (a PMD-mapped folio) on x86-64 and arm64 with 4 KiB pages.
const compactChunk = 2 << 20

// add appends a record and returns its location as (ordinal << 40 | off).
// If rewrite, the record is re-encoded from h, key and value (another
// database or expiry); else rec is copied as is.
func (w *compactWriter) add(rec []byte, h recHeader, key, value []byte, rewrite bool) (uint64, error) {
	n := int64(len(rec))
	if w.f == nil || w.off+n > w.size {
		if err := w.next(n); err != nil {
			return 0, err
		}
	}
	off := w.off
	if n > compactChunk && !rewrite {
		if err := w.write(); err != nil {
			return 0, err
		}
		if _, err := w.f.WriteAt(rec, off); err != nil {
			return 0, w.fail(err)
		}
	} else {
		i := len(w.buf)
		w.buf = append(w.buf, rec...)
		if rewrite {
			encodeRecord(w.buf[i:], h, key, value)
		}
	}
	w.off += n
	w.left -= n
	if err := w.writeChunks(); err != nil {
		return 0, err
	}
	return makeLoc(uint32(len(w.files)-1), off), nil
}

// writeChunks writes the buffered bytes up to the last compactChunk
// boundary they reach, if they reach one, and keeps the rest.
func (w *compactWriter) writeChunks() error {
	start := w.off - int64(len(w.buf))
	k := w.off&^(compactChunk-1) - start
	if k <= 0 {
		return nil
	}
	if _, err := w.f.WriteAt(w.buf[:k], start); err != nil {
		return w.fail(err)
	}
	w.buf = w.buf[:copy(w.buf, w.buf[k:])]
	return nil
}

// next closes the current output and starts the next one, with room for a
// record of n bytes (id 0 in its header for now): a temporary file,
// preallocated.
func (w *compactWriter) next(n int64) error {
	if err := w.close(); err != nil {
		return err
	}
	s := w.s
	name := filepath.Join(s.dir, fmt.Sprintf("compact-%06d%s", len(w.files), tmpSuffix))
	f, err := s.fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("store: compaction: %w", err)
	}
	w.files = append(w.files, name)
	w.size = max(w.segSize, segHeaderSize+n)
	w.sizes = append(w.sizes, w.size)
	w.f = f
	if err := s.hooks.allocate(f, w.size); err != nil {
		return w.fail(err)
	}
	if w.buf == nil {
		w.buf = make([]byte, 0, min(2*compactChunk, max(w.left+segHeaderSize, 64<<10)))
	}
	var hdr [segHeaderSize]byte
	w.buf = append(w.buf[:0], hdr[:]...)
	w.off = segHeaderSize
	return nil
}

// write writes the buffered bytes of the current output.
func (w *compactWriter) write() error {
	if _, err := w.f.WriteAt(w.buf, w.off-int64(len(w.buf))); err != nil {
		return w.fail(err)
	}
	w.buf = w.buf[:0]
	return nil
}

// close writes the rest of the current output, fsyncs and closes it.
func (w *compactWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.write()
	if err == nil {
		if err = w.f.Sync(); err != nil {
			err = w.fail(err)
		}
	}
	if w.f != nil {
		if cerr := w.f.Close(); err == nil && cerr != nil {
			err = w.fail(cerr)
		}
		w.f = nil
	}
	return err
}

// fail closes the current output after err and returns err wrapped.
func (w *compactWriter) fail(err error) error {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	return fmt.Errorf("store: compaction: write %s: %w", w.files[len(w.files)-1], err)
}

func (w *compactWriter) finish() error { return w.close() }

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
		_, err = f.WriteAt(encodeSegHeader(id, 0), 0)
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
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if w.switched {
		return
	}
	for _, name := range append(w.files, w.fixes...) {
		w.s.fs.Remove(name) // most were renamed: not-exist errors are expected
	}
}
