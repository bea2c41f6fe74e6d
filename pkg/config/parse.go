package config

import (
	"math"
	"strconv"
	"strings"
)

// This file ports the C parsers Redis 7.0 uses for configuration values,
// because their corner cases are visible in CONFIG SET replies: string2ll
// rejects "+1" and "01", memtoull accepts "" as 0, strtoll accepts leading
// blanks and stops at the first bad byte.

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// string2ll is Redis's strict integer parser (util.c): no sign but '-', no
// leading zeros, no blanks, at most 20 bytes, no overflow.
func string2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	neg := false
	p := 0
	if s[0] == '-' {
		neg = true
		p++
		if p == len(s) {
			return 0, false
		}
	}
	if s[p] < '1' || s[p] > '9' {
		return 0, false
	}
	var v uint64
	for ; p < len(s); p++ {
		c := s[p]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > uint64(math.MaxInt64)+1 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// strtoll is C's strtoll for base 8 or 10. It returns the value (clamped on
// overflow, as C does), the unparsed rest of s as C's endptr would point at
// it, and whether the value overflowed (errno == ERANGE).
func strtoll(s string, base int) (v int64, rest string, overflow bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	for ; i < len(s); i++ {
		d := int(s[i]) - '0'
		if d < 0 || d >= base {
			break
		}
		if !overflow {
			if u > (limit-uint64(d))/uint64(base) {
				overflow = true
			} else {
				u = u*uint64(base) + uint64(d)
			}
		}
	}
	if i == start { // no digits: endptr is the start of the string
		return 0, s, false
	}
	if overflow {
		if neg {
			return math.MinInt64, s[i:], true
		}
		return math.MaxInt64, s[i:], true
	}
	if neg {
		return -int64(u), s[i:], false
	}
	return int64(u), s[i:], false
}

// memtoull is Redis 7.0's memory parser: digits then an optional unit (b,
// k, kb, m, mb, g, gb, any case). The product wraps like C's unsigned
// arithmetic. "" parses as 0, a leading '-' is an error.
func memtoull(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	u := 0
	for u < len(s) && s[u] >= '0' && s[u] <= '9' {
		u++
	}
	var mul uint64
	switch strings.ToLower(s[u:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	digits := s[:u]
	if len(digits) >= 128 {
		return 0, false
	}
	if digits == "" {
		return 0, true // strtoull("") converts nothing and sets no error
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		v = math.MaxUint64 // strtoull saturates and Redis 7.0 ignores ERANGE
	}
	return v * mul, true
}

// yesNo is Redis's yesnotoi.
func yesNo(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "yes"):
		return true, true
	case strings.EqualFold(s, "no"):
		return false, true
	}
	return false, false
}

// splitSpaces is sdssplitlen(value, " "): CONFIG SET's split of a
// multi-argument value. Empty input gives no arguments; runs of spaces
// give empty arguments.
func splitSpaces(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// string2d is Redis's strict float parser on top of strtod.
func string2d(s string) (float64, bool) {
	if s == "" || isSpace(s[0]) {
		return 0, false
	}
	t := s
	lower := strings.ToLower(s)
	body := strings.TrimLeft(lower, "+-")
	if strings.HasPrefix(body, "0x") && !strings.Contains(body, "p") {
		t = s + "p0" // strtod takes hex floats without an exponent
	}
	if strings.Contains(s, "_") {
		return 0, false // Go would accept digit separators, C does not
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// trimDouble formats f as "%f" and trims trailing zeros and the dot, as
// Redis's trimDoubleString does.
func trimDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', 6, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}
