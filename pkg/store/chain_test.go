package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// chainOf returns key's image and ops (copied), kind and expiry.
func chainOf(t testing.TB, d *DB, key string) (image string, ops []string, kind Kind, exp int64, ok bool) {
	t.Helper()
	kind, exp, ok, err := d.GetChain([]byte(key), func(img []byte, o [][]byte) {
		image = string(img)
		for _, b := range o {
			ops = append(ops, string(b))
		}
	})
	if err != nil {
		t.Fatalf("db %d GetChain(%q): %v", d.n, key, err)
	}
	return image, ops, kind, exp, ok
}

// wantChain checks that key holds image of kind with ops, in order.
func wantChain(t testing.TB, d *DB, key string, kind Kind, image string, ops []string, exp int64) {
	t.Helper()
	img, got, k, e, ok := chainOf(t, d, key)
	if !ok {
		t.Fatalf("db %d GetChain(%q): missing", d.n, key)
	}
	if img != image || !slices.Equal(got, ops) || k != kind || e != exp {
		t.Fatalf("db %d GetChain(%q) = %q %q kind %d exp %d, want %q %q kind %d exp %d", d.n, key, abbrev(img), got, k, e, abbrev(image), ops, kind, exp)
	}
}

func appendOpT(t testing.TB, d *DB, key string, kind Kind, op string) int64 {
	t.Helper()
	n, err := d.AppendOp([]byte(key), kind, []byte(op))
	if err != nil {
		t.Fatalf("db %d AppendOp(%q, %q): %v", d.n, key, op, err)
	}
	return n
}

func TestAppendOpChain(t *testing.T) {
	for _, kind := range []Kind{KindHash, KindList, KindSet, KindZSet} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			fs := NewMemFS()
			opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1}
			s := openT(t, "/d", opts)
			d := s.DB(0)
			if err := d.Set([]byte("c"), kind, []byte("image"), 0); err != nil {
				t.Fatal(err)
			}
			live0 := s.Stats().LiveBytes
			var want []string
			var total int64
			for i := range 100 { // several segments: chains span rotations
				op := fmt.Sprintf("op%d-%s", i, strings.Repeat("o", i%20))
				want = append(want, op)
				_, size := recordLen(1, opPrefixSize+len(op))
				total += size
				if got := appendOpT(t, d, "c", kind, op); got != total {
					t.Fatalf("chainBytes after %d ops = %d, want %d", i+1, got, total)
				}
			}
			wantChain(t, d, "c", kind, "image", want, 0)
			if got := s.Stats().LiveBytes; got != live0+total {
				t.Fatalf("LiveBytes %d, want %d", got, live0+total)
			}
			// Get returns the image.
			e, ok, err := d.Get([]byte("c"))
			if err != nil || !ok || string(e.Value) != "image" || e.Kind != kind {
				t.Fatalf("Get = %+v %v %v", e, ok, err)
			}
			// Survives a clean reopen (snapshot) and a full replay.
			closeT(t, s)
			s = openT(t, "/d", opts)
			if !s.Stats().LoadedSnapshot {
				t.Fatal("snapshot not loaded")
			}
			wantChain(t, s.DB(0), "c", kind, "image", want, 0)
			if got := s.Stats().LiveBytes; got != live0+total {
				t.Fatalf("LiveBytes after reopen %d, want %d", got, live0+total)
			}
			closeT(t, s)
			s = openT(t, "/d", Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, NoSnapshot: true})
			wantChain(t, s.DB(0), "c", kind, "image", want, 0)
			// Fold: Set starts a new chain.
			d = s.DB(0)
			if err := d.Set([]byte("c"), kind, []byte("folded"), 0); err != nil {
				t.Fatal(err)
			}
			wantChain(t, d, "c", kind, "folded", nil, 0)
			if _, w := recordLen(1, opPrefixSize+5); appendOpT(t, d, "c", kind, "after") != w {
				t.Fatalf("chainBytes after a fold is not one record's, %d", w)
			}
			wantChain(t, d, "c", kind, "folded", []string{"after"}, 0)
			closeT(t, s)
			s = openT(t, "/d", Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, NoSnapshot: true})
			wantChain(t, s.DB(0), "c", kind, "folded", []string{"after"}, 0)
			closeT(t, s)
		})
	}
}

