package command

import (
	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// The range commands of the sorted set (Redis 7.0's zrangeGenericCommand
// and zremrangeGenericCommand): ZRANGE and its BYSCORE/BYLEX/REV/LIMIT
// forms, the legacy Z[REV]RANGE[BYSCORE|BYLEX], ZRANGESTORE and
// ZREMRANGEBY{RANK,SCORE,LEX}.

func zsetRangeCommands() []*Command {
	return []*Command{
		{Name: "zrange", Run: func(x *Ctx) { zrangeGeneric(x, 1, false, zrAuto, zdAuto) }},
		{Name: "zrangestore", Run: func(x *Ctx) { zrangeGeneric(x, 2, true, zrAuto, zdAuto) }},
		{Name: "zrevrange", Run: func(x *Ctx) { zrangeGeneric(x, 1, false, zrRank, zdReverse) }},
		{Name: "zrangebyscore", Run: func(x *Ctx) { zrangeGeneric(x, 1, false, zrScore, zdForward) }},
		{Name: "zrevrangebyscore", Run: func(x *Ctx) { zrangeGeneric(x, 1, false, zrScore, zdReverse) }},
		{Name: "zrangebylex", Run: func(x *Ctx) { zrangeGeneric(x, 1, false, zrLex, zdForward) }},
		{Name: "zrevrangebylex", Run: func(x *Ctx) { zrangeGeneric(x, 1, false, zrLex, zdReverse) }},
		{Name: "zremrangebyrank", Run: func(x *Ctx) { zremrangeGeneric(x, zrRank) }},
		{Name: "zremrangebyscore", Run: func(x *Ctx) { zremrangeGeneric(x, zrScore) }},
		{Name: "zremrangebylex", Run: func(x *Ctx) { zremrangeGeneric(x, zrLex) }},
	}
}

// Range types and directions, as Redis's zrange_type and
// zrange_direction.
const (
	zrAuto = iota
	zrRank
	zrScore
	zrLex
)

const (
	zdAuto = iota
	zdForward
	zdReverse
)

const (
	errZRangeLimit     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZRangeLexScores = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZScoreRange     = "ERR min or max is not a float"
	errZLexRange       = "ERR min or max not valid string range item"
)

// zsetNormRank applies Redis's rank range rules to start..end for a zset
// of n members: negative indexes count from the end; it reports false
// when the range is empty.
func zsetNormRank(start, end int64, n int) (lo, hi int, ok bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, false
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), true
}

