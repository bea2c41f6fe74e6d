package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestChooseStart: a suffix is rewritten alone only if it reclaims at
// least partialShare of what the whole rewrite would, counting its
// deletions and expiry changes as kept, and never across a database
// operation; of those starts and the whole rewrite, the one moving the
// fewest live bytes per byte reclaimed wins, the earliest of equals.
func TestChooseStart(t *testing.T) {
	seg := func(bytes, live, keep int64, dbOp bool) segSurvey {
		return segSurvey{bytes: bytes, live: live, keep: keep, dbOp: dbOp}
	}
	for _, tc := range []struct {
		name string
		sv   []segSurvey
		want int
	}{
		{"one segment", []segSurvey{seg(100, 0, 0, false)}, 0},
		{"dense head, dead tail", []segSurvey{seg(100, 100, 0, false), seg(100, 98, 0, false), seg(100, 10, 0, false), seg(100, 0, 0, false)}, 2},
		{"the latest start that reclaims enough", []segSurvey{seg(100, 100, 0, false), seg(100, 95, 0, false), seg(100, 0, 0, false)}, 2},
		{"dead head", []segSurvey{seg(100, 50, 0, false), seg(100, 100, 0, false), seg(100, 0, 0, false)}, 0},
		{"kept deletions count against a suffix", []segSurvey{seg(100, 100, 0, false), seg(100, 0, 20, false)}, 0},
		{"a few kept deletions do not", []segSurvey{seg(100, 100, 0, false), seg(100, 0, 5, false)}, 1},
		{"not across a database operation", []segSurvey{seg(100, 100, 0, false), seg(100, 0, 0, true), seg(100, 60, 0, false)}, 0},
		{"after a database operation", []segSurvey{seg(100, 0, 0, true), seg(100, 100, 0, false), seg(100, 0, 0, false)}, 0},
		{"after a dead database operation segment", []segSurvey{seg(100, 100, 0, true), seg(100, 100, 0, false), seg(100, 0, 0, false)}, 2},
		{"nothing to reclaim", []segSurvey{seg(100, 100, 0, false), seg(100, 100, 0, false)}, 0},
		{"every dead segment after the dense head", []segSurvey{seg(100, 100, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false),
			seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false),
			seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false)}, 1},
		{"a dense segment among dead ones", []segSurvey{seg(100, 100, 0, false), seg(100, 0, 0, false), seg(100, 100, 0, false),
			seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false),
			seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false), seg(100, 0, 0, false)}, 3},
	} {
		if got := chooseStart(tc.sv); got != tc.want {
			t.Errorf("%s: chooseStart = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestCompactPartial: after a large dataset written once and a few keys
// overwritten many times, compaction rewrites only the churned segments:
// the dataset's segments stay byte for byte, the ids get a gap that Open
// and Check accept (format_version 3 while it lasts), and every key, with
// the deletions and expiry changes of the rewritten part that concern
// records in the kept part, reads the same in memory, after a crash image,
// after a reopen, from a backup, and after a second partial and a whole
// compaction.
func TestCompactPartial(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, Now: fixedClock(harnessNow), Logger: zap.New(core)}
	s := openT(t, "/d", opts)
	base := func(i int) string { return fmt.Sprintf("base-%d-%s", i, strings.Repeat("b", 80)) }
	for i := range 200 {
		mustSet(t, s.DB(0), fmt.Sprint("base", i), base(i), 0)
	}
	gone, _ := s.Put([]byte("an id deleted later"))
	kept, _ := s.Put([]byte("an id kept"))
	if err := s.DB(0).SetImage([]byte("list"), KindList, 0, 5, imageFill("image", 2)); err != nil {
		t.Fatal(err)
	}
	churn := func(round int) {
		for r := range 60 {
			for i := range 5 {
				mustSet(t, s.DB(0), fmt.Sprint("hot", i), val(round*100+r, i), 0)
			}
		}
	}
	churn(0)
	// The rewritten part decides about records of the kept part: a
	// deletion, an expiry change, an id's deletion, an operation on a
	// collection whose image stays.
	if ok, err := s.DB(0).Delete([]byte("base3")); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := s.DB(0).SetExpire([]byte("base4"), harnessNow+5000); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := s.DB(0).SetExpire([]byte("base5"), harnessNow-1); !ok || err != nil { // expired now
		t.Fatal(ok, err)
	}
	if err := s.Delete(gone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB(0).AppendOp([]byte("list"), KindList, []byte("op1")); err != nil {
		t.Fatal(err)
	}
	churn(1)
	mustSet(t, s.DB(0), "last", "in the active segment", 0)

	whole := false // after the whole compaction, which drops the expired key
	check := func(s *Store, label string) {
		t.Helper()
		for i := range 200 {
			k := fmt.Sprint("base", i)
			switch i {
			case 3:
				wantMissing(t, s.DB(0), k)
			case 4:
				wantGet(t, s.DB(0), k, base(i), harnessNow+5000)
			case 5:
				if whole {
					wantMissing(t, s.DB(0), k)
				} else {
					wantGet(t, s.DB(0), k, base(i), harnessNow-1) // a partial compaction keeps it; the layers above treat it as gone
				}
			default:
				wantGet(t, s.DB(0), k, base(i), 0)
			}
		}
		for i := range 5 {
			wantGet(t, s.DB(0), fmt.Sprint("hot", i), val(159, i), 0)
		}
		wantGet(t, s.DB(0), "last", "in the active segment", 0)
		if _, err := s.Get(gone); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: deleted id: %v", label, err)
		}
		if v, err := s.Get(kept); err != nil || string(v) != "an id kept" {
			t.Fatalf("%s: Get(%d) = %q, %v", label, kept, v, err)
		}
		var img string
		var ops []string
		kind, _, ok, err := s.DB(0).GetChain([]byte("list"), func(image []byte, o [][]byte) {
			img = string(image)
			for _, op := range o {
				ops = append(ops, string(op))
			}
		})
		if err != nil || !ok || kind != KindList || img != "image" || len(ops) != 1 || ops[0] != "op1" {
			t.Fatalf("%s: GetChain(list) = %q %q %v %v", label, img, ops, ok, err)
		}
	}
	readSeg := func(fs FS, id uint32) []byte {
		b, err := readFile(fs, filepath.Join("/d", segName(id)))
		if err != nil {
			t.Fatalf("read %s: %v", segName(id), err)
		}
		return b
	}
	if err := s.Sync(); err != nil { // seals the rotated segments (their successors' headers change)
		t.Fatal(err)
	}
	seg1, seg2 := readSeg(fs, 1), readSeg(fs, 2)

	compact := func(wantKept bool) {
		t.Helper()
		logs.TakeAll()
		if err := s.Compact(); err != nil {
			t.Fatal(err)
		}
		var line map[string]any
		for _, e := range logs.TakeAll() {
			if e.Message == "store: compacted the log" {
				line = e.ContextMap()
			}
		}
		if n, _ := line["segments_kept"].(uint32); (n > 0) != wantKept {
			t.Fatalf("compaction kept %v segments, want some: %v", line["segments_kept"], wantKept)
		}
	}
	compact(true)
	check(s, "in memory")
	// The kept segments are the very files written before.
	if !bytes.Equal(readSeg(fs, 1), seg1) || !bytes.Equal(readSeg(fs, 2), seg2) {
		t.Fatal("a partial compaction changed a kept segment")
	}
	ids, err := listSegments(fs, "/d")
	if err != nil {
		t.Fatal(err)
	}
	gap := false
	for i := 1; i < len(ids); i++ {
		gap = gap || ids[i] != ids[i-1]+1
	}
	meta, err := readMetadata(fs, "/d")
	if err != nil || !gap || meta.version() != 3 || meta.firstSegment != 0 {
		t.Fatalf("after a partial compaction: ids %v, metadata %+v (version %d), %v", ids, meta, meta.version(), err)
	}

	reopen := func(label string) {
		t.Helper()
		reopenImages(t, s, fs, "/d", opts, label, check)
		s = openT(t, "/d", opts)
	}
	s.Sync()
	reopen("after a partial compaction")

	// A backup of the log with a gap restores (with contiguous ids).
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(&buf, "/restored", RestoreOptions{FS: fs}); err != nil {
		t.Fatal(err)
	}
	ro := opts
	ro.Logger = nil
	r := openT(t, "/restored", ro)
	check(r, "restored from a backup")
	closeT(t, r)

	// Another round of churn: the next rewrite starts at or before the
	// gap's end and still keeps the dataset.
	churn(1)
	compact(true)
	check(s, "after a second partial compaction")
	s.Sync()
	reopen("after a second partial compaction")

	// Overwrite the dataset: now only a whole rewrite reclaims enough, and
	// it closes the gap.
	for i := range 200 {
		if i != 3 {
			mustSet(t, s.DB(0), fmt.Sprint("base", i), base(i), 0)
		}
	}
	s.DB(0).SetExpire([]byte("base4"), harnessNow+5000)
	s.DB(0).SetExpire([]byte("base5"), harnessNow-1)
	mustSet(t, s.DB(0), "last", "in the active segment", 0)
	compact(false)
	whole = true
	s.Sync()
	reopen("after a whole compaction")
	if meta, err := readMetadata(fs, "/d"); err != nil || meta.version() != metaBaseVersion {
		t.Fatalf("after a whole compaction: metadata %+v, %v", meta, err)
	}
	closeT(t, s)
}

// TestOpenSegmentGaps: a gap in the segment ids is a missing segment
// unless the metadata lists the segments on both sides and none between
// (a partial compaction removed them); Open and Check agree.
func TestOpenSegmentGaps(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listed []uint32 // the metadata's segments
		files  []uint32 // the segment files
		ok     bool
	}{
		{"contiguous", []uint32{1, 2, 3}, []uint32{1, 2, 3}, true},
		{"gap between listed segments", []uint32{1, 4, 5}, []uint32{1, 4, 5}, true},
		{"gap before an unlisted last segment", []uint32{1, 2}, []uint32{1, 2, 4}, false},
		{"listed segment missing in the gap", []uint32{1, 2, 4}, []uint32{1, 4}, false},
		{"no metadata", nil, []uint32{1, 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := NewMemFS()
			s := openT(t, "/d", Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, NoSnapshot: true})
			for i := 0; s.Stats().Segments <= int(tc.files[len(tc.files)-1]); i++ {
				mustSet(t, s.DB(0), fmt.Sprint("k", i), val(0, i), 0)
			}
			closeT(t, s)
			ids, _ := listSegments(fs, "/d")
			// Keep the files wanted (renamed to their ids), drop the rest.
			for _, id := range ids {
				if !slices.Contains(tc.files, id) {
					if err := fs.Remove(filepath.Join("/d", segName(id))); err != nil {
						t.Fatal(err)
					}
				}
			}
			meta, _ := readMetadata(fs, "/d")
			meta.lastSequence = 0 // the log lost records with the segments removed
			meta.segments = meta.segments[:0]
			for _, id := range tc.listed {
				meta.segments = append(meta.segments, metaSegment{id, 4096})
			}
			if tc.listed == nil {
				fs.Remove(filepath.Join("/d", metaName))
			} else if err := writeMetadata(fs, "/d", meta); err != nil {
				t.Fatal(err)
			}
			// The records are checked only for what is asked here: a gap
			// breaks no sequence order (later records have higher numbers).
			s, err := Open("/d", Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, NoSnapshot: true})
			if err == nil {
				closeT(t, s)
			}
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ok %v", err, tc.ok)
			}
			rep, err := Check("/d", CheckOptions{FS: fs})
			if err != nil {
				t.Fatal(err)
			}
			missing := false
			for _, p := range rep.Problems {
				missing = missing || p.Kind == ProblemMissingSegment
			}
			if missing == tc.ok {
				t.Fatalf("Check problems %v, want a missing segment: %v", rep.Problems, !tc.ok)
			}
		})
	}
}

