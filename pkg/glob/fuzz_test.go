package glob

import (
	"bytes"
	"testing"
)

// quote escapes every byte of s, giving a pattern that matches s only.
func quote(s []byte) []byte {
	q := make([]byte, 0, 2*len(s))
	for _, c := range s {
		q = append(q, '\\', c)
	}
	return q
}

// FuzzMatch checks that arbitrary patterns never panic, that both entry
// points agree, and two oracles independent of the matcher's structure:
// a fully escaped pattern is byte equality, and "*" + escaped + "*" is
// bytes.Contains on non-empty subjects.
func FuzzMatch(f *testing.F) {
	f.Add([]byte("h*llo"), []byte("hello"), false)
	f.Add([]byte("[a-z]?\\*"), []byte("Ab*"), true)
	f.Add([]byte("[^\\]x-]"), []byte("]"), false)
	f.Fuzz(func(t *testing.T, pattern, s []byte, nocase bool) {
		got := Match(pattern, s, nocase)
		if got2 := MatchString(string(pattern), string(s), nocase); got != got2 {
			t.Fatalf("Match=%v MatchString=%v for %q %q", got, got2, pattern, s)
		}
		if !Match(quote(s), s, false) {
			t.Fatalf("escaped %q does not match itself", s)
		}
		if want := bytes.Equal(pattern, s); Match(quote(pattern), s, false) != want {
			t.Fatalf("escaped %q vs %q: want %v", pattern, s, want)
		}
		if len(s) > 0 {
			p := append(append([]byte("*"), quote(pattern)...), '*')
			if want := bytes.Contains(s, pattern); Match(p, s, false) != want {
				t.Fatalf("%q vs %q: want %v", p, s, want)
			}
		}
	})
}
