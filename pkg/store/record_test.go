package store

import (
	"bytes"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	cases := []struct {
		name       string
		h          recHeader
		key, value []byte
	}{
		{"empty", recHeader{seq: 1, kind: KindString}, nil, nil},
		{"aligned", recHeader{seq: 2, db: 3, kind: KindSet, expireAt: -5}, []byte("12345678"), nil},
		{"padded", recHeader{seq: 1 << 60, db: 1 << 31, kind: kindSwapDB, expireAt: 1 << 62}, []byte("k"), []byte("\x00\r\n")},
		{"operation", recHeader{seq: 9, db: 2, kind: kindOpZSet}, []byte("z"), []byte("\x08\x00\x00\x00\x00\x00\x00\x00op")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, size := recordLen(len(c.key), len(c.value))
			buf := bytes.Repeat([]byte{0xAA}, int(size)+16) // garbage after the record
			encodeRecord(buf[:size], c.h, c.key, c.value)
			h, k, v, n, st, why := decodeRecord(buf)
			if st != recOK || n != size || !bytes.Equal(k, c.key) || !bytes.Equal(v, c.value) {
				t.Fatalf("decode = %v %q %q %d %q", st, k, v, n, why)
			}
			c.h.length = uint32(recHeaderSize + len(c.key) + len(c.value))
			c.h.klen, c.h.vlen = uint32(len(c.key)), uint32(len(c.value))
			if h != c.h {
				t.Fatalf("header %+v, want %+v", h, c.h)
			}
			// Every single-bit flip anywhere in the record, padding
			// included, makes it invalid (never a different valid record,
			// never the end marker).
			for i := range int(size) {
				for bit := range 8 {
					buf[i] ^= 1 << bit
					if _, _, _, _, st, _ := decodeRecord(buf[:size]); st != recInvalid {
						t.Fatalf("flip of bit %d of byte %d: status %d, want invalid", bit, i, st)
					}
					buf[i] ^= 1 << bit
				}
			}
		})
	}
}

// TestDecodeOpWithoutLink: an operation record needs its 8-byte link.
func TestDecodeOpWithoutLink(t *testing.T) {
	for _, k := range []Kind{kindOpHash, kindOpList, kindOpSet, kindOpZSet} {
		_, size := recordLen(1, 7)
		buf := make([]byte, size)
		encodeRecord(buf, recHeader{seq: 1, kind: k}, []byte("k"), make([]byte, 7))
		if _, _, _, _, st, why := decodeRecord(buf); st != recInvalid || why != "operation record without its link" {
			t.Fatalf("kind %d: status %d %q, want invalid", k, st, why)
		}
	}
	if _, _, _, _, st, _ := decodeRecord(func() []byte {
		_, size := recordLen(1, 0)
		buf := make([]byte, size)
		encodeRecord(buf, recHeader{seq: 1, kind: maxOpKind + 1}, []byte("k"), nil)
		return buf
	}()); st != recInvalid {
		t.Fatalf("kind %d accepted", maxOpKind+1)
	}
}

func TestDecodeEnd(t *testing.T) {
	for _, n := range []int{0, 3, 8, 40, 100} {
		if _, _, _, _, st, _ := decodeRecord(make([]byte, n)); st != recEnd {
			t.Fatalf("%d zero bytes: status %d, want end", n, st)
		}
	}
	if _, _, _, _, st, _ := decodeRecord([]byte{0, 0, 1}); st != recInvalid {
		t.Fatalf("short non-zero tail: status %d, want invalid", st)
	}
}

func TestLastNonZero(t *testing.T) {
	cases := []struct {
		b    []byte
		want int
	}{
		{nil, -1},
		{make([]byte, 20), -1},
		{[]byte{1}, 0},
		{append(make([]byte, 17), 5, 0, 0), 17},
		{append([]byte{9}, make([]byte, 30)...), 0},
	}
	for _, c := range cases {
		if got := lastNonZero(c.b); got != c.want {
			t.Fatalf("lastNonZero(%v) = %d, want %d", c.b, got, c.want)
		}
	}
}

func TestParseMetadata(t *testing.T) {
	m := &metadata{formatVersion: 1, cleanShutdown: true, lastSequence: 42, nextID: 7, segmentSize: 4096, databases: 16,
		segments: []metaSegment{{1, 4096}, {2, 8192}}}
	got, err := parseMetadata(m.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.lastSequence != 42 || got.nextID != 7 || !got.cleanShutdown || len(got.segments) != 2 || got.segments[1] != (metaSegment{2, 8192}) {
		t.Fatalf("round trip = %+v", got)
	}
	bad := []string{
		"format_version: x\n",
		"segments[2]{id,size}:\n  1,2\n",
		"no colon here\n",
		"clean_shutdown: false\n", // no format_version
		"format_version: 1\nsegments[1]{id,size}:\n  1\n",
	}
	for _, b := range bad {
		if _, err := parseMetadata([]byte(b)); err == nil {
			t.Fatalf("parseMetadata(%q) accepted it", b)
		}
	}
}
