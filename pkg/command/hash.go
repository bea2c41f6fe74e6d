package command

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/glob"
	"github.com/toonstore/toonstore/pkg/protocol"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// The hash commands, with Redis 7.0's semantics (t_hash.c): arguments are
// validated in Redis's order, replies and errors are Redis's.
//
// A hash is a cache.Value of KindHash whose Obj is a *types.Hash, valid
// while the key's shard is held: read commands reply under the lock, write
// commands change the object in place and record the change with
// Tx.AppendOp (O(size of the change) on disk), or write a first image with
// Tx.Set when they create the key. A hash emptied by HDEL is deleted.

func hashCommands() []*Command {
	return []*Command{
		{Name: "hset", Run: cmdHSet},
		{Name: "hmset", Run: cmdHSet},
		{Name: "hsetnx", Run: cmdHSetNX},
		{Name: "hget", Run: cmdHGet},
		{Name: "hmget", Run: cmdHMGet},
		{Name: "hdel", Run: cmdHDel},
		{Name: "hexists", Run: cmdHExists},
		{Name: "hlen", Run: cmdHLen},
		{Name: "hstrlen", Run: cmdHStrlen},
		{Name: "hkeys", Run: cmdHKeys},
		{Name: "hvals", Run: cmdHVals},
		{Name: "hgetall", Run: cmdHGetAll},
		{Name: "hincrby", Run: cmdHIncrBy},
		{Name: "hincrbyfloat", Run: cmdHIncrByFloat},
		{Name: "hrandfield", Run: cmdHRandField},
		{Name: "hscan", Run: cmdHScan},
	}
}

// HSCAN returns a whole hash in one call with cursor 0 when Redis would
// hold it as a listpack: at most hashSmallEntries fields, none of whose
// fields or values is longer than hashSmallValue bytes (Redis's default
// hash-max-listpack-entries and hash-max-listpack-value). Unlike Redis, a
// hash that shrinks back under the limits is small again.
const (
	hashSmallEntries = 512
	hashSmallValue   = 64
)

// hashIsSmall reports whether Redis would keep h as a listpack. O(1) for
// a large h, O(len) up to hashSmallEntries; HSCAN only (a read already
// O(reply)).
func hashIsSmall(h *types.Hash) bool {
	if h.Len() > hashSmallEntries {
		return false
	}
	small := true
	h.All(func(f, v string) bool {
		small = len(f) <= hashSmallValue && len(v) <= hashSmallValue
		return small
	})
	return small
}

// collGet looks key up for a collection command with tx held: it returns
// the key's decoded collection of type T (the zero T if the key is absent)
// and writes its Value to *v (the zero Value then).
// On a store error or a key of a kind other than kind it unlocks tx,
// replies and reports done. read counts the lookup in keyspace_hits/misses.
func collGet[T any](x *Ctx, tx *cache.Tx, key []byte, kind store.Kind, read bool, v *cache.Value) (obj T, done bool) {
	found, err := tx.GetTo(x.C.DB, key, v)
	if err != nil {
		tx.Unlock()
		keyReplyErr(x, err)
		return obj, true
	}
	if read {
		keyStat(x, found)
	}
	if !found {
		return obj, false
	}
	if v.Kind != kind {
		tx.Unlock()
		x.ErrWrongType()
		return obj, true
	}
	if kind == store.KindZSet && !read {
		// Before a write changes its size: the encoding Redis holds it
		// in, which a shrink must not undo (zsetTrackEnc).
		zsetTrackEnc(x, v.Obj.(*types.ZSet))
	}
	return v.Obj.(T), false
}

// collRead locks x.Args[1], looks up its collection of type T and calls fn
// with it (the zero T for a missing key) while the shard is held, then
// unlocks; a wrong type or store error is replied instead.
func collRead[T any](x *Ctx, kind store.Kind, fn func(T)) {
	key := x.Args[1]
	tx := x.Lock(key)
	var cv cache.Value
	obj, done := collGet[T](x, &tx, key, kind, true, &cv)
	if done {
		return
	}
	fn(obj)
	tx.Unlock()
}

