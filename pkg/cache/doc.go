// Package cache is ToonCache: the keyspace the server executes commands
// against, a lock-striped LRU of decoded values in front of a store.Store.
//
// # Shards and transactions
//
// The keyspace is split into a power-of-two number of shards (by default
// the smallest power of two >= 4*GOMAXPROCS). A key's shard is chosen by a
// seeded hash of the key alone, not of its database, so one shard lock
// covers a key in every database (MOVE, COPY ... DB). Each shard has a
// mutex, an LRU of decoded values keyed by (database, key) and counters.
//
// A command obtains a Tx from Lock, LockKeys, LockArgs or LockAll, calls the
// key methods on it and Unlocks it. A Tx records which shards it holds; a key
// method for a key whose shard is not held panics: that is a bug in the
// caller, never a runtime condition.
//
// # Lock order
//
// Shard locks are taken in ascending shard index, each at most once per Tx
// (LockKeys and LockArgs sort and deduplicate; LockAll takes all). A shard
// lock is always taken before any lock inside the store, and no store
// callback (DB.Scan, DB.Range) ever takes a shard lock, so the order
// "shards ascending, then store" is total and deadlock-free. Nothing in this
// package holds a shard lock while waiting for another goroutine.
// PrefetchMembers and MembersWorth take one shard lock at a time, and
// only the lock, for a peek at the LRU; their callers hold no Tx.
//
// # The store is the source of truth
//
// Every mutation goes to the store first and then to the decoded copy; if
// the store refuses it, the cache is left unchanged. A decoded value is a
// private copy of the store's bytes (the store's slices alias its mapping),
// made on a miss. Evicting a value (capacity in entries, Options.Capacity,
// split across shards; optionally Options.MaxBytes) only drops the decoded
// copy: the next read decodes it again from the store. Eviction never loses
// data.
//
// # Ownership of values
//
// A string Value passed to Tx.Set belongs to the cache from then on and is never
// modified again: writers build a new Value and Set it, they never change
// the bytes of one that was published. A Value returned by Tx.Get therefore
// stays valid and unchanged after Unlock, and can be written to a client
// without copying.
//
// Collections (hash, list, set, zset) are the exception: a collection
// Value's Obj (a *types.Hash, ...) is decoded once and then changed in
// place, under the shard lock, by the Tx that holds it. A command reads it
// or changes it between Lock and Unlock only. To change one it calls
// Tx.Get (which loads it if absent), changes Obj, and passes the matching
// operation record (pkg/types' AppendOp constructors) to Tx.AppendOp,
// which appends it to the key's chain in the store: O(size of the change)
// on disk. When the chain's bytes outgrow both FoldRatio (4) times the
// image and FoldFloor, and the fold would reclaim at least FoldDead (2)
// times what it writes, AppendOp folds: it writes a fresh image of Obj (the
// store then drops the old image and chain), so a collection's disk bytes
// stay within about five times the larger of its image and its size. If
// the store refuses an operation, the decoded copy is dropped and the next
// read decodes the store's state. A collection is
// created (and RENAME'd) by Tx.Set, which writes an image of Obj and never
// keeps Obj itself; a command that empties a collection deletes the key.
// A miss decodes the image and applies the chain (store GetChain);
// eviction drops only the decoded copy.
//
// # Expiry
//
// Values carry an absolute expiry in Unix milliseconds of Options.Now. Every
// read through a Tx checks it (lazy expiry): an expired key is deleted (a
// tombstone is appended to the store), counted in Stats.ExpiredKeys and
// reported absent. A background goroutine (active expiry, Options.Hz cycles
// a second) walks each database's index with store cursors, samples keys
// that carry an expiry and deletes the expired ones, repeating while more
// than a quarter of the sample was expired and within a time budget of a
// quarter of the cycle, as Redis does. DBSize counts expired keys that are
// not yet removed, as Redis does; Scan, Range and RandomKey skip them.
package cache
