package command

import (
	"math"
	"strconv"

	"github.com/toonstore/toonstore/pkg/glob"
	"github.com/toonstore/toonstore/pkg/protocol"
	"github.com/toonstore/toonstore/pkg/store"
)

// The generic key commands, with Redis 7.0's semantics (db.c, expire.c).
// Multi-key commands lock the shards of all their keys up front, so each
// is atomic; every change goes through Tx.Set/Delete/Expire.

func keyCommands() []*Command {
	cmds := []*Command{
		{Name: "del", Run: cmdDel},
		{Name: "unlink", Run: cmdDel},
		{Name: "exists", Run: cmdExists},
		{Name: "touch", Run: cmdTouch},
		{Name: "type", Run: cmdType},
		{Name: "rename", Run: cmdRename},
		{Name: "renamenx", Run: cmdRenameNX},
		{Name: "keys", Run: cmdKeys},
		{Name: "scan", Run: cmdScan},
		{Name: "randomkey", Run: cmdRandomKey},
		{Name: "expire", Run: cmdExpire},
		{Name: "pexpire", Run: cmdPExpire},
		{Name: "expireat", Run: cmdExpireAt},
		{Name: "pexpireat", Run: cmdPExpireAt},
		{Name: "ttl", Run: cmdTTL},
		{Name: "pttl", Run: cmdPTTL},
		{Name: "expiretime", Run: cmdExpireTime},
		{Name: "pexpiretime", Run: cmdPExpireTime},
		{Name: "persist", Run: cmdPersist},
	}
	return append(cmds, dbCommands()...)
}

// DEL key [key ...] and UNLINK key [key ...]: the number of keys removed.
// UNLINK frees nothing in the background here: removing a key costs one
// tombstone record whatever its size.
func cmdDel(x *Ctx) {
	db := x.C.DB
	tx := x.LockArgs(x.Args, 1, -1, 1)
	n := int64(0)
	for _, key := range x.Args[1:] {
		ok, err := tx.Delete(db, key)
		if err != nil {
			tx.Unlock()
			keyReplyErr(x, err)
			return
		}
		if ok {
			n++
		}
	}
	tx.Unlock()
	x.Int(n)
}

// EXISTS key [key ...]: counts a key as often as it is named.
func cmdExists(x *Ctx) {
	db := x.C.DB
	tx := x.LockArgs(x.Args, 1, -1, 1)
	n := int64(0)
	for _, key := range x.Args[1:] {
		if tx.Exists(db, key) {
			n++
		}
	}
	tx.Unlock()
	keyStats(x, uint64(n), uint64(int64(len(x.Args)-1)-n))
	x.Int(n)
}

// TOUCH key [key ...]: like EXISTS, and it loads each key into the cache,
// which is what "last access" means here.
func cmdTouch(x *Ctx) {
	db := x.C.DB
	tx := x.LockArgs(x.Args, 1, -1, 1)
	n := int64(0)
	for _, key := range x.Args[1:] {
		_, ok, err := tx.Get(db, key)
		if err != nil {
			tx.Unlock()
			keyReplyErr(x, err)
			return
		}
		if ok {
			n++
		}
	}
	tx.Unlock()
	keyStats(x, uint64(n), uint64(int64(len(x.Args)-1)-n))
	x.Int(n)
}

// TYPE key
func cmdType(x *Ctx) {
	key := x.Args[1]
	tx := x.Lock(key)
	kind, _, ok := tx.Meta(x.C.DB, key)
	tx.Unlock()
	keyStat(x, ok)
	if !ok {
		x.Simple("none")
		return
	}
	x.Simple(keyTypeName(kind))
}

// RENAME key newkey
func cmdRename(x *Ctx) { keyRename(x, false) }

// RENAMENX key newkey
func cmdRenameNX(x *Ctx) { keyRename(x, true) }

