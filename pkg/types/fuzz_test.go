package types

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for every decoder: DecodeX must return a value or an error
// wrapping ErrCorrupt, never panic; a decoded value must re-encode to an
// image that decodes to the same image (the round-trip oracle); Apply
// must either succeed, leaving a value that round-trips, or fail with
// ErrCorrupt leaving the value unchanged.

type codec[T any] struct {
	decode func([]byte) (T, error)
	empty  func() T
	image  func(T) []byte
	apply  func(T, []byte) error
	check  func(*testing.T, T)
	size   func(T) int                   // ImageSize
	to     func(T, []byte, Spill) []byte // AppendImageTo
}

var (
	hashCodec = codec[*Hash]{DecodeHash, func() *Hash { return new(Hash) }, func(h *Hash) []byte { return h.AppendImage(nil) }, (*Hash).Apply, nil, (*Hash).ImageSize, (*Hash).AppendImageTo}
	setCodec  = codec[*Set]{DecodeSet, func() *Set { return new(Set) }, func(s *Set) []byte { return s.AppendImage(nil) }, (*Set).Apply, nil, (*Set).ImageSize, (*Set).AppendImageTo}
	listCodec = codec[*List]{DecodeList, func() *List { return new(List) }, func(l *List) []byte { return l.AppendImage(nil) }, (*List).Apply, checkChunks, (*List).ImageSize, (*List).AppendImageTo}
	zsetCodec = codec[*ZSet]{DecodeZSet, func() *ZSet { return new(ZSet) }, func(z *ZSet) []byte { return z.AppendImage(nil) }, (*ZSet).Apply, checkZTree, (*ZSet).ImageSize, (*ZSet).AppendImageTo}
)

func fuzzDecode[T any](t *testing.T, c codec[T], image []byte) {
	v, err := c.decode(image)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
		}
		return
	}
	roundTrip(t, c, v)
}

func roundTrip[T any](t *testing.T, c codec[T], v T) {
	t.Helper()
	if c.check != nil {
		c.check(t, v)
	}
	enc := c.image(v)
	if n := c.size(v); n != len(enc) {
		t.Fatalf("ImageSize %d, image of %d bytes", n, len(enc))
	}
	// In pieces (AppendImageTo), into buffers smaller and larger than
	// the elements: the pieces make up the same image.
	for _, bufSize := range []int{1, 8, 64, 4096} {
		var got []byte
		spills := 0
		spill := func(p []byte) []byte {
			spills++
			if len(p) < bufSize/2 {
				t.Fatalf("a piece of %d bytes from a buffer of %d", len(p), bufSize)
			}
			got = append(got, p...)
			return make([]byte, 0, bufSize)
		}
		got = append(got, c.to(v, make([]byte, 0, bufSize), spill)...)
		if !bytes.Equal(got, enc) {
			t.Fatalf("image in pieces of buffers of %d bytes differs:\n%x\n%x", bufSize, got, enc)
		}
		if bufSize == 1 && len(enc) > 3 && spills == 0 { // 3: an empty collection's image
			t.Fatalf("%d bytes of elements, not one handed to spill", len(enc)-3)
		}
	}
	v2, err := c.decode(enc)
	if err != nil {
		t.Fatalf("re-encoded image does not decode: %v", err)
	}
	if enc2 := c.image(v2); !bytes.Equal(enc, enc2) {
		t.Fatalf("image round trip differs:\n%x\n%x", enc, enc2)
	}
}

func fuzzApply[T any](t *testing.T, c codec[T], image, op []byte) {
	v, err := c.decode(image)
	if err != nil {
		v = c.empty()
	}
	before := c.image(v)
	if err := c.apply(v, op); err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("apply error %v does not wrap ErrCorrupt", err)
		}
		if !bytes.Equal(before, c.image(v)) {
			t.Fatal("a failed Apply changed the value")
		}
		return
	}
	roundTrip(t, c, v)
}

// seeds returns valid images and operation records of every kind.
func seeds() (images, ops [][]byte) {
	var h Hash
	h.Set([]byte("f"), []byte("v"))
	h.Set([]byte(""), []byte("\x00\xff"))
	var s Set
	s.Add([]byte("a"))
	s.Add([]byte("bb"))
	var l List
	l.PushRight([]byte("x"), []byte("y"), []byte(""), bytes.Repeat([]byte("z"), 300))
	var z ZSet
	z.Add([]byte("m"), 1.5)
	z.Add([]byte("n"), math.Inf(-1))
	z.Add([]byte("o"), math.Copysign(0, -1))
	images = [][]byte{h.AppendImage(nil), s.AppendImage(nil), l.AppendImage(nil), z.AppendImage(nil),
		new(Hash).AppendImage(nil), new(List).AppendImage(nil)}
	ops = [][]byte{
		AppendOpHashSet(nil, []byte("f"), []byte("w"), []byte("g"), []byte("x")),
		AppendOpHashDelete(nil, []byte("f"), []byte("nope")),
		AppendOpSetAdd(nil, []byte("c")),
		AppendOpSetRemove(nil, []byte("a")),
		AppendOpListPush(nil, true, []byte("h1"), []byte("h2")),
		AppendOpListPush(nil, false, []byte("t")),
		AppendOpListPop(nil, true, 2),
		AppendOpListPop(nil, false, 1),
		AppendOpListSet(nil, 1, []byte("s")),
		AppendOpListInsert(nil, 2, []byte("i")),
		AppendOpListRemove(nil, -1, []byte("x")),
		AppendOpListTrim(nil, 1, 1),
		AppendZAddItem(AppendZAddItem(AppendOpZAdd(nil), 2, []byte("m")), math.Inf(1), []byte("p")),
		AppendOpZRemove(nil, []byte("n")),
		AppendOpZRemoveRanks(nil, 0, 1),
	}
	return images, ops
}

