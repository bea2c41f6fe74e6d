package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

func TestRoundTripBinarySafe(t *testing.T) {
	big := strings.Repeat(allBytes(), 4096) // 1 MiB
	cases := []struct{ name, key, value string }{
		{"every byte value", "bytes", allBytes()},
		{"key with every byte value", allBytes(), "v"},
		{"crlf", "crlf", "a\r\nb\r\n\r\n"},
		{"crlf key", "k\r\n", "\r\n"},
		{"nuls", "nul", "\x00\x00\x00"},
		{"nul key", "\x00", "x"},
		{"empty value", "empty", ""},
		{"empty key", "", "value of the empty key"},
		{"one MiB", "big", big},
		{"toon-looking", "t", "key: value\nsegments[1]{id,size}:\n  1,2\n"},
	}
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	d := s.DB(3)
	for _, c := range cases {
		mustSet(t, d, c.key, c.value, 0)
	}
	check := func(when string) {
		for _, c := range cases {
			t.Run(when+"/"+c.name, func(t *testing.T) { wantGet(t, d, c.key, c.value, 0) })
		}
		if got := d.Len(); got != len(cases) {
			t.Fatalf("%s: Len = %d, want %d", when, got, len(cases))
		}
		wantMissing(t, s.DB(0), "bytes")
	}
	check("memory")
	closeT(t, s)
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	d = s.DB(3)
	check("reopened")
	if st := s.Stats(); st.Recovered != int64(len(cases)) {
		t.Fatalf("Stats.Recovered = %d, want %d", st.Recovered, len(cases))
	}
}

// model is the expected content of the databases, an oracle independent of
// the store's index.
type model []map[string]modelEntry

type modelEntry struct {
	value    string
	expireAt int64
}

func newModel(n int) model {
	m := make(model, n)
	for i := range m {
		m[i] = map[string]modelEntry{}
	}
	return m
}

func (m model) check(t *testing.T, s *Store, when string) {
	t.Helper()
	for db, keys := range m {
		d := s.DB(db)
		if d.Len() != len(keys) {
			t.Fatalf("%s: db %d Len = %d, want %d", when, db, d.Len(), len(keys))
		}
		exp := 0
		for k, e := range keys {
			wantGet(t, d, k, e.value, e.expireAt)
			if e.expireAt != 0 {
				exp++
			}
		}
		if d.Expires() != exp {
			t.Fatalf("%s: db %d Expires = %d, want %d", when, db, d.Expires(), exp)
		}
		seen := 0
		d.Range(func(key []byte, kind Kind, expireAt int64) bool {
			e, ok := keys[string(key)]
			if !ok || e.expireAt != expireAt || kind != KindString {
				t.Fatalf("%s: db %d Range gave %q exp %d, model has %v %v", when, db, key, expireAt, e, ok)
			}
			seen++
			return true
		})
		if seen != len(keys) {
			t.Fatalf("%s: db %d Range saw %d keys, want %d", when, db, seen, len(keys))
		}
	}
}

