package command

import (
	"math/big"
)

// INCRBYFLOAT arithmetic. Redis computes it in C's long double, which on
// x86-64 (where Redis 7.0 is built and where replies are compared) is the
// x87 80-bit format: a 64-bit mantissa and a 15-bit exponent. float64 would
// print 10.6+5000 as "5010.6" where Redis prints "5010.60000000000000009",
// so this file emulates long double with math/big: values are big.Floats of
// 64-bit precision rounded to nearest-even, which is exactly what x87
// addition does; parsing rounds the exact decimal (or hexadecimal) value
// once, as glibc's strtold does; formatting is the exact decimal expansion
// rounded to 17 places, as glibc's printf("%.17Lf") is.

const (
	ldPrec = 64 // mantissa bits of the x87 long double
	// ldMaxExp bounds big.Float exponents (x = mant * 2^exp, 0.5 <= mant < 1)
	// of finite long doubles: LDBL_MAX < 2^16384.
	ldMaxExp = 16384
	// ldMinExp is the exponent below which a value rounds to zero: the
	// smallest subnormal long double is 2^-16445.
	ldMinExp = -16444
	// maxLongDoubleChars is Redis's MAX_LONG_DOUBLE_CHARS: string2ld
	// rejects inputs of this length or more.
	maxLongDoubleChars = 5 * 1024
	// ldMaxDecExp bounds decimal exponents worth computing exactly: beyond
	// it every nonzero value over- or underflows a long double.
	ldMaxDecExp = 5000
)

// strParseLongDouble parses b as Redis's string2ld: the whole buffer must
// be a number as strtold reads one (decimal or hexadecimal, optional sign,
// "inf"/"infinity"), with no leading space, no NUL, not NaN, and neither
// overflowing nor underflowing to zero. inf reports an infinity (the value
// is then nil).
func strParseLongDouble(b []byte) (f *big.Float, inf, ok bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars {
		return nil, false, false
	}
	i := 0
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	rest := b[i:]
	if keyFoldEq(rest, "inf") || keyFoldEq(rest, "infinity") {
		return nil, true, true
	}
	if len(rest) >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') {
		f, ok = strParseHexFloat(rest[2:])
	} else {
		f, ok = strParseDecFloat(rest)
	}
	if !ok {
		return nil, false, false
	}
	if f.Sign() != 0 {
		exp := f.MantExp(nil)
		if exp > ldMaxExp || exp < ldMinExp {
			return nil, false, false // ERANGE: HUGE_VAL or zero
		}
	}
	if neg {
		f.Neg(f)
	}
	return f, false, true
}

func newLongDouble() *big.Float {
	return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven)
}

// ldPow2 returns 2^e, for the results that stand for an overflow or an
// underflow (strParseLongDouble checks the exponent).
func ldPow2(e int) *big.Float {
	return newLongDouble().SetMantExp(newLongDouble().SetInt64(1), e)
}

// strParseExponent parses the exponent part of a decimal (marker 'e') or
// hexadecimal ('p') float: empty, or marker in either case, an optional
// sign and at least one decimal digit, the whole of b. Magnitudes beyond
// 2^40 saturate, which is past every long double's range either way.
func strParseExponent(b []byte, marker byte) (exp int64, ok bool) {
	if len(b) == 0 {
		return 0, true
	}
	if b[0] != marker && b[0] != marker-('a'-'A') {
		return 0, false
	}
	i := 1
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if exp < 1<<40 {
			exp = exp*10 + int64(c-'0')
		}
	}
	if neg {
		exp = -exp
	}
	return exp, true
}

