package store

import (
	"encoding/binary"
	"hash/crc32"
)

// Record layout (little endian), recHeaderSize bytes of header then the key
// and the value, padded with zeros to a multiple of recAlign:
//
//	off size field
//	  0    4 crc      CRC32C (Castagnoli) of bytes [4, length)
//	  4    4 length   header + key + value, without padding; 0 = end of data
//	  8    8 seq      sequence number, strictly increasing over the whole log
//	 16    4 db       database number (value and keyed op records)
//	 20    1 kind     Kind: value kinds 1..15, operations 16..
//	 21    3 reserved zero
//	 24    8 expireAt absolute Unix ms, 0 = none (value and expire records)
//	 32    4 klen     key length
//	 36    4 vlen     value length
//	 40      key, value, zero padding
const (
	recHeaderSize = 40
	recAlign      = 8

	offCRC    = 0
	offLength = 4
	offSeq    = 8
	offDB     = 16
	offKind   = 20
	offExpire = 24
	offKLen   = 32
	offVLen   = 36
)

// Operation kinds (the record's kind byte, >= 16). Never reuse a value:
// they are on disk.
const (
	kindDelete   Kind = 16 // db, key: remove key
	kindExpire   Kind = 17 // db, key, expireAt: change the expiry of key
	kindFlushDB  Kind = 18 // db: remove every key of db
	kindFlushAll Kind = 19 // remove every key of every db (not the ids)
	kindSwapDB   Kind = 20 // db = a, value = b as u32: swap two databases
	kindIDPut    Kind = 21 // key = id (u64 big endian), value
	kindIDDelete Kind = 22 // key = id (u64 big endian)
	// Collection operation records (chain.go), one per collection value
	// kind: db, key, value = prevSeq u64 (little endian: the sequence
	// number of the previous record of the key's chain, its image or
	// the previous operation) then the operation (opaque bytes of
	// pkg/types). expireAt is 0: the expiry is the image's (and expire
	// records').
	kindOpHash Kind = 23
	kindOpList Kind = 24
	kindOpSet  Kind = 25
	kindOpZSet Kind = 26

	maxValueKind Kind = 15
	maxOpKind         = kindOpZSet

	opPrefixSize = 8 // prevSeq at the start of an operation record's value
)

// IsCollection reports whether k is a collection value kind (hash, list,
// set, zset): one that AppendOp accepts.
func (k Kind) IsCollection() bool { return k >= KindHash && k <= KindZSet }

// opKind returns the operation record kind of collection kind k.
func opKind(k Kind) Kind { return k - KindHash + kindOpHash }

// isChainOp reports whether k is a collection operation record kind.
func (k Kind) isChainOp() bool { return k >= kindOpHash && k <= kindOpZSet }

// valueKindOf returns the collection kind of operation record kind k.
func valueKindOf(k Kind) Kind { return k - kindOpHash + KindHash }

// IsValue reports whether k is a value kind (1..15) rather than an operation.
func (k Kind) IsValue() bool { return k >= 1 && k <= maxValueKind }

// recHeader is the decoded fixed part of a record.
type recHeader struct {
	length   uint32
	seq      uint64
	db       uint32
	kind     Kind
	expireAt int64
	klen     uint32
	vlen     uint32
}

// padded returns n rounded up to recAlign.
func padded(n int64) int64 { return (n + recAlign - 1) &^ (recAlign - 1) }

// recordLen returns the unpadded and padded length of a record with a key of
// k bytes and a value of v bytes.
func recordLen(k, v int) (n, p int64) {
	n = recHeaderSize + int64(k) + int64(v)
	return n, padded(n)
}

// crc32c returns the CRC32C of b. crc32.MakeTable caches the Castagnoli
// table itself (and uses the SSE4.2 instruction where present).
func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// encodeRecord writes a record into dst, which must be exactly
// padded(recordLen) bytes long.
func encodeRecord(dst []byte, h recHeader, key, value []byte) {
	encodeRecord2(dst, h, key, nil, value)
}

// encodeRecord2 is encodeRecord with the value given in two pieces, pre
// then value (an operation record's link and operation), not copied
// together first.
func encodeRecord2(dst []byte, h recHeader, key, pre, value []byte) {
	copy(dst[recHeaderSize+len(key):], pre)
	copy(dst[recHeaderSize+len(key)+len(pre):], value)
	sealRecord(dst, h, key, len(pre)+len(value))
}

