package store

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Store is a ToonStore data directory opened for use: an append-only log of
// records in memory-mapped, preallocated segments, and in-memory indexes
// (one table per logical database plus one for the id API) that point at
// the newest record of every live key. All methods are safe for concurrent
// use by multiple goroutines.
//
// Writers serialize on appendMu: they encode a record into the write
// buffer at the write offset (wbuf.go; a flush copies it to the active
// segment's file), then update the index under the database's lock.
// Readers take only the database's read lock and read the record from the
// mapping (or copy it from the write buffer if it was not flushed yet);
// they never wait for an fsync or for the append mutex. See doc.go for the lock order and the crash invariants.
type Store struct {
	dir  string
	opts Options
	log  *zap.Logger
	hkey hashKey // keys the indexes' hash: random, or the loaded snapshot's (fixed once Open has loaded it)
	// releasing is set while a releaseGarbage goroutine runs; releases
	// counts the ones that finished.
	releasing atomic.Bool
	releases  atomic.Uint64
	fs        FS
	hooks     *hooks
	lock      io.Closer // holds the lock on dir/LOCK

	// segs is the current segment snapshot, replaced (never modified) by
	// rotate, so readers load it without a lock.
	segs atomic.Pointer[segSet]

	// closed is set once by Close, under appendMu (so no append starts
	// after it) and before Close waits out the readers (so a reader that
	// takes a database lock after that sees it).
	closed atomic.Bool
	// failure is the first failed write or sync; once set, every write
	// returns failure.ro (ErrReadOnly wrapping the cause).
	failure atomic.Pointer[failure]

	appendMu sync.Mutex // guards active, woff, seq, nextID, segment.written/synced; serializes index mutations
	active   *segment   // the segment appends go to (the last one)
	woff     int64      // write offset in active; bytes at and after it are zero
	seq      uint64     // sequence number of the last record appended
	lastLoc  uint64     // location of the last record appended (0 if none)
	nextID   ID         // the id the next Put returns; never reused
	// wb is the write buffer (wbuf.go; appendMu, and wb.mu for readers);
	// unflushed is the size of the records it holds that are not yet in
	// the file. wview* cache the writers' view of the segments (wview).
	wb        wbuf
	unflushed atomic.Int64
	wviewSS   segSet
	wviewOf   *segSet
	wviewAct  *segment
	// merger, open and mergeScratch are operation merging's (merge.go),
	// guarded by appendMu.
	merger       OpMerger
	open         openOp
	mergeScratch []byte

	// Snapshot state (snapshot.go). snapMu serializes snapshot writers;
	// snapSeq (the sequence number the last snapshot covers), sinceSnap and
	// sinceSnapRecs (log bytes and records appended since) and snapNeedRecs
	// (records the next snapshot waits for; -1: not computed yet) are
	// guarded by appendMu.
	snapMu        sync.Mutex
	snapSeq       uint64
	sinceSnap     int64
	sinceSnapRecs int64
	snapNeedRecs  int64
	snapKick      chan struct{} // capacity 1; appendLocked kicks the snapshot goroutine
	stopSnap      chan struct{}
	snapDone      chan struct{}
	snapshots     atomic.Uint64

	// Compaction state (compact.go). compactMu serializes compactions;
	// lastSwapLoc (the location of the newest SWAPDB record, or a bound on
	// it) is guarded by appendMu.
	compactMu       sync.Mutex
	compactSink     uint64 // valueBatch.touch's loads end here (compactMu)
	compacting      atomic.Bool
	trigger         atomic.Pointer[compactTrigger] // nil: Options.CompactRatio (SetCompactTrigger)
	compactProgress atomic.Int64
	compactTotal    atomic.Int64
	compactions     atomic.Uint64
	reclaimed       atomic.Int64
	lastSwapLoc     uint64
	switchPending   bool // metadata.toon still names a finished switch's first_segment (appendMu)
	compactKick     chan struct{}
	// rechunkQ lists the segments sealed since compactLoop last looked,
	// for it to rebuild their page cache in huge folios (rechunk.go).
	// Guarded by appendMu; only kept with the background loop.
	rechunkQ []uint32
	rechunks atomic.Uint64 // rechunk calls that rebuilt something (tests)
	// rechunkSeen and rechunkSeenAt are the active segment and its
	// flushed offset at the last pass of rechunkSealed (compactLoop only).
	rechunkSeen     *segment
	rechunkSeenAt   int64
	noRechunk       atomic.Bool // rechunk is off: not asked for (Options.Rechunk), no huge pages, or no effect
	stopCompact     chan struct{}
	compactLoopDone chan struct{}
	unmapping       atomic.Bool // set by Close before it unmaps: no snapshot may start
	retireMu        sync.Mutex  // guards retired
	retired         []retiredSeg

	gc groupCommit // Sync's group-commit state (its own mutex)

	dbs []DB
	ids idIndex

	opsPool sync.Pool // *[][]byte buffers of GetChain

	writes     atomic.Uint64
	mergedOps  atomic.Uint64 // operations merged into the record before them (merge.go)
	syncs      atomic.Uint64
	diskBytes  atomic.Int64
	recovered  int64  // set by Open, then read-only
	replayed   int64  // records replayed by Open, then read-only
	applyFrom  uint64 // Open: records at lower locations are covered by the snapshot (verified, not applied)
	loadedSnap bool   // Open loaded index.toon; then read-only
	truncated  int64  // set by Open, then read-only

	// kickQ carries flushLocked's writeback kicks to writebackLoop, which
	// stops when stopWB is closed and then closes wbDone.
	kickQ          chan kick
	stopWB, wbDone chan struct{}
	kicks          atomic.Int64  // writebacks started (tests)
	stopBG         chan struct{} // closed by Close to stop the background syncer
	bgDone         chan struct{} // closed by the background syncer when it exits

	// unsealed lists, in order, the segments a rotation sealed without
	// their fdatasync (sync policies everysec and no): syncNow makes each
	// durable and clears its successor's segFlagPredUnsealed before
	// anything later counts as synced. sealKick wakes syncLoop for them.
	// Guarded by appendMu.
	unsealed []*segment
	sealKick chan struct{}
	// metaDue: a rotation added a segment that metadata.toon does not list
	// yet (syncLoop rewrites it: rotationMeta). durableSeq: the highest
	// sequence number known durable, metadata.toon's last_sequence (the
	// log must reach it after any crash). Both guarded by appendMu.
	metaDue    bool
	durableSeq uint64
	// metaMu serializes the rewrites of metadata.toon while the store is
	// open (rotationMeta, compaction); taken before appendMu.
	metaMu sync.Mutex
	// sealMu: one sealPending at a time (syncLoop's, Sync's, compaction's).
	sealMu sync.Mutex
	// spareID is the id of the next segment a goroutine started by the
	// last rotation is preparing (prepareSpare; 0: none), which it hands
	// over on spareCh (nil if it failed). Guarded by appendMu.
	spareID uint32
	spareCh chan *segment
}

