package types

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
)

// ScoreRange is a score interval as ZRANGEBYSCORE's min and max give it:
// each bound inclusive, or exclusive with MinEx/MaxEx ("(1"). Bounds may
// be infinite.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// Empty reports whether no score can lie in r, as zslIsInRange's first
// test: Min > Max, or Min == Max with an exclusive bound.
func (r ScoreRange) Empty() bool {
	return r.Min > r.Max || r.Min == r.Max && (r.MinEx || r.MaxEx)
}

// Contains reports whether score lies in r.
func (r ScoreRange) Contains(score float64) bool {
	return r.aboveMin(score) && r.belowMax(score)
}

func (r ScoreRange) aboveMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

func (r ScoreRange) belowMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

// ParseScoreRange parses ZRANGEBYSCORE-style bounds exactly as Redis 7.0's
// zslParseRange: an optional "(" for exclusive, then what C's strtod
// accepts in full (leading white space, decimal or hex floats, inf,
// infinity; an empty string is 0), the argument being cut at its first
// NUL byte as C sees it. NaN is rejected. The error is ErrScoreRange.
func ParseScoreRange(min, max []byte) (ScoreRange, error) {
	var r ScoreRange
	var ok1, ok2 bool
	r.Min, r.MinEx, ok1 = parseScoreBound(min)
	r.Max, r.MaxEx, ok2 = parseScoreBound(max)
	if !ok1 || !ok2 {
		return ScoreRange{}, ErrScoreRange
	}
	return r, nil
}

func parseScoreBound(b []byte) (f float64, ex, ok bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > 0 && b[0] == '(' {
		ex, b = true, b[1:]
	}
	f, ok = strtod(b)
	return f, ex, ok && !math.IsNaN(f)
}

// strtod reports what C's strtod makes of all of b (no NUL inside): the
// value and whether the whole input was consumed. It accepts leading
// white space, a sign, decimal floats, hex floats with or without a
// binary exponent, "inf", "infinity" and "nan" in any case; out-of-range
// values give ±Inf or a (sub)normal/zero, as strtod does. An empty input
// converts nothing and so is consumed whole: 0, true.
func strtod(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" || strings.IndexByte(s, '_') >= 0 {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		s += "p0" // strtod's binary exponent is optional, Go's is not
	}
	if len(body) > 0 && (body[0] == 'n' || body[0] == 'N') && strings.IndexByte(body, '(') >= 0 {
		// "nan(chars)": strtod takes it whole as a NaN.
		if len(body) >= 5 && strings.EqualFold(body[:4], "nan(") && strings.HasSuffix(body, ")") && validNanChars(body[4:len(body)-1]) {
			return math.NaN(), true
		}
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func validNanChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// LexBound is one end of a lex range: "-" (below everything), "+" (above
// everything), "[value" (inclusive) or "(value" (exclusive).
type LexBound struct {
	Value string
	Ex    bool
	Inf   int // -1 for "-", +1 for "+", 0 for a value
}

// LexRange is a member interval as ZRANGEBYLEX's min and max give it.
type LexRange struct {
	Min, Max LexBound
}

// cmp compares two bounds as Redis's sdscmplex on the shared minstring
// and maxstring.
func (a LexBound) cmp(b LexBound) int {
	switch {
	case a.Inf == b.Inf && a.Inf != 0:
		return 0
	case a.Inf < 0 || b.Inf > 0:
		return -1
	case a.Inf > 0 || b.Inf < 0:
		return 1
	}
	return strings.Compare(a.Value, b.Value)
}

// gteMin reports whether member m is at or above min bound a.
func (a LexBound) gteMin(m string) bool {
	switch {
	case a.Inf < 0:
		return true
	case a.Inf > 0:
		return false
	case a.Ex:
		return m > a.Value
	}
	return m >= a.Value
}

// lteMax reports whether member m is at or below max bound a.
func (a LexBound) lteMax(m string) bool {
	switch {
	case a.Inf < 0:
		return false
	case a.Inf > 0:
		return true
	case a.Ex:
		return m < a.Value
	}
	return m <= a.Value
}

// Empty reports whether no member can lie in r (zslIsInLexRange's first
// test).
func (r LexRange) Empty() bool {
	c := r.Min.cmp(r.Max)
	return c > 0 || c == 0 && (r.Min.Ex || r.Max.Ex)
}

// Contains reports whether member lies in r.
func (r LexRange) Contains(member string) bool {
	return r.Min.gteMin(member) && r.Max.lteMax(member)
}

// ParseLexRange parses ZRANGEBYLEX-style bounds exactly as Redis 7.0's
// zslParseLexRangeItem: "-" and "+" (a NUL may follow, as C sees the
// end there), or "[" / "(" followed by any bytes (kept whole, NULs
// included). The error is ErrLexRange. The values are copied.
func ParseLexRange(min, max []byte) (LexRange, error) {
	var r LexRange
	var ok1, ok2 bool
	r.Min, ok1 = parseLexBound(min)
	r.Max, ok2 = parseLexBound(max)
	if !ok1 || !ok2 {
		return LexRange{}, ErrLexRange
	}
	return r, nil
}

func parseLexBound(b []byte) (LexBound, bool) {
	if len(b) == 0 {
		return LexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) > 1 && b[1] != 0 {
			return LexBound{}, false
		}
		inf := 1
		if b[0] == '-' {
			inf = -1
		}
		return LexBound{Ex: true, Inf: inf}, true
	case '(':
		return LexBound{Value: string(b[1:]), Ex: true}, true
	case '[':
		return LexBound{Value: string(b[1:])}, true
	}
	return LexBound{}, false
}
