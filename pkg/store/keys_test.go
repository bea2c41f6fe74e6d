package store

import (
	"fmt"
	"strings"
	"testing"
)

// slotOf returns the slot of key in d (which must hold it).
func slotOf(t *testing.T, d *DB, key string) *slot {
	t.Helper()
	i := d.t.find(*d.s.segs.Load(), d.hash([]byte(key)), []byte(key))
	if i < 0 {
		t.Fatalf("%q not in the index", key)
	}
	return &d.t.slots[i]
}

// TestOverwriteDecidedFromArena: once a key has an arena entry, a Set of
// it finds its slot without reading the old record. The test garbles the
// old record's key in the log (a MemFS mapping is writable): a lookup that
// read it would take the Set for a new key and the database would hold
// two. Deleting the key also needs no record.
func TestOverwriteDecidedFromArena(t *testing.T) {
	fs := NewMemFS()
	s := openT(t, "/d", Options{FS: fs, Sync: SyncNo})
	defer closeT(t, s)
	d := s.DB(0)
	mustSet(t, d, "key", "v1", 0)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	sl := slotOf(t, d, "key")
	if sl.kref == noKey {
		t.Fatal("a key written by Set has no arena entry")
	}
	r := (*s.segs.Load()).record(sl.loc)
	if r == nil {
		t.Fatal("no record")
	}
	recKey(r)[0] = 'X' // the log now says "Xey"
	mustSet(t, d, "key", "v2", 0)
	if d.Len() != 1 {
		t.Fatalf("Len = %d after overwriting the only key, want 1", d.Len())
	}
	wantGet(t, d, "key", "v2", 0)
	checkKeys(t, d)
	if ok, err := d.Delete([]byte("key")); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	if d.Len() != 0 || d.t.live != 0 {
		t.Fatalf("after Delete: Len %d, live %d", d.Len(), d.t.live)
	}
}

// TestArenaAfterSnapshotAndLongKeys: keys loaded from a snapshot (which
// holds no keys) and keys longer than maxArenaKey have no arena entry and
// are found through their records; a Set gives a loaded key an entry, with
// its record's size, and never a long key one.
func TestArenaAfterSnapshotAndLongKeys(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{Sync: SyncNo})
	long := strings.Repeat("L", maxArenaKey+1)
	edge := strings.Repeat("E", maxArenaKey)
	d := s.DB(0)
	for i := range 100 {
		mustSet(t, d, fmt.Sprint("k", i), "v", 0)
	}
	mustSet(t, d, long, "long", 0)
	mustSet(t, d, edge, "edge", 0)
	if slotOf(t, d, long).kref != noKey || slotOf(t, d, edge).kref == noKey {
		t.Fatal("a key over maxArenaKey has an entry, or one of maxArenaKey has none")
	}
	checkKeys(t, d)
	closeT(t, s) // writes the snapshot

	s = openT(t, dir, Options{Sync: SyncNo})
	defer closeT(t, s)
	if !s.Stats().LoadedSnapshot {
		t.Fatal("no snapshot loaded")
	}
	d = s.DB(0)
	if len(d.t.keys.b) != 0 || slotOf(t, d, "k1").kref != noKey {
		t.Fatalf("keys loaded from a snapshot have entries (arena %d bytes)", len(d.t.keys.b))
	}
	wantGet(t, d, "k1", "v", 0)
	wantGet(t, d, long, "long", 0)
	wantGet(t, d, edge, "edge", 0)
	for i := range 50 {
		mustSet(t, d, fmt.Sprint("k", i), "value", 0) // a new size
	}
	mustSet(t, d, long, "long2", 0)
	mustSet(t, d, edge, "edge2", 0)
	if slotOf(t, d, "k1").kref == noKey || slotOf(t, d, "k99").kref != noKey || slotOf(t, d, long).kref != noKey {
		t.Fatal("entries after Set: want k1 and not k99 or the long key")
	}
	checkKeys(t, d)
	if d.Len() != 102 {
		t.Fatalf("Len = %d, want 102", d.Len())
	}
	for _, k := range []string{"k1", "k99", long, edge} {
		if ok, err := d.Delete([]byte(k)); !ok || err != nil {
			t.Fatalf("Delete(%.8s) = %v, %v", k, ok, err)
		}
	}
	checkKeys(t, d)
	wantGet(t, d, "k2", "value", 0)
	wantGet(t, d, "k98", "v", 0)
}

// TestArenaRebuiltAfterDeletes: once entries of deleted keys are half of
// the arena (and at least 1 MiB), the arena is rebuilt without them; the
// keys left are all found, with their sizes.
func TestArenaRebuiltAfterDeletes(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	defer closeT(t, s)
	d := s.DB(0)
	const n = 100_000
	key := func(i int) string { return fmt.Sprintf("key:%012d", i) }
	for i := range n {
		mustSet(t, d, key(i), "v", 0)
	}
	full := len(d.t.keys.b)
	if full != n*entLen(len(key(0))) {
		t.Fatalf("arena %d bytes for %d keys", full, n)
	}
	for i := range n {
		if i%10 == 0 {
			continue
		}
		if ok, err := d.Delete([]byte(key(i))); !ok || err != nil {
			t.Fatalf("Delete = %v, %v", ok, err)
		}
		if g := d.t.keys.garbage; g >= 1<<20 && g*2 >= len(d.t.keys.b) {
			t.Fatalf("after %d deletes: %d bytes of garbage in an arena of %d", i, g, len(d.t.keys.b))
		}
	}
	if live := n / 10 * entLen(len(key(0))); len(d.t.keys.b) >= full || len(d.t.keys.b) > live+1<<20 {
		t.Fatalf("arena %d bytes (was %d) with %d bytes of entries left", len(d.t.keys.b), full, live)
	}
	checkKeys(t, d)
	for i := 0; i < n; i += 10 {
		wantGet(t, d, key(i), "v", 0)
	}
	mustSet(t, d, key(1), "again", 0)
	wantGet(t, d, key(1), "again", 0)
	checkKeys(t, d)
}
