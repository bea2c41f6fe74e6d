package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// testMerger merges the operations of a made-up format: "+payload"
// operations concatenate ("+ab" then "+c" is "+abc"), "#n" operations add
// up ("#2" then "#3" is "#5"); anything else never merges.
func testMerger(scratch, prev, next []byte) (int, []byte, bool) {
	switch {
	case len(prev) > 0 && len(next) > 0 && prev[0] == '+' && next[0] == '+':
		return len(prev), next[1:], true
	case len(prev) > 1 && len(next) > 1 && prev[0] == '#' && next[0] == '#':
		a, err1 := strconv.Atoi(string(prev[1:]))
		b, err2 := strconv.Atoi(string(next[1:]))
		if err1 != nil || err2 != nil {
			return 0, nil, false
		}
		return 1, strconv.AppendInt(scratch[:0], int64(a+b), 10), true
	}
	return 0, nil, false
}

// openMerging opens a store with buffered writes and testMerger.
func openMerging(t testing.TB, fs *MemFS, opts Options) *Store {
	t.Helper()
	opts.FS, opts.BufferWrites = fs, true
	s := openT(t, "/d", opts)
	s.SetOpMerger(testMerger)
	return s
}

func flushT(t testing.TB, s *Store) {
	t.Helper()
	if err := s.FlushWrites(); err != nil {
		t.Fatalf("FlushWrites: %v", err)
	}
}

