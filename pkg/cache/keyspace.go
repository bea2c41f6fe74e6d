package cache

import (
	"math/rand/v2"

	"github.com/toonstore/toonstore/pkg/store"
)

// randomKeyTries bounds how many random picks RandomKey makes before it
// falls back to walking the database for the first unexpired key.
const randomKeyTries = 64

// DBSize returns the number of keys in db (as Redis: keys whose TTL passed
// but that were not yet removed are counted). It takes no shard lock.
func (c *Cache) DBSize(db int) int { return c.s.DB(db).Len() }

// Expires returns the number of keys with an expiry in db. It takes no
// shard lock.
func (c *Cache) Expires(db int) int { return c.s.DB(db).Expires() }

// Scan is the SCAN primitive over db: see store.DB.Scan. Expired keys are
// skipped. key is valid only during fn; fn must not call into the cache or
// the store. It takes no shard lock: keys written concurrently may or may
// not be seen, as with Redis's SCAN.
func (c *Cache) Scan(db int, cursor uint64, count int, fn func(key []byte, kind store.Kind)) uint64 {
	now := c.now()
	return c.s.DB(db).Scan(cursor, count, func(key []byte, kind store.Kind, expireAt int64) {
		if expireAt == 0 || expireAt > now {
			fn(key, kind)
		}
	})
}

// Range calls fn for every live, unexpired key of db until fn returns
// false. key is valid only during fn; fn must not call into the cache or
// the store. It takes no shard lock.
func (c *Cache) Range(db int, fn func(key []byte, kind store.Kind) bool) {
	now := c.now()
	c.s.DB(db).Range(func(key []byte, kind store.Kind, expireAt int64) bool {
		if expireAt != 0 && expireAt <= now {
			return true
		}
		return fn(key, kind)
	})
}

// RandomKey returns a random live key of db (a copy), skipping expired
// keys, or ok=false if there is none. It takes no shard lock.
func (c *Cache) RandomKey(db int) (key []byte, ok bool) {
	d := c.s.DB(db)
	now := c.now()
	for range randomKeyTries {
		key, ok := d.RandomKey(rand.Uint64())
		if !ok {
			return nil, false
		}
		e, found, err := d.Get(key)
		if err == nil && found && (e.ExpireAt == 0 || e.ExpireAt > now) {
			return key, true
		}
	}
	// Mostly expired keys: find any unexpired one deterministically.
	d.Range(func(k []byte, _ store.Kind, expireAt int64) bool {
		if expireAt == 0 || expireAt > now {
			key, ok = append([]byte(nil), k...), true
			return false
		}
		return true
	})
	return key, ok
}

// FlushDB removes every key of db. The caller holds no Tx.
func (c *Cache) FlushDB(db int) error {
	t := c.LockAll()
	defer t.Unlock()
	return t.FlushDB(db)
}

// FlushAll removes every key of every database. The caller holds no Tx.
func (c *Cache) FlushAll() error {
	t := c.LockAll()
	defer t.Unlock()
	return t.FlushAll()
}

// SwapDB swaps two databases. The caller holds no Tx.
func (c *Cache) SwapDB(a, b int) error {
	t := c.LockAll()
	defer t.Unlock()
	return t.SwapDB(a, b)
}

// FlushDB is Cache.FlushDB for a caller that already holds every shard
// (FLUSHDB inside EXEC). It panics unless the Tx came from LockAll. On error
// the decoded copies are kept (the store decides what is there).
func (t *Tx) FlushDB(db int) error {
	t.requireAll("FlushDB")
	t.c.flushed(db)
	if err := t.c.s.DB(db).Flush(); err != nil {
		return err
	}
	for i := range t.c.shards {
		t.c.shards[i].removeIf(func(k entryKey) bool { return k.db == db })
	}
	return nil
}

// FlushAll is Cache.FlushAll for a caller that already holds every shard.
// It panics unless the Tx came from LockAll.
func (t *Tx) FlushAll() error {
	t.requireAll("FlushAll")
	t.c.flushed(-1)
	if err := t.c.s.FlushAll(); err != nil {
		return err
	}
	for i := range t.c.shards {
		t.c.shards[i].purge()
	}
	return nil
}

// SwapDB is Cache.SwapDB for a caller that already holds every shard
// (SWAPDB inside EXEC). It panics unless the Tx came from LockAll. Decoded
// copies move with their database.
func (t *Tx) SwapDB(a, b int) error {
	t.requireAll("SwapDB")
	if a != b {
		t.c.swapped(a, b)
	}
	if err := t.c.s.SwapDB(a, b); err != nil {
		return err
	}
	if a == b {
		return nil
	}
	for i := range t.c.shards {
		t.c.shards[i].swapDBs(a, b)
	}
	return nil
}
