package command

import (
	"math"
	"math/big"
	"time"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/protocol"
	"github.com/toonstore/toonstore/pkg/store"
)

// The blocking commands (Redis 7.0's t_list.c and t_zset.c) and CLIENT
// UNBLOCK. Each validates its arguments in Redis's order, then, holding
// the shards of its keys, either serves at once from the first key that
// has data (exactly as its non-blocking counterpart), replies WRONGTYPE
// for a key of another type met first, or blocks (blocking.go). Inside
// EXEC it never blocks: it replies as on a timeout, except BLMOVE and
// BRPOPLPUSH, which reply a null bulk there (and a null array on a real
// timeout), as Redis does.

func blockingCommands() []*Command {
	return []*Command{
		{Name: "blpop", Run: cmdBLPop},
		{Name: "brpop", Run: cmdBRPop},
		{Name: "blmove", Run: cmdBLMove},
		{Name: "brpoplpush", Run: cmdBRPopLPush},
		{Name: "blmpop", Run: cmdBLMPop},
		{Name: "bzpopmin", Run: cmdBZPopMin},
		{Name: "bzpopmax", Run: cmdBZPopMax},
		{Name: "bzmpop", Run: cmdBZMPop},
	}
}

// Redis's timeout errors (timeout.c).
const (
	errTimeoutFloat = "ERR timeout is not a float or out of range"
	errTimeoutNeg   = "ERR timeout is negative"
	errUnblockWhy   = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
	replyUnblocked  = "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
)

// blockTimeoutMs converts a timeout in seconds to milliseconds as Redis
// 7.0.15's getTimeoutFromObjectOrReply does on x86-64: the argument is
// parsed as a long double (string2ld: decimal or hexadecimal, "inf"), the
// product by 1000 (rounded as x87 rounds) goes through ceill and converts
// to long long, and an out-of-range value converts to LLONG_MIN (the x87
// "integer indefinite"), which then fails as negative. So "0.0001" is
// 1 ms, "-0.0001" is 0 (block forever), and "inf" or 1e16 are "timeout
// is negative". msg is the error, if any.
func blockTimeoutMs(b []byte) (ms int64, msg string) {
	if n, ok := ParseInt(b); ok {
		ms = math.MinInt64
		if n <= math.MaxInt64/1000 && n >= math.MinInt64/1000 {
			ms = n * 1000 // exact in a long double too: |n*1000| < 2^63
		}
	} else {
		f, inf, ok := strParseLongDouble(b)
		if !ok {
			return 0, errTimeoutFloat
		}
		ms = math.MinInt64
		if !inf {
			p := newLongDouble().Mul(f, newLongDouble().SetInt64(1000))
			// Int64 truncates toward zero: Below means a positive
			// fraction was cut, which ceill rounds up. Beyond int64 the
			// conversion gives LLONG_MIN.
			switch i, acc := p.Int64(); {
			case i == math.MaxInt64 && acc != big.Exact:
			case acc == big.Below:
				ms = i + 1
			default:
				ms = i
			}
		}
	}
	if ms < 0 {
		return 0, errTimeoutNeg
	}
	return ms, ""
}

// blockTimeout parses a timeout argument into Redis's deadline: Unix ms,
// 0 for none. As in Redis the addition may overflow, giving a negative
// deadline that never fires. On an error it replies and reports false.
func blockTimeout(x *Ctx, b []byte) (deadline int64, ok bool) {
	ms, msg := blockTimeoutMs(b)
	if msg != "" {
		x.Error(msg)
		return 0, false
	}
	if ms > 0 {
		ms += time.Now().UnixMilli() // wraps on overflow, as C on x86-64
	}
	return ms, true
}

// BLPOP key [key ...] timeout
func cmdBLPop(x *Ctx) {
	n := len(x.Args)
	blockingListPop(x, x.Args[1:n-1], x.Args[n-1], true, false, 1)
}

