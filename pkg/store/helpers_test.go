package store

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized store tests (0 = time-based; printed by each test)")

// testSeed returns the seed to use and logs it so that a failure can be
// replayed with -seed.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return seed
}

func openT(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func closeT(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustSet(t testing.TB, d *DB, key, value string, expireAt int64) {
	t.Helper()
	if err := d.Set([]byte(key), KindString, []byte(value), expireAt); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

// wantGet checks that key holds value with expireAt.
func wantGet(t testing.TB, d *DB, key, value string, expireAt int64) {
	t.Helper()
	e, ok, err := d.Get([]byte(key))
	switch {
	case err != nil:
		t.Fatalf("db %d Get(%q): %v", d.n, key, err)
	case !ok:
		t.Fatalf("db %d Get(%q): missing, want %q", d.n, key, abbrev(value))
	case !bytes.Equal(e.Value, []byte(value)) || e.ExpireAt != expireAt || e.Kind != KindString:
		t.Fatalf("db %d Get(%q) = %q kind %d exp %d, want %q kind 1 exp %d", d.n, key, abbrev(string(e.Value)), e.Kind, e.ExpireAt, abbrev(value), expireAt)
	}
}

func wantMissing(t testing.TB, d *DB, key string) {
	t.Helper()
	e, ok, err := d.Get([]byte(key))
	if err != nil || ok {
		t.Fatalf("db %d Get(%q) = %q, %v, %v; want missing", d.n, key, abbrev(string(e.Value)), ok, err)
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// copyDir copies every file of src into a new directory: a crash image of
// a store that is still open (the page cache holds what the mapping wrote).
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if os.IsNotExist(err) {
			continue // a temporary file renamed or removed meanwhile (a background snapshot)
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func wantErrIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one wrapping %v", err, target)
	}
}

// reopenImages closes s, then opens both a crash image of fs taken just
// before and fs itself with opts, runs check on each store (labelled),
// closes it, and runs Check, which must find no problem.
func reopenImages(t *testing.T, s *Store, fs *MemFS, dir string, opts Options, label string, check func(*Store, string)) {
	t.Helper()
	img := fs.Crash(CrashOptions{})
	closeT(t, s)
	for _, f := range []*MemFS{img, fs} {
		o := opts
		o.FS = f
		r := openT(t, dir, o)
		check(r, label)
		closeT(t, r)
		if rep := checkT(t, f, dir, false); len(rep.Problems) != 0 {
			t.Fatalf("%s: Check: %v", label, rep.Problems)
		}
	}
}