// keyRename is Redis's renameGenericCommand: the value and its TTL move to
// newkey, replacing it unless nx.
func keyRename(x *Ctx, nx bool) {
	src, dst := x.Args[1], x.Args[2]
	db := x.C.DB
	tx := x.LockArgs(x.Args, 1, 2, 1)
	v, ok, err := tx.Get(db, src)
	if err != nil {
		tx.Unlock()
		keyReplyErr(x, err)
		return
	}
	if !ok {
		tx.Unlock()
		x.Error(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		tx.Unlock()
		if nx {
			x.Int(0)
		} else {
			x.OK()
		}
		return
	}
	if nx && tx.Exists(db, dst) {
		tx.Unlock()
		x.Int(0)
		return
	}
	// v's slices already belong to the cache and are never modified, so
	// the new key may share them.
	if err = tx.Set(db, dst, v); err == nil {
		_, err = tx.Delete(db, src)
	}
	tx.Unlock()
	switch {
	case err != nil:
		keyReplyErr(x, err)
	case nx:
		x.Int(1)
	default:
		x.OK()
	}
}

// KEYS pattern: every live key matching the glob pattern.
func cmdKeys(x *Ctx) {
	pat := x.Args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var body []byte
	n := 0
	x.S.Cache.Range(x.C.DB, func(key []byte, _ store.Kind) bool {
		if all || glob.Match(pat, key, false) {
			body = protocol.AppendBulk(body, key)
			n++
		}
		return true
	})
	x.Array(n)
	x.Out = append(x.Out, body...)
}

// keyParseCursor parses a SCAN cursor as Redis's parseScanCursorOrReply:
// C's strtoul in base 10 on the argument as a C string, so a sign is
// accepted (a '-' wraps), the empty string is 0, and leading space, junk
// or overflow are errors.
func keyParseCursor(b []byte) (uint64, bool) {
	b = keyCString(b)
	if len(b) == 0 {
		return 0, true
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return 0, false
	}
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
func cmdScan(x *Ctx) {
	args := x.Args
	cursor, ok := keyParseCursor(args[1])
	if !ok {
		x.Error("ERR invalid cursor")
		return
	}
	count := int64(10)
	var pat, typ []byte
	usePat, useType := false, false
	for i := 2; i < len(args); {
		left := len(args) - i
		switch {
		case keyOptIs(args[i], "COUNT") && left >= 2:
			if count, ok = ParseInt(args[i+1]); !ok {
				x.ErrNotInteger()
				return
			}
			if count < 1 {
				x.ErrSyntax()
				return
			}
		case keyOptIs(args[i], "MATCH") && left >= 2:
			pat = args[i+1]
			usePat = !(len(pat) == 1 && pat[0] == '*')
		case keyOptIs(args[i], "TYPE") && left >= 2:
			typ = keyCString(args[i+1])
			useType = true
		default:
			x.ErrSyntax()
			return
		}
		i += 2
	}
	if count > math.MaxInt32 {
		count = math.MaxInt32
	}
	var body []byte
	n := 0
	typeChecks := uint64(0) // Redis looks each key up to check its type: a keyspace hit
	next := x.S.Cache.Scan(x.C.DB, cursor, int(count), func(key []byte, kind store.Kind) {
		if usePat && !glob.Match(pat, key, false) {
			return
		}
		if useType {
			typeChecks++
			if !keyFoldEq(typ, keyTypeName(kind)) { // typ is already a C string
				return
			}
		}
		body = protocol.AppendBulk(body, key)
		n++
	})
	keyStats(x, typeChecks, 0)
	x.Array(2)
	var tmp [20]byte
	x.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	x.Array(n)
	x.Out = append(x.Out, body...)
}

// RANDOMKEY
func cmdRandomKey(x *Ctx) {
	key, ok := x.S.Cache.RandomKey(x.C.DB)
	if !ok {
		x.Null()
		return
	}
	x.Bulk(key)
}

// Flags of the EXPIRE options (Redis's EXPIRE_NX ...).
const (
	keyExpNX = 1 << iota
	keyExpXX
	keyExpGT
	keyExpLT
)

// keyParseExpireOpts is Redis's parseExtendedExpireArgumentsOrReply.
func keyParseExpireOpts(x *Ctx) (int, bool) {
	flags := 0
	for _, opt := range x.Args[3:] {
		switch {
		case keyOptIs(opt, "NX"):
			flags |= keyExpNX
		case keyOptIs(opt, "XX"):
			flags |= keyExpXX
		case keyOptIs(opt, "GT"):
			flags |= keyExpGT
		case keyOptIs(opt, "LT"):
			flags |= keyExpLT
		default:
			x.Error("ERR Unsupported option " + string(keyCString(opt)))
			return 0, false
		}
	}
	if flags&keyExpNX != 0 && flags&(keyExpXX|keyExpGT|keyExpLT) != 0 {
		x.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return 0, false
	}
	if flags&keyExpGT != 0 && flags&keyExpLT != 0 {
		x.Error("ERR GT and LT options at the same time are not compatible")
		return 0, false
	}
	return flags, true
}

// EXPIRE key seconds [NX|XX|GT|LT]
func cmdExpire(x *Ctx) { keyExpire(x, x.S.Cache.Now(), true) }

// PEXPIRE key milliseconds [NX|XX|GT|LT]
func cmdPExpire(x *Ctx) { keyExpire(x, x.S.Cache.Now(), false) }

// EXPIREAT key unix-seconds [NX|XX|GT|LT]
func cmdExpireAt(x *Ctx) { keyExpire(x, 0, true) }

// PEXPIREAT key unix-ms [NX|XX|GT|LT]
func cmdPExpireAt(x *Ctx) { keyExpire(x, 0, false) }

// keyExpire is Redis's expireGenericCommand: options, then the number,
// then overflow, then the key. An expiry at or before now deletes the key
// (and still replies 1).
func keyExpire(x *Ctx, base int64, seconds bool) {
	flags, ok := keyParseExpireOpts(x)
	if !ok {
		return
	}
	when, ok := ParseInt(x.Args[2])
	if !ok {
		x.ErrNotInteger()
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			keyErrInvalidExpire(x)
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		keyErrInvalidExpire(x)
		return
	}
	when += base

	key := x.Args[1]
	db := x.C.DB
	tx := x.Lock(key)
	_, cur, found := tx.Meta(db, key)
	if !found {
		tx.Unlock()
		x.Int(0)
		return
	}
	if flags != 0 {
		has := cur != 0
		if (flags&keyExpNX != 0 && has) ||
			(flags&keyExpXX != 0 && !has) ||
			(flags&keyExpGT != 0 && (!has || when <= cur)) ||
			(flags&keyExpLT != 0 && has && when >= cur) {
			tx.Unlock()
			x.Int(0)
			return
		}
	}
	var err error
	if when <= x.S.Cache.Now() {
		_, err = tx.Delete(db, key)
	} else {
		_, err = tx.Expire(db, key, when)
	}
	if keyUnlock(x, &tx, err) {
		x.Int(1)
	}
}

// TTL key
func cmdTTL(x *Ctx) { keyTTL(x, false, false) }

// PTTL key
func cmdPTTL(x *Ctx) { keyTTL(x, true, false) }

// EXPIRETIME key
func cmdExpireTime(x *Ctx) { keyTTL(x, false, true) }

// PEXPIRETIME key
func cmdPExpireTime(x *Ctx) { keyTTL(x, true, true) }

// keyTTL is Redis's ttlGenericCommand: -2 for no key, -1 for no expiry,
// else the remaining (or, abs, absolute) time, in seconds rounded to
// nearest unless ms.
func keyTTL(x *Ctx, ms, abs bool) {
	key := x.Args[1]
	tx := x.Lock(key)
	_, at, ok := tx.Meta(x.C.DB, key)
	tx.Unlock()
	keyStat(x, ok)
	switch {
	case !ok:
		x.Int(-2)
		return
	case at == 0:
		x.Int(-1)
		return
	}
	ttl := at
	if !abs {
		ttl -= x.S.Cache.Now()
	}
	if ttl < 0 {
		ttl = 0
	}
	if !ms {
		// Unsigned, as the compiler evaluates Redis's (ttl+500)/1000 once
		// ttl is known non-negative: EXPIRETIME of PXAT LLONG_MAX is
		// 9223372036854776, not an overflow.
		ttl = int64((uint64(ttl) + 500) / 1000)
	}
	x.Int(ttl)
}

// PERSIST key: 1 if a TTL was removed.
func cmdPersist(x *Ctx) {
	key := x.Args[1]
	db := x.C.DB
	tx := x.Lock(key)
	_, at, ok := tx.Meta(db, key)
	if !ok || at == 0 {
		tx.Unlock()
		x.Int(0)
		return
	}
	_, err := tx.Expire(db, key, 0)
	if keyUnlock(x, &tx, err) {
		x.Int(1)
	}
}
