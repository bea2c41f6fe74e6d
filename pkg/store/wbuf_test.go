package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// wbufVal is the value the write-buffer tests store under key i (version
// v): n bytes that name both, so a reader can tell a wrong record from a
// right one.
func wbufVal(i, v, n int) []byte {
	b := bytes.Repeat([]byte{byte(i*7 + v)}, n)
	copy(b, fmt.Sprintf("%d/%d:", i, v))
	return b
}

// TestWriteBufferKeepsZeroTail writes through a real file, in both modes,
// past several write buffers and segment rotations (with records larger
// than a buffer among them), and checks crash invariant 1 at the end: every
// byte of the file after the write offset is zero; with BufferWrites, the
// bytes not flushed yet are not in the file either. A reopened store, which
// reads the files, has every key.
func TestWriteBufferKeepsZeroTail(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		t.Run(fmt.Sprintf("buffered=%v", buffered), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Sync: SyncNo, SegmentSize: 3*wbufSize + 12345, CompactRatio: -1, NoSnapshot: true, BufferWrites: buffered}
			s := openT(t, dir, opts)
			const n = 12_000 // about 12 MiB of records: several segments
			size := func(i int) int {
				if i%3001 == 0 {
					return wbufSize + 4321 // a buffer of its own
				}
				return 1000
			}
			for i := range n {
				if err := s.DB(0).Set(fmt.Appendf(nil, "k%06d", i), KindString, wbufVal(i, 0, size(i)), 0); err != nil {
					t.Fatal(err)
				}
				if buffered && i%97 == 0 {
					s.FlushWrites()
				}
			}
			s.appendMu.Lock()
			g, woff, filled := s.active, s.woff, s.active.filled.Load()
			if buffered && filled >= woff {
				t.Errorf("nothing buffered at the end: filled %d, write offset %d", filled, woff)
			}
			if !buffered && filled != woff {
				t.Errorf("write-through left bytes unflushed: filled %d, write offset %d", filled, woff)
			}
			if u := s.Unflushed(); u != woff-filled {
				t.Errorf("Unflushed() = %d, want the %d bytes past the flushed offset", u, woff-filled)
			}
			if k := lastNonZero(g.data[filled:]); k >= 0 {
				t.Errorf("non-zero byte at offset %d after the flushed offset %d", filled+int64(k), filled)
			}
			s.appendMu.Unlock()
			if st := s.Stats(); st.Segments < 3 {
				t.Errorf("%d segments, want rotations", st.Segments)
			}
			closeT(t, s)

			s = openT(t, dir, opts)
			defer closeT(t, s)
			for i := range n {
				e, ok, err := s.DB(0).Get(fmt.Appendf(nil, "k%06d", i))
				if err != nil || !ok || !bytes.Equal(e.Value, wbufVal(i, 0, size(i))) {
					t.Fatalf("key %d after reopen: ok=%v err=%v", i, ok, err)
				}
			}
		})
	}
}

// TestBufferedWritesReachTheFileAtFlush: with BufferWrites, a write is
// readable at once, is not in the file (a kill loses it) until
// FlushWrites, Sync or Close puts it there, and is in it (a kill keeps it)
// after. Without BufferWrites every write is in the file when it returns.
func TestBufferedWritesReachTheFileAtFlush(t *testing.T) {
	keysAfterKill := func(t *testing.T, fs *MemFS, opts Options) int {
		t.Helper()
		o := opts
		o.FS = fs.Kill()
		r := openT(t, "/d", o)
		defer closeT(t, r)
		return int(r.Stats().Keys)
	}
	set := func(t *testing.T, s *Store, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := s.DB(0).Set(fmt.Appendf(nil, "k%d", i), KindString, wbufVal(i, 0, 100+i%900), 0); err != nil {
				t.Fatal(err)
			}
		}
		for i := from; i < to; i++ {
			e, ok, err := s.DB(0).Get(fmt.Appendf(nil, "k%d", i))
			if err != nil || !ok || !bytes.Equal(e.Value, wbufVal(i, 0, 100+i%900)) {
				t.Fatalf("key %d right after the write: ok=%v err=%v", i, ok, err)
			}
		}
	}
	opts := Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true}

	t.Run("buffered", func(t *testing.T) {
		fs := NewMemFS()
		o := opts
		o.FS, o.BufferWrites = fs, true
		s := openT(t, "/d", o)
		set(t, s, 0, 50) // about 27 KiB: one buffer, no flush
		if got := keysAfterKill(t, fs, o); got != 0 {
			t.Errorf("kill before any flush kept %d keys, want 0 (nothing was flushed)", got)
		}
		s.FlushWrites()
		if got := keysAfterKill(t, fs, o); got != 50 {
			t.Errorf("kill after FlushWrites kept %d keys, want 50", got)
		}
		set(t, s, 50, 60)
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		if got := keysAfterKill(t, fs, o); got != 60 {
			t.Errorf("kill after Sync kept %d keys, want 60", got)
		}
		set(t, s, 60, 70)
		closeT(t, s)
		s = openT(t, "/d", o)
		if got := s.Stats().Keys; got != 70 {
			t.Errorf("reopen after Close: %d keys, want 70", got)
		}
		closeT(t, s)
	})
	t.Run("write-through", func(t *testing.T) {
		fs := NewMemFS()
		o := opts
		o.FS = fs
		s := openT(t, "/d", o)
		defer closeT(t, s)
		set(t, s, 0, 50)
		if got := keysAfterKill(t, fs, o); got != 50 {
			t.Errorf("kill kept %d keys, want all 50", got)
		}
	})
}

