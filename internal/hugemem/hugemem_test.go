package hugemem

import (
	"testing"
)

// Grow keeps the elements and makes room, whether it reallocates below
// Threshold (append's growth) or above it (Slice).
func TestGrow(t *testing.T) {
	var s []uint64
	for i := range 2 << 20 { // 16 MiB of uint64: crosses Threshold
		s = Grow(s, 1)
		if cap(s) == len(s) {
			t.Fatalf("Grow(%d elements, 1) left no room", len(s))
		}
		s = append(s, uint64(i))
	}
	for i, v := range s {
		if v != uint64(i) {
			t.Fatalf("element %d = %d after growth", i, v)
		}
	}
	if g := Grow(s, 0); len(g) != len(s) || &g[0] != &s[0] {
		t.Fatal("Grow with room enough reallocated")
	}
	big := Grow(s[:0:0], 1<<20)
	if cap(big) < 1<<20 || len(big) != 0 {
		t.Fatalf("Grow(empty, 1M): len %d cap %d", len(big), cap(big))
	}
}
