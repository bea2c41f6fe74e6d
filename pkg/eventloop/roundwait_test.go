//go:build linux

package eventloop

import (
	"bufio"
	"io"
	"net"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/toonstore/toonstore/pkg/command"
)

// roundWaitOf returns the round wait of e's only event loop, once a
// connection made the loop's state (OnOpen, which may still be on its way
// when the client's dial returns).
func roundWaitOf(t *testing.T, e *Engine) *roundWaiter {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.h.mu.Lock()
		n := len(e.h.loops)
		var w *roundWaiter
		for _, l := range e.h.loops {
			w = l.waiter
		}
		e.h.mu.Unlock()
		switch {
		case n > 1:
			t.Fatalf("%d loops with state, want 1", n)
		case n == 1 && w == nil:
			t.Fatal("the loop has no round wait: gnet's epoll descriptors were not found")
		case n == 1:
			return w
		case time.Now().After(deadline):
			t.Fatal("no loop state 5 s after a connection")
		}
		time.Sleep(time.Millisecond)
	}
}

// pingRounds makes n rounds of one "techo x" from each of conns at
// once (clients at pipeline 1), reading every reply.
func pingRounds(t *testing.T, conns []net.Conn, n int) {
	t.Helper()
	const req, rep = "techo x\r\n", "*1\r\n$1\r\nx\r\n"
	rs := make([]*bufio.Reader, len(conns))
	for i, c := range conns {
		rs[i] = bufio.NewReader(c)
	}
	for range n {
		for _, c := range conns {
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
		}
		for i := range conns {
			if got := readN(t, rs[i], len(rep)); got != rep {
				t.Fatalf("conn %d got %q, want %q", i, got, rep)
			}
		}
	}
}

// roundsUntilWaiting makes rounds of single commands from conns until
// the loop is inside its round wait's system call after one. (Not every
// round ends in a wait: one whose requests reach the loop one at a time
// is not held. After a round of one connection the loop holds only one
// batch in soloProbe, and the test's requests, written one after the
// other, may then keep reaching it one at a time: the tests keep every
// round to several connections, and vary their number.)
func roundsUntilWaiting(t *testing.T, w *roundWaiter, conns []net.Conn) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		// One connection fewer every other round: the solo probe counts
		// batches, and rounds of a fixed size could keep hitting the
		// same place in them.
		slowRound(t, conns[:len(conns)-i%2])
		for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Microsecond) {
			if w.waiting.Load() {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the loop never entered its round wait (%d waits, %d skipped)", w.waits.Load(), w.skips.Load())
		}
	}
}

// slowRound is a round of single commands in which the others' requests
// reach the loop together: the first connection's command (tslow) keeps
// the loop busy for 2 ms while they arrive.
func slowRound(t *testing.T, conns []net.Conn) {
	t.Helper()
	if _, err := io.WriteString(conns[0], "tslow\r\n"); err != nil {
		t.Fatal(err)
	}
	pingRounds(t, conns[1:], 1)
	if got := readN(t, conns[0], len("+OK\r\n")); got != "+OK\r\n" {
		t.Fatalf("tslow: %q", got)
	}
}

// slowServer is testServer with tslow, which keeps its loop busy for 2 ms.
func slowServer(t *testing.T) *command.Server {
	s := testServer(t, nil)
	s.Table()["tslow"] = &command.Command{Name: "tslow", Arity: 1, Run: func(x *command.Ctx) {
		for end := time.Now().Add(2 * time.Millisecond); time.Now().Before(end); {
		}
		x.OK()
	}}
	return s
}