// BRPOP key [key ...] timeout
func cmdBRPop(x *Ctx) {
	n := len(x.Args)
	blockingListPop(x, x.Args[1:n-1], x.Args[n-1], false, false, 1)
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the
// arguments after the timeout are checked first, as in Redis.
func cmdBLMPop(x *Ctx) {
	keys, left, count, ok := listMPopArgs(x, 2)
	if !ok {
		return
	}
	blockingListPop(x, keys, x.Args[1], left, true, count)
}

// blockingListPop is Redis's blockingPopGenericCommand: pop from the
// first non-empty list of keys, or block. mpop selects BLMPOP's reply
// ([key, [elements]], up to count) over BLPOP's ([key, element]).
func blockingListPop(x *Ctx, keys [][]byte, timeout []byte, left, mpop bool, count int) {
	deadline, ok := blockTimeout(x, timeout)
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
		if mpop {
			listPopReply(x, &tx, key, &v, l, left, count)
			return
		}
		body, _, err := listPop(x, &tx, key, &v, l, left, 1)
		if !keyUnlock(x, &tx, err) {
			return
		}
		x.Array(2)
		x.Bulk(key)
		x.Out = append(x.Out, body...)
		return
	}
	if x.mustNotBlock() {
		tx.Unlock()
		x.NullArray()
		return
	}
	op := blockPop
	if mpop {
		op = blockMPop
	}
	x.block(&waiter{kind: store.KindList, op: op, left: left, count: count, deadline: deadline}, keys)
	tx.Unlock()
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
func cmdBLMove(x *Ctx) {
	from, ok := listWhere(x.Args[3])
	if !ok {
		x.ErrSyntax()
		return
	}
	to, ok := listWhere(x.Args[4])
	if !ok {
		x.ErrSyntax()
		return
	}
	blockingListMove(x, from, to, x.Args[5])
}

// BRPOPLPUSH source destination timeout: BLMOVE ... RIGHT LEFT.
func cmdBRPopLPush(x *Ctx) { blockingListMove(x, false, true, x.Args[3]) }

// blockingListMove is Redis's blmoveGenericCommand: LMOVE if the source
// list exists, else block on the source alone. The destination's type is
// checked when the move happens.
func blockingListMove(x *Ctx, from, to bool, timeout []byte) {
	deadline, ok := blockTimeout(x, timeout)
	if !ok {
		return
	}
	tx := x.LockKeys(x.Args[1:3])
	var sv cache.Value
	sl, done := listGet(x, &tx, x.Args[1], false, &sv)
	if done {
		return
	}
	if sl != nil {
		listMoveFrom(x, &tx, from, to, &sv, sl)
		return
	}
	if x.mustNotBlock() {
		tx.Unlock()
		x.Null()
		return
	}
	dst := append([]byte(nil), x.Args[2]...)
	x.block(&waiter{kind: store.KindList, op: blockMove, left: from, to: to, dst: dst, count: 1, deadline: deadline}, x.Args[1:2])
	tx.Unlock()
}

// BZPOPMIN key [key ...] timeout
func cmdBZPopMin(x *Ctx) {
	n := len(x.Args)
	blockingZPop(x, x.Args[1:n-1], x.Args[n-1], false, false, 1)
}

// BZPOPMAX key [key ...] timeout
func cmdBZPopMax(x *Ctx) {
	n := len(x.Args)
	blockingZPop(x, x.Args[1:n-1], x.Args[n-1], true, false, 1)
}

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
func cmdBZMPop(x *Ctx) {
	keys, max, count, ok := zsetMPopArgs(x, 2)
	if !ok {
		return
	}
	blockingZPop(x, keys, x.Args[1], max, true, count)
}

// blockingZPop is Redis's blockingGenericZpopCommand: pop from the first
// non-empty zset of keys, or block. BZPOPMIN/MAX reply [key, member,
// score]; BZMPOP (mpop) [key, [[member, score], ...]].
func blockingZPop(x *Ctx, keys [][]byte, timeout []byte, max, mpop bool, count int) {
	deadline, ok := blockTimeout(x, timeout)
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
		if mpop {
			zsetMPopReply(x, &tx, key, &v, z, count, max)
			return
		}
		members, scores, op := zsetPop(z, 1, max)
		if !zsetSaveOp(x, &tx, key, &v, z, op) {
			return
		}
		x.Array(1 + 2*len(members))
		x.Bulk(key)
		for i, m := range members {
			zsetAppendPair(x, false, m, scores[i])
		}
		return
	}
	if x.mustNotBlock() {
		tx.Unlock()
		x.NullArray()
		return
	}
	op := blockZPop
	if mpop {
		op = blockZMPop
	}
	x.block(&waiter{kind: store.KindZSet, op: op, left: !max, count: count, deadline: deadline}, keys)
	tx.Unlock()
}

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: ends the wait of a blocked
// client as a timeout would (null array) or with an -UNBLOCKED error;
// replies 1 if the client was blocked, else 0. The reason is checked
// before the id, as in Redis.
func clientUnblock(x *Ctx) {
	args := x.Args
	if len(args) > 4 {
		x.Error("ERR unknown subcommand or wrong number of arguments for '" + cstr(args[1], 128) + "'. Try CLIENT HELP.")
		return
	}
	var reply []byte // nil: the timeout reply
	if len(args) == 4 {
		switch {
		case optIs(args[3], "timeout"):
		case optIs(args[3], "error"):
			reply = []byte(replyUnblocked)
		default:
			x.Error(errUnblockWhy)
			return
		}
	}
	id, ok := ParseInt(args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	if c := x.S.blockedClient(id); c != nil && x.S.unblockClient(c, reply) {
		x.Int(1)
		return
	}
	x.Int(0)
}

// blockedClient returns the blocked client with the given id, or nil.
func (s *Server) blockedClient(id int64) *Client {
	b := &s.blk
	if b.waiting.Load() == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.byClient {
		if int64(c.ID) == id {
			return c
		}
	}
	return nil
}

// appendTimeoutReply is the reply of a blocked command whose timeout
// passed (or CLIENT UNBLOCK ... TIMEOUT): a null array, for every
// blocking command.
func appendTimeoutReply(dst []byte, proto int) []byte {
	return protocol.AppendNullArray(dst, proto)
}
