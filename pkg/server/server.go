package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/command"
	"github.com/toonstore/toonstore/pkg/config"
	"github.com/toonstore/toonstore/pkg/eventloop"
	"github.com/toonstore/toonstore/pkg/store"
)

// Sync policies as the server applies them (see the package documentation).
const (
	policyEverySec int32 = iota
	policyAlways
	policyNo
)

// Server is a running tstd: store, cache, command server and event loops.
// Its methods are safe for concurrent use.
//
// Publication of the store and cache: the loading goroutine (load) writes
// store, cache and keys, then calls command.Server.FinishLoading and closes
// ready. Other goroutines read those fields only after <-ready (loaded),
// and the event loops only in commands that the command server lets run
// once loading is over, so every read happens after the writes.
type Server struct {
	log    *zap.Logger
	cfg    *config.Config
	store  *store.Store // written by load before ready is closed
	cache  *cache.Cache // written by load before ready is closed
	cmd    *command.Server
	engine *eventloop.Engine
	// eng is engine for the command hooks, which run on event loops that
	// may serve a client before Start has assigned engine.
	eng atomic.Pointer[eventloop.Engine]
	// flushStore is the store once loaded, for the event loops' Flush.
	flushStore atomic.Pointer[store.Store]
	dir        string
	keys       int // written by load before ready is closed

	loadState store.LoadState // progress of the store's Open, for INFO
	ready     chan struct{}   // closed when the dataset is loaded and served
	loadDone  chan struct{}   // closed when load returns, after ready or with loadErr
	loadErr   error           // written before loadDone is closed
	loadTime  time.Duration   // written before ready is closed

	capMu sync.Mutex // guards wantCap and applying capacity to the cache
	// trigMu serializes handing auto-aof-rewrite-percentage and
	// auto-aof-rewrite-min-size to trigStore (the store, once open).
	trigMu    sync.Mutex
	trigStore *store.Store
	wantCap   int // capacity set by CONFIG SET during the load; 0 = none

	policy   atomic.Int32 // policyEverySec, policyAlways or policyNo
	stopSync chan struct{}
	syncDone chan struct{}

	done     chan struct{} // closed when everything is closed
	closeErr error         // written before done is closed
	stopTO   time.Duration
}

