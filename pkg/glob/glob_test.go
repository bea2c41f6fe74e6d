package glob

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		s       string
		nocase  bool
		want    bool
	}{
		{"empty both", "", "", false, true},
		{"empty pattern", "", "a", false, false},
		{"empty string literal", "a", "", false, false},
		{"star empty (7.0 quirk)", "*", "", false, false},
		{"stars empty", "***", "", false, false},
		{"star any", "*", "anything", false, true},
		{"literal", "hello", "hello", false, true},
		{"literal case", "hello", "Hello", false, false},
		{"literal nocase", "hello", "HeLLo", true, true},
		{"prefix star", "h*", "hello", false, true},
		{"suffix star", "*lo", "hello", false, true},
		{"middle star", "h*o", "hello", false, true},
		{"middle star fail", "h*x", "hello", false, false},
		{"question", "h?llo", "hello", false, true},
		{"question empty", "?", "", false, false},
		{"question short", "??", "a", false, false},
		{"class", "h[ae]llo", "hallo", false, true},
		{"class miss", "h[ae]llo", "hillo", false, false},
		{"class neg", "h[^e]llo", "hallo", false, true},
		{"class neg miss", "h[^e]llo", "hello", false, false},
		{"range", "h[a-b]llo", "hbllo", false, true},
		{"range reversed", "h[b-a]llo", "hallo", false, true},
		{"range miss", "h[a-b]llo", "hcllo", false, false},
		{"range nocase", "[a-c]", "B", true, true},
		{"range case", "[a-c]", "B", false, false},
		{"class nocase", "[abc]", "B", true, true},
		{"escaped star", `\*`, "*", false, true},
		{"escaped star literal only", `\*`, "a", false, false},
		{"escaped in class", `[\]]`, "]", false, true},
		{"escaped in class nocase exact", `[\A]`, "a", true, false},
		{"trailing backslash", `a\`, `a\`, false, true},
		{"unterminated class", "[abc", "b", false, true},
		{"unterminated class after", "[ab", "c", false, false},
		{"open bracket only", "[", "[", false, false},
		{"empty class", "[]", "]", false, false},
		{"close bracket first", "[]a]", "]", false, false},
		{"dash before close is a range to ]", "[a-]", "-", false, false},
		{"dash before close range hit", "[a-]", "^", false, true},
		{"dash literal range", "[--/]", ".", false, true},
		{"caret alone matches any", "[^]", "x", false, true},
		{"star then class", "*[0-9]", "abc7", false, true},
		{"many stars", "a**b**c", "aXbYc", false, true},
		{"star trailing after match", "abc*", "abc", false, true},
		{"star class trailing", "a*[", "ab", false, false},
		{"nul byte literal", "a\x00b", "a\x00b", false, true},
		{"nul byte star", "*\x00", "xx\x00", false, true},
		{"high bytes", "\xff*", "\xff\x00", false, true},
		{"signed range covers high", "[a-\xff]", "\xfe", false, false},
		{"signed range covers 0xff", "[a-\xff]", "\xff", false, true},
		{"signed range covers low", "[a-\xff]", "0", false, true},
		{"signed range above a", "[a-\xff]", "b", false, false},
		{"nocase tolower after swap", "[\x80-a]", "\x90", true, false},
		{"case signed range after swap", "[\x80-a]", "\x90", false, true},
		{"high byte nocase literal", "\xc0", "\xe0", true, false},
		{"skip longer", "*a*b", "aaaaaaaaac", false, false},
		{"backtrack", "*ab*ab", "abxxabyab", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MatchString(tc.pattern, tc.s, tc.nocase); got != tc.want {
				t.Errorf("MatchString(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
			}
			if got := Match([]byte(tc.pattern), []byte(tc.s), tc.nocase); got != tc.want {
				t.Errorf("Match(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
			}
		})
	}
}

// TestNestingLimit checks the cap on nested stars: 1000 is fine, 1001
// stars separated by literals fail even though the pattern would match.
func TestNestingLimit(t *testing.T) {
	for _, tc := range []struct {
		stars int
		want  bool
	}{{10, true}, {1000, true}, {1001, false}, {3000, false}} {
		pattern := strings.Repeat("a*", tc.stars) + "b"
		s := strings.Repeat("a", tc.stars) + "b"
		if got := MatchString(pattern, s, false); got != tc.want {
			t.Errorf("stars=%d: got %v, want %v", tc.stars, got, tc.want)
		}
	}
}

// TestAbusivePatternTerminates is the CVE-2022-36021 pattern: without the
// skipLongerMatches pruning this runs for hours.
func TestAbusivePatternTerminates(t *testing.T) {
	pattern := strings.Repeat("*a", 60) + "b"
	s := strings.Repeat("a", 5000)
	if MatchString(pattern, s, false) {
		t.Fatal("matched")
	}
}

func TestZeroAllocs(t *testing.T) {
	p, s := []byte("*[a-z]?x*\\*y*"), []byte("hello world x*yy")
	ps, ss := string(p), string(s)
	n := testing.AllocsPerRun(100, func() {
		Match(p, s, true)
		MatchString(ps, ss, false)
	})
	if n != 0 {
		t.Fatalf("allocs per run = %v, want 0", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	cases := []struct{ name, pattern, s string }{
		{"kind=literal", "user:1000:profile", "user:1000:profile"},
		{"kind=prefix", "user:*", "user:1000:profile"},
		{"kind=class", "user:[0-9]*:p?ofile", "user:1000:profile"},
		{"kind=abusive", strings.Repeat("*a", 20) + "b", strings.Repeat("a", 200)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			p, s := []byte(c.pattern), []byte(c.s)
			for b.Loop() {
				Match(p, s, false)
			}
		})
	}
}
