package eventloop

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/toonstore/toonstore/pkg/command"
	"github.com/toonstore/toonstore/pkg/protocol"
)

// maxRetainedOut is the largest output buffer a connection keeps between
// batches; a larger one (a huge reply) is dropped after its write so that an
// idle connection does not pin it.
const maxRetainedOut = 1 << 20

// maxSpareOut is the largest output buffer the handler keeps as its spare
// (handler.spareOut) after a connection's batch outgrew maxRetainedOut.
const maxSpareOut = 8 << 20

// minPooledOut is the smallest output buffer a closing connection hands on
// to the next connection (handler.outPool).
const minPooledOut = 16 << 10

// replyMaxClients is Redis's reply to a connection over maxclients.
const replyMaxClients = "-ERR max number of clients reached\r\n"

// connState is the per-connection state, stored with Conn.SetContext. It is
// owned by the connection's event loop goroutine: nothing else touches it
// (the wait list holds it only as a map key).
type connState struct {
	client   *command.Client
	r        protocol.Reader
	out      []byte     // reply buffer, reused across batches
	leftover int        // inbound bytes still buffered after the last OnTraffic
	closing  bool       // replies written; close once they drained
	closeBy  int64      // Unix ns after which a closing connection is closed anyway
	parked   bool       // on handler.waiting
	closed   bool       // OnClose ran
	syncWait uint64     // appendfsync always: ticket whose sync must settle before out is written
	bigOut   bool       // the last batch's replies outgrew maxRetainedOut
	outBox   *[]byte    // the handler's spare-buffer box while st.out is the spare
	writing  bool       // inside Conn.Write of st.out (which may close the connection)
	loop     *loopState // the connection's event loop (nil without Options.HoldReplies)
	held     bool       // on loop.held: its replies wait for the loop's shared flush

	// Scratch of prefetch: a reader for the commands buffered ahead of
	// the one executing, their keys and members (PrefetchKey); parsed
	// holds the commands it parsed (shared by the connections of one event
	// loop, whose batches never interleave).
	pre     protocol.Reader
	keys    [][]byte
	members [][]byte
	parsed  *preParsed
}

// preParsed is what a pre-pass of prefetch parsed, so that batch does not
// parse those commands again: cmds[i] is the i-th complete multibulk
// request after the pre-pass's start, in order, n its length in bytes and
// its arguments args[a:a+nargs] (a the sum of the nargs before it). The
// arguments are slices of the input buffer, valid while the batch runs.
type preParsed struct {
	cmds []preCmd
	args [][]byte
}

type preCmd struct{ n, nargs int }

// Prefetch limits: how many commands one pre-pass looks ahead, and the
// largest argument count of a command it parses (a larger one ends the
// pre-pass, so a huge MSET is not parsed twice).
const (
	prefetchCmds    = 64
	prefetchMaxArgs = 16
)

// handler is the gnet.EventHandler. Its methods run on event loop
// goroutines (OnTick on the ticker goroutine); shared fields are atomics or
// guarded by mu.
type handler struct {
	gnet.BuiltinEventEngine

	opts Options
	srv  *command.Server
	log  *zap.Logger

	syncAlways  atomic.Bool
	syncer      *syncer      // nil without Options.Sync
	held        atomic.Int64 // connections holding replies for a sync (syncWait != 0)
	requirePass atomic.Bool
	maxClients  atomic.Int64
	stopping    atomic.Bool // no more commands are parsed once set
	// Tests: batch never runs its pre-pass (prefetch), or runs it
	// whatever the index size (Server.PrefetchWorth).
	noPrefetch, prefetchAlways bool
	idleTimeout                atomic.Int64 // ns; 0 = off

	lastIdleScan time.Time // touched only by OnTick

	// spareOut is one output buffer larger than maxRetainedOut, kept
	// between the batches that need one: a batch whose connection's last
	// batch outgrew maxRetainedOut starts from it (batch), and its flush
	// gives it back (releaseOut). Pipelined large replies (LRANGE of 100 1 KiB
	// elements, 16 to a batch) otherwise regrew a fresh buffer of
	// megabytes by doubling at every batch: a third of the server's CPU
	// in that run went to growslice, page faults of the fresh memory and
	// the garbage collection it paid for (perf/results/hotpath.md,
	// "Large replies").
	spareOut atomic.Pointer[[]byte]
	// outPool holds the output buffers (minPooledOut to maxRetainedOut)
	// of closed connections for new ones (*[]byte). Clients that open
	// connections for a burst of pipelined requests (redis-benchmark
	// opens 500 per run) otherwise grow each buffer from nothing, by
	// doubling into freshly zeroed memory: with 1 KiB GETs at pipeline
	// 64 over 500 new connections, the zeroing and the page faults of
	// those buffers were a quarter of the server's CPU (hotpath.md,
	// "Reply buffers of new connections").
	outPool sync.Pool

	eng       gnet.Engine // set in OnBoot, before any other callback
	ready     chan struct{}
	readyOnce sync.Once

	mu      sync.Mutex               // guards waiting, wakeBuf and loops
	waiting map[*connState]gnet.Conn // parked connections, woken by OnTick
	wakeBuf []gnet.Conn              // scratch for OnTick
	loops   map[gnet.EventLoop]*loopState
}