// Start binds the listen address, starts the event loops and returns; the
// store and cache the configuration names open on a goroutine meanwhile.
// Until they are loaded, clients get -LOADING for every command without
// Redis's loading flag (PING, GET, SET, ...), while INFO, CONFIG, HELLO,
// AUTH, CLIENT, SELECT and the other flagged commands work and INFO
// persistence reports loading:1 and the progress. Ready is closed when the
// dataset is served; WaitReady waits for it. If loading fails the server
// stops: Done is closed and Err (and WaitReady, Close) return the error.
//
// Start itself fails, with nothing left open, on a bad address or
// configuration, when the address cannot be bound, and with an error
// wrapping store.ErrLocked when another process holds the data directory
// (checked before listening).
func Start(opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = config.New()
	}
	if err := applyOverrides(cfg, opts); err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = listenAddr(cfg.Value("bind"), cfg.Value("port"))
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadAddr, addr, err)
	}
	if opts.LogLevel != nil {
		if l, ok := ZapLevel(cfg.Value("loglevel")); ok {
			opts.LogLevel.SetLevel(l)
		}
	}
	policy, err := parsePolicy(cfg.Value("appendfsync"))
	if err != nil {
		return nil, err
	}

	s := &Server{
		log:      log,
		cfg:      cfg,
		dir:      cfg.Value("dir"),
		ready:    make(chan struct{}),
		loadDone: make(chan struct{}),
		stopSync: make(chan struct{}),
		syncDone: make(chan struct{}),
		done:     make(chan struct{}),
		stopTO:   opts.StopTimeout,
	}
	if s.stopTO <= 0 {
		s.stopTO = 30 * time.Second
	}
	s.policy.Store(policy)
	if err := checkLock(opts.FS, s.dir); err != nil {
		return nil, fmt.Errorf("server: open store in %s: %w", s.dir, err)
	}

	s.cmd = command.NewServer(nil, cfg, log.Named("command"))
	s.cmd.BeginLoading(s.loadState.Progress)
	s.cmd.Hooks = command.Hooks{Shutdown: s.shutdownHook, Save: s.save, BGSave: s.bgSave, BGRewrite: s.bgRewrite}

	s.engine, err = eventloop.Start(eventloop.Options{
		Addr:   addr,
		Server: s.cmd,
		Logger: log.Named("net"),
		// Called only after a batch that ran a write, hence after the load.
		Sync: func() error { return s.store.Sync() },
		// Every reply: the store buffers appends (store.Options.BufferWrites).
		Flush: func() error {
			if st := s.flushStore.Load(); st != nil {
				return st.FlushWrites()
			}
			return nil
		},
		HoldReplies:      true,
		RoundSpin:        orDefault(opts.RoundSpin, DefaultRoundSpin),
		RoundWait:        orDefault(opts.RoundWait, DefaultRoundWait),
		SyncAlways:       policy == policyAlways,
		RequirePass:      cfg.Value("requirepass") != "",
		MaxClients:       int(cfg.Int("maxclients")),
		QueryBufferLimit: int(cfg.Int("client-query-buffer-limit")),
		MaxBulkLen:       cfg.Int("proto-max-bulk-len"),
		TCPKeepAlive:     time.Duration(cfg.Int("tcp-keepalive")) * time.Second,
		IdleTimeout:      time.Duration(cfg.Int("timeout")) * time.Second,
		Loops:            opts.Loops,
		ReusePort:        opts.ReusePort,
		LockOSThread:     opts.LockOSThread,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.eng.Store(s.engine)
	// CONFIG GET port and INFO tcp_port report the port actually bound
	// (Addr may ask for port 0), as Redis reports its own.
	if _, port, err := net.SplitHostPort(s.engine.Addr()); err == nil && port != cfg.Value("port") {
		if err := cfg.SetArgs("port", port); err != nil {
			log.Warn("cannot record the bound port in the configuration", zap.Error(err))
		}
	}
	s.registerHooks(opts.LogLevel)
	go s.load(opts)
	go s.syncLoop()
	go s.lifecycle()
	return s, nil
}

// checkLock fails with an error wrapping store.ErrLocked when another
// process holds dir's LOCK, so that Start fails before it listens; it
// releases the lock at once (the store takes it again when it opens).
func checkLock(fs store.FS, dir string) error {
	if fs == nil {
		fs = store.OSFS()
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	l, err := fs.Lock(filepath.Join(dir, lockFile))
	if err != nil {
		return err
	}
	return l.Close()
}

// load opens the store and the cache (the dataset load), publishes them
// (see Server) and closes ready; on failure it records loadErr and stops
// the event loops.
func (s *Server) load(opts Options) {
	defer close(s.loadDone)
	start := time.Now()
	if opts.BeforeLoad != nil {
		opts.BeforeLoad()
	}
	// The server applies the sync policy itself (package documentation).
	st, err := store.Open(s.dir, store.Options{
		Sync:         store.SyncNo,
		BufferWrites: true, // flushed before every reply (eventloop.Options.Flush)
		Databases:    int(s.cfg.Int("databases")),
		SegmentSize:  opts.SegmentSize,
		Logger:       s.log.Named("store"),
		Load:         &s.loadState,
		FS:           opts.FS,
		Rechunk:      opts.Rechunk,
	})
	if err != nil {
		s.failLoad(fmt.Errorf("server: open store in %s: %w", s.dir, err))
		return
	}
	s.applyCompactTrigger(st)
	c, err := cache.Open(st, cache.Options{
		Capacity: int(s.cfg.Int("capacity")),
		MaxBytes: s.cfg.Int("maxmemory"),
		Hz:       int(s.cfg.Int("hz")),
		Logger:   s.log.Named("cache"),
	})
	if err != nil {
		_ = st.Close()
		s.failLoad(fmt.Errorf("server: open cache: %w", err))
		return
	}
	s.store, s.cache, s.keys = st, c, int(st.Stats().Recovered)
	s.flushStore.Store(st)
	s.loadTime = time.Since(start)
	s.capMu.Lock()
	s.cmd.FinishLoading(c)
	close(s.ready)
	if s.wantCap > 0 { // CONFIG SET capacity during the load
		if err := c.SetCapacity(s.wantCap); err != nil {
			s.log.Warn("applying the capacity set during the load", zap.Int("capacity", s.wantCap), zap.Error(err))
		}
	}
	s.capMu.Unlock()
	stats := st.Stats()
	s.log.Info("dataset loaded",
		zap.Int("keys", s.keys),
		zap.Duration("took", s.loadTime),
		zap.Bool("index_snapshot", stats.LoadedSnapshot),
		zap.Int64("records_replayed", stats.Replayed),
		zap.Int64("torn_tail_bytes", stats.TruncatedTail))
}

// failLoad records err and stops the event loops (lifecycle then closes
// done).
func (s *Server) failLoad(err error) {
	s.loadErr = err
	s.log.Error("loading the dataset failed; stopping", zap.Error(err))
	eng := s.eng.Load() // stored by Start before it started load
	eng.BeginShutdown()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.stopTO)
		defer cancel()
		_ = eng.Stop(ctx)
	}()
}

