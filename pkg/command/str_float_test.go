package command

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseFormatLongDouble(t *testing.T) {
	cases := []struct {
		in, out string // out "" = rejected, "inf" = infinity
	}{
		{"0", "0"},
		{"-0", "0"},
		{"-0.0e5", "0"},
		{"0e999999999999", "0"},
		{"1", "1"},
		{"+1.5", "1.5"},
		{".5", "0.5"},
		{"5.", "5"},
		{"1e3", "1000"},
		{"1E+3", "1000"},
		{"-2.5e-1", "-0.25"},
		{"0.1", "0.1"},
		{"3.0000000000000000000000001", "3"},
		{"0x10", "16"},
		{"0X1P4", "16"},
		{"0x.8", "0.5"},
		{"-0x1.8p1", "-3"},
		{"inf", "inf"},
		{"-Infinity", "inf"},
		{"INF", "inf"},
		{"1e-4940", "0"}, // a long double subnormal: accepted
		{"0.000000000000000005", "0"},
		{"0.000000000000000015", "0.00000000000000002"},
		{"", ""},
		{" 1", ""},
		{"\t1", ""},
		{"1 ", ""},
		{"1\x00", ""},
		{"nan", ""},
		{"-nan", ""},
		{"infin", ""},
		{"in", ""},
		{"1e", ""},
		{"1e+", ""},
		{"e1", ""},
		{".", ""},
		{"+", ""},
		{"-.e1", ""},
		{"1.2.3", ""},
		{"1_000", ""},
		{"0x", ""},
		{"0xp1", ""},
		{"0x1p", ""},
		{"0x1g", ""},
		{"1e4933", ""},  // overflows
		{"-1e4933", ""}, // overflows
		{"1e-5000", ""}, // underflows to zero
		{"0x1p16384", ""},
		{strings.Repeat("1", 5120), ""}, // MAX_LONG_DOUBLE_CHARS
	}
	for _, c := range cases {
		f, inf, ok := strParseLongDouble([]byte(c.in))
		var got string
		switch {
		case !ok:
			got = ""
		case inf:
			got = "inf"
		default:
			got = string(strFormatLongDouble(nil, f))
		}
		if got != c.out {
			t.Errorf("%q: got %q, want %q", c.in, got, c.out)
		}
	}
}

func TestAddLongDoubleOverflow(t *testing.T) {
	max, _, ok := strParseLongDouble([]byte("1.18973149535723176502e4932")) // LDBL_MAX
	if !ok {
		t.Fatal("LDBL_MAX rejected")
	}
	if _, ok := strAddLongDouble(max, newLongDouble()); !ok {
		t.Fatal("LDBL_MAX + 0 overflowed")
	}
	if _, ok := strAddLongDouble(max, max); ok {
		t.Fatal("LDBL_MAX + LDBL_MAX is finite")
	}
}

var (
	decFloatRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	hexFloatRE = regexp.MustCompile(`^[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?[0-9]+)?$`)
	infRE      = regexp.MustCompile(`^[+-]?(?i:inf|infinity)$`)
)

// FuzzParseLongDouble checks strParseLongDouble against two oracles: the
// grammar of C's strtold (regular expressions), and Go's float64 parser,
// which must agree with the long double value to within a float64 ulp
// wherever float64 represents the number as a normal value.
func FuzzParseLongDouble(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-1e10", ".5", "0x1p-3", "inf", "nan", "1e4933", "1_0", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, inf, ok := strParseLongDouble([]byte(s))
		dec, hex, isInf := decFloatRE.MatchString(s), hexFloatRE.MatchString(s), infRE.MatchString(s)
		if len(s) >= maxLongDoubleChars {
			if ok {
				t.Fatalf("%q: accepted a too long input", s)
			}
			return
		}
		if ok && !(dec || hex || isInf) {
			t.Fatalf("%q: accepted outside strtold's grammar", s)
		}
		if isInf && (!ok || !inf) {
			t.Fatalf("%q: not parsed as infinity", s)
		}
		if !dec {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || want == 0 || math.Abs(want) < 0x1p-1022 {
			return // out of float64's normal range: no oracle
		}
		if !ok {
			t.Fatalf("%q: rejected, float64 reads %v", s, want)
		}
		got, _ := v.Float64()
		if d := math.Abs(got - want); d > math.Abs(math.Nextafter(want, math.Inf(1))-want) {
			t.Fatalf("%q: got %v, float64 reads %v", s, got, want)
		}
	})
}

// FuzzParseCursor checks keyParseCursor against strconv.ParseUint on
// strtoul's grammar: optional sign, decimal digits, '-' negating modulo
// 2^64; the empty string is 0.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"0", "", "-1", "+5", "18446744073709551615", "18446744073709551616", " 1", "1x", "a\x001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := keyParseCursor([]byte(s))
		c := s
		if i := strings.IndexByte(c, 0); i >= 0 {
			c = c[:i]
		}
		neg := false
		digits := c
		if digits != "" && (digits[0] == '+' || digits[0] == '-') {
			neg = digits[0] == '-'
			digits = digits[1:]
		}
		if c == "" {
			if !ok || got != 0 {
				t.Fatalf("%q: got %d %v, want 0 true", s, got, ok)
			}
			return
		}
		want, err := strconv.ParseUint(digits, 10, 64)
		wantOK := err == nil && digits != "" && !strings.ContainsAny(digits, "+-_")
		if neg {
			want = -want
		}
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("%q: got %d %v, want %d %v", s, got, ok, want, wantOK)
		}
	})
}

// The big.Float arithmetic must not be confused by the receiver's state.
func TestLongDoublePrecision(t *testing.T) {
	a, _, _ := strParseLongDouble([]byte("10.6"))
	b, _, _ := strParseLongDouble([]byte("5000"))
	if a.Prec() != ldPrec || a.Mode() != big.ToNearestEven {
		t.Fatalf("parsed value has prec %d mode %v", a.Prec(), a.Mode())
	}
	sum, _ := strAddLongDouble(a, b)
	require_Equal(t, string(strFormatLongDouble(nil, sum)), "5010.60000000000000009")
}
