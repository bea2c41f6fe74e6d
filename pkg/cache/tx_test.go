package cache

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// twoKeysInDifferentShards returns keys a, b with different shards.
func twoKeysInDifferentShards(t *testing.T, c *Cache) (a, b []byte) {
	t.Helper()
	a = []byte("a")
	for i := range 1000 {
		b = fmt.Appendf(nil, "b%d", i)
		if c.shardOf(a) != c.shardOf(b) {
			return a, b
		}
	}
	t.Fatal("no two keys in different shards")
	return nil, nil
}

func TestTxPanicsOnKeyNotHeld(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	a, b := twoKeysInDifferentShards(t, c)
	ops := map[string]func(tx *Tx){
		"Get":    func(tx *Tx) { tx.Get(0, b) },
		"Set":    func(tx *Tx) { tx.Set(0, b, Value{Str: []byte("x")}) },
		"Delete": func(tx *Tx) { tx.Delete(0, b) },
		"Exists": func(tx *Tx) { tx.Exists(0, b) },
		"Meta":   func(tx *Tx) { tx.Meta(0, b) },
		"Expire": func(tx *Tx) { tx.Expire(0, b, 0) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			tx := c.Lock(a)
			wantPanic(t, "Lock(a) then "+name+"(b)", func() { op(&tx) })
			tx.Unlock()

			tx = c.LockKeys([][]byte{a, a})
			wantPanic(t, "LockKeys(a,a) then "+name+"(b)", func() { op(&tx) })
			tx.Unlock()

			tx = c.Lock(b)
			tx.Unlock()
			wantPanic(t, name+" after Unlock", func() { op(&tx) })

			var zero Tx
			wantPanic(t, name+" on a zero Tx", func() { op(&zero) })
			zero.Unlock() // a zero Tx holds nothing: Unlock is a no-op
		})
	}
	tx := c.Lock(a)
	wantPanic(t, "FlushDB without LockAll", func() { tx.FlushDB(0) })
	wantPanic(t, "SwapDB without LockAll", func() { tx.SwapDB(0, 1) })
	wantPanic(t, "FlushAll without LockAll", func() { tx.FlushAll() })
	tx.Unlock()
	tx.Unlock() // second Unlock does nothing
	// Every shard is free again: LockAll would deadlock otherwise.
	all := c.LockAll()
	if !all.HoldsAll() {
		t.Error("LockAll: HoldsAll false")
	}
	all.Unlock()
}

func TestLockArgs(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true, Shards: 64})
	args := [][]byte{[]byte("MSET"), []byte("k1"), []byte("v1"), []byte("k2"), []byte("v2"), []byte("k3"), []byte("v3")}
	for _, tc := range []struct {
		name              string
		first, last, step int
		held, notHeld     []string
	}{
		{"MSET keys", 1, -1, 2, []string{"k1", "k2", "k3"}, nil},
		{"first only", 1, 1, 1, []string{"k1"}, []string{"k2", "k3"}},
		{"no keys", 0, 0, 0, nil, []string{"k1"}},
		{"last beyond args", 3, 100, 2, []string{"k2", "k3"}, []string{"k1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := c.LockArgs(args, tc.first, tc.last, tc.step)
			defer tx.Unlock()
			for _, k := range tc.held {
				if !tx.holds(c.shardOf([]byte(k))) {
					t.Errorf("%s not held", k)
				}
				tx.Exists(0, []byte(k)) // must not panic
			}
			for _, k := range tc.notHeld {
				i := c.shardOf([]byte(k))
				shared := false
				for _, h := range tc.held {
					shared = shared || c.shardOf([]byte(h)) == i
				}
				if !shared && tx.holds(i) {
					t.Errorf("%s held", k)
				}
			}
		})
	}
}

// TestManyShardsTx: above 256 shards a Tx keeps its bits out of line.
func TestManyShardsTx(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true, Shards: 1024, Capacity: 100})
	keys := make([][]byte, 300)
	for i := range keys {
		keys[i] = key(i)
	}
	tx := c.LockKeys(keys)
	for i, k := range keys {
		if err := tx.Set(0, k, Value{Str: val(i)}); err != nil {
			t.Fatal(err)
		}
	}
	tx.Unlock()
	tx = c.LockAll()
	if !tx.HoldsAll() {
		t.Error("HoldsAll false after LockAll")
	}
	tx.FlushDB(0)
	tx.Unlock()
	if c.DBSize(0) != 0 {
		t.Errorf("DBSize = %d", c.DBSize(0))
	}
}

