package command

import (
	"strconv"
	"strings"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// OBJECT ENCODING, REFCOUNT, IDLETIME, FREQ and HELP with Redis 7.0's
// replies (object.c).
//
// ToonStore keeps one representation per type, so ENCODING reports the
// encoding Redis 7.0 would use for the value as it is now, under the
// current configuration (CONFIG SET changes it at once):
//
//   - strings: "int" for the canonical decimal form of an int64, "embstr"
//     up to 44 bytes, "raw" beyond, and "raw" for a string grown in place
//     by APPEND or SETRANGE (and not "int" for an INCRBYFLOAT result), as
//     Redis, while the value stays cached (cache.Value.Hint);
//   - lists: "quicklist" (Redis 7.0 has no other list encoding);
//   - hashes: "listpack" up to hash-max-listpack-entries fields with no
//     field or value longer than hash-max-listpack-value, else "hashtable";
//   - sets: "intset" up to set-max-intset-entries members that are all
//     integers, else "hashtable";
//   - sorted sets: "listpack" up to zset-max-listpack-entries members none
//     longer than zset-max-listpack-value, else "skiplist".
//
// Deviations: Redis never converts a hashtable, skiplist or hashtable set
// back when the value shrinks (until a restart reloads it); ToonStore
// reports the small encoding again, except for a sorted set that ZADD or
// ZINCRBY found or took over the limits while it stayed in the cache
// (types.ZSet.Enc: it also keeps the -0 scores given to it afterwards, as
// Redis's skip list does). A string's "raw" hint is lost when the
// value leaves the cache (eviction, restart, or a SETRANGE/INCRBYFLOAT that
// creates the key), as Redis loses it on restart. IDLETIME is always 0 and
// FREQ 0: no per-key access clock is kept.

func objectCommand() *Command {
	return &Command{Name: "object", Subcommands: map[string]*Command{
		"encoding": {Run: objectEncoding},
		"refcount": {Run: objectRefCount},
		"idletime": {Run: objectIdleTime},
		"freq":     {Run: objectFreq},
		"help":     {Run: objectHelp},
	}}
}

// String hints (cache.Value.Hint), set by the commands that make them.
const (
	hintRaw   = 1 // built in place (APPEND, SETRANGE): Redis's "raw" at any length
	hintNoInt = 2 // made from a float (INCRBYFLOAT): never "int"
)

// Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT and OBJ_SHARED_INTEGERS.
const (
	embstrLimit    = 44
	sharedIntegers = 10000
	sharedRefCount = 2147483647 // OBJ_SHARED_REFCOUNT (INT_MAX)
)

// objectLookup looks the key (Args[2]) up with a read lookup (counted in
// keyspace hits/misses, as Redis's objectCommandLookup) and calls fn with
// the value while its shard is held; a missing key replies null.
func objectLookup(x *Ctx, fn func(v cache.Value)) {
	key := x.Args[2]
	tx := x.Lock(key)
	v, ok, err := tx.Get(x.C.DB, key)
	if err != nil {
		tx.Unlock()
		keyReplyErr(x, err)
		return
	}
	keyStat(x, ok)
	if !ok {
		tx.Unlock()
		x.Null()
		return
	}
	fn(v)
	tx.Unlock()
}

// OBJECT ENCODING key
func objectEncoding(x *Ctx) {
	var enc string
	objectLookup(x, func(v cache.Value) { enc = encodingOf(x, v) })
	if enc != "" {
		x.BulkString(enc)
	}
}

// OBJECT REFCOUNT key: INT_MAX for a shared integer (0..9999 held as
// "int" while maxmemory-policy allows sharing), else 1.
func objectRefCount(x *Ctx) {
	n := int64(-1)
	objectLookup(x, func(v cache.Value) {
		n = 1
		if v.Kind == store.KindString && encodingOf(x, v) == "int" && x.sharedIntegersAllowed() {
			if i, _ := ParseInt(v.Str); i >= 0 && i < sharedIntegers {
				n = sharedRefCount
			}
		}
	})
	if n >= 0 {
		x.Int(n)
	}
}

// OBJECT IDLETIME key: 0 (no access clock is kept); an LFU policy is
// refused as Redis refuses it.
func objectIdleTime(x *Ctx) {
	found := false
	objectLookup(x, func(cache.Value) { found = true })
	if !found {
		return
	}
	if x.lfuPolicy() {
		x.Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	x.Int(0)
}

// OBJECT FREQ key: 0 under an LFU policy (no access counter is kept);
// otherwise Redis's error.
func objectFreq(x *Ctx) {
	found := false
	objectLookup(x, func(cache.Value) { found = true })
	if !found {
		return
	}
	if !x.lfuPolicy() {
		x.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	x.Int(0)
}

// OBJECT HELP: Redis 7.0's text.
func objectHelp(x *Ctx) {
	helpReply(x, []string{
		"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
		"HELP",
		"    Prints this help.",
	})
}

// configInt returns an integer directive, or def when there is no
// configuration or the value does not parse.
func (x *Ctx) configInt(name string, def int64) int64 {
	if x.S.Config == nil {
		return def
	}
	n, err := strconv.ParseInt(x.S.Config.Value(name), 10, 64)
	if err != nil {
		return def
	}
	return n
}

// lfuPolicy reports whether maxmemory-policy is an LFU one.
func (x *Ctx) lfuPolicy() bool {
	return x.S.Config != nil && strings.HasSuffix(x.S.Config.Value("maxmemory-policy"), "-lfu")
}

// sharedIntegersAllowed is Redis's canUseSharedObject: maxmemory off, or
// a policy that needs no per-object LRU/LFU data.
func (x *Ctx) sharedIntegersAllowed() bool {
	if x.configInt("maxmemory", 0) == 0 {
		return true
	}
	p := ""
	if x.S.Config != nil {
		p = x.S.Config.Value("maxmemory-policy")
	}
	return !strings.HasSuffix(p, "-lru") && !strings.HasSuffix(p, "-lfu")
}

// encodingOf is the encoding Redis 7.0 would report for v (see the top of
// this file). Collections are read while their shard is held. O(1) for
// strings and lists, O(min(n, limit)) for the others.
func encodingOf(x *Ctx, v cache.Value) string {
	switch v.Kind {
	case store.KindString:
		return stringEncoding(v.Str, v.Hint)
	case store.KindList:
		return "quicklist"
	case store.KindHash:
		h, _ := v.Obj.(*types.Hash)
		if h == nil || hashListpack(h, x.configInt("hash-max-listpack-entries", 128), x.configInt("hash-max-listpack-value", 64)) {
			return "listpack"
		}
		return "hashtable"
	case store.KindSet:
		s, _ := v.Obj.(*types.Set)
		if s == nil || setIntset(s, x.configInt("set-max-intset-entries", 512)) {
			return "intset"
		}
		return "hashtable"
	case store.KindZSet:
		z, _ := v.Obj.(*types.ZSet)
		entries, value := zsetLimits(x)
		if z == nil || zsetListpack(z, entries, value) {
			return "listpack"
		}
		return "skiplist"
	}
	return "unknown"
}

// stringEncoding is Redis's encoding of a string value s made as hint
// says: tryObjectEncoding's "int" (an int64 in canonical form, at most 20
// bytes) or "embstr" (at most 44 bytes), else "raw".
func stringEncoding(s []byte, hint uint8) string {
	if hint == hintRaw {
		return "raw"
	}
	if hint != hintNoInt && len(s) <= 20 {
		if _, ok := ParseInt(s); ok {
			return "int"
		}
	}
	if len(s) <= embstrLimit {
		return "embstr"
	}
	return "raw"
}

// hashListpack reports whether h fits a listpack: at most entries fields,
// none of whose fields or values is longer than value bytes.
func hashListpack(h *types.Hash, entries, value int64) bool {
	if int64(h.Len()) > entries {
		return false
	}
	ok := true
	h.All(func(f, v string) bool {
		ok = int64(len(f)) <= value && int64(len(v)) <= value
		return ok
	})
	return ok
}

// setIntset reports whether s fits an intset: at most entries members,
// all integers in canonical form.
func setIntset(s *types.Set, entries int64) bool {
	if int64(s.Len()) > entries {
		return false
	}
	ok := true
	s.All(func(m string) bool {
		_, ok = setInt(m)
		return ok
	})
	return ok
}

// zsetListpack reports whether z fits a listpack: at most entries members,
// none longer than value bytes.
func zsetListpack(z *types.ZSet, entries, value int64) bool {
	if z.Enc() == types.EncSkipList || int64(z.Len()) > entries {
		return false
	}
	ok := true
	z.All(func(m string, _ float64) bool {
		ok = int64(len(m)) <= value
		return ok
	})
	return ok
}