// loaded reports whether the dataset is loaded (store and cache readable).
func (s *Server) loaded() bool {
	select {
	case <-s.ready:
		return true
	default:
		return false
	}
}

// applyOverrides sets the convenience fields of opts onto cfg.
func applyOverrides(cfg *config.Config, opts Options) error {
	set := func(name, value string) error {
		if err := cfg.SetArgs(name, value); err != nil {
			return fmt.Errorf("server: %s %q: %w", name, value, err)
		}
		return nil
	}
	if opts.Dir != "" {
		if err := set("dir", opts.Dir); err != nil {
			return err
		}
	}
	if opts.Capacity > 0 {
		if err := set("capacity", strconv.Itoa(opts.Capacity)); err != nil {
			return err
		}
	}
	if opts.AppendFsync != "" {
		if err := set("appendfsync", opts.AppendFsync); err != nil {
			return err
		}
	}
	if opts.RequirePass != "" {
		if err := set("requirepass", opts.RequirePass); err != nil {
			return err
		}
	}
	return nil
}

// listenAddr turns the bind and port directives into one host:port: the
// first bind address ("-" prefix, meaning "optional", dropped; "*" is
// 0.0.0.0, "::*" is ::).
func listenAddr(bind, port string) string {
	host := "127.0.0.1"
	if f := strings.Fields(bind); len(f) > 0 {
		host = strings.TrimPrefix(f[0], "-")
	}
	switch host {
	case "*":
		host = "0.0.0.0"
	case "::*":
		host = "::"
	}
	return net.JoinHostPort(host, port)
}

func parsePolicy(v string) (int32, error) {
	switch v {
	case "always":
		return policyAlways, nil
	case "everysec":
		return policyEverySec, nil
	case "no":
		return policyNo, nil
	}
	return 0, fmt.Errorf("server: unknown appendfsync %q", v)
}

// ZapLevel maps a Redis loglevel to a zap level: debug and verbose to
// Debug, notice to Info, warning to Warn.
func ZapLevel(redisLevel string) (zapcore.Level, bool) {
	switch redisLevel {
	case "debug", "verbose":
		return zapcore.DebugLevel, true
	case "notice":
		return zapcore.InfoLevel, true
	case "warning":
		return zapcore.WarnLevel, true
	}
	return zapcore.InfoLevel, false
}

// applyCompactTrigger hands auto-aof-rewrite-percentage and
// auto-aof-rewrite-min-size, as they are now, to the store's background
// compaction (store.SetCompactTrigger), if open: st once it is (load), nil
// from CONFIG SET.
func (s *Server) applyCompactTrigger(st *store.Store) {
	s.trigMu.Lock()
	defer s.trigMu.Unlock()
	if st != nil {
		s.trigStore = st
	}
	if s.trigStore != nil {
		s.trigStore.SetCompactTrigger(s.cfg.Int("auto-aof-rewrite-percentage"), s.cfg.Int("auto-aof-rewrite-min-size"))
	}
}