func TestOperationsPersist(t *testing.T) {
	const dbs = 4
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	opts := Options{Databases: dbs, SegmentSize: 16 << 10, Sync: SyncNo}
	s := openT(t, dir, opts)
	m := newModel(dbs)
	for round := range 6 {
		for range 400 {
			db := r.IntN(dbs)
			d := s.DB(db)
			key := fmt.Sprintf("k%d", r.IntN(60))
			switch op := r.IntN(100); {
			case op < 55:
				v := string(randBytes(r, r.IntN(200)))
				exp := int64(0)
				if r.IntN(3) == 0 {
					exp = r.Int64N(1 << 45)
				}
				mustSet(t, d, key, v, exp)
				m[db][key] = modelEntry{v, exp}
			case op < 75:
				ok, err := d.Delete([]byte(key))
				_, want := m[db][key]
				if err != nil || ok != want {
					t.Fatalf("Delete(%q) = %v, %v; want %v", key, ok, err, want)
				}
				delete(m[db], key)
			case op < 92:
				exp := r.Int64N(1 << 45)
				if r.IntN(4) == 0 {
					exp = 0 // PERSIST
				}
				ok, err := d.SetExpire([]byte(key), exp)
				e, want := m[db][key]
				if err != nil || ok != want {
					t.Fatalf("SetExpire(%q) = %v, %v; want %v", key, ok, err, want)
				}
				if want {
					m[db][key] = modelEntry{e.value, exp}
				}
			case op < 96:
				a, b := r.IntN(dbs), r.IntN(dbs)
				if err := s.SwapDB(a, b); err != nil {
					t.Fatal(err)
				}
				m[a], m[b] = m[b], m[a]
			case op < 99:
				if err := d.Flush(); err != nil {
					t.Fatal(err)
				}
				m[db] = map[string]modelEntry{}
			default:
				if err := s.FlushAll(); err != nil {
					t.Fatal(err)
				}
				m = newModel(dbs)
			}
		}
		m.check(t, s, fmt.Sprintf("round %d in memory", round))
		closeT(t, s)
		s = openT(t, dir, opts)
		m.check(t, s, fmt.Sprintf("round %d reopened", round))
	}
	closeT(t, s)
}

func TestNamedOperationsPersist(t *testing.T) {
	cases := []struct {
		name  string
		do    func(t *testing.T, s *Store)
		check func(t *testing.T, s *Store)
	}{
		{"overwrite", func(t *testing.T, s *Store) {
			mustSet(t, s.DB(0), "k", "one", 0)
			mustSet(t, s.DB(0), "k", "two", 5)
		}, func(t *testing.T, s *Store) { wantGet(t, s.DB(0), "k", "two", 5) }},
		{"delete", func(t *testing.T, s *Store) {
			mustSet(t, s.DB(0), "k", "one", 0)
			if ok, err := s.DB(0).Delete([]byte("k")); !ok || err != nil {
				t.Fatalf("Delete = %v, %v", ok, err)
			}
			if ok, err := s.DB(0).Delete([]byte("k")); ok || err != nil {
				t.Fatalf("second Delete = %v, %v", ok, err)
			}
		}, func(t *testing.T, s *Store) { wantMissing(t, s.DB(0), "k") }},
		{"expire and persist", func(t *testing.T, s *Store) {
			mustSet(t, s.DB(1), "a", "x", 0)
			mustSet(t, s.DB(1), "b", "y", 100)
			s.DB(1).SetExpire([]byte("a"), 1234)
			s.DB(1).SetExpire([]byte("b"), 0)
			if ok, _ := s.DB(1).SetExpire([]byte("nope"), 1); ok {
				t.Fatal("SetExpire of a missing key reported true")
			}
		}, func(t *testing.T, s *Store) {
			wantGet(t, s.DB(1), "a", "x", 1234)
			wantGet(t, s.DB(1), "b", "y", 0)
			wantMissing(t, s.DB(1), "nope")
			if s.DB(1).Expires() != 1 {
				t.Fatalf("Expires = %d", s.DB(1).Expires())
			}
		}},
		{"flushdb", func(t *testing.T, s *Store) {
			mustSet(t, s.DB(0), "k", "0", 0)
			mustSet(t, s.DB(2), "k", "2", 0)
			s.DB(2).Flush()
			mustSet(t, s.DB(2), "after", "x", 0)
		}, func(t *testing.T, s *Store) {
			wantGet(t, s.DB(0), "k", "0", 0)
			wantMissing(t, s.DB(2), "k")
			wantGet(t, s.DB(2), "after", "x", 0)
		}},
		{"flushall keeps ids", func(t *testing.T, s *Store) {
			mustSet(t, s.DB(0), "k", "0", 0)
			mustSet(t, s.DB(15), "k", "15", 0)
			if _, err := s.Put([]byte("id value")); err != nil {
				t.Fatal(err)
			}
			s.FlushAll()
		}, func(t *testing.T, s *Store) {
			wantMissing(t, s.DB(0), "k")
			wantMissing(t, s.DB(15), "k")
			if v, err := s.Get(1); err != nil || string(v) != "id value" {
				t.Fatalf("Get(1) = %q, %v", v, err)
			}
		}},
		{"swapdb", func(t *testing.T, s *Store) {
			mustSet(t, s.DB(0), "zero", "0", 0)
			mustSet(t, s.DB(1), "one", "1", 7)
			if err := s.SwapDB(0, 1); err != nil {
				t.Fatal(err)
			}
			mustSet(t, s.DB(0), "new", "n", 0) // lands in the swapped table
			if err := s.SwapDB(0, 16); err == nil {
				t.Fatal("SwapDB out of range succeeded")
			}
		}, func(t *testing.T, s *Store) {
			wantGet(t, s.DB(0), "one", "1", 7)
			wantGet(t, s.DB(0), "new", "n", 0)
			wantGet(t, s.DB(1), "zero", "0", 0)
			wantMissing(t, s.DB(0), "zero")
			if s.DB(0).Len() != 2 || s.DB(1).Len() != 1 {
				t.Fatalf("Len = %d, %d", s.DB(0).Len(), s.DB(1).Len())
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, Options{})
			c.do(t, s)
			c.check(t, s)
			closeT(t, s)
			s = openT(t, dir, Options{})
			defer closeT(t, s)
			c.check(t, s)
		})
	}
}