// TestWriteBufferConcurrentReaders runs readers against a writer that
// overwrites keys, flushes at random points, rotates small segments and now
// and then writes a record larger than a buffer: every read must return the
// key's own value, of the version just written or an earlier one (never a
// zero page of the mapping, a torn record or another key's bytes). Run
// under the race detector it also checks the buffer's publication.
func TestWriteBufferConcurrentReaders(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo, SegmentSize: 256 << 10, CompactRatio: -1, NoSnapshot: true, BufferWrites: true})
	defer closeT(t, s)
	const keys = 200
	var ver [keys]atomic.Int64 // last version written of each key
	for i := range keys {
		ver[i].Store(-1)
	}
	var written atomic.Int64 // keys [0, written) exist
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad atomic.Value
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(r), 9))
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := int(written.Load())
				if n == 0 {
					continue
				}
				i := rnd.IntN(n)
				key := fmt.Appendf(nil, "k%d", i)
				e, ok, err := s.DB(0).Get(key)
				if err != nil || !ok {
					bad.Store(fmt.Sprintf("key %d: ok=%v err=%v", i, ok, err))
					return
				}
				var gi, gv int
				if _, err := fmt.Sscanf(string(e.Value), "%d/%d:", &gi, &gv); err != nil || gi != i || int64(gv) > ver[i].Load() ||
					!bytes.Equal(e.Value, wbufVal(i, gv, len(e.Value))) {
					bad.Store(fmt.Sprintf("key %d: read %d bytes %q...", i, len(e.Value), e.Value[:min(len(e.Value), 16)]))
					return
				}
			}
		}()
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for v := 0; v < 4000 && bad.Load() == nil; v++ {
		i := rnd.IntN(keys)
		if v < keys {
			i = v
		}
		n := 16 + rnd.IntN(2000)
		if rnd.IntN(500) == 0 {
			n = wbufSize + rnd.IntN(1000)
		}
		ver[i].Store(int64(v))
		if err := s.DB(0).Set(fmt.Appendf(nil, "k%d", i), KindString, wbufVal(i, v, n), 0); err != nil {
			t.Fatal(err)
		}
		if v < keys {
			written.Store(int64(v + 1))
		}
		if rnd.IntN(8) == 0 {
			s.FlushWrites()
		}
	}
	close(stop)
	wg.Wait()
	if b := bad.Load(); b != nil {
		t.Fatal(b)
	}
	if st := s.Stats(); st.Segments < 4 {
		t.Errorf("%d segments, want rotations", st.Segments)
	}
}