// failure is a sticky write or sync error.
type failure struct {
	cause error // what failed
	ro    error // ErrReadOnly wrapping cause, returned to writers
}

// ID is a record identifier of the seed's id API. IDs are assigned in
// increasing order from 1 and never reused, even after Delete and restarts.
type ID uint64

// Open opens (creating if needed) the data directory dir, takes its LOCK
// (ErrLocked if another process holds it), recovers the index from the
// segments (cutting a torn tail) and returns the store.
//
// Open returns an error wrapping ErrCorrupt, naming the file and offset,
// if a segment other than the last holds an invalid record, if a segment
// is missing, or if the last segment is damaged although the previous run
// shut down cleanly.
func Open(dir string, opts Options) (*Store, error) { return open(dir, opts, nil) }

func open(dir string, opts Options, h *hooks) (_ *Store, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if ld := opts.Load; ld != nil {
		ld.done.Store(0)
		ld.total.Store(0)
		ld.loading.Store(true)
		defer ld.loading.Store(false)
	}
	if h == nil {
		h = defaultHooks()
	}
	fs := opts.FS
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", dir, err)
	}
	lock, err := fs.Lock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:    dir,
		opts:   opts,
		log:    opts.Logger,
		hkey:   newHashKey(),
		fs:     fs,
		hooks:  h,
		lock:   lock,
		nextID: 1,
		dbs:    make([]DB, opts.Databases),
	}
	s.noRechunk.Store(!opts.Rechunk)
	s.gc.cond.L = &s.gc.mu
	s.opsPool.New = func() any { return new([][]byte) }
	for i := range s.dbs {
		s.dbs[i] = DB{s: s, n: i, t: newTable(minTableSize)}
	}
	defer func() {
		if err != nil {
			s.closeFiles()
		}
	}()
	meta, err := readMetadata(fs, dir)
	if err != nil {
		return nil, err
	}
	if meta != nil && meta.formatVersion > metaFormatVersion {
		return nil, fmt.Errorf("store: %s has format_version %d, this build reads up to %d", filepath.Join(dir, metaName), meta.formatVersion, metaFormatVersion)
	}
	if err := finishSwitch(fs, dir, meta, s.log); err != nil {
		return nil, err
	}
	ids, err := listSegments(fs, dir)
	if err != nil {
		return nil, err
	}
	if err := s.recover(meta, ids); err != nil {
		return nil, err
	}
	// After a kill the last segment's records may be in the page cache
	// only: make them durable before metadata.toon's last_sequence names
	// them (TestPowerLossAfterRestart). Sealed segments already are.
	if err := s.hooks.sync(s.active); err != nil {
		return nil, fmt.Errorf("store: sync %s: %w", s.active.path, err)
	}
	s.durableSeq = s.seq
	if err := s.writeMeta(false); err != nil {
		return nil, err
	}
	if err := s.clearPredUnsealed(); err != nil {
		return nil, err
	}
	s.sealKick = make(chan struct{}, 1)
	s.spareCh = make(chan *segment, 1)
	s.stopBG, s.bgDone = make(chan struct{}), make(chan struct{})
	go s.syncLoop(opts.Sync == SyncEverySec, s.stopBG, s.bgDone)
	s.kickQ = make(chan kick, 4)
	s.stopWB, s.wbDone = make(chan struct{}), make(chan struct{})
	go s.writebackLoop(s.stopWB, s.wbDone)
	if opts.CompactRatio > 0 {
		s.compactKick = make(chan struct{}, 1)
		s.stopCompact, s.compactLoopDone = make(chan struct{}), make(chan struct{})
		go s.compactLoop(s.stopCompact, s.compactLoopDone)
	}
	if !opts.NoSnapshot && (opts.SnapshotInterval > 0 || opts.SnapshotLogBytes > 0) {
		s.snapKick = make(chan struct{}, 1)
		s.snapNeedRecs = -1
		s.stopSnap, s.snapDone = make(chan struct{}), make(chan struct{})
		go s.snapshotLoop(opts.SnapshotInterval, s.stopSnap, s.snapDone)
	}
	return s, nil
}

