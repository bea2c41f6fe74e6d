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
	if d.sr > 0 {
		if d.old != nil {
			fail("a squeeze and a rehash at once")
		}
		if d.sw > d.sr || d.sr >= d.n {
			fail("squeeze cursors %d, %d out of order", d.sw, d.sr)
		}
		for i := d.sw; i < d.sr; i++ {
			if d.at(i).seq&deadBit == 0 {
				fail("live entry %d in the squeeze's gap", i)
			}
		}
	}
	var last uint64 // seqs ascend outside the gap
	for i := 0; i < d.n; i++ {
		if i == d.sw && d.sr > d.sw {
			i = d.sr
		}
		seq := d.at(i).seq &^ deadBit
		if seq <= last {
			fail("seq %d at entry %d after %d", seq, i, last)
		}
		last = max(last, seq)
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
	rehashes, midRemoves, squeezes, midScans := 0, 0, 0, 0
	total := 200_000 // also with -short: the dict must outgrow squeezeMin
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
			wasSqueezing := d.sr > 0
			d.remove(i)
			if !wasSqueezing && d.sr > 0 {
				squeezes++
			}
			delete(model, k)
			keys[j] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
		case len(keys) > 0:
			k := keys[r.IntN(len(keys))]
			d.at(d.find(k)).val = -step
			model[k] = -step
		}
		if step%97 == 0 || (d.old != nil || d.sr > 0) && step%7 == 0 {
			checkDict(t, step, &d, model)
		}
		if step%53 == 0 {
			if d.sr > d.sw {
				midScans++
			}
			checkScan(t, step, &d, model, 1+r.IntN(50))
		}
	}
	checkDict(t, total, &d, model)
	t.Logf("%d incremental rehashes, %d removes of entries still in the old table, %d squeezes, %d full scans across a squeeze's gap",
		rehashes, midRemoves, squeezes, midScans)
	if rehashes < 5 || midRemoves == 0 || squeezes < 5 || midScans == 0 {
		t.Fatal("the walk did not exercise the rehash and the squeeze")
	}
}

// checkScan scans d in calls of count entries, without mutations, and
// checks that it returns every entry of model once.
func checkScan(t *testing.T, step int, d *dict[int], model map[string]int, count int) {
	t.Helper()
	seen := map[string]int{}
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		cursor = d.scan(cursor, count, func(e *dentry[int]) { seen[e.key]++ })
		if cursor == 0 {
			break
		}
		if calls > d.n+1 {
			t.Fatalf("step %d: scan does not end", step)
		}
	}
	for k, n := range seen {
		if _, ok := model[k]; !ok || n != 1 {
			t.Fatalf("step %d: scan returned %q %d times (in the dict: %v)", step, k, n, ok)
		}
	}
	if len(seen) != len(model) {
		t.Fatalf("step %d: scan returned %d of %d entries (squeeze %d..%d of %d)", step, len(seen), len(model), d.sw, d.sr, d.n)
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

// TestDictSqueeze empties most of a large dict, so that its tombstones
// are squeezed out incrementally, and checks that a Scan never reads the
// squeeze's gap (each entry there is made to look live: a scan that
// walked it would return it), and that the table shrinks with the dict.
func TestDictSqueeze(t *testing.T) {
	r := newRand(t)
	var d dict[int]
	model := map[string]int{}
	var keys []string
	for i := 0; i < 50_000; i++ {
		k := fmt.Sprint("k", i)
		d.insert(k, i)
		model[k] = i
		keys = append(keys, k)
	}
	big := len(d.slots)
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	gapScans := 0
	for len(keys) > 5_000 || d.sr > 0 || d.old != nil {
		if len(keys) == 0 {
			t.Fatal("the squeeze did not end")
		}
		k := keys[len(keys)-1]
		keys = keys[:len(keys)-1]
		d.remove(d.find(k))
		delete(model, k)
		if d.sr > d.sw+1 && len(keys)%501 == 0 && gapScans < 5 {
			// Make the gap look live, scan, then restore it.
			saved := make([]dentry[int], d.sr-d.sw)
			for i := d.sw; i < d.sr; i++ {
				saved[i-d.sw] = *d.at(i)
				*d.at(i) = dentry[int]{key: "gap", seq: d.at(d.sw-1).seq + 1}
			}
			checkScan(t, len(keys), &d, model, 1+r.IntN(20))
			for i := d.sw; i < d.sr; i++ {
				*d.at(i) = saved[i-d.sw]
			}
			gapScans++
			// Random draws skip the gap and stay uniform over the
			// live entries on both sides of it.
			tail := 0
			for i := d.sr; i < d.n; i++ {
				if d.at(i).seq&deadBit == 0 {
					tail++
				}
			}
			const draws = 20_000
			inTail := 0
			for range draws {
				i := d.random(fixedRand{r})
				if d.at(i).seq&deadBit != 0 {
					t.Fatalf("random drew dead entry %d", i)
				}
				if i >= d.sr {
					inTail++
				}
			}
			want := float64(tail) / float64(d.live)
			if got := float64(inTail) / draws; got < want-0.03 || got > want+0.03 {
				t.Fatalf("random: %.3f of the draws after the gap, %.3f of the live entries are there", got, want)
			}
		}
	}
	checkDict(t, 0, &d, model)
	if gapScans == 0 {
		t.Fatal("no scan ran during a squeeze")
	}
	if len(d.slots) > 4*tableSize(d.live) || len(d.slots) >= big {
		t.Fatalf("table of %d slots for %d entries (was %d)", len(d.slots), d.live, big)
	}
}

// TestDictSqueezeAndInserts checks a squeeze driven by inserts alone: it
// ends within n/(squeezeStep-1) of them; and a table that fills while a
// squeeze runs (the squeeze ends first, then the table doubles).
func TestDictSqueezeAndInserts(t *testing.T) {
	r := newRand(t)
	fill := func(d *dict[int], model map[string]int, keys *[]string, n int) {
		for len(*keys) < n {
			k := fmt.Sprint("k", r.Uint64())
			if _, ok := model[k]; ok {
				continue
			}
			d.insert(k, len(*keys))
			model[k] = len(*keys)
			*keys = append(*keys, k)
		}
	}
	drop := func(d *dict[int], model map[string]int, keys *[]string) {
		j := r.IntN(len(*keys))
		k := (*keys)[j]
		d.remove(d.find(k))
		delete(model, k)
		(*keys)[j] = (*keys)[len(*keys)-1]
		*keys = (*keys)[:len(*keys)-1]
	}

	// Inserts alone end a squeeze.
	var d dict[int]
	model := map[string]int{}
	var keys []string
	fill(&d, model, &keys, 40_000)
	for d.sr == 0 {
		drop(&d, model, &keys)
	}
	bound := d.n/(squeezeStep-1) + 1
	for i := 0; d.sr > 0; i++ {
		if i > bound {
			t.Fatalf("the squeeze still runs after %d inserts (n %d)", i, d.n)
		}
		fill(&d, model, &keys, len(keys)+1)
	}
	checkDict(t, 0, &d, model)

	// A table that fills during a squeeze.
	d, model, keys = dict[int]{}, map[string]int{}, nil
	fill(&d, model, &keys, 49_000) // 65,536 slots, 3/4 full at 49,152
	slots := len(d.slots)
	for d.sr == 0 {
		drop(&d, model, &keys)
		fill(&d, model, &keys, len(keys)+1)
	}
	fill(&d, model, &keys, 50_000)
	if len(d.slots) <= slots {
		t.Fatalf("the table did not grow: %d slots", len(d.slots))
	}
	checkDict(t, 1, &d, model)
}