// loopState is what the handler keeps per event loop: the connections
// whose replies wait for the end of the round (Options.HoldReplies).
// Only the loop's goroutine touches it after OnOpen created it.
type loopState struct {
	h     *handler
	held  []gnet.Conn
	armed bool // Run is queued on the loop
	// lastHeld is how many connections the last Run served; while it was
	// one, holding saves no system call and costs a wake-up of the loop
	// and a round of latency, so only one chance in soloProbe is taken
	// (probe counts them), to notice when other connections get busy.
	lastHeld int
	probe    uint32

	pre preParsed // connState.parsed of the loop's connections

	// cmds counts the commands the loop ran since the last Run, spins
	// the rounds after which it kept busy (Options.RoundSpin; tests read
	// it).
	cmds       int
	roundStart time.Time // when the round's first batch was held (RoundSpin)
	spins      atomic.Int64

	waiter *roundWaiter // Options.RoundWait; nil when off
}

// spin keeps the loop busy for Options.RoundSpin after the flush of a
// round of single commands (at most two per connection held) whose
// commands took less than that (from its first held batch to the start
// of its flush, at flushStart), so that the clients' next requests meet
// a running loop; a round of slower commands (a ZADD into a large sorted
// set) gathers its clients' requests anyway, and a spin would only delay
// them. The flush's own time (its system calls, longer for larger
// replies) does not count: LRANGE of 100 elements at pipeline 1, whose
// rounds' writes can outlast the spin, ran 7-10% faster once only the
// commands counted (perf/results/hotpath.md, "The round spin counts the
// commands' time"). See Options.RoundSpin. Run calls it only for a round
// that mightSpin.
func (l *loopState) spin(flushStart time.Time) {
	d := l.h.opts.RoundSpin
	if l.h.stopping.Load() || flushStart.Sub(l.roundStart) >= d {
		return
	}
	now := time.Now()
	l.spins.Add(1)
	for end := now.Add(d); time.Now().Before(end); {
	}
}

// singles reports whether the round Run is about to flush (of held
// connections) ran single commands (at most two per connection) from at
// least two connections: clients at pipeline 1.
func (l *loopState) singles(held int) bool { return held >= 2 && l.cmds <= 2*held }

// mightSpin reports whether the round Run is about to flush may be
// followed by a spin: RoundSpin is on and the round ran singles. Run reads
// the clock for spin only then.
func (l *loopState) mightSpin(held int) bool {
	return l.h.opts.RoundSpin > 0 && l.singles(held)
}

// mayWait reports whether Run may end a round of singles with the
// loop's round wait (Options.RoundWait): not while a connection's replies
// wait for an appendfsync-always sync, whose completion on the syncer's
// goroutine needs the processor the wait keeps, nor once the engine stops.
func (l *loopState) mayWait() bool {
	return l.waiter != nil && l.h.held.Load() == 0 && !l.h.stopping.Load()
}

// kick tells the loop's round wait, if any, that a task was queued on the
// loop (Conn.Wake, Conn.Close): see roundWaiter.
func (l *loopState) kick() {
	if l.waiter != nil {
		l.waiter.kick()
	}
}

// closeWaiters closes the loops' round waits, once gnet has stopped. (A
// kick after that writes nothing: no wait is in progress.)
func (h *handler) closeWaiters() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.loops {
		if l.waiter != nil {
			l.waiter.close()
		}
	}
}

