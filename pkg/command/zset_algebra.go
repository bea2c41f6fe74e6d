package command

import (
	"math"
	"slices"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// ZUNION, ZINTER, ZDIFF, their *STORE forms and ZINTERCARD (Redis 7.0's
// zunionInterDiffGenericCommand). Inputs may be zsets or sets (whose
// members score 1); all keys are locked up front.

func zsetAlgebraCommands() []*Command {
	return []*Command{
		{Name: "zunion", Run: func(x *Ctx) { zalgebra(x, false, 1, zopUnion, false) }},
		{Name: "zinter", Run: func(x *Ctx) { zalgebra(x, false, 1, zopInter, false) }},
		{Name: "zdiff", Run: func(x *Ctx) { zalgebra(x, false, 1, zopDiff, false) }},
		{Name: "zunionstore", Run: func(x *Ctx) { zalgebra(x, true, 2, zopUnion, false) }},
		{Name: "zinterstore", Run: func(x *Ctx) { zalgebra(x, true, 2, zopInter, false) }},
		{Name: "zdiffstore", Run: func(x *Ctx) { zalgebra(x, true, 2, zopDiff, false) }},
		{Name: "zintercard", Run: func(x *Ctx) { zalgebra(x, false, 1, zopInter, true) }},
	}
}

const (
	zopUnion = iota
	zopInter
	zopDiff
)

const (
	zaggSum = iota
	zaggMin
	zaggMax
)

// zsrc is one input: a zset, a set, or nothing (a missing key).
type zsrc struct {
	z      *types.ZSet
	s      *types.Set
	weight float64
}

func (s *zsrc) len() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.s != nil:
		return s.s.Len()
	}
	return 0
}

func (s *zsrc) score(m string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score([]byte(m))
	case s.s != nil:
		return 1, s.s.Has([]byte(m))
	}
	return 0, false
}

func (s *zsrc) all(fn func(m string, score float64)) {
	switch {
	case s.z != nil:
		s.z.All(func(m string, sc float64) bool { fn(m, sc); return true })
	case s.s != nil:
		s.s.All(func(m string) bool { fn(m, 1); return true })
	}
}

// zweighted is Redis's weighted score of a union's input or an
// intersection's first input: a NaN product (0 * inf) is 0. The other inputs
// of an intersection aggregate the bare product, as Redis does: SUM turns a
// NaN total into 0, MIN and MAX keep the target.
func zweighted(w, v float64) float64 {
	s := w * v
	if math.IsNaN(s) {
		return 0
	}
	return s
}

func zaggregate(agg int, target *float64, v float64) {
	switch agg {
	case zaggSum:
		*target += v
		if math.IsNaN(*target) {
			*target = 0
		}
	case zaggMin:
		// Not min(): a NaN v must leave the target, as Redis's
		// "val < *target ? val : *target" does.
		if v < *target {
			*target = v
		}
	case zaggMax:
		if v > *target {
			*target = v
		}
	}
}