// TestLockKeysNoDeadlock: goroutines lock random overlapping key sets (in
// random argument order, with duplicates) and move counts between keys;
// the totals must balance and the test must finish.
func TestLockKeysNoDeadlock(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true, Shards: 8})
	const nkeys = 40
	counts := make([]int, nkeys) // counts[i] guarded by key(i)'s shard lock
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for range 2000 {
				n := 1 + r.IntN(6)
				idx := make([]int, n)
				keys := make([][]byte, n)
				for j := range idx {
					idx[j] = r.IntN(nkeys)
					keys[j] = key(idx[j])
				}
				var tx Tx
				switch r.IntN(3) {
				case 0:
					tx = c.LockKeys(keys)
				case 1:
					args := append([][]byte{[]byte("CMD")}, keys...)
					tx = c.LockArgs(args, 1, -1, 1)
				default:
					if n == 1 {
						tx = c.Lock(keys[0])
					} else {
						tx = c.LockAll()
					}
				}
				for j := range idx {
					tx.shard(keys[j]) // panics if not held
				}
				counts[idx[0]]--
				counts[idx[n-1]]++
				tx.Unlock()
			}
		}()
	}
	wg.Wait()
	sum := 0
	for _, n := range counts {
		sum += n
	}
	if sum != 0 {
		t.Errorf("counts sum to %d, want 0: a lock did not exclude", sum)
	}
}

// TestConcurrentOverlappingKeys: many goroutines Set/Get/Delete/Expire a
// small key set in several databases with a tiny capacity (constant
// eviction); afterwards every decoded entry must match the store, and
// every key must read back as its last write.
func TestConcurrentOverlappingKeys(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{NoActiveExpiry: true, Capacity: 16, Now: clk.Now})
	const goroutines, nkeys, ops = 8, 64, 3000
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range ops {
				k := key(r.IntN(nkeys))
				db := r.IntN(3)
				tx := c.Lock(k)
				switch r.IntN(10) {
				case 0, 1, 2:
					v := fmt.Appendf(nil, "g%d-%d", g, i)
					if err := tx.Set(db, k, Value{Str: v}); err != nil {
						t.Error(err)
					}
					if got, ok, err := tx.Get(db, k); err != nil || !ok || !bytes.Equal(got.Str, v) {
						t.Errorf("Get after Set = %q %v %v, want %q", got.Str, ok, err, v)
					}
				case 3:
					tx.Delete(db, k)
				case 4:
					tx.Expire(db, k, clk.Now()+int64(r.IntN(3)))
				case 5:
					clk.Advance(1)
				default:
					tx.Get(db, k)
				}
				tx.Unlock()
			}
		}()
	}
	wg.Wait()
	// Final writes, in parallel: goroutine g owns keys j with j%goroutines == g.
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := g; j < nkeys; j += goroutines {
				k := key(j)
				tx := c.Lock(k)
				if err := tx.Set(0, k, Value{Str: fmt.Appendf(nil, "final-%d", j)}); err != nil {
					t.Error(err)
				}
				tx.Unlock()
			}
		}()
	}
	wg.Wait()
	checkConsistent(t, c)
	for j := range nkeys {
		wantGet(t, c, 0, key(j), fmt.Appendf(nil, "final-%d", j))
	}
}

// TestTxBitsReused: multi-key Txs take their shard sets from a pool shared
// by caches of every shard count, and Unlock returns them; each new Tx
// must hold exactly its keys' shards, whatever Tx used the set before.
func TestTxBitsReused(t *testing.T) {
	small := openTest(t, "", Options{NoActiveExpiry: true, Shards: 64})
	big := openTest(t, "", Options{NoActiveExpiry: true, Shards: 1024, Capacity: 100})
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 3000 {
		c := small
		if r.IntN(2) == 0 {
			c = big
		}
		keys := make([][]byte, 1+r.IntN(20))
		want := make(map[int]bool)
		for i := range keys {
			keys[i] = key(r.IntN(100000))
			want[c.shardOf(keys[i])] = true
		}
		var tx Tx
		switch r.IntN(4) {
		case 0:
			tx = c.LockKeys(keys)
		case 1:
			tx = c.LockArgs(append([][]byte{[]byte("DEL")}, keys...), 1, -1, 1)
		case 2:
			tx = c.Lock(keys[0])
			want = map[int]bool{c.shardOf(keys[0]): true}
		default:
			tx = c.LockAll()
			for i := range c.shards {
				want[i] = true
			}
		}
		for i := range c.shards {
			if tx.holds(i) != want[i] {
				t.Fatalf("step %d: shard %d of %d held %v, want %v", step, i, len(c.shards), tx.holds(i), want[i])
			}
		}
		if r.IntN(4) == 0 {
			b := tx.Borrow()
			b.Unlock() // releases nothing
			if !tx.holds(c.shardOf(keys[0])) {
				t.Fatalf("step %d: a borrowed Unlock released the owner's shards", step)
			}
		}
		tx.Unlock()
		if tx.holds(c.shardOf(keys[0])) {
			t.Fatalf("step %d: the Tx holds a shard after Unlock", step)
		}
	}
	for _, c := range []*Cache{small, big} {
		all := c.LockAll() // every shard was released: no deadlock
		all.Unlock()
	}
}