// soloProbe: see loopState.lastHeld.
const soloProbe = 32

// holdMaxOut is the largest reply output of a batch that waits for the end
// of the round (see hold). Measured with make bench-compare: LRANGE 0 99 of
// 1 KiB elements (1.6 MB per batch at pipeline 16) ran at a fifth of its
// speed when held; GET of 1 KiB at pipeline 16 (16 KiB per batch) gained.
// With a limit of 64 KiB, GET, LPOP and RPOP of 1 KiB at pipeline 64 (66
// KiB per batch) left one connection at a time, and redis-benchmark slept
// and was woken for nearly every batch (12k times per 1M GETs, against
// about 600 with their replies held; each wake-up of a sleeping client
// costs the writer an inter-processor interrupt, 15% of tstd's CPU in that
// cell). At 128 KiB they are held (GET 2.09x -> 2.30x Redis, LPOP 1.29x ->
// 1.58x), while LRANGE 0 99 of 16-byte elements at pipeline 64 (147 KiB
// per batch, long batches whose early replies let the client work
// meanwhile) still leaves at once: held, it lost a tenth
// (perf/results/hotpath.md, "Replies of 64 KiB to 128 KiB wait for the
// round").
const holdMaxOut = 128 << 10

func newHandler(opts Options) *handler {
	h := &handler{
		opts:    opts,
		srv:     opts.Server,
		log:     opts.Logger,
		ready:   make(chan struct{}),
		waiting: make(map[*connState]gnet.Conn),
		loops:   make(map[gnet.EventLoop]*loopState),
	}
	h.syncAlways.Store(opts.SyncAlways)
	if opts.Sync != nil {
		h.syncer = newSyncer(opts.Sync)
	}
	h.requirePass.Store(opts.RequirePass)
	h.maxClients.Store(int64(opts.MaxClients))
	h.idleTimeout.Store(int64(opts.IdleTimeout))
	return h
}

// OnBoot records the engine. gnet has bound the listener when it runs.
func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	h.eng = eng
	return gnet.None
}

// OnTick runs on gnet's ticker goroutine, first right after the event loops
// started (which is when Start reports the engine ready), then after each
// returned delay. It wakes every parked connection: Conn.Wake is
// goroutine-safe and runs OnTraffic on the connection's own loop.
func (h *handler) OnTick() (time.Duration, gnet.Action) {
	h.readyOnce.Do(func() { close(h.ready) })
	// The command layer's coarse clock (last-interaction times, idle
	// timeout): refreshed here, at most 100 ms apart, instead of a clock
	// read per command.
	h.srv.Tick()
	h.closeIdle()
	h.mu.Lock()
	wake := h.wakeBuf[:0]
	for _, c := range h.waiting {
		wake = append(wake, c)
	}
	h.wakeBuf = wake
	h.mu.Unlock()
	// A connection closed since it was collected is ignored by gnet's wake
	// (it checks that the connection is still open on its loop).
	for _, c := range wake {
		_ = c.Wake(nil)
	}
	if len(wake) > 0 {
		h.mu.Lock()
		for _, l := range h.loops {
			l.kick()
		}
		h.mu.Unlock()
		return time.Millisecond, gnet.None
	}
	return 100 * time.Millisecond, gnet.None
}

// closeIdle kills the clients that sent no command for longer than the
// idle timeout. It scans at most once a second (more often for timeouts
// under two seconds).
func (h *handler) closeIdle() {
	timeout := time.Duration(h.idleTimeout.Load())
	if timeout <= 0 {
		return
	}
	now := time.Now()
	if now.Sub(h.lastIdleScan) < min(time.Second, timeout/2) {
		return
	}
	h.lastIdleScan = now
	nowMs := now.UnixMilli()
	for _, cl := range h.srv.Clients.Snapshot() {
		_, last := cl.LastCmd()
		last = max(last, cl.CreatedMs)
		if time.Duration(nowMs-last)*time.Millisecond > timeout && cl.Kill != nil {
			h.log.Debug("closing idle client", zap.Uint64("id", cl.ID), zap.String("addr", cl.Addr))
			cl.Kill()
		}
	}
}

