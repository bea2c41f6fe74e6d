package eventloop

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// roundWaiter is a loop's wait between rounds at pipeline 1
// (Options.RoundWait): epoll_pwait2 on an epoll set of its own that holds
// gnet's epoll descriptors (the loop's, and the acceptor's), made as a raw
// system call so that the loop's goroutine keeps its processor.
//
// Why: with one Go processor, the loop's blocking epoll_wait inside gnet
// (a runtime-aware system call) lasts long enough, between the rounds of
// clients at pipeline 1, for the runtime's monitor thread to take the
// processor from it (no other processor is idle), and the loop then pays
// for getting it back while the monitor keeps waking every 20 us: 8% of
// tstd's CPU under HSET at pipeline 1 (perf/results/hotpath.md, "The
// loop waits between rounds holding its processor").
//
// An epoll set is readable while any descriptor in it is ready, and
// polling it does not consume the ready events, edge-triggered ones
// included: when wait returns, gnet's own poll finds every event as it
// was. A client's request, a socket that drained its output, a client
// that connects: each ends the wait at once.
//
// gnet's wake-up eventfd does not cover the wake-ups of connections
// (Conn.Wake, Conn.Close from another goroutine): the wait runs inside
// gnet's round of queued tasks, during which gnet queues further tasks
// without writing its eventfd. Those calls go through kick instead,
// which writes the waiter's own eventfd (kfd, also in the set) while a
// wait is in progress, and makes the next wait not start if it came
// before.
type roundWaiter struct {
	epfd    int
	kfd     int // eventfd written by kick
	ts      unix.Timespec
	pending atomic.Uint64 // kicks so far
	seen    uint64        // pending when the last wait ended (loop goroutine only)
	waiting atomic.Bool   // in the system call, or about to enter it
	waits   atomic.Int64  // waits made (tests)
	skips   atomic.Int64  // waits not made because the yield ran other work or a kick came (tests)
	kicked  atomic.Int64  // waits ended by a kick (tests)
	events  atomic.Int64  // waits ended by one of gnet's descriptors (tests)
}

// busyYield is how long the yield before a wait may take before wait
// concludes that other goroutines have work (a compaction, a snapshot) and
// leaves the processor to them: gnet's blocking poll then gives it up as
// before. A yield with nothing else to run takes well under a microsecond.
const busyYield = 20 * time.Microsecond

// errNoPoller: the loop is not gnet's (a test's fake), or gnet's internals
// are not as in the version pinned in go.mod.
var errNoPoller = errors.New("eventloop: gnet event loop without a readable poller descriptor")

// newRoundWaiter returns the waiter of event loop el, or an error if
// gnet's epoll descriptors cannot be found (the wait is then off).
func newRoundWaiter(el gnet.EventLoop, d time.Duration) (*roundWaiter, error) {
	fds, err := gnetPollFDs(el)
	if err != nil {
		return nil, err
	}
	return waiterOn(fds, d)
}

// waiterOn returns a waiter on the epoll descriptors fds.
func waiterOn(fds []int, d time.Duration) (*roundWaiter, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventloop: epoll_create1: %w", err)
	}
	kfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("eventloop: eventfd: %w", err)
	}
	for _, fd := range append(fds, kfd) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			_ = unix.Close(epfd)
			_ = unix.Close(kfd)
			return nil, fmt.Errorf("eventloop: adding descriptor %d to the round wait: %w", fd, err)
		}
	}
	w := &roundWaiter{epfd: epfd, kfd: kfd, ts: unix.NsecToTimespec(int64(d))}
	// epoll_pwait2 (Linux 5.11) takes its timeout as a timespec, where
	// epoll_wait's is in milliseconds. An older kernel answers ENOSYS: no
	// wait then.
	var zero unix.Timespec
	if _, errno := w.pwait2(&zero); errno != 0 && errno != unix.EINTR {
		w.close()
		return nil, fmt.Errorf("eventloop: epoll_pwait2 (Linux 5.11): %w", errno)
	}
	return w, nil
}