// hashGet looks key up for a hash command with tx held: it returns the
// hash (nil if the key is absent). On a store error or a key of another
// type it unlocks tx, replies and reports done. read counts the lookup in
// keyspace_hits/misses.
func hashGet(x *Ctx, tx *cache.Tx, key []byte, read bool, v *cache.Value) (h *types.Hash, done bool) {
	return collGet[*types.Hash](x, tx, key, store.KindHash, read, v)
}

// hashSave records a change made to h, the hash of key: a new key (h not
// from v) gets its first image, an existing one the operation op. It
// unlocks tx and reports whether the write succeeded (else it replied the
// error).
func hashSave(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, created bool, h *types.Hash, op []byte) bool {
	var err error
	if created {
		err = tx.Set(x.C.DB, key, cache.Value{Kind: store.KindHash, Obj: h})
	} else {
		err = tx.AppendOp(x.C.DB, key, v, op)
	}
	return keyUnlock(x, tx, err)
}

// HSET key field value [field value ...], and HMSET (which replies OK).
func cmdHSet(x *Ctx) {
	args := x.Args
	if len(args)%2 == 1 {
		x.ErrArity()
		return
	}
	key := args[1]
	tx := x.Lock(key)
	var v cache.Value
	h, done := hashGet(x, &tx, key, false, &v)
	if done {
		return
	}
	created := h == nil
	if created {
		h = &types.Hash{}
	}
	added := 0
	for i := 2; i < len(args); i += 2 {
		if h.Set(args[i], args[i+1]) {
			added++
		}
	}
	var op []byte
	if !created {
		op = types.AppendOpHashSet(x.opBuf(), args[2:]...)
	}
	saved := hashSave(x, &tx, key, &v, created, h, op)
	x.keepOp(op)
	if !saved {
		return
	}
	if x.Cmd.Name == "hmset" {
		x.OK()
	} else {
		x.Int(int64(added))
	}
}

// HSETNX key field value
func cmdHSetNX(x *Ctx) {
	key, f, val := x.Args[1], x.Args[2], x.Args[3]
	tx := x.Lock(key)
	var v cache.Value
	h, done := hashGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if h != nil && h.Has(f) {
		tx.Unlock()
		x.Int(0)
		return
	}
	created := h == nil
	if created {
		h = &types.Hash{}
	}
	h.Set(f, val)
	var op []byte
	if !created {
		op = types.AppendOpHashSet(nil, f, val)
	}
	if hashSave(x, &tx, key, &v, created, h, op) {
		x.Int(1)
	}
}

// HGET key field
func cmdHGet(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var cv cache.Value
	h, done := hashGet(x, &tx, key, true, &cv)
	if done {
		return
	}
	if h == nil {
		tx.Unlock()
		x.Null()
		return
	}
	s, ok := h.Get(x.Args[2])
	tx.Unlock() // the strings of a Hash are immutable
	if ok {
		x.BulkString(s)
	} else {
		x.Null()
	}
}

// HMGET key field [field ...]
func cmdHMGet(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var cv cache.Value
	h, done := hashGet(x, &tx, key, true, &cv)
	if done {
		return
	}
	fields := x.Args[2:]
	x.Array(len(fields))
	for _, f := range fields {
		if h == nil {
			x.Null()
		} else if s, ok := h.Get(f); ok {
			x.BulkString(s)
		} else {
			x.Null()
		}
	}
	tx.Unlock()
}

// HDEL key field [field ...]
func cmdHDel(x *Ctx) {
	collRemove(x, store.KindHash, (*types.Hash).Delete, types.AppendOpHashDelete)
}

