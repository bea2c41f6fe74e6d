package protocol

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

type parseCase struct {
	name   string
	reader Reader // limits; the zero value means Redis's defaults
	in     string
	want   outcome
}

// Expected outcomes below were checked against redis-server 7.0.15 (see
// TestDifferentialRedis, which replays the malformed ones).
var parseCases = []parseCase{
	// Multibulk.
	{name: "get", in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", want: outcome{Cmds: cmds(cmd("GET", "k"))}},
	{name: "empty bulk", in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", want: outcome{Cmds: cmds(cmd("SET", "k", ""))}},
	{name: "binary bulk", in: "*2\r\n$4\r\nECHO\r\n$6\r\n\r\n\x00\xff\r\n\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "\r\n\x00\xff\r\n"))}},
	{name: "bulk holding a header", in: "*2\r\n$4\r\nECHO\r\n$8\r\n*1\r\n$1\r\n\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "*1\r\n$1\r\n"))}},
	{name: "zero count", in: "*0\r\n", want: outcome{}},
	{name: "null count", in: "*-1\r\n", want: outcome{}},
	{name: "negative count", in: "*-5\r\n*1\r\n$4\r\nPING\r\n", want: outcome{Cmds: cmds(cmd("PING"))}},
	{name: "min int64 count", in: "*-9223372036854775808\r\n", want: outcome{}},
	{name: "trailer unchecked", in: "*1\r\n$4\r\nPINGXY", want: outcome{Cmds: cmds(cmd("PING"))}},
	{name: "LF unchecked", in: "*1\rX$4\rYPING\r\n", want: outcome{Cmds: cmds(cmd("PING"))}},
	{name: "pipeline", in: "*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
		want: outcome{Cmds: cmds(cmd("PING"), cmd("PING"), cmd("ECHO", ""))}},
	{name: "incomplete count", in: "*2", want: outcome{Leftover: 2}},
	{name: "incomplete CR", in: "*2\r", want: outcome{Leftover: 3}},
	{name: "incomplete bulk header", in: "*2\r\n$3\r", want: outcome{Leftover: 7}},
	{name: "incomplete bulk", in: "*1\r\n$3\r\nfo", want: outcome{Leftover: 10}},
	{name: "incomplete trailer", in: "*1\r\n$3\r\nfoo\r", want: outcome{Leftover: 12}},
	{name: "huge declared bulk", in: "*1\r\n$536870912\r\nabc", want: outcome{Leftover: 19}},
	{name: "huge declared count", in: "*1048576\r\n$1\r\na\r\n", want: outcome{Leftover: 17}},
	{name: "count over default MaxArgs", in: "*1048577\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "NUL hides count CR", in: "*1\x00\r\n$4\r\nPING\r\n", want: outcome{Leftover: 15}},
	{name: "NUL hides bulk CR", in: "*1\r\n$4\x00\r\nPING\r\n", want: outcome{Leftover: 15}},

	{name: "count not a number", in: "*x\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count empty", in: "*\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count plus", in: "*+1\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count minus zero", in: "*-0\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count leading zero", in: "*01\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count space", in: "* 1\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count trailing space", in: "*1 \r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count over INT_MAX", in: "*2147483648\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count overflow", in: "*99999999999999999999\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count over MaxArgs", reader: Reader{MaxArgs: 3}, in: "*4\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "count at MaxArgs", reader: Reader{MaxArgs: 3}, in: "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", want: outcome{Cmds: cmds(cmd("a", "b", "c"))}},
	{name: "expected dollar", in: "*1\r\n+OK\r\n", want: outcome{Err: "Protocol error: expected '$', got '+'"}},
	{name: "expected dollar high byte", in: "*1\r\n\xff\r\n", want: outcome{Err: "Protocol error: expected '$', got '\xff'"}},
	{name: "expected dollar CR", in: "*1\r\n\r\n", want: outcome{Err: "Protocol error: expected '$', got ' '"}},
	{name: "expected dollar LF", in: "*1\r\n\n\r\n", want: outcome{Err: "Protocol error: expected '$', got ' '"}},
	{name: "expected dollar second", in: "*2\r\n$1\r\na\r\n:1\r\n", want: outcome{Err: "Protocol error: expected '$', got ':'"}},
	{name: "bulk negative", in: "*1\r\n$-1\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},
	{name: "bulk minus zero", in: "*1\r\n$-0\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},
	{name: "bulk empty", in: "*1\r\n$\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},
	{name: "bulk space", in: "*1\r\n$ 4\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},
	{name: "bulk over max", in: "*1\r\n$536870913\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},
	{name: "bulk over MaxBulkLen", reader: Reader{MaxBulkLen: 3}, in: "*1\r\n$4\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},
	{name: "bulk overflow", in: "*1\r\n$99999999999999999999\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},
	{name: "error after commands", in: "*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n", want: outcome{Cmds: cmds(cmd("PING")), Err: "Protocol error: invalid bulk length"}},

	{name: "too big mbulk", in: "*" + strings.Repeat("1", 65536), want: outcome{Err: "Protocol error: too big mbulk count string"}},
	{name: "mbulk at limit", in: "*" + strings.Repeat("1", 65535), want: outcome{Leftover: 65536}},
	{name: "mbulk CR past limit", in: "*" + strings.Repeat("1", 65536) + "\r\n", want: outcome{Err: "Protocol error: too big mbulk count string"}},
	{name: "mbulk long but terminated", in: "*" + strings.Repeat("1", 65535) + "\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "too big bulk", in: "*1\r\n$" + strings.Repeat("1", 65536), want: outcome{Err: "Protocol error: too big bulk count string"}},
	{name: "bulk at limit", in: "*1\r\n$" + strings.Repeat("1", 65535), want: outcome{Leftover: 65540}},
	{name: "NUL then too big", in: "*1\x00" + strings.Repeat("\r\n", 40000), want: outcome{Err: "Protocol error: too big mbulk count string"}},
	{name: "small MaxInline", reader: Reader{MaxInline: 4}, in: "*1\r\n$12345", want: outcome{Err: "Protocol error: too big bulk count string"}},

	{name: "unauth count 10", reader: Reader{Unauthenticated: true}, in: "*10\r\n", want: outcome{Leftover: 5}},
	{name: "unauth count 11", reader: Reader{Unauthenticated: true}, in: "*11\r\n", want: outcome{Err: "Protocol error: unauthenticated multibulk length"}},
	{name: "unauth invalid first", reader: Reader{Unauthenticated: true}, in: "*2147483648\r\n", want: outcome{Err: "Protocol error: invalid multibulk length"}},
	{name: "unauth negative count", reader: Reader{Unauthenticated: true}, in: "*-100\r\n", want: outcome{}},
	{name: "unauth bulk 16384", reader: Reader{Unauthenticated: true}, in: "*1\r\n$16384\r\n", want: outcome{Leftover: 12}},
	{name: "unauth bulk 16385", reader: Reader{Unauthenticated: true}, in: "*1\r\n$16385\r\n", want: outcome{Err: "Protocol error: unauthenticated bulk length"}},
	{name: "unauth bulk invalid first", reader: Reader{Unauthenticated: true}, in: "*1\r\n$536870913\r\n", want: outcome{Err: "Protocol error: invalid bulk length"}},

	// Inline.
	{name: "inline", in: "GET k\r\n", want: outcome{Cmds: cmds(cmd("GET", "k"))}},
	{name: "inline LF only", in: "GET k\nPING\n", want: outcome{Cmds: cmds(cmd("GET", "k"), cmd("PING"))}},
	{name: "inline blanks", in: " \t GET \v k\f \r\n", want: outcome{Cmds: cmds(cmd("GET", "k\f"))}},
	{name: "inline vtab inside token", in: "ECHO a\vb\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "a\vb"))}},
	{name: "inline CR separates", in: "ECHO x\rPING\n", want: outcome{Cmds: cmds(cmd("ECHO", "x", "PING"))}},
	{name: "inline CR CR LF", in: "PING\r\r\n", want: outcome{Cmds: cmds(cmd("PING"))}},
	{name: "empty lines", in: "\r\n\n  \t\r\nPING\r\n", want: outcome{Cmds: cmds(cmd("PING"))}},
	{name: "inline empty quotes", in: "SET a \"\" ''\r\n", want: outcome{Cmds: cmds(cmd("SET", "a", "", ""))}},
	{name: "inline double quotes", in: "ECHO \"a b\"\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "a b"))}},
	{name: "inline escapes", in: `ECHO "\n\r\t\b\a\\\"\q"` + "\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "\n\r\t\b\a\\\"q"))}},
	{name: "inline hex", in: `ECHO "\x41\x4g\x" "\x00\xfF"` + "\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "Ax4gx", "\x00\xff"))}},
	{name: "inline single quotes", in: `ECHO 'a\'b\n"c' x` + "\r\n", want: outcome{Cmds: cmds(cmd("ECHO", `a'b\n"c`, "x"))}},
	{name: "inline quote mid token", in: `ECHO ab"c d"` + "\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "abc d"))}},
	{name: "inline quote then CR", in: "ECHO \"a\"\r\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "a"))}},
	{name: "inline quote then vtab", in: "ECHO \"a\"\vb\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "a", "b"))}},
	{name: "inline star later", in: "ECHO *1\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "*1"))}},
	{name: "inline dollar", in: "$3\r\n", want: outcome{Cmds: cmds(cmd("$3"))}},
	{name: "inline high bytes", in: "ECHO \xff\xfe\r\n", want: outcome{Cmds: cmds(cmd("ECHO", "\xff\xfe"))}},
	{name: "inline incomplete", in: "GET k\r", want: outcome{Leftover: 6}},
	{name: "inline NUL", in: "PING\x00\r\n", want: outcome{Leftover: 7}},
	{name: "inline NUL first", in: "\x00\r\n", want: outcome{Leftover: 3}},

	{name: "unbalanced double", in: "ECHO \"abc\r\n", want: outcome{Err: "Protocol error: unbalanced quotes in request"}},
	{name: "unbalanced single", in: "ECHO 'abc\r\n", want: outcome{Err: "Protocol error: unbalanced quotes in request"}},
	{name: "unbalanced backslash end", in: "ECHO \"a\\\r\n", want: outcome{Err: "Protocol error: unbalanced quotes in request"}},
	{name: "closing quote glued", in: "\"foo\"bar\r\n", want: outcome{Err: "Protocol error: unbalanced quotes in request"}},
	{name: "closing single glued", in: "ECHO 'a'b\r\n", want: outcome{Err: "Protocol error: unbalanced quotes in request"}},
	{name: "unbalanced after commands", in: "PING\r\nECHO \"\r\nPING\r\n", want: outcome{Cmds: cmds(cmd("PING")), Err: "Protocol error: unbalanced quotes in request"}},
	{name: "too big inline", in: strings.Repeat("a", 65537), want: outcome{Err: "Protocol error: too big inline request"}},
	{name: "inline at limit", in: strings.Repeat("a", 65536), want: outcome{Leftover: 65536}},
	{name: "inline LF past limit", in: strings.Repeat("a", 65537) + "\n", want: outcome{Err: "Protocol error: too big inline request"}},
	{name: "inline long with LF", in: strings.Repeat("a", 65536) + "\n", want: outcome{Cmds: cmds(cmd(strings.Repeat("a", 65536)))}},
	{name: "inline small MaxInline", reader: Reader{MaxInline: 3}, in: "PING\r\n", want: outcome{Err: "Protocol error: too big inline request"}},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.reader
			got := parseWhole(t, &r, []byte(tc.in))
			requireEqual(t, got, tc.want, "outcome")
		})
	}
}

// TestParseSplit feeds every case split in two at every byte, byte by byte,
// and in random chunks: the outcome must not depend on how reads split it.
func TestParseSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			var plans [][]int
			if len(in) <= 4096 {
				plans = append(plans, everyCut(in)...)
				plans = append(plans, byteByByte(in))
			}
			for range 20 {
				plans = append(plans, randomCuts(rng, len(in)))
			}
			for _, cuts := range plans {
				r := tc.reader
				got := feed(t, &r, in, cuts)
				if !equalOutcome(got, tc.want) {
					t.Fatalf("cuts %v:\n got %v\nwant %v", cuts, got, tc.want)
				}
			}
		})
	}
}

func equalOutcome(a, b outcome) bool {
	return a.String() == b.String()
}

// randomCuts splits n bytes into reads of random sizes, small ones favoured.
func randomCuts(rng *rand.Rand, n int) []int {
	var cuts []int
	for at := 0; at < n; {
		step := 1 + rng.IntN(1+rng.IntN(64))
		if rng.IntN(8) == 0 {
			step = 1 + rng.IntN(n)
		}
		at = min(at+step, n)
		cuts = append(cuts, at)
	}
	if len(cuts) == 0 {
		cuts = []int{0}
	}
	return cuts
}

// TestParsePipelineEverySplit builds one pipeline of mixed multibulk and
// inline commands and delivers it split at every byte position and in
// random chunk sizes.
func TestParsePipelineEverySplit(t *testing.T) {
	var in []byte
	var want [][]string
	add := func(args ...string) {
		in = encodeCmd(in, args...)
		want = append(want, args)
	}
	add("SET", "key", "value")
	add("SET", "bin", "\r\n\x00*1\r\n$3\r\n\xff")
	add("ECHO", "")
	in = append(in, "PING\r\n"...)
	want = append(want, cmd("PING"))
	in = append(in, "*0\r\n\r\n\n*-1\r\n"...)
	in = append(in, `SET "a b" 'c\'d' "\x41\n"`+"\n"...)
	want = append(want, cmd("SET", "a b", "c'd", "A\n"))
	add("MSET", "k1", "v1", "k2", strings.Repeat("x", 300), "k3", "")
	add("GET", "key")

	requireEqual(t, parseWhole(t, new(Reader), in), outcome{Cmds: want}, "whole")
	for _, cuts := range everyCut(in) {
		if got := feed(t, new(Reader), in, cuts); !equalOutcome(got, outcome{Cmds: want}) {
			t.Fatalf("cuts %v: got %v", cuts, got)
		}
	}
	// One Reader reused across many deliveries, as a connection does.
	r := new(Reader)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		cuts := randomCuts(rng, len(in))
		if got := feed(t, r, in, cuts); !equalOutcome(got, outcome{Cmds: want}) {
			t.Fatalf("cuts %v: got %v", cuts, got)
		}
	}
	if got := feed(t, r, in, byteByByte(in)); !equalOutcome(got, outcome{Cmds: want}) {
		t.Fatalf("byte by byte: got %v", got)
	}
}

func TestParseErrorsIs(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"ECHO \"\r\n", ErrUnbalancedQuotes},
		{strings.Repeat("a", 70000), ErrTooBigInline},
		{"*" + strings.Repeat("1", 70000), ErrTooBigMbulk},
		{"*x\r\n", ErrInvalidMbulk},
		{"*1\r\n:1\r\n", ErrExpectedDollar},
		{"*1\r\n$" + strings.Repeat("1", 70000), ErrTooBigBulk},
		{"*1\r\n$-1\r\n", ErrInvalidBulk},
	}
	for _, tc := range cases {
		_, _, err := new(Reader).Parse([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%.20q: got %v, want %v", tc.in, err, tc.want)
		}
		if errors.Is(err, ErrInvalidMbulk) != (tc.want == ErrInvalidMbulk) {
			t.Errorf("%.20q: errors.Is matches the wrong kind", tc.in)
		}
	}
	r := Reader{Unauthenticated: true}
	if _, _, err := r.Parse([]byte("*11\r\n")); !errors.Is(err, ErrUnauthMbulk) {
		t.Errorf("got %v, want %v", err, ErrUnauthMbulk)
	}
	if _, _, err := r.Parse([]byte("*1\r\n$20000\r\n")); !errors.Is(err, ErrUnauthBulk) {
		t.Errorf("got %v, want %v", err, ErrUnauthBulk)
	}
}

// TestParseNeed checks the values Need reports while a request is awaited.
func TestParseNeed(t *testing.T) {
	cases := []struct {
		name   string
		reader Reader
		in     string
		need   int
	}{
		{"empty", Reader{}, "", 1},
		{"count line", Reader{}, "*3", 3},
		{"count CR", Reader{}, "*3\r", 4},
		{"bulk line", Reader{}, "*3\r\n$10", 8},
		{"bulk data", Reader{}, "*3\r\n$10\r\nab", 9 + 12},
		{"huge bulk", Reader{}, "*1\r\n$104857600\r\nxyz", 16 + 104857600 + 2},
		{"inline", Reader{}, "GET", 4},
		{"inline NUL", Reader{MaxInline: 100}, "GET\x00", 101},
		{"count NUL", Reader{MaxInline: 100}, "*\x00", 101},
		{"bulk NUL", Reader{MaxInline: 100}, "*1\r\n$\x00", 4 + 101},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.reader
			args, n, err := r.Parse([]byte(tc.in))
			if args != nil || n != 0 || err != nil {
				t.Fatalf("Parse = %q, %d, %v; want incomplete", args, n, err)
			}
			requireEqual(t, r.Need(), tc.need, "Need")
		})
	}
	var r Reader
	requireEqual(t, r.Need(), 1, "zero Reader Need")
	if _, n, _ := r.Parse([]byte("PING\r\n")); n != 6 {
		t.Fatalf("n = %d", n)
	}
	requireEqual(t, r.Need(), 1, "Need after a command")
}

// TestParseResume checks the incremental contract: progress is kept across
// calls, a shorter buffer restarts, Reset forgets.
func TestParseResume(t *testing.T) {
	full := []byte("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n")
	var r Reader
	if _, n, _ := r.Parse(full[:20]); n != 0 {
		t.Fatal("complete too early")
	}
	// Same bytes, new backing array: the Reader must not have kept slices.
	moved := append([]byte(nil), full...)
	args, n, err := r.Parse(moved)
	requireEqual(t, err, nil, "err")
	requireEqual(t, n, len(full), "n")
	requireEqual(t, copyArgs(args), cmd("ECHO", "hello"), "args")
	// Args alias the buffer (zero-copy).
	if &args[1][0] != &moved[len(moved)-7] {
		t.Fatal("args do not alias the input buffer")
	}

	// A shorter buffer than last time restarts parsing.
	r.Reset()
	if _, n, _ := r.Parse(full[:20]); n != 0 {
		t.Fatal("complete too early")
	}
	other := []byte("*1\r\n$4\r\nPING\r\n")
	args, n, err = r.Parse(other)
	requireEqual(t, err, nil, "err")
	requireEqual(t, n, len(other), "n")
	requireEqual(t, copyArgs(args), cmd("PING"), "args")

	// Reset forgets a partial request.
	if _, n, _ := r.Parse(full[:20]); n != 0 {
		t.Fatal("complete too early")
	}
	r.Reset()
	other = []byte("PING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n")
	args, n, _ = r.Parse(other)
	requireEqual(t, copyArgs(args), cmd("PING"), "args after Reset")
	requireEqual(t, n, 6, "n after Reset")

	// After an error the Reader starts over.
	if _, _, err := r.Parse([]byte("*1\r\n$x\r\n")); err == nil {
		t.Fatal("no error")
	}
	args, _, _ = r.Parse([]byte("PING\r\n"))
	requireEqual(t, copyArgs(args), cmd("PING"), "args after error")
}

// TestParseManyArgsLinear delivers a command of 200k arguments in 4 KB
// reads; a parser that restarted on every read would do ~10^11 steps and
// time out, an incremental one does ~10^6.
func TestParseManyArgsLinear(t *testing.T) {
	const nargs = 200000
	in := AppendArrayLen(nil, nargs)
	for i := range nargs {
		in = AppendBulkString(in, strconv.Itoa(i))
	}
	var r Reader
	var args [][]byte
	var n int
	for end := 4096; ; end += 4096 {
		end = min(end, len(in))
		var err error
		args, n, err = r.Parse(in[:end])
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 || end == len(in) {
			break
		}
		if r.Need() != end+1 && r.Need() > end+20 {
			t.Fatalf("Need %d at %d", r.Need(), end)
		}
	}
	requireEqual(t, n, len(in), "n")
	requireEqual(t, len(args), nargs, "len(args)")
	for i := 0; i < nargs; i += 9973 {
		requireEqual(t, string(args[i]), strconv.Itoa(i), "arg")
	}
}

// TestParseInlineScratch checks that unescaped inline arguments are
// correct when several of them, with aliased ones between, fill the
// scratch buffer past its capacity.
func TestParseInlineScratch(t *testing.T) {
	var line strings.Builder
	var want []string
	for i := range 200 {
		a := strings.Repeat(string(rune('a'+i%26)), i)
		if i%2 == 0 {
			line.WriteString(`"` + a + `\x21" `)
			a += "!"
		} else {
			line.WriteString(a + "x ")
			a += "x"
		}
		want = append(want, a)
	}
	line.WriteString("\r\n")
	var r Reader
	got := parseWhole(t, &r, []byte(line.String()))
	requireEqual(t, got, outcome{Cmds: cmds(want)}, "outcome")
}

func TestParseInt(t *testing.T) {
	cases := []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"10", 10, true},
		{"9223372036854775807", 1<<63 - 1, true}, {"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false}, {"99999999999999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {"-0", 0, false}, {"00", 0, false},
		{"01", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1a", 0, false}, {"0x1", 0, false},
		{"000000000000000000001", 0, false},
	}
	for _, tc := range cases {
		v, ok := ParseInt([]byte(tc.in))
		if v != tc.v || ok != tc.ok {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}

// TestParseAllocs guards the zero-allocation claim: a Reader parsing
// multibulk and inline commands in steady state allocates nothing.
func TestParseAllocs(t *testing.T) {
	cases := map[string][]byte{
		"get":      encodeCmd(nil, "GET", "key:000001"),
		"set-1KB":  encodeCmd(nil, "SET", "key:000001", strings.Repeat("v", 1024)),
		"mset-100": encodeCmd(nil, strings.Split(strings.Repeat("k v ", 50)+"MSET", " ")...),
		"inline":   []byte("SET key \"a\\x41b\" 'c' d\r\n"),
		"split":    encodeCmd(nil, "SET", "key", "value"),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			var r Reader
			parse := func() {
				if name == "split" {
					if _, n, _ := r.Parse(in[:len(in)/2]); n != 0 {
						t.Fatal("complete too early")
					}
				}
				args, n, err := r.Parse(in)
				if err != nil || n != len(in) || len(args) == 0 {
					t.Fatalf("Parse = %d args, %d, %v", len(args), n, err)
				}
			}
			parse() // grow the reusable buffers
			if a := testing.AllocsPerRun(100, parse); a != 0 {
				t.Fatalf("%v allocs per command, want 0", a)
			}
		})
	}
}

// TestParseHugeLimits checks that absurd limits do not overflow offsets.
func TestParseHugeLimits(t *testing.T) {
	r := Reader{MaxInline: math.MaxInt, MaxBulkLen: math.MaxInt64, MaxArgs: math.MaxInt}
	got := parseWhole(t, &r, []byte("*1\r\n$4611686018427387904\r\nab"))
	requireEqual(t, got, outcome{Leftover: 28}, "outcome")
	if r.Need() <= 28 {
		t.Fatalf("Need() = %d", r.Need())
	}
	r.Reset()
	got = parseWhole(t, &r, []byte("PING\r\nGET"))
	requireEqual(t, got, outcome{Cmds: cmds(cmd("PING")), Leftover: 3}, "outcome")
}

// TestParseRandomStreams builds random pipelines of multibulk and inline
// requests from a seeded generator (print with -v; replay with the same
// seed): intact ones must parse back to the generated arguments, and every
// one, intact or corrupted at a random byte, must parse the same way
// whether delivered whole or in random reads.
func TestParseRandomStreams(t *testing.T) {
	const seed = 20261125
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d", seed)
	alphabet := []byte("ab \t\r\n\x00\"'\\x*$-0123456789\xff")
	randArg := func() string {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for iter := range 3000 {
		var in []byte
		var want [][]string
		for range 1 + rng.IntN(6) {
			args := make([]string, 1+rng.IntN(5))
			for i := range args {
				args[i] = randArg()
			}
			if rng.IntN(3) == 0 {
				in = encodeInline(in, args)
			} else {
				in = encodeCmd(in, args...)
			}
			want = append(want, args)
			if rng.IntN(5) == 0 {
				in = append(in, []string{"\r\n", "\n", "*0\r\n", "*-1\r\n", "  \r\n"}[rng.IntN(5)]...)
			}
		}
		if rng.IntN(2) == 0 {
			if got := feed(t, new(Reader), in, randomCuts(rng, len(in))); !equalOutcome(got, outcome{Cmds: want}) {
				t.Fatalf("iter %d: intact stream %q\n got %v", iter, in, got)
			}
		} else {
			in[rng.IntN(len(in))] = alphabet[rng.IntN(len(alphabet))]
		}
		limits := []Reader{{}, {MaxInline: 5, MaxBulkLen: 6, MaxArgs: 4}}[rng.IntN(2)]
		r := limits
		whole := parseWhole(t, &r, in)
		for range 3 {
			r = limits
			if got := feed(t, &r, in, randomCuts(rng, len(in))); !equalOutcome(got, whole) {
				t.Fatalf("iter %d: %q split differs:\nsplit %v\nwhole %v", iter, in, got, whole)
			}
		}
	}
}

// TestParseCompleteMatchesGeneral checks the one-pass path for whole
// requests (parseComplete) against the general one on the inputs where
// they could part: each input parsed whole (the one-pass path when it
// applies) must give what the same bytes fed one at a time give (always
// the general path), for Readers with the default, tiny and
// unauthenticated limits.
func TestParseCompleteMatchesGeneral(t *testing.T) {
	args := func(n int) string {
		s := "*" + strconv.Itoa(n) + "\r\n"
		for range n {
			s += "$1\r\na\r\n"
		}
		return s
	}
	inputs := []string{
		"*1\r\n$4\r\nPING\r\n",
		"*2\r\n$3\r\nGET\r\n$0\r\n\r\n",
		"*1\r\n$01\r\nx\r\n",      // leading zero in a bulk length
		"*01\r\n$1\r\nx\r\n",      // and in the count
		"*1\r\n$-1\r\n",           // a negative length
		"*0\r\n*1\r\n$1\r\nx\r\n", // an empty request first
		"*1\r\n$1\r\nxYZ*1\r\n",   // the two bytes after a bulk are not checked
		"*2\r\n$1\r\nx\r\n:1\r\n", // not a bulk
		"*1\r\n$1234\r\n" + strings.Repeat("b", 1234) + "\r\n",
		"*1\r\n$16385\r\n" + strings.Repeat("b", 16385) + "\r\n", // over the unauthenticated bulk limit
		args(10), args(11), args(16), args(17), // around the unauthenticated and one-pass argument limits
	}
	readers := []Reader{{}, {MaxInline: 3}, {MaxArgs: 5}, {MaxInline: 7, MaxBulkLen: 9, MaxArgs: 5}, {Unauthenticated: true}}
	for _, in := range inputs {
		for _, limits := range readers {
			r := limits
			whole := parseWhole(t, &r, []byte(in))
			r = limits
			split := feed(t, &r, []byte(in), byteByByte([]byte(in)))
			if !equalOutcome(whole, split) {
				t.Errorf("limits %+v, %.40q:\nwhole %v\nsplit %v", limits, in, whole, split)
			}
		}
	}
}
