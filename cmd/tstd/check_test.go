package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/store"
)

// TestCheck: `tstd check` passes a clean directory, finds a flipped bit
// (naming file and offset, exit 1), `--fix` keeps every intact record, and
// the fixed directory checks clean and opens with those records.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := 0; i < n; i++ {
		if err := s.DB(0).Set(fmt.Appendf(nil, "key:%03d", i), store.KindString, fmt.Appendf(nil, "value:%03d", i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if code, out := runTstd(t, nil, "check", dir); code != 0 || !strings.Contains(out, "0 problems") || !strings.Contains(out, "100%") {
		t.Fatalf("check of a clean directory: exit %d\n%s", code, out)
	}

	seg := filepath.Join(dir, "data-000001.toon")
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	const at = 4096 // well inside the records
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x04
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out := runTstd(t, nil, "check", "--quiet", dir)
	if code != 1 || !strings.Contains(out, seg) || !strings.Contains(out, "bad crc") || !strings.Contains(out, "--fix") {
		t.Fatalf("check of a damaged directory: exit %d, want 1 naming %s and a bad crc\n%s", code, seg, out)
	}
	if _, err := store.Open(dir, store.Options{}); err == nil {
		t.Fatal("Open of the damaged directory succeeded; want ErrCorrupt")
	}

	if code, out := runTstd(t, nil, "check", "--fix", dir); code != 0 || !strings.Contains(out, "fixed: kept") {
		t.Fatalf("check --fix: exit %d\n%s", code, out)
	}
	if code, out := runTstd(t, nil, "check", dir); code != 0 || !strings.Contains(out, "0 problems") {
		t.Fatalf("check after --fix: exit %d\n%s", code, out)
	}
	s, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("Open after --fix: %v", err)
	}
	defer s.Close()
	if got := s.DB(0).Len(); got != n-1 {
		t.Fatalf("%d keys after --fix, want %d (all but the damaged record)", got, n-1)
	}
}