// hashRead is the common shape of the read commands that reply zero for a
// missing key: it locks key, looks up the hash and calls fn with it (nil
// for a missing key) while the shard is held, then unlocks.
func hashRead(x *Ctx, fn func(h *types.Hash)) {
	collRead(x, store.KindHash, fn)
}

// HEXISTS key field
func cmdHExists(x *Ctx) {
	hashRead(x, func(h *types.Hash) {
		x.Int(b2i(h != nil && h.Has(x.Args[2])))
	})
}

// HLEN key
func cmdHLen(x *Ctx) {
	hashRead(x, func(h *types.Hash) {
		n := 0
		if h != nil {
			n = h.Len()
		}
		x.Int(int64(n))
	})
}

// HSTRLEN key field
func cmdHStrlen(x *Ctx) {
	hashRead(x, func(h *types.Hash) {
		n := 0
		if h != nil {
			s, _ := h.Get(x.Args[2])
			n = len(s)
		}
		x.Int(int64(n))
	})
}

// hashAll replies every field (keys), value (vals) or both, in insertion
// order: an array, or a map for HGETALL in RESP3.
func hashAll(x *Ctx, keys, vals bool) {
	hashRead(x, func(h *types.Hash) {
		n := 0
		if h != nil {
			n = h.Len()
		}
		if keys && vals {
			x.Map(n)
		} else {
			x.Array(n)
		}
		if h == nil {
			return
		}
		h.All(func(f, v string) bool {
			if keys {
				x.BulkString(f)
			}
			if vals {
				x.BulkString(v)
			}
			return true
		})
	})
}

// HKEYS key
func cmdHKeys(x *Ctx) { hashAll(x, true, false) }

// HVALS key
func cmdHVals(x *Ctx) { hashAll(x, false, true) }

// HGETALL key
func cmdHGetAll(x *Ctx) { hashAll(x, true, true) }

// HINCRBY key field increment
func cmdHIncrBy(x *Ctx) {
	incr, ok := ParseInt(x.Args[3])
	if !ok {
		x.ErrNotInteger()
		return
	}
	key, f := x.Args[1], x.Args[2]
	tx := x.Lock(key)
	var v cache.Value
	h, done := hashGet(x, &tx, key, false, &v)
	if done {
		return
	}
	var old int64
	if h != nil {
		if s, found := h.Get(f); found {
			if old, ok = ParseInt([]byte(s)); !ok {
				tx.Unlock()
				x.Error("ERR hash value is not an integer")
				return
			}
		}
	}
	if (incr < 0 && old < 0 && incr < math.MinInt64-old) ||
		(incr > 0 && old > 0 && incr > math.MaxInt64-old) {
		tx.Unlock()
		x.Error(ErrOverflow)
		return
	}
	n := old + incr
	var buf [20]byte
	hashSetOne(x, &tx, key, &v, h, f, strconv.AppendInt(buf[:0], n, 10), func() { x.Int(n) })
}

// hashSetOne sets field f of the hash h of key (nil: create it) to val,
// records it, unlocks and calls reply on success.
func hashSetOne(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, h *types.Hash, f, val []byte, reply func()) {
	created := h == nil
	if created {
		h = &types.Hash{}
	}
	h.Set(f, val)
	var op []byte
	if !created {
		op = types.AppendOpHashSet(nil, f, val)
	}
	if hashSave(x, tx, key, v, created, h, op) {
		reply()
	}
}

