package cache

import (
	"fmt"
	"testing"

	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// TestPrefetchMembers checks MembersWorth (true only for a large decoded
// collection in the LRU) and that PrefetchMembers changes nothing: not the
// collections, and not the LRU's order either (a collection it warmed is
// still the first evicted), whatever the keys (absent, strings, small
// collections, another database) and members (nil, duplicates).
func TestPrefetchMembers(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true, Capacity: 2, Shards: 1})
	big, small := []byte("big"), []byte("small")
	h := &types.Hash{}
	for i := range 30000 {
		f := fmt.Appendf(nil, "f%d", i)
		h.Set(f, f)
	}
	if !h.PrefetchWorth() {
		t.Fatal("a hash of 30000 fields is not worth prefetching")
	}
	one := &types.Set{}
	one.Add([]byte("m"))
	tx := c.Lock(big)
	err := tx.Set(0, big, Value{Kind: store.KindHash, Obj: h})
	tx.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	tx = c.Lock(small)
	err = tx.Set(0, small, Value{Kind: store.KindSet, Obj: one})
	tx.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, c, 0, []byte("str"), []byte("v"), 0)

	if c.MembersWorth(0, big) {
		t.Error("MembersWorth of a hash that is not decoded in the LRU")
	}
	load := func(k []byte) {
		t.Helper()
		tx := c.Lock(k)
		defer tx.Unlock()
		if _, ok, err := tx.Get(0, k); err != nil || !ok {
			t.Fatalf("Get(%s) = %v, %v", k, ok, err)
		}
	}
	load(big)
	load(small) // the LRU: small, then big (least recent)
	if !c.MembersWorth(0, big) {
		t.Error("MembersWorth of a large cached hash is false")
	}
	for _, k := range []string{"small", "str", "nokey"} {
		if c.MembersWorth(0, []byte(k)) {
			t.Errorf("MembersWorth(%s) is true", k)
		}
	}
	if c.MembersWorth(1, big) {
		t.Error("MembersWorth of a key of another database")
	}

	keys := [][]byte{big, big, big, small, []byte("str"), []byte("nokey"), big}
	members := [][]byte{[]byte("f1"), nil, []byte("f1"), []byte("m"), []byte("x"), []byte("y"), []byte("nofield")}
	c.PrefetchMembers(0, keys, members)
	c.PrefetchMembers(0, keys[:1], members[:1])
	c.PrefetchMembers(0, nil, nil)

	tx = c.Lock(big)
	v, ok, err := tx.Get(0, big)
	if err != nil || !ok {
		tx.Unlock()
		t.Fatalf("Get(big) = %v, %v", ok, err)
	}
	got := v.Obj.(*types.Hash)
	if got.Len() != 30000 {
		t.Errorf("big has %d fields after PrefetchMembers, want 30000", got.Len())
	}
	if f, ok := got.Get([]byte("f29999")); !ok || f != "f29999" {
		t.Errorf("big's f29999 = %q, %v", f, ok)
	}
	tx.Unlock() // the LRU: big, then small

	c.PrefetchMembers(0, [][]byte{small}, [][]byte{[]byte("m")})
	load([]byte("str")) // evicts the least recent: small, if prefetching did not touch it
	if _, ok := c.shards[0].lru.Peek(entryKey{db: 0, key: "small"}); ok {
		t.Error("PrefetchMembers made small recently used: big was evicted instead")
	}
	if _, ok := c.shards[0].lru.Peek(entryKey{db: 0, key: "big"}); !ok {
		t.Error("big was evicted")
	}
}