// zrangeGeneric is Redis's zrangeGenericCommand: the key is x.Args[first]
// (ZRANGESTORE's destination precedes it), min and max follow, then the
// options.
func zrangeGeneric(x *Ctx, first int, storeDst bool, rangeType, dir int) {
	args := x.Args
	minIdx, maxIdx := first+1, first+2
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := first + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !storeDst && keyOptIs(a, "withscores"):
			withScores = true
		case keyOptIs(a, "limit") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = ParseInt(args[j+1])
			if ok1 {
				limit, ok2 = ParseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				x.ErrNotInteger()
				return
			}
			j += 2
		case dir == zdAuto && keyOptIs(a, "rev"):
			dir = zdReverse
		case rangeType == zrAuto && keyOptIs(a, "bylex"):
			rangeType = zrLex
		case rangeType == zrAuto && keyOptIs(a, "byscore"):
			rangeType = zrScore
		default:
			x.ErrSyntax()
			return
		}
	}
	if dir == zdAuto {
		dir = zdForward
	}
	if rangeType == zrAuto {
		rangeType = zrRank
	}
	if limit != -1 && rangeType == zrRank {
		x.Error(errZRangeLimit)
		return
	}
	if withScores && rangeType == zrLex {
		x.Error(errZRangeLexScores)
		return
	}
	reverse := dir == zdReverse
	if reverse && rangeType != zrRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr types.ScoreRange
	var lr types.LexRange
	var err error
	switch rangeType {
	case zrRank:
		var ok1, ok2 bool
		start, ok1 = ParseInt(args[minIdx])
		if ok1 {
			end, ok2 = ParseInt(args[maxIdx])
		}
		if !ok1 || !ok2 {
			x.ErrNotInteger()
			return
		}
	case zrScore:
		if sr, err = types.ParseScoreRange(args[minIdx], args[maxIdx]); err != nil {
			x.Error(errZScoreRange)
			return
		}
	case zrLex:
		if lr, err = types.ParseLexRange(args[minIdx], args[maxIdx]); err != nil {
			x.Error(errZLexRange)
			return
		}
	}
	key := args[first]
	var tx cache.Tx
	if storeDst {
		tx = x.LockKeys([][]byte{args[1], key})
	} else {
		tx = x.Lock(key)
	}
	var cv cache.Value
	z, done := zsetGet(x, &tx, key, true, &cv)
	if done {
		return
	}
	var members []string
	var scores []float64
	collect := func(m string, s float64) bool {
		members = append(members, m)
		scores = append(scores, s)
		return true
	}
	if z != nil {
		switch rangeType {
		case zrRank:
			if lo, hi, ok := zsetNormRank(start, end, z.Len()); ok {
				z.RangeByRank(lo, hi, reverse, collect)
			}
		case zrScore:
			z.RangeByScore(sr, reverse, int(offset), int(limit), collect)
		case zrLex:
			if zsetIsListpack(z) {
				z.RangeByLexScan(lr, reverse, int(offset), int(limit), collect)
			} else {
				z.RangeByLex(lr, reverse, int(offset), int(limit), collect)
			}
		}
	}
	if storeDst {
		dst := args[1]
		if len(members) == 0 {
			_, err = tx.Delete(x.C.DB, dst)
		} else {
			nz := &types.ZSet{}
			for i, m := range members {
				nz.AddString(m, scores[i])
			}
			zsetListpackZeros(x, nz)
			err = tx.Set(x.C.DB, dst, cache.Value{Kind: store.KindZSet, Obj: nz})
		}
		if keyUnlock(x, &tx, err) {
			x.Int(int64(len(members)))
		}
		return
	}
	tx.Unlock()
	zsetReplyRange(x, members, scores, withScores)
}

// zsetReplyRange replies members (with their scores when withScores: flat
// in RESP2, [member, score] pairs in RESP3).
func zsetReplyRange(x *Ctx, members []string, scores []float64, withScores bool) {
	nested := withScores && x.Proto() > 2
	switch {
	case !withScores || nested:
		x.Array(len(members))
	default:
		x.Array(2 * len(members))
	}
	for i, m := range members {
		if withScores {
			zsetAppendPair(x, nested, m, scores[i])
		} else {
			x.BulkString(m)
		}
	}
}

// zremrangeGeneric is ZREMRANGEBYRANK, ZREMRANGEBYSCORE and
// ZREMRANGEBYLEX: the removal is logged as the forward ranks removed.
func zremrangeGeneric(x *Ctx, rangeType int) {
	args := x.Args
	var start, end int64
	var sr types.ScoreRange
	var lr types.LexRange
	var err error
	switch rangeType {
	case zrRank:
		var ok1, ok2 bool
		start, ok1 = ParseInt(args[2])
		if ok1 {
			end, ok2 = ParseInt(args[3])
		}
		if !ok1 || !ok2 {
			x.ErrNotInteger()
			return
		}
	case zrScore:
		if sr, err = types.ParseScoreRange(args[2], args[3]); err != nil {
			x.Error(errZScoreRange)
			return
		}
	case zrLex:
		if lr, err = types.ParseLexRange(args[2], args[3]); err != nil {
			x.Error(errZLexRange)
			return
		}
	}
	key := args[1]
	tx := x.Lock(key)
	var v cache.Value
	z, done := zsetGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if z == nil {
		tx.Unlock()
		x.Int(0)
		return
	}
	lo, hi := 0, -1
	switch rangeType {
	case zrRank:
		if l, h, ok := zsetNormRank(start, end, z.Len()); ok {
			lo, hi = l, h
			z.RemoveRangeByRank(lo, hi)
		}
	case zrScore:
		lo, hi = z.RemoveRangeByScore(sr)
	case zrLex:
		lo, hi = zsetLexRanks(z, lr)
		z.RemoveRangeByRank(lo, hi)
	}
	if lo > hi {
		tx.Unlock()
		x.Int(0)
		return
	}
	if zsetSaveOp(x, &tx, key, &v, z, types.AppendOpZRemoveRanks(nil, lo, hi)) {
		x.Int(int64(hi - lo + 1))
	}
}
