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

// memberPrefetcher is a decoded collection whose member lookups can be
// warmed ahead (*types.Hash, *types.Set, *types.ZSet).
type memberPrefetcher interface {
	Prefetch(members [][]byte) uint64
	PrefetchWorth() bool
}

// PrefetchMembers is a hint that commands are about to look up members
// (fields of a hash, members of a set or sorted set) of collections of
// database db: members[i], if not nil, is a member of keys[i]. For each
// run of equal keys whose decoded collection is in the LRU and large (its
// PrefetchWorth), the run's members are warmed there (types.Hash.Prefetch),
// so that a pipeline's member lookups overlap their cache misses as its
// key lookups do. It takes each such key's shard lock for the call but
// changes nothing, not the LRU's order either, and does not allocate; a key
// that is not cached, not a collection or not large is skipped. keys and
// members are only read during the call.
func (c *Cache) PrefetchMembers(db int, keys, members [][]byte) {
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && string(keys[j]) == string(keys[i]) {
			j++
		}
		if hasMember(members[i:j]) {
			c.prefetchMembers(db, keys[i], members[i:j])
		}
		i = j
	}
}

func hasMember(members [][]byte) bool {
	for _, m := range members {
		if m != nil {
			return true
		}
	}
	return false
}

func (c *Cache) prefetchMembers(db int, key []byte, members [][]byte) {
	s := &c.shards[c.shardOf(key)]
	s.mu.Lock()
	defer s.unlock()
	if p := c.prefetcher(s, db, key); p != nil && p.PrefetchWorth() {
		p.Prefetch(members) // its loads' sink is of no use here: the call is not inlined
	}
}

// prefetcher returns key's decoded collection if it is cached and can
// warm member lookups, else nil. s is key's shard, held.
func (c *Cache) prefetcher(s *shard, db int, key []byte) memberPrefetcher {
	v, ok := s.lru.Peek(entryKey{db: db, key: noCopyString(key)})
	if !ok {
		return nil
	}
	p, _ := v.Obj.(memberPrefetcher)
	return p
}

// MembersWorth reports whether PrefetchMembers can pay off for key of
// database db: its decoded collection is cached and large.
func (c *Cache) MembersWorth(db int, key []byte) bool {
	s := &c.shards[c.shardOf(key)]
	s.mu.Lock()
	defer s.unlock()
	p := c.prefetcher(s, db, key)
	return p != nil && p.PrefetchWorth()
}