// HINCRBYFLOAT key field increment: long double arithmetic (see
// str_float.go).
func cmdHIncrByFloat(x *Ctx) {
	incr, incrInf, ok := strParseLongDouble(x.Args[3])
	if !ok {
		x.Error(ErrNotFloat)
		return
	}
	if incrInf {
		x.Error("ERR value is NaN or Infinity")
		return
	}
	key, f := x.Args[1], x.Args[2]
	tx := x.Lock(key)
	var v cache.Value
	h, done := hashGet(x, &tx, key, false, &v)
	if done {
		return
	}
	old := newLongDouble()
	if h != nil {
		if s, found := h.Get(f); found {
			var oldInf bool
			if old, oldInf, ok = strParseLongDouble([]byte(s)); !ok {
				tx.Unlock()
				x.Error("ERR hash value is not a float")
				return
			}
			if oldInf {
				tx.Unlock()
				x.Error("ERR increment would produce NaN or Infinity")
				return
			}
		}
	}
	var sum *big.Float
	if sum, ok = strAddLongDouble(old, incr); !ok {
		tx.Unlock()
		x.Error("ERR increment would produce NaN or Infinity")
		return
	}
	str := strFormatLongDouble(nil, sum)
	hashSetOne(x, &tx, key, &v, h, f, str, func() { x.Bulk(str) })
}

// hashRand is the process's random source for HRANDFIELD (math/rand/v2's
// global generator, safe for concurrent use).
type hashRand struct{}

func (hashRand) IntN(n int) int { return rand.IntN(n) }