// OnOpen registers a client for c, or rejects c over maxclients with
// Redis's error (the reply is written, then gnet closes c).
func (h *handler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s := h.srv
	if s.Stats.ConnectedClients.Add(1) > h.maxClients.Load() {
		s.Stats.ConnectedClients.Add(-1)
		s.Stats.RejectedConnections.Add(1)
		return []byte(replyMaxClients), gnet.Close
	}
	s.Stats.ConnectionsReceived.Add(1)
	cl := s.NewClient()
	cl.Addr = addrString(c.RemoteAddr())
	cl.FD = c.Fd()
	cl.LAddr = localAddr(cl.FD, c.LocalAddr())
	// Redis semantics: a connection opened while no password is required
	// is authenticated, and stays so if one is configured later.
	cl.Authed = !h.requirePass.Load()
	// INFO counters are added to the shared Stats once per batch (flush).
	cl.DeferStats = true
	// Conn.Close is goroutine-safe and a no-op on a closed connection.
	l := h.loopOf(c.EventLoop())
	cl.Kill = func() { _ = c.Close(); l.kick() }
	// Conn.Wake is goroutine-safe: it runs OnTraffic on c's loop, which
	// takes the client's inbox (command.Client.Deliver).
	cl.Wake = func() { _ = c.Wake(nil); l.kick() }
	st := &connState{client: cl}
	if b, _ := h.outPool.Get().(*[]byte); b != nil {
		st.out = (*b)[:0]
	}
	st.r.MaxBulkLen = h.opts.MaxBulkLen
	st.parsed = &l.pre
	if h.opts.HoldReplies {
		st.loop = l
	}
	c.SetContext(st)
	s.Clients.Add(cl)
	return nil, gnet.None
}

// OnClose unregisters the client of c.
func (h *handler) OnClose(c gnet.Conn, _ error) gnet.Action {
	st, _ := c.Context().(*connState)
	if st == nil {
		return gnet.None // rejected in OnOpen
	}
	if st.held && len(st.out) > 0 && !st.client.Killed() {
		// Replies held for the loop's shared flush, of a connection
		// closing before it ran (the peer half-closed after its last
		// commands, or the server is stopping): written now, as
		// they would have been without the hold; gnet sends what the
		// socket does not take before it closes the descriptor.
		if _, stop := h.flush(c, st); stop {
			st.out = st.out[:0]
		}
	}
	st.held = false
	st.closed = true
	if st.syncWait != 0 {
		st.syncWait = 0
		h.held.Add(-1)
	}
	h.unpark(st)
	if c := cap(st.out); c >= minPooledOut && c <= maxRetainedOut && !st.writing {
		b := st.out[:0]
		h.outPool.Put(&b)
	}
	st.out, st.outBox = nil, nil
	c.SetContext(nil)
	h.srv.FlushStats(st.client)
	h.srv.Disconnected(st.client)
	h.srv.Stats.ConnectedClients.Add(-1)
	return gnet.None
}

// OnTraffic serves every complete command buffered on c. See the package
// documentation for the steps.
func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	st, _ := c.Context().(*connState)
	if st == nil {
		return gnet.Close
	}
	cl := st.client
	if d := c.InboundBuffered() - st.leftover; d > 0 {
		cl.CountNet(uint64(d), 0)
	}
	action := h.serve(c, st)
	if !st.closed {
		// Counters of a batch that wrote nothing (or whose replies wait
		// for a sync); flush already published the others.
		h.srv.FlushStats(cl)
		st.leftover = c.InboundBuffered()
		// Stores only on a change: each is a full barrier on amd64.
		if q := int64(st.leftover); cl.QueryBuf.Load() != q {
			cl.QueryBuf.Store(q)
		}
		// Pending output: gnet's buffer plus replies not yet handed to it
		// (held while parked over the output limit); pub/sub output limits
		// read it (command.Client.OutBuf).
		if o := int64(c.OutboundBuffered() + len(st.out)); cl.OutBuf.Load() != o {
			cl.OutBuf.Store(o)
		}
	}
	return action
}

