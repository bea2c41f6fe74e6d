package cache

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/toonstore/toonstore/pkg/store"
)

func TestOpenDefaults(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	n := c.Shards()
	if n&(n-1) != 0 || n < 4*runtime.GOMAXPROCS(0) {
		t.Errorf("Shards() = %d, want a power of two >= %d", n, 4*runtime.GOMAXPROCS(0))
	}
	total := 0
	for i := range c.shards {
		total += c.shards[i].capacity
	}
	if total != DefaultCapacity {
		t.Errorf("shard capacities sum to %d, want %d", total, DefaultCapacity)
	}
	if c.Databases() != 16 {
		t.Errorf("Databases() = %d, want 16", c.Databases())
	}
}

func TestOpenBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"shards not power of two", Options{Shards: 12}},
		{"negative shards", Options{Shards: -4}},
		{"negative capacity", Options{Capacity: -1}},
		{"negative maxbytes", Options{MaxBytes: -1}},
		{"hz too high", Options{Hz: 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(t.TempDir(), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := Open(s, tc.opts); !errors.Is(err, ErrBadOptions) {
				t.Fatalf("Open(%+v) = %v, want ErrBadOptions", tc.opts, err)
			}
		})
	}
}

func TestSetGetDeleteAcrossDBs(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	k := []byte("k")
	mustSet(t, c, 0, k, []byte("zero"), 0)
	mustSet(t, c, 3, k, []byte("three"), 0)
	wantGet(t, c, 0, k, []byte("zero"))
	wantGet(t, c, 3, k, []byte("three"))
	wantAbsent(t, c, 1, k)

	tx := c.Lock(k)
	if !tx.Exists(0, k) || tx.Exists(1, k) {
		t.Errorf("Exists: db0 %v db1 %v, want true false", tx.Exists(0, k), tx.Exists(1, k))
	}
	if kind, exp, ok := tx.Meta(3, k); !ok || kind != store.KindString || exp != 0 {
		t.Errorf("Meta(3) = %d %d %v, want string 0 true", kind, exp, ok)
	}
	if ok, err := tx.Delete(0, k); !ok || err != nil {
		t.Errorf("Delete(0) = %v %v, want true nil", ok, err)
	}
	if ok, err := tx.Delete(0, k); ok || err != nil {
		t.Errorf("second Delete(0) = %v %v, want false nil", ok, err)
	}
	tx.Unlock()
	wantAbsent(t, c, 0, k)
	wantGet(t, c, 3, k, []byte("three"))
	if c.DBSize(0) != 0 || c.DBSize(3) != 1 {
		t.Errorf("DBSize 0,3 = %d,%d, want 0,1", c.DBSize(0), c.DBSize(3))
	}
	checkConsistent(t, c)
}

func TestZeroKindIsString(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	k := []byte("k")
	tx := c.Lock(k)
	defer tx.Unlock()
	if err := tx.Set(0, k, Value{Str: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if kind, _, ok := tx.Meta(0, k); !ok || kind != store.KindString {
		t.Fatalf("Meta = %d %v, want KindString", kind, ok)
	}
}

func TestEmptyAndBinaryValues(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true, Capacity: 1, Shards: 1})
	bin := []byte("a\r\nb\x00c\n")
	mustSet(t, c, 0, []byte("empty"), nil, 0)
	mustSet(t, c, 0, []byte("bin"), bin, 0)
	mustSet(t, c, 0, []byte(""), []byte("empty key"), 0)
	// Capacity 1: every read below is a load from the store.
	wantGet(t, c, 0, []byte("empty"), nil)
	wantGet(t, c, 0, []byte("bin"), bin)
	wantGet(t, c, 0, []byte(""), []byte("empty key"))
}

// TestEvictionNeverLosesData: a capacity far below the key count only
// drops decoded copies; every key reads back from the store.
func TestEvictionNeverLosesData(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true, Capacity: 10})
	const n = 1000
	for i := range n {
		mustSet(t, c, i%4, key(i), val(i), 0)
	}
	for i := range n {
		wantGet(t, c, i%4, key(i), val(i))
	}
	// Every shard keeps at least one entry: with more shards than
	// capacity (GOMAXPROCS > 2), the bound is the shard count.
	bound := max(10, c.Shards())
	st := c.Stats()
	if st.Entries > bound {
		t.Errorf("Entries = %d, want <= %d", st.Entries, bound)
	}
	if st.Evictions < uint64(n-bound) {
		t.Errorf("Evictions = %d, want >= %d", st.Evictions, n-bound)
	}
	checkConsistent(t, c)
}

