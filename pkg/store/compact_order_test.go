package store

import (
	"cmp"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTableOrder checks that tableOrder permutes the moves into database
// then slot-bucket order, whatever the hints (stale ones past a table's
// end, none).
func TestTableOrder(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, Databases: 3})
	defer closeT(t, s)
	for i := range 20_000 { // db 1 gets a table of 2^15 slots; 0 and 2 stay tiny
		mustSet(t, s.DB(1), string(rune('a'+i%26))+string(rune(i)), "v", 0)
	}
	cases := []struct {
		name string
		n    int
	}{{"empty", 0}, {"one", 1}, {"many", 50_000}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(testSeed(t), 1))
			moves := make([]moved, c.n)
			for i := range moves {
				db := r.IntN(3)
				slot := int64(r.IntN(1 << 16)) // up to twice db 1's table, far past the others'
				if r.IntN(10) == 0 {
					slot = -1
				}
				moves[i] = moved{db: int32(db), slot: slot, old: uint64(i)}
			}
			want := slices.Clone(moves)
			s.tableOrder(moves)
			key := func(mv moved) [2]int64 {
				n := len(s.dbs[mv.db].t.slots)
				shift := max(0, bits.Len(uint(n-1))-12) // at most 2^12 buckets per table
				return [2]int64{int64(mv.db), min(max(mv.slot, 0)>>shift, int64(n-1)>>shift)}
			}
			for i := 1; i < len(moves); i++ {
				a, b := key(moves[i-1]), key(moves[i])
				if a[0] > b[0] || a[0] == b[0] && a[1] > b[1] {
					t.Fatalf("moves %d and %d out of order: %v then %v", i-1, i, a, b)
				}
			}
			byOld := func(a, b moved) int { return cmp.Compare(a.old, b.old) }
			slices.SortFunc(moves, byOld)
			if !slices.Equal(moves, want) {
				t.Fatal("not a permutation of the moves")
			}
		})
	}
}