// TestWriteBufferFailedWrite: a pwrite that fails (EIO) is reported by the
// flush that met it (so the server does not acknowledge those writes),
// leaves the records in the page cache through the mapping, so a kill
// keeps them, and turns the store read-only, as a failed fsync does; reads
// keep working. Without BufferWrites the write itself returns the error.
func TestWriteBufferFailedWrite(t *testing.T) {
	fs := NewMemFS()
	opts := Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, BufferWrites: true, FS: fs}
	s := openT(t, "/d", opts)
	defer s.Close()
	fs.SetHook(func(op, name string) error {
		if op == "write" && strings.Contains(name, segPrefix) {
			return syscall.EIO
		}
		return nil
	})
	for i := range 10 { // 10 KiB: flushed with pwrite
		if err := s.DB(0).Set(fmt.Appendf(nil, "k%d", i), KindString, wbufVal(i, 0, 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FlushWrites(); !errors.Is(err, ErrReadOnly) || !errors.Is(err, syscall.EIO) {
		t.Errorf("FlushWrites with a failing pwrite: %v, want ErrReadOnly wrapping EIO", err)
	}
	if err := s.FlushWrites(); err != nil {
		t.Errorf("FlushWrites with nothing left to write: %v", err)
	}
	if err := s.DB(0).Set([]byte("after"), KindString, []byte("x"), 0); !errors.Is(err, ErrReadOnly) || !errors.Is(err, syscall.EIO) {
		t.Errorf("write after the failed pwrite: %v, want ErrReadOnly wrapping EIO", err)
	}
	for i := range 10 {
		if e, ok, err := s.DB(0).Get(fmt.Appendf(nil, "k%d", i)); err != nil || !ok || !bytes.Equal(e.Value, wbufVal(i, 0, 1000)) {
			t.Errorf("read of key %d after the failed pwrite: ok=%v err=%v", i, ok, err)
		}
	}
	fs.SetHook(nil)
	o := opts
	o.FS = fs.Kill()
	r := openT(t, "/d", o)
	defer closeT(t, r)
	if got := r.Stats().Keys; got != 10 {
		t.Errorf("kill after the failed pwrite kept %d keys, want 10", got)
	}
}

func TestWriteThroughFailedWrite(t *testing.T) {
	fs := NewMemFS()
	s := openT(t, "/d", Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, FS: fs})
	defer s.Close()
	fs.SetHook(func(op, name string) error {
		if op == "write" && strings.Contains(name, segPrefix) {
			return syscall.EIO
		}
		return nil
	})
	if err := s.DB(0).Set([]byte("small"), KindString, []byte("v"), 0); err != nil {
		t.Errorf("a small write (copied into the mapping, no pwrite): %v", err)
	}
	if err := s.DB(0).Set([]byte("big"), KindString, wbufVal(1, 0, 4000), 0); !errors.Is(err, ErrReadOnly) || !errors.Is(err, syscall.EIO) {
		t.Errorf("a write whose pwrite fails: %v, want ErrReadOnly wrapping EIO", err)
	}
	if e, ok, err := s.DB(0).Get([]byte("small")); err != nil || !ok || string(e.Value) != "v" {
		t.Errorf("read after the failure: ok=%v err=%v", ok, err)
	}
}

// heldFile is a File that records which write writeFlush chose.
type heldFile struct {
	File
	held, plain int
}

func (f *heldFile) writeAtHeld(p []byte, off int64) (int, error) {
	f.held++
	return f.File.WriteAt(p, off)
}

func (f *heldFile) WriteAt(p []byte, off int64) (int, error) {
	f.plain++
	return f.File.WriteAt(p, off)
}

// TestWriteFlushHeld: a flush of up to maxHeldFlush bytes is written with
// writeAtHeld (the pwrite that keeps the Go processor), a larger one
// through the scheduler; a File without the method gets WriteAt.
func TestWriteFlushHeld(t *testing.T) {
	fs := NewMemFS()
	if err := fs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	mf, err := fs.OpenFile("/d/f", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f := &heldFile{File: mf}
	for _, c := range []struct {
		size        int
		held, plain int
	}{{4096, 1, 0}, {maxHeldFlush, 2, 0}, {maxHeldFlush + 1, 2, 1}} {
		p := bytes.Repeat([]byte{byte(c.size)}, c.size)
		if n, err := writeFlush(f, p, 8); n != c.size || err != nil {
			t.Fatalf("writeFlush of %d bytes: %d, %v", c.size, n, err)
		}
		if f.held != c.held || f.plain != c.plain {
			t.Errorf("after a flush of %d bytes: %d held and %d plain writes, want %d and %d", c.size, f.held, f.plain, c.held, c.plain)
		}
		got := make([]byte, c.size)
		if _, err := mf.ReadAt(got, 8); err != nil || !bytes.Equal(got, p) {
			t.Errorf("flush of %d bytes read back wrong (%v)", c.size, err)
		}
	}
	if n, err := writeFlush(mf, []byte("plain"), 0); n != 5 || err != nil {
		t.Errorf("writeFlush to a File without writeAtHeld: %d, %v", n, err)
	}
}

// TestPwriteHeld: pwriteHeld writes the whole slice at the offset, leaves
// the rest of the file alone, and returns the system call's error (a file
// opened read-only: EBADF) with the path.
func TestPwriteHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, bytes.Repeat([]byte{'.'}, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, w := range []struct {
		p   []byte
		off int64
	}{{[]byte("held"), 10}, {big, 100}} {
		if n, err := pwriteHeld(f, w.p, w.off); n != len(w.p) || err != nil {
			t.Fatalf("pwriteHeld of %d bytes at %d: %d, %v", len(w.p), w.off, n, err)
		}
	}
	f.Close()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append(bytes.Repeat([]byte{'.'}, 10), "held"...), bytes.Repeat([]byte{'.'}, 50)...), make([]byte, 36)...)
	want = append(want, big...)
	if !bytes.Equal(got, want) {
		t.Errorf("file after pwriteHeld: %d bytes, want %d (prefix %q)", len(got), len(want), got[:min(len(got), 70)])
	}
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	n, err := pwriteHeld(ro, []byte("x"), 0)
	if n != 0 || !errors.Is(err, syscall.EBADF) || !strings.Contains(fmt.Sprint(err), path) {
		t.Errorf("pwriteHeld to a read-only file: %d, %v; want 0 and EBADF naming the file", n, err)
	}
}