func TestMaxBytes(t *testing.T) {
	const maxBytes = 4 * (entryOverhead + 1024)
	c := openTest(t, "", Options{NoActiveExpiry: true, Shards: 1, MaxBytes: maxBytes})
	big := bytes.Repeat([]byte("x"), 1000)
	for i := range 20 {
		mustSet(t, c, 0, key(i), big, 0)
		get(t, c, 0, key(i)) // writes go around the cache; reads fill it
	}
	if got := c.shards[0].bytes; got > maxBytes {
		t.Errorf("decoded bytes %d > MaxBytes %d", got, maxBytes)
	}
	if st := c.Stats(); st.Entries != 4 || st.Evictions != 16 {
		t.Errorf("Entries %d Evictions %d, want 4 16", st.Entries, st.Evictions)
	}
	// A value larger than the whole budget is stored but not decoded.
	huge := bytes.Repeat([]byte("y"), maxBytes)
	mustSet(t, c, 0, []byte("huge"), huge, 0)
	wantGet(t, c, 0, []byte("huge"), huge)
	for i := range 20 {
		wantGet(t, c, 0, key(i), big)
	}
	checkConsistent(t, c)
}

func TestStats(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	mustSet(t, c, 0, []byte("a"), []byte("1"), 0) // write-around: not inserted
	get(t, c, 0, []byte("a"))                     // miss, insert
	get(t, c, 0, []byte("a"))                     // hit
	get(t, c, 0, []byte("a"))                     // hit
	mustSet(t, c, 0, []byte("a"), []byte("2"), 0) // cached: updated in place
	get(t, c, 0, []byte("a"))                     // hit
	get(t, c, 0, []byte("nope"))                  // miss
	st := c.Stats()
	want := Stats{Hits: 3, Misses: 2, Inserts: 1, Entries: 1}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	c.ResetStats()
	if st := c.Stats(); st != (Stats{Entries: 1}) {
		t.Errorf("after ResetStats: %+v, want only Entries 1", st)
	}
}

// TestMissCopiesStoreBytes: a value loaded on a miss must not alias the
// store's mapping, which Close unmaps.
func TestMissCopiesStoreBytes(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir, Options{NoActiveExpiry: true})
	mustSet(t, c, 0, []byte("k"), []byte("persisted value"), 0)
	c.Close()

	c = openTest(t, dir, Options{NoActiveExpiry: true})
	tx := c.Lock([]byte("k"))
	v, ok, err := tx.Get(0, []byte("k"))
	tx.Unlock()
	if err != nil || !ok {
		t.Fatalf("Get after reopen: %v %v", ok, err)
	}
	if st := c.Stats(); st.Misses != 1 || st.Inserts != 1 {
		t.Errorf("Stats %+v, want one miss and one insert", st)
	}
	c.Close()
	runtime.GC()
	if string(v.Str) != "persisted value" { // faults if v.Str aliased the mapping
		t.Fatalf("value after Close = %q", v.Str)
	}
}

// TestSetKeyIsCopied: Set must own the key; the caller may reuse its buffer.
func TestSetKeyIsCopied(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	buf := []byte("key-A")
	mustSet(t, c, 0, buf, []byte("a"), 0)
	mustSet(t, c, 0, buf, []byte("a2"), 0) // update path, aliasing lookup key
	copy(buf, "key-B")
	mustSet(t, c, 0, buf, []byte("b"), 0)
	copy(buf, "key-A")
	wantGet(t, c, 0, []byte("key-A"), []byte("a2"))
	wantGet(t, c, 0, []byte("key-B"), []byte("b"))
	checkConsistent(t, c)
}

func TestPersistenceAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	far := clk.Now() + 3_600_000
	c := openTest(t, dir, Options{NoActiveExpiry: true, Now: clk.Now})
	for i := range 200 {
		exp := int64(0)
		if i%3 == 0 {
			exp = far + int64(i)
		}
		mustSet(t, c, i%16, key(i), val(i), exp)
	}
	mustSet(t, c, 0, []byte("gone"), []byte("x"), 0)
	tx := c.Lock([]byte("gone"))
	tx.Delete(0, []byte("gone"))
	tx.Unlock()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	c = openTest(t, dir, Options{NoActiveExpiry: true, Now: clk.Now})
	for i := range 200 {
		wantGet(t, c, i%16, key(i), val(i))
		tx := c.Lock(key(i))
		_, exp, ok := tx.Meta(i%16, key(i))
		tx.Unlock()
		want := int64(0)
		if i%3 == 0 {
			want = far + int64(i)
		}
		if !ok || exp != want {
			t.Fatalf("Meta(%d, %q) expireAt %d ok %v, want %d", i%16, key(i), exp, ok, want)
		}
		if i%16 != 5 {
			wantAbsent(t, c, 5, key(i))
		}
	}
	wantAbsent(t, c, 0, []byte("gone"))
}