// pwait2 is epoll_pwait2 on the waiter's set for one event with timeout
// ts, as a raw system call: the calling goroutine keeps its processor.
func (w *roundWaiter) pwait2(ts *unix.Timespec) (ev unix.EpollEvent, errno syscall.Errno) {
	n, _, errno := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT2, uintptr(w.epfd),
		uintptr(unsafe.Pointer(&ev)), 1, uintptr(unsafe.Pointer(ts)), 0, 0)
	if errno == 0 && n != 1 {
		ev = unix.EpollEvent{Fd: -1} // the timeout
	}
	return ev, errno
}

// wait yields the processor once (goroutines that became runnable run,
// timers fire), then, unless that ran other work or a kick came since the
// last wait, blocks until one of gnet's descriptors is ready, a kick
// comes or the timeout passes, keeping the processor. A signal (the
// runtime's preemption of a goroutine that kept its processor for 10 ms,
// a stop-the-world for the garbage collector) ends the wait early too.
func (w *roundWaiter) wait() {
	start := time.Now()
	runtime.Gosched()
	if time.Since(start) > busyYield {
		w.skip()
		return
	}
	w.waiting.Store(true)
	if w.pending.Load() != w.seen { // a kick came: its task is queued
		w.waiting.Store(false)
		w.skip()
		return
	}
	ev, errno := w.pwait2(&w.ts)
	w.waiting.Store(false)
	w.waits.Add(1)
	w.seen = w.pending.Load()
	switch {
	case errno != 0 || ev.Fd < 0: // a signal, or the timeout
	case ev.Fd == int32(w.kfd):
		// Reset the eventfd. (A kick that found waiting set just before
		// a skip wrote it too: the next wait ends here at once.)
		var b [8]byte
		_, _ = unix.Read(w.kfd, b[:])
		w.kicked.Add(1)
	default:
		w.events.Add(1)
	}
}

func (w *roundWaiter) skip() {
	w.seen = w.pending.Load()
	w.skips.Add(1)
}

// kick is called, from any goroutine, after queuing a task on the loop
// with Conn.Wake or Conn.Close: it ends a wait in progress, or keeps the
// next from starting.
func (w *roundWaiter) kick() {
	w.pending.Add(1)
	if w.waiting.Load() {
		one := [8]byte{1}
		_, _ = unix.Write(w.kfd, one[:])
	}
}

func (w *roundWaiter) close() {
	_ = unix.Close(w.epfd)
	_ = unix.Close(w.kfd)
}

// gnetPollFDs returns the epoll descriptors of gnet event loop el and of
// its engine's acceptor loop (absent with SO_REUSEPORT listeners, where
// each loop accepts). gnet does not export them; they are read by
// reflection from the version pinned in go.mod (v2.9.7:
// eventloop.poller.fd, eventloop.engine.ingress), and each is checked to
// be an epoll descriptor, so that a gnet whose internals changed turns
// the wait off instead of breaking the loop.
func gnetPollFDs(el gnet.EventLoop) ([]int, error) {
	v := reflect.ValueOf(el)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, errNoPoller
	}
	fd, err := pollerFD(v.Elem())
	if err != nil {
		return nil, err
	}
	fds := []int{fd}
	if eng := v.Elem().FieldByName("engine"); eng.IsValid() && eng.Kind() == reflect.Pointer && !eng.IsNil() {
		if in := eng.Elem().FieldByName("ingress"); in.IsValid() && in.Kind() == reflect.Pointer && !in.IsNil() {
			afd, err := pollerFD(in.Elem())
			if err != nil {
				return nil, err
			}
			if afd != fd {
				fds = append(fds, afd)
			}
		}
	}
	return fds, nil
}

// pollerFD returns loop.poller.fd of a gnet eventloop struct, checked to
// be an epoll descriptor.
func pollerFD(loop reflect.Value) (int, error) {
	if loop.Kind() != reflect.Struct {
		return 0, errNoPoller
	}
	p := loop.FieldByName("poller")
	if !p.IsValid() || p.Kind() != reflect.Pointer || p.IsNil() || p.Elem().Kind() != reflect.Struct {
		return 0, errNoPoller
	}
	f := p.Elem().FieldByName("fd")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return 0, errNoPoller
	}
	fd := int(f.Int())
	if target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err != nil || target != "anon_inode:[eventpoll]" {
		return 0, errNoPoller
	}
	return fd, nil
}
