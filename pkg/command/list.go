package command

import (
	"math"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/protocol"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// The list commands, with Redis 7.0's semantics (t_list.c), without the
// blocking ones (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP): arguments are
// validated in Redis's order, replies and errors are Redis's.
//
// A list is a cache.Value of KindList whose Obj is a *types.List, valid
// while the key's shard is held. Write commands change the list in place
// and record the change with Tx.AppendOp (an operation record of the size
// of the change), or write a first image with Tx.Set when they create the
// key; a list emptied by a pop, LREM, LTRIM or LMOVE is deleted. Elements
// of a List alias its chunks, so replies are built under the lock and
// popped elements are copied before the list changes again. Multi-key
// commands (LMOVE, RPOPLPUSH, LMPOP) lock all their keys up front.

func listCommands() []*Command {
	return []*Command{
		{Name: "lpush", Run: cmdLPush},
		{Name: "rpush", Run: cmdRPush},
		{Name: "lpushx", Run: cmdLPushX},
		{Name: "rpushx", Run: cmdRPushX},
		{Name: "lpop", Run: cmdLPop},
		{Name: "rpop", Run: cmdRPop},
		{Name: "llen", Run: cmdLLen},
		{Name: "lrange", Run: cmdLRange},
		{Name: "lindex", Run: cmdLIndex},
		{Name: "lset", Run: cmdLSet},
		{Name: "linsert", Run: cmdLInsert},
		{Name: "lrem", Run: cmdLRem},
		{Name: "ltrim", Run: cmdLTrim},
		{Name: "lpos", Run: cmdLPos},
		{Name: "lmove", Run: cmdLMove},
		{Name: "rpoplpush", Run: cmdRPopLPush},
		{Name: "lmpop", Run: cmdLMPop},
	}
}

// Redis's list errors.
const (
	errListRange     = "ERR index out of range"
	errListPositive  = "ERR value is out of range, must be positive"
	errListRankZero  = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errListCountNeg  = "ERR COUNT can't be negative"
	errListMaxlenNeg = "ERR MAXLEN can't be negative"
	errListNumkeys   = "ERR numkeys should be greater than 0"
	errListCountPos  = "ERR count should be greater than 0"
)

// listGet looks key up for a list command with tx held: it returns the
// list (nil if the key is absent). On a store error or a key of another
// type it unlocks tx, replies and reports done. read counts the lookup in
// keyspace_hits/misses.
func listGet(x *Ctx, tx *cache.Tx, key []byte, read bool, v *cache.Value) (l *types.List, done bool) {
	return collGet[*types.List](x, tx, key, store.KindList, read, v)
}

// listSave records a change to l, the list of key, with tx held: a new
// key (created) gets its first image, an emptied list is deleted, and an
// existing one gets the operation op. It does not unlock.
func listSave(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, created bool, l *types.List, op []byte) error {
	switch {
	case l.Len() == 0:
		_, err := tx.Delete(x.C.DB, key)
		return err
	case created:
		return tx.Set(x.C.DB, key, cache.Value{Kind: store.KindList, Obj: l})
	default:
		return tx.AppendOp(x.C.DB, key, v, op)
	}
}

// listWhere parses LEFT or RIGHT: left reports LEFT, ok false otherwise.
func listWhere(b []byte) (left, ok bool) {
	switch {
	case keyOptIs(b, "LEFT"):
		return true, true
	case keyOptIs(b, "RIGHT"):
		return false, true
	}
	return false, false
}

// LPUSH key element [element ...]
func cmdLPush(x *Ctx) { listPush(x, true, false) }

// RPUSH key element [element ...]
func cmdRPush(x *Ctx) { listPush(x, false, false) }

// LPUSHX key element [element ...]
func cmdLPushX(x *Ctx) { listPush(x, true, true) }

// RPUSHX key element [element ...]
func cmdRPushX(x *Ctx) { listPush(x, false, true) }

// listPush pushes the elements at the head (left) or tail; xx only
// pushes onto an existing list (replying 0 otherwise).
func listPush(x *Ctx, left, xx bool) {
	key, vals := x.Args[1], x.Args[2:]
	tx := x.Lock(key)
	var v cache.Value
	l, done := listGet(x, &tx, key, false, &v)
	if done {
		return
	}
	created := l == nil
	if created {
		if xx {
			tx.Unlock()
			x.Int(0)
			return
		}
		l = &types.List{}
	}
	if left {
		l.PushLeft(vals...)
	} else {
		l.PushRight(vals...)
	}
	var op []byte
	if !created {
		op = types.AppendOpListPush(x.opBuf(), left, vals...)
	}
	n := l.Len()
	err := listSave(x, &tx, key, &v, created, l, op)
	x.keepOp(op)
	if keyUnlock(x, &tx, err) {
		x.Int(int64(n))
	}
}

// listPop pops up to count elements from the head (left) or tail of l,
// the list of key, records the change (deleting an emptied list) and
// returns the popped elements as RESP bulk strings in pop order. tx stays
// held.
func listPop(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, l *types.List, left bool, count int) (body []byte, n int, err error) {
	return listPopInto(x, tx, key, v, l, left, count, nil)
}

// listPopInto is listPop appending the popped elements to body.
func listPopInto(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, l *types.List, left bool, count int, body []byte) ([]byte, int, error) {
	emit := func(e []byte) { body = protocol.AppendBulk(body, e) }
	var n int
	if left {
		n = l.PopLeft(count, emit)
	} else {
		n = l.PopRight(count, emit)
	}
	op := types.AppendOpListPop(x.opBuf(), left, n)
	err := listSave(x, tx, key, v, false, l, op)
	x.keepOp(op)
	return body, n, err
}

// LPOP key [count]
func cmdLPop(x *Ctx) { listPopCmd(x, true) }

// RPOP key [count]
func cmdRPop(x *Ctx) { listPopCmd(x, false) }

// listPopCmd is LPOP/RPOP: one element as a bulk string, or with a count
// an array (a null array for a missing key, empty for count 0).
func listPopCmd(x *Ctx, left bool) {
	args := x.Args
	if len(args) > 3 {
		x.ErrArity()
		return
	}
	hasCount := len(args) == 3
	count := int64(1)
	if hasCount {
		var ok bool
		if count, ok = ParseInt(args[2]); !ok || count < 0 {
			x.Error(errListPositive)
			return
		}
	}
	key := args[1]
	tx := x.Lock(key)
	var v cache.Value
	l, done := listGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if l == nil {
		tx.Unlock()
		if hasCount {
			x.NullArray()
		} else {
			x.Null()
		}
		return
	}
	if count == 0 {
		tx.Unlock()
		x.Array(0)
		return
	}
	// The elements go straight to the reply (an error takes their place).
	c := int(min(count, math.MaxInt))
	mark := len(x.Out)
	if hasCount {
		x.Array(min(c, l.Len()))
	}
	out, _, err := listPopInto(x, &tx, key, &v, l, left, c, x.Out)
	x.Out = out
	if err != nil {
		x.Out = x.Out[:mark]
	}
	keyUnlock(x, &tx, err)
}

// listRead locks key, looks up the list and calls fn with it (nil for a
// missing key) while the shard is held, then unlocks. It counts the
// lookup in keyspace_hits/misses.
func listRead(x *Ctx, fn func(l *types.List)) {
	collRead(x, store.KindList, fn)
}

// LLEN key
func cmdLLen(x *Ctx) {
	listRead(x, func(l *types.List) {
		n := 0
		if l != nil {
			n = l.Len()
		}
		x.Int(int64(n))
	})
}

// LRANGE key start stop
func cmdLRange(x *Ctx) {
	start, ok1 := ParseInt(x.Args[2])
	stop, ok2 := ParseInt(x.Args[3])
	if !ok1 || !ok2 {
		x.ErrNotInteger()
		return
	}
	listRead(x, func(l *types.List) {
		if l == nil {
			x.Array(0)
			return
		}
		lo, hi, ok := types.NormalizeRange(int(start), int(stop), l.Len())
		if !ok {
			x.Array(0)
			return
		}
		x.Array(hi - lo + 1)
		l.Range(lo, hi, func(e []byte) bool { x.Bulk(e); return true })
	})
}

// LINDEX key index: the key is looked up before the index is parsed.
func cmdLIndex(x *Ctx) {
	listRead(x, func(l *types.List) {
		if l == nil {
			x.Null()
			return
		}
		i, ok := ParseInt(x.Args[2])
		if !ok {
			x.ErrNotInteger()
			return
		}
		if e, ok := l.Index(int(i)); ok {
			x.Bulk(e)
		} else {
			x.Null()
		}
	})
}

// LSET key index element
func cmdLSet(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	l, done := listGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if l == nil {
		tx.Unlock()
		x.Error(ErrNoSuchKey)
		return
	}
	i, ok := ParseInt(x.Args[2])
	if !ok {
		tx.Unlock()
		x.ErrNotInteger()
		return
	}
	val := x.Args[3]
	at := l.Set(int(i), val)
	if at < 0 {
		tx.Unlock()
		x.Error(errListRange)
		return
	}
	if keyUnlock(x, &tx, tx.AppendOp(x.C.DB, key, &v, types.AppendOpListSet(nil, at, val))) {
		x.OK()
	}
}

// LINSERT key BEFORE|AFTER pivot element: the new length, -1 when pivot
// is absent, 0 for a missing key.
func cmdLInsert(x *Ctx) {
	var before bool
	switch {
	case keyOptIs(x.Args[2], "AFTER"):
	case keyOptIs(x.Args[2], "BEFORE"):
		before = true
	default:
		x.ErrSyntax()
		return
	}
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	l, done := listGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if l == nil {
		tx.Unlock()
		x.Int(0)
		return
	}
	val := x.Args[4]
	at := l.Insert(before, x.Args[3], val)
	if at < 0 {
		tx.Unlock()
		x.Int(-1)
		return
	}
	n := l.Len()
	if keyUnlock(x, &tx, tx.AppendOp(x.C.DB, key, &v, types.AppendOpListInsert(nil, at, val))) {
		x.Int(int64(n))
	}
}

// LREM key count element
func cmdLRem(x *Ctx) {
	count, ok := ParseInt(x.Args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	key, val := x.Args[1], x.Args[3]
	tx := x.Lock(key)
	var v cache.Value
	l, done := listGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if l == nil {
		tx.Unlock()
		x.Int(0)
		return
	}
	// A count beyond the length means all, from its end (and keeps
	// -count from overflowing).
	c := int(max(min(count, int64(l.Len())), -int64(l.Len())))
	removed := l.Remove(c, val)
	if removed == 0 {
		tx.Unlock()
		x.Int(0)
		return
	}
	err := listSave(x, &tx, key, &v, false, l, types.AppendOpListRemove(nil, c, val))
	if keyUnlock(x, &tx, err) {
		x.Int(int64(removed))
	}
}

// LTRIM key start stop
func cmdLTrim(x *Ctx) {
	start, ok1 := ParseInt(x.Args[2])
	stop, ok2 := ParseInt(x.Args[3])
	if !ok1 || !ok2 {
		x.ErrNotInteger()
		return
	}
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	l, done := listGet(x, &tx, key, false, &v)
	if done {
		return
	}
	if l == nil {
		tx.Unlock()
		x.OK()
		return
	}
	left, right := l.Trim(int(start), int(stop))
	if left == 0 && right == 0 {
		// Nothing to store, but Redis signals the key as modified
		// all the same (WATCH sees it).
		x.signalModified(key)
		tx.Unlock()
		x.OK()
		return
	}
	err := listSave(x, &tx, key, &v, false, l, types.AppendOpListTrim(nil, left, right))
	if keyUnlock(x, &tx, err) {
		x.OK()
	}
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
func cmdLPos(x *Ctx) {
	args := x.Args
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		var ok bool
		switch {
		case keyOptIs(args[j], "RANK") && more > 0:
			j++
			if rank, ok = ParseInt(args[j]); !ok {
				x.ErrNotInteger()
				return
			}
			if rank == 0 {
				x.Error(errListRankZero)
				return
			}
		case keyOptIs(args[j], "COUNT") && more > 0:
			j++
			if count, ok = ParseInt(args[j]); !ok || count < 0 {
				x.Error(errListCountNeg)
				return
			}
		case keyOptIs(args[j], "MAXLEN") && more > 0:
			j++
			if maxlen, ok = ParseInt(args[j]); !ok || maxlen < 0 {
				x.Error(errListMaxlenNeg)
				return
			}
		default:
			x.ErrSyntax()
			return
		}
	}
	if rank == math.MinInt64 {
		// Redis negates LONG_MIN to itself: every match from the tail
		// qualifies, as with rank -1, and its COUNT test
		// (matches-rank+1 >= count) overflows and never stops the
		// search: a COUNT reply lists every match.
		rank = -1
		if count > 0 {
			count = 0
		}
	}
	listRead(x, func(l *types.List) {
		if l == nil {
			if count != -1 {
				x.Array(0)
			} else {
				x.Null()
			}
			return
		}
		c := int(min(count, math.MaxInt))
		if count == -1 {
			c = 1
		}
		pos := l.Pos(x.Args[2], int(rank), c, int(min(maxlen, math.MaxInt)))
		if count != -1 {
			x.Array(len(pos))
			for _, p := range pos {
				x.Int(int64(p))
			}
			return
		}
		if len(pos) == 0 {
			x.Null()
		} else {
			x.Int(int64(pos[0]))
		}
	})
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
func cmdLMove(x *Ctx) {
	from, ok1 := listWhere(x.Args[3])
	to, ok2 := listWhere(x.Args[4])
	if !ok1 || !ok2 {
		x.ErrSyntax()
		return
	}
	listMove(x, from, to)
}

// RPOPLPUSH source destination: LMOVE source destination RIGHT LEFT.
func cmdRPopLPush(x *Ctx) { listMove(x, false, true) }

// listMove pops an element from the head (from) or tail of the list at
// Args[1] and pushes it at the head (to) or tail of the list at Args[2],
// creating it; the same key rotates its list. It replies the element,
// or a null for a missing source.
func listMove(x *Ctx, from, to bool) {
	src := x.Args[1]
	tx := x.LockKeys(x.Args[1:3])
	var sv cache.Value
	sl, done := listGet(x, &tx, src, false, &sv)
	if done {
		return
	}
	if sl == nil {
		tx.Unlock()
		x.Null()
		return
	}
	listMoveFrom(x, &tx, from, to, &sv, sl)
}

// listMoveFrom finishes LMOVE (and BLMOVE) once the source list at
// Args[1] is known to exist: it looks the destination Args[2] up, moves
// one element, unlocks tx and replies the element (or the error).
func listMoveFrom(x *Ctx, tx *cache.Tx, from, to bool, sv *cache.Value, sl *types.List) {
	src, dst := x.Args[1], x.Args[2]
	dv, dl := sv, sl
	if string(src) != string(dst) {
		var done bool
		dv = new(cache.Value)
		if dl, done = listGet(x, tx, dst, false, dv); done {
			return
		}
	}
	elem, err := listMoveElem(x, tx, src, dst, sv, sl, dv, dl, from, to)
	if keyUnlock(x, tx, err) {
		x.Bulk(elem)
	}
}

// listMoveElem pops one element from the head (from) or tail of sl, the
// non-empty list of src, and pushes it at the head (to) or tail of dl,
// the list of dst (nil: dst is created; sl itself when src == dst), and
// records both changes. It returns a copy of the element. tx holds both
// keys and stays held.
func listMoveElem(x *Ctx, tx *cache.Tx, src, dst []byte, sv *cache.Value, sl *types.List, dv *cache.Value, dl *types.List, from, to bool) (elem []byte, err error) {
	same := string(src) == string(dst)
	pop := func(e []byte) { elem = append([]byte(nil), e...) }
	if from {
		sl.PopLeft(1, pop)
	} else {
		sl.PopRight(1, pop)
	}
	if same {
		// Record the pop before the push changes the list again: a fold
		// in AppendOp writes the list as it is.
		// The rotation of a single element records nothing: the pop and
		// the push cancel.
		if sl.Len() == 0 {
			listPushOne(sl, to, elem)
		} else if err = tx.AppendOp(x.C.DB, src, sv, types.AppendOpListPop(nil, from, 1)); err == nil {
			listPushOne(sl, to, elem)
			err = tx.AppendOp(x.C.DB, src, sv, types.AppendOpListPush(nil, to, elem))
		}
		return elem, err
	}
	err = listSave(x, tx, src, sv, false, sl, types.AppendOpListPop(nil, from, 1))
	if err == nil {
		created := dl == nil
		if created {
			dl = &types.List{}
		}
		listPushOne(dl, to, elem)
		var op []byte
		if !created {
			op = types.AppendOpListPush(nil, to, elem)
		}
		err = listSave(x, tx, dst, dv, created, dl, op)
	}
	return elem, err
}

// listPushOne pushes e at the head (left) or tail of l.
func listPushOne(l *types.List, left bool, e []byte) {
	if left {
		l.PushLeft(e)
	} else {
		l.PushRight(e)
	}
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops from the
// first non-empty list and replies [key, [elements]], or a null array.
func cmdLMPop(x *Ctx) {
	keys, left, count, ok := listMPopArgs(x, 1)
	if !ok {
		return
	}
	tx := x.LockKeys(keys)
	for _, key := range keys {
		var v cache.Value
		l, done := listGet(x, &tx, key, false, &v)
		if done {
			return
		}
		if l == nil {
			continue
		}
		listPopReply(x, &tx, key, &v, l, left, count)
		return
	}
	tx.Unlock()
	x.NullArray()
}

// listMPopArgs parses the arguments of LMPOP (numkeys at Args[1]) and
// BLMPOP (at Args[2]) in Redis's order: numkeys, LEFT|RIGHT, COUNT. On
// an error it replies and reports false. keys alias Args.
func listMPopArgs(x *Ctx, numkeysIdx int) (keys [][]byte, left bool, count int, ok bool) {
	args := x.Args
	numkeys, ok := ParseInt(args[numkeysIdx])
	if !ok || numkeys < 1 {
		x.Error(errListNumkeys)
		return nil, false, 0, false
	}
	if numkeys > int64(len(args)-numkeysIdx-2) {
		x.ErrSyntax()
		return nil, false, 0, false
	}
	whereIdx := numkeysIdx + 1 + int(numkeys)
	if left, ok = listWhere(args[whereIdx]); !ok {
		x.ErrSyntax()
		return nil, false, 0, false
	}
	n := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		if n == -1 && keyOptIs(args[j], "COUNT") && j < len(args)-1 {
			j++
			if n, ok = ParseInt(args[j]); !ok || n < 1 {
				x.Error(errListCountPos)
				return nil, false, 0, false
			}
		} else {
			x.ErrSyntax()
			return nil, false, 0, false
		}
	}
	if n == -1 {
		n = 1
	}
	return args[numkeysIdx+1 : whereIdx], left, int(min(n, math.MaxInt)), true
}

// listPopReply pops up to count elements of l, the list of key, unlocks
// tx and replies [key, [elements]] (LMPOP, BLMPOP).
func listPopReply(x *Ctx, tx *cache.Tx, key []byte, v *cache.Value, l *types.List, left bool, count int) {
	body, n, err := listPop(x, tx, key, v, l, left, count)
	if !keyUnlock(x, tx, err) {
		return
	}
	x.Array(2)
	x.Bulk(key)
	x.Array(n)
	x.Out = append(x.Out, body...)
}