func (h *handler) serve(c gnet.Conn, st *connState) gnet.Action {
	if st.client.Killed() {
		// CLIENT KILL from another connection: the client is already gone
		// for everyone else; nothing more of its input runs.
		_, _ = c.Discard(-1)
		return gnet.Close
	}
	if st.syncWait != 0 {
		// Replies held for an appendfsync-always sync (see syncer).
		settled, ok := h.syncer.status(st.syncWait)
		if !settled {
			return gnet.None // input stays buffered until the sync settles
		}
		st.syncWait = 0
		h.held.Add(-1)
		if !ok {
			h.log.Error("appendfsync always: sync failed; closing the connection without acknowledging its writes",
				zap.Uint64("id", st.client.ID))
			st.out = st.out[:0]
			return gnet.Close
		}
		if act, stop := h.flush(c, st); stop {
			return act
		}
	}
	if st.closing {
		// Input after QUIT or a protocol error is ignored, as Redis does.
		_, _ = c.Discard(-1)
		return h.closeWhenDrained(c, st)
	}
	for {
		// Out-of-band replies (a blocked command served or timed out,
		// pub/sub messages) go out before any further input is served;
		// a blocked client's input waits, buffered, until it is unblocked.
		var blocked bool
		st.out, blocked = st.client.TakeInbox(st.out)
		if blocked {
			_, _ = h.flush(c, st)
			return gnet.None
		}
		if st.client.TookWrite() && h.syncer != nil && h.syncAlways.Load() {
			// A blocked pop served by another client's command: its
			// reply waits for a sync covering the pop, like a batch
			// that wrote (the pop returned before it was delivered).
			st.syncWait = h.syncer.request(c)
			h.held.Add(1)
			return gnet.None
		}
		if in := c.InboundBuffered(); in > h.opts.QueryBufferLimit {
			h.log.Warn("closing client that reached max query buffer length",
				zap.Uint64("id", st.client.ID), zap.String("addr", st.client.Addr), zap.Int("qbuf", in))
			return gnet.Close
		}
		if c.OutboundBuffered() >= h.opts.OutputLimit {
			h.park(c, st)
			return gnet.None
		}
		h.unpark(st)
		n := c.InboundBuffered()
		if n == 0 || n < st.r.Need() || h.stopping.Load() {
			// Nothing to run: write what the inbox held, if anything.
			act, _ := h.flush(c, st)
			return act
		}
		buf, err := c.Peek(-1)
		if err != nil || len(buf) == 0 {
			act, _ := h.flush(c, st)
			return act
		}
		consumed, full, wrote := h.batch(st, buf)
		// buf and the arguments parsed from it are dead from here on.
		if consumed > 0 {
			// Never Discard(0): gnet reads n <= 0 as "everything".
			_, _ = c.Discard(consumed)
		}
		if wrote {
			// Hold the replies until a sync covers this batch's writes;
			// the syncer wakes c then (serve resumes above).
			st.syncWait = h.syncer.request(c)
			h.held.Add(1)
			return gnet.None
		}
		if !full && !st.closing && h.hold(c, st) {
			return gnet.None
		}
		if act, stop := h.flush(c, st); stop {
			return act
		}
		if st.closing {
			return h.closeWhenDrained(c, st)
		}
		if !full {
			return gnet.None
		}
	}
}

// loopOf returns the state of event loop el, creating it.
func (h *handler) loopOf(el gnet.EventLoop) *loopState {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.loops[el]
	if l == nil {
		l = &loopState{h: h}
		if h.opts.HoldReplies && h.opts.RoundWait > 0 {
			w, err := newRoundWaiter(el, h.opts.RoundWait)
			if err != nil {
				h.log.Warn("no round wait on this event loop", zap.Error(err))
			}
			l.waiter = w
		}
		h.loops[el] = l
	}
	return l
}

// hold decides whether the replies of the batch just run wait for the end
// of the loop's round (Options.HoldReplies) instead of being written now;
// if so it puts c on the loop's list, queuing loopState.Run with the first
// connection of a round. Under load one event-loop round serves a dozen
// connections: one flush of the store (one pwrite) then serves every
// batch that wrote, and the replies leave together, as Redis writes its
// replies after the round (beforeSleep). Written one connection at a time
// between the batches, each reply found the client asleep again and woke
// it; written together, the first wakes it and the rest find it awake
// (perf/results/hotpath.md, "Replies wait for the end of the round").
//
// Replies over holdMaxOut leave at once (after the store's flush), those
// of a connection already held included: the client wakes for them
// anyway, and a dozen such outputs held together outgrow the sockets'
// buffers and the handler's one spare buffer (LRANGE 0 99 of 1 KiB
// elements at pipeline 16 is 1.6 MB per batch).
func (h *handler) hold(c gnet.Conn, st *connState) bool {
	l := st.loop
	if l == nil || len(st.out) == 0 || len(st.out) > holdMaxOut || h.stopping.Load() {
		return false
	}
	if st.held {
		return true // already on the list: its flush writes these too
	}
	if !l.armed {
		if l.lastHeld == 1 {
			if l.probe++; l.probe%soloProbe != 0 {
				return false
			}
		}
		if c.EventLoop().Execute(context.Background(), l) != nil {
			return false // the engine is stopping
		}
		l.armed = true
		if h.opts.RoundSpin > 0 {
			l.roundStart = time.Now()
		}
	}
	st.held = true
	l.held = append(l.held, c)
	return true
}

