package config

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzSplitArgs: any line splits without panicking, and quoting the
// arguments with Repr and splitting again gives them back.
func FuzzSplitArgs(f *testing.F) {
	f.Add(`save 900 1`)
	f.Add(`requirepass "a b\x41\n\""`)
	f.Add(`x 'it\'s' "" '`)
	f.Fuzz(func(t *testing.T, line string) {
		args, ok := SplitArgs(line)
		if !ok {
			return
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			if strings.IndexByte(a, 0) >= 0 {
				return // a NUL ends a C string; Repr escapes it but the input could not carry it
			}
			quoted[i] = Repr(a)
		}
		again, ok := SplitArgs(strings.Join(quoted, " "))
		if !ok || !reflect.DeepEqual(again, args) {
			t.Fatalf("round trip of %q: %q -> %q (%v)", line, args, again, ok)
		}
	})
}

// FuzzSet: CONFIG SET of any name and value never panics, a failed Set
// changes nothing, and a value CONFIG GET printed is accepted back
// unchanged (normalization is idempotent).
func FuzzSet(f *testing.F) {
	for _, s := range [][2]string{{"maxmemory", "1mb"}, {"save", "900 1"}, {"client-output-buffer-limit", "pubsub 1 2 3"},
		{"notify-keyspace-events", "KEA"}, {"latency-tracking-info-percentiles", "0x1p-2 99"}, {"maxmemory-clients", "5%"},
		{"hz", "999"}, {"bind", "a  b"}, {"shutdown-on-sigint", "now force"}, {"oom-score-adj", "RELATIVE"}} {
		f.Add(s[0], s[1])
	}
	names := New().Directives()
	f.Fuzz(func(t *testing.T, name, value string) {
		c := New()
		if i := int(len(name)) % (len(names) + 1); i < len(names) && len(name) < 3 {
			name = names[i].Name // short inputs pick a real directive
		}
		before := c.Get("*")
		err := c.Set([][2]string{{name, value}})
		if err != nil {
			if !reflect.DeepEqual(before, c.Get("*")) {
				t.Fatalf("failed Set(%q, %q) changed values", name, value)
			}
			return
		}
		got := c.Value(name)
		if err := c.Set([][2]string{{name, got}}); err != nil {
			t.Fatalf("Set(%q, %q) ok, but its value %q is refused: %v", name, value, got, err)
		}
		if again := c.Value(name); again != got {
			t.Fatalf("Set(%q, %q): value %q, set again gives %q", name, value, got, again)
		}
	})
}