func TestAppendOpErrors(t *testing.T) {
	s := openT(t, "/d", Options{FS: NewMemFS()})
	defer closeT(t, s)
	d := s.DB(0)
	mustSet(t, d, "str", "x", 0)
	if err := d.Set([]byte("h"), KindHash, []byte("img"), 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		key  string
		kind Kind
		want error
	}{
		{"absent", "nope", KindHash, ErrNotFound},
		{"string", "str", KindHash, ErrWrongKind},
		{"other collection", "h", KindList, ErrWrongKind},
		{"string kind", "h", KindString, ErrBadKind},
		{"operation kind", "h", kindDelete, ErrBadKind},
	} {
		t.Run(c.name, func(t *testing.T) {
			seq := s.seq
			_, err := d.AppendOp([]byte(c.key), c.kind, []byte("op"))
			wantErrIs(t, err, c.want)
			if s.seq != seq {
				t.Fatal("a refused AppendOp wrote a record")
			}
		})
	}
	_, err := d.AppendOp([]byte("h"), KindHash, make([]byte, s.opts.MaxValueSize+1))
	wantErrIs(t, err, ErrValueTooLarge)
	wantChain(t, d, "h", KindHash, "img", nil, 0)
	if _, _, ok, err := d.GetChain([]byte("nope"), func([]byte, [][]byte) { t.Fatal("fn called for an absent key") }); ok || err != nil {
		t.Fatalf("GetChain(absent) = %v, %v", ok, err)
	}
	// A string: GetChain gives its value and no ops.
	wantChain(t, d, "str", KindString, "x", nil, 0)
}

// TestChainKeyOps: a chained key is one key for expire, delete, flush,
// swapdb, scan, range, randomkey and len, live and after a reopen.
func TestChainKeyOps(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, Databases: 4}
	s := openT(t, "/d", opts)
	d0 := s.DB(0)
	for i := range 10 {
		k := fmt.Sprint("c", i)
		if err := d0.Set([]byte(k), KindSet, []byte("img"+k), 0); err != nil {
			t.Fatal(err)
		}
		for j := range i {
			appendOpT(t, d0, k, KindSet, fmt.Sprint("op", j))
		}
	}
	ops := func(n int) []string {
		var o []string
		for j := range n {
			o = append(o, fmt.Sprint("op", j))
		}
		return o
	}
	if d0.Len() != 10 {
		t.Fatalf("Len %d, want 10", d0.Len())
	}
	seen := map[string]int{}
	for c := uint64(0); ; {
		c = d0.Scan(c, 3, func(key []byte, kind Kind, _ int64) {
			if kind != KindSet {
				t.Errorf("Scan %q kind %d", key, kind)
			}
			seen[string(key)]++
		})
		if c == 0 {
			break
		}
	}
	if len(seen) != 10 {
		t.Fatalf("Scan saw %v", seen)
	}
	n := 0
	d0.Range(func(key []byte, kind Kind, _ int64) bool {
		n++
		if kind != KindSet {
			t.Errorf("Range %q kind %d", key, kind)
		}
		return true
	})
	if n != 10 {
		t.Fatalf("Range saw %d keys", n)
	}
	if k, ok := d0.RandomKey(7); !ok || !strings.HasPrefix(string(k), "c") {
		t.Fatalf("RandomKey = %q %v", k, ok)
	}
	if ok, err := d0.SetExpire([]byte("c5"), 12345); !ok || err != nil {
		t.Fatal(ok, err)
	}
	appendOpT(t, d0, "c5", KindSet, "op5") // keeps the expiry
	wantChain(t, d0, "c5", KindSet, "imgc5", ops(6), 12345)
	if ok, err := d0.Delete([]byte("c3")); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, _, ok, _ := d0.GetChain([]byte("c3"), func([]byte, [][]byte) {}); ok {
		t.Fatal("deleted chain still there")
	}
	// A new image of a deleted key has no chain.
	if err := d0.Set([]byte("c3"), KindSet, []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	wantChain(t, d0, "c3", KindSet, "new", nil, 0)
	if err := s.SwapDB(0, 2); err != nil {
		t.Fatal(err)
	}
	d2 := s.DB(2)
	appendOpT(t, d2, "c9", KindSet, "op9")
	if _, err := d0.AppendOp([]byte("c9"), KindSet, []byte("x")); err == nil {
		t.Fatal("AppendOp in the swapped-out database succeeded")
	}
	check := func(s *Store, label string) {
		t.Helper()
		d2 := s.DB(2)
		if d2.Len() != 10 || s.DB(0).Len() != 0 || d2.Expires() != 1 {
			t.Fatalf("%s: Len %d/%d expires %d", label, d2.Len(), s.DB(0).Len(), d2.Expires())
		}
		for i := range 10 {
			k := fmt.Sprint("c", i)
			switch i {
			case 3:
				wantChain(t, d2, k, KindSet, "new", nil, 0)
			case 5:
				wantChain(t, d2, k, KindSet, "imgc5", ops(6), 12345)
			case 9:
				wantChain(t, d2, k, KindSet, "imgc9", ops(10), 0)
			default:
				wantChain(t, d2, k, KindSet, "img"+k, ops(i), 0)
			}
		}
	}
	check(s, "live")
	live := s.Stats().LiveBytes
	closeT(t, s)
	for _, o := range []Options{opts, {FS: fs, SegmentSize: 4096, CompactRatio: -1, Databases: 4, NoSnapshot: true}} {
		s = openT(t, "/d", o)
		check(s, fmt.Sprintf("reopened (snapshot %v)", s.Stats().LoadedSnapshot))
		if got := s.Stats().LiveBytes; got != live {
			t.Fatalf("LiveBytes %d after reopen, want %d", got, live)
		}
		closeT(t, s)
	}
	s = openT(t, "/d", opts)
	if err := s.DB(2).Flush(); err != nil {
		t.Fatal(err)
	}
	if s.DB(2).Len() != 0 || s.Stats().LiveBytes != 0 {
		t.Fatalf("after Flush: Len %d LiveBytes %d", s.DB(2).Len(), s.Stats().LiveBytes)
	}
	if err := s.DB(1).Set([]byte("z"), KindZSet, []byte("zimg"), 0); err != nil {
		t.Fatal(err)
	}
	appendOpT(t, s.DB(1), "z", KindZSet, "zop")
	if err := s.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB(1).AppendOp([]byte("z"), KindZSet, []byte("x")); err == nil {
		t.Fatal("AppendOp after FlushAll succeeded")
	}
	closeT(t, s)
	s = openT(t, "/d", opts)
	defer closeT(t, s)
	if s.Stats().Keys != 0 || s.Stats().LiveBytes != 0 {
		t.Fatalf("after FlushAll and reopen: %+v", s.Stats())
	}
}

