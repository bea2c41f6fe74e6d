package command

import "github.com/toonstore/toonstore/pkg/cache"

// Commands lock the shards of their keys through these Ctx methods, never
// through Server.Cache directly: inside EXEC every shard is already held
// (Ctx.held) and a command's own Lock must neither block on it nor release
// it, so it gets a borrowed Tx (cache.Tx.Borrow) whose Unlock is a no-op.

// Lock locks the shard of key (cache.Cache.Lock).
func (x *Ctx) Lock(key []byte) cache.Tx {
	if x.held != nil {
		return x.held.Borrow()
	}
	return x.S.Cache.Lock(key)
}

// LockKeys locks the shards of keys (cache.Cache.LockKeys).
func (x *Ctx) LockKeys(keys [][]byte) cache.Tx {
	if x.held != nil {
		return x.held.Borrow()
	}
	return x.S.Cache.LockKeys(keys)
}

// LockArgs locks the shards of the key arguments args[first:last+1:step]
// (cache.Cache.LockArgs).
func (x *Ctx) LockArgs(args [][]byte, first, last, step int) cache.Tx {
	if x.held != nil {
		return x.held.Borrow()
	}
	return x.S.Cache.LockArgs(args, first, last, step)
}

// LockAll locks every shard (cache.Cache.LockAll): FLUSHDB, FLUSHALL,
// SWAPDB and EXEC.
func (x *Ctx) LockAll() cache.Tx {
	if x.held != nil {
		return x.held.Borrow()
	}
	return x.S.Cache.LockAll()
}
