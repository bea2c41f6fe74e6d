package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writtenRecord is where a test key's only record went.
type writtenRecord struct {
	key, value string
	seg        uint32
	off, end   int64
}

// locOf returns the location of key's record (test-only peek at the index).
func locOf(t *testing.T, d *DB, key string) uint64 {
	t.Helper()
	d.mu.RLock()
	defer d.mu.RUnlock()
	i := d.t.find(*d.s.segs.Load(), d.hash([]byte(key)), []byte(key))
	if i < 0 {
		t.Fatalf("key %q not in the index", key)
	}
	return d.t.slots[i].loc
}

// TestCrashTornTail writes distinct keys, takes a crash image of the open
// store, damages the last segment at a random offset (truncation, or bytes
// changed), reopens it and checks that every record wholly before the
// damage is back and nothing after it; then that the store keeps working.
func TestCrashTornTail(t *testing.T) {
	seed := testSeed(t)
	for iter := range 30 {
		r := rand.New(rand.NewPCG(seed, uint64(iter)))
		t.Run(fmt.Sprint("iter=", iter), func(t *testing.T) { crashOnce(t, r) })
	}
}

func crashOnce(t *testing.T, r *rand.Rand) {
	opts := Options{SegmentSize: 8 << 10, Sync: SyncNo}
	dir := t.TempDir()
	s := openT(t, dir, opts)
	defer s.Close()
	d := s.DB(0)
	n := 20 + r.IntN(150)
	recs := make([]writtenRecord, n)
	for i := range recs {
		k, v := fmt.Sprintf("key-%d", i), string(randBytes(r, r.IntN(300)))
		mustSet(t, d, k, v, 0)
		loc := locOf(t, d, k)
		_, size := recordLen(len(k), len(v))
		recs[i] = writtenRecord{k, v, locSeg(loc), locOff(loc), locOff(loc) + size}
	}
	if r.IntN(2) == 0 {
		s.Sync() // synced or not, the page cache holds it: the image has it all
	}
	img := copyDir(t, dir)
	last := s.active.id
	woff := s.woff
	path := filepath.Join(img, segName(last))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Damage at x in [header, write offset + 64).
	x := int64(segHeaderSize) + r.Int64N(woff+64-segHeaderSize)
	x = min(x, int64(len(data))-1)
	truncate := r.IntN(2) == 0
	if truncate {
		data = data[:x]
	} else {
		l := 1 + r.Int64N(64)
		for i := x; i < min(x+l, int64(len(data))); i++ {
			data[i] ^= byte(1 + r.IntN(255)) // never a no-op
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("segment %d, write offset %d, damage at %d (truncate %v)", last, woff, x, truncate)

	s2 := openT(t, img, opts)
	defer s2.Close()
	d2 := s2.DB(0)
	back := 0
	for _, rec := range recs {
		if rec.seg < last || rec.end <= x {
			wantGet(t, d2, rec.key, rec.value, 0)
			back++
		} else {
			wantMissing(t, d2, rec.key)
		}
	}
	if got := d2.Len(); got != back {
		t.Fatalf("Len = %d, want %d", got, back)
	}
	if st := s2.Stats(); !truncate && st.TruncatedTail == 0 {
		t.Fatalf("TruncatedTail = 0 after damage at %d", x)
	}
	// The store goes on: new writes land after the cut and survive a crash
	// image and a clean reopen.
	for i := range 30 {
		mustSet(t, d2, fmt.Sprint("new-", i), strings.Repeat("n", i*10), 0)
	}
	img2 := copyDir(t, img)
	closeT(t, s2)
	for _, dir := range []string{img, img2} {
		s3 := openT(t, dir, opts)
		for i := range 30 {
			wantGet(t, s3.DB(0), fmt.Sprint("new-", i), strings.Repeat("n", i*10), 0)
		}
		if s3.DB(0).Len() != back+30 {
			t.Fatalf("Len = %d, want %d", s3.DB(0).Len(), back+30)
		}
		if st := s3.Stats(); st.TruncatedTail != 0 {
			t.Fatalf("TruncatedTail = %d on the reopen after the cut", st.TruncatedTail)
		}
		closeT(t, s3)
	}
}

// TestCrashImageAllOps: a crash image without Close has every operation.
func TestCrashImageAllOps(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{Sync: SyncNo})
	defer s.Close()
	mustSet(t, s.DB(0), "a", "1", 0)
	mustSet(t, s.DB(0), "b", "2", 0)
	mustSet(t, s.DB(1), "c", "3", 0)
	s.DB(0).Delete([]byte("a"))
	s.DB(0).SetExpire([]byte("b"), 99)
	s.SwapDB(0, 1)
	id, _ := s.Put([]byte("id"))
	img := copyDir(t, dir)
	s2 := openT(t, img, Options{})
	defer closeT(t, s2)
	wantGet(t, s2.DB(1), "b", "2", 99)
	wantGet(t, s2.DB(0), "c", "3", 0)
	wantMissing(t, s2.DB(1), "a")
	if v, err := s2.Get(id); err != nil || string(v) != "id" {
		t.Fatalf("Get(%d) = %q, %v", id, v, err)
	}
}

// TestCorruptionInSealedSegment flips one byte of a non-last segment: Open
// must refuse with ErrCorrupt naming the file and the offset.
func TestCorruptionInSealedSegment(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 7))
	opts := Options{SegmentSize: 4096}
	for iter := range 10 {
		dir := t.TempDir()
		s := openT(t, dir, opts)
		for i := range 200 {
			mustSet(t, s.DB(0), fmt.Sprint(i), string(randBytes(r, 50)), 0)
		}
		closeT(t, s)
		seg := uint32(1 + r.IntN(3))
		path := filepath.Join(dir, segName(seg))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		off := segHeaderSize + r.IntN(len(data)-segHeaderSize)
		data[off] ^= 1 << r.IntN(8)
		os.WriteFile(path, data, 0o644)
		_, err = Open(dir, opts)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "offset ") {
			t.Fatalf("iter %d: flipped byte %d of %s: Open = %v, want ErrCorrupt naming the file and offset", iter, off, path, err)
		}
		t.Logf("iter %d: %v", iter, err)
	}
}