// TestCompactChains: compaction copies live chains (image and operations
// in order, dead ones left out), including chains that continue in the
// active segment, and the result survives a reopen and a second compaction.
func TestCompactChains(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, Now: fixedClock(harnessNow), Databases: 2}
	s := openT(t, "/d", opts)
	d := s.DB(0)
	want := map[string][]string{}
	img := map[string]string{}
	for round := range 6 {
		for i := range 12 {
			k := fmt.Sprint("h", i)
			if round == 0 || i%4 == 0 && round == 3 { // h0, h4, h8 folded in round 3
				img[k] = fmt.Sprintf("img%d-%s", round, strings.Repeat("i", 50))
				if err := d.Set([]byte(k), KindHash, []byte(img[k]), 0); err != nil {
					t.Fatal(err)
				}
				want[k] = nil
			}
			op := fmt.Sprintf("op%d.%d-%s", round, i, strings.Repeat("p", 30))
			appendOpT(t, d, k, KindHash, op)
			want[k] = append(want[k], op)
		}
		mustSet(t, d, fmt.Sprint("junk", round), strings.Repeat("j", 300), 0)
		d.Delete([]byte(fmt.Sprint("junk", round)))
	}
	d.Delete([]byte("h1"))
	delete(want, "h1")
	d.SetExpire([]byte("h2"), harnessNow-1) // expired: dropped with its chain by the compaction
	check := func(s *Store, label string) {
		t.Helper()
		d := s.DB(0)
		if d.Len() != len(want) {
			t.Fatalf("%s: Len %d, want %d", label, d.Len(), len(want))
		}
		for k, ops := range want {
			wantChain(t, d, k, KindHash, img[k], ops, 0)
		}
	}
	for k, ops := range want {
		exp := int64(0)
		if k == "h2" {
			exp = harnessNow - 1
		}
		wantChain(t, d, k, KindHash, img[k], ops, exp)
	}
	delete(want, "h2")
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	check(s, "after compaction")
	// Ops appended after the compaction link to copied records.
	for i := range 12 {
		k := fmt.Sprint("h", i)
		if _, ok := want[k]; ok {
			appendOpT(t, s.DB(0), k, KindHash, "post")
			want[k] = append(want[k], "post")
		}
	}
	check(s, "appended after compaction")
	st := s.Stats()
	closeT(t, s)
	for _, o := range []Options{opts, {FS: fs, SegmentSize: 4096, CompactRatio: -1, Now: fixedClock(harnessNow), Databases: 2, NoSnapshot: true}} {
		s = openT(t, "/d", o)
		check(s, "reopened")
		if got := s.Stats().LiveBytes; got != st.LiveBytes {
			t.Fatalf("LiveBytes %d, want %d", got, st.LiveBytes)
		}
		closeT(t, s)
	}
	if rep, err := Check("/d", CheckOptions{FS: fs}); err != nil || !rep.OK() {
		t.Fatalf("Check after compaction: %v %+v", err, rep)
	}
	s = openT(t, "/d", opts)
	for i := range 40 {
		mustSet(t, s.DB(1), fmt.Sprint("fill", i), strings.Repeat("f", 200), 0)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	check(s, "second compaction")
	closeT(t, s)
	s = openT(t, "/d", Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, Now: fixedClock(harnessNow), Databases: 2, NoSnapshot: true})
	check(s, "reopened after the second compaction")
	closeT(t, s)
}

