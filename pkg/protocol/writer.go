package protocol

import (
	"math"
	"strconv"
)

// Append-style RESP writers, in the manner of tidwall/redcon: each function
// appends one RESP element to dst and returns the extended slice. They never
// retain dst or their arguments, allocate only when dst must grow, and are
// safe for concurrent use on distinct slices.
//
// Functions whose encoding differs between RESP2 and RESP3 take the
// connection's protocol version (2 or 3) as proto; every other function emits
// the same bytes for both.

// AppendSimple appends a simple string: +s\r\n. s must not contain CR or LF.
func AppendSimple(dst []byte, s string) []byte {
	dst = append(dst, '+')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendOK appends +OK\r\n.
func AppendOK(dst []byte) []byte { return append(dst, "+OK\r\n"...) }

// AppendError appends an error reply: -msg\r\n. msg must start with the
// error code (ERR, WRONGTYPE, ...); CR and LF in msg are replaced by spaces,
// as Redis does, so a reply can never be split by user input.
func AppendError(dst []byte, msg string) []byte {
	dst = append(dst, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, '\r', '\n')
}

// AppendInt appends an integer reply: :n\r\n.
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendBulk appends a bulk string: $len\r\nb\r\n. b may hold any bytes.
func AppendBulk(dst []byte, b []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString is AppendBulk for a string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendBulkInt appends n formatted in decimal as a bulk string.
func AppendBulkInt(dst []byte, n int64) []byte {
	var tmp [20]byte
	return AppendBulk(dst, strconv.AppendInt(tmp[:0], n, 10))
}

// AppendNull appends the null bulk string: $-1\r\n in RESP2, _\r\n in RESP3.
func AppendNull(dst []byte, proto int) []byte {
	if proto >= 3 {
		return append(dst, '_', '\r', '\n')
	}
	return append(dst, "$-1\r\n"...)
}

// AppendNullArray appends the null array: *-1\r\n in RESP2, _\r\n in RESP3.
func AppendNullArray(dst []byte, proto int) []byte {
	if proto >= 3 {
		return append(dst, '_', '\r', '\n')
	}
	return append(dst, "*-1\r\n"...)
}

// AppendArrayLen appends an array header: *n\r\n. The caller then appends
// exactly n elements.
func AppendArrayLen(dst []byte, n int) []byte {
	return appendLen(dst, '*', n)
}

// AppendMapLen appends a map header of n key/value pairs: %n\r\n in RESP3,
// or an array header of 2n elements in RESP2. The caller then appends 2n
// elements, key before value.
func AppendMapLen(dst []byte, n int, proto int) []byte {
	if proto >= 3 {
		return appendLen(dst, '%', n)
	}
	return appendLen(dst, '*', 2*n)
}

// AppendSetLen appends a set header: ~n\r\n in RESP3, *n\r\n in RESP2.
func AppendSetLen(dst []byte, n int, proto int) []byte {
	if proto >= 3 {
		return appendLen(dst, '~', n)
	}
	return appendLen(dst, '*', n)
}

// AppendPushLen appends a push header: >n\r\n in RESP3, *n\r\n in RESP2
// (where pub/sub messages are plain arrays).
func AppendPushLen(dst []byte, n int, proto int) []byte {
	if proto >= 3 {
		return appendLen(dst, '>', n)
	}
	return appendLen(dst, '*', n)
}

// AppendAttributeLen appends a RESP3 attribute header: |n\r\n. It has no
// RESP2 form; callers must only use it on RESP3 connections.
func AppendAttributeLen(dst []byte, n int) []byte {
	return appendLen(dst, '|', n)
}

// AppendBool appends a boolean: #t\r\n or #f\r\n in RESP3, :1\r\n or :0\r\n
// in RESP2.
func AppendBool(dst []byte, v bool, proto int) []byte {
	if proto >= 3 {
		if v {
			return append(dst, "#t\r\n"...)
		}
		return append(dst, "#f\r\n"...)
	}
	if v {
		return append(dst, ":1\r\n"...)
	}
	return append(dst, ":0\r\n"...)
}

// AppendDouble appends a double: ,f\r\n in RESP3, or a bulk string in RESP2.
// The text is Redis 7.0's addReplyDouble: "%.17g", "inf", "-inf", "nan".
func AppendDouble(dst []byte, f float64, proto int) []byte {
	var tmp [32]byte
	s := FormatDouble(tmp[:0], f)
	if proto >= 3 {
		dst = append(dst, ',')
		dst = append(dst, s...)
		return append(dst, '\r', '\n')
	}
	return AppendBulk(dst, s)
}

// FormatDouble appends f as Redis 7.0 formats doubles in replies
// (addReplyDouble, ZSCORE): C's "%.17g", so 1.1 is 1.1000000000000001, 3 is
// 3, 1e20 is 1e+20, -0.0 is -0; and inf, -inf, nan (-nan if the sign bit
// is set, as glibc prints it). INCRBYFLOAT uses a different
// (long double, trimmed) format that the command layer owns.
func FormatDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		// glibc prints a NaN with its sign bit set as "-nan".
		if math.Signbit(f) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// AppendBigNumber appends a RESP3 big number: (digits\r\n; RESP2 gets a bulk
// string.
func AppendBigNumber(dst []byte, digits string, proto int) []byte {
	if proto >= 3 {
		dst = append(dst, '(')
		dst = append(dst, digits...)
		return append(dst, '\r', '\n')
	}
	return AppendBulkString(dst, digits)
}

// AppendVerbatim appends a verbatim string with a three-letter format
// ("txt" or "mkd"): =len\r\nfmt:text\r\n in RESP3, a bulk string of text in
// RESP2.
func AppendVerbatim(dst []byte, format string, text []byte, proto int) []byte {
	if proto < 3 {
		return AppendBulk(dst, text)
	}
	dst = append(dst, '=')
	dst = strconv.AppendInt(dst, int64(len(text)+4), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, format...)
	dst = append(dst, ':')
	dst = append(dst, text...)
	return append(dst, '\r', '\n')
}

func appendLen(dst []byte, prefix byte, n int) []byte {
	dst = append(dst, prefix)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}