func TestFlushDBFlushAllSwapDB(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	for i := range 50 {
		mustSet(t, c, 0, key(i), []byte("db0"), 0)
		mustSet(t, c, 1, key(i), []byte("db1"), 0)
		mustSet(t, c, 2, key(i), []byte("db2"), 0)
	}
	if err := c.SwapDB(0, 1); err != nil {
		t.Fatalf("SwapDB: %v", err)
	}
	checkConsistent(t, c)
	for i := range 50 {
		wantGet(t, c, 0, key(i), []byte("db1"))
		wantGet(t, c, 1, key(i), []byte("db0"))
	}
	if err := c.FlushDB(0); err != nil {
		t.Fatalf("FlushDB: %v", err)
	}
	checkConsistent(t, c)
	for i := range 50 {
		wantAbsent(t, c, 0, key(i))
		wantGet(t, c, 1, key(i), []byte("db0"))
	}
	if c.DBSize(0) != 0 || c.DBSize(1) != 50 || c.DBSize(2) != 50 {
		t.Errorf("DBSize 0,1,2 = %d,%d,%d, want 0,50,50", c.DBSize(0), c.DBSize(1), c.DBSize(2))
	}
	if err := c.FlushAll(); err != nil {
		t.Fatalf("FlushAll: %v", err)
	}
	checkConsistent(t, c)
	for db := range 3 {
		if c.DBSize(db) != 0 {
			t.Errorf("DBSize(%d) = %d after FlushAll", db, c.DBSize(db))
		}
		wantAbsent(t, c, db, key(1))
	}
	if st := c.Stats(); st.Entries != 0 {
		t.Errorf("Entries = %d after FlushAll", st.Entries)
	}
}

func TestScanRangeRandomKey(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{NoActiveExpiry: true, Now: clk.Now})
	live := map[string]bool{}
	for i := range 100 {
		exp := int64(0)
		if i%2 == 1 {
			exp = clk.Now() + 1000
		} else {
			live[string(key(i))] = true
		}
		mustSet(t, c, 2, key(i), val(i), exp)
	}
	clk.Advance(1000) // odd keys expire, not yet removed
	if c.DBSize(2) != 100 {
		t.Errorf("DBSize = %d, want 100 (expired keys count until removed)", c.DBSize(2))
	}
	seen := map[string]bool{}
	cursor := uint64(0)
	for {
		cursor = c.Scan(2, cursor, 10, func(k []byte, kind store.Kind) {
			if kind != store.KindString {
				t.Errorf("Scan kind %d", kind)
			}
			seen[string(k)] = true
		})
		if cursor == 0 {
			break
		}
	}
	if !mapsEqual(seen, live) {
		t.Errorf("Scan saw %d keys, want the %d unexpired", len(seen), len(live))
	}
	ranged := map[string]bool{}
	c.Range(2, func(k []byte, _ store.Kind) bool { ranged[string(k)] = true; return true })
	if !mapsEqual(ranged, live) {
		t.Errorf("Range saw %d keys, want the %d unexpired", len(ranged), len(live))
	}
	stopped := 0
	c.Range(2, func([]byte, store.Kind) bool { stopped++; return stopped < 3 })
	if stopped != 3 {
		t.Errorf("Range called fn %d times after false, want 3", stopped)
	}
	for range 50 {
		k, ok := c.RandomKey(2)
		if !ok || !live[string(k)] {
			t.Fatalf("RandomKey = %q %v, want an unexpired key", k, ok)
		}
	}
	if _, ok := c.RandomKey(7); ok {
		t.Error("RandomKey of an empty db: ok")
	}
	// Only expired keys left: none to return.
	for k := range live {
		tx := c.Lock([]byte(k))
		tx.Delete(2, []byte(k))
		tx.Unlock()
	}
	if k, ok := c.RandomKey(2); ok {
		t.Errorf("RandomKey with only expired keys = %q", k)
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestSetCapacity shrinks and grows the cache live: the decoded entries
// follow the new capacity, shrinking counts evictions, and no value is lost.
func TestSetCapacity(t *testing.T) {
	c := openTest(t, "", Options{Capacity: 8000, Shards: 8, NoActiveExpiry: true})
	for i := 0; i < 1000; i++ {
		mustSet(t, c, 0, key(i), val(i), 0)
		wantGet(t, c, 0, key(i), val(i))
	}
	if got := c.Stats().Entries; got != 1000 {
		t.Fatalf("entries = %d, want 1000", got)
	}
	// 80 over 8 shards is 10 each; every shard holds far more than 10 of
	// the 1000 keys, so exactly 80 stay.
	if err := c.SetCapacity(80); err != nil {
		t.Fatal(err)
	}
	if got := c.Capacity(); got != 80 {
		t.Fatalf("Capacity() = %d, want 80", got)
	}
	st := c.Stats()
	if st.Entries != 80 || st.Evictions != 920 {
		t.Fatalf("after shrinking: entries %d evictions %d, want 80 and 920", st.Entries, st.Evictions)
	}
	for i := 0; i < 1000; i++ {
		wantGet(t, c, 0, key(i), val(i))
	}
	if got := c.Stats().Entries; got != 80 {
		t.Fatalf("entries = %d after reading everything, want 80", got)
	}
	if err := c.SetCapacity(8000); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		wantGet(t, c, 0, key(i), val(i))
	}
	if got := c.Stats().Entries; got != 1000 {
		t.Fatalf("entries = %d after growing and reading all, want 1000", got)
	}
	if err := c.SetCapacity(0); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("SetCapacity(0) = %v, want ErrBadOptions", err)
	}
	checkConsistent(t, c)
}

