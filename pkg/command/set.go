package command

import (
	"math"
	"slices"
	"strconv"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/protocol"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// The set commands, with Redis 7.0's semantics (t_set.c): arguments are
// validated in Redis's order, replies and errors are Redis's (member lists
// are RESP3 sets, SRANDMEMBER's are arrays).
//
// A set is a cache.Value of KindSet whose Obj is a *types.Set, valid while
// the key's shard is held. Write commands change the object in place and
// record the change with Tx.AppendOp (O(size of the change) on disk), or
// write a first image with Tx.Set when they create the key; the *STORE
// commands write a fresh image for the destination. A set emptied by a
// write is deleted. Multi-key commands lock all their keys' shards up
// front. A set Redis would hold as an intset (at most 512 members, all
// canonical int64s) is replied in numeric order, as Redis does; any other
// in insertion order (Redis: hash order, so clients must not rely on it).

func setCommands() []*Command {
	return []*Command{
		{Name: "sadd", Run: cmdSAdd},
		{Name: "srem", Run: cmdSRem},
		{Name: "sismember", Run: cmdSIsMember},
		{Name: "smismember", Run: cmdSMIsMember},
		{Name: "smembers", Run: cmdSMembers},
		{Name: "scard", Run: cmdSCard},
		{Name: "spop", Run: cmdSPop},
		{Name: "srandmember", Run: cmdSRandMember},
		{Name: "smove", Run: cmdSMove},
		{Name: "sinter", Run: cmdSInter},
		{Name: "sintercard", Run: cmdSInterCard},
		{Name: "sunion", Run: cmdSUnion},
		{Name: "sdiff", Run: cmdSDiff},
		{Name: "sinterstore", Run: cmdSInterStore},
		{Name: "sunionstore", Run: cmdSUnionStore},
		{Name: "sdiffstore", Run: cmdSDiffStore},
		{Name: "sscan", Run: cmdSScan},
	}
}

// setIntsetEntries is Redis's default set-max-intset-entries: SSCAN
// returns a set whole when Redis would hold it as an intset (at most this
// many members, all integers).
const setIntsetEntries = 512

// setIsIntset reports whether Redis would keep s as an intset.
func setIsIntset(s *types.Set) bool {
	if s.Len() > setIntsetEntries {
		return false
	}
	ok := true
	s.All(func(m string) bool {
		_, ok = setInt(m)
		return ok
	})
	return ok
}

// setInt parses m as Redis's string2ll does for an intset member: the
// canonical decimal form of an int64.
func setInt(m string) (int64, bool) {
	n, err := strconv.ParseInt(m, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != m {
		return 0, false
	}
	return n, true
}

// setIntsOrdered returns the members of s in the order Redis replies
// them when s is an intset (numeric), or nil when Redis would not hold s
// as an intset.
func setIntsOrdered(s *types.Set) []string {
	if !setIsIntset(s) {
		return nil
	}
	out := make([]string, 0, s.Len())
	s.All(func(m string) bool { out = append(out, m); return true })
	setSortInts(out)
	return out
}

// setSortInts sorts ms numerically when they would form an intset in
// Redis (at most setIntsetEntries integers), as Redis replies a set built
// as an intset; otherwise it leaves ms as they are.
func setSortInts(ms []string) {
	if len(ms) > setIntsetEntries {
		return
	}
	ns := make([]int64, len(ms))
	for i, m := range ms {
		n, ok := setInt(m)
		if !ok {
			return
		}
		ns[i] = n
	}
	slices.Sort(ns)
	for i, n := range ns {
		ms[i] = strconv.FormatInt(n, 10)
	}
}

// setGet looks key up for a set command with tx held: it returns the
// value and set (nil if the key is absent). On a store error or a key of
// another type it unlocks tx, replies and reports done. read counts the
// lookup in keyspace_hits/misses.
func setGet(x *Ctx, tx *cache.Tx, key []byte, read bool, v *cache.Value) (s *types.Set, done bool) {
	return collGet[*types.Set](x, tx, key, store.KindSet, read, v)
}

// SADD key member [member ...]
func cmdSAdd(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	s, done := setGet(x, &tx, key, false, &v)
	if done {
		return
	}
	created := s == nil
	if created {
		s = &types.Set{}
	}
	var op []byte
	added := 0
	for _, m := range x.Args[2:] {
		if s.Add(m) {
			if !created {
				if added == 0 {
					op = types.AppendOpSetAdd(x.opBuf())
				}
				op = types.AppendItem(op, m)
			}
			added++
		}
	}
	if added == 0 {
		tx.Unlock()
		x.Int(0)
		return
	}
	var err error
	if created {
		err = tx.Set(x.C.DB, key, cache.Value{Kind: store.KindSet, Obj: s})
	} else {
		err = tx.AppendOp(x.C.DB, key, &v, op)
		x.keepOp(op)
	}
	if keyUnlock(x, &tx, err) {
		x.Int(int64(added))
	}
}

// setSaveRemoved records the removal op (members already removed from s,
// the set of key) or deletes key when s is empty. It unlocks tx and
// reports success (else it replied the error).
func setSaveRemoved(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, s *types.Set, op []byte) bool {
	return keyUnlock(x, tx, collSaveOp(x, tx, key, v, s.Len(), op))
}

// SREM key member [member ...]
func cmdSRem(x *Ctx) {
	collRemove(x, store.KindSet, (*types.Set).Remove, types.AppendOpSetRemove)
}

// setRead locks key, looks up the set and calls fn with it (nil for a
// missing key) while the shard is held, then unlocks.
func setRead(x *Ctx, fn func(s *types.Set)) {
	collRead(x, store.KindSet, fn)
}

// SISMEMBER key member
func cmdSIsMember(x *Ctx) {
	setRead(x, func(s *types.Set) { x.Int(b2i(s != nil && s.Has(x.Args[2]))) })
}

// SMISMEMBER key member [member ...]
func cmdSMIsMember(x *Ctx) {
	setRead(x, func(s *types.Set) {
		x.Array(len(x.Args) - 2)
		for _, m := range x.Args[2:] {
			x.Int(b2i(s != nil && s.Has(m)))
		}
	})
}

// SCARD key
func cmdSCard(x *Ctx) {
	setRead(x, func(s *types.Set) {
		n := 0
		if s != nil {
			n = s.Len()
		}
		x.Int(int64(n))
	})
}

// setReplyAll replies every member of s (nil: none) as a set.
func setReplyAll(x *Ctx, s *types.Set) {
	if s == nil {
		x.Set(0)
		return
	}
	if ints := setIntsOrdered(s); ints != nil {
		x.Set(len(ints))
		for _, m := range ints {
			x.BulkString(m)
		}
		return
	}
	x.Set(s.Len())
	s.All(func(m string) bool { x.BulkString(m); return true })
}

// SMEMBERS key
func cmdSMembers(x *Ctx) { setRead(x, func(s *types.Set) { setReplyAll(x, s) }) }

// SPOP key [count]
func cmdSPop(x *Ctx) {
	args := x.Args
	if len(args) > 3 {
		x.ErrSyntax()
		return
	}
	count := int64(-1)
	if len(args) == 3 {
		var ok bool
		if count, ok = ParseInt(args[2]); !ok || count < 0 {
			x.Error("ERR value is out of range, must be positive")
			return
		}
	}
	key := args[1]
	tx := x.Lock(key)
	var v cache.Value
	s, done := setGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if s == nil || count == 0 {
		tx.Unlock()
		if count < 0 {
			x.Null()
		} else {
			x.Set(0)
		}
		return
	}
	n := 1
	if count > 0 {
		n = int(min(count, int64(s.Len())))
	}
	var body []byte
	op := types.AppendOpSetRemove(x.opBuf())
	if n == s.Len() && n > 1 { // the whole set, in Redis's order
		ints := setIntsOrdered(s)
		s.Pop(hashRand{}, n, func(m string) {
			op = types.AppendItemString(op, m)
			if ints == nil {
				body = protocol.AppendBulkString(body, m)
			}
		})
		for _, m := range ints {
			body = protocol.AppendBulkString(body, m)
		}
	} else {
		s.Pop(hashRand{}, n, func(m string) {
			op = types.AppendItemString(op, m)
			body = protocol.AppendBulkString(body, m)
		})
	}
	saved := setSaveRemoved(x, &tx, key, &v, s, op)
	x.keepOp(op)
	if !saved {
		return
	}
	if count > 0 {
		x.Set(n)
	}
	x.Out = append(x.Out, body...)
}

// SRANDMEMBER key [count]
func cmdSRandMember(x *Ctx) {
	args := x.Args
	if len(args) > 3 {
		x.ErrSyntax()
		return
	}
	if len(args) == 2 {
		setRead(x, func(s *types.Set) {
			if s == nil {
				x.Null()
				return
			}
			s.Random(hashRand{}, 1, func(m string) { x.BulkString(m) })
		})
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
	setRead(x, func(s *types.Set) {
		if s == nil || l == 0 {
			x.Array(0)
			return
		}
		emit := func(m string) { x.BulkString(m) }
		if l > 0 {
			n := int(min(l, int64(s.Len())))
			x.Array(n)
			if n == s.Len() {
				if ints := setIntsOrdered(s); ints != nil {
					for _, m := range ints {
						x.BulkString(m)
					}
					return
				}
			}
			s.Random(hashRand{}, n, emit)
			return
		}
		x.Array(int(-l))
		for left := -l; left > 0; left -= hashRandBatch {
			s.Random(hashRand{}, -int(min(left, hashRandBatch)), emit)
		}
	})
}

// SMOVE source destination member
func cmdSMove(x *Ctx) {
	args := x.Args
	src, dst, m := args[1], args[2], args[3]
	tx := x.LockArgs(args, 1, 2, 1)
	var sv cache.Value
	ss, done := setGet(x, &tx, src, false, &sv)
	if done {
		return
	}
	if ss == nil {
		tx.Unlock()
		x.Int(0)
		return
	}
	var dv cache.Value
	ds, done := setGet(x, &tx, dst, false, &dv)
	if done {
		return
	}
	if string(src) == string(dst) {
		tx.Unlock()
		x.Int(b2i(ss.Has(m)))
		return
	}
	if !ss.Remove(m) {
		tx.Unlock()
		x.Int(0)
		return
	}
	var err error
	if ss.Len() == 0 {
		_, err = tx.Delete(x.C.DB, src)
	} else {
		err = tx.AppendOp(x.C.DB, src, &sv, types.AppendOpSetRemove(nil, m))
	}
	if err == nil {
		if ds == nil {
			ds = &types.Set{}
			ds.Add(m)
			err = tx.Set(x.C.DB, dst, cache.Value{Kind: store.KindSet, Obj: ds})
		} else if ds.Add(m) {
			err = tx.AppendOp(x.C.DB, dst, &dv, types.AppendOpSetAdd(nil, m))
		}
	}
	if keyUnlock(x, &tx, err) {
		x.Int(1)
	}
}

// setLoad looks up every key of keys, all of whose shards tx holds: a
// missing key is a nil set. On a key of another type or a store error it
// unlocks, replies and reports done. read counts the lookups in
// keyspace_hits/misses.
func setLoad(x *Ctx, tx *cache.Tx, keys [][]byte, read bool) (sets []*types.Set, done bool) {
	sets = make([]*types.Set, len(keys))
	for i, k := range keys {
		var cv cache.Value
		s, done := setGet(x, tx, k, read, &cv)
		if done {
			return nil, true
		}
		sets[i] = s
	}
	return sets, false
}

// setInter returns the intersection of sets in the order of the smallest
// (no members if one is nil), stopping at limit members (0: no limit).
func setInter(sets []*types.Set, limit int) []string {
	for _, s := range sets {
		if s == nil {
			return nil
		}
	}
	sorted := slices.Clone(sets)
	slices.SortStableFunc(sorted, func(a, b *types.Set) int { return a.Len() - b.Len() })
	var out []string
	sorted[0].All(func(m string) bool {
		for _, o := range sorted[1:] {
			if !o.Has([]byte(m)) {
				return true
			}
		}
		out = append(out, m)
		return limit == 0 || len(out) < limit
	})
	return out
}

// setUnion returns the union of sets (nil ones are empty), first-seen
// order.
func setUnion(sets []*types.Set) *types.Set {
	r := &types.Set{}
	for _, s := range sets {
		if s != nil {
			s.All(func(m string) bool { r.AddString(m); return true })
		}
	}
	return r
}

// setDiff returns the members of sets[0] in none of the others.
func setDiff(sets []*types.Set) []string {
	if sets[0] == nil {
		return nil
	}
	var out []string
	sets[0].All(func(m string) bool {
		for _, o := range sets[1:] {
			if o != nil && o.Has([]byte(m)) {
				return true
			}
		}
		out = append(out, m)
		return true
	})
	return out
}

// setOp is a set algebra command: inter, union or diff.
type setOp int

const (
	setOpInter setOp = iota
	setOpUnion
	setOpDiff
)

// setCompute returns the members of op over sets.
func setCompute(op setOp, sets []*types.Set) []string {
	switch op {
	case setOpInter:
		return setInter(sets, 0)
	case setOpDiff:
		return setDiff(sets)
	}
	u := setUnion(sets)
	out := make([]string, 0, u.Len())
	u.All(func(m string) bool { out = append(out, m); return true })
	return out
}

// setAlgebra runs SINTER, SUNION or SDIFF over args[1:].
func setAlgebra(x *Ctx, op setOp) {
	keys := x.Args[1:]
	tx := x.LockArgs(x.Args, 1, -1, 1)
	sets, done := setLoad(x, &tx, keys, true)
	if done {
		return
	}
	out := setCompute(op, sets)
	setSortInts(out)
	x.Set(len(out))
	for _, m := range out {
		x.BulkString(m)
	}
	tx.Unlock()
}

// setAlgebraStore runs SINTERSTORE, SUNIONSTORE or SDIFFSTORE: the result
// over args[2:] replaces args[1] (a fresh image), or deletes it when
// empty.
func setAlgebraStore(x *Ctx, op setOp) {
	dst := x.Args[1]
	tx := x.LockArgs(x.Args, 1, -1, 1)
	sets, done := setLoad(x, &tx, x.Args[2:], true)
	if done {
		return
	}
	out := setCompute(op, sets)
	var err error
	if len(out) == 0 {
		_, err = tx.Delete(x.C.DB, dst)
	} else {
		r := &types.Set{}
		for _, m := range out {
			r.AddString(m)
		}
		err = tx.Set(x.C.DB, dst, cache.Value{Kind: store.KindSet, Obj: r})
	}
	if keyUnlock(x, &tx, err) {
		x.Int(int64(len(out)))
	}
}

// SINTER key [key ...]
func cmdSInter(x *Ctx) { setAlgebra(x, setOpInter) }

// SUNION key [key ...]
func cmdSUnion(x *Ctx) { setAlgebra(x, setOpUnion) }

// SDIFF key [key ...]
func cmdSDiff(x *Ctx) { setAlgebra(x, setOpDiff) }

// SINTERSTORE destination key [key ...]
func cmdSInterStore(x *Ctx) { setAlgebraStore(x, setOpInter) }

// SUNIONSTORE destination key [key ...]
func cmdSUnionStore(x *Ctx) { setAlgebraStore(x, setOpUnion) }

// SDIFFSTORE destination key [key ...]
func cmdSDiffStore(x *Ctx) { setAlgebraStore(x, setOpDiff) }

// SINTERCARD numkeys key [key ...] [LIMIT limit]
func cmdSInterCard(x *Ctx) {
	args := x.Args
	numkeys, ok := ParseInt(args[1])
	if !ok || numkeys < 1 {
		x.Error("ERR numkeys should be greater than 0")
		return
	}
	if numkeys > int64(len(args)-2) {
		x.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	nk := int(numkeys)
	limit := int64(0)
	for i := 2 + nk; i < len(args); i++ {
		if keyOptIs(args[i], "LIMIT") && i+1 < len(args) {
			i++
			if limit, ok = ParseInt(args[i]); !ok || limit < 0 {
				x.Error("ERR LIMIT can't be negative")
				return
			}
		} else {
			x.ErrSyntax()
			return
		}
	}
	keys := args[2 : 2+nk]
	tx := x.LockKeys(keys)
	sets, done := setLoad(x, &tx, keys, true)
	if done {
		return
	}
	n := len(setInter(sets, int(min(limit, math.MaxInt32))))
	tx.Unlock()
	x.Int(int64(n))
}

// SSCAN key cursor [MATCH pattern] [COUNT count]
func cmdSScan(x *Ctx) {
	collScan(x, store.KindSet, func(s *types.Set, cursor uint64, count int64, match func(string) bool, body *[]byte, n *int) uint64 {
		emit := func(m string) {
			if match(m) {
				*body = protocol.AppendBulkString(*body, m)
				*n++
			}
		}
		if ints := setIntsOrdered(s); ints != nil {
			for _, m := range ints {
				emit(m)
			}
			return 0
		}
		return s.Scan(cursor, int(min(count, math.MaxInt32)), emit)
	})
}