// Run is the shared flush of a loop's held replies: gnet runs it on the
// loop's goroutine, after the events of the round that follows the one
// that queued it (gnet's Execute wakes the poller, whose wake-up event is
// handled after the round's other events). The first flush writes the
// store's records of every held batch; each connection's replies follow.
// After a round of singles come the round spin (Options.RoundSpin) and
// the round wait (Options.RoundWait).
func (l *loopState) Run(context.Context) error {
	l.armed, l.lastHeld = false, len(l.held)
	var flushStart time.Time // zero: no spin after this round
	if l.mightSpin(l.lastHeld) {
		flushStart = time.Now()
	}
	for i, c := range l.held {
		l.held[i] = nil
		st, _ := c.Context().(*connState)
		if st == nil || !st.held {
			continue // closed meanwhile (OnClose wrote its replies)
		}
		st.held = false
		if act, _ := l.h.flush(c, st); act == gnet.Close {
			// The store's flush failed (no acknowledgement left), or
			// the connection closes after these replies (QUIT).
			_ = c.Close()
			l.kick()
		}
	}
	l.held = l.held[:0]
	if !flushStart.IsZero() {
		l.spin(flushStart)
	}
	if l.mayWait() && l.singles(l.lastHeld) {
		l.waiter.wait()
	}
	l.cmds = 0
	return nil
}

// flush writes the pending replies in one write. stop reports that serve
// must return act (gnet closed c inside Write, or c is closing).
func (h *handler) flush(c gnet.Conn, st *connState) (act gnet.Action, stop bool) {
	if len(st.out) > 0 {
		// The batch's INFO counters are published before its replies
		// leave: a client that saw a reply sees it counted.
		st.client.CountNet(0, uint64(len(st.out)))
		h.srv.FlushStats(st.client)
		if h.opts.Flush != nil {
			if err := h.opts.Flush(); err != nil {
				h.log.Error("writing the log failed; closing the connection without acknowledging its writes",
					zap.Uint64("id", st.client.ID), zap.Error(err))
				st.out = st.out[:0]
				return gnet.Close, true
			}
		}
		st.writing = true
		_, err := c.Write(st.out) // copies what the socket did not take
		st.writing = false
		st.bigOut = cap(st.out) > maxRetainedOut
		h.releaseOut(st)
		if err != nil || st.closed {
			return gnet.None, true // gnet closed c inside Write
		}
	} else if cap(st.out) > maxRetainedOut {
		h.releaseOut(st) // the spare, taken by a batch that replied nothing yet
	}
	if st.closing {
		return h.closeWhenDrained(c, st), true
	}
	return gnet.None, false
}

// takeSpare returns out copied into the handler's spare buffer (spareOut),
// which st.out then is until releaseOut gives it back; out itself if
// another batch has the spare.
func (h *handler) takeSpare(st *connState, out []byte) []byte {
	if b := h.spareOut.Swap(nil); b != nil {
		out = append(*b, out...)
		st.outBox = b
	}
	return out
}

// releaseOut empties st.out after its write: a buffer over maxRetainedOut
// becomes the handler's spare (up to maxSpareOut) instead of staying with
// the connection.
func (h *handler) releaseOut(st *connState) {
	if cap(st.out) <= maxRetainedOut {
		st.out = st.out[:0]
		return
	}
	if cap(st.out) <= maxSpareOut {
		box := st.outBox // reused, so that returning the spare does not allocate
		if box == nil {
			box = new([]byte)
		}
		*box = st.out[:0]
		h.spareOut.Store(box)
	}
	st.out, st.outBox = nil, nil
}

