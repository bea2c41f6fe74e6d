package types

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Kind identifies the type of a collection in images and operation
// records: it is the first byte of both.
type Kind byte

// The kinds of collection. The values are part of the on-disk format.
const (
	KindHash Kind = 1
	KindList Kind = 2
	KindSet  Kind = 3
	KindZSet Kind = 4
)

// String returns Redis's TYPE name for the kind ("hash", "list", "set",
// "zset"), or "unknown".
func (k Kind) String() string {
	switch k {
	case KindHash:
		return "hash"
	case KindList:
		return "list"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	}
	return "unknown"
}

// formatVersion is the version byte of every image and operation record
// this package writes. Decoders reject any other version with ErrCorrupt.
const formatVersion = 1

// PeekKind returns the kind of an image or operation record without
// decoding it. It returns an error wrapping ErrCorrupt if b is too short,
// of an unknown kind or of an unknown version.
func PeekKind(b []byte) (Kind, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: header truncated", ErrCorrupt)
	}
	k := Kind(b[0])
	if k < KindHash || k > KindZSet {
		return 0, fmt.Errorf("%w: unknown kind %d", ErrCorrupt, b[0])
	}
	if b[1] != formatVersion {
		return 0, fmt.Errorf("%w: unknown version %d", ErrCorrupt, b[1])
	}
	return k, nil
}

// appendHeader starts an image or an operation record.
func appendHeader(dst []byte, k Kind) []byte {
	return append(dst, byte(k), formatVersion)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// reader decodes the primitives of the format. The first failure sticks
// in err; later calls return zero values, so decoders check err once per
// element or at the end.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at offset %d", ErrCorrupt, what, r.off)
	}
}

// header checks the kind and version and returns the next byte when op is
// set (the opcode of an operation record).
func (r *reader) header(k Kind, op bool) byte {
	got, err := PeekKind(r.b)
	if err != nil {
		r.err = err
		return 0
	}
	if got != k {
		r.err = fmt.Errorf("%w: %s record where %s expected", ErrCorrupt, got, k)
		return 0
	}
	r.off = 2
	if !op {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("opcode missing")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// count reads an element count and checks it against the bytes left,
// given that every element takes at least minSize bytes, so a corrupt
// count never makes a decoder allocate more than the input justifies.
func (r *reader) count(minSize int) int {
	v := r.uvarint()
	if r.err != nil {
		return 0
	}
	if v > uint64(len(r.b)-r.off)/uint64(minSize) {
		r.fail("count exceeds the record")
		return 0
	}
	return int(v)
}

// index reads a non-negative index that must be below limit.
func (r *reader) index(limit int) int {
	v := r.uvarint()
	if r.err != nil {
		return 0
	}
	if v >= uint64(limit) {
		r.fail("index out of range")
		return 0
	}
	return int(v)
}

// bytes reads a length-prefixed byte string, aliasing the input.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("string exceeds the record")
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

// span reads a length-prefixed byte string and returns its bounds.
func (r *reader) span() (lo, hi int) {
	b := r.bytes()
	if r.err != nil {
		return 0, 0
	}
	return r.off - len(b), r.off
}

// score reads a float64 and rejects NaN.
func (r *reader) score() float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 8 {
		r.fail("score truncated")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:]))
	if math.IsNaN(f) {
		r.fail("NaN score")
		return 0
	}
	r.off += 8
	return f
}

// end returns the sticky error, or ErrCorrupt if bytes are left over.
func (r *reader) end() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("trailing bytes")
	}
	return r.err
}