// TestViewToScratch: a read of a key whose record is still in the write
// buffer copies it into the reader's scratch, not into a new allocation
// (the key probe compares in place); the value is right before and after
// the flush, a record over maxViewScratch gets a copy of its own (the
// scratch stays small), and GetTo still returns copies that outlive the
// next read.
func TestViewToScratch(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, BufferWrites: true})
	d := s.DB(0)
	key := []byte("counter")
	var scratch []byte
	var e Entry
	for i := range 50 {
		want := fmt.Appendf(nil, "%d", i)
		if err := d.Set(key, KindString, want, 0); err != nil {
			t.Fatal(err)
		}
		if ok, err := d.ViewTo(key, &e, &scratch); !ok || err != nil || !bytes.Equal(e.Value, want) {
			t.Fatalf("ViewTo after write %d: %q %v %v", i, e.Value, ok, err)
		}
		if len(scratch) == 0 || &e.Value[0] != &scratch[recHeaderSize+len(key)] {
			t.Fatalf("write %d: the buffered value is not read from the scratch", i)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := d.Set(key, KindString, []byte("7"), 0); err != nil {
			t.Fatal(err)
		}
		if ok, err := d.ViewTo(key, &e, &scratch); !ok || err != nil || string(e.Value) != "7" {
			t.Fatalf("ViewTo: %q %v %v", e.Value, ok, err)
		}
	}); n != 0 {
		t.Errorf("a write and a read of its buffered record allocate %v times, want 0", n)
	}
	if err := s.FlushWrites(); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.ViewTo(key, &e, &scratch); !ok || err != nil || string(e.Value) != "7" {
		t.Fatalf("ViewTo after the flush: %q %v %v", e.Value, ok, err)
	}
	big := wbufVal(1, 2, maxViewScratch+1)
	if err := d.Set(key, KindString, big, 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.ViewTo(key, &e, &scratch); !ok || err != nil || !bytes.Equal(e.Value, big) {
		t.Fatalf("ViewTo of a large buffered value: %d bytes, %v %v", len(e.Value), ok, err)
	}
	if cap(scratch) > maxViewScratch {
		t.Errorf("the scratch grew to %d bytes for a record over %d", cap(scratch), maxViewScratch)
	}
	var g Entry
	if err := d.Set(key, KindString, []byte("kept"), 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.GetTo(key, &g); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := d.Set(key, KindString, []byte("next"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ViewTo(key, &e, &scratch); err != nil {
		t.Fatal(err)
	}
	if string(g.Value) != "kept" || string(e.Value) != "next" {
		t.Errorf("GetTo's value %q and ViewTo's %q, want kept and next", g.Value, e.Value)
	}
}
