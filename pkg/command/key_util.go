package command

import (
	"errors"
	"math"
	"strings"
	"syscall"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// Helpers shared by the string, key and database command groups.

// Redis 7.0 limits and messages used by the string and key commands.
const (
	// defaultProtoMaxBulkLen is Redis's default proto-max-bulk-len (512 MB),
	// the largest string APPEND and SETRANGE may build.
	defaultProtoMaxBulkLen = 512 << 20

	errStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errIntRange      = "ERR value is out of range, value must between -2147483648 and 2147483647"
	errAOFWrite      = "MISCONF Errors writing to the AOF file: "
)

// keyOptIs reports whether the option argument b equals the ASCII keyword
// kw ignoring case, comparing as Redis's strcasecmp does on the C string:
// b ends at its first NUL byte.
func keyOptIs(b []byte, kw string) bool {
	return keyFoldEq(keyCString(b), kw)
}

// keyFoldEq reports whether b equals s ignoring ASCII case (only A-Z and
// a-z fold, as in C's strcasecmp; NUL bytes compare as any other).
func keyFoldEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, k := b[i], s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if 'a' <= k && k <= 'z' {
			k -= 'a' - 'A'
		}
		if c != k {
			return false
		}
	}
	return true
}

// keyCString returns b up to its first NUL byte: what Redis's C string
// functions see of an argument.
func keyCString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// keyUnlock unlocks tx and replies err if it is not nil. It reports
// whether err was nil: the caller then replies success.
func keyUnlock(x *Ctx, tx *cache.Tx, err error) bool {
	tx.Unlock()
	if err != nil {
		keyReplyErr(x, err)
		return false
	}
	return true
}

// keyReplyErr appends the reply for an error returned by the cache or the
// store. A refused write (full disk, or the store turned read-only after a
// failed write or sync) is Redis's reply when the AOF cannot be written,
// "-MISCONF Errors writing to the AOF file: <strerror>"; a value over the
// store's limit is Redis's proto-max-bulk-len error; anything else is
// "-ERR " and the error text.
func keyReplyErr(x *Ctx, err error) {
	switch {
	case errors.Is(err, store.ErrNoSpace) || errors.Is(err, syscall.ENOSPC):
		x.Error(errAOFWrite + "No space left on device")
	case errors.Is(err, store.ErrReadOnly):
		x.Error(errAOFWrite + keyStrerror(err))
	case errors.Is(err, store.ErrValueTooLarge):
		x.Error(errStringTooLong)
	default:
		x.Error("ERR " + err.Error())
	}
}

// keyStrerror returns C's strerror text for the errno wrapped in err
// (capitalized as glibc prints it), or that of EIO when there is none.
func keyStrerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) || errno == 0 {
		errno = syscall.EIO
	}
	s := errno.Error()
	if s == "" {
		return "Input/output error"
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// keyErrInvalidExpire appends Redis's addReplyErrorExpireTime reply for the
// running command.
func keyErrInvalidExpire(x *Ctx) {
	x.Error("ERR invalid expire time in '" + x.Cmd.FullName() + "' command")
}

// keyParseInt32 is Redis's getIntFromObjectOrReply: an integer argument
// that must fit a C int. On failure it replies msg ("ERR ..."), or Redis's
// default messages when msg is empty, and reports false.
func keyParseInt32(x *Ctx, b []byte, msg string) (int, bool) {
	v, ok := ParseInt(b)
	if !ok {
		if msg == "" {
			msg = ErrNotInteger
		}
		x.Error(msg)
		return 0, false
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		if msg == "" {
			msg = errIntRange
		}
		x.Error(msg)
		return 0, false
	}
	return int(v), true
}

// keyMaxBulkLen returns proto-max-bulk-len from the configuration, or
// Redis's default when there is none or it does not parse.
func keyMaxBulkLen(x *Ctx) int64 {
	if x.S.Config == nil {
		return defaultProtoMaxBulkLen
	}
	s := x.S.Config.Value("proto-max-bulk-len")
	if s == "" {
		return defaultProtoMaxBulkLen
	}
	if n, ok := keyParseMemory(s); ok && n > 0 {
		return n
	}
	return defaultProtoMaxBulkLen
}

// keyParseMemory parses a Redis memory size ("512mb", "1gb", "100").
func keyParseMemory(s string) (int64, bool) {
	mul := int64(1)
	lower := strings.ToLower(s)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{
		{"kb", 1024}, {"mb", 1024 * 1024}, {"gb", 1024 * 1024 * 1024},
		{"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1},
	} {
		if strings.HasSuffix(lower, u.suffix) {
			mul = u.mul
			lower = lower[:len(lower)-len(u.suffix)]
			break
		}
	}
	n, ok := ParseInt([]byte(lower))
	if !ok && lower != "" && strings.Trim(lower, "0123456789") == "" {
		n, ok = math.MaxInt64, true // beyond int64: clamp, as a limit
	}
	if !ok || n < 0 {
		return 0, false
	}
	if n > math.MaxInt64/mul {
		return math.MaxInt64, true
	}
	return n * mul, true
}

// keyStat counts one key looked up by a read command in Redis's
// keyspace_hits or keyspace_misses (Redis's lookupKeyRead; write lookups
// count in neither). The count is kept in the client until Server.FlushStats.
func keyStat(x *Ctx, found bool) {
	if found {
		x.C.pending.hits++
	} else {
		x.C.pending.misses++
	}
}

// keyStats counts hits and misses of a multi-key read command.
func keyStats(x *Ctx, hits, misses uint64) {
	x.C.pending.hits += hits
	x.C.pending.misses += misses
}

// keyTypeName is the name TYPE reports for a value kind.
func keyTypeName(k store.Kind) string {
	switch k {
	case store.KindString:
		return "string"
	case store.KindHash:
		return "hash"
	case store.KindList:
		return "list"
	case store.KindSet:
		return "set"
	case store.KindZSet:
		return "zset"
	}
	return "none"
}