// TestSurveyEstimates: the survey's live bytes per segment, from a sample
// of its records, are close to the exact count, also for a log whose
// records alternate between live and dead (a sample of every n-th record
// would see one kind only).
func TestSurveyEstimates(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 1 << 16, CompactRatio: -1, NoSnapshot: true})
	defer closeT(t, s)
	d := s.DB(0)
	for i := range 3000 { // alternating: the b keys are overwritten below
		mustSet(t, d, fmt.Sprint("a", i), val(0, i), 0)
		mustSet(t, d, fmt.Sprint("b", i), val(0, i), 0)
	}
	for i := range 3000 {
		mustSet(t, d, fmt.Sprint("b", i), val(1, i), 0)
	}
	for i := range 3000 { // every other a key deleted: the first segments a quarter live
		if i%2 == 0 {
			d.Delete([]byte(fmt.Sprint("a", i)))
		}
	}
	ss := *s.segs.Load()
	k := s.active.id - 1
	var y yielder
	sv, err := s.survey(ss, 1, k, &y)
	if err != nil {
		t.Fatal(err)
	}
	if len(sv) < 8 {
		t.Fatalf("only %d segments", len(sv))
	}
	for _, g := range sv {
		var exact int64
		data := ss[g.id].data
		for off := int64(segHeaderSize); off < int64(len(data)); {
			h, key, _, size, st, _ := decodeRecord(data[off:])
			if st != recOK {
				break
			}
			if h.kind.IsValue() && d.t.findLoc(d.hash(key), makeLoc(g.id, off)) >= 0 {
				exact += size
			}
			off += size
		}
		if diff := g.live - exact; diff > g.bytes/6 || -diff > g.bytes/6 {
			t.Errorf("segment %d: survey says %d live bytes, exactly %d (of %d)", g.id, g.live, exact, g.bytes)
		}
	}
}