// registerHooks applies CONFIG SET of the directives the server acts on.
func (s *Server) registerHooks(level *zap.AtomicLevel) {
	for _, name := range []string{"auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size"} {
		s.cfg.OnChange(name, func(string) error {
			s.applyCompactTrigger(nil)
			return nil
		})
	}
	s.cfg.OnChange("appendfsync", func(v string) error {
		p, err := parsePolicy(v)
		if err != nil {
			return err
		}
		if p == policyAlways && s.loaded() {
			// Writes acknowledged under the old policy become durable
			// before the new one is promised (none before the load ends).
			if err := s.store.Sync(); err != nil {
				return err
			}
		}
		s.policy.Store(p)
		s.engine.SetSyncAlways(p == policyAlways)
		return nil
	})
	s.cfg.OnChange("requirepass", func(v string) error {
		s.engine.SetRequirePass(v != "")
		return nil
	})
	s.cfg.OnChange("maxclients", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("bad maxclients %q", v)
		}
		s.engine.SetMaxClients(n)
		return nil
	})
	s.cfg.OnChange("timeout", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad timeout %q", v)
		}
		s.engine.SetIdleTimeout(time.Duration(n) * time.Second)
		return nil
	})
	s.cfg.OnChange("loglevel", func(v string) error {
		if level != nil {
			if l, ok := ZapLevel(v); ok {
				level.SetLevel(l)
			}
		}
		return nil
	})
	reject := func(err error) func(string) error { return func(string) error { return err } }
	s.cfg.OnChange("bind", reject(errRuntimeListen))
	s.cfg.OnChange("port", reject(errRuntimeListen))
	s.cfg.OnChange("capacity", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		s.capMu.Lock()
		defer s.capMu.Unlock()
		if !s.loaded() {
			s.wantCap = n // applied by load once the cache exists
			return nil
		}
		return s.cache.SetCapacity(n)
	})
}

// syncLoop is the everysec policy (and, under the others, the flush of
// buffered writes no reply flushed).
func (s *Server) syncLoop() {
	defer close(s.syncDone)
	select {
	case <-s.ready:
	case <-s.stopSync:
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-s.stopSync:
			return
		case <-t.C:
		}
		if s.policy.Load() != policyEverySec {
			// Writes no reply flushed (active expiry's deletes) reach
			// the file within a second under every policy.
			_ = s.store.FlushWrites() // a failure turns the store read-only; the next write reports it
			continue
		}
		err := s.store.Sync()
		if err != nil && !errors.Is(err, store.ErrClosed) && err.Error() != lastErr {
			s.log.Error("background fsync failed; writes are refused until restart", zap.Error(err))
			lastErr = err.Error()
		}
	}
}

// lifecycle waits for the event loops to stop (Close, SHUTDOWN, or a fatal
// gnet error), then stops syncing and closes the cache and store.
func (s *Server) lifecycle() {
	<-s.engine.Done()
	if err := s.engine.Err(); err != nil {
		s.log.Error("event loops stopped with an error", zap.Error(err))
	}
	close(s.stopSync)
	<-s.syncDone
	select {
	case <-s.loadDone:
	default:
		// Open cannot be interrupted; the store closes cleanly once loaded.
		s.log.Info("stopping while the dataset loads; waiting for the load to finish")
		<-s.loadDone
	}
	if s.loadErr != nil {
		s.closeErr = s.loadErr
	} else if err := s.cache.Close(); err != nil {
		s.closeErr = fmt.Errorf("server: close store: %w", err)
		s.log.Error("closing the store failed", zap.Error(err))
	} else {
		s.log.Info("store closed cleanly", zap.String("dir", s.dir))
	}
	close(s.done)
}

// shutdownHook is command.Hooks.Shutdown, called on an event loop during
// SHUTDOWN: with save it syncs first and refuses the shutdown if that
// fails; then it stops every loop from parsing further commands and stops
// the engine from another goroutine (Stop waits for the loops).
func (s *Server) shutdownHook(save bool) error {
	if save && s.loaded() { // during a load Redis shuts down without saving too
		if err := s.store.Sync(); err != nil {
			return err
		}
	}
	eng := s.eng.Load()
	if eng == nil {
		return errStarting
	}
	s.log.Info("SHUTDOWN requested by a client; stopping", zap.Bool("save", save))
	eng.BeginShutdown()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.stopTO)
		defer cancel()
		if err := eng.Stop(ctx); err != nil {
			s.log.Error("stopping the event loops", zap.Error(err))
		}
	}()
	return nil
}

// BackupPath returns where SAVE and BGSAVE write the backup: the dbfilename
// directive in the data directory (dir), as Redis places dump.rdb. The
// file is a ToonStore backup (store.Backup: a tar.gz of the data
// directory as of the save's start), not an RDB file; `tstd restore`
// reads it.
func (s *Server) BackupPath() string {
	return filepath.Join(s.dir, s.cfg.Value("dbfilename"))
}

