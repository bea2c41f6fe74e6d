package types

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// collection is what MergeOps's tests need of Hash, Set, List and ZSet.
type collection interface {
	Apply(op []byte) error
	AppendImage(dst []byte) []byte
	Len() int
}

// randomOp returns a random operation record valid for c (of kind k) and
// applies nothing.
func randomOp(r *rand.Rand, k Kind, c collection) []byte {
	item := func() []byte { return fmt.Appendf(nil, "m%d", r.IntN(12)) }
	items := func(op []byte, pairs bool) []byte {
		for range 1 + r.IntN(3) {
			op = AppendItem(op, item())
			if pairs {
				op = AppendItem(op, item())
			}
		}
		return op
	}
	n := c.Len()
	switch k {
	case KindHash:
		if r.IntN(3) == 0 {
			return items(AppendOpHashDelete(nil), false)
		}
		return items(AppendOpHashSet(nil), true)
	case KindSet:
		if r.IntN(3) == 0 {
			return items(AppendOpSetRemove(nil), false)
		}
		return items(AppendOpSetAdd(nil), false)
	case KindList:
		switch x := r.IntN(10); {
		case x < 5 || n == 0:
			return items(AppendOpListPush(nil, r.IntN(2) == 0), false)
		case x < 9:
			return AppendOpListPop(nil, r.IntN(2) == 0, 1+r.IntN(min(n, 3)))
		default:
			return AppendOpListSet(nil, r.IntN(n), item())
		}
	default: // KindZSet
		switch x := r.IntN(10); {
		case x < 5 || n == 0:
			op := AppendOpZAdd(nil)
			for range 1 + r.IntN(3) {
				op = AppendZAddItem(op, float64(r.IntN(5)), item())
			}
			return op
		case x < 7:
			return items(AppendOpZRemove(nil), false)
		case x < 8: // ZPOPMIN
			return AppendOpZRemoveRanks(nil, 0, r.IntN(min(n, 3)))
		case x < 9: // ZPOPMAX
			return AppendOpZRemoveRanks(nil, n-1-r.IntN(min(n, 3)), n-1)
		default:
			lo := r.IntN(n)
			return AppendOpZRemoveRanks(nil, lo, lo+r.IntN(n-lo))
		}
	}
}

func newCollection(k Kind) collection {
	switch k {
	case KindHash:
		return &Hash{}
	case KindSet:
		return &Set{}
	case KindList:
		return &List{}
	default:
		return &ZSet{}
	}
}

// TestMergeOpsSameEffect applies random operation sequences to a
// collection one by one, and to another the records MergeOps makes of
// them (merging each record into the one before whenever it can, as the
// store's write buffer does), and checks that both end the same.
func TestMergeOpsSameEffect(t *testing.T) {
	for _, k := range []Kind{KindHash, KindSet, KindList, KindZSet} {
		merges := 0
		for seed := uint64(1); seed <= 200; seed++ {
			r := rand.New(rand.NewPCG(seed, uint64(k)))
			one, merged := newCollection(k), newCollection(k)
			var recs [][]byte
			var scratch []byte
			for range 1 + r.IntN(30) {
				op := randomOp(r, k, one)
				if err := one.Apply(op); err != nil {
					t.Fatalf("%s seed %d: Apply(%x): %v", k, seed, op, err)
				}
				if last := len(recs) - 1; last >= 0 {
					if keep, tail, ok := MergeOps(scratch, recs[last], op); ok {
						scratch = tail[:0:cap(tail)]
						recs[last] = append(recs[last][:keep:keep], tail...)
						merges++
						continue
					}
				}
				recs = append(recs, op)
			}
			for _, op := range recs {
				if err := merged.Apply(op); err != nil {
					t.Fatalf("%s seed %d: Apply of merged record %x: %v", k, seed, op, err)
				}
			}
			if got, want := merged.AppendImage(nil), one.AppendImage(nil); !bytes.Equal(got, want) {
				t.Fatalf("%s seed %d: merged records give image %x, one by one %x", k, seed, got, want)
			}
		}
		if merges == 0 {
			t.Errorf("%s: no record merged", k)
		}
	}
}

// TestMergeOpsRefuses checks the records that must not merge.
func TestMergeOpsRefuses(t *testing.T) {
	cases := []struct {
		name       string
		prev, next []byte
	}{
		{"other kind", AppendOpSetAdd(nil, []byte("a")), AppendOpHashDelete(nil, []byte("a"))},
		{"other kind, same opcode", AppendOpSetAdd(nil, []byte("a")), AppendOpHashSet(nil, []byte("a"), []byte("b"))},
		{"other opcode", AppendOpSetAdd(nil, []byte("a")), AppendOpSetRemove(nil, []byte("a"))},
		{"other end", AppendOpListPush(nil, true, []byte("a")), AppendOpListPush(nil, false, []byte("a"))},
		{"pops of both ends", AppendOpListPop(nil, true, 1), AppendOpListPop(nil, false, 1)},
		{"list set", AppendOpListSet(nil, 0, []byte("a")), AppendOpListSet(nil, 1, []byte("b"))},
		{"list insert", AppendOpListInsert(nil, 0, []byte("a")), AppendOpListInsert(nil, 0, []byte("b"))},
		{"list remove", AppendOpListRemove(nil, 1, []byte("a")), AppendOpListRemove(nil, 1, []byte("a"))},
		{"list trim", AppendOpListTrim(nil, 1, 0), AppendOpListTrim(nil, 1, 0)},
		{"pop with a trailing byte", append(AppendOpListPop(nil, true, 1), 0), AppendOpListPop(nil, true, 1)},
		{"ranks apart", AppendOpZRemoveRanks(nil, 5, 6), AppendOpZRemoveRanks(nil, 0, 1)},
		{"ranks overlapping prev's end", AppendOpZRemoveRanks(nil, 2, 3), AppendOpZRemoveRanks(nil, 3, 4)},
		{"short", []byte{byte(KindSet), formatVersion}, AppendOpSetAdd(nil, []byte("a"))},
		{"other version", []byte{byte(KindSet), formatVersion + 1, opSetAdd}, AppendOpSetAdd(nil, []byte("a"))},
	}
	for _, c := range cases {
		if keep, tail, ok := MergeOps(nil, c.prev, c.next); ok {
			t.Errorf("%s: MergeOps(%x, %x) = %d, %x, true; want no merge", c.name, c.prev, c.next, keep, tail)
		}
	}
}
