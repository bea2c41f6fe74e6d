package eventloop

import (
	"sync"

	"github.com/panjf2000/gnet/v2"
)

// syncer runs appendfsync-always syncs off the event loops (group commit).
//
// After a batch that wrote, a loop takes a ticket (request) and holds the
// batch's replies; it does not read further input of that connection. The
// syncer goroutine takes the highest ticket requested so far, calls the
// store's Sync (which makes durable every write that returned before the
// call, so every ticket up to that one is covered: each ticket was taken
// after its batch's writes returned), records the result and wakes every
// connection whose ticket it covered. Woken on its own loop, the
// connection writes the held replies (or, if the sync failed, closes
// without acknowledging) and resumes reading. One fsync therefore serves
// every connection of every loop that wrote meanwhile, and no loop ever
// waits for the disk.
type syncer struct {
	sync func() error

	mu        sync.Mutex // guards the fields below
	requested uint64     // highest ticket handed out
	done      uint64     // highest ticket covered by a successful sync
	failed    uint64     // highest ticket whose covering sync failed
	waiters   []waiter   // connections holding replies, in ticket order

	kick chan struct{} // wakes the goroutine; capacity 1
	stop chan struct{}
	exit chan struct{}
}

type waiter struct {
	ticket uint64
	conn   gnet.Conn
}

func newSyncer(syncFn func() error) *syncer {
	s := &syncer{sync: syncFn, kick: make(chan struct{}, 1), stop: make(chan struct{}), exit: make(chan struct{})}
	go s.run()
	return s
}

// request returns a ticket for the writes that returned before the call and
// arranges for c to be woken (Conn.Wake) once a sync covers it. Called on
// c's event loop.
func (s *syncer) request(c gnet.Conn) uint64 {
	s.mu.Lock()
	s.requested++
	t := s.requested
	s.waiters = append(s.waiters, waiter{ticket: t, conn: c})
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default: // a kick is already pending; the next sync covers t
	}
	return t
}

// status reports whether ticket t is settled: durable (ok) or failed.
func (s *syncer) status(t uint64) (settled, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.done >= t:
		return true, true
	case s.failed >= t:
		return true, false
	}
	return false, false
}

func (s *syncer) run() {
	defer close(s.exit)
	var wake []waiter
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		s.mu.Lock()
		target := s.requested
		s.mu.Unlock()
		err := s.sync()
		s.mu.Lock()
		if err == nil {
			s.done = max(s.done, target)
		} else {
			s.failed = max(s.failed, target)
		}
		// Waiters are in ticket order: wake the covered prefix.
		n := 0
		for n < len(s.waiters) && s.waiters[n].ticket <= target {
			n++
		}
		wake = append(wake[:0], s.waiters[:n]...)
		s.waiters = append(s.waiters[:0], s.waiters[n:]...)
		s.mu.Unlock()
		for _, w := range wake {
			// gnet ignores a wake of a connection closed meanwhile.
			_ = w.conn.Wake(nil)
		}
		clear(wake)
	}
}

// close stops the goroutine. Engine.Stop waits for held replies first
// (Engine.waitHeld), so nothing is pending by then.
func (s *syncer) close() {
	close(s.stop)
	<-s.exit
}
