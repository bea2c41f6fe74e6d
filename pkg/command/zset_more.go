package command

import (
	"math"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/protocol"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// ZRANDMEMBER, ZMPOP and ZSCAN (Redis 7.0's t_zset.c).

func zsetMoreCommands() []*Command {
	return []*Command{
		{Name: "zrandmember", Run: cmdZRandMember},
		{Name: "zmpop", Run: cmdZMPop},
		{Name: "zscan", Run: cmdZScan},
	}
}

// ZRANDMEMBER key [count [WITHSCORES]]
func cmdZRandMember(x *Ctx) {
	args := x.Args
	if len(args) == 2 {
		zsetRead(x, func(z *types.ZSet) {
			if z == nil {
				x.Null()
				return
			}
			z.Random(hashRand{}, 1, func(m string, _ float64) { x.BulkString(m) })
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
	withScores := false
	if len(args) > 4 || len(args) == 4 && !keyOptIs(args[3], "withscores") {
		x.ErrSyntax()
		return
	} else if len(args) == 4 {
		withScores = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			x.Error("ERR value is out of range")
			return
		}
	}
	zsetRead(x, func(z *types.ZSet) {
		if z == nil || l == 0 {
			x.Array(0)
			return
		}
		nested := withScores && x.Proto() > 2
		emit := func(m string, s float64) {
			if withScores {
				zsetAppendPair(x, nested, m, s)
			} else {
				x.BulkString(m)
			}
		}
		n := -l
		if l > 0 {
			n = min(l, int64(z.Len()))
		}
		if withScores && !nested {
			x.Array(int(2 * n))
		} else {
			x.Array(int(n))
		}
		if l > 0 {
			if int(n) == z.Len() {
				// The whole zset, highest score first, as Redis replies
				// a listpack.
				z.RangeByRank(0, z.Len()-1, true, func(m string, s float64) bool { emit(m, s); return true })
				return
			}
			z.Random(hashRand{}, int(n), emit)
			return
		}
		for left := n; left > 0; left -= hashRandBatch {
			z.Random(hashRand{}, -int(min(left, hashRandBatch)), emit)
		}
	})
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
func cmdZMPop(x *Ctx) {
	keys, max, count, ok := zsetMPopArgs(x, 1)
	if !ok {
		return
	}
	tx := x.LockKeys(keys)
	for _, key := range keys {
		var v cache.Value
		z, done := zsetGet(x, &tx, key, false, &v)
		if done {
			return
		}
		if z == nil {
			continue
		}
		zsetMPopReply(x, &tx, key, &v, z, count, max)
		return
	}
	tx.Unlock()
	x.NullArray()
}

// zsetMPopArgs parses the arguments of ZMPOP (numkeys at Args[1]) and
// BZMPOP (at Args[2]) in Redis's order: numkeys, MIN|MAX, COUNT. On an
// error it replies and reports false. keys alias Args.
func zsetMPopArgs(x *Ctx, numkeysIdx int) (keys [][]byte, max bool, count int, ok bool) {
	args := x.Args
	numkeys, ok := ParseInt(args[numkeysIdx])
	if !ok || numkeys < 1 {
		x.Error("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	if numkeys > int64(len(args)-numkeysIdx-2) {
		x.ErrSyntax()
		return nil, false, 0, false
	}
	where := numkeysIdx + 1 + int(numkeys)
	switch {
	case keyOptIs(args[where], "min"):
	case keyOptIs(args[where], "max"):
		max = true
	default:
		x.ErrSyntax()
		return nil, false, 0, false
	}
	n, hasCount := int64(1), false
	for j := where + 1; j < len(args); j++ {
		if !hasCount && keyOptIs(args[j], "count") && j+1 < len(args) {
			j++
			if n, ok = ParseInt(args[j]); !ok || n < 1 {
				x.Error("ERR count should be greater than 0")
				return nil, false, 0, false
			}
			hasCount = true
			continue
		}
		x.ErrSyntax()
		return nil, false, 0, false
	}
	return args[numkeysIdx+1 : where], max, int(min(n, math.MaxInt)), true
}

// zsetMPopReply pops up to count members of z, the zset of key, unlocks
// tx and replies [key, [[member, score], ...]] (ZMPOP, BZMPOP).
func zsetMPopReply(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, z *types.ZSet, count int, max bool) {
	members, scores, op := zsetPop(z, count, max)
	if !zsetSaveOp(x, tx, key, v, z, op) {
		return
	}
	x.Array(2)
	x.Bulk(key)
	x.Array(len(members))
	for i, m := range members {
		zsetAppendPair(x, true, m, scores[i])
	}
}

// Redis's default zset-max-listpack-entries and -value: ZSCAN returns a
// zset whole when Redis would hold it as a listpack.
const (
	zsetListpackEntries = 128
	zsetListpackValue   = 64
)

// zsetLexRanks returns the forward ranks of the members of a lex range as
// ZLEXCOUNT and ZREMRANGEBYLEX find them. When the scores differ the
// result is unspecified in Redis: over a skip list it depends on random
// node levels, over a listpack it is a linear walk. tstd walks like the
// listpack when Redis would hold z as one (O(n), n <= 128), so that its
// replies are Redis's wherever Redis's are deterministic; above that it
// descends its tree (O(log n)).
func zsetLexRanks(z *types.ZSet, r types.LexRange) (first, last int) {
	if zsetIsListpack(z) {
		return z.LexScanRanks(r, false)
	}
	return z.LexRanks(r)
}

// zsetIsListpack reports whether Redis would keep z as a listpack (as
// when built by writes that never made it larger).
func zsetIsListpack(z *types.ZSet) bool {
	if z.Len() > zsetListpackEntries {
		return false
	}
	ok := true
	z.All(func(m string, _ float64) bool {
		ok = len(m) <= zsetListpackValue
		return ok
	})
	return ok
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]
func cmdZScan(x *Ctx) {
	collScan(x, store.KindZSet, func(z *types.ZSet, cursor uint64, count int64, match func(string) bool, body *[]byte, n *int) uint64 {
		var tmp []byte
		emit := func(m string, s float64) {
			if match(m) {
				*body = protocol.AppendBulkString(*body, m)
				tmp = protocol.FormatDouble(tmp[:0], s)
				*body = protocol.AppendBulk(*body, tmp)
				*n += 2
			}
		}
		if zsetIsListpack(z) {
			z.All(func(m string, s float64) bool { emit(m, s); return true })
			return 0
		}
		return z.Scan(cursor, int(min(count, math.MaxInt32)), emit)
	})
}