// sealRecord finishes a record whose value (vlen bytes) is already in
// place in dst, which is at least the record's padded size: it writes the
// header, the key, the zero padding up to len(dst) and the checksum.
func sealRecord(dst []byte, h recHeader, key []byte, vlen int) {
	n := putHead(dst, h, key, vlen)
	clear(dst[n:])
	binary.LittleEndian.PutUint32(dst[offCRC:], crc32c(dst[offLength:n]))
}

// putHead writes a record's header (all but the checksum) and key into
// dst and returns the record's unpadded length.
func putHead(dst []byte, h recHeader, key []byte, vlen int) int {
	le := binary.LittleEndian
	n := recHeaderSize + len(key) + vlen
	le.PutUint32(dst[offLength:], uint32(n))
	le.PutUint64(dst[offSeq:], h.seq)
	le.PutUint32(dst[offDB:], h.db)
	dst[offKind] = byte(h.kind)
	dst[offKind+1], dst[offKind+2], dst[offKind+3] = 0, 0, 0
	le.PutUint64(dst[offExpire:], uint64(h.expireAt))
	le.PutUint32(dst[offKLen:], uint32(len(key)))
	le.PutUint32(dst[offVLen:], uint32(vlen))
	copy(dst[recHeaderSize:], key)
	return n
}

// decodeStatus is the outcome of decodeRecord.
type decodeStatus uint8

const (
	recOK      decodeStatus = iota
	recEnd                  // zero length and CRC: end of written data
	recInvalid              // anything else: torn or corrupt
)

// decodeRecord parses and verifies the record at the start of b (the rest
// of a segment). On recOK it returns the header, key and value (aliasing b)
// and the padded length. On recInvalid, why says what is wrong.
func decodeRecord(b []byte) (h recHeader, key, value []byte, size int64, st decodeStatus, why string) {
	le := binary.LittleEndian
	if len(b) < 8 {
		if allZero(b) {
			return h, nil, nil, 0, recEnd, ""
		}
		return h, nil, nil, 0, recInvalid, "truncated record header"
	}
	crc, length := le.Uint32(b[offCRC:]), le.Uint32(b[offLength:])
	if length == 0 {
		if crc == 0 {
			return h, nil, nil, 0, recEnd, ""
		}
		return h, nil, nil, 0, recInvalid, "zero length with a non-zero checksum"
	}
	if length < recHeaderSize || int64(length) > int64(len(b)) {
		return h, nil, nil, 0, recInvalid, "impossible record length"
	}
	size = padded(int64(length))
	if size > int64(len(b)) {
		return h, nil, nil, 0, recInvalid, "record padding past the end of the segment"
	}
	if got := crc32c(b[offLength:length]); got != crc {
		return h, nil, nil, 0, recInvalid, "checksum mismatch"
	}
	if !allZero(b[length:size]) {
		return h, nil, nil, 0, recInvalid, "non-zero record padding"
	}
	h = recHeader{
		length:   length,
		seq:      le.Uint64(b[offSeq:]),
		db:       le.Uint32(b[offDB:]),
		kind:     Kind(b[offKind]),
		expireAt: int64(le.Uint64(b[offExpire:])),
		klen:     le.Uint32(b[offKLen:]),
		vlen:     le.Uint32(b[offVLen:]),
	}
	if uint64(recHeaderSize)+uint64(h.klen)+uint64(h.vlen) != uint64(length) {
		return h, nil, nil, 0, recInvalid, "key and value lengths disagree with the record length"
	}
	if b[offKind+1]|b[offKind+2]|b[offKind+3] != 0 {
		return h, nil, nil, 0, recInvalid, "non-zero reserved header bytes"
	}
	if h.kind == 0 || h.kind > maxOpKind {
		return h, nil, nil, 0, recInvalid, "unknown record kind"
	}
	if h.kind.isChainOp() && h.vlen < opPrefixSize {
		return h, nil, nil, 0, recInvalid, "operation record without its link"
	}
	key = b[recHeaderSize : recHeaderSize+h.klen]
	value = b[recHeaderSize+h.klen : length]
	return h, key, value, size, recOK, ""
}

// allZero reports whether every byte of b is zero.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// lastNonZero returns the index of the last non-zero byte of b, or -1.
func lastNonZero(b []byte) int {
	i := len(b)
	for i >= 8 && binary.LittleEndian.Uint64(b[i-8:]) == 0 {
		i -= 8
	}
	for i > 0 && b[i-1] == 0 {
		i--
	}
	return i - 1
}