// strParseDecFloat parses digits[.digits][(e|E)[sign]digits] (at least one
// mantissa digit, the whole of b) and rounds the exact value once.
func strParseDecFloat(b []byte) (*big.Float, bool) {
	var mant big.Int
	var ten = big.NewInt(10)
	digits, fracDigits := 0, 0
	seenDot := false
	i := 0
	var d big.Int
	lead := true // still skipping leading zeros of the mantissa
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && !seenDot {
			seenDot = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		digits++
		if seenDot {
			fracDigits++
		}
		if lead && c == '0' {
			continue
		}
		lead = false
		mant.Mul(&mant, ten)
		mant.Add(&mant, d.SetInt64(int64(c-'0')))
	}
	if digits == 0 {
		return nil, false
	}
	exp, ok := strParseExponent(b[i:], 'e')
	if !ok {
		return nil, false
	}
	f := newLongDouble()
	if mant.Sign() == 0 {
		return f, true // zero, whatever the exponent (no ERANGE)
	}
	// value = mant * 10^(exp - fracDigits). Leading fraction zeros were
	// skipped in mant, so the decimal magnitude is about
	// len(mant) + exp - fracDigits.
	e10 := exp - int64(fracDigits)
	mag := int64(len(mant.String())) + e10
	if mag > ldMaxDecExp {
		return ldPow2(ldMaxExp + 1), true // overflows: ERANGE in the caller
	}
	if mag < -ldMaxDecExp {
		return ldPow2(ldMinExp - 2), true // underflows: ERANGE in the caller
	}
	var pow big.Int
	if e10 >= 0 {
		pow.Exp(ten, big.NewInt(e10), nil)
		mant.Mul(&mant, &pow)
		return f.SetInt(&mant), true
	}
	pow.Exp(ten, big.NewInt(-e10), nil)
	num := new(big.Float).SetInt(&mant) // exact: precision from the integer
	den := new(big.Float).SetInt(&pow)
	return f.Quo(num, den), true // correctly rounded
}

// strParseHexFloat parses the part after "0x": hexdigits[.hexdigits]
// [(p|P)[sign]digits] with at least one mantissa digit, the whole of b.
func strParseHexFloat(b []byte) (*big.Float, bool) {
	var mant big.Int
	var d big.Int
	digits, fracDigits := 0, 0
	seenDot := false
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && !seenDot {
			seenDot = true
			continue
		}
		var v int64
		switch {
		case '0' <= c && c <= '9':
			v = int64(c - '0')
		case 'a' <= c && c <= 'f':
			v = int64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			v = int64(c-'A') + 10
		default:
			v = -1
		}
		if v < 0 {
			break
		}
		digits++
		if seenDot {
			fracDigits++
		}
		mant.Lsh(&mant, 4)
		mant.Add(&mant, d.SetInt64(v))
	}
	if digits == 0 {
		return nil, false
	}
	exp, ok := strParseExponent(b[i:], 'p')
	if !ok {
		return nil, false
	}
	f := newLongDouble()
	if mant.Sign() == 0 {
		return f, true
	}
	e2 := exp - 4*int64(fracDigits)
	top := int64(mant.BitLen()) + e2
	if top > ldMaxExp {
		return ldPow2(ldMaxExp + 1), true // overflows: ERANGE in the caller
	}
	if top < ldMinExp-1 {
		return ldPow2(ldMinExp - 2), true // underflows: ERANGE in the caller
	}
	f.SetInt(&mant) // rounds to 64 bits
	return f.SetMantExp(f, int(e2)), true
}

// strAddLongDouble returns a+b rounded as long double addition, and false
// if the sum is not finite (Redis: "increment would produce NaN or
// Infinity").
func strAddLongDouble(a, b *big.Float) (*big.Float, bool) {
	z := newLongDouble().Add(a, b)
	if z.Sign() != 0 && z.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return z, true
}

// strFormatLongDouble appends f as Redis's ld2string(..., LD_STR_HUMAN):
// "%.17Lf", trailing zeros after the point removed, then the point if
// nothing follows it, and "-0" written as "0".
func strFormatLongDouble(dst []byte, f *big.Float) []byte {
	start := len(dst)
	dst = f.Append(dst, 'f', 17)
	s := dst[start:]
	hasDot := false
	for _, c := range s {
		if c == '.' {
			hasDot = true
			break
		}
	}
	if hasDot {
		for len(s) > 0 && s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] == '.' {
			s = s[:len(s)-1]
		}
	}
	if len(s) == 2 && s[0] == '-' && s[1] == '0' {
		s[0] = '0'
		s = s[:1]
	}
	if len(s) >= maxLongDoubleChars {
		s = s[:0] // ld2string fails: Redis stores an empty string
	}
	return dst[:start+len(s)]
}
