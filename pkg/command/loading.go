package command

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/toonstore/toonstore/pkg/cache"
)

// ErrLoading is Redis 7.0's shared.loadingerr, the reply to a command
// without the loading flag while the dataset loads.
const ErrLoading = "LOADING Redis is loading the dataset in memory"

// loadState is the dataset load in progress, if any (BeginLoading).
//
// Publication: FinishLoading writes Server.Cache, then clears on. Code on
// an event loop reads Server.Cache only after it has seen on false (the
// Execute gate for commands without FlagLoading, readyCache for the
// others), so the write happens before every read.
type loadState struct {
	on       atomic.Bool
	startSec int64                      // Unix seconds; written before on is set
	progress func() (done, total int64) // written before on is set; may be nil
}

// BeginLoading marks s as loading its dataset. Until FinishLoading,
// Execute answers every command that lacks FlagLoading with -LOADING (after
// the unknown-command, arity and authentication checks, as Redis orders
// them), commands with the flag run, and INFO reports loading:1 with the
// loading_* fields, progress giving bytes loaded and total bytes (nil:
// zeros). It must be called before any client is served, with s.Cache nil.
func (s *Server) BeginLoading(progress func() (done, total int64)) {
	s.load.startSec = time.Now().Unix()
	s.load.progress = progress
	s.load.on.Store(true)
}

// FinishLoading sets s.Cache to c and ends the load BeginLoading started.
// It may be called from any goroutine while the event loops run; call it
// once.
func (s *Server) FinishLoading(c *cache.Cache) {
	s.Cache = c
	s.load.on.Store(false)
}

// Loading reports whether the dataset is still loading. Safe from any
// goroutine.
func (s *Server) Loading() bool { return s.load.on.Load() }

// readyCache returns s.Cache, or nil while the dataset loads: code that
// runs during the load (commands with FlagLoading, INFO, stats) reads the
// cache only through it.
func (s *Server) readyCache() *cache.Cache {
	if s.load.on.Load() {
		return nil
	}
	return s.Cache
}

// deniedWhileLoading reports whether cmd must be answered -LOADING now.
func (s *Server) deniedWhileLoading(cmd *Command) bool {
	return cmd.Flags&FlagLoading == 0 && s.load.on.Load()
}

// infoLoading appends Redis 7.0's loading_* fields of INFO persistence,
// present only while loading. loading_rdb_used_mem (the memory the RDB
// recorded) has no counterpart here and is 0; the eta follows Redis's
// formula (elapsed * total / loaded - elapsed, 1 in the first second).
func (s *Server) infoLoading(b []byte, now time.Time) []byte {
	var done, total int64
	if s.load.progress != nil {
		done, total = s.load.progress()
	}
	elapsed := now.Unix() - s.load.startSec
	eta := int64(1)
	if elapsed > 0 {
		eta = elapsed*total/(done+1) - elapsed
	}
	perc := float64(done) / float64(total+1) * 100
	b = fieldInt(b, "loading_start_time", s.load.startSec)
	b = fieldInt(b, "loading_total_bytes", total)
	b = field(b, "loading_rdb_used_mem", "0")
	b = fieldInt(b, "loading_loaded_bytes", done)
	b = field(b, "loading_loaded_perc", strconv.FormatFloat(perc, 'f', 2, 64))
	b = fieldInt(b, "loading_eta_seconds", eta)
	return b
}

// databases is the number of databases: the cache's, or while the dataset
// loads the databases directive (SELECT works during a load, as in Redis).
func (s *Server) databases() int {
	if c := s.readyCache(); c != nil {
		return c.Databases()
	}
	if s.Config != nil {
		if n, err := strconv.Atoi(s.Config.Value("databases")); err == nil && n > 0 {
			return n
		}
	}
	return 16
}