// TestFixDropsBrokenChain: when Check's Fix drops a damaged operation
// record, recovery keeps the chain up to it and ignores the later
// operations that link to it (never a gap).
func TestFixDropsBrokenChain(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 1 << 16, CompactRatio: -1, NoSnapshot: true}
	s := openT(t, "/d", opts)
	d := s.DB(0)
	if err := d.Set([]byte("l"), KindList, []byte("img"), 0); err != nil {
		t.Fatal(err)
	}
	var locs []uint64
	for i := range 5 {
		appendOpT(t, d, "l", KindList, fmt.Sprint("op", i))
		locs = append(locs, s.lastLoc)
	}
	mustSet(t, d, "after", "x", 0)
	closeT(t, s)
	// Damage op2's value: its checksum fails.
	f, err := fs.OpenFile("/d/"+segName(locSeg(locs[2])), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, locOff(locs[2])+recHeaderSize+2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Open("/d", opts); err == nil {
		t.Fatal("Open of a damaged log succeeded")
	}
	if rep, err := Check("/d", CheckOptions{FS: fs, Fix: true}); err != nil || !rep.Fixed {
		t.Fatalf("Fix: %v %+v", err, rep)
	}
	s = openT(t, "/d", opts)
	defer closeT(t, s)
	wantChain(t, s.DB(0), "l", KindList, "img", []string{"op0", "op1"}, 0)
	wantGet(t, s.DB(0), "after", "x", 0)
	if _, w := recordLen(1, opPrefixSize+3); appendOpT(t, s.DB(0), "l", KindList, "new") != 3*w {
		t.Fatalf("chainBytes is not 3 records', %d", w)
	}
	wantChain(t, s.DB(0), "l", KindList, "img", []string{"op0", "op1", "new"}, 0)
}

func TestGetChainAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	s := openT(t, "/d", Options{FS: NewMemFS()})
	defer closeT(t, s)
	d := s.DB(0)
	if err := d.Set([]byte("k"), KindHash, bytes.Repeat([]byte("i"), 100), 0); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		appendOpT(t, d, "k", KindHash, "op")
	}
	key, op := []byte("k"), []byte("op")
	n := 0
	fn := func(_ []byte, ops [][]byte) { n += len(ops) }
	d.GetChain(key, fn)
	if a := testing.AllocsPerRun(100, func() { d.GetChain(key, fn) }); a != 0 {
		t.Errorf("GetChain allocates %v times", a)
	}
	if a := testing.AllocsPerRun(100, func() { d.AppendOp(key, KindHash, op) }); a > 0.1 {
		t.Errorf("AppendOp allocates %v times", a)
	}
}

