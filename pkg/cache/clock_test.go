package cache

import (
	"fmt"
	"slices"
	"testing"
)

func ck(db int, key string) entryKey { return entryKey{db: db, key: key} }

// TestClockTable checks the CLOCK table against its contract: capacity,
// second chance for referenced entries, onEvict for every entry that
// leaves, Resize, RemoveOldest, Purge and rekey.
func TestClockTable(t *testing.T) {
	var evicted []string
	newT := func(capacity int) *clockTable {
		evicted = nil
		return newClockTable(capacity, func(k entryKey, v Value) {
			evicted = append(evicted, fmt.Sprintf("%d/%s=%s", k.db, k.key, v.Str))
		})
	}
	val := func(s string) Value { return Value{Str: []byte(s)} }
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"hit marks, unreferenced is evicted first", func(t *testing.T) {
			c := newT(3)
			c.Add(ck(0, "a"), val("1"))
			c.Add(ck(0, "b"), val("2"))
			c.Add(ck(0, "c"), val("3"))
			// All referenced (Add marks): the sweep clears a, b, c and
			// evicts a, the first it comes back to.
			if !c.Add(ck(0, "d"), val("4")) {
				t.Fatal("Add over capacity reported no eviction")
			}
			want := []string{"0/a=1"}
			if !slices.Equal(evicted, want) {
				t.Fatalf("evicted %v, want %v", evicted, want)
			}
			// b and c are unreferenced now; a hit gives b a second chance.
			if v, ok := c.Get(ck(0, "b")); !ok || string(v.Str) != "2" {
				t.Fatalf("Get(b) = %q %v", v.Str, ok)
			}
			c.Add(ck(0, "e"), val("5"))
			want = append(want, "0/c=3")
			if !slices.Equal(evicted, want) {
				t.Fatalf("evicted %v, want %v", evicted, want)
			}
			if c.Len() != 3 {
				t.Fatalf("Len %d, want 3", c.Len())
			}
		}},
		{"replace keeps one entry", func(t *testing.T) {
			c := newT(2)
			c.Add(ck(0, "a"), val("1"))
			if c.Add(ck(0, "a"), val("2")) {
				t.Fatal("replacing evicted")
			}
			if v, _ := c.Peek(ck(0, "a")); string(v.Str) != "2" || c.Len() != 1 {
				t.Fatalf("Peek(a) = %q, Len %d", v.Str, c.Len())
			}
		}},
		{"remove, reuse of the slot", func(t *testing.T) {
			c := newT(2)
			c.Add(ck(0, "a"), val("1"))
			c.Add(ck(1, "a"), val("2"))
			if !c.Remove(ck(0, "a")) || c.Remove(ck(0, "a")) {
				t.Fatal("Remove reported wrongly")
			}
			c.Add(ck(0, "b"), val("3"))
			if len(c.ents) != 2 || c.Len() != 2 || len(evicted) != 1 {
				t.Fatalf("slots %d, Len %d, evicted %v", len(c.ents), c.Len(), evicted)
			}
			if _, ok := c.Get(ck(1, "a")); !ok {
				t.Fatal("db 1 key lost")
			}
		}},
		{"resize, remove oldest, purge", func(t *testing.T) {
			c := newT(4)
			for _, k := range []string{"a", "b", "c", "d"} {
				c.Add(ck(0, k), val(k))
			}
			if n := c.Resize(2); n != 2 || c.Len() != 2 {
				t.Fatalf("Resize evicted %d, Len %d", n, c.Len())
			}
			if _, _, ok := c.RemoveOldest(); !ok || c.Len() != 1 {
				t.Fatalf("RemoveOldest ok=%v, Len %d", ok, c.Len())
			}
			c.Purge()
			if c.Len() != 0 || len(evicted) != 4 {
				t.Fatalf("after Purge Len %d, evicted %v", c.Len(), evicted)
			}
			if _, _, ok := c.RemoveOldest(); ok {
				t.Fatal("RemoveOldest of an empty table")
			}
			c.Add(ck(0, "x"), val("x"))
			if _, ok := c.Get(ck(0, "x")); !ok {
				t.Fatal("Add after Purge lost")
			}
		}},
		{"rekey swaps databases", func(t *testing.T) {
			c := newT(4)
			c.Add(ck(0, "a"), val("0a"))
			c.Add(ck(1, "a"), val("1a"))
			c.Add(ck(2, "a"), val("2a"))
			c.rekey(func(k entryKey) (entryKey, bool) {
				switch k.db {
				case 0:
					k.db = 1
				case 1:
					k.db = 0
				default:
					return k, false
				}
				return k, true
			})
			for db, want := range []string{"1a", "0a", "2a"} {
				if v, ok := c.Peek(ck(db, "a")); !ok || string(v.Str) != want {
					t.Errorf("db %d: %q %v, want %q", db, v.Str, ok, want)
				}
			}
			if got := len(c.Keys()); got != 3 {
				t.Errorf("Keys: %d, want 3", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}
