package cache

import (
	"bytes"
	"fmt"
	"maps"
	"testing"

	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// hashOp applies one HSET (del false) or HDEL of field to the hash key
// through the cache, as the hash commands do: Get, mutate, AppendOp;
// create with Set, delete the key when emptied.
func hashOp(t testing.TB, c *Cache, db int, k []byte, del bool, field, value []byte) {
	t.Helper()
	if err := hashOpErr(c, db, k, del, field, value); err != nil {
		t.Fatal(err)
	}
}

// hashOpErr is hashOp returning its error (for other goroutines).
func hashOpErr(c *Cache, db int, k []byte, del bool, field, value []byte) error {
	tx := c.Lock(k)
	defer tx.Unlock()
	v, ok, err := tx.Get(db, k)
	if err != nil {
		return fmt.Errorf("Get(%q): %w", k, err)
	}
	if !ok {
		if del {
			return nil
		}
		h := &types.Hash{}
		h.Set(field, value)
		if err := tx.Set(db, k, Value{Kind: store.KindHash, Obj: h}); err != nil {
			return fmt.Errorf("Set(%q): %w", k, err)
		}
		return nil
	}
	h := v.Obj.(*types.Hash)
	var op []byte
	if del {
		if !h.Delete(field) {
			return nil
		}
		if h.Len() == 0 {
			if _, err := tx.Delete(db, k); err != nil {
				return fmt.Errorf("Delete(%q): %w", k, err)
			}
			return nil
		}
		op = types.AppendOpHashDelete(nil, field)
	} else {
		h.Set(field, value)
		op = types.AppendOpHashSet(nil, field, value)
	}
	if err := tx.AppendOp(db, k, &v, op); err != nil {
		return fmt.Errorf("AppendOp(%q): %w", k, err)
	}
	return nil
}

// hashMap returns the hash at k as a map (nil if absent).
func hashMap(t testing.TB, c *Cache, db int, k []byte) map[string]string {
	t.Helper()
	tx := c.Lock(k)
	defer tx.Unlock()
	v, ok, err := tx.Get(db, k)
	if err != nil {
		t.Fatalf("Get(%q): %v", k, err)
	}
	if !ok {
		return nil
	}
	if v.Kind != store.KindHash {
		t.Fatalf("Get(%q) kind %d, want hash", k, v.Kind)
	}
	m := map[string]string{}
	v.Obj.(*types.Hash).All(func(f, val string) bool { m[f] = val; return true })
	return m
}

// chainOpBytes returns the image size and the summed op bytes of k.
func chainOpBytes(t testing.TB, c *Cache, db int, k []byte) (img, ops int) {
	t.Helper()
	_, _, ok, err := c.Store().DB(db).GetChain(k, func(image []byte, o [][]byte) {
		img = len(image)
		for _, b := range o {
			ops += len(b)
		}
	})
	if err != nil || !ok {
		t.Fatalf("GetChain(%q): ok %v err %v", k, ok, err)
	}
	return img, ops
}

// liveSize returns the size a fresh image of collection k would have.
func liveSize(t testing.TB, c *Cache, db int, k []byte) int {
	t.Helper()
	tx := c.Lock(k)
	defer tx.Unlock()
	v, ok, err := tx.Get(db, k)
	if err != nil || !ok {
		t.Fatalf("Get(%q): ok %v err %v", k, ok, err)
	}
	return int(imageSize(v.Obj))
}

// TestFoldOnlyReclaims: a hash that only grows keeps its first image (its
// chain is its data: a fold would reclaim nothing), measured O(log n)
// times, and reads back whole after a restart; overwriting its values
// then folds it, within the bound of FoldRatio's comment.
func TestFoldOnlyReclaims(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir, Options{NoActiveExpiry: true})
	k := []byte("h")
	big := bytes.Repeat([]byte{'x'}, 1000)
	field := func(i int) []byte { return fmt.Appendf(nil, "f%04d", i) }
	var first int // the first image's bytes
	checks := foldChecks.Load()
	const n = 1000
	for i := range n {
		hashOp(t, c, 0, k, false, field(i), big)
		if i == 0 {
			first, _ = chainOpBytes(t, c, 0, k)
		}
	}
	img, ops := chainOpBytes(t, c, 0, k)
	if img != first {
		t.Fatalf("a growing hash was folded: image %d bytes, first image %d", img, first)
	}
	if ops < (n-1)*len(big) {
		t.Fatalf("chain of %d bytes for %d values of %d bytes", ops, n-1, len(big))
	}
	// Measured when the chain passed 4 images, then every 1.5x: about
	// log1.5(1 MB / 4 KiB) = 14 times, not once per operation.
	if got := foldChecks.Load() - checks; got == 0 || got > 20 {
		t.Fatalf("%d measurements for %d growing operations", got, n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openTest(t, dir, Options{NoActiveExpiry: true})
	if got := hashMap(t, c, 0, k); len(got) != n || got[string(field(n-1))] != string(big) {
		t.Fatalf("after reopen: %d fields", len(got))
	}

	// Overwrites: the live size stays put while the chain grows, so
	// folds must come, each leaving an image of the live size.
	live := liveSize(t, c, 0, k)
	bound := (1+FoldRatio)*live + FoldFloor // FoldRatio's comment: live is the larger here
	other := bytes.Repeat([]byte{'y'}, len(big))
	folded := false
	for i := range 12 * n {
		hashOp(t, c, 0, k, false, field(i%n), [][]byte{big, other}[i/n%2])
		if i%50 != 0 {
			continue
		}
		img, ops := chainOpBytes(t, c, 0, k)
		if img+ops > bound {
			t.Fatalf("overwrite %d: image %d + chain %d bytes over the bound %d (live %d)", i, img, ops, bound, live)
		}
		folded = folded || img == live
	}
	if !folded {
		t.Fatal("overwrites never folded the hash")
	}

	// Small elements: the operation records' own bytes are most of a
	// chain, so a growing hash of them is folded, within the same bound.
	s := []byte("s")
	folds := 0
	prev := 0
	for i := range 20000 {
		hashOp(t, c, 0, s, false, fmt.Appendf(nil, "%d", i), []byte("0123456789abcdef"))
		if i%50 != 0 {
			continue
		}
		img, ops := chainOpBytes(t, c, 0, s)
		if live := liveSize(t, c, 0, s); img+ops > (1+FoldRatio)*max(img, live)+FoldFloor {
			t.Fatalf("small %d: image %d + chain %d bytes for %d live bytes", i, img, ops, live)
		}
		if img != prev {
			folds++
			prev = img
		}
	}
	if folds < 5 {
		t.Fatalf("a hash of 20000 small fields was folded %d times", folds)
	}
}

// TestFoldLargeImage: the fold of a hash whose image exceeds the store's
// 1 MiB write buffer (streamed to the log in pieces) leaves an image of
// the live size, is logged at debug level with its sizes, and reads back
// after a restart.
func TestFoldLargeImage(t *testing.T) {
	dir := t.TempDir()
	core, logs := observer.New(zap.DebugLevel)
	c := openTest(t, dir, Options{NoActiveExpiry: true, Logger: zap.New(core)})
	k := []byte("h")
	const n = 1500 // fields of 1000 bytes: an image of about 1.5 MB
	field := func(i int) []byte { return fmt.Appendf(nil, "f%04d", i) }
	vals := [2][]byte{bytes.Repeat([]byte{'x'}, 1000), bytes.Repeat([]byte{'y'}, 1000)}
	want := map[string]string{}
	var folds []observer.LoggedEntry
	for i := 0; i < 10*n && len(folds) == 0; i++ {
		v := vals[i/n%2]
		hashOp(t, c, 0, k, false, field(i%n), v)
		want[string(field(i%n))] = string(v)
		folds = logs.FilterMessage("cache: folded a collection").All()
	}
	if len(folds) == 0 {
		t.Fatal("overwrites never folded the hash")
	}
	f := folds[0].ContextMap()
	live := liveSize(t, c, 0, k)
	if img, _ := chainOpBytes(t, c, 0, k); f["image_bytes"] != int64(img) || img != live || img <= 1<<20 {
		t.Fatalf("fold logged %v; the image is %d bytes (live %d), want one over 1 MiB", f, img, live)
	}
	if f["key"] != "h" || f["chain_bytes"].(int64) <= 0 {
		t.Fatalf("fold logged %v", f)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openTest(t, dir, Options{NoActiveExpiry: true})
	if got := hashMap(t, c, 0, k); !maps.Equal(got, want) {
		t.Fatalf("after reopen: %d fields, want %d", len(got), len(want))
	}
}

func TestHashPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir, Options{NoActiveExpiry: true, Capacity: 4})
	k := []byte("h")
	want := map[string]string{}
	for i := range 3000 {
		f := fmt.Appendf(nil, "f%d", i%700)
		if i%5 == 4 {
			hashOp(t, c, 0, k, true, f, nil)
			delete(want, string(f))
			continue
		}
		v := fmt.Appendf(nil, "v%d\x00\xff", i)
		hashOp(t, c, 0, k, false, f, v)
		want[string(f)] = string(v)
		if i%97 == 0 { // evict sometimes: the next op reloads
			for j := range 8 {
				mustSet(t, c, 0, key(j), val(j), 0)
				get(t, c, 0, key(j))
			}
		}
		// The fold bound (FoldRatio's comment), with room for the live
		// size to drift between measurements (deletes shrink it).
		img, ops := chainOpBytes(t, c, 0, k)
		if live := liveSize(t, c, 0, k); img+ops > 2*(1+FoldRatio)*max(img, live)+FoldFloor {
			t.Fatalf("op %d: image of %d bytes and %d op bytes for %d live bytes", i, img, ops, live)
		}
	}
	if got := hashMap(t, c, 0, k); !maps.Equal(got, want) {
		t.Fatalf("before reopen: %d fields, want %d", len(got), len(want))
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openTest(t, dir, Options{NoActiveExpiry: true})
	if got := hashMap(t, c, 0, k); !maps.Equal(got, want) {
		t.Fatalf("after reopen: %d fields, want %d", len(got), len(want))
	}
}

func TestHashEvictionReload(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true, Capacity: 1, Shards: 1})
	k := []byte("h")
	for i := range 50 {
		hashOp(t, c, 0, k, false, fmt.Appendf(nil, "f%d", i), fmt.Appendf(nil, "%d", i))
	}
	hashOp(t, c, 0, k, true, []byte("f3"), nil)
	before := hashMap(t, c, 0, k)
	mustSet(t, c, 0, []byte("other"), []byte("x"), 0)
	get(t, c, 0, []byte("other")) // evicts h (capacity 1)
	if st := c.Stats(); st.Evictions == 0 {
		t.Fatalf("no eviction: %+v", st)
	}
	if after := hashMap(t, c, 0, k); !maps.Equal(before, after) || len(after) != 49 {
		t.Fatalf("after reload %d fields, before %d", len(after), len(before))
	}
}