func addSeeds(f *testing.F, withOp bool) {
	images, ops := seeds()
	for _, img := range images {
		if !withOp {
			f.Add(img)
			continue
		}
		for _, op := range ops {
			f.Add(img, op)
		}
	}
}

func FuzzDecodeHash(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, image []byte) { fuzzDecode(t, hashCodec, image) })
}

func FuzzDecodeSet(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, image []byte) { fuzzDecode(t, setCodec, image) })
}

func FuzzDecodeList(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, image []byte) { fuzzDecode(t, listCodec, image) })
}

func FuzzDecodeZSet(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, image []byte) { fuzzDecode(t, zsetCodec, image) })
}

func FuzzHashApply(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, image, op []byte) { fuzzApply(t, hashCodec, image, op) })
}

func FuzzSetApply(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, image, op []byte) { fuzzApply(t, setCodec, image, op) })
}

func FuzzListApply(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, image, op []byte) { fuzzApply(t, listCodec, image, op) })
}

func FuzzZSetApply(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, image, op []byte) { fuzzApply(t, zsetCodec, image, op) })
}

func FuzzParseRanges(f *testing.F) {
	f.Add([]byte("(1.5"), []byte("+inf"))
	f.Add([]byte("[a"), []byte("-"))
	f.Add([]byte("0x1p-2"), []byte("\x00"))
	f.Fuzz(func(t *testing.T, min, max []byte) {
		if sr, err := ParseScoreRange(min, max); err == nil {
			if math.IsNaN(sr.Min) || math.IsNaN(sr.Max) {
				t.Fatalf("NaN accepted: %+v", sr)
			}
		} else if !errors.Is(err, ErrScoreRange) {
			t.Fatalf("score range error %v", err)
		}
		if lr, err := ParseLexRange(min, max); err == nil {
			if lr.Min.Inf == 0 && lr.Min.Value != string(min[1:]) {
				t.Fatalf("lex min %q from %q", lr.Min.Value, min)
			}
		} else if !errors.Is(err, ErrLexRange) {
			t.Fatalf("lex range error %v", err)
		}
	})
}

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the seed corpora in testdata/fuzz from seeds()")

// TestWriteCorpus regenerates testdata/fuzz (go test -run TestWriteCorpus
// -write-corpus) after a format change; otherwise it checks that the
// committed corpus still holds seeds of every kind.
func TestWriteCorpus(t *testing.T) {
	images, ops := seeds()
	targets := map[string]int{"FuzzDecodeHash": 0, "FuzzDecodeSet": 1, "FuzzDecodeList": 2, "FuzzDecodeZSet": 3,
		"FuzzHashApply": 0, "FuzzSetApply": 1, "FuzzListApply": 2, "FuzzZSetApply": 3}
	rangeSeeds := [][2]string{{"(1.5", "+inf"}, {"[a", "-"}, {"0x1p-2", "\x00"}, {" 1e500", "(nan"}, {"+\x00z", "(a\x00b"}}
	rdir := filepath.Join("testdata", "fuzz", "FuzzParseRanges")
	if *writeCorpus {
		requireNoErr(t, os.MkdirAll(rdir, 0o755), "mkdir")
		for i, p := range rangeSeeds {
			write(t, filepath.Join(rdir, fmt.Sprintf("range%d", i)), []byte(p[0]), []byte(p[1]))
		}
	} else if entries, err := os.ReadDir(rdir); err != nil || len(entries) == 0 {
		t.Errorf("%s: no seed corpus (%v); run with -write-corpus", rdir, err)
	}
	for target, img := range targets {
		dir := filepath.Join("testdata", "fuzz", target)
		if !*writeCorpus {
			if entries, err := os.ReadDir(dir); err != nil || len(entries) == 0 {
				t.Errorf("%s: no seed corpus (%v); run with -write-corpus", dir, err)
			}
			continue
		}
		requireNoErr(t, os.MkdirAll(dir, 0o755), "mkdir")
		if target[:len("FuzzDecode")] == "FuzzDecode" {
			for i, b := range images {
				write(t, filepath.Join(dir, fmt.Sprintf("image%d", i)), b)
			}
			write(t, filepath.Join(dir, "truncated"), images[img][:len(images[img])-1])
			continue
		}
		for i, op := range ops {
			write(t, filepath.Join(dir, fmt.Sprintf("op%02d", i)), images[img], op)
		}
	}
}

func write(t *testing.T, path string, args ...[]byte) {
	t.Helper()
	s := "go test fuzz v1\n"
	for _, a := range args {
		s += fmt.Sprintf("[]byte(%q)\n", a)
	}
	requireNoErr(t, os.WriteFile(path, []byte(s), 0o644), "write corpus")
}
