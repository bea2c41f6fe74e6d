package store

import (
	"slices"
	"sort"
)

// opList holds the locations of a chain's operation records, in log order
// (so ascending), in blocks of at most opBlock locations: every block is
// full but the last. Appending never copies the locations already held.
// The first block grows by append from nothing, so a chain of a few
// operations costs a few words; later blocks are allocated full, or taken
// from the database's spare blocks (DB.spareBlocks) that an emptied chain
// released.
//
// Why blocks: one flat slice, regrown by append, was copied at every
// growth (about 5 times its final size in all for Go's 1.25x growth of
// large slices), and each growth faulted in fresh memory. A collection
// that keeps growing is folded over and over, and each new chain regrows
// to about its predecessor's length: for a list of millions of elements
// the regrowth was half of the server's page faults (perf/results/
// hotpath.md, "Chain blocks"). With blocks, the new chain reuses the old
// chain's blocks.
type opList struct {
	blocks [][]uint64
	n      int
}

const (
	opBlockBits = 12
	opBlock     = 1 << opBlockBits // locations per block (32 KiB)
	// maxSpareBlocks bounds a database's spare blocks (32 MiB): about one
	// chain of 4M operations, the chain of a list of about that many
	// small elements between two folds.
	maxSpareBlocks = 1024
)

func (o *opList) len() int { return o.n }

// at returns the i-th location.
func (o *opList) at(i int) uint64 { return o.blocks[i>>opBlockBits][i&(opBlock-1)] }

// set replaces the i-th location (compaction moved the record; the order
// of the locations is unchanged, as compaction keeps the log's order).
func (o *opList) set(i int, l uint64) { o.blocks[i>>opBlockBits][i&(opBlock-1)] = l }

// push appends l, taking a new block from *spare if it has one.
func (o *opList) push(l uint64, spare *[][]uint64) {
	nb := len(o.blocks)
	if nb == 0 || len(o.blocks[nb-1]) == opBlock {
		var b []uint64
		if nb > 0 {
			if k := len(*spare); k > 0 {
				b = (*spare)[k-1][:0]
				(*spare)[k-1] = nil
				*spare = (*spare)[:k-1]
			} else {
				b = make([]uint64, 0, opBlock)
			}
		}
		o.blocks = append(o.blocks, b)
		nb++
	}
	o.blocks[nb-1] = append(o.blocks[nb-1], l)
	o.n++
}

// search returns the position of l, or -1: a binary search for the block
// (by its first location), then within it.
func (o *opList) search(l uint64) int {
	bs := o.blocks
	j := sort.Search(len(bs), func(j int) bool { return bs[j][0] > l }) - 1
	if j < 0 {
		return -1
	}
	if i, found := slices.BinarySearch(bs[j], l); found {
		return j<<opBlockBits + i
	}
	return -1
}

// appendTo appends the locations to dst.
func (o *opList) appendTo(dst []uint64) []uint64 {
	for _, b := range o.blocks {
		dst = append(dst, b...)
	}
	return dst
}

// release empties o, giving its full-size blocks to *spare (up to
// maxSpareBlocks). The first block, grown by append, is dropped.
func (o *opList) release(spare *[][]uint64) {
	for j := 1; j < len(o.blocks) && len(*spare) < maxSpareBlocks; j++ {
		*spare = append(*spare, o.blocks[j])
	}
	o.blocks, o.n = nil, 0
}
