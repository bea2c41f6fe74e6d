package cache

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
	"go.uber.org/zap"
)

// Defaults of Options.
const (
	DefaultCapacity = 10000
	DefaultHz       = 10
	maxHz           = 500
)

// Cache is ToonCache: a lock-striped LRU of decoded values in front of a
// Store, and the keyspace API the server executes commands against. Safe
// for concurrent use.
type Cache struct {
	s      *store.Store
	shards []shard // len is a power of two; immutable after Open
	mask   uint64  // len(shards) - 1
	seed   maphash.Seed
	now    func() int64
	log    *zap.Logger

	capacity atomic.Int64 // entries kept over all shards (SetCapacity)
	hooks    atomic.Pointer[Hooks]

	stopOnce sync.Once
	stop     chan struct{}  // closed by Close to end active expiry
	done     sync.WaitGroup // active expiry goroutine
}

// New opens the store in dir with default options and returns a cache of
// capacity entries over it, as the seed did (capacity <= 0 means
// DefaultCapacity). Close closes both.
func New(dir string, capacity int) (*Cache, error) {
	if capacity < 0 {
		capacity = 0
	}
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", dir, err)
	}
	c, err := Open(s, Options{Capacity: capacity})
	if err != nil {
		s.Close()
		return nil, err
	}
	return c, nil
}

// Open returns a cache over an open store. Close closes the store too.
// Capacity is split across the shards exactly, except that every shard
// keeps at least one entry: a Capacity below the shard count holds up to
// one entry per shard. MaxBytes is split evenly.
// It returns ErrBadOptions (wrapped) for a negative Capacity or MaxBytes,
// a Shards count that is not a power of two, or an Hz out of range; the
// store is left open in that case.
func Open(s *store.Store, opts Options) (*Cache, error) {
	if opts.Capacity < 0 || opts.MaxBytes < 0 || opts.Shards < 0 || opts.Hz < 0 || opts.Hz > maxHz {
		return nil, fmt.Errorf("%w: capacity %d, maxbytes %d, shards %d, hz %d",
			ErrBadOptions, opts.Capacity, opts.MaxBytes, opts.Shards, opts.Hz)
	}
	if opts.Shards != 0 && opts.Shards&(opts.Shards-1) != 0 {
		return nil, fmt.Errorf("%w: shards %d is not a power of two", ErrBadOptions, opts.Shards)
	}
	if opts.Capacity == 0 {
		opts.Capacity = DefaultCapacity
	}
	if opts.Shards == 0 {
		opts.Shards = 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1))
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Hz == 0 {
		opts.Hz = DefaultHz
	}
	c := &Cache{
		s:      s,
		shards: make([]shard, opts.Shards),
		mask:   uint64(opts.Shards - 1),
		seed:   maphash.MakeSeed(),
		now:    opts.Now,
		log:    opts.Logger,
		stop:   make(chan struct{}),
	}
	// Capacity is split exactly: the first Capacity%n shards take one
	// more. Every shard holds at least one entry (the LRU needs it), so a
	// Capacity below the shard count keeps up to one entry per shard.
	n := opts.Shards
	for i := range c.shards {
		c.shards[i].init(shareOf(opts.Capacity, n, i), opts.MaxBytes/int64(n))
		if opts.MaxBytes > 0 && c.shards[i].maxBytes == 0 {
			c.shards[i].maxBytes = 1 // a tiny MaxBytes still caps (caches nothing)
		}
	}
	c.capacity.Store(int64(opts.Capacity))
	// Every operation record the cache appends is pkg/types': the store
	// may merge consecutive ones of a key as types.MergeOps says.
	s.SetOpMerger(types.MergeOps)
	if !opts.NoActiveExpiry {
		c.done.Add(1)
		go c.activeExpiry(time.Second / time.Duration(opts.Hz))
	}
	return c, nil
}

// Close stops active expiry (waiting for a running cycle to finish) and
// closes the store, returning its error. No Tx may be held or taken
// concurrently. A second Close returns the store's error for a closed store.
func (c *Cache) Close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	c.done.Wait()
	return c.s.Close()
}

// Store returns the underlying store.
func (c *Cache) Store() *store.Store { return c.s }

// Now returns the cache's clock in Unix milliseconds.
func (c *Cache) Now() int64 { return c.now() }

// Databases returns the number of logical databases.
func (c *Cache) Databases() int { return c.s.Databases() }

// Shards returns the number of shards (a power of two).
func (c *Cache) Shards() int { return len(c.shards) }

// shardOf returns the index of key's shard: a seeded hash of the key only.
func (c *Cache) shardOf(key []byte) int {
	return int(maphash.Bytes(c.seed, key) & c.mask)
}

// Stats returns the counters, summed over shards. The sums are not a
// snapshot: shards are read one after another without locks.
func (c *Cache) Stats() Stats {
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
		st.Evictions += s.evictions.Load()
		st.Inserts += s.inserts.Load()
		st.ExpiredKeys += s.expired.Load()
		st.Entries += int(s.entries.Load())
	}
	return st
}

// ResetStats zeroes hits, misses, evictions, inserts, expired (CONFIG
// RESETSTAT). Entries is a gauge and is kept.
func (c *Cache) ResetStats() {
	for i := range c.shards {
		s := &c.shards[i]
		s.hits.Store(0)
		s.misses.Store(0)
		s.evictions.Store(0)
		s.inserts.Store(0)
		s.expired.Store(0)
	}
}

// shareOf is shard i's part of capacity split over n shards: the first
// capacity%n shards take one more, and every shard holds at least one
// entry (the LRU needs it).
func shareOf(capacity, n, i int) int {
	c := capacity / n
	if i < capacity%n {
		c++
	}
	return max(c, 1)
}

// Capacity returns the number of decoded entries the cache keeps.
func (c *Cache) Capacity() int { return int(c.capacity.Load()) }

// SetCapacity changes the number of decoded entries kept (CONFIG SET
// capacity), shard by shard. Shrinking evicts the least recently used
// decoded copies at once, except in a shard that is locked at the time
// (by the caller's own EXEC, say: SetCapacity never waits for a shard),
// which applies the new capacity when it is unlocked; like every eviction
// it loses no data. It returns ErrBadOptions for capacity < 1.
func (c *Cache) SetCapacity(capacity int) error {
	if capacity < 1 {
		return fmt.Errorf("%w: capacity %d", ErrBadOptions, capacity)
	}
	n := len(c.shards)
	c.capacity.Store(int64(capacity))
	for i := range c.shards {
		s := &c.shards[i]
		share := shareOf(capacity, n, i)
		if !s.mu.TryLock() {
			// Held, possibly by the caller itself: CONFIG SET capacity
			// inside EXEC runs with every shard locked (Tx.Borrow). The
			// holder applies the new capacity when it unlocks.
			s.pendingCap.Store(int64(share))
			continue
		}
		s.pendingCap.Store(0)
		s.resize(share)
		s.mu.Unlock()
	}
	return nil
}