// TestCorruptionAfterCleanShutdown: the last segment of a cleanly closed
// store has no torn tail, so damage there is corruption, not a crash.
func TestCorruptionAfterCleanShutdown(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	for i := range 10 {
		mustSet(t, s.DB(0), fmt.Sprint(i), "value", 0)
	}
	closeT(t, s)
	path := filepath.Join(dir, segName(1))
	data, _ := os.ReadFile(path)
	data[segHeaderSize+50] ^= 0x40
	os.WriteFile(path, data, 0o644)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

func TestCorruptSegmentHeader(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	closeT(t, s)
	path := filepath.Join(dir, segName(1))
	data, _ := os.ReadFile(path)
	data[3] = 'X'
	os.WriteFile(path, data, 0o644)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("Open = %v, want ErrCorrupt about the magic", err)
	}
}

// TestPowerLossAfterRestart: a process is killed with records in the page
// cache only, restarted (Open recovers them and rewrites metadata.toon
// with their last sequence number), then the machine loses power. The
// recovered records must still be there, and a clean Close and another
// Open must work: Open makes the log it recovered durable before
// metadata.toon says how far it goes. (Without that, the power loss left
// the log short of metadata.toon's last_sequence; the next Open adopted
// that number, and after a clean Close the one after refused the log as
// corrupt.)
func TestPowerLossAfterRestart(t *testing.T) {
	opts := Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true}
	fs := NewMemFS()
	o := opts
	o.FS = fs
	s := openT(t, "/d", o)
	for i := range 20 {
		mustSet(t, s.DB(0), fmt.Sprint("k", i), "v", 0)
	}
	killed := fs.Kill()
	closeT(t, s)

	o.FS = killed
	r := openT(t, "/d", o)
	lost := killed.Crash(CrashOptions{}) // power loss: only synced bytes
	closeT(t, r)

	o.FS = lost
	r = openT(t, "/d", o)
	for i := range 20 {
		wantGet(t, r.DB(0), fmt.Sprint("k", i), "v", 0)
	}
	closeT(t, r)
	closeT(t, openT(t, "/d", o))
}