func TestHashEmptyDeletesKeyAndExpire(t *testing.T) {
	clk := newClock()
	c := openTest(t, "", Options{NoActiveExpiry: true, Now: clk.Now})
	k := []byte("h")
	hashOp(t, c, 0, k, false, []byte("a"), []byte("1"))
	hashOp(t, c, 0, k, false, []byte("b"), []byte("2"))
	hashOp(t, c, 0, k, true, []byte("a"), nil)
	hashOp(t, c, 0, k, true, []byte("b"), nil)
	if m := hashMap(t, c, 0, k); m != nil {
		t.Fatalf("emptied hash still there: %v", m)
	}
	hashOp(t, c, 0, k, false, []byte("a"), []byte("1"))
	hashOp(t, c, 0, k, false, []byte("b"), []byte("2"))
	tx := c.Lock(k)
	if ok, err := tx.Expire(0, k, clk.Now()+1000); !ok || err != nil {
		t.Fatalf("Expire: %v %v", ok, err)
	}
	tx.Unlock()
	hashOp(t, c, 0, k, false, []byte("c"), []byte("3"))
	if m := hashMap(t, c, 0, k); len(m) != 3 {
		t.Fatalf("got %v", m)
	}
	clk.Advance(1000)
	if m := hashMap(t, c, 0, k); m != nil {
		t.Fatalf("expired hash still there: %v", m)
	}
	// SwapDB and FlushDB with a chained key.
	hashOp(t, c, 1, k, false, []byte("a"), []byte("1"))
	hashOp(t, c, 1, k, false, []byte("b"), []byte("2"))
	if err := c.SwapDB(0, 1); err != nil {
		t.Fatal(err)
	}
	if m := hashMap(t, c, 0, k); len(m) != 2 || hashMap(t, c, 1, k) != nil {
		t.Fatalf("after SwapDB: %v", m)
	}
	if err := c.FlushDB(0); err != nil {
		t.Fatal(err)
	}
	if m := hashMap(t, c, 0, k); m != nil {
		t.Fatalf("after FlushDB: %v", m)
	}
}