// save is command.Hooks.Save: the log is synced (the data is durable, as
// SAVE promises), then the backup written to BackupPath.
func (s *Server) save() error {
	if !s.loaded() {
		return errLoading
	}
	if err := s.store.Sync(); err != nil {
		return err
	}
	start := time.Now()
	info, err := s.store.BackupFile(s.BackupPath())
	if err != nil {
		return err
	}
	s.log.Info("DB saved on disk", zap.String("file", s.BackupPath()), zap.Uint64("last_sequence", info.LastSequence),
		zap.Int64("bytes", info.Bytes), zap.Duration("took", time.Since(start)))
	return nil
}

// bgSave is command.Hooks.BGSave: save in a goroutine, which reports the
// outcome to the command server (EndSave: LASTSAVE, INFO's rdb_* fields).
// The command layer lets one save run at a time.
func (s *Server) bgSave() error {
	if !s.loaded() {
		return errLoading
	}
	s.log.Info("Background saving started", zap.String("file", s.BackupPath()))
	go func() {
		err := s.save()
		s.cmd.EndSave(time.Now(), err)
		switch {
		case err == nil:
			s.log.Info("Background saving terminated with success")
		case errors.Is(err, store.ErrClosed):
			s.log.Info("background save interrupted by shutdown")
		default:
			s.log.Warn("background save failed", zap.Error(err))
		}
	}()
	return nil
}

// bgRewrite is command.Hooks.BGRewrite: the store's compaction in a
// goroutine.
func (s *Server) bgRewrite() error {
	if !s.loaded() {
		return errLoading
	}
	if s.store.Stats().Compacting {
		return command.ErrRewriteInProgress
	}
	go func() {
		if err := s.store.Compact(); err != nil {
			s.log.Warn("background rewrite (compaction) failed", zap.Error(err))
		}
	}()
	return nil
}

// Addr returns the address the server listens on, host:port, with port 0
// resolved.
func (s *Server) Addr() string { return s.engine.Addr() }

// Loops returns the number of event loops the server runs.
func (s *Server) Loops() int { return s.engine.Loops() }

// Dir returns the data directory (absolute).
func (s *Server) Dir() string { return s.dir }

// Keys returns the number of keys recovered from the data directory (for
// the start-up log), or 0 while the dataset loads.
func (s *Server) Keys() int {
	if !s.loaded() {
		return 0
	}
	return s.keys
}

// LoadTime returns how long opening the store and cache took, or 0 while
// the dataset loads.
func (s *Server) LoadTime() time.Duration {
	if !s.loaded() {
		return 0
	}
	return s.loadTime
}

// Ready is closed once the dataset is loaded and commands are served; it
// stays open if loading fails (see Done and Err).
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Loading reports whether the dataset is still loading. While it is,
// LoadProgress gives bytes of snapshot and log processed and their total.
func (s *Server) Loading() bool { return !s.loaded() }

// LoadProgress returns the bytes of index snapshot and log the store's
// Open has processed and their total (see store.LoadState).
func (s *Server) LoadProgress() (done, total int64) { return s.loadState.Progress() }

// WaitReady waits until the dataset is loaded (nil), loading fails (its
// error), the server stops first (ErrStopped) or ctx ends (ctx.Err()).
func (s *Server) WaitReady(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-s.loadDone:
		if s.loadErr != nil {
			return s.loadErr
		}
		return nil // loaded: ready is closed too
	case <-s.done:
		// A failed load stops the server: both channels may be closed by
		// now, and select picks either; the load's error is the answer.
		select {
		case <-s.loadDone:
			return s.loadErr
		default:
			return ErrStopped
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Config returns the server's configuration registry.
func (s *Server) Config() *config.Config { return s.cfg }

// Command returns the command server (stats, clients).
func (s *Server) Command() *command.Server { return s.cmd }

// Done is closed once the server has stopped (Close or SHUTDOWN) and the
// store is closed.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns the error of closing the store, once Done is closed.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.closeErr
	default:
		return nil
	}
}

// Close stops the server gracefully: no further command is parsed, the
// replies of executed commands are written, connections and the listener
// are closed, then the log is synced and the store closed. It waits for all
// of that and returns the first error. Calling it again, or after SHUTDOWN,
// waits for the same end and returns the same error.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.stopTO)
	defer cancel()
	stopErr := s.engine.Stop(ctx)
	<-s.done
	if stopErr != nil {
		return errors.Join(stopErr, s.closeErr)
	}
	return s.closeErr
}

// orDefault is an eventloop duration for an Options duration d whose zero
// means def and negative off (Options.RoundSpin, Options.RoundWait).
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}
