package protocol

import (
	"math"
	"strings"
	"testing"
)

// writerCases lists every Append* function with the bytes Redis 7.0 sends
// for that reply in RESP2 and RESP3 (from the RESP2/RESP3 specifications
// and redis-cli captures; TestDifferentialWriter re-checks several against
// a live server).
var writerCases = []struct {
	name         string
	fn           func(dst []byte, proto int) []byte
	resp2, resp3 string
}{
	{"simple", func(d []byte, _ int) []byte { return AppendSimple(d, "PONG") }, "+PONG\r\n", "+PONG\r\n"},
	{"simple empty", func(d []byte, _ int) []byte { return AppendSimple(d, "") }, "+\r\n", "+\r\n"},
	{"ok", func(d []byte, _ int) []byte { return AppendOK(d) }, "+OK\r\n", "+OK\r\n"},
	{"error", func(d []byte, _ int) []byte { return AppendError(d, "ERR unknown command") }, "-ERR unknown command\r\n", "-ERR unknown command\r\n"},
	{"error CRLF sanitized", func(d []byte, _ int) []byte { return AppendError(d, "ERR a\r\nb\nc\r") }, "-ERR a  b c \r\n", "-ERR a  b c \r\n"},
	{"error wrongtype", func(d []byte, _ int) []byte {
		return AppendError(d, "WRONGTYPE Operation against a key holding the wrong kind of value")
	}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"int", func(d []byte, _ int) []byte { return AppendInt(d, 1000) }, ":1000\r\n", ":1000\r\n"},
	{"int zero", func(d []byte, _ int) []byte { return AppendInt(d, 0) }, ":0\r\n", ":0\r\n"},
	{"int min", func(d []byte, _ int) []byte { return AppendInt(d, math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
	{"int max", func(d []byte, _ int) []byte { return AppendInt(d, math.MaxInt64) }, ":9223372036854775807\r\n", ":9223372036854775807\r\n"},
	{"bulk", func(d []byte, _ int) []byte { return AppendBulk(d, []byte("hello")) }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
	{"bulk empty", func(d []byte, _ int) []byte { return AppendBulk(d, []byte{}) }, "$0\r\n\r\n", "$0\r\n\r\n"},
	{"bulk nil", func(d []byte, _ int) []byte { return AppendBulk(d, nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
	{"bulk binary", func(d []byte, _ int) []byte { return AppendBulk(d, []byte("a\r\n\x00\xff")) }, "$5\r\na\r\n\x00\xff\r\n", "$5\r\na\r\n\x00\xff\r\n"},
	{"bulk string", func(d []byte, _ int) []byte { return AppendBulkString(d, "foobar") }, "$6\r\nfoobar\r\n", "$6\r\nfoobar\r\n"},
	{"bulk string empty", func(d []byte, _ int) []byte { return AppendBulkString(d, "") }, "$0\r\n\r\n", "$0\r\n\r\n"},
	{"bulk int", func(d []byte, _ int) []byte { return AppendBulkInt(d, -42) }, "$3\r\n-42\r\n", "$3\r\n-42\r\n"},
	{"bulk int min", func(d []byte, _ int) []byte { return AppendBulkInt(d, math.MinInt64) }, "$20\r\n-9223372036854775808\r\n", "$20\r\n-9223372036854775808\r\n"},
	{"null", func(d []byte, p int) []byte { return AppendNull(d, p) }, "$-1\r\n", "_\r\n"},
	{"null array", func(d []byte, p int) []byte { return AppendNullArray(d, p) }, "*-1\r\n", "_\r\n"},
	{"array len", func(d []byte, _ int) []byte { return AppendArrayLen(d, 3) }, "*3\r\n", "*3\r\n"},
	{"array len zero", func(d []byte, _ int) []byte { return AppendArrayLen(d, 0) }, "*0\r\n", "*0\r\n"},
	{"map len", func(d []byte, p int) []byte { return AppendMapLen(d, 2, p) }, "*4\r\n", "%2\r\n"},
	{"map len zero", func(d []byte, p int) []byte { return AppendMapLen(d, 0, p) }, "*0\r\n", "%0\r\n"},
	{"set len", func(d []byte, p int) []byte { return AppendSetLen(d, 5, p) }, "*5\r\n", "~5\r\n"},
	{"push len", func(d []byte, p int) []byte { return AppendPushLen(d, 3, p) }, "*3\r\n", ">3\r\n"},
	{"attribute len", func(d []byte, _ int) []byte { return AppendAttributeLen(d, 1) }, "|1\r\n", "|1\r\n"},
	{"bool true", func(d []byte, p int) []byte { return AppendBool(d, true, p) }, ":1\r\n", "#t\r\n"},
	{"bool false", func(d []byte, p int) []byte { return AppendBool(d, false, p) }, ":0\r\n", "#f\r\n"},
	{"double 1.1", func(d []byte, p int) []byte { return AppendDouble(d, 1.1, p) }, "$18\r\n1.1000000000000001\r\n", ",1.1000000000000001\r\n"},
	{"double 3", func(d []byte, p int) []byte { return AppendDouble(d, 3, p) }, "$1\r\n3\r\n", ",3\r\n"},
	{"double inf", func(d []byte, p int) []byte { return AppendDouble(d, math.Inf(1), p) }, "$3\r\ninf\r\n", ",inf\r\n"},
	{"double -inf", func(d []byte, p int) []byte { return AppendDouble(d, math.Inf(-1), p) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
	{"double nan", func(d []byte, p int) []byte { return AppendDouble(d, math.NaN(), p) }, "$3\r\nnan\r\n", ",nan\r\n"},
	{"double -0", func(d []byte, p int) []byte { return AppendDouble(d, math.Copysign(0, -1), p) }, "$2\r\n-0\r\n", ",-0\r\n"},
	{"double 1e20", func(d []byte, p int) []byte { return AppendDouble(d, 1e20, p) }, "$5\r\n1e+20\r\n", ",1e+20\r\n"},
	{"big number", func(d []byte, p int) []byte {
		return AppendBigNumber(d, "3492890328409238509324850943850943825024385", p)
	}, "$43\r\n3492890328409238509324850943850943825024385\r\n", "(3492890328409238509324850943850943825024385\r\n"},
	{"big number negative", func(d []byte, p int) []byte { return AppendBigNumber(d, "-1", p) }, "$2\r\n-1\r\n", "(-1\r\n"},
	{"verbatim", func(d []byte, p int) []byte { return AppendVerbatim(d, "txt", []byte("Some string"), p) },
		"$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"},
	{"verbatim empty", func(d []byte, p int) []byte { return AppendVerbatim(d, "mkd", nil, p) }, "$0\r\n\r\n", "=4\r\nmkd:\r\n"},
}

func TestWriter(t *testing.T) {
	for _, tc := range writerCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []struct {
				proto int
				want  string
			}{{2, tc.resp2}, {3, tc.resp3}} {
				got := tc.fn(nil, v.proto)
				requireEqual(t, string(got), v.want, "proto "+string(rune('0'+v.proto)))
				// Appending keeps what dst held.
				got = tc.fn([]byte("prefix"), v.proto)
				requireEqual(t, string(got), "prefix"+v.want, "append after prefix")
			}
		})
	}
}

// TestWriterRoundTrip encodes requests with the writer and reads them back
// with the Reader.
func TestWriterRoundTrip(t *testing.T) {
	args := []string{"SET", "", "\r\n", "\x00", strings.Repeat("z", 70000), "$-1\r\n"}
	in := encodeCmd(nil, args...)
	got := parseWhole(t, new(Reader), in)
	requireEqual(t, got, outcome{Cmds: cmds(args)}, "round trip")
}

// TestFormatDouble checks C's "%.17g" (Redis's addReplyDouble). The
// expected strings were produced by Python's '%.17g' % x, which follows C.
func TestFormatDouble(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{1.1, "1.1000000000000001"},
		{3, "3"},
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{0.1, "0.10000000000000001"},
		{1e20, "1e+20"},
		{1e16, "10000000000000000"},
		{1e17, "1e+17"},
		{123456789012345678, "1.2345678901234568e+17"},
		{0.0001, "0.0001"},
		{0.00001, "1.0000000000000001e-05"},
		{1.5e-7, "1.4999999999999999e-07"},
		{-2.5, "-2.5"},
		{1e300, "1.0000000000000001e+300"},
		{5e-324, "4.9406564584124654e-324"},
		{2.2250738585072014e-308, "2.2250738585072014e-308"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{3.14159, "3.1415899999999999"},
		{100, "100"},
		{1e15, "1000000000000000"},
		{123456.789, "123456.789"},
		{-1e-5, "-1.0000000000000001e-05"},
		{0.3, "0.29999999999999999"},
		{2.5e-5, "2.5000000000000001e-05"},
		{9007199254740993, "9007199254740992"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
		{math.Copysign(math.NaN(), -1), "-nan"},
	}
	for _, tc := range cases {
		requireEqual(t, string(FormatDouble(nil, tc.in)), tc.want, "FormatDouble")
	}
}

// TestWriterAllocs guards the claim that appending into a buffer with room
// allocates nothing.
func TestWriterAllocs(t *testing.T) {
	val := []byte(strings.Repeat("v", 100))
	buf := make([]byte, 0, 64<<10)
	for _, proto := range []int{2, 3} {
		a := testing.AllocsPerRun(100, func() {
			b := buf[:0]
			b = AppendSimple(b, "OK")
			b = AppendOK(b)
			b = AppendError(b, "ERR x\r\n")
			b = AppendInt(b, -12345)
			b = AppendBulk(b, val)
			b = AppendBulkString(b, "hello")
			b = AppendBulkInt(b, math.MinInt64)
			b = AppendNull(b, proto)
			b = AppendNullArray(b, proto)
			b = AppendArrayLen(b, 10)
			b = AppendMapLen(b, 10, proto)
			b = AppendSetLen(b, 10, proto)
			b = AppendPushLen(b, 10, proto)
			b = AppendAttributeLen(b, 1)
			b = AppendBool(b, true, proto)
			b = AppendDouble(b, 1.1, proto)
			b = AppendDouble(b, math.Inf(-1), proto)
			b = FormatDouble(b, -1.5e-300)
			b = AppendBigNumber(b, "12345678901234567890", proto)
			b = AppendVerbatim(b, "txt", val, proto)
			buf = b[:0]
		})
		if a != 0 {
			t.Fatalf("proto %d: %v allocs per run, want 0", proto, a)
		}
	}
	for _, c := range writerCases {
		if a := testing.AllocsPerRun(10, func() { buf = c.fn(buf[:0], 3)[:0] }); a != 0 {
			t.Errorf("%s: %v allocs, want 0", c.name, a)
		}
	}
}