func TestClosedStore(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	mustSet(t, s.DB(0), "k", "v", 0)
	closeT(t, s)
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	if _, _, err := s.DB(0).Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
	if err := s.DB(0).Set([]byte("k"), KindString, nil, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after Close = %v", err)
	}
	if err := s.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close = %v", err)
	}
	if _, err := s.Get(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("id Get after Close = %v", err)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	if s2, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	closeT(t, s)
	s = openT(t, dir, Options{}) // released by Close
	closeT(t, s)
}

func TestMetadataFile(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 4096})
	read := func() *metadata {
		t.Helper()
		m, err := readMetadata(OSFS(), dir)
		if err != nil || m == nil {
			t.Fatalf("readMetadata = %v, %v", m, err)
		}
		return m
	}
	if m := read(); m.cleanShutdown {
		t.Fatal("clean_shutdown true while open")
	}
	for i := range 100 {
		mustSet(t, s.DB(0), fmt.Sprint(i), strings.Repeat("v", 100), 0)
	}
	closeT(t, s)
	m := read()
	if !m.cleanShutdown || m.lastSequence != 100 || len(m.segments) < 3 || m.formatVersion != metaBaseVersion {
		t.Fatalf("metadata after Close = %+v", m)
	}
	text, _ := os.ReadFile(filepath.Join(dir, metaName))
	for _, want := range []string{fmt.Sprintf("format_version: %d\n", metaBaseVersion), "clean_shutdown: true\n", "last_sequence: 100\n", fmt.Sprintf("segments[%d]{id,size}:\n  1,4096\n", len(m.segments))} {
		if !strings.Contains(string(text), want) {
			t.Fatalf("metadata.toon lacks %q:\n%s", want, text)
		}
	}
	// A segment listed in the metadata but missing stops Open.
	os.Remove(filepath.Join(dir, segName(uint32(len(m.segments)))))
	if _, err := Open(dir, Options{SegmentSize: 4096}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open without a listed segment = %v", err)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: MinSegmentSize, Sync: SyncNo}
	s := openT(t, dir, opts)
	const n = 1000
	val := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), i%150) }
	for i := range n {
		mustSet(t, s.DB(i%16), fmt.Sprint("key", i), val(i), 0)
	}
	st := s.Stats()
	if st.Segments < 100 || st.Keys != n || st.Writes != n {
		t.Fatalf("Stats = %+v, want >= 100 segments, %d keys", st, n)
	}
	closeT(t, s)
	s = openT(t, dir, opts)
	defer closeT(t, s)
	for i := range n {
		wantGet(t, s.DB(i%16), fmt.Sprint("key", i), val(i), 0)
	}
	if got := s.Stats().Segments; got != st.Segments {
		t.Fatalf("Segments after reopen = %d, want %d", got, st.Segments)
	}
}

