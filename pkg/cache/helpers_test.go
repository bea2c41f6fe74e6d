package cache

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/toonstore/toonstore/pkg/store"
)

// clock is an injectable Options.Now.
type clock struct{ ms atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(1_700_000_000_000)
	return c
}

func (c *clock) Now() int64       { return c.ms.Load() }
func (c *clock) Advance(ms int64) { c.ms.Add(ms) }

// openTest opens a cache over a fresh store in dir (t.TempDir() if empty)
// and closes it at cleanup unless the test closed it.
func openTest(t testing.TB, dir string, opts Options) *Cache {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := store.Open(dir, store.Options{Sync: store.SyncNo})
	if err != nil {
		t.Fatalf("store.Open(%s): %v", dir, err)
	}
	c, err := Open(s, opts)
	if err != nil {
		s.Close()
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func key(i int) []byte { return fmt.Appendf(nil, "key:%06d", i) }
func val(i int) []byte { return fmt.Appendf(nil, "value-%d-%s", i, bytes.Repeat([]byte{'v'}, i%37)) }

func mustSet(t testing.TB, c *Cache, db int, k, v []byte, expireAt int64) {
	t.Helper()
	tx := c.Lock(k)
	defer tx.Unlock()
	if err := tx.Set(db, k, Value{Kind: store.KindString, Str: v, ExpireAt: expireAt}); err != nil {
		t.Fatalf("Set(%d, %q): %v", db, k, err)
	}
}

// get returns the string value of k in db, or ok=false.
func get(t testing.TB, c *Cache, db int, k []byte) ([]byte, bool) {
	t.Helper()
	tx := c.Lock(k)
	defer tx.Unlock()
	v, ok, err := tx.Get(db, k)
	if err != nil {
		t.Fatalf("Get(%d, %q): %v", db, k, err)
	}
	return v.Str, ok
}

func wantGet(t testing.TB, c *Cache, db int, k, want []byte) {
	t.Helper()
	got, ok := get(t, c, db, k)
	if !ok {
		t.Fatalf("Get(%d, %q): absent, want %q", db, k, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%d, %q) = %q, want %q", db, k, got, want)
	}
}

func wantAbsent(t testing.TB, c *Cache, db int, k []byte) {
	t.Helper()
	if got, ok := get(t, c, db, k); ok {
		t.Fatalf("Get(%d, %q) = %q, want absent", db, k, got)
	}
}

// wantPanic runs f and fails unless it panics.
func wantPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

// checkConsistent verifies the cache's invariant: every decoded entry
// equals what the store holds for its key, and the counters match.
func checkConsistent(t testing.TB, c *Cache) {
	t.Helper()
	tx := c.LockAll()
	defer tx.Unlock()
	total := 0
	for i := range c.shards {
		s := &c.shards[i]
		var bytesSum int64
		for _, k := range s.lru.Keys() {
			v, _ := s.lru.Peek(k)
			bytesSum += entrySize(k.key, &v)
			if c.shardOf([]byte(k.key)) != i {
				t.Errorf("key %q in shard %d, belongs to %d", k.key, i, c.shardOf([]byte(k.key)))
			}
			e, ok, err := c.s.DB(k.db).Get([]byte(k.key))
			if err != nil || !ok {
				t.Errorf("decoded %d/%q absent from store (ok=%v err=%v)", k.db, k.key, ok, err)
				continue
			}
			if e.Kind != v.Kind || e.ExpireAt != v.ExpireAt || !bytes.Equal(e.Value, v.Str) {
				t.Errorf("decoded %d/%q = {%d %d %q}, store has {%d %d %q}",
					k.db, k.key, v.Kind, v.ExpireAt, v.Str, e.Kind, e.ExpireAt, e.Value)
			}
		}
		if bytesSum != s.bytes {
			t.Errorf("shard %d: bytes %d, entries sum to %d", i, s.bytes, bytesSum)
		}
		if int64(s.lru.Len()) != s.entries.Load() {
			t.Errorf("shard %d: entries gauge %d, lru holds %d", i, s.entries.Load(), s.lru.Len())
		}
		total += s.lru.Len()
	}
	if st := c.Stats(); st.Entries != total {
		t.Errorf("Stats().Entries = %d, shards hold %d", st.Entries, total)
	}
}
