package store

import (
	"fmt"
	"sync"
	"time"
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

// syncNow fdatasyncs the active segment if it has records not yet known
// durable. Segments before it were made durable when they were sealed.
// It holds appendMu only to read and update the counters, never during the
// fdatasync, so writers keep appending (and readers reading) meanwhile.
func (s *Store) syncNow() {
	if s.failure.Load() != nil {
		return
	}
	s.appendMu.Lock()
	_ = s.flushLocked() // a failure is the store's now: Sync returns it
	g, w := s.active, s.active.written
	dirty := g.synced < w
	lo, hi := g.takeMapped()
	s.appendMu.Unlock()
	if !dirty {
		return
	}
	dropMapped(g, lo, hi)
	err := s.hooks.sync(g)
	s.syncs.Add(1)
	if err != nil {
		s.fail(fmt.Errorf("store: sync %s: %w", g.path, err))
		return
	}
	s.appendMu.Lock()
	if g.synced < w {
		g.synced = w
	}
	s.appendMu.Unlock()
}

// syncLoop is the everysec policy: once a second, a group sync.
func (s *Store) syncLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.groupSync()
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
