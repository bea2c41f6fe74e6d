package store

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// writeLogFS records the writes to compaction outputs.
type writeLogFS struct {
	FS
	mu     sync.Mutex
	writes map[string][][2]int64 // file name -> [offset, length] in order
}

type writeLogFile struct {
	File
	fs   *writeLogFS
	name string
}

func (f *writeLogFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	g, err := f.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.Contains(name, "compact-") {
		return g, err
	}
	return &writeLogFile{File: g, fs: f, name: name}, nil
}

func (f *writeLogFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes[f.name] = append(f.fs.writes[f.name], [2]int64{off, int64(len(p))})
	f.fs.mu.Unlock()
	return f.File.WriteAt(p, off)
}

// TestCompactionWritesAlignedChunks checks that a compaction writes each
// output in whole compactChunk-aligned chunks, in order, but for its last
// write (so the page cache holds it in huge folios), and that the output
// reads back.
func TestCompactionWritesAlignedChunks(t *testing.T) {
	fs := &writeLogFS{FS: NewMemFS(), writes: map[string][][2]int64{}}
	// SyncNo: no background fsync, whose MemFS copy of the mappings races
	// (for the race detector) with small flushes copied into them.
	opts := Options{FS: fs, SegmentSize: 8 << 20, CompactRatio: -1, NoSnapshot: true, Sync: SyncNo}
	s := openT(t, "/d", opts)
	d := s.DB(0)
	val := func(i, round int) string { return fmt.Sprintf("%d-%d-%s", i, round, strings.Repeat("v", 300+i%700)) }
	const n = 40000 // about 26 MiB of live records: several outputs
	for round := range 2 {
		for i := range n {
			mustSet(t, d, fmt.Sprint("k", i), val(i, round), 0)
		}
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if len(fs.writes) < 2 {
		t.Fatalf("%d compaction outputs written, want several", len(fs.writes))
	}
	for name, ws := range fs.writes {
		// The header's segment id is written last, at the switch.
		if k := len(ws) - 1; k > 0 && ws[k] == [2]int64{0, segHeaderSize} {
			ws = ws[:k]
		}
		var end int64
		for j, w := range ws {
			if w[0] != end {
				t.Fatalf("%s: write %d at %d, want %d (in order, no gap)", name, j, w[0], end)
			}
			end = w[0] + w[1]
			if j < len(ws)-1 && end%compactChunk != 0 {
				t.Fatalf("%s: write %d of %d ends at %d, not at a %d-byte boundary", name, j, len(ws), end, compactChunk)
			}
		}
	}
	for i := range n {
		wantGet(t, d, fmt.Sprint("k", i), val(i, 1), 0)
	}
	closeT(t, s)
	s = openT(t, "/d", opts)
	defer closeT(t, s)
	for i := range n {
		wantGet(t, s.DB(0), fmt.Sprint("k", i), val(i, 1), 0)
	}
}
