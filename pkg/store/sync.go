package store

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
)

// groupCommit is the state of Sync's group commit. Syncs are numbered:
// started counts syncs begun, done the number of the last one finished. A
// caller needs a sync that starts after it arrived: number started+1. If
// none is running it runs that one itself (and becomes the leader of
// everyone who arrives meanwhile); otherwise it waits for the running one to
// finish, after which a waiter that still needs one runs the next. So one
// fdatasync covers every caller that arrived while the previous one ran.
type groupCommit struct {
	mu      sync.Mutex // guards the fields below
	cond    sync.Cond  // L = &mu; broadcast when a sync finishes or on close
	running bool
	started uint64
	done    uint64
	closed  bool // set by Close after its final sync
}

// Sync makes every write that returned before the call durable (fdatasync
// of the segments written since the last sync). Concurrent callers share one
// fsync where they can. It returns ErrClosed after Close, and ErrReadOnly
// wrapping the cause once a write or sync has failed.
func (s *Store) Sync() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.groupSync()
}

func (s *Store) groupSync() error {
	gc := &s.gc
	gc.mu.Lock()
	target := gc.started + 1
	for gc.done < target {
		if gc.closed {
			gc.mu.Unlock()
			return ErrClosed
		}
		if gc.running {
			gc.cond.Wait()
			continue
		}
		gc.running = true
		gc.started++
		gen := gc.started
		gc.mu.Unlock()
		s.syncNow()
		gc.mu.Lock()
		gc.running = false
		gc.done = gen
		gc.cond.Broadcast()
	}
	gc.mu.Unlock()
	if f := s.failure.Load(); f != nil {
		return f.ro
	}
	return nil
}

// syncNow makes every record appended so far durable: first the
// segments rotations left unsealed (seal), in order, then the active
// segment if it has records (or a rewritten header) not yet known durable.
// Older segments were made durable when they were sealed. It holds
// appendMu only to read and update the state, never during an fdatasync,
// so writers keep appending (and readers reading) meanwhile.
func (s *Store) syncNow() {
	if s.failure.Load() != nil {
		return
	}
	s.appendMu.Lock()
	_ = s.flushLocked() // a failure is the store's now: Sync returns it
	target := s.active
	s.appendMu.Unlock()
	// The segments rotated before the call, and target itself if it was
	// rotated since: not later ones, so that a writer that keeps rotating
	// cannot keep this from returning.
	for {
		if !s.sealThrough(target.id) {
			return
		}
		s.appendMu.Lock()
		if s.active == target {
			break // with appendMu held
		}
		if len(s.unsealed) == 0 || s.unsealed[0].id > target.id {
			s.appendMu.Unlock()
			return // rotated since the call, and sealed
		}
		s.appendMu.Unlock() // rotated while the older ones were sealed: once more
	}
	g, w, seq := s.active, s.active.written, s.seq
	dirty := g.synced < w || g.hdrDirty || g.fresh
	fresh := g.fresh
	g.hdrDirty = false
	lo, hi := g.takeMapped()
	s.appendMu.Unlock()
	if !dirty {
		return
	}
	if err := s.syncFile(g, lo, hi, fresh); err != nil {
		s.fail(err)
		return
	}
	s.appendMu.Lock()
	if g.synced < w {
		g.synced = w
	}
	if fresh {
		g.fresh = false
	}
	if len(s.unsealed) == 0 || s.unsealed[0].id > g.id {
		s.durableSeq = max(s.durableSeq, seq)
	}
	s.appendMu.Unlock()
}

// syncFile makes g's records durable: it drops [lo, hi) of its mapping
// from the page tables (dropMapped), fdatasyncs it, and if it is fresh
// (made without fsyncs) fsyncs the directory for its name.
func (s *Store) syncFile(g *segment, lo, hi int64, fresh bool) error {
	dropMapped(g, lo, hi)
	err := s.hooks.sync(g)
	s.syncs.Add(1)
	if err == nil && fresh {
		err = syncDir(s.fs, s.dir)
	}
	if err != nil {
		return fmt.Errorf("store: sync %s: %w", g.path, err)
	}
	return nil
}

// sealPending seals (makes durable) the segments rotations left unsealed,
// in order. It reports false if the store failed.
func (s *Store) sealPending() bool { return s.sealThrough(maxSegmentID) }

