package cache

import (
	"testing"
	"time"
)

func TestLazyExpiry(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(tx *Tx, db int, k []byte) bool // reports whether the key looked live
	}{
		{"Get", func(tx *Tx, db int, k []byte) bool { _, ok, _ := tx.Get(db, k); return ok }},
		{"Exists", func(tx *Tx, db int, k []byte) bool { return tx.Exists(db, k) }},
		{"Meta", func(tx *Tx, db int, k []byte) bool { _, _, ok := tx.Meta(db, k); return ok }},
		{"Delete", func(tx *Tx, db int, k []byte) bool { ok, _ := tx.Delete(db, k); return ok }},
		{"Expire", func(tx *Tx, db int, k []byte) bool { ok, _ := tx.Expire(db, k, 0); return ok }},
	} {
		for _, decoded := range []bool{true, false} {
			name := tc.name + "/decoded"
			if !decoded {
				name = tc.name + "/fromstore"
			}
			t.Run(name, func(t *testing.T) {
				clk := newClock()
				c := openTest(t, "", Options{NoActiveExpiry: true, Now: clk.Now})
				k := []byte("ttl")
				mustSet(t, c, 1, k, []byte("v"), clk.Now()+100)
				if !decoded {
					c.shards[c.shardOf(k)].mu.Lock()
					c.shards[c.shardOf(k)].purge()
					c.shards[c.shardOf(k)].mu.Unlock()
				}
				clk.Advance(99)
				tx := c.Lock(k)
				if tc.name != "Delete" && tc.name != "Expire" && !tc.read(&tx, 1, k) {
					t.Fatal("key absent 1 ms before its expiry")
				}
				tx.Unlock()
				clk.Advance(1)
				if c.DBSize(1) != 1 {
					t.Fatalf("DBSize = %d before the expired key is read, want 1", c.DBSize(1))
				}
				tx = c.Lock(k)
				live := tc.read(&tx, 1, k)
				tx.Unlock()
				if live {
					t.Fatal("expired key reported live")
				}
				if c.DBSize(1) != 0 {
					t.Errorf("DBSize = %d after lazy expiry, want 0 (tombstone appended)", c.DBSize(1))
				}
				if st := c.Stats(); st.ExpiredKeys != 1 || st.Entries != 0 {
					t.Errorf("Stats = %+v, want ExpiredKeys 1, Entries 0", st)
				}
				checkConsistent(t, c)
			})
		}
	}
}

func TestExpire(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{NoActiveExpiry: true, Now: clk.Now})
	k := []byte("k")
	mustSet(t, c, 0, k, []byte("v"), 0)
	missing := []byte("missing")
	mtx := c.Lock(missing)
	if ok, err := mtx.Expire(0, missing, clk.Now()+10); ok || err != nil {
		t.Errorf("Expire(missing) = %v %v, want false nil", ok, err)
	}
	mtx.Unlock()
	tx := c.Lock(k)
	defer tx.Unlock()
	at := clk.Now() + 500
	if ok, err := tx.Expire(0, k, at); !ok || err != nil {
		t.Fatalf("Expire = %v %v", ok, err)
	}
	if _, exp, ok := tx.Meta(0, k); !ok || exp != at {
		t.Errorf("Meta expireAt = %d %v, want %d", exp, ok, at)
	}
	if v, ok, _ := tx.Get(0, k); !ok || v.ExpireAt != at || string(v.Str) != "v" {
		t.Errorf("Get = %+v %v, want v with expireAt %d", v, ok, at)
	}
	if c.Expires(0) != 1 {
		t.Errorf("Expires = %d, want 1", c.Expires(0))
	}
	if ok, err := tx.Expire(0, k, 0); !ok || err != nil { // PERSIST
		t.Fatalf("Expire(0) = %v %v", ok, err)
	}
	clk.Advance(1000)
	if _, exp, ok := tx.Meta(0, k); !ok || exp != 0 {
		t.Errorf("after persist: Meta = %d %v, want 0 true", exp, ok)
	}
	if c.Expires(0) != 0 {
		t.Errorf("Expires = %d after persist, want 0", c.Expires(0))
	}
	// An expiry in the past deletes the key, not counted as expired.
	if ok, err := tx.Expire(0, k, clk.Now()-1); !ok || err != nil {
		t.Fatalf("Expire(past) = %v %v", ok, err)
	}
	if tx.Exists(0, k) || c.DBSize(0) != 0 {
		t.Errorf("key live after Expire in the past")
	}
	if st := c.Stats(); st.ExpiredKeys != 0 {
		t.Errorf("ExpiredKeys = %d, want 0", st.ExpiredKeys)
	}
	checkConsistentLocked(t, c)
}

