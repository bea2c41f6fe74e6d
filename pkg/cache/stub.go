package cache

// Stubs of the contract; the implementation replaces this file.

import "github.com/toonstore/toonstore/pkg/store"

// Cache is ToonCache: a lock-striped LRU of decoded values in front of a
// Store, and the keyspace API the server executes commands against. Safe
// for concurrent use.
type Cache struct{}

// New opens the store in dir with default options and returns a cache of
// capacity entries over it, as the seed did. Close closes both.
func New(dir string, capacity int) (*Cache, error) { panic("unimplemented") }

// Open returns a cache over an open store. Close closes the store too.
func Open(s *store.Store, opts Options) (*Cache, error) { panic("unimplemented") }

// OpenURL opens "file://./data?capacity=10000" (the seed's connection
// string).
func OpenURL(url string) (*Cache, error) { panic("unimplemented") }

// Close stops active expiry and closes the store.
func (c *Cache) Close() error { panic("unimplemented") }

// Store returns the underlying store.
func (c *Cache) Store() *store.Store { panic("unimplemented") }

// Now returns the cache's clock in Unix milliseconds.
func (c *Cache) Now() int64 { panic("unimplemented") }

// Stats returns the counters.
func (c *Cache) Stats() Stats { panic("unimplemented") }

// ResetStats zeroes hits, misses, evictions, inserts, expired (CONFIG RESETSTAT).
func (c *Cache) ResetStats() { panic("unimplemented") }

// Databases returns the number of logical databases.
func (c *Cache) Databases() int { panic("unimplemented") }

// Tx is a set of locked shards. It is a value type: obtain it from Lock,
// LockKeys or LockAll, use it on one goroutine, and call Unlock exactly
// once. Calling a key method for a key whose shard the Tx does not hold is
// a broken invariant and panics.
//
// Every read through a Tx applies lazy expiry: an expired key is deleted
// (a tombstone is appended) and reported absent.
type Tx struct{}

// Lock locks the shard of key. Shards are chosen by key alone (not by
// database), so one Tx can serve MOVE/COPY of a key between databases.
func (c *Cache) Lock(key []byte) Tx { panic("unimplemented") }

// LockKeys locks the shards of the given keys in ascending shard order
// (the lock order of ARCHITECTURE.md). keys is not retained.
func (c *Cache) LockKeys(keys [][]byte) Tx { panic("unimplemented") }

// LockArgs locks the shards of args[first], args[first+step], ... up to
// and including args[last] (last < 0 counts from the end: -1 is the last
// argument), the key positions of Redis's command table. args is not
// retained.
func (c *Cache) LockArgs(args [][]byte, first, last, step int) Tx { panic("unimplemented") }

// LockAll locks every shard in ascending order (FLUSHDB, SWAPDB, EXEC).
func (c *Cache) LockAll() Tx { panic("unimplemented") }

// Unlock releases the shards.
func (t *Tx) Unlock() { panic("unimplemented") }

// Get returns the value of key in db, loading it from the store on a miss.
// err reports store I/O or corruption only.
func (t *Tx) Get(db int, key []byte) (v Value, ok bool, err error) { panic("unimplemented") }

// Exists reports whether key is live in db without decoding its value.
func (t *Tx) Exists(db int, key []byte) bool { panic("unimplemented") }

// Meta returns kind and expiry of a live key without decoding its value.
func (t *Tx) Meta(db int, key []byte) (kind store.Kind, expireAt int64, ok bool) { panic("unimplemented") }

// Set makes key hold v in db: appends to the store, then updates the cache.
// key is copied; v's slices become the cache's (see Value). On error
// nothing changed.
func (t *Tx) Set(db int, key []byte, v Value) error { panic("unimplemented") }

// Delete removes key from db. Reports whether it was live.
func (t *Tx) Delete(db int, key []byte) (bool, error) { panic("unimplemented") }

// Expire sets the absolute expiry of a live key (0 removes it, as PERSIST).
// Reports whether the key was live. An expiry in the past deletes the key.
func (t *Tx) Expire(db int, key []byte, at int64) (bool, error) { panic("unimplemented") }

// DBSize returns the number of keys in db (as Redis: keys whose TTL passed
// but that were not yet removed are counted).
func (c *Cache) DBSize(db int) int { panic("unimplemented") }

// Expires returns the number of keys with an expiry in db.
func (c *Cache) Expires(db int) int { panic("unimplemented") }

// Scan is the SCAN primitive over db: see store.DB.Scan. Expired keys are
// skipped. key is valid only during fn.
func (c *Cache) Scan(db int, cursor uint64, count int, fn func(key []byte, kind store.Kind)) uint64 {
	panic("unimplemented")
}

// Range calls fn for every live, unexpired key of db until fn returns
// false. key is valid only during fn.
func (c *Cache) Range(db int, fn func(key []byte, kind store.Kind) bool) { panic("unimplemented") }

// RandomKey returns a random live key of db (a copy), skipping expired
// keys, or ok=false if there is none.
func (c *Cache) RandomKey(db int) (key []byte, ok bool) { panic("unimplemented") }

// FlushDB removes every key of db. The caller holds no Tx.
func (c *Cache) FlushDB(db int) error { panic("unimplemented") }

// FlushAll removes every key of every database. The caller holds no Tx.
func (c *Cache) FlushAll() error { panic("unimplemented") }

// SwapDB swaps two databases. The caller holds no Tx.
func (c *Cache) SwapDB(a, b int) error { panic("unimplemented") }
