package store

import (
	"slices"
	"testing"
)

// TestOpList checks opList against a flat slice: positions, search, set,
// and that release keeps at most maxSpareBlocks blocks, which push takes
// back before allocating.
func TestOpList(t *testing.T) {
	for _, n := range []int{0, 1, opBlock - 1, opBlock, opBlock + 1, 3*opBlock + 17} {
		var o opList
		var spare [][]uint64
		var want []uint64
		for i := range n {
			l := uint64(10 + 3*i)
			o.push(l, &spare)
			want = append(want, l)
		}
		if o.len() != n || !slices.Equal(o.appendTo(nil), want) {
			t.Fatalf("n=%d: len %d, contents differ", n, o.len())
		}
		for i, l := range want {
			if o.at(i) != l || o.search(l) != i || o.search(l+1) != -1 {
				t.Fatalf("n=%d: position %d: at %d search %d", n, i, o.at(i), o.search(l))
			}
		}
		if o.search(0) != -1 || o.search(1<<62) != -1 {
			t.Fatalf("n=%d: search found an absent location", n)
		}
		for i := range want {
			want[i]++
			o.set(i, want[i])
		}
		if !slices.Equal(o.appendTo(nil), want) {
			t.Fatalf("n=%d: set changed the wrong positions", n)
		}
		for j, b := range o.blocks {
			if j < len(o.blocks)-1 && len(b) != opBlock {
				t.Fatalf("n=%d: block %d of %d holds %d", n, j, len(o.blocks), len(b))
			}
		}
		o.release(&spare)
		if got, wantSpare := len(spare), max(0, (n-1)/opBlock); o.len() != 0 || got != wantSpare {
			t.Fatalf("n=%d: after release len %d, %d spare blocks, want %d", n, o.len(), got, wantSpare)
		}
		for range n {
			o.push(1, &spare)
		}
		if len(spare) != 0 {
			t.Fatalf("n=%d: %d spare blocks not taken back", n, len(spare))
		}
	}
	// The bound.
	spare := make([][]uint64, maxSpareBlocks-1)
	var o opList
	for range 3 * opBlock {
		o.push(1, new([][]uint64))
	}
	o.release(&spare)
	if len(spare) != maxSpareBlocks {
		t.Fatalf("%d spare blocks, want the bound %d", len(spare), maxSpareBlocks)
	}
}
