package command

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toonstore/toonstore/pkg/cache"
	"go.uber.org/zap"
)

// Client is the per-connection state the command layer reads and writes.
// It is owned by the connection's event loop goroutine: only that goroutine
// touches the plain fields. Fields that other goroutines read (CLIENT LIST,
// CLIENT KILL) are atomics or guarded as marked.
type Client struct {
	ID     uint64
	DB     int
	Proto  int // 2 or 3
	Authed bool

	Addr, LAddr string // remote and local address "ip:port"
	FD          int
	CreatedMs   int64 // Unix ms

	// CloseAfterReply asks the event loop to close the connection once the
	// replies produced so far are written (QUIT, protocol errors).
	CloseAfterReply bool

	// Kill, set by the event loop, closes the connection from any goroutine
	// (CLIENT KILL). It must be safe to call concurrently and more than once.
	Kill func()
	// Wake, set by the event loop, makes the loop serve the connection
	// soon (it then takes the inbox, see Deliver). Safe from any goroutine.
	Wake func()

	inbox struct { // out-of-band replies, see deliver.go
		mu    sync.Mutex
		buf   []byte
		wrote bool // buf holds a DeliverWrite reply
		// took is set by TakeInbox (on c's loop, which alone reads it):
		// the inbox it took held a DeliverWrite reply.
		took bool
		// Written under mu, read without it on the loop's fast path.
		blocked atomic.Bool // Block was called and no unblocking Deliver yet
		woken   atomic.Bool // a Wake is pending: the loop has not taken the inbox since
	}

	mu      sync.Mutex // guards the fields below, read by CLIENT LIST/INFO from other loops
	name    string
	libName string
	libVer  string

	// lastCmd and lastMs (Unix ms) are the last command and when it ran,
	// for CLIENT LIST and the idle timeout. Atomics written by c's loop
	// only when they change (no lock and, for a repeated command, no write
	// per command); a reader may see the two from different commands.
	lastCmd atomic.Pointer[Command]
	lastMs  atomic.Int64
	// pub mirrors DB and Proto for readers on other goroutines (CLIENT
	// LIST, CLIENT KILL): Execute publishes them after every command.
	pub atomic.Uint64

	ctx  Ctx      // reused by Execute for every command of this client
	last *Command // the command the previous Execute looked up (loop-only)
	num  [20]byte // scratch for a number's digits (INCR), loop-only
	opb  []byte   // scratch for a collection's operation record (Ctx.opBuf), loop-only
	// pfKeys is the scratch of Ctx.prefetchArgs, loop-only.
	pfKeys [][]byte

	// DeferStats, set by the event loop before c's first command, makes
	// Execute keep c's INFO counters (commands processed, keyspace hits and
	// misses, and the net bytes the loop counts with CountNet) in c until
	// the loop calls Server.FlushStats, once per batch before its replies
	// are written, instead of adding to the shared Stats atomics per
	// command (a cache line that would bounce between the loops). When
	// false, Execute flushes after every command.
	DeferStats bool
	// pending is written only by code running for c on c's own loop
	// (Execute, keyStat); code serving c from another goroutine (a blocked
	// command served by another client's write) must not count into it.
	pending pendingStats

	tx txState // MULTI queue and WATCH state (multi.go, watch.go)

	subs clientSubs // pub/sub subscriptions (pubsub.go)

	killed atomic.Bool // set by Server.KillClient; the loop then executes nothing more
	// Stats maintained by the event loop for CLIENT LIST.
	QueryBuf atomic.Int64 // bytes buffered unparsed (qbuf)
	OutBuf   atomic.Int64 // bytes of pending output (omem)
}

// Killed reports whether the client was killed (CLIENT KILL). The event
// loop checks it before executing anything for the client and closes the
// connection instead, so a killed client is gone as soon as KILL replies,
// as in Redis, even though the close itself runs on the client's own loop.
func (c *Client) Killed() bool { return c.killed.Load() }

// Name returns the connection name (CLIENT SETNAME).
func (c *Client) Name() string { c.mu.Lock(); defer c.mu.Unlock(); return c.name }

// SetName sets the connection name.
func (c *Client) SetName(s string) { c.mu.Lock(); c.name = s; c.mu.Unlock() }

// Lib returns lib-name and lib-ver (CLIENT SETINFO).
func (c *Client) Lib() (name, ver string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.libName, c.libVer
}

// SetLib sets lib-name or lib-ver; an empty argument leaves it unchanged
// unless set is true for it.
func (c *Client) SetLibName(s string) { c.mu.Lock(); c.libName = s; c.mu.Unlock() }

// SetLibVer sets lib-ver.
func (c *Client) SetLibVer(s string) { c.mu.Lock(); c.libVer = s; c.mu.Unlock() }