// TestCompactConcurrentChains: writers append operations and fold chains
// while a reader checks that every chain it sees is consistent (an image
// and operations after it, in order) and compactions run; the final
// chains are exact, also after a reopen, and Check is clean.
func TestCompactConcurrentChains(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 16 << 10, Sync: SyncNo, CompactRatio: -1, RetireGrace: time.Millisecond}
	s := openT(t, dir, opts)
	const writers, keys = 2, 50
	type kstate struct {
		image string
		ops   []string
	}
	model := make([][]kstate, writers)
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := range writers {
		model[w] = make([]kstate, keys)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := s.DB(w)
			for n := 1; !stop.Load(); n++ {
				i := (n * 7) % keys
				k := fmt.Sprint("c", i)
				m := &model[w][i]
				if m.image == "" || n%23 == 0 { // fold
					m.image, m.ops = fmt.Sprintf("%d;%s", n, strings.Repeat("i", n%300)), nil
					if err := d.Set([]byte(k), KindList, []byte(m.image), 0); err != nil {
						errc <- err
						return
					}
					continue
				}
				op := fmt.Sprint(n)
				if _, err := d.AppendOp([]byte(k), KindList, []byte(op)); err != nil {
					errc <- err
					return
				}
				m.ops = append(m.ops, op)
			}
		}()
	}
	wg.Add(1)
	go func() { // reader
		defer wg.Done()
		for n := 0; !stop.Load(); n++ {
			w, i := n%writers, n%keys
			var bad string
			_, _, _, err := s.DB(w).GetChain([]byte(fmt.Sprint("c", i)), func(image []byte, ops [][]byte) {
				var last int
				fmt.Sscanf(string(image), "%d;", &last)
				for _, op := range ops {
					var v int
					fmt.Sscan(string(op), &v)
					if v <= last {
						bad = fmt.Sprintf("image %q ops %q", abbrev(string(image)), ops)
						return
					}
					last = v
				}
			})
			if err == nil && bad != "" {
				err = fmt.Errorf("inconsistent chain: %s", bad)
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for s.Stats().Compactions < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if err := s.Compact(); err != nil && !errors.Is(err, errCompactAborted) {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if c := s.Stats().Compactions; c < 4 {
		t.Fatalf("%d compactions in 20 s", c)
	}
	want := func(s *Store) {
		t.Helper()
		for w := range writers {
			for i, m := range model[w] {
				if m.image != "" {
					wantChain(t, s.DB(w), fmt.Sprint("c", i), KindList, m.image, m.ops, 0)
				}
			}
		}
	}
	want(s)
	closeT(t, s)
	s = openT(t, dir, opts)
	want(s)
	closeT(t, s)
	if rep := checkT(t, OSFS(), dir, false); len(rep.Problems) != 0 {
		t.Fatalf("Check: %v", rep.Problems)
	}
}

// TestFormatVersion1 opens a directory as a version 1 build left it
// (format_version: 1, a version 1 snapshot without chains): it loads, and
// the metadata is rewritten as version 2.
func TestFormatVersion1(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096}
	s := openT(t, "/d", opts)
	for i := range 20 {
		mustSet(t, s.DB(i%3), fmt.Sprint("k", i), fmt.Sprint("v", i), int64(i))
	}
	v1 := keyedSnapshot(t, s, 1)
	closeT(t, s)
	meta, err := readFile(fs, "/d/"+metaName)
	if err != nil {
		t.Fatal(err)
	}
	writeT := func(name string, b []byte) {
		t.Helper()
		f, err := fs.OpenFile("/d/"+name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	writeT(metaName, bytes.Replace(meta, []byte("format_version: 2\n"), []byte("format_version: 1\n"), 1))
	writeT(snapName, v1)
	s = openT(t, "/d", opts)
	defer closeT(t, s)
	if !s.Stats().LoadedSnapshot {
		t.Fatal("the version 1 snapshot was not loaded")
	}
	for i := range 20 {
		wantGet(t, s.DB(i%3), fmt.Sprint("k", i), fmt.Sprint("v", i), int64(i))
	}
	m, err := readMetadata(fs, "/d")
	if err != nil || m.formatVersion != metaBaseVersion {
		t.Fatalf("metadata after Open: %+v %v", m, err)
	}
}

// imageFill returns a SetImage fill that appends img step bytes at a
// time and, like pkg/types' encoders, hands its output to spill once it
// fills half the buffer.
func imageFill(img string, step int) func(dst []byte, spill func([]byte) []byte) []byte {
	return func(dst []byte, spill func([]byte) []byte) []byte {
		for i := 0; i < len(img); i += step {
			dst = append(dst, img[i:min(i+step, len(img))]...)
			if spill != nil && len(dst) >= cap(dst)/2 {
				dst = spill(dst)
			}
		}
		return dst
	}
}

// TestSetImage folds through SetImage: the image, written through the
// write buffer or (over imageChunk bytes) streamed to the file in pieces,
// is the key's new image with an empty chain, survives a full replay, and
// leaves a log that Check finds clean.
func TestSetImage(t *testing.T) {
	cases := []struct {
		name   string
		key    string // "c" holds image "old" and ops; "s" a string
		ops    int    // operations of opLen bytes chained to "c"
		opLen  int
		before int // bytes of a string value written after them (where the image lands)
		n      int // new image length
		step   int // bytes fill appends at a time
	}{
		{"small", "c", 1, 3, 0, 20, 3},
		{"empty", "c", 1, 3, 0, 0, 1},
		{"a record of imageChunk bytes", "c", 1, 3, 0, 87, 5},
		{"streamed, one byte over", "c", 1, 3, 0, 88, 5},
		{"streamed, many pieces", "c", 3, 100, 0, 3000, 7},
		{"streamed, elements larger than the buffer", "c", 3, 100, 0, 2000, 300},
		{"streamed, near a segment's end", "c", 1, 3, 3691, 700, 9},
		{"streamed, past a segment", "c", 60, 100, 0, 5000, 11},
		{"streamed, no chain", "c", 0, 0, 0, 100, 4},
		{"streamed, new key", "n", 1, 3, 0, 500, 13},
		{"streamed, over a string", "s", 1, 3, 10, 500, 13},
		{"small, new key", "n", 1, 3, 0, 50, 8},
	}
	for _, tc := range cases {
		for _, buffered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/buffered=%v", tc.name, buffered), func(t *testing.T) {
				fs := NewMemFS()
				opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, MaxValueSize: 64 << 10, BufferWrites: buffered, imageChunk: 128}
				s := openT(t, "/d", opts)
				d := s.DB(0)
				if err := d.Set([]byte("c"), KindList, []byte("old"), 0); err != nil {
					t.Fatal(err)
				}
				for i := range tc.ops {
					appendOpT(t, d, "c", KindList, fmt.Sprintf("%0*d", tc.opLen, i))
				}
				if tc.before > 0 {
					mustSet(t, d, "s", strings.Repeat("s", tc.before), 0)
				}
				want := string(randBytes(rand.New(rand.NewPCG(uint64(tc.n), 1)), tc.n))
				if err := d.SetImage([]byte(tc.key), KindList, 77, tc.n, imageFill(want, tc.step)); err != nil {
					t.Fatalf("SetImage: %v", err)
				}
				wantChain(t, d, tc.key, KindList, want, nil, 77)
				if _, size := recordLen(len(tc.key), tc.n); size > 128 && s.Unflushed() != 0 {
					t.Fatalf("Unflushed = %d after a streamed image", s.Unflushed())
				}
				appendOpT(t, d, tc.key, KindList, "op2")
				mustSet(t, d, "after", "value", 0)
				wantChain(t, d, tc.key, KindList, want, []string{"op2"}, 77)
				if got := s.Unflushed(); !buffered && got != 0 {
					t.Fatalf("Unflushed = %d without buffered writes", got)
				}
				if err := s.FlushWrites(); err != nil {
					t.Fatal(err)
				}
				if got := s.Unflushed(); got != 0 {
					t.Fatalf("Unflushed = %d after FlushWrites", got)
				}
				closeT(t, s)
				if rep := checkT(t, fs, "/d", false); !rep.OK() || len(rep.Problems) > 0 {
					t.Fatalf("Check: %+v", rep)
				}
				opts.NoSnapshot = true
				s = openT(t, "/d", opts)
				wantChain(t, s.DB(0), tc.key, KindList, want, []string{"op2"}, 77)
				wantGet(t, s.DB(0), "after", "value", 0)
				closeT(t, s)
			})
		}
	}
}