// listSegments returns the ids of dir's segment files in increasing order
// and removes leftover temporary files of an interrupted creation.
func listSegments(fs FS, dir string) ([]uint32, error) {
	names, err := fs.List(dir)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", dir, err)
	}
	var ids []uint32
	for _, name := range names {
		if filepath.Ext(name) == tmpSuffix {
			if err := fs.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("store: remove leftover %s: %w", name, err)
			}
			continue
		}
		if id, ok := parseSegName(name); ok {
			ids = append(ids, id) // ReadDir sorts by name; %06d keeps ids in order up to 999999
		}
	}
	for i := 1; i < len(ids); i++ { // names wider than 6 digits sort out of order
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids, nil
}

// writeMeta rewrites metadata.toon. Callers hold appendMu or are Open/Close.
func (s *Store) writeMeta(clean bool) error {
	err := writeMetadata(s.fs, s.dir, s.metaLocked(clean))
	if err == nil {
		s.switchPending = false
	}
	return err
}

// metaLocked returns the metadata of the current state. Callers hold
// appendMu or are Open/Close.
func (s *Store) metaLocked(clean bool) *metadata {
	m := &metadata{
		formatVersion: metaBaseVersion,
		cleanShutdown: clean,
		lastSequence:  s.durableSeq,
		nextID:        s.nextID,
		segmentSize:   s.opts.SegmentSize,
		databases:     s.opts.Databases,
	}
	if clean {
		m.lastSequence = s.seq
	}
	for _, g := range *s.segs.Load() {
		if g != nil {
			m.segments = append(m.segments, metaSegment{g.id, int64(len(g.data))})
		}
	}
	return m
}

