package store

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// chain is the in-memory list of the operation records appended to one
// collection key since its image (see doc.go, "Collections"). A DB keeps
// its chains in DB.chains keyed by the image's location, which is what the
// key's slot points at; only keys with at least one operation have one.
//
// Mutated only by holders of Store.appendMu and the DB's write lock; read
// under the DB's read lock.
type chain struct {
	ops   opList // locations of the operation records, in log order (so ascending)
	bytes int64  // their padded record bytes
	// lastLoc and lastSeq: the sequence number of the record at lastLoc,
	// set by AppendOp, so that the next one need not read it (it is valid
	// while lastLoc is the last of ops; compaction moves the records).
	lastLoc, lastSeq uint64
}

// chainBytes returns the padded bytes of the operations chained to the
// image at loc (0 if none). The caller holds appendMu or a lock of d.
func (d *DB) chainBytes(loc uint64) int64 {
	if c := d.chains[loc]; c != nil {
		return c.bytes
	}
	return 0
}

// lastSeq returns the sequence number of the newest record of the entry
// at loc (its last operation, else the image itself), 0 if unreadable.
func (d *DB) lastSeq(ss segSet, loc uint64) uint64 {
	if c := d.chains[loc]; c != nil && c.ops.len() > 0 {
		loc = c.ops.at(c.ops.len() - 1)
		if loc == c.lastLoc {
			return c.lastSeq
		}
	}
	r := ss.record(loc)
	if r == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(r[offSeq:])
}

// AppendOp appends an operation record to the chain of key, an existing
// key whose live value has kind (a collection kind: KindHash, KindList,
// KindSet or KindZSet), without rewriting its image: the write costs
// O(len(key)+len(op)) whatever the size of the collection. op is opaque to
// the store (pkg/types encodes it) and copied into the log before AppendOp
// returns. The key's expiry is unchanged.
//
// It returns chainBytes, the disk bytes (padded records) of every
// operation appended since the image, this one included, so that the
// caller can decide to fold: Set of a new image of the same key starts an
// empty chain and makes the old image and operations dead (compaction
// reclaims them).
//
// Errors: ErrBadKind if kind is not a collection kind; ErrNotFound if key
// is absent (an expired but present key is there: the caller owns the
// clock); ErrWrongKind if its value has another kind (a string, another
// collection); ErrValueTooLarge, ErrNoSpace, ErrReadOnly, ErrClosed or I/O
// errors as for Set, which leave the chain unchanged.
//
// On disk the record is a kind 23..26 record (doc.go, "Collections")
// whose value is the sequence number of the previous record of the chain
// then op. After a crash the recovered chain is the image plus a prefix of
// the operations appended (everything a completed Sync covered, at least).
func (d *DB) AppendOp(key []byte, kind Kind, op []byte) (chainBytes int64, err error) {
	if !kind.IsCollection() {
		return 0, fmt.Errorf("%w: %d is not a collection kind", ErrBadKind, kind)
	}
	s := d.s
	if int64(len(op)) > s.opts.MaxValueSize {
		return 0, fmt.Errorf("%w: %d bytes (max %d)", ErrValueTooLarge, len(op), s.opts.MaxValueSize)
	}
	if err := s.checkSizes(key, nil); err != nil {
		return 0, err
	}
	h := d.hash(key)
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if s.merger != nil {
		if n, ok := s.mergeOpLocked(d, h, key, opKind(kind), op); ok {
			return n, nil
		}
	}
	ss := s.wview()
	t := d.t
	i := t.findRec(ss, h, key)
	if i < 0 {
		return 0, ErrNotFound
	}
	img := t.slots[i].loc
	r := ss.record(img)
	if r == nil {
		return 0, d.corrupt(img)
	}
	if Kind(r[offKind]) != kind {
		return 0, fmt.Errorf("%w: key holds kind %d, operation of kind %d", ErrWrongKind, r[offKind], kind)
	}
	var pre [opPrefixSize]byte
	binary.LittleEndian.PutUint64(pre[:], d.lastSeq(ss, img))
	loc, size, err := s.appendOpLocked(uint32(d.n), opKind(kind), key, pre[:], op)
	if err != nil {
		return 0, err
	}
	n, c := d.chainAdd(img, loc, size, s.seq)
	s.noteOpen(d, c, h, opKind(kind), loc)
	return n, nil
}

// chainAdd appends the operation record at loc (padded size bytes) to the
// chain of the image at img and returns the chain's bytes and the chain. The caller
// holds appendMu.
func (d *DB) chainAdd(img, loc uint64, size int64, seq uint64) (int64, *chain) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.chains[img]
	if c == nil {
		if d.chains == nil {
			d.chains = make(map[uint64]*chain)
		}
		c = &chain{}
		d.chains[img] = c
	}
	c.ops.push(loc, &d.spareBlocks)
	c.bytes += size
	c.lastLoc, c.lastSeq = loc, seq
	d.t.live += size
	return c.bytes, c
}

