package command

import (
	"math"
	"math/big"
	"strconv"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// The string commands, with Redis 7.0's semantics (t_string.c): argument
// validation happens in Redis's order, so that a command with several
// faults reports the same one; replies and error texts are Redis's.
//
// Every command locks the shards of all its keys first (Cache.Lock or
// LockArgs), so it is atomic against other connections, and writes through
// Tx.Set/Delete/Expire, so it is persistent. Values handed to Tx.Set are
// always fresh slices: a Value's bytes are never modified after Set.
//
// GET, SET, INCR and MGET are the hot path: they do not defer, and unlock
// before replying; a Value returned by Tx.Get stays valid after Unlock.

func stringCommands() []*Command {
	return []*Command{
		{Name: "get", Run: cmdGet},
		{Name: "set", Run: cmdSet},
		{Name: "setnx", Run: cmdSetNX},
		{Name: "setex", Run: cmdSetEX},
		{Name: "psetex", Run: cmdPSetEX},
		{Name: "getset", Run: cmdGetSet},
		{Name: "getdel", Run: cmdGetDel},
		{Name: "getex", Run: cmdGetEX},
		{Name: "mget", Run: cmdMGet},
		{Name: "mset", Run: cmdMSet},
		{Name: "msetnx", Run: cmdMSetNX},
		{Name: "append", Run: cmdAppend},
		{Name: "strlen", Run: cmdStrlen},
		{Name: "getrange", Run: cmdGetRange},
		{Name: "substr", Run: cmdGetRange},
		{Name: "setrange", Run: cmdSetRange},
		{Name: "incr", Run: cmdIncr},
		{Name: "decr", Run: cmdDecr},
		{Name: "incrby", Run: cmdIncrBy},
		{Name: "decrby", Run: cmdDecrBy},
		{Name: "incrbyfloat", Run: cmdIncrByFloat},
	}
}

// Flags of SET and GETEX options (Redis's OBJ_SET_* and OBJ_* flags).
const (
	strNX = 1 << iota
	strXX
	strEX
	strPX
	strKeepTTL
	strGet
	strEXAT
	strPXAT
	strPersist
)

// strExpireFlags are the options that carry an expiry argument.
const strExpireFlags = strEX | strPX | strEXAT | strPXAT

// strParseExtended is Redis's parseExtendedStringArgumentsOrReply for SET
// (isSet) or GETEX: it returns the option flags and the expiry argument
// (nil if none), or replies a syntax error and reports false. A later
// option of the same kind overrides an earlier one (SET k v EX 1 EX 2), a
// conflicting one is a syntax error, as in Redis.
func strParseExtended(x *Ctx, isSet bool) (flags int, expire []byte, ok bool) {
	j := 2
	if isSet {
		j = 3
	}
	args := x.Args
	for ; j < len(args); j++ {
		opt := args[j]
		next := j < len(args)-1
		switch {
		case isSet && keyOptIs(opt, "NX") && flags&strXX == 0:
			flags |= strNX
		case isSet && keyOptIs(opt, "XX") && flags&strNX == 0:
			flags |= strXX
		case isSet && keyOptIs(opt, "GET"):
			flags |= strGet
		case isSet && keyOptIs(opt, "KEEPTTL") && flags&(strPersist|strExpireFlags) == 0:
			flags |= strKeepTTL
		case !isSet && keyOptIs(opt, "PERSIST") && flags&(strExpireFlags|strKeepTTL) == 0:
			flags |= strPersist
		case keyOptIs(opt, "EX") && flags&(strKeepTTL|strPersist|strEXAT|strPX|strPXAT) == 0 && next:
			flags |= strEX
			expire = args[j+1]
			j++
		case keyOptIs(opt, "PX") && flags&(strKeepTTL|strPersist|strEX|strEXAT|strPXAT) == 0 && next:
			flags |= strPX
			expire = args[j+1]
			j++
		case keyOptIs(opt, "EXAT") && flags&(strKeepTTL|strPersist|strEX|strPX|strPXAT) == 0 && next:
			flags |= strEXAT
			expire = args[j+1]
			j++
		case keyOptIs(opt, "PXAT") && flags&(strKeepTTL|strPersist|strEX|strEXAT|strPX) == 0 && next:
			flags |= strPXAT
			expire = args[j+1]
			j++
		default:
			x.ErrSyntax()
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// strExpireAt is Redis's getExpireMillisecondsOrReply: it turns the expiry
// argument of an EX/PX/EXAT/PXAT option (flags says which) into absolute
// Unix ms, or replies the error and reports false. Non-positive values,
// and values whose conversion or addition overflows, are "invalid expire
// time" errors.
func strExpireAt(x *Ctx, arg []byte, flags int) (int64, bool) {
	ms, ok := ParseInt(arg)
	if !ok {
		x.ErrNotInteger()
		return 0, false
	}
	seconds := flags&(strEX|strEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		keyErrInvalidExpire(x)
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(strEX|strPX) != 0 {
		ms += x.S.Cache.Now() // wraps on overflow, caught below as in Redis
	}
	if ms <= 0 {
		keyErrInvalidExpire(x)
		return 0, false
	}
	return ms, true
}

// strCopy returns a fresh copy of b for Tx.Set (b aliases the input buffer).
func strCopy(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// GET key
func cmdGet(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	ok, err := tx.ViewTo(x.C.DB, key, &v)
	if err == nil && ok && v.Kind == store.KindString {
		x.Bulk(v.Str) // before Unlock: v.Str may alias the store's mapping
		tx.Unlock()
		keyStat(x, true)
		return
	}
	tx.Unlock()
	if err == nil {
		keyStat(x, ok)
	}
	switch {
	case err != nil:
		keyReplyErr(x, err)
	case !ok:
		x.Null()
	default:
		x.ErrWrongType()
	}
}

// Reply kinds of strSetGeneric.
const (
	strReplyOK  = iota // +OK when set, null when NX/XX prevent it (SET)
	strReplyInt        // :1 when set, :0 when not (SETNX)
)

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
func cmdSet(x *Ctx) {
	if len(x.Args) == 3 { // the common case: no options, no lookup
		key := x.Args[1]
		tx := x.Lock(key)
		err := tx.SetCopy(x.C.DB, key, cache.Value{Kind: store.KindString, Str: x.Args[2]})
		tx.Unlock()
		if err != nil {
			keyReplyErr(x, err)
			return
		}
		x.OK()
		return
	}
	flags, expire, ok := strParseExtended(x, true)
	if !ok {
		return
	}
	strSetGeneric(x, flags, x.Args[1], x.Args[2], expire, strReplyOK)
}

// SETNX key value
func cmdSetNX(x *Ctx) { strSetGeneric(x, strNX, x.Args[1], x.Args[2], nil, strReplyInt) }

// SETEX key seconds value
func cmdSetEX(x *Ctx) { strSetGeneric(x, strEX, x.Args[1], x.Args[3], x.Args[2], strReplyOK) }

// PSETEX key milliseconds value
func cmdPSetEX(x *Ctx) { strSetGeneric(x, strPX, x.Args[1], x.Args[3], x.Args[2], strReplyOK) }

// strSetGeneric is Redis's setGenericCommand: validate the expiry, then
// (GET) read the old value, then apply NX/XX, then write; KEEPTTL keeps the
// old expiry, anything else replaces it. An absolute expiry already in the
// past leaves the key absent, as it would be in Redis the moment after.
func strSetGeneric(x *Ctx, flags int, key, val, expire []byte, replyKind int) {
	var at int64
	if expire != nil {
		var ok bool
		if at, ok = strExpireAt(x, expire, flags); !ok {
			return
		}
	}
	db := x.C.DB
	tx := x.Lock(key)
	var old cache.Value
	found := false
	if flags&strGet != 0 {
		var done bool
		if found, done = strGetString(x, &tx, key, true, &old); done {
			return
		}
	} else if flags&(strNX|strXX|strKeepTTL) != 0 {
		_, exp, ok := tx.Meta(db, key)
		old.ExpireAt, found = exp, ok
	}
	if (flags&strNX != 0 && found) || (flags&strXX != 0 && !found) {
		tx.Unlock()
		switch {
		case flags&strGet != 0:
			strReplyOld(x, old, found)
		case replyKind == strReplyInt:
			x.Int(0)
		default:
			x.Null()
		}
		return
	}
	if flags&strKeepTTL != 0 && found {
		at = old.ExpireAt
	}
	var err error
	if at != 0 && at <= x.S.Cache.Now() {
		_, err = tx.Delete(db, key)
	} else {
		err = tx.SetCopy(db, key, cache.Value{Kind: store.KindString, Str: val, ExpireAt: at})
	}
	tx.Unlock()
	switch {
	case err != nil:
		keyReplyErr(x, err)
	case flags&strGet != 0:
		strReplyOld(x, old, found)
	case replyKind == strReplyInt:
		x.Int(1)
	default:
		x.OK()
	}
}

// strReplyOld replies the previous value of SET ... GET.
func strReplyOld(x *Ctx, old cache.Value, found bool) {
	if found {
		x.Bulk(old.Str)
	} else {
		x.Null()
	}
}

// strGetString reads key as a string under tx: it replies an error and
// reports done when the read failed or the key holds another type (tx is
// then unlocked). read says the command reads the key, as Redis's
// lookupKeyRead, which counts keyspace hits and misses; write lookups do
// not.
func strGetString(x *Ctx, tx *cache.Tx, key []byte, read bool, v *cache.Value) (found, done bool) {
	return strLookup(x, tx, key, read, false, v)
}

// strViewString is strGetString for a caller done with v.Str before it
// unlocks tx (cache.Tx.View: no copy, no LRU insertion).
func strViewString(x *Ctx, tx *cache.Tx, key []byte, read bool, v *cache.Value) (found, done bool) {
	return strLookup(x, tx, key, read, true, v)
}

// strLookup is strGetString (view false) and strViewString (view true),
// writing the value to *v.
func strLookup(x *Ctx, tx *cache.Tx, key []byte, read, view bool, v *cache.Value) (found, done bool) {
	var err error
	if view {
		found, err = tx.ViewTo(x.C.DB, key, v)
	} else {
		found, err = tx.GetTo(x.C.DB, key, v)
	}
	if err != nil {
		tx.Unlock()
		keyReplyErr(x, err)
		return false, true
	}
	if read {
		keyStat(x, found)
	}
	if found && v.Kind != store.KindString {
		tx.Unlock()
		x.ErrWrongType()
		return false, true
	}
	return found, false
}

// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
func cmdGetEX(x *Ctx) {
	flags, expire, ok := strParseExtended(x, false)
	if !ok {
		return
	}
	key := x.Args[1]
	db := x.C.DB
	tx := x.Lock(key)
	var v cache.Value
	found, done := strGetString(x, &tx, key, true, &v)
	if done {
		return
	}
	if !found {
		tx.Unlock()
		x.Null()
		return
	}
	var at int64
	if expire != nil {
		if at, ok = strExpireAt(x, expire, flags); !ok {
			tx.Unlock()
			return
		}
	}
	var err error
	switch {
	case flags&(strEXAT|strPXAT) != 0 && at <= x.S.Cache.Now():
		_, err = tx.Delete(db, key)
	case expire != nil:
		_, err = tx.Expire(db, key, at)
	case flags&strPersist != 0 && v.ExpireAt != 0:
		_, err = tx.Expire(db, key, 0)
	}
	if keyUnlock(x, &tx, err) {
		x.Bulk(v.Str)
	}
}

// GETDEL key
func cmdGetDel(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	found, done := strGetString(x, &tx, key, true, &v)
	if done {
		return
	}
	if !found {
		tx.Unlock()
		x.Null()
		return
	}
	_, err := tx.Delete(x.C.DB, key)
	if keyUnlock(x, &tx, err) {
		x.Bulk(v.Str)
	}
}

// GETSET key value: SET that replies the old value and drops the TTL.
func cmdGetSet(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	found, done := strGetString(x, &tx, key, true, &v)
	if done {
		return
	}
	err := tx.SetCopy(x.C.DB, key, cache.Value{Kind: store.KindString, Str: x.Args[2]})
	if keyUnlock(x, &tx, err) {
		strReplyOld(x, v, found)
	}
}

// MGET key [key ...]: keys that are absent or not strings are nulls.
func cmdMGet(x *Ctx) {
	args := x.Args
	db := x.C.DB
	start := len(x.Out)
	tx := x.LockArgs(args, 1, -1, 1)
	x.Array(len(args) - 1)
	hits := uint64(0)
	var v cache.Value
	for _, key := range args[1:] {
		ok, err := tx.ViewTo(db, key, &v) // replied before Unlock
		if err != nil {
			tx.Unlock()
			x.Out = x.Out[:start]
			keyReplyErr(x, err)
			return
		}
		if ok {
			hits++
		}
		if !ok || v.Kind != store.KindString {
			x.Null()
			continue
		}
		x.Bulk(v.Str)
	}
	tx.Unlock()
	keyStats(x, hits, uint64(len(args)-1)-hits)
}

// MSET key value [key value ...]
func cmdMSet(x *Ctx) { strMSet(x, false) }

// MSETNX key value [key value ...]: sets all or none.
func cmdMSetNX(x *Ctx) { strMSet(x, true) }

func strMSet(x *Ctx, nx bool) {
	args := x.Args
	if len(args)%2 == 0 {
		x.ErrArity()
		return
	}
	db := x.C.DB
	tx := x.LockArgs(args, 1, -1, 2)
	if nx {
		for j := 1; j < len(args); j += 2 {
			if tx.Exists(db, args[j]) {
				tx.Unlock()
				x.Int(0)
				return
			}
		}
	}
	for j := 1; j < len(args); j += 2 {
		err := tx.SetCopy(db, args[j], cache.Value{Kind: store.KindString, Str: args[j+1]})
		if err != nil {
			tx.Unlock()
			keyReplyErr(x, err)
			return
		}
	}
	tx.Unlock()
	if nx {
		x.Int(1)
	} else {
		x.OK()
	}
}

// APPEND key value: keeps the TTL.
func cmdAppend(x *Ctx) {
	key, add := x.Args[1], x.Args[2]
	tx := x.Lock(key)
	var v cache.Value
	found, done := strGetString(x, &tx, key, false, &v)
	if done {
		return
	}
	var nv cache.Value
	if !found {
		nv = cache.Value{Kind: store.KindString, Str: strCopy(add)}
	} else {
		total := int64(len(v.Str)) + int64(len(add))
		if total > keyMaxBulkLen(x) {
			tx.Unlock()
			x.Error(errStringTooLong)
			return
		}
		b := make([]byte, 0, total)
		b = append(append(b, v.Str...), add...)
		nv = cache.Value{Kind: store.KindString, Str: b, ExpireAt: v.ExpireAt, Hint: hintRaw}
	}
	err := tx.Set(x.C.DB, key, nv)
	if keyUnlock(x, &tx, err) {
		x.Int(int64(len(nv.Str)))
	}
}

// STRLEN key
func cmdStrlen(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	_, done := strViewString(x, &tx, key, true, &v)
	if done {
		return
	}
	n := len(v.Str)
	tx.Unlock()
	x.Int(int64(n))
}

// GETRANGE key start end (and SUBSTR, its old name).
func cmdGetRange(x *Ctx) {
	start, ok := ParseInt(x.Args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	end, ok := ParseInt(x.Args[3])
	if !ok {
		x.ErrNotInteger()
		return
	}
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	_, done := strGetString(x, &tx, key, true, &v)
	if done {
		return
	}
	tx.Unlock()
	s := v.Str
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		x.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		x.Bulk(nil)
		return
	}
	x.Bulk(s[start : end+1])
}

// SETRANGE key offset value: zero-pads, keeps the TTL.
func cmdSetRange(x *Ctx) {
	offset, ok := ParseInt(x.Args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	if offset < 0 {
		x.Error("ERR offset is out of range")
		return
	}
	key, val := x.Args[1], x.Args[3]
	tx := x.Lock(key)
	var v cache.Value
	found, done := strGetString(x, &tx, key, false, &v)
	if done {
		return
	}
	if len(val) == 0 { // nothing to write: report the current length
		tx.Unlock()
		x.Int(int64(len(v.Str)))
		return
	}
	if offset > keyMaxBulkLen(x)-int64(len(val)) {
		tx.Unlock()
		x.Error(errStringTooLong)
		return
	}
	size := max(int64(len(v.Str)), offset+int64(len(val)))
	b := make([]byte, size)
	copy(b, v.Str)
	copy(b[offset:], val)
	nv := cache.Value{Kind: store.KindString, Str: b, Hint: hintRaw}
	if found {
		nv.ExpireAt = v.ExpireAt
	}
	err := tx.Set(x.C.DB, key, nv)
	if keyUnlock(x, &tx, err) {
		x.Int(size)
	}
}

// INCR key
func cmdIncr(x *Ctx) { strIncrBy(x, 1) }

// DECR key
func cmdDecr(x *Ctx) { strIncrBy(x, -1) }

// INCRBY key increment
func cmdIncrBy(x *Ctx) {
	n, ok := ParseInt(x.Args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	strIncrBy(x, n)
}

// DECRBY key decrement
func cmdDecrBy(x *Ctx) {
	n, ok := ParseInt(x.Args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	if n == math.MinInt64 {
		x.Error("ERR decrement would overflow")
		return
	}
	strIncrBy(x, -n)
}

// strIncrBy is Redis's incrDecrCommand: the value must be a string holding
// a 64-bit integer (string2ll rules); the TTL is kept.
func strIncrBy(x *Ctx, incr int64) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	found, done := strViewString(x, &tx, key, false, &v) // parsed before Unlock
	if done {
		return
	}
	var old int64
	if found {
		var ok bool
		if old, ok = ParseInt(v.Str); !ok {
			tx.Unlock()
			x.ErrNotInteger()
			return
		}
	}
	if (incr < 0 && old < 0 && incr < math.MinInt64-old) ||
		(incr > 0 && old > 0 && incr > math.MaxInt64-old) {
		tx.Unlock()
		x.Error(ErrOverflow)
		return
	}
	n := old + incr
	// The digits go to the client's scratch; SetCopy copies them only if
	// the cache keeps the key.
	str := strconv.AppendInt(x.C.num[:0], n, 10)
	err := tx.SetCopy(x.C.DB, key, cache.Value{Kind: store.KindString, Str: str, ExpireAt: v.ExpireAt})
	if keyUnlock(x, &tx, err) {
		x.Int(n)
	}
}

// INCRBYFLOAT key increment: long double arithmetic (see str_float.go);
// the TTL is kept.
func cmdIncrByFloat(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	var v cache.Value
	found, done := strGetString(x, &tx, key, false, &v)
	if done {
		return
	}
	old := newLongDouble()
	oldInf := false
	if found {
		var ok bool
		if old, oldInf, ok = strParseLongDouble(v.Str); !ok {
			tx.Unlock()
			x.Error(ErrNotFloat)
			return
		}
	}
	incr, incrInf, ok := strParseLongDouble(x.Args[2])
	if !ok {
		tx.Unlock()
		x.Error(ErrNotFloat)
		return
	}
	var sum *big.Float
	if !oldInf && !incrInf {
		sum, ok = strAddLongDouble(old, incr)
	}
	if oldInf || incrInf || !ok {
		tx.Unlock()
		x.Error("ERR increment would produce NaN or Infinity")
		return
	}
	str := strFormatLongDouble(nil, sum)
	err := tx.Set(x.C.DB, key, cache.Value{Kind: store.KindString, Str: str, ExpireAt: v.ExpireAt, Hint: hintNoInt})
	if keyUnlock(x, &tx, err) {
		x.Bulk(str)
	}
}
