package eventloop

import (
	"runtime"
	"time"

	"github.com/toonstore/toonstore/pkg/command"
	"go.uber.org/zap"
)

// Defaults of Options.
const (
	DefaultMaxClients       = 10000
	DefaultOutputLimit      = 4 << 20 // 4 MiB of pending replies
	DefaultQueryBufferLimit = 1 << 30 // Redis's client-query-buffer-limit
	DefaultCloseTimeout     = 10 * time.Second
)

// Options configure Start. Zero fields take their defaults.
type Options struct {
	// Addr is host:port to listen on; port 0 picks a free port (see
	// Engine.Addr). Required.
	Addr string
	// Server executes commands. Required.
	Server *command.Server
	// Logger defaults to zap.NewNop(). gnet's own messages go to it too,
	// named "gnet".
	Logger *zap.Logger

	// Sync makes every write that returned before the call durable (the
	// store's Sync). It is called on the event loop after a batch that ran a
	// write command while SyncAlways is set (see SetSyncAlways). Nil means
	// no syncing.
	Sync func() error
	// Flush, if set, is called on the event loop before a connection's
	// replies are written: it puts the writes that returned so far where
	// a crash of the process cannot lose them (the store's FlushWrites),
	// so that no reply acknowledges a write that is only in process
	// memory. It must be cheap when there is nothing to flush. If it fails
	// the replies are dropped and the connection is closed, as after a
	// failed appendfsync-always sync.
	Flush func() error
	// HoldReplies makes the replies of a batch wait for the end of the
	// event loop's round instead of leaving at once: the connection joins
	// its loop's list of held replies, and after the loop's next round of
	// events one Flush writes the store's records of every batch held
	// (one pwrite instead of one per connection), then each connection's
	// replies, in order. Replies over 128 KiB leave at once (after a
	// Flush). A loop whose last round held a single connection
	// holds only one batch in soloProbe (holding then costs that client a
	// round of latency and saves nothing). tstd sets it (pkg/server).
	HoldReplies bool
	// RoundSpin, with HoldReplies, keeps the loop busy this long after
	// the shared flush of a round that ran at most two commands per
	// connection it held (clients at pipeline 1) whose commands took less
	// than RoundSpin (up to the flush: the flush's writes do not count),
	// before the loop polls again: the requests those replies
	// draw then meet a running loop and arrive together, as they do at a
	// server that is still busy, instead of each waking a sleeping loop,
	// whose wake-up the client pays for (perf/results/hotpath.md, "A busy
	// loop between rounds at pipeline 1"). It costs CPU: up to RoundSpin
	// per such round. Rounds of pipelined batches, slower rounds and a
	// lone client (whose replies are not held) never spin. 0 turns it off.
	RoundSpin time.Duration
	// RoundWait, with HoldReplies, makes the loop wait up to this long
	// for its next events after the shared flush of a round of single
	// commands from several connections (and after RoundSpin), in a
	// system call that keeps the loop's Go processor, instead of in
	// gnet's poll: with one processor, the Go runtime takes the processor
	// from a loop blocked in gnet's poll and the loop pays to get it back
	// (perf/results/hotpath.md, "The loop waits between rounds holding its
	// processor"). The wait ends at once on any event of the loop or of
	// the acceptor (gnet's own epoll sets are in the one it waits on), on
	// a signal, or after RoundWait; it is skipped when the yield before it
	// ran other goroutines' work (a compaction), or while replies wait for
	// an appendfsync-always sync. Goroutines that become runnable during
	// the wait (timers, a finished system call) wait for it, so it must be
	// short: tstd uses a millisecond. Linux 5.11 or later (epoll_pwait2);
	// 0 turns it off.
	RoundWait time.Duration
	// SyncAlways is the initial appendfsync-always state.
	SyncAlways bool
	// RequirePass is the initial "a password is configured" state: new
	// connections start unauthenticated and the protocol reader applies
	// Redis's limits for unauthenticated clients.
	RequirePass bool
	// MaxClients is the initial maxclients (default DefaultMaxClients).
	MaxClients int

	// OutputLimit is the pending-reply size in bytes over which a
	// connection's input is no longer parsed until the replies drain.
	OutputLimit int
	// QueryBufferLimit is the buffered-input size over which a connection
	// is closed.
	QueryBufferLimit int
	// IdleTimeout closes a client that sent no command for this long
	// (Redis's timeout); 0 never does.
	IdleTimeout time.Duration
	// MaxBulkLen is the largest bulk a client may send
	// (proto-max-bulk-len); 0 means protocol.DefaultMaxBulkLen.
	MaxBulkLen int64
	// CloseTimeout bounds how long a connection closing after its reply
	// waits for the reply to drain.
	CloseTimeout time.Duration

	// Loops is the number of event loops; 0 means DefaultLoops().
	Loops int
	// ReusePort gives every loop its own SO_REUSEPORT listener (Linux)
	// instead of one acceptor reactor handing connections out. It is
	// ignored when the port is 0, since each listener would pick a
	// different port.
	ReusePort bool
	// LockOSThread pins each loop to an OS thread.
	LockOSThread bool
	// TCPDelay turns Nagle's algorithm on (TCP_NODELAY is set by default).
	TCPDelay bool
	// TCPKeepAlive is the keep-alive period (Redis's tcp-keepalive); 0
	// leaves the OS default.
	TCPKeepAlive time.Duration
}

// DefaultLoops is the number of event loops when Options.Loops is 0: half
// the processors Go may use (runtime.GOMAXPROCS(0): the CPU count unless
// GOMAXPROCS or a container's CPU limit lowers it), at least one. The other
// half is left to the clients and the kernel's network stack, which on
// loopback run on the same CPUs. Measured on 2 CPUs with redis-benchmark
// on the same cores (perf/results/hotpath.md, "One event loop, one
// processor"): one loop with GOMAXPROCS=1 used 0.98x Redis's CPU per
// request at pipeline 1 where two loops used 1.47x, and kept or raised
// throughput at pipelines 16 and 64 with 50 and 500 connections. tstd
// (cmd/tstd) also sets GOMAXPROCS to the loop count unless the environment
// sets it: an idle processor is what the Go scheduler keeps waking.
func DefaultLoops() int { return LoopsFor(runtime.GOMAXPROCS(0)) }

// LoopsFor is DefaultLoops for procs processors.
func LoopsFor(procs int) int { return max(procs/2, 1) }

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.MaxClients <= 0 {
		o.MaxClients = DefaultMaxClients
	}
	if o.OutputLimit <= 0 {
		o.OutputLimit = DefaultOutputLimit
	}
	if o.QueryBufferLimit <= 0 {
		o.QueryBufferLimit = DefaultQueryBufferLimit
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
}
