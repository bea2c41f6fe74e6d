package cache

import (
	"slices"
	"testing"
)

// hookLog records the keyspace events a cache reports.
type hookLog struct{ events []string }

func (h *hookLog) hooks() Hooks {
	return Hooks{
		Written: func(db int, key []byte, expired bool) {
			e := "w " + string(key)
			if expired {
				e = "x " + string(key)
			}
			h.events = append(h.events, e)
		},
		Flushed: func(db int, exists func(int, []byte) bool) {
			e := "flush"
			if db >= 0 && exists(db, []byte("a")) {
				e += " a-live"
			}
			h.events = append(h.events, e)
		},
		Swapped: func(a, b int, exists func(int, []byte) bool) {
			e := "swap"
			if exists(a, []byte("a")) {
				e += " a-in-first"
			}
			h.events = append(h.events, e)
		},
	}
}

func (h *hookLog) take() []string { e := h.events; h.events = nil; return e }

// TestHooks: every change of the keyspace reaches Hooks, once, and reads
// do not.
func TestHooks(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{Now: clk.Now, NoActiveExpiry: true})
	var h hookLog
	c.SetHooks(h.hooks())

	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"set", func() { mustSet(t, c, 0, []byte("a"), []byte("1"), 0) }, []string{"w a"}},
		{"read", func() { get(t, c, 0, []byte("a")) }, nil},
		{"expire", func() {
			tx := c.Lock([]byte("a"))
			defer tx.Unlock()
			if ok, err := tx.Expire(0, []byte("a"), clk.Now()+1000); !ok || err != nil {
				t.Fatalf("Expire: %v %v", ok, err)
			}
		}, []string{"w a"}},
		{"lazy expiry", func() { clk.Advance(2000); wantAbsent(t, c, 0, []byte("a")) }, []string{"x a"}},
		{"delete absent", func() {
			tx := c.Lock([]byte("a"))
			defer tx.Unlock()
			tx.Delete(0, []byte("a"))
		}, nil},
		{"flushdb", func() {
			mustSet(t, c, 0, []byte("a"), []byte("1"), 0)
			tx := c.LockAll()
			defer tx.Unlock()
			if err := tx.FlushDB(0); err != nil {
				t.Fatal(err)
			}
		}, []string{"w a", "flush a-live"}},
		{"swapdb", func() {
			mustSet(t, c, 0, []byte("a"), []byte("1"), 0)
			if err := c.SwapDB(0, 1); err != nil {
				t.Fatal(err)
			}
		}, []string{"w a", "swap a-in-first"}},
	}
	for _, s := range steps {
		s.do()
		if got := h.take(); !slices.Equal(got, s.want) {
			t.Fatalf("%s: events %q, want %q", s.name, got, s.want)
		}
	}
}

// TestBorrow: a borrowed Tx works on the held shards and its Unlock
// leaves them held.
func TestBorrow(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	all := c.LockAll()
	b := all.Borrow()
	if err := b.Set(0, []byte("k"), Value{Str: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	b.Unlock()
	if !all.HoldsAll() {
		t.Fatal("the owner lost its shards after the borrowed Unlock")
	}
	if v, ok, err := all.Get(0, []byte("k")); err != nil || !ok || string(v.Str) != "v" {
		t.Fatalf("Get after borrowed Unlock: %q %v %v", v.Str, ok, err)
	}
	all.Unlock()
	wantGet(t, c, 0, []byte("k"), []byte("v")) // would deadlock if shards stayed locked
}

// TestView: View returns strings in place without caching them, applies
// lazy expiry, and returns cached values as Get does.
func TestView(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{Now: clk.Now, NoActiveExpiry: true})
	mustSet(t, c, 0, []byte("s"), []byte("hello"), 0)
	mustSet(t, c, 0, []byte("t"), []byte("soon"), clk.Now()+10)

	tx := c.Lock([]byte("s"))
	v, ok, err := tx.View(0, []byte("s"))
	if err != nil || !ok || string(v.Str) != "hello" {
		tx.Unlock()
		t.Fatalf("View(s) = %q %v %v", v.Str, ok, err)
	}
	tx.Unlock()
	if n := c.Stats().Entries; n != 0 {
		t.Fatalf("View inserted into the cache: %d entries", n)
	}
	clk.Advance(20)
	tx = c.Lock([]byte("t"))
	_, ok, err = tx.View(0, []byte("t"))
	tx.Unlock()
	if ok || err != nil {
		t.Fatalf("View of an expired key: ok=%v err=%v", ok, err)
	}
	if c.Stats().ExpiredKeys != 1 {
		t.Fatalf("expired keys = %d, want 1", c.Stats().ExpiredKeys)
	}
	// Once Get cached it, View returns the cached copy.
	get(t, c, 0, []byte("s"))
	tx = c.Lock([]byte("s"))
	v, ok, _ = tx.View(0, []byte("s"))
	tx.Unlock()
	if !ok || string(v.Str) != "hello" || c.Stats().Hits == 0 {
		t.Fatalf("View after Get: %q %v hits=%d", v.Str, ok, c.Stats().Hits)
	}
}