// TestWriteAround: a write of a key that is not cached does not insert it
// (SetCopy does not even copy the bytes); a write of a cached key replaces
// the decoded copy, which must be a private copy for SetCopy.
func TestWriteAround(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	buf := []byte("v1")
	tx := c.Lock([]byte("k"))
	if err := tx.SetCopy(0, []byte("k"), Value{Str: buf}); err != nil {
		t.Fatal(err)
	}
	tx.Unlock()
	if st := c.Stats(); st.Entries != 0 || st.Inserts != 0 {
		t.Fatalf("write of an uncached key inserted it: %+v", st)
	}
	k := []byte("k")
	if allocs := testing.AllocsPerRun(100, func() {
		tx := c.Lock(k)
		_ = tx.SetCopy(0, k, Value{Str: buf})
		tx.Unlock()
	}); allocs != 0 {
		t.Errorf("SetCopy of an uncached key: %v allocs, want 0", allocs)
	}
	wantGet(t, c, 0, []byte("k"), []byte("v1")) // read fills the cache
	tx = c.Lock([]byte("k"))
	if err := tx.SetCopy(0, []byte("k"), Value{Str: buf}); err != nil {
		t.Fatal(err)
	}
	tx.Unlock()
	buf[1] = '2' // the caller reuses its buffer: the cached copy must not change
	wantGet(t, c, 0, []byte("k"), []byte("v1"))
	if st := c.Stats(); st.Entries != 1 {
		t.Fatalf("entries = %d, want 1", st.Entries)
	}
	checkConsistent(t, c)
}

// TestSetCapacityWhileLocked: SetCapacity never waits for a shard (CONFIG
// SET capacity inside EXEC runs with every shard held by the caller's own
// goroutine); a locked shard applies the capacity when it is unlocked.
func TestSetCapacityWhileLocked(t *testing.T) {
	c := openTest(t, "", Options{Capacity: 8000, Shards: 8, NoActiveExpiry: true})
	for i := 0; i < 1000; i++ {
		mustSet(t, c, 0, key(i), val(i), 0)
		wantGet(t, c, 0, key(i), val(i))
	}
	tx := c.LockAll()
	if err := c.SetCapacity(80); err != nil { // would deadlock if it locked
		t.Fatal(err)
	}
	if got := c.Capacity(); got != 80 {
		t.Fatalf("Capacity() = %d, want 80", got)
	}
	if got := c.Stats().Entries; got != 1000 {
		t.Fatalf("entries = %d while locked, want 1000 (nothing applied yet)", got)
	}
	tx.Unlock()
	if got := c.Stats().Entries; got != 80 {
		t.Fatalf("entries = %d after Unlock, want 80", got)
	}
	for i := 0; i < 1000; i++ {
		wantGet(t, c, 0, key(i), val(i))
	}
	checkConsistent(t, c)
}
