package command

import "github.com/toonstore/toonstore/pkg/cache"

// Commands lock the shards of their keys through these Ctx methods, never
// through Server.Cache directly: inside EXEC every shard is already held
// (Ctx.held) and a command's own Lock must neither block on it nor release
// it, so it gets a borrowed Tx (cache.Tx.Borrow) whose Unlock is a no-op.

// Lock locks the shard of key (cache.Cache.Lock).
func (x *Ctx) Lock(key []byte) cache.Tx {
	return x.S.Cache.LockFor(x.held, key)
}

// LockKeys locks the shards of keys (cache.Cache.LockKeys).
func (x *Ctx) LockKeys(keys [][]byte) cache.Tx {
	if x.held != nil {
		return x.held.Borrow()
	}
	return x.S.Cache.LockKeys(keys)
}

// LockArgs locks the shards of the key arguments args[first:last+1:step]
// (cache.Cache.LockArgs). With several keys (MGET, MSET, DEL, ...) it
// first hands them to Server.Prefetch, so that the lookups that follow
// overlap their index misses (a hint only; see prefetchArgs).
func (x *Ctx) LockArgs(args [][]byte, first, last, step int) cache.Tx {
	if x.held != nil {
		return x.held.Borrow()
	}
	x.prefetchArgs(args, first, last, step)
	return x.S.Cache.LockArgs(args, first, last, step)
}

// prefetchMinKeys is the fewest keys of one command worth a Prefetch.
const prefetchMinKeys = 4

// prefetchArgs passes the keys args[first], args[first+step], ...,
// args[last] (LockArgs's positions) to Server.Prefetch when there are at
// least prefetchMinKeys of them and the selected database's index is too
// large for the CPU caches. The pipeline pre-pass of the event loop only
// sees each command's first key (and skips commands of many arguments),
// so a multi-key command warms its own keys here. The keys slice is the
// client's scratch: nothing is allocated once it has grown.
func (x *Ctx) prefetchArgs(args [][]byte, first, last, step int) {
	last, step = cache.ArgRange(len(args), last, step)
	if first <= 0 || last < first || (last-first)/step+1 < prefetchMinKeys || !x.S.PrefetchWorth(x.C, nil, nil) {
		return
	}
	keys := x.C.pfKeys[:0]
	for i := first; i <= last; i += step {
		keys = append(keys, args[i])
	}
	x.S.Prefetch(x.C, keys, nil, !overwrites(x.Cmd, args), x.Cmd != nil && x.Cmd.Flags&FlagWrite != 0)
	clear(keys) // do not pin the input buffer
	x.C.pfKeys = keys[:0]
}

// LockAll locks every shard (cache.Cache.LockAll): FLUSHDB, FLUSHALL,
// SWAPDB and EXEC.
func (x *Ctx) LockAll() cache.Tx {
	if x.held != nil {
		return x.held.Borrow()
	}
	return x.S.Cache.LockAll()
}
