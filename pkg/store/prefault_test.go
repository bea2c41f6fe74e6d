package store

import (
	"fmt"
	"testing"
)

// TestPrefaultKeepsZeroTail writes through a real file mapping past
// several prefault windows and segment rotations, checks that every byte
// after the write offset is still zero (crash invariant 1: prefaulting
// must not change a byte) and that a reopened store, which reads the
// files, has every key. The segments are small enough to rotate, large
// enough to hold a few windows.
func TestPrefaultKeepsZeroTail(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Sync: SyncNo, SegmentSize: 3*prefaultWindow + 12345, CompactRatio: -1, NoSnapshot: true}
	s := openT(t, dir, opts)
	val := make([]byte, 1000)
	const n = 20_000 // about 20 MiB of records: 3 segments
	for i := range n {
		for j := range val {
			val[j] = byte(i + j)
		}
		if err := s.DB(0).Set(fmt.Appendf(nil, "k%06d", i), KindString, val, 0); err != nil {
			t.Fatal(err)
		}
	}
	s.appendMu.Lock()
	g, woff := s.active, s.woff
	if !s.noPrefault && (s.faultSeg != g || s.faulted <= woff) {
		t.Errorf("prefault did not run ahead: faulted %d, write offset %d", s.faulted, woff)
	}
	if k := lastNonZero(g.data[woff:]); k >= 0 {
		t.Errorf("non-zero byte at offset %d after the write offset %d", woff+int64(k), woff)
	}
	s.appendMu.Unlock()
	if st := s.Stats(); st.Segments < 2 {
		t.Errorf("%d segments, want a rotation", st.Segments)
	}
	closeT(t, s)

	s = openT(t, dir, opts)
	defer closeT(t, s)
	for i := range n {
		e, ok, err := s.DB(0).Get(fmt.Appendf(nil, "k%06d", i))
		if err != nil || !ok || len(e.Value) != len(val) || e.Value[0] != byte(i) || e.Value[999] != byte(i+999) {
			t.Fatalf("key %d after reopen: ok=%v err=%v", i, ok, err)
		}
	}
}