// chainedStore opens a store on a fresh MemFS (4 KiB segments, no
// compaction, SetImage streaming records over imageChunk bytes) whose key
// "c" holds image "img" of kind with one operation, "op1".
func chainedStore(t *testing.T, kind Kind, imageChunk int) (*MemFS, Options, *Store) {
	t.Helper()
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 4096, CompactRatio: -1, imageChunk: imageChunk}
	s := openT(t, "/d", opts)
	if err := s.DB(0).Set([]byte("c"), kind, []byte("img"), 0); err != nil {
		t.Fatal(err)
	}
	appendOpT(t, s.DB(0), "c", kind, "op1")
	return fs, opts, s
}

// TestSetImageErrors: bad kinds and sizes are refused, and an image that
// is not the size announced writes nothing, through the buffer or
// streamed: the key keeps its image and chain, and the log stays clean
// (a stream's bytes past the log's end are cleared, else a clean reopen
// would find non-zero bytes after the data).
func TestSetImageErrors(t *testing.T) {
	s := openT(t, "/d", Options{FS: NewMemFS(), SegmentSize: 4096, MaxValueSize: 1000})
	d := s.DB(0)
	fill := func(n int) func([]byte, func([]byte) []byte) []byte { return imageFill(strings.Repeat("x", n), 1) }
	if err := d.SetImage([]byte("k"), KindString, 0, 5, fill(5)); !errors.Is(err, ErrBadKind) {
		t.Fatalf("SetImage of a string: %v, want ErrBadKind", err)
	}
	if err := d.SetImage([]byte("k"), KindHash, 0, 1001, fill(1001)); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("SetImage of 1001 bytes: %v, want ErrValueTooLarge", err)
	}
	if err := d.SetImage([]byte("k"), KindHash, 0, -1, fill(0)); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("SetImage of -1 bytes: %v, want ErrValueTooLarge", err)
	}
	closeT(t, s)
	if err := d.SetImage([]byte("k"), KindHash, 0, 5, fill(5)); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetImage after Close: %v, want ErrClosed", err)
	}

	for _, tc := range []struct {
		name    string
		n, fill int
	}{
		{"buffered, short", 40, 39},
		{"buffered, long", 40, 41},
		{"streamed, short", 900, 899},
		{"streamed, long", 900, 901},
		{"streamed, far too long", 900, 3000},
		{"streamed, empty", 900, 0},
		{"streamed, long past the segment's end", 900, 8000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, opts, s := chainedStore(t, KindHash, 128)
			d := s.DB(0)
			if err := d.SetImage([]byte("c"), KindHash, 0, tc.n, imageFill(strings.Repeat("y", tc.fill), 3)); !errors.Is(err, ErrImageSize) {
				t.Fatalf("SetImage of %d bytes announced as %d: %v, want ErrImageSize", tc.fill, tc.n, err)
			}
			wantChain(t, d, "c", KindHash, "img", []string{"op1"}, 0)
			names, err := fs.List("/d")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if f, err := fs.OpenFile("/d/"+name, os.O_RDONLY, 0); err == nil {
					if size, _ := f.Size(); strings.HasSuffix(name, segSuffix) && size > opts.SegmentSize {
						t.Fatalf("%s grew to %d bytes (segments are %d)", name, size, opts.SegmentSize)
					}
					f.Close()
				}
			}
			appendOpT(t, d, "c", KindHash, "op2")
			mustSet(t, d, "after", "value", 0)
			closeT(t, s)
			if rep := checkT(t, fs, "/d", false); !rep.OK() || len(rep.Problems) > 0 {
				t.Fatalf("Check: %+v", rep)
			}
			s = openT(t, "/d", opts)
			wantChain(t, s.DB(0), "c", KindHash, "img", []string{"op1", "op2"}, 0)
			wantGet(t, s.DB(0), "after", "value", 0)
			closeT(t, s)
		})
	}
}