// LastCmd returns the last command's full name ("" before the first) and
// its time (Unix ms, 0 before the first). Safe from any goroutine; the two
// may belong to consecutive commands when c runs one meanwhile.
func (c *Client) LastCmd() (string, int64) {
	ms := c.lastMs.Load()
	if cmd := c.lastCmd.Load(); cmd != nil {
		return cmd.Name, ms
	}
	return "", ms
}

// publish copies DB and Proto to pub. Called on c's goroutine; it writes
// only on a change (an atomic store is a full barrier on amd64).
func (c *Client) publish() {
	v := uint64(uint32(c.DB))<<32 | uint64(uint32(c.Proto))
	if c.pub.Load() != v {
		c.pub.Store(v)
	}
}

// published returns DB and Proto as of c's last command; safe from any
// goroutine.
func (c *Client) published() (db, proto int) {
	v := c.pub.Load()
	db, proto = int(int32(v>>32)), int(int32(v))
	if proto == 0 {
		proto = 2 // no command yet: a new connection's state
	}
	return db, proto
}

// noteCmd records cmd as c's last command, run at ms. Called on c's
// goroutine; it writes only what changed.
func (c *Client) noteCmd(cmd *Command, ms int64) {
	if c.lastCmd.Load() != cmd {
		c.lastCmd.Store(cmd)
	}
	if c.lastMs.Load() != ms {
		c.lastMs.Store(ms)
	}
}

// pendingStats are a client's INFO counters not yet added to Stats.
type pendingStats struct {
	cmds, netIn, netOut, hits, misses uint64
}

// CountNet adds in bytes read and out bytes written for c to its pending
// INFO counters (total_net_input_bytes, total_net_output_bytes). Called on
// c's loop; Server.FlushStats publishes them.
func (c *Client) CountNet(in, out uint64) {
	c.pending.netIn += in
	c.pending.netOut += out
}

// FlushStats adds c's pending INFO counters to s.Stats and clears them.
// Called on c's loop: by the event loop once per batch, before the batch's
// replies are written (so a reply a client has seen is always counted), and
// when the connection closes; by Execute after each command unless
// c.DeferStats is set.
func (s *Server) FlushStats(c *Client) {
	p := &c.pending
	if *p == (pendingStats{}) {
		return
	}
	st := &s.Stats
	if p.cmds != 0 {
		st.CommandsProcessed.Add(p.cmds)
	}
	if p.netIn != 0 {
		st.NetInputBytes.Add(p.netIn)
	}
	if p.netOut != 0 {
		st.NetOutputBytes.Add(p.netOut)
	}
	if p.hits != 0 {
		st.KeyspaceHits.Add(p.hits)
	}
	if p.misses != 0 {
		st.KeyspaceMisses.Add(p.misses)
	}
	*p = pendingStats{}
}

// Stats are server-wide counters for INFO. All fields are atomics.
type Stats struct {
	ConnectionsReceived atomic.Uint64
	RejectedConnections atomic.Uint64
	CommandsProcessed   atomic.Uint64
	NetInputBytes       atomic.Uint64
	NetOutputBytes      atomic.Uint64
	ConnectedClients    atomic.Int64
	// KeyspaceHits and KeyspaceMisses are Redis's keyspace_hits/misses:
	// read commands count one per key looked up, found or not.
	KeyspaceHits   atomic.Uint64
	KeyspaceMisses atomic.Uint64
}

// Hooks are callbacks into the layers above the command layer (the server
// wiring). Nil hooks make the matching commands reply with an error.
type Hooks struct {
	// Shutdown stops the server after the current replies are written
	// (SHUTDOWN). save reports SAVE/NOSAVE; it returns an error to refuse.
	Shutdown func(save bool) error
	// Save writes a backup of the data (SAVE) and returns when it is done.
	// BGSave starts one in the background and returns; when it completes
	// the wiring must call Server.EndSave with its outcome (the command
	// layer has called BeginSave before either hook).
	Save   func() error
	BGSave func() error
	// BGRewrite starts the store's compaction in the background
	// (BGREWRITEAOF); ErrRewriteInProgress if one is running.
	BGRewrite func() error
}

// ErrRewriteInProgress is returned by Hooks.BGRewrite while a compaction
// runs.
var ErrRewriteInProgress = errors.New("command: background rewrite already in progress")

// Server holds what every command may use. Safe for concurrent use by the
// event loops; the table is read-only after NewServer.
type Server struct {
	Cache  *cache.Cache
	Config Config
	Log    *zap.Logger
	Stats  Stats
	Hooks  Hooks
	Start  time.Time

	Clients Clients
	nextID  atomic.Uint64

	lastSave atomic.Int64  // Unix seconds of the last successful SAVE
	clockMs  atomic.Int64  // coarse clock (Unix ms) set by Tick; 0 = read the system clock
	srv      srvState      // INFO, SHUTDOWN and SAVE bookkeeping (srv_state.go)
	load     loadState     // the dataset load in progress (loading.go)
	ps       pubsub        // pub/sub subscriptions (pubsub.go)
	blk      blocking      // clients blocked in BLPOP & co (blocking.go)
	watch    watchRegistry // WATCHed keys (watch.go)

	// MaxQueuedBytes bounds a MULTI queue (multi-mem: argument bytes + 8
	// per argument); a command past it is refused and fails the
	// transaction. <= 0 means DefaultMaxQueuedBytes. Set before serving.
	MaxQueuedBytes int64

	table map[string]*Command
}