func zalgebra(x *Ctx, storeDst bool, numIdx int, op int, cardOnly bool) {
	args := x.Args
	setnum, ok := ParseInt(args[numIdx])
	if !ok {
		x.ErrNotInteger()
		return
	}
	if setnum < 1 {
		x.Error("ERR at least 1 input key is needed for '" + x.Cmd.Name + "' command")
		return
	}
	if setnum > int64(len(args)-(numIdx+1)) {
		x.ErrSyntax()
		return
	}
	n := int(setnum)
	keys := args[numIdx+1 : numIdx+1+n]
	var tx cache.Tx
	if storeDst {
		tx = x.LockKeys(append([][]byte{args[1]}, keys...))
	} else {
		tx = x.LockKeys(keys)
	}
	srcs := make([]zsrc, n)
	for i, key := range keys {
		v, found, err := tx.Get(x.C.DB, key)
		if err != nil {
			tx.Unlock()
			keyReplyErr(x, err)
			return
		}
		if !storeDst {
			keyStat(x, found)
		}
		srcs[i].weight = 1
		if !found {
			continue
		}
		switch v.Kind {
		case store.KindZSet:
			srcs[i].z = v.Obj.(*types.ZSet)
		case store.KindSet:
			srcs[i].s = v.Obj.(*types.Set)
		default:
			tx.Unlock()
			x.ErrWrongType()
			return
		}
	}
	agg := zaggSum
	withScores := false
	limit := int64(0)
	j := numIdx + 1 + n
	fail := func(msg string) {
		tx.Unlock()
		x.Error(msg)
	}
	for remaining := len(args) - j; remaining > 0; remaining = len(args) - j {
		a := args[j]
		switch {
		case op != zopDiff && !cardOnly && remaining > n && keyOptIs(a, "weights"):
			j++
			for i := range srcs {
				w, ok := zsetParseScore(args[j])
				if !ok {
					fail("ERR weight value is not a float")
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && keyOptIs(a, "aggregate"):
			switch b := args[j+1]; {
			case keyOptIs(b, "sum"):
				agg = zaggSum
			case keyOptIs(b, "min"):
				agg = zaggMin
			case keyOptIs(b, "max"):
				agg = zaggMax
			default:
				fail(ErrSyntax)
				return
			}
			j += 2
		case !storeDst && !cardOnly && keyOptIs(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && keyOptIs(a, "limit"):
			if limit, ok = ParseInt(args[j+1]); !ok || limit < 0 {
				fail("ERR LIMIT can't be negative")
				return
			}
			j += 2
		default:
			fail(ErrSyntax)
			return
		}
	}
	// Inputs by ascending size, as Redis sorts them (ZDIFF keeps the
	// first).
	order := srcs
	if op != zopDiff {
		order = slices.Clone(srcs)
		slices.SortStableFunc(order, func(a, b zsrc) int { return a.len() - b.len() })
	}
	res := &types.ZSet{}
	count := int64(0)
	add := func(m string, score float64) {
		// ZSet.Add keeps the stored bits of an equal score: an aggregate
		// that turns -0 into 0 (or back) must replace the member.
		if old, ok := res.Score([]byte(m)); ok && old == score && math.Signbit(old) != math.Signbit(score) {
			res.Remove([]byte(m))
		}
		res.AddString(m, score)
	}
	switch op {
	case zopInter:
		if order[0].len() > 0 {
			order[0].all(func(m string, sc float64) {
				if cardOnly && limit > 0 && count >= limit {
					return
				}
				score := zweighted(order[0].weight, sc)
				for k := 1; k < len(order); k++ {
					v, ok := order[k].score(m)
					if !ok {
						return
					}
					zaggregate(agg, &score, order[k].weight*v)
				}
				count++
				if !cardOnly {
					add(m, score)
				}
			})
		}
	case zopUnion:
		for k := range order {
			order[k].all(func(m string, sc float64) {
				score := zweighted(order[k].weight, sc)
				if cur, ok := res.Score([]byte(m)); ok {
					zaggregate(agg, &cur, score)
					add(m, cur)
					return
				}
				add(m, score)
			})
		}
	case zopDiff:
		order[0].all(func(m string, sc float64) {
			for k := 1; k < len(order); k++ {
				if _, ok := order[k].score(m); ok {
					return
				}
			}
			add(m, sc)
		})
	}
	if cardOnly {
		tx.Unlock()
		x.Int(count)
		return
	}
	if storeDst {
		zsetListpackZeros(x, res)
		var err error
		dst := args[1]
		if res.Len() == 0 {
			_, err = tx.Delete(x.C.DB, dst)
		} else {
			err = tx.Set(x.C.DB, dst, cache.Value{Kind: store.KindZSet, Obj: res})
		}
		if keyUnlock(x, &tx, err) {
			x.Int(int64(res.Len()))
		}
		return
	}
	tx.Unlock()
	members := make([]string, 0, res.Len())
	scores := make([]float64, 0, res.Len())
	res.All(func(m string, s float64) bool {
		members = append(members, m)
		scores = append(scores, s)
		return true
	})
	zsetReplyRange(x, members, scores, withScores)
}

// zsetListpackZeros turns the -0 scores of a *STORE result into 0 when
// Redis 7.0 would store it as a listpack (which reads -0 back as 0); a
// result held as a skip list keeps them, as Redis's does.
func zsetListpackZeros(x *Ctx, z *types.ZSet) {
	entries, value := zsetLimits(x)
	if !zsetListpack(z, entries, value) {
		return
	}
	var neg []string
	z.All(func(m string, score float64) bool {
		if score == 0 && math.Signbit(score) {
			neg = append(neg, m)
		}
		return true
	})
	for _, m := range neg {
		// Add keeps the stored bits of an equal score: remove first.
		z.Remove([]byte(m))
		z.AddString(m, 0)
	}
}