// Close syncs, writes metadata.toon with clean_shutdown: true, unmaps and
// releases the LOCK. Further calls return ErrClosed. Close waits for
// readers inside the store to leave; slices returned earlier become
// invalid. If the store had failed (ErrReadOnly), Close still releases
// everything, leaves clean_shutdown false and returns the failure.
func (s *Store) Close() error {
	s.appendMu.Lock()
	if s.closed.Load() {
		s.appendMu.Unlock()
		return ErrClosed
	}
	s.closed.Store(true)
	_ = s.flushLocked() // a failure is the store's now: Close returns it
	s.appendMu.Unlock()

	if s.stopBG != nil {
		close(s.stopBG)
		<-s.bgDone
		s.dropSpare()
	}
	if s.stopWB != nil {
		close(s.stopWB)
		<-s.wbDone
	}
	if s.stopSnap != nil {
		close(s.stopSnap)
		<-s.snapDone
	}
	if s.stopCompact != nil {
		close(s.stopCompact)
		<-s.compactLoopDone
	}
	s.compactMu.Lock() // a running Compact sees closed and stops reading the mappings
	//lint:ignore SA2001 an empty critical section is a barrier here
	s.compactMu.Unlock()
	s.groupSync()
	if !s.opts.NoSnapshot && s.failure.Load() == nil {
		// Before clean_shutdown: true, so a crash in between leaves an
		// unclean shutdown with a valid snapshot (which is fine too).
		if err := s.snapshot(); err != nil {
			s.log.Warn("store: could not write the index snapshot at Close; the next Open replays the log", zap.Error(err))
		}
	}
	s.gc.mu.Lock()
	for s.gc.running {
		s.gc.cond.Wait()
	}
	s.gc.closed = true
	s.gc.cond.Broadcast()
	s.gc.mu.Unlock()

	var err error
	if f := s.failure.Load(); f != nil {
		err = f.ro
	} else if merr := s.writeMeta(true); merr != nil {
		err = merr
	}
	// Wait out the readers: each took its lock before closed was set, or
	// will see closed once it has the lock.
	for i := range s.dbs {
		s.dbs[i].mu.Lock()
		//lint:ignore SA2001 an empty critical section is a barrier here
		s.dbs[i].mu.Unlock()
	}
	s.ids.mu.Lock()
	//lint:ignore SA2001 an empty critical section is a barrier here
	s.ids.mu.Unlock()
	s.unmapping.Store(true)
	s.snapMu.Lock() // a snapshot started by Compact finishes reading the mappings
	//lint:ignore SA2001 an empty critical section is a barrier here
	s.snapMu.Unlock()
	if cerr := s.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

// closeFiles unmaps and closes every segment and releases the LOCK.
func (s *Store) closeFiles() error {
	s.reap(true)
	var err error
	if p := s.segs.Load(); p != nil {
		for _, g := range *p {
			if g != nil && g.data != nil {
				if cerr := g.close(); err == nil && cerr != nil {
					err = fmt.Errorf("store: close %s: %w", g.path, cerr)
				}
			}
		}
	}
	if s.lock != nil {
		if cerr := s.lock.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: release LOCK: %w", cerr)
		}
		s.lock = nil
	}
	return err
}

// fail records cause as the store's failure (the first one wins) and logs
// it. Writes are refused from now on.
func (s *Store) fail(cause error) *failure {
	f := &failure{cause: cause, ro: fmt.Errorf("%w: %w", ErrReadOnly, cause)}
	if s.failure.CompareAndSwap(nil, f) {
		s.log.Error("store: write or sync failed; refusing writes from now on", zap.Error(cause))
		return f
	}
	return s.failure.Load()
}