// After rounds of single commands from several connections the loop waits
// in its round wait, and what it would have woken for in gnet's poll ends
// that wait: a client's request (gnet's epoll set, in the wait's), a
// wake-up of a connection from another goroutine (a blocked client
// served, a pub/sub message: the kick). RoundWait is long here, so that
// the wait ends by the event under test; the runtime's preemption
// (SIGURG after 10 ms on the processor) may end it first, so each case is
// tried until the wait it met ended by that event.
func TestRoundWait(t *testing.T) {
	// The test's goroutine watches the loop while it waits holding its
	// processor: it needs one of its own.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	e := startEngine(t, Options{Loops: 1, HoldReplies: true, RoundWait: 3 * time.Second, Server: slowServer(t)})
	var drivers []net.Conn
	for range 8 {
		drivers = append(drivers, dial(t, e.Addr()))
	}
	target := dial(t, e.Addr())
	w := roundWaitOf(t, e)

	// try runs the case until the wait it met ended with counter raised.
	try := func(t *testing.T, what string, counter *atomic.Int64, event func()) {
		t.Helper()
		for range 50 {
			roundsUntilWaiting(t, w, drivers)
			before := counter.Load()
			event()
			if counter.Load() > before {
				return
			}
		}
		t.Fatalf("50 round waits, none ended by %s (%d waits, %d by gnet's descriptors, %d by kicks)",
			what, w.waits.Load(), w.events.Load(), w.kicked.Load())
	}

	t.Run("request", func(t *testing.T) {
		try(t, "a request", &w.events, func() { pingRounds(t, drivers, 1) })
	})
	t.Run("wake", func(t *testing.T) {
		cl := clientOf(t, e, target)
		try(t, "a delivery from another goroutine", &w.kicked, func() {
			cl.Deliver([]byte("+poked\r\n"), false) // Wake through gnet, then the kick
			if got := readN(t, target, len("+poked\r\n")); got != "+poked\r\n" {
				t.Fatalf("target got %q", got)
			}
		})
	})
	t.Run("kill", func(t *testing.T) {
		victim := dial(t, e.Addr())
		pingRounds(t, append([]net.Conn{victim}, drivers...), 1)
		cl := clientOf(t, e, victim)
		roundsUntilWaiting(t, w, drivers)
		cl.Kill() // Conn.Close from another goroutine, then the kick
		expectEOF(t, victim)
	})
	t.Run("connect", func(t *testing.T) {
		roundsUntilWaiting(t, w, drivers)
		pingRounds(t, []net.Conn{dial(t, e.Addr())}, 1)
	})
	t.Run("timeout", func(t *testing.T) {
		e := startEngine(t, Options{Loops: 1, HoldReplies: true, RoundWait: 100 * time.Microsecond, Server: slowServer(t)})
		var conns []net.Conn
		for range 8 {
			conns = append(conns, dial(t, e.Addr()))
		}
		w := roundWaitOf(t, e)
		roundsUntilWaiting(t, w, conns)
		deadline := time.Now().Add(5 * time.Second)
		for w.waiting.Load() { // no event comes: the wait ends by itself
			if time.Now().After(deadline) {
				t.Fatal("a round wait of 100 us still waits after 5 s")
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// clientOf returns the server's client of connection c, once OnOpen
// registered it.
func clientOf(t *testing.T, e *Engine, c net.Conn) *command.Client {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, cl := range e.h.srv.Clients.Snapshot() {
			if cl.Addr == c.LocalAddr().String() {
				return cl
			}
		}
	}
	t.Fatalf("no server client for %s", c.LocalAddr())
	return nil
}

// A kick that comes before a wait (a wake-up queued on the loop while it
// ran the round) keeps that wait from starting; one during a wait ends it.
func TestRoundWaitKick(t *testing.T) {
	// The kick comes from another goroutine while this one waits holding
	// its processor: it needs one of its own.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	w, err := waiterOn([]int{epfd}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	w.kick()
	w.wait()
	if w.skips.Load() != 1 || w.waits.Load() != 0 {
		t.Fatalf("after a kick: %d skips, %d waits; want 1, 0", w.skips.Load(), w.waits.Load())
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !w.waiting.Load() {
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(time.Millisecond)
		w.kick()
	}()
	for w.kicked.Load() == 0 { // a wait the runtime's preemption ended is made again
		w.wait()
		if w.waits.Load() > 100 {
			t.Fatal("100 waits, none ended by the kick")
		}
	}
	<-done
	// The eventfd was reset: the next wait blocks until its timeout (or a
	// signal) instead of ending at once on a stale kick.
	w.ts = unix.NsecToTimespec(int64(20 * time.Millisecond))
	if d := blockedFor(w); d < 5*time.Millisecond {
		t.Fatalf("waits after the kick was taken ended within %v: the kick's eventfd stayed readable", d)
	}
}

// Rounds of pipelined batches, rounds of one connection, and RoundWait 0
// never wait.
func TestRoundWaitOnlyAfterSingles(t *testing.T) {
	t.Run("pipelined", func(t *testing.T) {
		e := startEngine(t, Options{Loops: 1, HoldReplies: true, RoundWait: time.Second})
		conns := []net.Conn{dial(t, e.Addr()), dial(t, e.Addr())}
		const batch = 16
		req := ""
		for range batch {
			req += "techo x\r\n"
		}
		for range 20 {
			for _, c := range conns {
				if _, err := io.WriteString(c, req); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range conns {
				readN(t, c, batch*len("*1\r\n$1\r\nx\r\n"))
			}
		}
		if w := roundWaitOf(t, e); w.waits.Load()+w.skips.Load() != 0 {
			t.Fatalf("%d waits after rounds of pipelines of %d", w.waits.Load(), batch)
		}
	})
	t.Run("one connection", func(t *testing.T) {
		e := startEngine(t, Options{Loops: 1, HoldReplies: true, RoundWait: time.Second})
		pingRounds(t, []net.Conn{dial(t, e.Addr())}, 100)
		if w := roundWaitOf(t, e); w.waits.Load()+w.skips.Load() != 0 {
			t.Fatalf("%d waits after rounds of one connection", w.waits.Load())
		}
	})
	t.Run("off", func(t *testing.T) {
		e := startEngine(t, Options{Loops: 1, HoldReplies: true})
		pingRounds(t, []net.Conn{dial(t, e.Addr()), dial(t, e.Addr())}, 20)
		e.h.mu.Lock()
		defer e.h.mu.Unlock()
		for _, l := range e.h.loops {
			if l.waiter != nil {
				t.Fatal("a round wait with RoundWait 0")
			}
		}
	})
}

// The loop does not wait while replies wait for an appendfsync-always
// sync (the syncer needs the processor to finish it), nor once stopping.
func TestRoundWaitNotWhileSyncing(t *testing.T) {
	h := newTestHandler(t, Options{HoldReplies: true, RoundWait: time.Second})
	l := &loopState{h: h, waiter: &roundWaiter{}}
	if !l.mayWait() {
		t.Fatal("mayWait false with nothing held")
	}
	h.held.Add(1)
	if l.mayWait() {
		t.Fatal("mayWait true while a connection waits for a sync")
	}
	h.held.Add(-1)
	h.stopping.Store(true)
	if l.mayWait() {
		t.Fatal("mayWait true while stopping")
	}
}

// The wait yields first, and does not block when the yield ran another
// goroutine's work (a compaction slice): that goroutine may have more, and
// gnet's poll gives the processor up while it blocks. With nothing else to
// run it blocks until the timeout.
func TestRoundWaitYieldsToWork(t *testing.T) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	w, err := waiterOn([]int{epfd}, 20*time.Millisecond) // an empty set: only the timeout ends it
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	// The yield runs the worker unless the scheduler picks the yielding
	// goroutine again at once (it takes from the global queue, where a
	// yield goes, once every 61 schedules): that wait then blocks for its
	// timeout, and the worker runs when the test goroutine is preempted
	// after it. Such a try is made again with a new worker.
	for try := 1; ; try++ {
		done := make(chan struct{})
		go func() { // runnable, and runs only when the test goroutine yields
			for end := time.Now().Add(5 * time.Millisecond); time.Now().Before(end); {
			}
			close(done)
		}()
		skips, waits := w.skips.Load(), w.waits.Load()
		w.wait()
		<-done
		if w.skips.Load() == skips+1 && w.waits.Load() == waits {
			break
		}
		if w.waits.Load() != waits+1 || try == 5 {
			t.Fatalf("try %d, after a yield with 5 ms of work to run: %d skips, %d waits (%d, %d before); want a skip",
				try, w.skips.Load(), w.waits.Load(), skips, waits)
		}
	}
	if d := blockedFor(w); w.waits.Load() == 0 || d < 5*time.Millisecond {
		t.Fatalf("%d waits with nothing else to run, the longest %v; want one that blocked (20 ms timeout)", w.waits.Load(), d)
	}
}

// blockedFor makes up to three waits and returns the longest. A signal
// (the runtime's preemption after 10 ms, the garbage collector's) may end
// a wait early; three in a row ending within 5 ms mean it did not block.
func blockedFor(w *roundWaiter) time.Duration {
	var longest time.Duration
	for range 3 {
		start := time.Now()
		w.wait()
		longest = max(longest, time.Since(start))
		if longest >= 5*time.Millisecond {
			break
		}
	}
	return longest
}

// gnetPollFDs finds the loop's and the acceptor's epoll descriptors in the
// pinned gnet, and refuses what is not a gnet loop.
func TestGnetPollFDs(t *testing.T) {
	e := startEngine(t, Options{Loops: 1, HoldReplies: true, RoundWait: time.Second})
	pingRounds(t, []net.Conn{dial(t, e.Addr())}, 1)
	e.h.mu.Lock()
	var fds []int
	for el := range e.h.loops {
		var err error
		if fds, err = gnetPollFDs(el); err != nil {
			t.Error(err)
		}
	}
	e.h.mu.Unlock()
	if len(fds) != 2 || fds[0] == fds[1] {
		t.Fatalf("gnet's epoll descriptors %v, want the loop's and the acceptor's", fds)
	}
	if _, err := gnetPollFDs(&fakeLoop{}); err == nil {
		t.Fatal("a fake loop gave poller descriptors")
	}
	if _, err := pollerFD(reflect.ValueOf(struct{ poller *struct{ fd int } }{&struct{ fd int }{0}})); err == nil {
		t.Fatal("descriptor 0 (not an epoll set) accepted as gnet's poller")
	}
}
