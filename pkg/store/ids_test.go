package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestIDAPI(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 4096})
	want := map[ID]string{}
	for i := range 300 {
		v := fmt.Sprintf("value\r\n%d\x00", i)
		id, err := s.Put([]byte(v))
		if err != nil {
			t.Fatal(err)
		}
		if id != ID(i+1) {
			t.Fatalf("Put #%d returned id %d, want %d", i, id, i+1)
		}
		want[id] = v
	}
	for id := ID(1); id <= 300; id += 3 {
		if err := s.Delete(id); err != nil {
			t.Fatalf("Delete(%d): %v", id, err)
		}
		delete(want, id)
	}
	if err := s.Delete(1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete(1) = %v", err)
	}
	if err := s.Delete(300); err != nil { // the highest id: must not be reused
		t.Fatal(err)
	}
	delete(want, 300)
	check := func(when string) {
		t.Helper()
		for id, v := range want {
			got, err := s.Get(id)
			if err != nil || string(got) != v {
				t.Fatalf("%s: Get(%d) = %q, %v; want %q", when, id, got, err, v)
			}
		}
		if _, err := s.Get(1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: Get of a deleted id = %v", when, err)
		}
		var prev ID
		n := 0
		if err := s.Scan(func(id ID, v []byte) bool {
			if id <= prev || want[id] != string(v) {
				t.Fatalf("%s: Scan gave %d %q after %d", when, id, v, prev)
			}
			prev = id
			n++
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if n != len(want) {
			t.Fatalf("%s: Scan visited %d ids, want %d", when, n, len(want))
		}
		// Early stop.
		n = 0
		s.Scan(func(ID, []byte) bool { n++; return n < 5 })
		if n != 5 {
			t.Fatalf("%s: Scan went on after false (%d calls)", when, n)
		}
	}
	check("memory")
	closeT(t, s)
	s = openT(t, dir, Options{SegmentSize: 4096})
	defer closeT(t, s)
	check("reopened")
	if id, err := s.Put([]byte("next")); err != nil || id != 301 {
		t.Fatalf("Put after reopen = %d, %v; want 301 (300 was deleted, never reused)", id, err)
	}
	// The keyed namespace is separate.
	if s.DB(0).Len() != 0 {
		t.Fatal("ids leaked into database 0")
	}
}

func TestIDScanCallsBack(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	defer closeT(t, s)
	for range 500 {
		s.Put([]byte("x"))
	}
	n := 0
	err := s.Scan(func(id ID, v []byte) bool {
		n++
		return s.Delete(id) == nil // fn may call back into the store
	})
	if err != nil || n != 500 {
		t.Fatalf("Scan = %v after %d ids", err, n)
	}
	if err := s.Scan(func(ID, []byte) bool { t.Fatal("an id survived"); return false }); err != nil {
		t.Fatal(err)
	}
}