// appendLocked copies one record into the log and returns its location and
// padded size. The caller holds appendMu and has checked closed and sizes.
func (s *Store) appendLocked(db uint32, kind Kind, expireAt int64, key, value []byte) (loc uint64, size int64, err error) {
	return s.appendEncoded(db, kind, expireAt, key, nil, value)
}

// appendEncoded is appendLocked with the value in two pieces (pre, then
// value).
func (s *Store) appendEncoded(db uint32, kind Kind, expireAt int64, key, pre, value []byte) (loc uint64, size int64, err error) {
	if f := s.failure.Load(); f != nil {
		return 0, 0, f.ro
	}
	_, size = recordLen(len(key), len(pre)+len(value))
	if size > maxRecordLen {
		return 0, 0, ErrValueTooLarge
	}
	if s.woff+size > int64(len(s.active.data)) {
		if err := s.rotateLocked(size); err != nil {
			return 0, 0, err
		}
	}
	g := s.active
	dst := s.reserveLocked(g, size)
	s.seq++
	encodeRecord2(dst, recHeader{seq: s.seq, db: db, kind: kind, expireAt: expireAt}, key, pre, value)
	loc, err = s.appendedLocked(g, size)
	return loc, size, err
}

// appendedLocked accounts for the record of size bytes just written at the
// log's end in the active segment g (with sequence number s.seq) and
// returns its location. Every append path ends here (appendEncoded,
// DB.SetImage, streamLocked). Without Options.BufferWrites it flushes
// the record and returns the error of a failed write. The caller holds
// appendMu.
func (s *Store) appendedLocked(g *segment, size int64) (loc uint64, err error) {
	loc = makeLoc(g.id, s.woff)
	s.woff += size
	s.lastLoc = loc
	g.written++
	s.writes.Add(1)
	if !s.opts.BufferWrites {
		err = s.flushLocked()
	} else {
		s.unflushed.Add(size)
	}
	if s.snapKick != nil && s.opts.SnapshotLogBytes > 0 {
		s.sinceSnapRecs++
		if s.sinceSnap += size; s.sinceSnap >= s.opts.SnapshotLogBytes && s.snapDueLocked() {
			s.resetSnapCountLocked()
			select {
			case s.snapKick <- struct{}{}:
			default: // a snapshot is already due
			}
		}
	}
	return loc, err
}

