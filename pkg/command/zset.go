package command

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// The sorted set commands, with Redis 7.0's semantics (t_zset.c):
// arguments are validated in Redis's order, replies and errors are
// Redis's. Scores are replied as doubles (RESP2 bulk strings in %.17g
// form, RESP3 doubles); WITHSCORES replies are flat in RESP2 and arrays
// of [member, score] pairs in RESP3 where Redis nests them.
//
// A zset is a cache.Value of KindZSet whose Obj is a *types.ZSet, valid
// while the key's shard is held. Write commands change the object in
// place and record the change with Tx.AppendOp (O(size of the change) on
// disk), or write a first image with Tx.Set when they create the key. A
// zset emptied by a write is deleted. A -0 score is stored as +0, as
// Redis 7.0 does for small (listpack) sorted sets.

func zsetCommands() []*Command {
	return append(append(append(zsetRangeCommands(), zsetMoreCommands()...), zsetAlgebraCommands()...),
		&Command{Name: "zadd", Run: cmdZAdd},
		&Command{Name: "zincrby", Run: cmdZIncrBy},
		&Command{Name: "zrem", Run: cmdZRem},
		&Command{Name: "zcard", Run: cmdZCard},
		&Command{Name: "zscore", Run: cmdZScore},
		&Command{Name: "zmscore", Run: cmdZMScore},
		&Command{Name: "zrank", Run: cmdZRank},
		&Command{Name: "zrevrank", Run: cmdZRevRank},
		&Command{Name: "zcount", Run: cmdZCount},
		&Command{Name: "zlexcount", Run: cmdZLexCount},
		&Command{Name: "zpopmin", Run: cmdZPopMin},
		&Command{Name: "zpopmax", Run: cmdZPopMax},
	)
}

// Redis's ZADD error replies.
const (
	errZAddXXNX  = "ERR XX and NX options at the same time are not compatible"
	errZAddGTLT  = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZAddIncr  = "ERR INCR option supports a single increment-element pair"
	errZScoreNaN = "ERR resulting score is not a number (NaN)"
	errPositive  = "ERR value is out of range, must be positive"
)