// checkConsistentLocked is for a test that holds a single-key Tx: it can
// only check the gauges that need no lock.
func checkConsistentLocked(t *testing.T, c *Cache) {
	t.Helper()
	sum := 0
	for i := range c.shards {
		sum += int(c.shards[i].entries.Load())
	}
	if st := c.Stats(); st.Entries != sum {
		t.Errorf("Entries %d != %d", st.Entries, sum)
	}
}

// TestActiveExpiryCycle drives expireCycle by hand with an injected clock.
func TestActiveExpiryCycle(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{NoActiveExpiry: true, Now: clk.Now, Capacity: 50})
	const n = 3000
	for i := range n {
		exp := int64(0)
		if i%2 == 0 {
			exp = clk.Now() + 10 + int64(i%7)
		}
		mustSet(t, c, i%3, key(i), val(i), exp)
	}
	x := c.newExpirer()
	if got := c.expireCycle(x, time.Hour); got != 0 {
		t.Fatalf("cycle before any expiry deleted %d keys", got)
	}
	clk.Advance(100)
	deleted := 0
	for cycles := 0; deleted < n/2; cycles++ {
		if cycles > 10*n { // each cycle deletes at least one key per full index pass
			t.Fatalf("after %d cycles only %d of %d expired keys deleted", cycles, deleted, n/2)
		}
		deleted += c.expireCycle(x, time.Hour)
	}
	if deleted != n/2 {
		t.Errorf("deleted %d, want %d", deleted, n/2)
	}
	for db := range 3 {
		if c.Expires(db) != 0 {
			t.Errorf("Expires(%d) = %d after active expiry", db, c.Expires(db))
		}
	}
	if total := c.DBSize(0) + c.DBSize(1) + c.DBSize(2); total != n/2 {
		t.Errorf("DBSize total = %d, want %d", total, n/2)
	}
	if st := c.Stats(); st.ExpiredKeys != n/2 {
		t.Errorf("ExpiredKeys = %d, want %d", st.ExpiredKeys, n/2)
	}
	for i := 1; i < n; i += 2 {
		wantGet(t, c, i%3, key(i), val(i))
	}
	checkConsistent(t, c)
}

// TestActiveExpiryBoundedRound: one round visits a bounded part of a big
// index (no full walk per cycle).
func TestActiveExpiryBoundedRound(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{NoActiveExpiry: true, Now: clk.Now})
	for i := range 5000 {
		mustSet(t, c, 0, key(i), []byte("v"), clk.Now()+1)
	}
	clk.Advance(10)
	x := c.newExpirer()
	sampled, deleted := c.expireRound(x, 0)
	if sampled == 0 || deleted != sampled {
		t.Errorf("round sampled %d deleted %d, want all sampled deleted", sampled, deleted)
	}
	if deleted > expireSampleKeys+4*expireScanCount {
		t.Errorf("one round deleted %d keys, want a bounded sample", deleted)
	}
}

// TestActiveExpiryBackground: the goroutine Open starts removes expired
// keys without any read, and Close stops it.
func TestActiveExpiryBackground(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{Now: clk.Now, Hz: 100})
	for i := range 200 {
		mustSet(t, c, 4, key(i), []byte("v"), clk.Now()+5)
	}
	mustSet(t, c, 4, []byte("stays"), []byte("v"), 0)
	clk.Advance(10)
	deadline := time.Now().Add(20 * time.Second)
	for c.DBSize(4) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("DBSize = %d 20 s after expiry, want 1", c.DBSize(4))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := c.Stats(); st.ExpiredKeys != 200 {
		t.Errorf("ExpiredKeys = %d, want 200", st.ExpiredKeys)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