// sealThrough seals, in order, the unsealed segments with ids up to id.
// One runs at a time. It reports false if the store failed.
func (s *Store) sealThrough(id uint32) bool {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	s.appendMu.Lock()
	_ = s.flushLocked() // the records of the last one are in the file
	var pend []*segment
	for _, p := range s.unsealed {
		if p.id <= id {
			pend = append(pend, p)
		}
	}
	s.appendMu.Unlock()
	for _, p := range pend {
		if !s.seal(p) {
			return false
		}
	}
	return s.failure.Load() == nil
}

// seal makes p, the first of the unsealed segments, durable, then clears
// its successor's segFlagPredUnsealed (the header rewrite becomes durable
// with the successor's next fdatasync; until then recovery merely treats
// p's end more leniently than it needs to). It reports false if the store
// failed.
func (s *Store) seal(p *segment) bool {
	s.appendMu.Lock()
	lo, hi := p.takeMapped()
	fresh := p.fresh
	s.appendMu.Unlock()
	if err := s.syncFile(p, lo, hi, fresh); err != nil {
		s.fail(err)
		return false
	}
	s.appendMu.Lock()
	next := (*s.segs.Load())[p.id+1]
	s.appendMu.Unlock()
	if _, err := next.f.WriteAt(encodeSegHeader(next.id, 0), 0); err != nil {
		s.fail(fmt.Errorf("store: rewrite the header of %s: %w", next.path, err))
		return false
	}
	s.appendMu.Lock()
	p.synced, p.fresh = p.written, false
	s.durableSeq = max(s.durableSeq, p.endSeq)
	next.predUnsealed, next.hdrDirty = false, true
	s.unsealed = slices.Delete(s.unsealed, 0, 1) // p: sealPending runs alone
	s.appendMu.Unlock()
	return true
}

// rotationMeta rewrites metadata.toon after rotations (listing the new
// segments), off the writer's path. Its last_sequence is what is known
// durable, as the log must reach it after any crash.
func (s *Store) rotationMeta() {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.appendMu.Lock()
	if !s.metaDue || s.closed.Load() || s.failure.Load() != nil {
		s.appendMu.Unlock()
		return
	}
	s.metaDue = false
	m := s.metaLocked(false)
	s.appendMu.Unlock()
	if err := writeMetadata(s.fs, s.dir, m); err != nil {
		s.log.Warn("store: could not rewrite metadata after rotation", zap.Error(err))
		return
	}
	s.appendMu.Lock()
	s.switchPending = false // m has no first_segment (compaction's switch needs metaMu)
	s.appendMu.Unlock()
}

// syncLoop is the background syncer: for the policy everysec a group sync
// once a second; after each rotation (sealKick) the seal of the segment it
// left unsealed (everysec, no) and the metadata rewrite.
func (s *Store) syncLoop(everysec bool, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var tick <-chan time.Time
	if everysec {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-stop:
			return
		case <-tick:
			s.groupSync()
		case <-s.sealKick:
			s.sealPending()
			s.rotationMeta()
		}
	}
}

// kickBytes: once this many bytes have been written to the active
// segment's file since the last kick, flushLocked has writebackLoop start
// their writeback (kickLocked).
const kickBytes = 8 << 20

// kick is a range of a segment whose writeback writebackLoop starts, and
// the range of its mapping that flushLocked wrote through since the last
// sync or kick, which writebackLoop first takes out of the page tables
// (dropMapped, for the reason the syncs do).
type kick struct {
	g            *segment
	lo, hi       int64
	mapLo, mapHi int64
}

// writebackLoop starts the writeback of the ranges flushLocked kicks
// (kickLocked) until stop is closed.
func (s *Store) writebackLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case k := <-s.kickQ:
			dropMapped(k.g, k.mapLo, k.mapHi)
			s.hooks.writeback(k.g, k.lo, k.hi)
			s.kicks.Add(1)
		}
	}
}

// kickLocked hands the bytes written to g's file since its last kick to
// writebackLoop once they reach kickBytes, so that the disk gets them in
// the background and the fdatasync that seals g at rotation (on the
// writer's path) finds little left to write. With the queue full it does
// nothing (the next flush tries again). The caller holds appendMu.
func (s *Store) kickLocked(g *segment, end int64) {
	if s.kickQ == nil || end-g.kicked < kickBytes {
		return
	}
	k := kick{g: g, lo: g.kicked, hi: end}
	k.mapLo, k.mapHi = g.takeMapped()
	select {
	case s.kickQ <- k:
		g.kicked = end
	default:
		g.noteMapped(k.mapLo, k.mapHi) // give the range back
	}
}
