package server

import (
	"time"

	"go.uber.org/zap"

	"github.com/toonstore/toonstore/pkg/config"
	"github.com/toonstore/toonstore/pkg/store"
)

// DefaultRoundSpin is Options.RoundSpin's default: at pipeline 1 with 50
// clients on two CPUs shared with redis-benchmark, PING, GET, INCR, LPUSH
// and LRANGE ran 7-16% faster with it, ZADD as fast, for about a tenth
// more CPU per request (perf/results/hotpath.md, "A busy loop between
// rounds at pipeline 1").
const DefaultRoundSpin = 20 * time.Microsecond

// DefaultRoundWait is Options.RoundWait's default: the longest an event
// loop waits for its next events after a round of single commands
// holding its Go processor, which other goroutines wait for meanwhile
// (perf/results/hotpath.md, "The loop waits between rounds holding its
// processor").
const DefaultRoundWait = time.Millisecond

// Options configure Start. Zero fields keep the configuration's values.
type Options struct {
	// Addr is host:port to listen on; it overrides the bind and port
	// directives. "127.0.0.1:0" picks a free port (see Server.Addr). Empty
	// means the first address of bind (a leading '-' dropped, "*" meaning
	// every IPv4 interface) and port.
	Addr string
	// Config holds the directives; nil means config.New() (every default).
	// The server registers OnChange hooks on it, so a Config serves one
	// Server: give a restarted server a fresh Config.
	Config *config.Config
	// Logger defaults to zap.NewNop().
	Logger *zap.Logger
	// LogLevel, when set, is kept equal to the loglevel directive (at
	// start and on CONFIG SET loglevel); see ZapLevel.
	LogLevel *zap.AtomicLevel

	// Convenience overrides of directives, applied onto Config with
	// Config.SetArgs before anything opens (empty or zero = keep).
	Dir         string // dir
	Capacity    int    // capacity
	AppendFsync string // appendfsync: always, everysec or no
	RequirePass string // requirepass

	// Loops is the number of event loops; 0 means eventloop.DefaultLoops
	// (half of GOMAXPROCS, at least one).
	Loops int
	// ReusePort gives each loop its own SO_REUSEPORT listener.
	ReusePort bool
	// LockOSThread pins each event loop to an OS thread.
	LockOSThread bool
	// RoundSpin is how long an event loop keeps busy after the replies of
	// a round of single commands from several clients
	// (eventloop.Options.RoundSpin); 0 means DefaultRoundSpin, negative
	// turns it off.
	RoundSpin time.Duration
	// RoundWait is how long an event loop may wait for its next events
	// after such a round without giving up its Go processor
	// (eventloop.Options.RoundWait); 0 means DefaultRoundWait, negative
	// turns it off.
	RoundWait time.Duration
	// Rechunk rebuilds the log's sealed segments in 2 MiB page-cache
	// folios (store.Options.Rechunk; off by default).
	Rechunk bool
	// SegmentSize is the store's segment size; 0 is the store's default
	// (tests use small segments).
	SegmentSize int64
	// StopTimeout bounds how long Close waits for the event loops to stop;
	// default 30s.
	StopTimeout time.Duration
	// FS is the store's filesystem (store.Options.FS); nil means the
	// operating system's. Tests pass a store.MemFS to simulate power loss
	// or inject failing writes and fsyncs.
	FS store.FS
	// BeforeLoad, if set, runs on the loading goroutine before the store
	// opens, while the server already listens and answers -LOADING; tests
	// block in it to hold the server in the loading state.
	BeforeLoad func()
}