// HRANDFIELD key [count [WITHVALUES]]
func cmdHRandField(x *Ctx) {
	args := x.Args
	if len(args) == 2 {
		key := args[1]
		tx := x.Lock(key)
		var cv cache.Value
		h, done := hashGet(x, &tx, key, true, &cv)
		if done {
			return
		}
		if h == nil {
			tx.Unlock()
			x.Null()
			return
		}
		h.Random(hashRand{}, 1, func(f, _ string) { x.BulkString(f) })
		tx.Unlock()
		return
	}
	l, ok := ParseInt(args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	if l == math.MinInt64 {
		x.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withValues := false
	if len(args) > 4 || (len(args) == 4 && !keyOptIs(args[3], "WITHVALUES")) {
		x.ErrSyntax()
		return
	} else if len(args) == 4 {
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			x.Error("ERR value is out of range")
			return
		}
	}
	key := args[1]
	tx := x.Lock(key)
	var cv cache.Value
	h, done := hashGet(x, &tx, key, true, &cv)
	if done {
		return
	}
	if h == nil || l == 0 {
		tx.Unlock()
		x.Array(0)
		return
	}
	var n int
	if l > 0 {
		n = min(int(l), h.Len())
	} else {
		n = int(-l)
	}
	if withValues && x.Proto() == 2 {
		x.Array(2 * n)
	} else {
		x.Array(n)
	}
	emit := func(f, v string) {
		if withValues && x.Proto() > 2 {
			x.Array(2)
		}
		x.BulkString(f)
		if withValues {
			x.BulkString(v)
		}
	}
	if l > 0 {
		h.Random(hashRand{}, n, emit)
	} else {
		// Draws with repetition are independent: draw in bounded
		// batches, so a huge count costs output, not an index slice.
		for left := n; left > 0; left -= hashRandBatch {
			h.Random(hashRand{}, -min(left, hashRandBatch), emit)
		}
	}
	tx.Unlock()
}

// hashRandBatch bounds the draws of one types.Hash.Random call of a
// negative-count HRANDFIELD.
const hashRandBatch = 1024

// collScanOpts parses the [MATCH pattern] [COUNT count] options of HSCAN,
// SSCAN and ZSCAN (opts are the arguments after the cursor), as Redis's
// scanGenericCommand does once the key was looked up: count defaults to
// 10; usePat is false for no pattern or "*". errMsg is the error reply, or
// "" when the options are valid.
func collScanOpts(opts [][]byte) (count int64, pat []byte, usePat bool, errMsg string) {
	count = 10
	for i := 0; i < len(opts); i += 2 {
		left := len(opts) - i
		switch {
		case keyOptIs(opts[i], "COUNT") && left >= 2:
			var ok bool
			if count, ok = ParseInt(opts[i+1]); !ok {
				return 0, nil, false, ErrNotInteger
			}
			if count < 1 {
				return 0, nil, false, ErrSyntax
			}
		case keyOptIs(opts[i], "MATCH") && left >= 2:
			pat = opts[i+1]
			usePat = !(len(pat) == 1 && pat[0] == '*')
		default:
			return 0, nil, false, ErrSyntax
		}
	}
	return count, pat, usePat, ""
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
func cmdHScan(x *Ctx) {
	collScan(x, store.KindHash, func(h *types.Hash, cursor uint64, count int64, match func(string) bool, body *[]byte, n *int) uint64 {
		emit := func(f, v string) {
			if match(f) {
				*body = protocol.AppendBulkString(protocol.AppendBulkString(*body, f), v)
				*n += 2
			}
		}
		if hashIsSmall(h) {
			h.All(func(f, v string) bool { emit(f, v); return true })
			return 0
		}
		return h.Scan(cursor, int(min(count, math.MaxInt32)), emit)
	})
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// collScan is what HSCAN, SSCAN and ZSCAN share: it parses the cursor,
// looks key (args[1]) up (a collection of kind) under its lock, parses MATCH and COUNT,
// and calls scan with the collection, which emits the elements and returns
// the next cursor while the lock is held. The reply is [cursor, elements]:
// scan appends each element's RESP bulk strings to *body and adds their
// count to *n. A missing key replies an empty scan.
func collScan[T comparable](x *Ctx, kind store.Kind,
	scan func(obj T, cursor uint64, count int64, match func(member string) bool, body *[]byte, n *int) (next uint64)) {
	args := x.Args
	cursor, ok := keyParseCursor(args[2])
	if !ok {
		x.Error("ERR invalid cursor")
		return
	}
	key := args[1]
	tx := x.Lock(key)
	var cv cache.Value
	obj, done := collGet[T](x, &tx, key, kind, true, &cv)
	if done {
		return
	}
	var zero T
	if obj == zero {
		tx.Unlock()
		x.Array(2)
		x.BulkString("0")
		x.Array(0)
		return
	}
	count, pat, usePat, errMsg := collScanOpts(args[3:])
	if errMsg != "" {
		tx.Unlock()
		x.Error(errMsg)
		return
	}
	match := func(m string) bool { return !usePat || glob.Match(pat, []byte(m), false) }
	var body []byte
	n := 0
	next := scan(obj, cursor, count, match, &body, &n)
	tx.Unlock()
	x.Array(2)
	var tmp [20]byte
	x.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	x.Array(n)
	x.Out = append(x.Out, body...)
}

// collSaveOp records op, a change already made to the collection of key
// (v, as Tx.Get returned it), or deletes key when the change left
// remaining == 0 elements: Redis has no empty collections. tx stays held.
func collSaveOp(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, remaining int, op []byte) error {
	if remaining == 0 {
		_, err := tx.Delete(x.C.DB, key)
		return err
	}
	return tx.AppendOp(x.C.DB, key, v, op)
}

// collRemove is HDEL, SREM and ZREM: remove each argument after the key
// from the collection of kind at the key, record the removals as one operation
// (opHead starts it, each removed element is an item), delete the key if
// it emptied, and reply the number removed.
func collRemove[T interface {
	comparable
	Len() int
}](x *Ctx, kind store.Kind, remove func(T, []byte) bool, opHead func([]byte, ...[]byte) []byte) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	c, done := collGet[T](x, &tx, key, kind, false, &v)
	if done {
		return
	}
	var zero T
	if c == zero {
		tx.Unlock()
		x.Int(0)
		return
	}
	var op []byte
	removed := 0
	for _, m := range x.Args[2:] {
		if remove(c, m) {
			if removed == 0 {
				op = opHead(nil)
			}
			op = types.AppendItem(op, m)
			removed++
		}
	}
	if removed == 0 {
		tx.Unlock()
		x.Int(0)
		return
	}
	if keyUnlock(x, &tx, collSaveOp(x, &tx, key, &v, c.Len(), op)) {
		x.Int(int64(removed))
	}
}