func TestHashSetCopiesObject(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	src, dst := []byte("src"), []byte("dst")
	hashOp(t, c, 0, src, false, []byte("a"), []byte("1"))
	hashOp(t, c, 0, dst, false, []byte("x"), []byte("y"))
	hashMap(t, c, 0, dst) // cache dst
	tx := c.LockKeys([][]byte{src, dst})
	v, _, _ := tx.Get(0, src)
	if err := tx.Set(0, dst, v); err != nil { // RENAME's way
		t.Fatal(err)
	}
	tx.Unlock()
	hashOp(t, c, 0, src, false, []byte("b"), []byte("2"))
	if m := hashMap(t, c, 0, dst); len(m) != 1 || m["a"] != "1" {
		t.Fatalf("dst shares src's object: %v", m)
	}
}

func TestHashAppendOpAllocs(t *testing.T) {
	c := openTest(t, "", Options{NoActiveExpiry: true})
	k := []byte("h")
	hashOp(t, c, 0, k, false, []byte("a"), []byte("1"))
	op := types.AppendOpHashSet(nil, []byte("a"), []byte("2"))
	allocs := testing.AllocsPerRun(200, func() {
		tx := c.Lock(k)
		v, _, _ := tx.Get(0, k)
		v.Obj.(*types.Hash).SetString("a", "2")
		if err := tx.AppendOp(0, k, &v, op); err != nil {
			t.Fatal(err)
		}
		tx.Unlock()
	})
	// A fold every few hundred ops allocates an image; the hit path and
	// the append itself do not allocate.
	if allocs > 2 {
		t.Fatalf("%.1f allocations per hash update", allocs)
	}
}

