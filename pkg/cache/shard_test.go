package cache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/toonstore/toonstore/pkg/store"
)

// TestShardLastEntry runs random operations on a small shard (get and
// getLast, evictions
// by count and by bytes, removals, purges, swaps of two of three
// databases, resizes, strings and collections, keys longer than the
// remembered ones) and checks after each that a get returns what the LRU
// holds, that the remembered entry is the LRU's front entry with the
// LRU's value, and that a forgotten one keeps no value alive.
func TestShardLastEntry(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	var s shard
	s.init(4, 2000)
	keys := []string{"a", "b", "c", "d", "e", "f", fmt.Sprintf("%060d", 7)}
	check := func(step int, op string) {
		t.Helper()
		if !s.last.ok {
			// A value left behind belongs to a key still in the LRU,
			// with that value: it keeps nothing alive the LRU does not.
			if !sameValue(s.last.v, Value{}) {
				lk := entryKey{db: s.last.db, key: string(s.last.key[:s.last.n])}
				if v, ok := s.lru.Peek(lk); !ok || !sameValue(v, s.last.v) {
					t.Fatalf("step %d (%s): a forgotten entry keeps a value the LRU does not hold (%v)", step, op, ok)
				}
			}
			return
		}
		lk := entryKey{db: s.last.db, key: string(s.last.key[:s.last.n])}
		v, ok := s.lru.Peek(lk)
		if !ok || !sameValue(v, s.last.v) {
			t.Fatalf("step %d (%s): remembered %q not in the LRU as remembered (%v)", step, op, lk.key, ok)
		}
		ks := s.lru.Keys()
		if len(ks) == 0 || ks[len(ks)-1] != lk {
			t.Fatalf("step %d (%s): remembered %q is not the front entry (%v)", step, op, lk.key, ks)
		}
	}
	for step := 0; step < 20000; step++ {
		k := entryKey{db: r.IntN(3), key: keys[r.IntN(len(keys))]}
		var op string
		switch n := r.IntN(100); {
		case n < 45:
			op = "getLast"
			want, wantOK := s.lru.Peek(k)
			var got Value
			var ok bool
			if r.IntN(3) == 0 {
				op = "get"
				got, ok = s.get(k)
			} else {
				ok = s.getLast(k, &got)
			}
			if ok != wantOK || !sameValue(got, want) {
				t.Fatalf("step %d: get %v = %v %v, the LRU holds %v %v", step, k, got, ok, want, wantOK)
			}
		case n < 85:
			op = "put"
			v := Value{Kind: store.KindList, img: int64(r.IntN(400))}
			if r.IntN(4) == 0 {
				v = Value{Kind: store.KindString, Str: make([]byte, r.IntN(300))}
			}
			if r.IntN(30) == 0 {
				v.img = 5000 // larger than the shard's byte budget
			}
			s.put(k, v)
		case n < 92:
			op = "remove"
			s.remove(k)
		case n < 94:
			op = "removeIf"
			s.removeIf(func(e entryKey) bool { return e.db == k.db })
		case n < 95:
			op = "purge"
			s.purge()
		case n < 97:
			op = "swapDBs"
			s.swapDBs(0, 1)
		default:
			op = "resize"
			s.resize(1 + r.IntN(5))
		}
		check(step, op)
		if s.last.ok && !slices.Contains(s.lru.Keys(), entryKey{db: s.last.db, key: string(s.last.key[:s.last.n])}) {
			t.Fatalf("step %d (%s): remembered entry gone from the LRU", step, op)
		}
	}
}

// sameValue reports whether a and b are the same Value: equal fields, the
// same Obj and the same Str slice.
func sameValue(a, b Value) bool {
	return a.Kind == b.Kind && a.Hint == b.Hint && a.ExpireAt == b.ExpireAt && a.Obj == b.Obj &&
		len(a.Str) == len(b.Str) && (len(a.Str) == 0 || &a.Str[0] == &b.Str[0]) &&
		a.img == b.img && a.live == b.live && a.recheck == b.recheck
}