// batch parses and executes the commands at the head of buf, appending
// their replies to st.out. It stops at the first incomplete command, when
// the replies reach the output limit (full), after a command that closes
// the connection, or at a protocol error (whose reply it appends). consumed
// is the number of bytes of buf to discard; wrote reports that a write
// command ran while appendfsync always is on.
func (h *handler) batch(st *connState, buf []byte) (consumed int, full, wrote bool) {
	cl := st.client
	out := st.out
	if st.bigOut && cap(out) <= maxRetainedOut {
		out = h.takeSpare(st, out)
	}
	checkWrite := h.opts.Sync != nil && h.syncAlways.Load()
	pf := 0 // buf[:pf] holds the commands the last pre-pass covered
	// The commands the last pre-pass parsed, from buf[consumed:] on, are
	// st.parsed.cmds[pc:] (none before the first pre-pass); the pre-passes
	// of this batch kept at most kept arguments.
	pc, pa, pn, kept := 0, 0, 0, 0
	for consumed < len(buf) {
		if len(out) >= h.opts.OutputLimit {
			full = true
			break
		}
		if len(out) > maxRetainedOut/2 && st.outBox == nil && cap(out) <= maxRetainedOut {
			// Replies past half of what a connection keeps, in a batch
			// that did not start from the spare (a connection's first
			// large batch: LRANGE of 100 1 KiB elements at pipeline 16
			// from 50 new connections): the spare instead of regrowing.
			out = h.takeSpare(st, out)
		}
		st.r.Unauthenticated = !cl.Authed && h.requirePass.Load()
		var args [][]byte
		var n int
		if pc < pn && !st.r.Unauthenticated {
			// Parsed by the pre-pass, with the limits st.r applies to
			// an authenticated client, from the same bytes.
			c := st.parsed.cmds[pc]
			args, n = st.parsed.args[pa:pa+c.nargs:pa+c.nargs], c.n
			pc++
			pa += c.nargs
		} else {
			pn = 0
			var err error
			args, n, err = st.r.Parse(buf[consumed:])
			if err != nil {
				out = protocol.AppendError(out, "ERR "+err.Error())
				st.closing = true
				consumed = len(buf)
				break
			}
			if n == 0 {
				break
			}
		}
		consumed += n
		if len(args) == 0 {
			continue
		}
		if st.loop != nil {
			st.loop.cmds++
		}
		if consumed > pf && consumed < len(buf) && !st.r.Unauthenticated && !h.noPrefetch {
			// More input follows this command: warm the keys of the
			// commands buffered next so their cache misses overlap.
			if k, m, rd, wr := h.srv.PrefetchKey(cl, args); k != nil {
				// Asked once per pre-pass: is the index, or the
				// collection the command looks into, too large for
				// the caches? If not, none runs in this batch.
				if h.prefetchAlways || h.srv.PrefetchWorth(cl, k, m) {
					pf = h.prefetch(st, buf, consumed, k, m, rd, wr)
					pc, pa, pn = 0, 0, len(st.parsed.cmds)
					kept = max(kept, len(st.parsed.args))
				} else {
					pf = len(buf)
				}
			}
		}
		if cl.Killed() {
			// Killed by a command of another loop while this batch ran.
			st.closing = true
			consumed = len(buf)
			break
		}
		// A write whose reply is an error changed nothing (a refused write
		// after a failed fsync gets -MISCONF): no fsync to wait for.
		mayWrite := checkWrite && !wrote && isWrite(h.srv.Lookup(args[0]), cl.InMulti())
		before := len(out)
		out = h.srv.Execute(cl, args, out)
		if mayWrite && (len(out) == before || out[before] != '-') {
			wrote = true
		}
		if cl.Pending() {
			// The command blocked (BLPOP, ...), or out-of-band replies
			// arrived (possibly the blocked command's own, served at
			// once by another loop): the rest of the input waits until
			// serve has taken the inbox, so replies stay in order.
			break
		}
		if cl.CloseAfterReply {
			st.closing = true
			consumed = len(buf)
			break
		}
		if h.stopping.Load() {
			// SHUTDOWN (or Stop) is under way: no further command of this
			// batch runs; the replies so far are written.
			break
		}
	}
	// Do not pin the input buffer: every batch leaves st.parsed.args
	// cleared up to its capacity.
	clear(st.parsed.args[:kept])
	st.out = out
	return consumed, full, wrote
}

