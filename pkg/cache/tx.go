package cache

import (
	"math/bits"
	"sync"
)

// txWords is how many 64-bit words of shard bits a Tx carries inline: up to
// 256 shards need no allocation for multi-key locks.
const txWords = 4

// Tx is a set of locked shards. It is a value type: obtain it from Lock,
// LockKeys or LockAll, use it on one goroutine, and call Unlock exactly
// once. Calling a key method for a key whose shard the Tx does not hold is
// a broken invariant and panics.
//
// Every read through a Tx applies lazy expiry: an expired key is deleted
// (a tombstone is appended) and reported absent.
//
// Representation: Lock of one key sets one (the shard index + 1) and never
// allocates; multi-key locks keep their shard bits in a txBits taken from
// a pool (and returned by Unlock). Four words and four fields: the
// compiler keeps such a struct in registers (SSA), so LockFor's result
// reaches the command without a memory copy. As an 80-byte struct with
// the bits inline it was returned in memory and copied with 16-byte loads
// over the callee's 8-byte stores, a store-forwarding stall in every
// command (perf/results/hotpath.md, "The Tx in registers").
type Tx struct {
	c        *Cache
	borrowed bool    // from Borrow: Unlock releases nothing
	one      int     // shard index + 1 when the Tx holds exactly the shard taken by Lock; else 0
	m        *txBits // held shards of a multi-key lock (nil for Lock's single shard)
}

// txBits is the set of shards a multi-key Tx holds: bit i = shard i,
// inline for caches of up to 256 shards, in more beyond.
type txBits struct {
	bits [txWords]uint64
	more []uint64
}

// txBitsPool recycles the txBits of multi-key locks (MGET, MSET, EXEC),
// so that they allocate nothing in the steady state.
var txBitsPool = sync.Pool{New: func() any { return new(txBits) }}

// Lock locks the shard of key. Shards are chosen by key alone (not by
// database), so one Tx can serve MOVE/COPY of a key between databases.
func (c *Cache) Lock(key []byte) Tx { return c.LockFor(nil, key) }

// LockFor is Lock for code that may run inside a Tx holding every shard
// (EXEC): with held not nil it returns held.Borrow() and locks nothing.
// One call for both cases keeps the caller's wrapper small enough to be
// inlined, so the Tx is copied once less on the way to the command.
func (c *Cache) LockFor(held *Tx, key []byte) Tx {
	if held != nil {
		return held.Borrow()
	}
	i := c.shardOf(key)
	c.shards[i].mu.Lock()
	return Tx{c: c, one: i + 1}
}

// LockKeys locks the shards of the given keys in ascending shard order
// (the lock order of ARCHITECTURE.md). keys is not retained.
func (c *Cache) LockKeys(keys [][]byte) Tx {
	t := c.newTx()
	for _, k := range keys {
		t.mark(c.shardOf(k))
	}
	t.lockMarked()
	return t
}

// LockArgs locks the shards of args[first], args[first+step], ... up to
// and including args[last] (last < 0 counts from the end: -1 is the last
// argument), the key positions of Redis's command table. args is not
// retained. first <= 0 (a command without keys) or beyond args locks
// nothing; the Tx must still be Unlocked. step <= 0 counts as 1.
func (c *Cache) LockArgs(args [][]byte, first, last, step int) Tx {
	t := c.newTx()
	last, step = ArgRange(len(args), last, step)
	if first > 0 {
		for i := first; i <= last; i += step {
			t.mark(c.shardOf(args[i]))
		}
	}
	t.lockMarked()
	return t
}

// ArgRange normalizes LockArgs's key positions for n arguments: last < 0
// counts from the end and is clamped to n-1, step <= 0 counts as 1. The
// keys are then args[first], args[first+step], ... up to args[last].
func ArgRange(n, last, step int) (int, int) {
	if last < 0 {
		last += n
	}
	return min(last, n-1), max(step, 1)
}

// LockAll locks every shard in ascending order (FLUSHDB, SWAPDB, EXEC).
func (c *Cache) LockAll() Tx {
	t := c.newTx()
	for i := range c.shards {
		t.mark(i)
	}
	t.lockMarked()
	return t
}

// Unlock releases the shards. The Tx holds nothing afterwards: a key
// method on it panics, and a second Unlock does nothing.
func (t *Tx) Unlock() {
	if t.borrowed {
		return
	}
	if t.one != 0 {
		t.c.shards[t.one-1].unlock()
		t.one = 0
		return
	}
	m := t.m
	if m == nil {
		return
	}
	t.m = nil
	w := m.words()
	for wi := range w {
		for b := w[wi]; b != 0; b &= b - 1 {
			t.c.shards[wi<<6|bits.TrailingZeros64(b)].unlock()
		}
		w[wi] = 0
	}
	txBitsPool.Put(m)
}

// Borrow returns a Tx for the same shards whose Unlock releases nothing:
// code that runs while t is held (the commands of an EXEC, run with every
// shard locked) takes a borrowed Tx wherever it would lock, and its Unlock
// leaves t's locks in place. t must outlive every borrowed copy; t itself
// is unlocked by its owner as usual.
func (t *Tx) Borrow() Tx {
	b := *t
	b.borrowed = true
	return b
}

// HoldsAll reports whether the Tx holds every shard (it came from LockAll).
func (t *Tx) HoldsAll() bool {
	if t.c == nil {
		return false
	}
	if t.one != 0 {
		return len(t.c.shards) == 1
	}
	for i := range t.c.shards {
		if !t.holds(i) {
			return false
		}
	}
	return true
}

func (c *Cache) newTx() Tx {
	m := txBitsPool.Get().(*txBits)
	if n := (len(c.shards) + 63) / 64; n > txWords && len(m.more) != n {
		m.more = make([]uint64, n)
	} else if n <= txWords {
		m.more = nil
	}
	return Tx{c: c, m: m}
}

// words returns the shard bits: inline, or more for caches of more than
// 256 shards. Every word is zero when the txBits is in the pool.
func (m *txBits) words() []uint64 {
	if m.more != nil {
		return m.more
	}
	return m.bits[:]
}

func (t *Tx) mark(i int) { t.m.words()[i>>6] |= 1 << (i & 63) }

// lockMarked locks the marked shards in ascending index order: the lock
// order. Each shard is marked, hence locked, at most once.
func (t *Tx) lockMarked() {
	w := t.m.words()
	for wi := range w {
		for b := w[wi]; b != 0; b &= b - 1 {
			t.c.shards[wi<<6|bits.TrailingZeros64(b)].mu.Lock()
		}
	}
}

func (t *Tx) holds(i int) bool {
	if t.one != 0 {
		return t.one == i+1
	}
	if t.m == nil {
		return false
	}
	w := t.m.words()
	return i>>6 < len(w) && w[i>>6]&(1<<(i&63)) != 0
}

// shard returns the held shard of key, panicking if the Tx does not hold
// it: using a key outside its Tx is a caller bug that would race.
func (t *Tx) shard(key []byte) *shard {
	if t.c == nil {
		panic("cache: key method on a zero Tx")
	}
	i := t.c.shardOf(key)
	if !t.holds(i) {
		panic("cache: key's shard is not held by this Tx")
	}
	return &t.c.shards[i]
}

// requireAll panics unless the Tx holds every shard.
func (t *Tx) requireAll(op string) {
	if !t.HoldsAll() {
		panic("cache: " + op + " needs a Tx from LockAll")
	}
}
