package difftest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
)

// The harness is the oracle's plumbing: these tests check that it reads
// every reply type whole, splits script lines as redis-cli does, and that
// each comparison mode does reject what it must.

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name, line string
		want       []string
		err        bool
	}{
		{"plain", "SET k v", []string{"SET", "k", "v"}, false},
		{"spaces", "  GET   k  ", []string{"GET", "k"}, false},
		{"tabs", "GET\tk", []string{"GET", "k"}, false},
		{"empty", "", nil, false},
		{"double quotes", `SET "a b" "c"`, []string{"SET", "a b", "c"}, false},
		{"empty double", `SET k ""`, []string{"SET", "k", ""}, false},
		{"empty single", `SET k ''`, []string{"SET", "k", ""}, false},
		{"escapes", `X "\n\r\t\b\a\\\"\q"`, []string{"X", "\n\r\t\b\a\\\"q"}, false},
		{"hex", `X "\x00\xff\x41"`, []string{"X", "\x00\xffA"}, false},
		{"bad hex kept", `X "\xZZ"`, []string{"X", "xZZ"}, false},
		{"single quotes", `X 'a\'b' 'c\nd'`, []string{"X", "a'b", `c\nd`}, false},
		{"quote inside word", `X a"b c"`, []string{"X", "ab c"}, false},
		{"unterminated double", `X "abc`, nil, true},
		{"unterminated single", `X 'abc`, nil, true},
		{"closing quote then char", `X "a"b`, nil, true},
		{"closing single then char", `X 'a'b`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitArgs(tc.line)
			if (err != nil) != tc.err {
				t.Fatalf("splitArgs(%q) error = %v, want error %v", tc.line, err, tc.err)
			}
			if err != nil {
				if !errors.Is(err, errSplit) {
					t.Errorf("error %v is not errSplit", err)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("splitArgs(%q) = %q, want %q", tc.line, got, tc.want)
			}
			for i := range got {
				if string(got[i]) != tc.want[i] {
					t.Errorf("splitArgs(%q)[%d] = %q, want %q", tc.line, i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestParseValue: every sample reply (internal/redistest.Samples) parses
// whole.
func TestParseValue(t *testing.T) {
	for _, sm := range redistest.Samples() {
		t.Run(sm.Name, func(t *testing.T) {
			v, err := parseValue([]byte(sm.Raw))
			if err != nil {
				t.Fatalf("parseValue(%q): %v", sm.Raw, err)
			}
			if string(v.raw) != sm.Raw {
				t.Errorf("parseValue(%q).raw = %q", sm.Raw, v.raw)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name, mode, a, b string
		equal            bool
	}{
		{"exact same", "", "+OK\r\n", "+OK\r\n", true},
		{"exact differ", "", "$1\r\na\r\n", "$1\r\nb\r\n", false},
		{"exact null kinds", "", "$-1\r\n", "*-1\r\n", false},
		{"closed vs reply", "", closedReply, "+OK\r\n", false},
		{"skip", "skip", "+OK\r\n", "-ERR\r\n", true},
		{"type same", "type", ":1\r\n", ":2\r\n", true},
		{"type differ", "type", ":1\r\n", "$1\r\n1\r\n", false},
		{"type error vs value", "type", "$1\r\na\r\n", "-ERR x\r\n", false},
		{"shape same", "shape", "*2\r\n$1\r\na\r\n$2\r\nbb\r\n", "*2\r\n$3\r\nccc\r\n$1\r\nd\r\n", true},
		{"shape length", "shape", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*1\r\n$1\r\na\r\n", false},
		{"shape nested type", "shape", "*1\r\n:1\r\n", "*1\r\n$1\r\n1\r\n", false},
		{"shape null bulk", "shape", "$-1\r\n", "$1\r\na\r\n", false},
		{"sort same set", "sort", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\na\r\n", true},
		{"sort multiset", "sort", "*2\r\n$1\r\na\r\n$1\r\na\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", false},
		{"sort length", "sort", "*1\r\n$1\r\na\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", false},
		{"sort aggregate kind", "sort", "*1\r\n$1\r\na\r\n", "~1\r\n$1\r\na\r\n", false},
		{"sort map pairs", "sort", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n", true},
		{"sort map pairs kept", "sort", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%2\r\n+a\r\n:2\r\n+b\r\n:1\r\n", false},
		{"sort scalar", "sort", "+a\r\n", "+b\r\n", false},
		{"sortdeep nested", "sortdeep", "*2\r\n*2\r\n+x\r\n+y\r\n+z\r\n", "*2\r\n+z\r\n*2\r\n+y\r\n+x\r\n", true},
		{"sortdeep content", "sortdeep", "*2\r\n*2\r\n+x\r\n+y\r\n+z\r\n", "*2\r\n+z\r\n*2\r\n+y\r\n+y\r\n", false},
		{"sortdeep nesting kept", "sortdeep", "*2\r\n*1\r\n+x\r\n+y\r\n", "*2\r\n*1\r\n+y\r\n+x\r\n", false},
		{"scan compares exactly", "scan", "*1\r\n$1\r\na\r\n", "*1\r\n$1\r\nb\r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := compare(tc.mode, []byte(tc.a), []byte(tc.b))
			if ok != tc.equal {
				t.Errorf("compare(%q, %q, %q) = %v (%s), want %v", tc.mode, tc.a, tc.b, ok, why, tc.equal)
			}
		})
	}
}

func TestParseScript(t *testing.T) {
	text := strings.Join([]string{
		"# comment",
		"",
		"@requires rpush sadd",
		"SET k v",
		"@sort KEYS *",
		"@type",
		"INFO",
		"@sleep 20 @proto 3 @conn 2 GET k",
		"@sleep 5",
	}, "\n")
	s, err := parseScript("t.txt", text)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.requires, ",") != "rpush,sadd" {
		t.Errorf("requires = %q", s.requires)
	}
	want := []struct {
		line  int
		mode  string
		sleep time.Duration
		proto int
		conn  int
		args  int
	}{
		{4, "", 0, 0, 0, 3},
		{5, "sort", 0, 0, 0, 2},
		{7, "type", 0, 0, 0, 1},
		{8, "", 20 * time.Millisecond, 3, 2, 2},
		{-1, "", 5 * time.Millisecond, 0, 0, 0},
	}
	if len(s.steps) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(s.steps), len(want), s.steps)
	}
	for i, w := range want {
		st := s.steps[i]
		if st.line != w.line || st.mode != w.mode || st.sleep != w.sleep || st.proto != w.proto || st.conn != w.conn || len(st.args) != w.args {
			t.Errorf("step %d = %+v, want %+v", i, st, w)
		}
	}

	for _, bad := range []string{
		"@bogus GET k",
		"@sort @type GET k",
		"@sleep x GET k",
		"@conn 0 GET k",
		"GET \"k",
		"@sort",
	} {
		if _, err := parseScript("bad.txt", bad); err == nil {
			t.Errorf("parseScript(%q) succeeded, want an error", bad)
		}
	}
}

// TestGenReplays checks that a seed always yields the same command stream,
// which -diff.seed relies on.
func TestGenReplays(t *testing.T) {
	a, b := newGen(42), newGen(42)
	c := newGen(43)
	same := true
	for i := 0; i < 5000; i++ {
		x, mx := a.next()
		y, my := b.next()
		z, _ := c.next()
		if quoteArgs(x) != quoteArgs(y) || mx != my {
			t.Fatalf("command #%d: %s vs %s", i, quoteArgs(x), quoteArgs(y))
		}
		same = same && quoteArgs(x) == quoteArgs(z)
	}
	if same {
		t.Error("seeds 42 and 43 generated the same 5000 commands")
	}
}