// BenchmarkHashUpdate measures one HSET-like update of a hash of n fields
// through Get, an in-place change and AppendOp: its cost (folds
// amortized) must not grow with n.
func BenchmarkHashUpdate(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) {
			c := openTest(b, "", Options{NoActiveExpiry: true})
			k := []byte("h")
			h := &types.Hash{}
			for i := range n {
				h.Set(fmt.Appendf(nil, "field:%d", i), fmt.Appendf(nil, "value:%d", i))
			}
			tx := c.Lock(k)
			if err := tx.Set(0, k, Value{Kind: store.KindHash, Obj: h}); err != nil {
				b.Fatal(err)
			}
			tx.Unlock()
			f := []byte("field:7")
			op := types.AppendOpHashSet(nil, f, []byte("new"))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				tx := c.Lock(k)
				v, _, err := tx.Get(0, k)
				if err != nil {
					b.Fatal(err)
				}
				v.Obj.(*types.Hash).SetString("field:7", "new")
				if err := tx.AppendOp(0, k, &v, op); err != nil {
					b.Fatal(err)
				}
				tx.Unlock()
			}
		})
	}
}

// TestHashConcurrent has goroutines update shared hashes at once (run
// with -race): every field set must be there after, in memory and after a
// reopen.
func TestHashConcurrent(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir, Options{NoActiveExpiry: true, Capacity: 2})
	const workers, perWorker = 4, 300
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range perWorker {
				k := []byte(fmt.Sprintf("h%d", i%3))
				if err := hashOpErr(c, 0, k, false, fmt.Appendf(nil, "w%d-%d", w, i), fmt.Appendf(nil, "%d", i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	check := func() {
		t.Helper()
		total := 0
		for j := range 3 {
			total += len(hashMap(t, c, 0, []byte(fmt.Sprintf("h%d", j))))
		}
		if total != workers*perWorker {
			t.Fatalf("%d fields, want %d", total, workers*perWorker)
		}
	}
	check()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openTest(t, dir, Options{NoActiveExpiry: true})
	check()
}