// rotateLocked seals the active segment and starts a new one with room for
// a record of need bytes (a record larger than SegmentSize gets a segment
// of its own size). Sealing fsyncs the old segment first whatever the sync
// policy: a segment that has a successor is entirely durable, which is what
// lets Open treat an invalid record in it as corruption rather than a torn
// tail. A full disk returns ErrNoSpace and changes nothing; the next write
// tries again.
func (s *Store) rotateLocked(need int64) error {
	old := s.active
	s.sealLocked(old)
	// With a background syncer the seal's fdatasync leaves the writer's
	// path: the new segment's header says its predecessor may be torn
	// until syncNow has made it durable (see doc.go, "Rotation").
	var flags uint32
	old.endSeq = s.seq
	// As Redis's everysec delays writes once a background fsync has run
	// for 2 s, the seal waits for the disk here when the oldest pending
	// one has waited that long, or too many are pending: the loss window
	// stays bounded.
	late := len(s.unsealed) >= maxUnsealed ||
		len(s.unsealed) > 0 && time.Since(s.unsealed[0].rotatedAt) > maxSealDelay
	if old.synced < old.written && s.opts.Sync != SyncAlways && !late {
		flags = segFlagPredUnsealed
	} else if old.synced < old.written {
		lo, hi := old.takeMapped()
		if err := s.syncFile(old, lo, hi, old.fresh); err != nil {
			return s.fail(err).ro
		}
		old.fresh = false
		old.synced = old.written
		if len(s.unsealed) == 0 { // else durable only once those are sealed
			s.durableSeq = max(s.durableSeq, s.seq)
		}
	}
	if len(s.unsealed) > 0 {
		// An older segment is still unsealed (its seal waits for a busy
		// disk; the late path above synced old alone): its header or tail
		// may not survive a crash, so the new header stays flagged and old
		// joins the queue, whose seals clear the flags in order. An
		// unflagged header tells recovery that the log before it is intact
		// (unwrittenFrom): Open then failed on the first segment a crash
		// left without its header.
		flags = segFlagPredUnsealed
	}
	if flags != 0 {
		old.rotatedAt = time.Now()
	}
	if old.id == maxSegmentID {
		return errors.New("store: segment ids exhausted")
	}
	size := max(s.opts.SegmentSize, segHeaderSize+need)
	g, err := s.takeSpare(old.id+1, size, flags)
	if err != nil {
		return err
	}
	if flags != 0 {
		s.unsealed = append(s.unsealed, old)
	}
	// metadata.toon is rewritten off the writer's path (rotationMeta),
	// after the seal: a crash before leaves the new segment unlisted,
	// which Open accepts (it follows the listed ones).
	s.metaDue = true
	select {
	case s.sealKick <- struct{}{}:
	default:
	}
	if s.spareID == 0 && g.id < maxSegmentID {
		// The next one, on a goroutine of its own: never behind a seal
		// that a busy disk holds up, which a rotation would then wait for.
		s.spareID = g.id + 1
		go s.prepareSpare(g.id+1, s.opts.SegmentSize)
	}
	if s.compactKick != nil && !s.noRechunk.Load() {
		s.rechunkQ = append(s.rechunkQ, old.id)
	}
	s.setActiveLocked(g, segHeaderSize) // before readers can see g
	ss := append(make(segSet, 0, g.id+1), *s.segs.Load()...)
	ss = append(ss, g)
	s.segs.Store(&ss)
	s.diskBytes.Add(size)
	return nil
}

// Once the oldest segment left unsealed has waited maxSealDelay, or
// maxUnsealed are, a rotation seals on the writer's path (rotateLocked).
const (
	maxSealDelay = 2 * time.Second
	maxUnsealed  = 8
)

// takeSpare returns segment id of at least size bytes with the given
// header flags: the one prepareSpare made (waiting for it if it is still
// being made), else a new one. The caller holds appendMu.
func (s *Store) takeSpare(id uint32, size int64, flags uint32) (*segment, error) {
	if s.spareID == id {
		g := <-s.spareCh
		s.spareID = 0
		switch {
		case g != nil && int64(len(g.data)) >= size:
			if flags == 0 { // prepared flagged: clear it (durable with g's first sync)
				if _, err := g.f.WriteAt(encodeSegHeader(id, 0), 0); err != nil {
					g.close()
					return nil, s.fail(fmt.Errorf("store: rewrite the header of %s: %w", g.path, err)).ro
				}
				g.predUnsealed, g.hdrDirty = false, true
			}
			return g, nil
		case g != nil:
			g.close() // too small for the record: made anew below
		}
	}
	return createSegment(s.fs, s.dir, id, size, flags, s.opts.Sync == SyncAlways, s.hooks)
}

// prepareSpare makes the segment after the active one ahead of need, off
// the writer's path (preallocated, header flagged segFlagPredUnsealed,
// fresh: the first sync of it makes it durable), so that a rotation only
// switches to it. Open takes such an empty last segment as the active
// one.
func (s *Store) prepareSpare(id uint32, size int64) {
	g, err := createSegment(s.fs, s.dir, id, size, segFlagPredUnsealed, false, s.hooks)
	if err != nil {
		s.log.Warn("store: could not prepare the next segment; the rotation will make it", zap.Error(err))
		g = nil
	}
	s.spareCh <- g
}

// dropSpare removes the prepared segment at Close (after syncLoop exited).
func (s *Store) dropSpare() {
	if s.spareID == 0 {
		return
	}
	g := <-s.spareCh
	s.spareID = 0
	if g == nil {
		return
	}
	path := g.path
	g.close()
	if err := s.fs.Remove(path); err == nil {
		_ = syncDir(s.fs, s.dir)
	}
}