// TestSetImageStreamFaults: a write failing in the middle of a streamed
// image turns the store read-only (as a failed flush does) and the image
// still reaches the file through the mapping; a kill in the middle of one
// leaves the key as it was, the partial bytes cut as a torn tail.
func TestSetImageStreamFaults(t *testing.T) {
	const n = 1000
	img := strings.Repeat("z", n)
	t.Run("write error", func(t *testing.T) {
		fs, opts, s := chainedStore(t, KindSet, 64)
		writes := 0
		fs.SetHook(func(op, name string) error {
			if op == "write" {
				if writes++; writes == 4 {
					return syscall.EIO
				}
			}
			return nil
		})
		err := s.DB(0).SetImage([]byte("c"), KindSet, 0, n, imageFill(img, 10))
		fs.SetHook(nil)
		if !errors.Is(err, ErrReadOnly) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("SetImage with a failing write: %v, want ErrReadOnly wrapping EIO", err)
		}
		if err := s.DB(0).Set([]byte("x"), KindString, []byte("v"), 0); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("Set after the failure: %v, want ErrReadOnly", err)
		}
		_ = s.Close()
		s = openT(t, "/d", opts)
		wantChain(t, s.DB(0), "c", KindSet, img, nil, 0)
		closeT(t, s)
	})
	t.Run("kill", func(t *testing.T) {
		fs, opts, s := chainedStore(t, KindSet, 64)
		var killed []*MemFS
		fs.SetHook(func(op, name string) error {
			if op == "write" {
				killed = append(killed, fs.Kill())
			}
			return nil
		})
		if err := s.DB(0).SetImage([]byte("c"), KindSet, 0, n, imageFill(img, 10)); err != nil {
			t.Fatal(err)
		}
		fs.SetHook(nil)
		closeT(t, s)
		// Each kill is taken right before a write of the stream: before
		// its first piece, ..., before its header.
		if len(killed) < 10 {
			t.Fatalf("%d writes in the stream, want many pieces", len(killed))
		}
		for i, k := range killed {
			s := openT(t, "/d", Options{FS: k, SegmentSize: 4096, CompactRatio: -1, NoSnapshot: true})
			wantChain(t, s.DB(0), "c", KindSet, "img", []string{"op1"}, 0)
			if i > 0 && s.Stats().TruncatedTail == 0 {
				t.Fatalf("kill %d: recovery cut no torn tail, though pieces of the image were written", i)
			}
			appendOpT(t, s.DB(0), "c", KindSet, "op2")
			closeT(t, s)
			s = openT(t, "/d", Options{FS: k, SegmentSize: 4096, CompactRatio: -1, NoSnapshot: true})
			wantChain(t, s.DB(0), "c", KindSet, "img", []string{"op1", "op2"}, 0)
			closeT(t, s)
		}
		s = openT(t, "/d", opts)
		wantChain(t, s.DB(0), "c", KindSet, img, nil, 0)
		closeT(t, s)
	})
}

