package types

import (
	"fmt"
	"testing"
)

// checkDict verifies d against model (key -> value): counts, every live
// entry in exactly the tables the rehash state says, no stray slots, and
// the load bound of the table inserts go to.
func checkDict(t *testing.T, step int, d *dict[int], model map[string]int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d (n %d, live %d, slots %d, rehashing %v moved %d mark %d): %s",
			step, d.n, d.live, len(d.slots), d.old != nil, d.moved, d.mark, fmt.Sprintf(format, args...))
	}
	if d.live != len(model) {
		fail("live %d, model has %d", d.live, len(model))
	}
	if d.live*4 > len(d.slots)*3 {
		fail("table over 3/4 full")
	}
	if d.old != nil && d.moved >= d.mark {
		fail("every entry moved, the old table still kept")
	}
	if len(d.blocks) > 0 && cap(d.blocks[0]) > blockLen {
		fail("first block grew past %d entries: %d", blockLen, cap(d.blocks[0]))
	}
	inNew, inOld := 0, 0
	for i := 0; i < d.n; i++ {
		e := d.at(i)
		if e.seq&deadBit != 0 {
			continue
		}
		if v, ok := model[e.key]; !ok || v != e.val {
			fail("entry %d %q=%d, model %d (present %v)", i, e.key, e.val, v, ok)
		}
		h := d.hash(e.key)
		wantNew := d.old == nil || i < d.moved || i >= d.mark
		if got := d.probe(d.slots, h, e.key); (got == i) != wantNew || got != i && got != -1 {
			fail("entry %d %q: new table gives %d, want it there: %v", i, e.key, got, wantNew)
		}
		if wantNew {
			inNew++
		}
		if d.old != nil && i < d.mark {
			if got := d.probe(d.old, h, e.key); got != i {
				fail("entry %d %q: old table gives %d", i, e.key, got)
			}
			inOld++
		}
		if got := d.find(e.key); got != i {
			fail("find(%q) = %d, want %d", e.key, got, i)
		}
	}
	count := func(tab []uint64) (n int) {
		for _, s := range tab {
			if s != 0 {
				n++
			}
		}
		return n
	}
	if got := count(d.slots); got != inNew {
		fail("new table holds %d slots for %d entries", got, inNew)
	}
	if got := count(d.old); got != inOld {
		fail("old table holds %d slots for %d entries", got, inOld)
	}
}

// TestDictRehash drives a dict through growth, incremental rehash (with
// removes and updates landing in both tables), shrinking compactions and
// regrowth, against a map, checking every index invariant as it goes.
func TestDictRehash(t *testing.T) {
	r := newRand(t)
	var d dict[int]
	model := map[string]int{}
	var keys []string // model's keys, for random picks
	rehashes, midRemoves := 0, 0
	total := 40 * steps(t)
	for step := 0; step < total; step++ {
		// Grow for a while, then shrink, so that tables double and
		// compactions happen at many sizes.
		growing := step/(total/8)%2 == 0
		switch p := r.IntN(10); {
		case p < 5 && growing || p < 2:
			k := fmt.Sprintf("k%d", r.IntN(1<<30))
			if _, ok := model[k]; ok {
				continue
			}
			wasOld := d.old != nil
			if d.find(k) != -1 {
				t.Fatalf("step %d: absent key %q found", step, k)
			}
			d.insert(k, step)
			if !wasOld && d.old != nil {
				rehashes++
			}
			model[k] = step
			keys = append(keys, k)
		case p < 8 && len(keys) > 0:
			j := r.IntN(len(keys))
			k := keys[j]
			i := d.find(k)
			if i < 0 {
				t.Fatalf("step %d: key %q not found", step, k)
			}
			if d.old != nil && i < d.mark {
				midRemoves++
			}
			d.remove(i)
			delete(model, k)
			keys[j] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
		case len(keys) > 0:
			k := keys[r.IntN(len(keys))]
			d.at(d.find(k)).val = -step
			model[k] = -step
		}
		if step%97 == 0 || d.old != nil && step%7 == 0 {
			checkDict(t, step, &d, model)
		}
	}
	checkDict(t, total, &d, model)
	t.Logf("%d incremental rehashes, %d removes of entries still in the old table", rehashes, midRemoves)
	if rehashes < 5 || midRemoves == 0 {
		t.Fatalf("the walk did not exercise the rehash: %d rehashes, %d removes during one", rehashes, midRemoves)
	}
}

// TestDictGrowthKeepsEntries checks that growth never moves entries past
// the first block: a pointer to an entry stays valid through a million
// more inserts (that is what makes growth O(1) per insert).
func TestDictGrowthKeepsEntries(t *testing.T) {
	var d dict[int]
	for i := 0; i < blockLen+1; i++ {
		d.insert(fmt.Sprint(i), i)
	}
	first, second := d.at(0), d.at(blockLen)
	n := 1 << 20
	if testing.Short() {
		n = 1 << 17
	}
	for i := blockLen + 1; i < n; i++ {
		d.insert(fmt.Sprint(i), i)
	}
	if first != d.at(0) || second != d.at(blockLen) {
		t.Fatal("growing the dict moved its entries")
	}
	if first.key != "0" || second.val != blockLen {
		t.Fatalf("entries changed: %q, %d", first.key, second.val)
	}
	if d.old != nil {
		d.rehash(d.mark)
	}
	for _, k := range []string{"0", "4096", fmt.Sprint(n - 1)} {
		if i := d.find(k); i < 0 || d.at(i).key != k {
			t.Fatalf("find(%q) = %d", k, i)
		}
	}
}

// TestDictShrinkThenGrow empties a dict of two blocks down to a few
// entries (compaction trims its blocks and reallocates the first, now
// oversized) and grows it again: the first block stays within blockLen
// and every entry is found.
func TestDictShrinkThenGrow(t *testing.T) {
	var d dict[int]
	model := map[string]int{}
	for i := 0; i < 2*blockLen; i++ {
		k := fmt.Sprint(i)
		d.insert(k, i)
		model[k] = i
	}
	for i := 3; i < 2*blockLen; i++ {
		k := fmt.Sprint(i)
		d.remove(d.find(k))
		delete(model, k)
	}
	if len(d.blocks) != 1 || cap(d.blocks[0]) > 4*d.n+16 {
		t.Fatalf("after shrinking to 3 live of %d entries: %d blocks, the first holds %d", d.n, len(d.blocks), cap(d.blocks[0]))
	}
	for i := 2 * blockLen; i < 4*blockLen; i++ {
		k := fmt.Sprint(i)
		d.insert(k, i)
		model[k] = i
	}
	checkDict(t, 0, &d, model)
}
