package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// checkGrowth verifies the incremental growth invariant of d (grow.go):
// the new table holds exactly the old table's slots below the cursor,
// and every key of model is found in the old table with its value and
// expiry.
// Unless a growth was stopped (SWAPDB, FLUSHDB, compaction), a table
// that is not growing is at most 3/4 full: strict checks that.
func checkGrowth(t *testing.T, step int, d *DB, model map[string]growEntry, strict bool) {
	t.Helper()
	tab := d.t
	if tab.used != len(model) {
		t.Fatalf("step %d: table counts %d keys, model %d", step, tab.used, len(model))
	}
	ss := d.s.wview()
	n := 0
	for _, sl := range tab.slots {
		if sl.loc == 0 {
			continue
		}
		n++
		if r := ss.record(sl.loc); r == nil {
			t.Fatalf("step %d: a slot points at no record", step)
		} else if _, ok := model[string(recKey(r))]; !ok {
			t.Fatalf("step %d: the table holds %q, not in the database", step, recKey(r))
		}
	}
	if n != tab.used {
		t.Fatalf("step %d: %d slots hold keys, the table counts %d", step, n, tab.used)
	}
	if tab.used*8 > len(tab.slots)*7 {
		t.Fatalf("step %d: table over 7/8 full: %d of %d (growing: %v)", step, tab.used, len(tab.slots), d.grow != nil)
	}
	if g := d.grow; g != nil {
		n := 0
		for p := uint64(0); p < g.c; p++ {
			if s := tab.slots[p]; s.loc != 0 {
				n++
				j := g.nt.findLoc(uint64(s.hash), s.loc)
				if j < 0 || g.nt.slots[j] != s {
					t.Fatalf("step %d: old slot %d (below cursor %d) not copied as is", step, p, g.c)
				}
			}
		}
		m := 0
		for _, s := range g.nt.slots {
			if s.loc != 0 {
				m++
			}
		}
		if m != n {
			t.Fatalf("step %d: new table holds %d slots, the old one %d below cursor %d", step, m, n, g.c)
		}
	} else if strict && tab.used*4 > len(tab.slots)*3 {
		t.Fatalf("step %d: table over 3/4 full: %d of %d", step, tab.used, len(tab.slots))
	}
	for k, want := range model {
		e, ok, err := d.Get([]byte(k))
		if err != nil || !ok || !bytes.Equal(e.Value, want.value) || e.ExpireAt != want.expireAt {
			t.Fatalf("step %d: Get(%q) = %q exp %d ok %v err %v, want %q exp %d", step, k, e.Value, e.ExpireAt, ok, err, want.value, want.expireAt)
		}
	}
}

type growEntry struct {
	value    []byte
	expireAt int64
}

// TestIndexGrowsIncrementally drives a database whose tables grow in
// steps from 16 slots (Options.growMin) through Sets, Deletes (whose
// backward shifts move slots across the copy cursor) and SetExpires
// against a map, growing and shrinking, and checks after every operation
// that the new table mirrors the old one below the cursor; then reopens
// the store and compares again.
func TestIndexGrowsIncrementally(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	dir := t.TempDir()
	opts := Options{CompactRatio: -1, growMin: 16}
	s := openT(t, dir, opts)
	d := s.DB(0)
	model := map[string]growEntry{}
	var keys []string
	started, finished, crossings := 0, 0, 0
	const steps = 30_000
	for step := 0; step < steps; step++ {
		growing := step/(steps/6)%3 != 2 // grow, grow, shrink, ...
		wasGrowing := d.grow != nil
		switch p := r.IntN(10); {
		case p < 6 && growing || p < 2:
			k := fmt.Sprintf("key:%d", r.IntN(1<<30))
			v := fmt.Appendf(nil, "v%d", step)
			if err := d.Set([]byte(k), KindString, v, 0); err != nil {
				t.Fatal(err)
			}
			if _, ok := model[k]; !ok {
				keys = append(keys, k)
			}
			model[k] = growEntry{value: v}
		case p < 8 && len(keys) > 0:
			j := r.IntN(len(keys))
			k := keys[j]
			if g := d.grow; g != nil {
				if i := d.t.find(s.wview(), d.hash([]byte(k)), []byte(k)); i >= 0 && uint64(i) < g.c {
					crossings++ // a delete below the cursor
				}
			}
			if ok, err := d.Delete([]byte(k)); err != nil || !ok {
				t.Fatalf("step %d: Delete(%q) = %v, %v", step, k, ok, err)
			}
			delete(model, k)
			keys[j] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
		case len(keys) > 0:
			k := keys[r.IntN(len(keys))]
			exp := int64(4_000_000_000_000 + step)
			if ok, err := d.SetExpire([]byte(k), exp); err != nil || !ok {
				t.Fatalf("step %d: SetExpire(%q) = %v, %v", step, k, ok, err)
			}
			e := model[k]
			e.expireAt = exp
			model[k] = e
		}
		if !wasGrowing && d.grow != nil {
			started++
		}
		if wasGrowing && d.grow == nil {
			finished++
		}
		if step%50 == 0 || d.grow != nil && step%5 == 0 {
			checkGrowth(t, step, d, model, true)
		}
	}
	checkGrowth(t, steps, d, model, true)
	t.Logf("%d growths started, %d finished, %d deletes below the cursor; %d keys in %d slots",
		started, finished, crossings, len(model), len(d.t.slots))
	if started < 5 || finished < 5 || crossings == 0 || len(model) < 1000 {
		t.Fatal("the walk did not exercise incremental growth")
	}
	closeT(t, s)
	s = openT(t, dir, opts)
	defer closeT(t, s)
	checkGrowth(t, steps+1, s.DB(0), model, true)
}

