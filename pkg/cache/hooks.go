package cache

// Hooks let the layer above observe every change of the keyspace: WATCH
// invalidation and the wake-up of clients blocked on a key (BLPOP,
// BZPOPMIN, ...) both need to know that a key changed, whatever command,
// expiry or flush changed it. The cache is the one place every change goes
// through, so it calls the hooks there.
//
// Every hook runs on the goroutine that made the change, with the shards
// of the change held: it must be quick, must not call into the cache (no
// Tx, no Lock) and may take only locks that are never held while taking a
// shard lock (lock order: shard, then the hook's own locks).
type Hooks struct {
	// Written is called after key in db was changed in the store: set,
	// overwritten, deleted, its expiry changed, a collection operation
	// appended, or removed because its TTL passed (expired is then true,
	// whether lazily on access or by active expiry). key is valid only
	// during the call.
	Written func(db int, key []byte, expired bool)
	// Flushed is called with every shard held, before db is emptied
	// (FLUSHDB) or, for db == -1, before every database is (FLUSHALL).
	// exists reports whether a key is live in a database at that moment.
	Flushed func(db int, exists func(db int, key []byte) bool)
	// Swapped is called with every shard held, before databases a and b
	// swap contents (SWAPDB). exists is as for Flushed, before the swap.
	Swapped func(a, b int, exists func(db int, key []byte) bool)
}

// SetHooks installs h (replacing any earlier hooks; nil fields are
// skipped). Call it before the cache is used concurrently, or at least
// before the hooks matter: a change racing with SetHooks may or may not
// see the new hooks.
func (c *Cache) SetHooks(h Hooks) { c.hooks.Store(&h) }

// written runs the Written hook, if any. Called with key's shard held.
func (c *Cache) written(db int, key []byte, expired bool) {
	if h := c.hooks.Load(); h != nil && h.Written != nil {
		h.Written(db, key, expired)
	}
}

// liveIn reports whether key is live (present and unexpired) in db, from
// the store's index. The caller holds key's shard (Flushed, Swapped).
func (c *Cache) liveIn(db int, key []byte) bool {
	e, found, err := c.s.DB(db).Get(key)
	if err != nil || !found {
		return false
	}
	return e.ExpireAt == 0 || e.ExpireAt > c.now()
}

// flushed runs the Flushed hook, if any. Called with every shard held.
func (c *Cache) flushed(db int) {
	if h := c.hooks.Load(); h != nil && h.Flushed != nil {
		h.Flushed(db, c.liveIn)
	}
}

// swapped runs the Swapped hook, if any. Called with every shard held.
func (c *Cache) swapped(a, b int) {
	if h := c.hooks.Load(); h != nil && h.Swapped != nil {
		h.Swapped(a, b, c.liveIn)
	}
}
