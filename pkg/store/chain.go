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

// SetImage is Set of a collection's new image (a fold) of exactly n bytes,
// which fill encodes straight into the log: it appends the image to dst
// and returns the result. An image whose record takes up to imageChunk
// bytes (1 MiB) is encoded into the write buffer, as any record is (spill
// is nil then). A larger one is streamed: fill gets an empty buffer of
// imageChunk bytes and hands its pieces to spill (types.Spill: spill
// writes them to the log file and returns the buffer emptied), and the
// record's header is written last, once the checksum is known. A fold of a collection of
// hundreds of MB thus takes no heap buffer of the image's size: that
// buffer's first touch (the kernel zeroing fresh pages) was half of the
// fold's time, and the buffer itself as large as the collection
// (perf/results/hotpath.md, "Folds streamed to the log").
//
// fill runs with the store's append lock held, so it must not call the
// store, and must only append to dst (it may not keep dst or a slice it
// spilled).
//
// kind must be a collection kind (else ErrBadKind); an image that is not n
// bytes is ErrImageSize (a caller bug: nothing is written, the bytes a
// stream wrote are cleared); other errors are Set's. On error the key is
// unchanged.
func (d *DB) SetImage(key []byte, kind Kind, expireAt int64, n int, fill func(dst []byte, spill func([]byte) []byte) []byte) error {
	if !kind.IsCollection() {
		return fmt.Errorf("%w: %d is not a collection kind", ErrBadKind, kind)
	}
	s := d.s
	if n < 0 || int64(n) > s.opts.MaxValueSize {
		return fmt.Errorf("%w: %d bytes (max %d)", ErrValueTooLarge, n, s.opts.MaxValueSize)
	}
	if err := s.checkSizes(key, nil); err != nil {
		return err
	}
	_, size := recordLen(len(key), n)
	if size > maxRecordLen {
		return ErrValueTooLarge
	}
	h := d.hash(key)
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if f := s.failure.Load(); f != nil {
		return f.ro
	}
	if s.woff+size > int64(len(s.active.data)) {
		if err := s.rotateLocked(size); err != nil {
			return err
		}
	}
	hd := recHeader{db: uint32(d.n), kind: kind, expireAt: expireAt}
	var loc uint64
	var err error
	if size <= int64(s.opts.imageChunk) {
		g := s.active
		rec := s.reserveLocked(g, size)
		vo := recHeaderSize + len(key)
		dst := rec[vo : vo : vo+n]
		if val := fill(dst, nil); len(val) != n || n > 0 && unsafe.SliceData(val) != unsafe.SliceData(dst) {
			return fmt.Errorf("%w: %d bytes, not %d", ErrImageSize, len(val), n)
		}
		s.seq++
		hd.seq = s.seq
		sealRecord(rec[:size], hd, key, n)
		loc, err = s.appendedLocked(g, size)
	} else {
		loc, err = s.streamLocked(hd, key, n, size, fill)
	}
	if err != nil {
		return err
	}
	d.putIndex(h, key, loc, expireAt, size)
	return nil
}