// TestIndexGrowthStoppedBySwapAndFlush checks that SWAPDB and FLUSHDB
// during a growth leave both databases whole.
func TestIndexGrowthStoppedBySwapAndFlush(t *testing.T) {
	s := openT(t, t.TempDir(), Options{CompactRatio: -1, growMin: 16})
	defer closeT(t, s)
	a, b := s.DB(0), s.DB(1)
	ma, mb := map[string]growEntry{}, map[string]growEntry{}
	set := func(d *DB, m map[string]growEntry, k string) {
		v := []byte("v" + k)
		if err := d.Set([]byte(k), KindString, v, 0); err != nil {
			t.Fatal(err)
		}
		m[k] = growEntry{value: v}
	}
	midGrowth := func(d *DB) bool { // a growth with some slots copied, not all
		return len(d.t.slots) >= 256 && d.grow != nil && d.grow.c > 0 && d.grow.c < uint64(len(d.t.slots))
	}
	for i := 0; !midGrowth(a); i++ {
		set(a, ma, fmt.Sprint("a", i))
	}
	for i := 0; !midGrowth(b); i++ {
		set(b, mb, fmt.Sprint("b", i))
	}
	if err := s.SwapDB(0, 1); err != nil {
		t.Fatal(err)
	}
	ma, mb = mb, ma
	for i := 0; i < 200; i++ { // grow again, past the switch
		set(a, ma, fmt.Sprint("c", i))
	}
	checkGrowth(t, 0, a, ma, false)
	checkGrowth(t, 1, b, mb, false)
	for i := 0; !midGrowth(b); i++ {
		set(b, mb, fmt.Sprint("d", i))
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	mb = map[string]growEntry{}
	for i := 0; i < 300; i++ { // enough to end any growth still held
		set(b, mb, fmt.Sprint("e", i))
	}
	checkGrowth(t, 2, b, mb, true)
}

// TestIndexGrowthAndCompaction compacts a database in the middle of a
// growth (the switch re-points slots in place, so it stops the growth),
// then grows on and checks every key.
func TestIndexGrowthAndCompaction(t *testing.T) {
	s := openT(t, t.TempDir(), Options{CompactRatio: -1, growMin: 16, SegmentSize: 1 << 16})
	defer closeT(t, s)
	d := s.DB(0)
	model := map[string]growEntry{}
	set := func(k string, v []byte) {
		if err := d.Set([]byte(k), KindString, v, 0); err != nil {
			t.Fatal(err)
		}
		model[k] = growEntry{value: v}
	}
	for round := 0; round < 3; round++ {
		for i := 0; i < 2000; i++ { // overwrites: dead records to compact
			set(fmt.Sprint("k", i%700), fmt.Appendf(nil, "%d-%d", round, i))
		}
		for i := 0; d.grow == nil; i++ {
			set(fmt.Sprint("r", round, "-", i), []byte("x"))
		}
		for i := 0; i < 3; i++ { // copy a little of the old table
			set(fmt.Sprint("r", round, "-extra", i), []byte("y"))
		}
		if d.grow == nil || d.grow.c == 0 {
			t.Fatal("no growth in progress before the compaction")
		}
		if err := s.Compact(); err != nil {
			t.Fatal(err)
		}
		checkGrowth(t, round, d, model, false)
		for i := 0; i < 500; i++ {
			set(fmt.Sprint("after", round, "-", i), []byte("z"))
		}
		checkGrowth(t, round, d, model, false)
	}
}

// TestIndexGrowthRestarts stops growth after growth just before it ends
// (a compaction's switch stops it), so that the old table keeps filling:
// it must never pass 7/8, the rest being copied at once there.
func TestIndexGrowthRestarts(t *testing.T) {
	s := openT(t, t.TempDir(), Options{CompactRatio: -1, growMin: 16})
	defer closeT(t, s)
	d := s.DB(0)
	model := map[string]growEntry{}
	key := 0
	for restarts := 0; restarts < 12; {
		k := fmt.Sprint("k", key)
		key++
		if err := d.Set([]byte(k), KindString, []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		model[k] = growEntry{value: []byte("v")}
		if g := d.grow; g != nil && g.c+2*growStep >= uint64(len(d.t.slots)) {
			d.s.appendMu.Lock()
			d.stopGrowth()
			d.s.appendMu.Unlock()
			restarts++
		}
		if tab := d.t; tab.used*8 > len(tab.slots)*7 {
			t.Fatalf("after %d restarts: table over 7/8 full: %d of %d", restarts, tab.used, len(tab.slots))
		}
	}
	checkGrowth(t, key, d, model, false)
	t.Logf("%d keys in %d slots", len(model), len(d.t.slots))
}

// TestIndexGrowthWrapMove: a delete's backward shift can move a slot from
// the start of the table (copied) to its end (not yet copied), when a
// probe run wraps around: the copy must leave the new table.
func TestIndexGrowthWrapMove(t *testing.T) {
	old := newTable(8)
	a := slot{hash: 7, loc: makeLoc(1, 100), kref: noKey}
	b := slot{hash: 15, loc: makeLoc(1, 200), kref: noKey} // home 7 too
	old.slots[7], old.slots[0] = a, b
	old.used = 2
	nt := newTable(16)
	nt.place(b) // slot 0 is below the cursor: copied
	d := &DB{t: old, grow: &growth{nt: nt, c: 1}}
	d.grewDelete(7)
	old.deleteAt(7, 0, d.grewMove)
	if old.slots[7] != b || old.slots[0].loc != 0 {
		t.Fatalf("the shift did not move b to slot 7: %+v", old.slots)
	}
	for _, s := range nt.slots {
		if s.loc != 0 {
			t.Fatalf("the new table still holds %+v, now at an uncopied slot", s)
		}
	}
	for ; d.grow.c < 8; d.grow.c++ { // copy the rest as growOn does
		if s := old.slots[d.grow.c]; s.loc != 0 {
			nt.place(s)
		}
	}
	if j := nt.findLoc(uint64(b.hash), b.loc); j < 0 {
		t.Fatal("b missing from the new table")
	}
}

// TestIndexGrowthReleasesOldTable: an index table replaced by its double
// is handed back to the OS from releaseTableMinBytes on (releaseOldTable),
// whatever releaseMinBytes (the threshold of other garbage) says; below
// it, it is not.
func TestIndexGrowthReleasesOldTable(t *testing.T) {
	oldTable, oldOther := releaseTableMinBytes, releaseMinBytes
	defer func() { releaseTableMinBytes, releaseMinBytes = oldTable, oldOther }()
	releaseMinBytes = 1 << 40
	for _, tc := range []struct {
		min  uintptr
		want bool
	}{{1 << 40, false}, {1, true}} {
		releaseTableMinBytes = tc.min
		s := openT(t, t.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, SnapshotLogBytes: -1, SnapshotInterval: -1, growMin: 16})
		d := s.DB(0)
		start := len(d.t.slots)
		for i := 0; len(d.t.slots) < 8*start; i++ { // through small and incremental doublings
			mustSet(t, d, fmt.Sprint("k", i), "v", 0)
		}
		for s.releasing.Load() {
			time.Sleep(time.Millisecond)
		}
		if got := s.releases.Load() > 0; got != tc.want {
			t.Fatalf("releaseTableMinBytes %d: released %v after the table grew from %d to %d slots, want %v", tc.min, got, start, len(d.t.slots), tc.want)
		}
		closeT(t, s)
	}
}