// Config is what the command layer needs of the directive registry
// (pkg/config implements it). Defined here so that the command layer does
// not depend on how configuration is loaded.
type Config interface {
	// Get returns name/value pairs of every directive matching the glob
	// pattern (CONFIG GET), names as Redis prints them.
	Get(pattern string) [][2]string
	// Set validates and applies all pairs atomically (CONFIG SET); the
	// error text is Redis's, without the leading "ERR ".
	Set(pairs [][2]string) error
	// Value returns the current value of one directive ("" if unknown).
	Value(name string) string
}

// Clients is the registry of connected clients (CLIENT LIST, KILL, INFO).
type Clients struct {
	mu sync.Mutex         // guards m
	m  map[uint64]*Client // by ID
}

// Add registers c.
func (r *Clients) Add(c *Client) {
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[uint64]*Client)
	}
	r.m[c.ID] = c
	r.mu.Unlock()
}

// Remove unregisters c.
func (r *Clients) Remove(c *Client) {
	r.mu.Lock()
	delete(r.m, c.ID)
	r.mu.Unlock()
}

// Snapshot returns the registered clients in ascending ID order.
func (r *Clients) Snapshot() []*Client {
	r.mu.Lock()
	out := make([]*Client, 0, len(r.m))
	for _, c := range r.m {
		out = append(out, c)
	}
	r.mu.Unlock()
	sortClients(out)
	return out
}

func sortClients(cs []*Client) {
	slices.SortFunc(cs, func(a, b *Client) int { return cmp.Compare(a.ID, b.ID) })
}

// NewServer builds the command table over cache c.
func NewServer(c *cache.Cache, cfg Config, log *zap.Logger) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{Cache: c, Config: cfg, Log: log, Start: time.Now()}
	s.lastSave.Store(time.Now().Unix())
	s.table = buildTable()
	if c != nil {
		c.SetHooks(s.cacheHooks())
	}
	return s
}

// KillClient kills c from any goroutine: it is unregistered at once (a
// second CLIENT KILL no longer finds it), marked killed (its loop executes
// nothing more for it) and its connection is closed asynchronously.
func (s *Server) KillClient(c *Client) {
	if c.killed.Swap(true) {
		return
	}
	s.Clients.Remove(c)
	if c.Kill != nil {
		c.Kill()
	}
}

// Tick sets the coarse clock that Execute stamps commands with (a client's
// last-interaction time: CLIENT LIST idle=, the idle timeout, both in
// seconds), as Redis caches its time per event loop iteration: the event
// loop's ticker calls it at least every 100 ms, which saves a clock read per
// command. Safe from any goroutine.
func (s *Server) Tick() { s.clockMs.Store(time.Now().UnixMilli()) }

// nowMs is the coarse clock, or the system clock if Tick was never called.
func (s *Server) nowMs() int64 {
	if ms := s.clockMs.Load(); ms != 0 {
		return ms
	}
	return time.Now().UnixMilli()
}

// NewClient returns a client with a fresh ID, RESP2, database 0. As in
// Redis, it starts authenticated when no password is required at the time
// it connects (setting requirepass later does not log clients out).
func (s *Server) NewClient() *Client {
	return &Client{ID: s.nextID.Add(1), Proto: 2, CreatedMs: time.Now().UnixMilli(), Authed: !s.requirePass()}
}

// Lookup returns the command named name (any case), or nil.
func (s *Server) Lookup(name []byte) *Command { return lookupFold(s.table, name) }

// Table returns the command table (read-only).
func (s *Server) Table() map[string]*Command { return s.table }

// opMaxKeep is the largest operation-record scratch a client keeps
// between commands (a larger one, from a command with many or large
// elements, goes back to the garbage collector).
const opMaxKeep = 64 << 10

// opBuf returns the client's scratch for building one operation record,
// empty. The record must be handed to cache.Tx.AppendOp (which copies it
// into the log) within the same command and not kept; keepOp then returns
// the possibly grown array for the client's next record. This saves an
// allocation (and, for large elements, its zeroing) per collection write.
func (x *Ctx) opBuf() []byte { return x.C.opb[:0] }

// keepOp keeps op's array as the client's scratch unless it is larger
// than opMaxKeep. op must not be used afterwards.
func (x *Ctx) keepOp(op []byte) {
	if cap(op) <= opMaxKeep {
		x.C.opb = op[:0]
	}
}