// prefetch is the pre-pass of batch over a pipeline: key (and member, its
// PrefetchKey member) is the key of the command just parsed, which ends at
// buf[from]; prefetch parses the complete commands buffered after it (up
// to prefetchCmds, with a reader of its own: the executing command's
// arguments stay valid) and hands their keys and members with key's to
// Server.Prefetch, a hint that changes no result. The
// multibulk requests it parsed, up to the first inline one, stay in
// st.parsed, where batch takes them instead of parsing them again. It
// returns the offset after which batch should run the next pre-pass: the
// end of the last command covered if it stopped early (the command limit,
// or a command it does not parse), else len(buf).
func (h *handler) prefetch(st *connState, buf []byte, from int, key, member []byte, reads, writes bool) int {
	r := &st.pre
	r.MaxBulkLen, r.MaxInline, r.MaxArgs = st.r.MaxBulkLen, st.r.MaxInline, prefetchMaxArgs
	if st.r.MaxArgs > 0 {
		r.MaxArgs = min(r.MaxArgs, st.r.MaxArgs)
	}
	keys := append(st.keys[:0], key)
	members := append(st.members[:0], member)
	anyMember := member != nil
	pp := st.parsed
	pp.cmds, pp.args = pp.cmds[:0], pp.args[:0]
	end, next := from, len(buf)
	keep := true // every request parsed so far is in pp
	for cmds := 1; end < len(buf); {
		if cmds == prefetchCmds {
			next = end
			break
		}
		// An inline request's arguments may live in r's scratch, which
		// the next Parse reuses: pp stops before the first one.
		keep = keep && buf[end] == '*'
		args, n, err := r.Parse(buf[end:])
		if err != nil {
			next = end // too many arguments, or malformed: batch decides
			break
		}
		if n == 0 {
			break // incomplete: nothing more in this batch
		}
		end += n
		if keep {
			pp.cmds = append(pp.cmds, preCmd{n, len(args)})
			pp.args = append(pp.args, args...)
		}
		if len(args) == 0 {
			continue
		}
		cmds++
		if k, m, rd, wr := h.srv.PrefetchKey(st.client, args); k != nil {
			keys, members = append(keys, k), append(members, m)
			reads, writes, anyMember = reads || rd, writes || wr, anyMember || m != nil
		}
	}
	r.Reset()
	if len(keys) > 1 {
		ms := members
		if !anyMember {
			ms = nil
		}
		h.srv.Prefetch(st.client, keys, ms, reads, writes)
	}
	clear(keys) // do not pin the input buffer
	clear(members)
	st.keys, st.members = keys[:0], members[:0]
	return next
}

// isWrite reports whether cmd may append to the store. EXEC runs queued
// commands that may be writes; inside MULTI a write command is only
// queued (+QUEUED needs no sync).
func isWrite(cmd *command.Command, inMulti bool) bool {
	if cmd == nil {
		return false
	}
	if cmd.Name == "exec" {
		return true
	}
	return cmd.Flags&command.FlagWrite != 0 && !inMulti
}

// closeWhenDrained closes c once its pending replies are written, or after
// CloseTimeout.
func (h *handler) closeWhenDrained(c gnet.Conn, st *connState) gnet.Action {
	if c.OutboundBuffered() == 0 {
		return gnet.Close
	}
	now := time.Now().UnixNano()
	if st.closeBy == 0 {
		st.closeBy = now + int64(h.opts.CloseTimeout)
	} else if now > st.closeBy {
		return gnet.Close
	}
	h.park(c, st)
	return gnet.None
}

func (h *handler) park(c gnet.Conn, st *connState) {
	if st.parked {
		return
	}
	st.parked = true
	h.mu.Lock()
	h.waiting[st] = c
	h.mu.Unlock()
}

func (h *handler) unpark(st *connState) {
	if !st.parked {
		return
	}
	st.parked = false
	h.mu.Lock()
	delete(h.waiting, st)
	h.mu.Unlock()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// localAddr returns the connection's local address as the kernel reports it
// (the listener's address may be a wildcard), falling back to fallback.
func localAddr(fd int, fallback net.Addr) string {
	if sa, err := unix.Getsockname(fd); err == nil {
		if s := sockaddrString(sa); s != "" {
			return s
		}
	}
	return addrString(fallback)
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return ""
}