// TestAppendOpMerges checks which operations merge into the record
// before them (the last one in the log, not yet flushed, of the same key)
// and that merged records read, survive a kill after a flush, and replay
// as they were, with the chain's and the database's byte counts right.
func TestAppendOpMerges(t *testing.T) {
	fs := NewMemFS()
	opts := Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true}
	s := openMerging(t, fs, opts)
	d := s.DB(0)
	if err := d.Set([]byte("c"), KindList, []byte("image"), 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Set([]byte("other"), KindSet, []byte("image"), 0); err != nil {
		t.Fatal(err)
	}
	// p is a "+" operation of ten bytes of payload: each merge grows the
	// record past its padding.
	p := func(c string) string { return "+" + strings.Repeat(c, 10) }
	rec := func(op string) int64 { _, n := recordLen(1, opPrefixSize+len(op)); return n }
	live0 := s.Stats().LiveBytes
	for _, c := range []string{"a", "b", "c"} {
		appendOpT(t, d, "c", KindList, p(c))
	}
	abcd := p("a") + p("b")[1:] + p("c")[1:] + p("d")[1:]
	if got, want := appendOpT(t, d, "c", KindList, p("d")), rec(abcd); got != want {
		t.Fatalf("chain bytes after four merged operations %d, want one record's %d", got, want)
	}
	appendOpT(t, d, "c", KindList, "#2")  // the merger refuses "+" then "#"
	appendOpT(t, d, "c", KindList, "#3")  // merged: #5
	appendOpT(t, d, "c", KindList, "=no") // never merges
	appendOpT(t, d, "c", KindList, "=no")
	appendOpT(t, d, "c", KindList, p("e"))
	if _, err := d.AppendOp([]byte("other"), KindSet, []byte(p("x"))); err != nil { // another key between
		t.Fatal(err)
	}
	appendOpT(t, d, "c", KindList, p("f"))
	mustSet(t, d, "s", "v", 0) // a record of another kind between
	appendOpT(t, d, "c", KindList, p("g"))
	flushT(t, s) // flushed records are never grown
	appendOpT(t, d, "c", KindList, p("h"))
	want := []string{abcd, "#5", "=no", "=no", p("e"), p("f"), p("g"), p("h") + p("i")[1:]}
	var total int64
	for _, op := range want {
		total += rec(op)
	}
	if got := appendOpT(t, d, "c", KindList, p("i")); got != total {
		t.Fatalf("chain bytes %d, want %d", got, total)
	}
	wantChain(t, d, "c", KindList, "image", want, 0)
	// LiveBytes counts what merges add to the open record when it closes
	// (the flush here); replay, below, must count the same.
	flushT(t, s)
	live := s.Stats().LiveBytes
	_, other := recordLen(len("other"), opPrefixSize+len(p("x")))
	_, sRec := recordLen(1, 1)
	if want := live0 + total + other + sRec; live != want {
		t.Fatalf("LiveBytes %d, want %d (the chain of c, the operation on other, s)", live, want)
	}
	// Merged: b, c, d into a; #3 into #2; i into h.
	if got := s.Stats().MergedOps; got != 5 {
		t.Fatalf("Stats.MergedOps %d, want 5", got)
	}

	// A kill after a flush keeps every merged record whole; the two
	// operations appended since (merged into one unflushed record) are
	// lost, as any unflushed write is.
	flushT(t, s)
	appendOpT(t, d, "c", KindList, p("j"))
	appendOpT(t, d, "c", KindList, p("k"))
	killed := fs.Kill()
	closeT(t, s)
	s = openT(t, "/d", Options{FS: killed, Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
	if st := s.Stats(); st.TruncatedTail != 0 {
		t.Fatalf("reopen after a kill cut %d bytes off the tail: a flushed merged record is invalid", st.TruncatedTail)
	}
	wantChain(t, s.DB(0), "c", KindList, "image", want, 0)
	if got := s.Stats().LiveBytes; got != live {
		t.Fatalf("LiveBytes after replay %d, before %d", got, live)
	}
	closeT(t, s)

	// Close flushes the last merged record too.
	s = openT(t, "/d", Options{FS: fs, Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
	if st := s.Stats(); st.TruncatedTail != 0 {
		t.Fatalf("reopen after Close cut %d bytes off the tail", st.TruncatedTail)
	}
	wantChain(t, s.DB(0), "c", KindList, "image", append(want, p("j")+p("k")[1:]), 0)
	closeT(t, s)
}

// TestAppendOpMergeNeedsMergerAndBuffer checks that without a merger, or
// without buffered writes, every operation keeps a record of its own.
func TestAppendOpMergeNeedsMergerAndBuffer(t *testing.T) {
	for _, c := range []struct {
		name           string
		merger, buffer bool
	}{{"no merger", false, true}, {"unbuffered", true, false}} {
		s := openT(t, "/d", Options{FS: NewMemFS(), Sync: SyncNo, CompactRatio: -1, BufferWrites: c.buffer})
		if c.merger {
			s.SetOpMerger(testMerger)
		}
		d := s.DB(0)
		if err := d.Set([]byte("c"), KindList, []byte("image"), 0); err != nil {
			t.Fatal(err)
		}
		appendOpT(t, d, "c", KindList, "+a")
		appendOpT(t, d, "c", KindList, "+b")
		wantChain(t, d, "c", KindList, "image", []string{"+a", "+b"}, 0)
		closeT(t, s)
	}
}

// TestAppendOpMergeStopsAtSnapshot checks that a snapshot closes the
// record it covers: an operation appended while the snapshot is being
// written (after its capture, before it flushes) starts a record past the
// snapshot's position, and a reopen that loads the snapshot and replays
// the rest finds every operation.
func TestAppendOpMergeStopsAtSnapshot(t *testing.T) {
	fs := NewMemFS()
	h := defaultHooks()
	var d *DB
	h.snapshotCaptured = func() { appendOpT(t, d, "c", KindList, "+c") }
	s, err := open("/d", Options{FS: fs, BufferWrites: true, Sync: SyncNo, CompactRatio: -1}, h)
	if err != nil {
		t.Fatal(err)
	}
	s.SetOpMerger(testMerger)
	d = s.DB(0)
	if err := d.Set([]byte("c"), KindList, []byte("image"), 0); err != nil {
		t.Fatal(err)
	}
	appendOpT(t, d, "c", KindList, "+a")
	appendOpT(t, d, "c", KindList, "+b")
	if err := s.snapshot(); err != nil {
		t.Fatal(err)
	}
	h.snapshotCaptured = nil
	appendOpT(t, d, "c", KindList, "+d") // the snapshot flushed "+c"
	want := []string{"+ab", "+c", "+d"}
	wantChain(t, d, "c", KindList, "image", want, 0)
	flushT(t, s)
	killed := fs.Kill()
	closeT(t, s)
	s = openT(t, "/d", Options{FS: killed, Sync: SyncNo, CompactRatio: -1})
	if st := s.Stats(); !st.LoadedSnapshot || st.Replayed != 2 || st.TruncatedTail != 0 {
		t.Fatalf("reopen: LoadedSnapshot %v, Replayed %d, TruncatedTail %d; want true, 2, 0", st.LoadedSnapshot, st.Replayed, st.TruncatedTail)
	}
	wantChain(t, s.DB(0), "c", KindList, "image", want, 0)
	closeT(t, s)
}

// TestAppendOpMergeLimit checks that merging stops at mergeMaxRecord:
// the operations then go on in a new record.
func TestAppendOpMergeLimit(t *testing.T) {
	s := openMerging(t, NewMemFS(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
	d := s.DB(0)
	if err := d.Set([]byte("c"), KindList, []byte("image"), 0); err != nil {
		t.Fatal(err)
	}
	part := "+" + strings.Repeat("p", 1000)
	var all strings.Builder
	for range 100 {
		appendOpT(t, d, "c", KindList, part)
		all.WriteString(part[1:])
	}
	_, ops, _, _, _ := chainOf(t, d, "c")
	if len(ops) < 2 {
		t.Fatalf("100 KB of operations in %d record(s), want at least 2 (limit %d bytes)", len(ops), mergeMaxRecord)
	}
	var got strings.Builder
	for _, op := range ops {
		if _, size := recordLen(1, opPrefixSize+len(op)); size > mergeMaxRecord {
			t.Fatalf("a merged record of %d bytes, limit %d", size, mergeMaxRecord)
		}
		got.WriteString(op[1:])
	}
	if got.String() != all.String() {
		t.Fatalf("the records hold %d payload bytes, want the %d appended, in order", got.Len(), all.Len())
	}
	closeT(t, s)
}

// TestAppendOpMergeConcurrent merges operations while other goroutines
// read the chain (from the write buffer, copied) and compactions switch
// the log: every read must see whole records, a prefix of the appended
// operations, and the end state must survive a reopen. It runs on the
// operating system's filesystem: MemFS's Sync copies a file's bytes, which
// the writer's small flushes write through the mapping meanwhile (on a
// real filesystem the page cache), a race of the simulation that the
// detector reported once in CI (the two tests make race-core skips have
// the same).
func TestAppendOpMergeConcurrent(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{BufferWrites: true, Sync: SyncNo, CompactRatio: -1, SegmentSize: 64 << 10})
	s.SetOpMerger(testMerger)
	d := s.DB(0)
	if err := d.Set([]byte("c"), KindList, []byte("image"), 0); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	// Dead records in sealed segments before the merges start, so that
	// the compactions below (the writer's own, every 500 operations) have
	// work whatever the scheduling.
	for range 100 {
		mustSet(t, d, "filler", strings.Repeat("f", 2000), 0)
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	fail := make(chan string, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				var got strings.Builder
				if _, _, _, err := d.GetChain([]byte("c"), func(_ []byte, ops [][]byte) {
					for _, op := range ops {
						got.Write(op[1:])
					}
				}); err != nil {
					fail <- err.Error()
					return
				}
				if g := got.String(); g != wantPayload(len(g)/4) {
					fail <- fmt.Sprintf("read %q...: not a prefix of the operations", g[:min(len(g), 40)])
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // dead records to compact away, and compactions
		defer wg.Done()
		filler := []byte(strings.Repeat("f", 2000))
		for i := 0; !done.Load(); i++ {
			if err := d.Set([]byte("filler"), KindString, filler, 0); err != nil {
				fail <- "Set: " + err.Error()
				return
			}
			if i%20 == 0 {
				if err := s.Compact(); err != nil && !errors.Is(err, errCompactAborted) {
					fail <- "Compact: " + err.Error()
					return
				}
			}
		}
	}()
	for i := range n {
		appendOpT(t, d, "c", KindList, fmt.Sprintf("+%04d", i))
		if i%97 == 0 {
			flushT(t, s)
		}
		if i%500 == 0 {
			if err := s.Compact(); err != nil && !errors.Is(err, errCompactAborted) {
				t.Fatalf("Compact: %v", err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	close(fail)
	for msg := range fail {
		t.Fatal(msg)
	}
	check := func(s *Store, when string) {
		var got strings.Builder
		records := 0
		if _, _, _, err := s.DB(0).GetChain([]byte("c"), func(_ []byte, ops [][]byte) {
			records = len(ops)
			for _, op := range ops {
				got.Write(op[1:])
			}
		}); err != nil {
			t.Fatal(err)
		}
		if got.String() != wantPayload(n) {
			t.Fatalf("%s: the chain holds %d payload bytes, want the %d appended", when, got.Len(), 4*n)
		}
		if records >= n/2 {
			t.Fatalf("%s: %d operations in %d records: they did not merge", when, n, records)
		}
	}
	check(s, "before reopen")
	if s.Stats().Compactions == 0 {
		t.Fatal("no compaction ran during the merges")
	}
	closeT(t, s)
	s = openT(t, dir, Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true})
	if st := s.Stats(); st.TruncatedTail != 0 {
		t.Fatalf("reopen cut %d bytes off the tail", st.TruncatedTail)
	}
	check(s, "after reopen")
	closeT(t, s)
}

// wantPayload is the payload of the first n operations of
// TestAppendOpMergeConcurrent: operation i carries "%04d" of i.
func wantPayload(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%04d", i)
	}
	return b.String()
}

// TestAppendOpMergeAfterCompactionDrop checks that a compaction's switch
// closes the open record: when it drops the key (expired), the next
// operation must find the key gone rather than grow the record of a
// chain that no longer exists. The operation before it is appended after
// the compaction's last flush (beforeSwitch), and no snapshot follows
// (NoSnapshot), so that only the switch can close its record.
func TestAppendOpMergeAfterCompactionDrop(t *testing.T) {
	h := defaultHooks()
	var d *DB
	h.beforeSwitch = func() { appendOpT(t, d, "c", KindList, "+b") }
	h.compactStart = func([]segSurvey, int) int { return 0 } // a whole rewrite: a partial one keeps expired keys
	s, err := open("/d", Options{FS: NewMemFS(), BufferWrites: true, Sync: SyncNo, CompactRatio: -1, SegmentSize: 4096, Now: fixedClock(harnessNow), NoSnapshot: true}, h)
	if err != nil {
		t.Fatal(err)
	}
	s.SetOpMerger(testMerger)
	d = s.DB(0)
	if err := d.Set([]byte("c"), KindList, []byte("image"), harnessNow-1); err != nil { // present, expired
		t.Fatal(err)
	}
	for range 10 { // rotate: c's image in a sealed segment
		mustSet(t, d, "filler", strings.Repeat("f", 1000), 0)
	}
	appendOpT(t, d, "c", KindList, "+a")
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.Get([]byte("c")); ok {
		t.Fatal("compaction kept the expired key")
	}
	if _, err := d.AppendOp([]byte("c"), KindList, []byte("+c")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AppendOp on the key compaction dropped: %v, want ErrNotFound", err)
	}
	closeT(t, s)
}
