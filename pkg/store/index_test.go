package store

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// checkTable verifies the probing invariant: every key is reachable from
// its home slot without crossing an empty slot, and the counters agree.
func checkTable(t *testing.T, tb *table) {
	t.Helper()
	used := 0
	for i, s := range tb.slots {
		if s.loc == 0 {
			continue
		}
		used++
		for j := uint64(s.hash) & tb.mask; j != uint64(i); j = (j + 1) & tb.mask {
			if tb.slots[j].loc == 0 {
				t.Fatalf("slot %d (home %d) is cut off by empty slot %d", i, uint64(s.hash)&tb.mask, j)
			}
		}
	}
	if used != tb.used {
		t.Fatalf("used = %d, %d slots full", tb.used, used)
	}
}

func TestIndexInsertDeleteInvariant(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 3))
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	defer closeT(t, s)
	d := s.DB(0)
	live := map[string]bool{}
	for i := range 20000 {
		k := fmt.Sprint(r.IntN(3000))
		if r.IntN(3) == 0 {
			ok, _ := d.Delete([]byte(k))
			if ok != live[k] {
				t.Fatalf("Delete(%s) = %v, want %v", k, ok, live[k])
			}
			delete(live, k)
		} else {
			mustSet(t, d, k, k, 0)
			live[k] = true
		}
		if i%1000 == 0 {
			checkTable(t, d.t)
			checkKeys(t, d)
		}
	}
	checkTable(t, d.t)
	for k := range live {
		wantGet(t, d, k, k, 0)
	}
	// Deleting almost everything shrinks the table.
	size := len(d.t.slots)
	for k := range live {
		d.Delete([]byte(k))
	}
	checkTable(t, d.t)
	if len(d.t.slots) >= size || d.Len() != 0 {
		t.Fatalf("after deleting all: %d slots (was %d), Len %d", len(d.t.slots), size, d.Len())
	}
}

// TestScanContract checks Redis's SCAN guarantee: every key present for
// the whole iteration is returned, while other keys are added and removed
// between calls so that the table grows and shrinks mid-scan.
func TestScanContract(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 4))
	for _, tc := range []struct {
		name   string
		stable int
		churn  func(d *DB, step int)
	}{
		{"quiet", 500, func(*DB, int) {}},
		{"grow", 200, func(d *DB, step int) {
			if step >= 40 { // a table growing forever would never finish the scan
				return
			}
			for i := range 50 {
				d.Set(fmt.Appendf(nil, "grow-%d-%d", step, i), KindString, nil, 0)
			}
		}},
		{"grow then shrink", 100, func(d *DB, step int) {
			if step < 20 {
				for i := range 300 {
					d.Set(fmt.Appendf(nil, "tmp-%d-%d", step, i), KindString, nil, 0)
				}
				return
			}
			for i := range 300 {
				d.Delete(fmt.Appendf(nil, "tmp-%d-%d", step-20, i))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openT(t, t.TempDir(), Options{Sync: SyncNo})
			defer closeT(t, s)
			d := s.DB(0)
			for i := range tc.stable {
				mustSet(t, d, fmt.Sprint("stable-", i), "", 0)
			}
			seen := map[string]int{}
			sizes := map[int]bool{}
			cursor, step := uint64(0), 0
			for {
				sizes[len(d.t.slots)] = true
				cursor = d.Scan(cursor, 1+r.IntN(8), func(key []byte, kind Kind, exp int64) { seen[string(key)]++ })
				tc.churn(d, step)
				step++
				if cursor == 0 {
					break
				}
				if step > 100000 {
					t.Fatal("scan does not terminate")
				}
			}
			for i := range tc.stable {
				if seen[fmt.Sprint("stable-", i)] == 0 {
					t.Fatalf("stable-%d never returned (table sizes during scan %v)", i, sizes)
				}
			}
			if tc.name == "quiet" {
				for k, n := range seen {
					if n != 1 {
						t.Fatalf("%s returned %d times without a resize", k, n)
					}
				}
			}
			t.Logf("%d steps, table sizes %v", step, sizes)
		})
	}
}

// TestIndexBytesPerKey measures the index's heap cost per key: the figure
// quoted in doc.go.
func TestIndexBytesPerKey(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo})
	defer closeT(t, s)
	d := s.DB(0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 1 << 20
	key := make([]byte, 0, 16)
	for i := range n {
		key = fmt.Appendf(key[:0], "key:%08d", i)
		if err := d.Set(key, KindString, key, 0); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perKey := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	slotBytes := float64(len(d.t.slots)*24) / n
	arenaBytes := float64(cap(d.t.keys.b)) / n
	t.Logf("%d keys: %d slots, index %.1f B/key, key arena %.1f B/key (%d used), heap growth %.1f B/key",
		n, len(d.t.slots), slotBytes, arenaBytes, len(d.t.keys.b), perKey)
	if len(d.t.keys.b) != n*entLen(len(key)) || d.t.keys.garbage != 0 {
		t.Fatalf("key arena of %d bytes (%d garbage), want %d entries of %d", len(d.t.keys.b), d.t.keys.garbage, n, entLen(len(key)))
	}
	// The slots and the arena's array (up to twice its length after a
	// growth), and nothing else: no per-key allocation.
	if perKey > slotBytes+arenaBytes+8 {
		t.Fatalf("heap grows %.1f bytes per key, want at most %.1f", perKey, slotBytes+arenaBytes+8)
	}
}

// checkKeys verifies d's key arena against the log: every entry a slot
// refers to holds the key of the slot's record and, if known, its padded
// size; the entries referred to and the garbage add up to the arena; and
// the table's live bytes are its records' and chains' sizes.
func checkKeys(t *testing.T, d *DB) {
	t.Helper()
	d.mu.RLock()
	defer d.mu.RUnlock()
	tb, ss := d.t, *d.s.segs.Load()
	refd, live := 0, int64(0)
	for i, s := range tb.slots {
		if s.loc == 0 {
			continue
		}
		r := ss.record(s.loc)
		if r == nil {
			t.Fatalf("db %d slot %d: no record at %x", d.n, i, s.loc)
		}
		live += padded(int64(len(r))) + d.chainBytes(s.loc)
		if s.kref == noKey {
			continue
		}
		if k := tb.keys.key(s.kref); string(k) != string(recKey(r)) {
			t.Fatalf("db %d slot %d: arena key %q, record key %q", d.n, i, k, recKey(r))
		}
		if n := tb.keys.size(s.kref); n != 0 && n != padded(int64(len(r))) {
			t.Fatalf("db %d key %q: arena size %d, record %d", d.n, recKey(r), n, padded(int64(len(r))))
		}
		refd += entLen(len(recKey(r)))
	}
	if refd+tb.keys.garbage != len(tb.keys.b) {
		t.Fatalf("db %d: arena of %d bytes, %d referred to, %d garbage", d.n, len(tb.keys.b), refd, tb.keys.garbage)
	}
	if live != tb.live {
		t.Fatalf("db %d: live bytes %d, records and chains %d", d.n, tb.live, live)
	}
}