// zsetParseScore parses b as Redis's getDoubleFromObject: the whole
// argument must be what C's strtod accepts, with no leading white space,
// not empty, not NaN, and not out of range (overflow or underflow to 0).
func zsetParseScore(b []byte) (float64, bool) {
	s := string(b)
	if s == "" || strings.ContainsAny(s, "\x00_") || strings.IndexByte(" \t\n\v\f\r", s[0]) >= 0 {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	hex := len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	if hex && !strings.ContainsAny(body, "pP") {
		s += "p0" // strtod's binary exponent is optional, Go's is not
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 {
		// strtod reports ERANGE for an underflow to zero: reject a
		// mantissa with a non-zero digit.
		m := body
		if hex {
			m = m[2:]
			if i := strings.IndexAny(m, "pP"); i >= 0 {
				m = m[:i]
			}
		} else if i := strings.IndexAny(m, "eE"); i >= 0 {
			m = m[:i]
		}
		if strings.Trim(m, "0.") != "" {
			return 0, false
		}
	}
	return f, true
}

// zsetGet looks key up for a zset command with tx held: it returns the
// value and zset (nil if the key is absent). On a store error or a key of
// another type it unlocks tx, replies and reports done. read counts the
// lookup in keyspace_hits/misses.
func zsetGet(x *Ctx, tx *cache.Tx, key []byte, read bool, v *cache.Value) (z *types.ZSet, done bool) {
	return collGet[*types.ZSet](x, tx, key, store.KindZSet, read, v)
}

// zsetRead locks key (x.Args[1]), looks up the zset and calls fn with it
// (nil for a missing key) while the shard is held, then unlocks.
func zsetRead(x *Ctx, fn func(z *types.ZSet)) {
	collRead(x, store.KindZSet, fn)
}

// zsetSaveOp records op (a change already made to z, the zset of key) or
// deletes key when z is empty. It unlocks tx and reports success (else it
// replied the error).
func zsetSaveOp(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, z *types.ZSet, op []byte) bool {
	return keyUnlock(x, tx, zsetSave(x, tx, key, v, z, op))
}

// zsetSave is zsetSaveOp without the unlock: tx stays held.
func zsetSave(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, z *types.ZSet, op []byte) error {
	return collSaveOp(x, tx, key, v, z.Len(), op)
}

// zsetPop pops up to count members of z from the low (or high, max) end,
// returning them with their scores and the operation that records it.
func zsetPop(z *types.ZSet, count int, max bool) (members []string, scores []float64, op []byte) {
	n := min(z.Len(), count)
	members = make([]string, 0, n)
	scores = make([]float64, 0, n)
	lo, hi := z.Pop(n, max, func(m string, s float64) {
		members = append(members, m)
		scores = append(scores, s)
	})
	return members, scores, types.AppendOpZRemoveRanks(nil, lo, hi)
}

// zaddFlags are ZADD's options.
type zaddFlags struct {
	nx, xx, gt, lt, ch, incr bool
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
func cmdZAdd(x *Ctx) { zaddGeneric(x, false) }

// ZINCRBY key increment member: ZADD's code path with INCR, as in Redis
// (which parses ZADD's options there too).
func cmdZIncrBy(x *Ctx) { zaddGeneric(x, true) }

func zaddGeneric(x *Ctx, incr bool) {
	f := zaddFlags{incr: incr}
	i := 2
	for ; i < len(x.Args); i++ {
		switch a := x.Args[i]; {
		case keyOptIs(a, "nx"):
			f.nx = true
		case keyOptIs(a, "xx"):
			f.xx = true
		case keyOptIs(a, "ch"):
			f.ch = true
		case keyOptIs(a, "incr"):
			f.incr = true
		case keyOptIs(a, "gt"):
			f.gt = true
		case keyOptIs(a, "lt"):
			f.lt = true
		default:
			goto done
		}
	}
done:
	elems := len(x.Args) - i
	if elems == 0 || elems%2 != 0 {
		x.ErrSyntax()
		return
	}
	elems /= 2
	switch {
	case f.nx && f.xx:
		x.Error(errZAddXXNX)
		return
	case f.gt && f.nx || f.lt && f.nx || f.gt && f.lt:
		x.Error(errZAddGTLT)
		return
	case f.incr && elems > 1:
		x.Error(errZAddIncr)
		return
	}
	scores := make([]float64, elems)
	for j := range scores {
		s, ok := zsetParseScore(x.Args[i+2*j])
		if !ok {
			x.Error(ErrNotFloat)
			return
		}
		scores[j] = s
	}
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	z, done := zsetGet(x, &tx, key, false, &v)
	if done {
		return
	}
	created := z == nil
	if created {
		if f.xx {
			tx.Unlock()
			zaddReply(x, f, 0, 0, false, 0)
			return
		}
		z = &types.ZSet{}
		z.SetEnc(types.EncListpack) // the insertions below decide
	}
	// An existing z has its encoding from zsetGet (collGet).
	var lpEntries, lpValue int64
	if z.Enc() != types.EncSkipList {
		lpEntries, lpValue = zsetLimits(x)
	}
	var op []byte
	added, updated, processed := 0, 0, false
	var newScore float64
	nanErr := false
	for j, score := range scores {
		member := x.Args[i+2*j+1]
		cur, exists := z.Score(member)
		if exists {
			if f.nx {
				continue
			}
			if f.incr {
				score += cur
				if math.IsNaN(score) {
					nanErr = true
					break
				}
			}
			if f.lt && score >= cur || f.gt && score <= cur {
				continue
			}
			newScore = score
			processed = true
			if score != cur {
				updated++
			} else {
				continue
			}
		} else {
			if f.xx {
				continue
			}
			newScore = score
			processed = true
			added++
		}
		stored := score
		if stored == 0 && math.Signbit(stored) && !zaddKeepsNegZero(x, z, member, exists, created, i) {
			stored = 0 // a listpack reads -0 back as 0
		}
		z.Add(member, stored)
		if z.Enc() != types.EncSkipList && (int64(z.Len()) > lpEntries || int64(len(member)) > lpValue) {
			// Redis 7.0 converts it now (zsetAdd) and never back: a -0
			// score given later stays -0, and OBJECT ENCODING says
			// "skiplist" after the set shrinks.
			z.SetEnc(types.EncSkipList)
		}
		if !created {
			if op == nil {
				op = types.AppendOpZAdd(x.opBuf())
			}
			op = types.AppendZAddItem(op, stored, member)
		}
	}
	if added+updated == 0 {
		tx.Unlock()
		if nanErr {
			x.Error(errZScoreNaN)
			return
		}
		zaddReply(x, f, added, updated, processed, newScore)
		return
	}
	var err error
	if created {
		err = tx.Set(x.C.DB, key, cache.Value{Kind: store.KindZSet, Obj: z})
	} else {
		err = tx.AppendOp(x.C.DB, key, &v, op)
		x.keepOp(op)
	}
	if keyUnlock(x, &tx, err) {
		if nanErr {
			x.Error(errZScoreNaN)
			return
		}
		zaddReply(x, f, added, updated, processed, newScore)
	}
}

func zaddReply(x *Ctx, f zaddFlags, added, updated int, processed bool, newScore float64) {
	switch {
	case f.incr && processed:
		x.Double(newScore)
	case f.incr:
		x.Null()
	case f.ch:
		x.Int(int64(added + updated))
	default:
		x.Int(int64(added))
	}
}

// ZREM key member [member ...]
func cmdZRem(x *Ctx) {
	collRemove(x, store.KindZSet, (*types.ZSet).Remove, types.AppendOpZRemove)
}

// ZCARD key
func cmdZCard(x *Ctx) {
	zsetRead(x, func(z *types.ZSet) {
		if z == nil {
			x.Int(0)
			return
		}
		x.Int(int64(z.Len()))
	})
}

// ZSCORE key member
func cmdZScore(x *Ctx) {
	zsetRead(x, func(z *types.ZSet) {
		if z == nil {
			x.Null()
			return
		}
		if s, ok := z.Score(x.Args[2]); ok {
			x.Double(s)
			return
		}
		x.Null()
	})
}

// ZMSCORE key member [member ...]
func cmdZMScore(x *Ctx) {
	zsetRead(x, func(z *types.ZSet) {
		x.Array(len(x.Args) - 2)
		for _, m := range x.Args[2:] {
			if z != nil {
				if s, ok := z.Score(m); ok {
					x.Double(s)
					continue
				}
			}
			x.Null()
		}
	})
}

// ZRANK key member
func cmdZRank(x *Ctx) { zrankGeneric(x, false) }

// ZREVRANK key member
func cmdZRevRank(x *Ctx) { zrankGeneric(x, true) }

func zrankGeneric(x *Ctx, reverse bool) {
	zsetRead(x, func(z *types.ZSet) {
		if z == nil {
			x.Null()
			return
		}
		if r, ok := z.Rank(x.Args[2], reverse); ok {
			x.Int(int64(r))
			return
		}
		x.Null()
	})
}

// zsetRangeErr replies err from ParseScoreRange or ParseLexRange.
func zsetRangeErr(x *Ctx, err error) {
	var re *types.ReplyError
	if errors.As(err, &re) {
		x.Error(re.Reply())
		return
	}
	x.Error("ERR " + err.Error())
}

// ZCOUNT key min max
func cmdZCount(x *Ctx) {
	r, err := types.ParseScoreRange(x.Args[2], x.Args[3])
	if err != nil {
		zsetRangeErr(x, err)
		return
	}
	zsetRead(x, func(z *types.ZSet) {
		if z == nil {
			x.Int(0)
			return
		}
		x.Int(int64(z.CountByScore(r)))
	})
}

// ZLEXCOUNT key min max
func cmdZLexCount(x *Ctx) {
	r, err := types.ParseLexRange(x.Args[2], x.Args[3])
	if err != nil {
		zsetRangeErr(x, err)
		return
	}
	zsetRead(x, func(z *types.ZSet) {
		if z == nil {
			x.Int(0)
			return
		}
		first, last := zsetLexRanks(z, r)
		x.Int(int64(max(0, last-first+1)))
	})
}

// ZPOPMIN key [count]
func cmdZPopMin(x *Ctx) { zpopGeneric(x, false) }

// ZPOPMAX key [count]
func cmdZPopMax(x *Ctx) { zpopGeneric(x, true) }

// zsetAppendPair appends one member and score: flat, or as a [member,
// score] array when nested (RESP3).
func zsetAppendPair(x *Ctx, nested bool, member string, score float64) {
	if nested {
		x.Array(2)
	}
	x.BulkString(member)
	x.Double(score)
}

func zpopGeneric(x *Ctx, max bool) {
	if len(x.Args) > 3 {
		x.ErrSyntax()
		return
	}
	count, hasCount := int64(1), len(x.Args) == 3
	if hasCount {
		var ok bool
		if count, ok = ParseInt(x.Args[2]); !ok || count < 0 {
			x.Error(errPositive)
			return
		}
	}
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	z, done := zsetGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if z == nil || count == 0 {
		tx.Unlock()
		x.Array(0)
		return
	}
	members, scores, op := zsetPop(z, int(min(count, math.MaxInt)), max)
	if !zsetSaveOp(x, &tx, key, &v, z, op) {
		return
	}
	n := len(members)
	nested := hasCount && x.Proto() > 2
	if nested {
		x.Array(n)
	} else {
		x.Array(2 * n)
	}
	for i, m := range members {
		zsetAppendPair(x, nested, m, scores[i])
	}
}

// zsetTrackEnc gives z, before a write command changes it (collGet), the
// encoding Redis would hold it in if it has none yet (decoded from the
// store since): what its size says now (O(min(n, entries)), once per
// cached object). A set that shrinks below the limits then stays a skip
// list, as in Redis, while its object stays cached.
func zsetTrackEnc(x *Ctx, z *types.ZSet) {
	if z.Enc() != types.EncUnknown {
		return
	}
	if entries, value := zsetLimits(x); zsetListpack(z, entries, value) {
		z.SetEnc(types.EncListpack)
	} else {
		z.SetEnc(types.EncSkipList)
	}
}

// zsetLimits returns zset-max-listpack-entries and -value.
func zsetLimits(x *Ctx) (entries, value int64) {
	return x.configInt("zset-max-listpack-entries", 128), x.configInt("zset-max-listpack-value", 64)
}

// zaddKeepsNegZero reports whether Redis 7.0 keeps a -0 score that ZADD
// gives member of z: only a sorted set held as a skip list does (a
// listpack reads it back as 0). Redis 7.0 creates the key as a skip list
// when zset-max-listpack-entries is 0 (the size check below) or the first
// member is longer than zset-max-listpack-value (7.2's zsetTypeCreate also
// looks at the number of pairs and every member), and converts a listpack
// before adding a new member that would exceed either limit. A
// sorted set over the limits now, or once since it was loaded into the
// cache (types.ZSet.Enc), counts as a skip list: Redis never converts
// back (see OBJECT ENCODING). first is the index of the first
// score argument.
func zaddKeepsNegZero(x *Ctx, z *types.ZSet, member []byte, exists, created bool, first int) bool {
	entries, value := zsetLimits(x)
	if created && int64(len(x.Args[first+1])) > value {
		return true
	}
	if !exists && (int64(z.Len()+1) > entries || int64(len(member)) > value) {
		return true
	}
	return !zsetListpack(z, entries, value)
}