// TestLongChain builds chains of thousands of operations interleaved with
// dead records: read back, moved by compaction (which rewrites the
// chain's locations), loaded from a snapshot and from a full replay; then
// a fold drops the chain, whose list the next chain reuses
// (DB.spareOps), and that reads back too.
func TestLongChain(t *testing.T) {
	fs := NewMemFS()
	opts := Options{FS: fs, SegmentSize: 64 << 10, CompactRatio: -1}
	s := openT(t, "/d", opts)
	d := s.DB(0)
	chainOf := func(key string, n int, tag string) []string {
		if err := d.Set([]byte(key), KindList, []byte("image-"+tag), 0); err != nil {
			t.Fatal(err)
		}
		ops := make([]string, n)
		for i := range ops {
			ops[i] = fmt.Sprintf("%s-op%d", tag, i)
			appendOpT(t, d, key, KindList, ops[i])
			// Dead bytes between the operations, so that compaction
			// moves them.
			mustSet(t, d, "filler", fmt.Sprint("x", i), 0)
		}
		return ops
	}
	n := 8315
	a := chainOf("a", n, "a1")
	wantChain(t, d, "a", KindList, "image-a1", a, 0)
	if len(d.chains) != 1 || d.chains[d.t.slots[d.t.find(*s.segs.Load(), d.hash([]byte("a")), []byte("a"))].loc].ops.len() != n {
		t.Fatal("chain of a not found with its length")
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Compactions == 0 {
		t.Fatalf("no compaction: %+v", st)
	}
	wantChain(t, d, "a", KindList, "image-a1", a, 0)
	closeT(t, s)
	s = openT(t, "/d", opts)
	if !s.Stats().LoadedSnapshot {
		t.Fatal("snapshot not loaded")
	}
	d = s.DB(0)
	wantChain(t, d, "a", KindList, "image-a1", a, 0)
	// A fold drops a's chain: its full-size blocks (all but the first)
	// become spares, and the chain that grows next takes them.
	if err := d.Set([]byte("a"), KindList, []byte("folded"), 0); err != nil {
		t.Fatal(err)
	}
	wantBlocks := (n - 1) / opBlock // n spans 1+wantBlocks blocks
	if len(d.spareBlocks) != wantBlocks {
		t.Fatalf("%d spare blocks after dropping a chain of %d operations, want %d", len(d.spareBlocks), n, wantBlocks)
	}
	spares := map[*uint64]bool{}
	for _, b := range d.spareBlocks {
		spares[unsafe.SliceData(b)] = true
	}
	b := chainOf("b", n, "b1")
	if len(d.spareBlocks) != 0 {
		t.Fatalf("%d spare blocks left after a chain as long grew", len(d.spareBlocks))
	}
	cb := d.chains[d.t.slots[d.t.find(*s.segs.Load(), d.hash([]byte("b")), []byte("b"))].loc]
	for j, blk := range cb.ops.blocks[1:] {
		if !spares[unsafe.SliceData(blk)] {
			t.Fatalf("block %d of the new chain is not a spare", j+1)
		}
	}
	c := chainOf("c", 5, "c1")
	wantChain(t, d, "a", KindList, "folded", nil, 0)
	wantChain(t, d, "b", KindList, "image-b1", b, 0)
	wantChain(t, d, "c", KindList, "image-c1", c, 0)
	closeT(t, s)
	s = openT(t, "/d", Options{FS: fs, SegmentSize: 64 << 10, CompactRatio: -1, NoSnapshot: true})
	defer closeT(t, s)
	d = s.DB(0)
	wantChain(t, d, "b", KindList, "image-b1", b, 0)
	wantChain(t, d, "c", KindList, "image-c1", c, 0)
}
