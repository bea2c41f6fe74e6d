package store

import (
	"cmp"
	"fmt"
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

// TestSetCompactTrigger checks the background trigger against a log whose
// dead bytes are about four times its live bytes.
func TestSetCompactTrigger(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, SegmentSize: 4 << 10})
	defer closeT(t, s)
	d := s.DB(0)
	for round := range 5 {
		for i := range 100 {
			mustSet(t, d, fmt.Sprintf("key%03d", i), val(round, i), 0)
		}
	}
	if s.compactDue() {
		t.Fatal("due with a negative CompactRatio and no trigger")
	}
	cases := []struct {
		percent, minSize int64
		want             bool
	}{
		{100, 0, true},        // Redis's default: dead >= live
		{200, 32 << 10, true}, // dead >= 2*live, log over 32 KiB
		{1000, 0, false},      // dead >= 10*live
		{0, 0, false},         // disabled, as in Redis
		{100, 1 << 40, false}, // the log is under auto-aof-rewrite-min-size
		{1 << 62, 0, false},   // huge percentages do not overflow
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("percent=%d/min=%d", c.percent, c.minSize), func(t *testing.T) {
			s.SetCompactTrigger(c.percent, c.minSize)
			if got := s.compactDue(); got != c.want {
				t.Errorf("compactDue() = %v, want %v", got, c.want)
			}
		})
	}
}
