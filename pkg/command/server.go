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
	lastCmd string
	lastMs  int64 // Unix ms of the last command
	// pub mirrors DB and Proto for readers on other goroutines (CLIENT
	// LIST, CLIENT KILL): Execute publishes them after every command.
	pub atomic.Uint64

	ctx Ctx // reused by Execute for every command of this client

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

// LastCmd returns the last command's full name and its time (Unix ms).
func (c *Client) LastCmd() (string, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastCmd, c.lastMs
}

// publish copies DB and Proto to pub. Called on c's goroutine.
func (c *Client) publish() { c.pub.Store(uint64(uint32(c.DB))<<32 | uint64(uint32(c.Proto))) }

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

func (c *Client) noteCmd(name string, ms int64) {
	c.mu.Lock()
	c.lastCmd = name
	c.lastMs = ms
	c.mu.Unlock()
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

	lastSave atomic.Int64 // Unix seconds of the last successful SAVE
	clockMs  atomic.Int64 // coarse clock (Unix ms) set by Tick; 0 = read the system clock
	srv      srvState     // INFO, SHUTDOWN and SAVE bookkeeping (srv_state.go)
	load     loadState    // the dataset load in progress (loading.go)
	ps       pubsub       // pub/sub subscriptions (pubsub.go)
	blk      blocking     // clients blocked in BLPOP & co (blocking.go)

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