func TestValueLargerThanSegment(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 4096}
	s := openT(t, dir, opts)
	r := rand.New(rand.NewPCG(1, 2))
	big := string(randBytes(r, 3*4096+5))
	mustSet(t, s.DB(0), "before", "b", 0)
	mustSet(t, s.DB(0), "big", big, 0)
	mustSet(t, s.DB(0), "after", "a", 0)
	wantGet(t, s.DB(0), "big", big, 0)
	if st := s.Stats(); st.Segments != 3 {
		t.Fatalf("Segments = %d, want 3 (small, own-size, small)", st.Segments)
	}
	closeT(t, s)
	s = openT(t, dir, opts)
	defer closeT(t, s)
	wantGet(t, s.DB(0), "before", "b", 0)
	wantGet(t, s.DB(0), "big", big, 0)
	wantGet(t, s.DB(0), "after", "a", 0)
}

func TestValueTooLarge(t *testing.T) {
	s := openT(t, t.TempDir(), Options{MaxValueSize: 1000})
	defer closeT(t, s)
	mustSet(t, s.DB(0), "k", "old", 0)
	mustSet(t, s.DB(0), "k", strings.Repeat("x", 1000), 0)
	mustSet(t, s.DB(0), "k", "old", 0)
	wantErrIs(t, s.DB(0).Set([]byte("k"), KindString, make([]byte, 1001), 0), ErrValueTooLarge)
	wantGet(t, s.DB(0), "k", "old", 0)
	if _, err := s.Put(make([]byte, 1001)); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("Put = %v", err)
	}
	wantErrIs(t, s.DB(0).Set([]byte("k"), 0, nil, 0), ErrBadKind)
	wantErrIs(t, s.DB(0).Set([]byte("k"), kindDelete, nil, 0), ErrBadKind)
}

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"segment too small", Options{SegmentSize: 100}},
		{"negative databases", Options{Databases: -1}},
		{"bad sync", Options{Sync: 9}},
		{"huge value", Options{MaxValueSize: 1 << 40}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s, err := Open(t.TempDir(), c.opts); err == nil {
				s.Close()
				t.Fatal("Open accepted invalid options")
			}
		})
	}
}

func TestStatsLiveBytes(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	defer closeT(t, s)
	mustSet(t, s.DB(0), "k", "12345678", 0) // 40+1+8 = 49 -> 56
	mustSet(t, s.DB(1), "k", "", 0)         // 41 -> 48
	if got := s.Stats().LiveBytes; got != 104 {
		t.Fatalf("LiveBytes = %d, want 104", got)
	}
	mustSet(t, s.DB(0), "k", "", 0)
	s.DB(1).Delete([]byte("k"))
	if st := s.Stats(); st.LiveBytes != 48 || st.Keys != 1 {
		t.Fatalf("Stats = %+v, want LiveBytes 48, Keys 1", st)
	}
}

func TestRandomKey(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	defer closeT(t, s)
	if _, ok := s.DB(0).RandomKey(1); ok {
		t.Fatal("RandomKey of an empty database")
	}
	keys := map[string]bool{"a": true, "b": true, "c": true}
	for k := range keys {
		mustSet(t, s.DB(0), k, "", 0)
	}
	seen := map[string]bool{}
	for r := range uint64(64) {
		k, ok := s.DB(0).RandomKey(r)
		if !ok || !keys[string(k)] {
			t.Fatalf("RandomKey(%d) = %q, %v", r, k, ok)
		}
		seen[string(k)] = true
	}
	if len(seen) != 3 {
		t.Fatalf("RandomKey over 64 seeds saw only %v", seen)
	}
}

func TestEntryValueIsNotCopied(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	defer closeT(t, s)
	v := []byte("original")
	s.DB(0).Set([]byte("k"), KindString, v, 0)
	copy(v, "changed!") // Set copied it
	e, _, _ := s.DB(0).Get([]byte("k"))
	if !bytes.Equal(e.Value, []byte("original")) {
		t.Fatalf("value %q changed with the caller's buffer", e.Value)
	}
}