// appendOpLocked is appendLocked for an operation record, whose value is
// pre then op. The caller holds appendMu and has checked closed.
func (s *Store) appendOpLocked(db uint32, kind Kind, key, pre, op []byte) (loc uint64, size int64, err error) {
	if _, size = recordLen(len(key), len(pre)+len(op)); size > maxRecordLen {
		return 0, 0, ErrValueTooLarge
	}
	return s.appendEncoded(db, kind, 0, key, pre, op)
}

// GetChain reads a key and, for a collection, its chain: it calls fn with
// the image (the value last written by Set) and the operations appended
// since by AppendOp, oldest first (nil if none), and returns the key's
// kind and expiry. ok is false (and fn is not called) if key is absent.
// For a string (or a collection without operations) ops is empty.
//
// image and every ops[i] alias the mapping and follow Get's lifetime rules
// (valid until Close, or RetireGrace after a compaction replaced their
// segment; read-only). The ops slice itself is valid only during fn (it
// is reused). fn runs without any store lock held and may call the store.
// err is ErrClosed after Close, or ErrCorrupt for a malformed record.
//
// Readers of collections must use GetChain: Get returns only the image.
func (d *DB) GetChain(key []byte, fn func(image []byte, ops [][]byte)) (kind Kind, expireAt int64, ok bool, err error) {
	h := d.hash(key)
	bp := d.s.opsPool.Get().(*[][]byte)
	ops := (*bp)[:0]
	d.mu.RLock()
	if d.s.closed.Load() {
		d.mu.RUnlock()
		d.s.opsPool.Put(bp)
		return 0, 0, false, ErrClosed
	}
	ss := *d.s.segs.Load()
	i := d.t.findRec(ss, h, key)
	if i < 0 {
		d.mu.RUnlock()
		d.s.opsPool.Put(bp)
		return 0, 0, false, nil
	}
	sl := d.t.slots[i]
	r := ss.record(sl.loc)
	var bad uint64
	if c := d.chains[sl.loc]; c != nil {
	blocks:
		for _, b := range c.ops.blocks {
			for _, l := range b {
				or := ss.record(l)
				if or == nil || len(recValue(or)) < opPrefixSize {
					bad = l
					break blocks
				}
				ops = append(ops, recValue(or)[opPrefixSize:])
			}
		}
	}
	d.mu.RUnlock()
	if r == nil {
		bad = sl.loc
	}
	if bad != 0 {
		clear(ops)
		*bp = ops[:0]
		d.s.opsPool.Put(bp)
		return 0, 0, false, d.corrupt(bad)
	}
	if len(ops) == 0 {
		fn(recValue(r), nil)
	} else {
		fn(recValue(r), ops)
	}
	clear(ops) // drop the references to the mapping
	*bp = ops[:0]
	d.s.opsPool.Put(bp)
	return Kind(r[offKind]), sl.expireAt, true, nil
}

// applyOp replays the operation record at loc (recovery): it joins the
// chain of key if key holds an image of the record's collection kind and
// the record links to the newest record of that chain. Otherwise it is
// ignored (reported false): that happens only in a log that Check's Fix
// salvaged, where the record the link names was dropped.
func (d *DB) applyOp(h uint64, key []byte, kind Kind, value []byte, loc uint64, size int64, seq uint64) bool {
	ss := *d.s.segs.Load()
	i := d.t.findRec(ss, h, key)
	if i < 0 {
		return false
	}
	img := d.t.slots[i].loc
	r := ss.record(img)
	if r == nil || Kind(r[offKind]) != valueKindOf(kind) {
		return false
	}
	if binary.LittleEndian.Uint64(value) != d.lastSeq(ss, img) {
		return false
	}
	d.chainAdd(img, loc, size, seq)
	return true
}

// opIndex returns the position of the operation record at loc in the
// chain of the image at img, or -1. The caller holds a lock of d.
func (d *DB) opIndex(img, loc uint64) (*chain, int) {
	c := d.chains[img]
	if c == nil {
		return nil, -1
	}
	return c, c.ops.search(loc)
}

