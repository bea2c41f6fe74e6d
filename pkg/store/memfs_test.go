package store

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"syscall"
	"testing"
)

func memWrite(t *testing.T, fs FS, name string, data []byte, sync bool) {
	t.Helper()
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
}

func memRead(t *testing.T, fs FS, name string) []byte {
	t.Helper()
	b, err := readFile(fs, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// TestMemFSCrash checks the crash model: synced data and synced directory
// entries survive, the rest does not (TornNone), and torn modes keep only
// pages that were written.
func TestMemFSCrash(t *testing.T) {
	fs := NewMemFS()
	fs.MkdirAll("/d", 0o755)
	memWrite(t, fs, "/d/synced", []byte("durable"), true)
	memWrite(t, fs, "/d/unsynced-data", []byte("lost"), false)
	fs.SyncDir("/d")
	memWrite(t, fs, "/d/synced", []byte("DURABLE-but-not-synced"), false)
	memWrite(t, fs, "/d/new", []byte("new"), true) // data synced, entry not
	if err := fs.Rename("/d/unsynced-data", "/d/renamed"); err != nil {
		t.Fatal(err)
	}

	c := fs.Crash(CrashOptions{})
	names, _ := c.List("/d")
	if want := []string{"synced", "unsynced-data"}; !slices.Equal(names, want) {
		t.Fatalf("after crash: entries %q, want %q", names, want)
	}
	if got := memRead(t, c, "/d/synced"); string(got) != "durable" {
		t.Fatalf("synced file = %q", got)
	}
	if got := memRead(t, c, "/d/unsynced-data"); len(got) != 0 {
		t.Fatalf("never-synced file = %q, want empty", got)
	}
	// fs itself is unchanged.
	if got := memRead(t, fs, "/d/synced"); string(got) != "DURABLE-but-not-synced" {
		t.Fatalf("original after Crash = %q", got)
	}

	// Keeping unsynced directory entries: the current names survive.
	c = fs.Crash(CrashOptions{Rand: rand.New(rand.NewPCG(1, 1)), DirKeepUnsynced: 1})
	names, _ = c.List("/d")
	if want := []string{"new", "renamed", "synced"}; !slices.Equal(names, want) {
		t.Fatalf("after crash keeping dirs: entries %q, want %q", names, want)
	}
	if got := memRead(t, c, "/d/new"); string(got) != "new" {
		t.Fatalf("new = %q", got)
	}

	// Torn pages: every crash result is, page by page, synced or current.
	big := bytes.Repeat([]byte{1}, 4096)
	memWrite(t, fs, "/d/big", big, true)
	fs.SyncDir("/d")
	cur := bytes.Repeat([]byte{2}, 4096+100)
	memWrite(t, fs, "/d/big", cur, false)
	r := rand.New(rand.NewPCG(2, 2))
	seen := map[int]bool{}
	for range 50 {
		for _, mode := range []TornMode{TornPrefix, TornSubset} {
			got := memRead(t, fs.Crash(CrashOptions{Rand: r, Torn: mode, PageSize: 512}), "/d/big")
			kept, gap := 0, false
			for lo := 0; lo < len(got); lo += 512 {
				p := got[lo:min(lo+512, len(got))]
				switch {
				case lo < len(big) && bytes.Equal(p, big[lo:min(lo+512, len(big))]):
					gap = true
				case bytes.Equal(p, cur[lo:min(lo+512, len(cur))]):
					if mode == TornPrefix && gap {
						t.Fatalf("TornPrefix kept page %d after a lost one", lo)
					}
					kept++
				default:
					t.Fatalf("page at %d is neither synced nor current", lo)
				}
			}
			seen[kept] = true
		}
	}
	if len(seen) < 3 {
		t.Fatalf("torn crashes kept too few distinct page counts: %v", seen)
	}
}

func TestMemFSHookAndLock(t *testing.T) {
	fs := NewMemFS()
	fs.MkdirAll("/d", 0o755)
	fs.SetHook(func(op, name string) error {
		if op == "allocate" {
			return syscall.ENOSPC
		}
		return nil
	})
	f, err := fs.OpenFile("/d/f", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Allocate(100); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Allocate with an ENOSPC hook = %v", err)
	}
	fs.SetHook(nil)
	if err := f.Allocate(100); err != nil {
		t.Fatal(err)
	}
	m, err := f.Map(100, true)
	if err != nil {
		t.Fatal(err)
	}
	m.Bytes()[5] = 'x'
	if got := memRead(t, fs, "/d/f"); got[5] != 'x' {
		t.Fatal("a write through the mapping is not in the file")
	}
	if err := f.Truncate(10); err == nil {
		t.Fatal("truncating a mapped file succeeded")
	}
	m.Unmap()
	l, err := fs.Lock("/d/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Lock("/d/LOCK"); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock = %v", err)
	}
	l.Close()
	if _, err := Open("/d", Options{FS: fs}); err != nil {
		t.Fatalf("Open after unlock: %v", err)
	}
	if _, err := Open("/d", Options{FS: fs}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}
