package cache

// Prefetch is a hint that keys of database db are about to be used by
// commands: it warms the store's index for them (store.DB.Prefetch), so
// that a pipeline's lookups overlap their cache misses instead of paying
// them one after the other. It takes no shard lock, changes nothing, does
// not allocate and may be called with any keys, present or not; keys are
// only read during the call. Decoded values in the LRU are not consulted:
// a key whose value is cached costs a wasted index probe, cheaper than
// taking its shard lock to find out.
func (c *Cache) Prefetch(db int, keys [][]byte, reads, writes bool) {
	if db < 0 || db >= c.s.Databases() || len(keys) == 0 {
		return
	}
	c.s.DB(db).Prefetch(keys, reads, writes)
}

// PrefetchWorth reports whether Prefetch can pay off in database db: its
// index is too large to stay in the CPU caches (store.DB.PrefetchWorth).
func (c *Cache) PrefetchWorth(db int) bool {
	return db >= 0 && db < c.s.Databases() && c.s.DB(db).PrefetchWorth()
}