// checkWrite validates a write before appendMu is taken.
func (s *Store) checkSizes(key, value []byte) error {
	if int64(len(value)) > s.opts.MaxValueSize {
		return fmt.Errorf("%w: %d bytes (max %d)", ErrValueTooLarge, len(value), s.opts.MaxValueSize)
	}
	if _, size := recordLen(len(key), len(value)); size > maxRecordLen {
		return fmt.Errorf("%w: key and value of %d bytes", ErrValueTooLarge, len(key)+len(value))
	}
	return nil
}

// Stats returns counters. Safe to call concurrently, also after Close.
func (s *Store) Stats() Stats {
	st := Stats{
		Segments:       0,
		DiskBytes:      s.diskBytes.Load(),
		Writes:         s.writes.Load(),
		Syncs:          s.syncs.Load(),
		Recovered:      s.recovered,
		TruncatedTail:  s.truncated,
		Replayed:       s.replayed,
		LoadedSnapshot: s.loadedSnap,
		Snapshots:      s.snapshots.Load(),
		Compacting:     s.compacting.Load(),
		CompactDone:    s.compactProgress.Load(),
		CompactTotal:   s.compactTotal.Load(),
		Compactions:    s.compactions.Load(),
		Reclaimed:      s.reclaimed.Load(),
		MergedOps:      s.mergedOps.Load(),
	}
	if p := s.segs.Load(); p != nil {
		for _, g := range *p {
			if g != nil {
				st.Segments++
			}
		}
	}
	if f := s.failure.Load(); f != nil {
		st.LastSyncError = f.cause
	}
	for i := range s.dbs {
		d := &s.dbs[i]
		d.mu.RLock()
		st.Keys += int64(d.t.used)
		st.LiveBytes += d.t.live
		d.mu.RUnlock()
	}
	s.ids.mu.RLock()
	st.LiveBytes += s.ids.live
	s.ids.mu.RUnlock()
	return st
}

// Databases returns the number of logical databases.
func (s *Store) Databases() int { return len(s.dbs) }

// DB returns the keyed view of logical database n (0 <= n < Databases();
// it panics otherwise, like an index out of range). The *DB stays the view
// of number n: SwapDB swaps contents, not views.
func (s *Store) DB(n int) *DB { return &s.dbs[n] }

// FlushAll removes every key of every database (one durable record). The
// id API's records are not affected.
func (s *Store) FlushAll() error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if _, _, err := s.appendLocked(0, kindFlushAll, 0, nil, nil); err != nil {
		return err
	}
	s.flushAllIndex()
	return nil
}

func (s *Store) flushAllIndex() {
	for i := range s.dbs {
		s.dbs[i].flushIndex()
	}
}

// SwapDB swaps the contents of two databases (one durable record). It
// returns an error if a or b is out of range.
func (s *Store) SwapDB(a, b int) error {
	if a < 0 || a >= len(s.dbs) || b < 0 || b >= len(s.dbs) {
		return fmt.Errorf("store: swapdb %d %d: database out of range [0, %d)", a, b, len(s.dbs))
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	var v [4]byte
	putU32(v[:], uint32(b))
	loc, _, err := s.appendLocked(uint32(a), kindSwapDB, 0, nil, v[:])
	if err != nil {
		return err
	}
	s.lastSwapLoc = loc
	s.swapIndex(a, b)
	return nil
}

// swapIndex swaps the tables of databases a and b, locking them in
// ascending order.
func (s *Store) swapIndex(a, b int) {
	if a == b {
		return
	}
	lo, hi := &s.dbs[min(a, b)], &s.dbs[max(a, b)]
	lo.stopGrowth()
	hi.stopGrowth()
	lo.mu.Lock()
	hi.mu.Lock()
	lo.t, hi.t = hi.t, lo.t
	lo.chains, hi.chains = hi.chains, lo.chains
	hi.mu.Unlock()
	lo.mu.Unlock()
}
