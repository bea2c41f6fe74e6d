package command

import (
	"sync"
	"sync/atomic"
)

// WATCH: optimistic locking for MULTI/EXEC. A client WATCHes keys; any
// change of one of them before its EXEC (a write by anyone, an expiry, a
// FLUSHDB/FLUSHALL/SWAPDB that affects it) marks the client dirty, and
// its EXEC then replies a null array without running anything. So does a
// watched key that was live at WATCH time and has expired by EXEC (Redis
// 7.0's isWatchedKeyExpired).
//
// The registry maps (db, key) to the entries watching it. The cache's
// keyspace hooks (keyevents.go) call touchWatched, flushWatched and
// swapWatched with the shards of the change held; WATCH registers its
// entries while holding the shards of its keys, so a write to a key is
// either before the WATCH (which then reads the new state) or after it
// (and marks the client dirty). Lock order: shards, then watchRegistry.mu.
//
// Invariant: an entry whose client is not dirty describes the key as it
// still is: whether it existed (and its expiry) when WATCH ran, because
// any change since would have made the client dirty.

// watchEntry is one key watched by one client. Its fields never change
// after WATCH creates it.
type watchEntry struct {
	c        *Client
	db       int
	key      string
	existed  bool  // the key was live when WATCH ran
	expireAt int64 // its expiry then, Unix ms (0: none); meaningful if existed
}

// watchRegistry is the server's index of watched keys.
type watchRegistry struct {
	// n counts the entries: the hooks return at once, without the lock,
	// while nothing is watched. Changed under mu; a WATCH's increment is
	// seen by every later writer of its keys, which take the same shard.
	n atomic.Int64

	mu  sync.Mutex                       // guards dbs and every Client's tx.watched
	dbs map[int]map[string][]*watchEntry // db -> key -> entries
}

// watchKeys registers keys of db for c with their state (existence and
// expiry) as read under their shards. Already watched keys keep their
// entry. Called with the keys' shards held.
func (w *watchRegistry) watchKeys(c *Client, db int, keys [][]byte, existed []bool, expireAt []int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dbs == nil {
		w.dbs = make(map[int]map[string][]*watchEntry)
	}
	m := w.dbs[db]
	if m == nil {
		m = make(map[string][]*watchEntry)
		w.dbs[db] = m
	}
next:
	for i, k := range keys {
		list := m[string(k)]
		for _, e := range list {
			if e.c == c {
				continue next
			}
		}
		e := &watchEntry{c: c, db: db, key: string(k), existed: existed[i], expireAt: expireAt[i]}
		m[e.key] = append(list, e)
		c.tx.watched = append(c.tx.watched, e)
		w.n.Add(1)
	}
}

// unwatchAll removes every entry of c (UNWATCH, EXEC, DISCARD, RESET,
// disconnection). Called on c's goroutine.
func (s *Server) unwatchAll(c *Client) {
	if len(c.tx.watched) == 0 {
		return
	}
	w := &s.watch
	w.mu.Lock()
	for _, e := range c.tx.watched {
		m := w.dbs[e.db]
		list := m[e.key]
		for i, o := range list {
			if o == e {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(m, e.key)
			if len(m) == 0 {
				delete(w.dbs, e.db)
			}
		} else {
			m[e.key] = list
		}
		w.n.Add(-1)
	}
	clear(c.tx.watched)
	c.tx.watched = c.tx.watched[:0]
	w.mu.Unlock()
}

// touchWatched marks dirty the clients watching key in db, which changed
// (expired: it was removed because its TTL passed). Called with key's
// shard held.
func (s *Server) touchWatched(db int, key []byte, expired bool) {
	w := &s.watch
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	for _, e := range w.dbs[db][string(key)] {
		if expired && !e.existed {
			// Already expired at WATCH time (or absent): its removal is no
			// logical change (Redis's watchedKey.expired).
			continue
		}
		e.c.tx.dirty.Store(true)
	}
	w.mu.Unlock()
}

// flushWatched marks dirty the clients watching a key that exists in db
// (every database for -1), which is about to be emptied: Redis's
// touchAllWatchedKeysInDb, which leaves watchers of absent keys alone.
// Called with every shard held.
func (s *Server) flushWatched(db int, exists func(db int, key []byte) bool) {
	w := &s.watch
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for d, m := range w.dbs {
		if db != -1 && d != db {
			continue
		}
		for _, list := range m {
			for _, e := range list {
				// e.existed: still present, if only logically expired.
				if e.existed || exists(d, []byte(e.key)) {
					e.c.tx.dirty.Store(true)
				}
			}
		}
	}
}

// swapWatched marks dirty the clients watching a key of a or b that exists
// in either before the swap (a key expired in the database swapped in
// counts as absent, as in Redis). Called with every shard held.
func (s *Server) swapWatched(a, b int, exists func(db int, key []byte) bool) {
	w := &s.watch
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, pair := range [2][2]int{{a, b}, {b, a}} {
		for _, list := range w.dbs[pair[0]] {
			for _, e := range list {
				k := []byte(e.key)
				if e.existed || exists(pair[0], k) || exists(pair[1], k) {
					e.c.tx.dirty.Store(true)
				}
			}
		}
	}
}

// signalModified tells watchers that key of the current database was
// modified although nothing was written: a few Redis commands signal a key
// they leave unchanged (LTRIM of the whole list). Called with key's shard
// held, like the cache's hook.
func (x *Ctx) signalModified(key []byte) {
	x.S.touchWatched(x.C.DB, key, false)
}

// watchedKeyExpired reports whether a key c watched while it was live has
// expired since (its state is otherwise unchanged, or c would be dirty):
// EXEC then fails as if the key had changed. Called on c's goroutine.
func (s *Server) watchedKeyExpired(c *Client) bool {
	if len(c.tx.watched) == 0 {
		return false
	}
	now := s.Cache.Now()
	for _, e := range c.tx.watched {
		if e.existed && e.expireAt != 0 && e.expireAt <= now {
			return true
		}
	}
	return false
}

// WATCH key [key ...]
func watchCmd(x *Ctx) {
	c := x.C
	if c.tx.multi {
		x.Error(errWatchInMulti)
		return
	}
	if c.tx.dirty.Load() {
		x.OK() // no point watching more: EXEC fails anyway
		return
	}
	if x.S.readyCache() == nil {
		// The dataset is loading: the keys' state is unknown and about to
		// change, so an EXEC after this WATCH fails (null array).
		c.tx.dirty.Store(true)
		x.OK()
		return
	}
	keys := x.Args[1:]
	existed := make([]bool, len(keys))
	expireAt := make([]int64, len(keys))
	tx := x.LockKeys(keys)
	for i, k := range keys {
		// Meta removes an expired key (its hook finds no watcher yet):
		// such a key is watched as absent.
		_, expireAt[i], existed[i] = tx.Meta(c.DB, k)
	}
	x.S.watch.watchKeys(c, c.DB, keys, existed, expireAt)
	tx.Unlock()
	x.OK()
}

// UNWATCH
func unwatchCmd(x *Ctx) {
	x.S.unwatchAll(x.C)
	x.C.tx.dirty.Store(false)
	x.OK()
}