// SetImage is Set of a collection's new image (a fold) encoded straight
// into the log: fill appends the image to dst, an empty slice over the
// record's place in the active segment, and returns the result. Writing in
// place spares the fold a heap buffer of the image's size (its allocation,
// zeroing and a second copy), which for a collection of hundreds of MB was
// about half of the fold's cost.
//
// The place is sized from key's current entry, an image of kind and its
// chain: the image's bytes plus the operations' (an operation never grows
// the collection's image by more than its own encoding, as pkg/types
// encodes them). If key holds no image of kind, or the new image is longer
// after all (append reallocated), the image fill returned is written as Set
// would (the bytes written in place are cleared first).
//
// fill runs with the store's append lock held, so it must not call the
// store, and must only append to dst (it may not keep dst).
//
// It returns the image's length. kind must be a collection kind (else
// ErrBadKind); other errors are Set's. On error nothing is written and the
// key is unchanged.
func (d *DB) SetImage(key []byte, kind Kind, expireAt int64, fill func(dst []byte) []byte) (int, error) {
	if !kind.IsCollection() {
		return 0, fmt.Errorf("%w: %d is not a collection kind", ErrBadKind, kind)
	}
	s := d.s
	if err := s.checkSizes(key, nil); err != nil {
		return 0, err
	}
	h := d.hash(key)
	s.appendMu.Lock()
	if s.closed.Load() {
		s.appendMu.Unlock()
		return 0, ErrClosed
	}
	maxLen := d.imageBound(h, key, kind)
	if _, size := recordLen(len(key), maxLen); maxLen < 0 || int64(maxLen) > s.opts.MaxValueSize || size > maxRecordLen {
		s.appendMu.Unlock()
		img := fill(nil)
		if err := d.Set(key, kind, img, expireAt); err != nil {
			return 0, err
		}
		return len(img), nil
	}
	defer s.appendMu.Unlock()
	loc, size, n, img, err := s.appendFilledLocked(uint32(d.n), kind, expireAt, key, maxLen, fill)
	if err != nil {
		return 0, err
	}
	if img != nil { // did not fit in place
		if err := s.checkSizes(key, img); err != nil {
			return 0, err
		}
		if loc, size, err = s.appendLocked(uint32(d.n), kind, expireAt, key, img); err != nil {
			return 0, err
		}
		n = len(img)
	}
	d.putIndex(h, key, loc, expireAt, size)
	return n, nil
}

// imageBound returns a bound on the image of key folded with its chain,
// if key holds an image of kind: the image's bytes plus its operations'
// (each chained record's padded size less its header, key and link, so
// at most 7 bytes of padding over), plus slack for the element count's
// varint. -1 if key holds no image of kind. The caller holds appendMu.
func (d *DB) imageBound(h uint64, key []byte, kind Kind) int {
	ss := d.s.wview()
	i := d.t.findRec(ss, h, key)
	if i < 0 {
		return -1
	}
	img := d.t.slots[i].loc
	r := ss.record(img)
	if r == nil || Kind(r[offKind]) != kind {
		return -1
	}
	n := int64(len(recValue(r))) + 16
	if c := d.chains[img]; c != nil {
		n += c.bytes - int64(c.ops.len())*int64(recHeaderSize+len(key)+opPrefixSize)
	}
	return int(n)
}

// appendFilledLocked is appendEncoded for a value that fill writes in
// place, at most maxLen bytes. If fill's result did not fit (it is not the
// slice handed to fill), nothing is appended, the place is cleared again
// and img is that result, for the caller to append as usual. The caller
// holds appendMu, has checked closed and that a record of maxLen bytes of
// value is acceptable.
func (s *Store) appendFilledLocked(db uint32, kind Kind, expireAt int64, key []byte, maxLen int, fill func(dst []byte) []byte) (loc uint64, size int64, n int, img []byte, err error) {
	if f := s.failure.Load(); f != nil {
		return 0, 0, 0, nil, f.ro
	}
	_, most := recordLen(len(key), maxLen)
	if s.woff+most > int64(len(s.active.data)) {
		if err := s.rotateLocked(most); err != nil {
			return 0, 0, 0, nil, err
		}
	}
	g := s.active
	rec := s.reserveLocked(g, most)
	vo := recHeaderSize + len(key)
	dst := rec[vo:vo:min(vo+maxLen, len(rec))]
	val := fill(dst)
	if len(val) > 0 && unsafe.SliceData(val) != unsafe.SliceData(dst) {
		// append reallocated: the image is longer than maxLen. Nothing
		// was appended; the buffer's bytes past the log's end are never
		// flushed.
		return 0, 0, 0, val, nil
	}
	n = len(val)
	_, size = recordLen(len(key), n)
	s.seq++
	sealRecord(rec[:size], recHeader{seq: s.seq, db: db, kind: kind, expireAt: expireAt}, key, n)
	loc, err = s.appendedLocked(g, size)
	return loc, size, n, nil, err
}
