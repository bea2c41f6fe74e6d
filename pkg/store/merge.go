package store

import (
	"bytes"
	"encoding/binary"
)

// Merging operation records.
//
// A pipeline of commands on one collection (LPUSH after LPUSH onto one
// list, SADD after SADD into one set) appends one operation record per
// command, each with its own header, checksum, chain entry, and later
// compaction pass. With an OpMerger set (SetOpMerger) and buffered writes,
// AppendOp instead grows the previous operation record in place when that
// record is the last one in the log, still in the write buffer (not yet
// flushed), of the same key and database, and the merger says the two
// operations can be one. Nothing else can have come between them (any
// other record would be the last one), and no reader of the file or the
// mapping has seen the record yet: after a crash it is lost whole, as an
// unflushed record always was, or it was flushed whole.
//
// The grown record's checksum is computed once, when it closes (sealOpen):
// before the buffer is flushed, before any other record is appended, and
// when a snapshot or a compaction's switch takes the log's state. Readers
// that copy a record out of the buffer do not verify checksums (Open,
// compaction and Check read the file, which only ever gets sealed records).

// OpMerger combines two operation records of one collection: it reports
// whether applying next right after prev is the same as applying one
// record prev[:keep] followed by tail, and builds tail (in scratch, which
// it may grow, or aliasing next). See SetOpMerger.
type OpMerger func(scratch, prev, next []byte) (keep int, tail []byte, ok bool)

// mergeMaxRecord is the largest operation record merging builds (padded
// bytes): a record a reader rebuilds a collection from is applied whole,
// and the write buffer must hold it.
const mergeMaxRecord = 64 << 10

// openOp is the operation record merges may still grow: the last record
// appended, in the write buffer, so it ends at the log's end (Store.woff).
// The zero value is none. Guarded by appendMu.
type openOp struct {
	d    *DB
	c    *chain // its chain (the record is the chain's last operation)
	hash uint64 // of its key
	kind Kind   // its record kind (an operation kind)
	off  int64  // its offset in the active segment
	// grown is what merges added to the record and merges how many
	// there were (not 0: the record changed since its checksum was
	// written), not yet counted in c.bytes and the table's live bytes
	// (under DB.mu), Store.unflushed and mergedOps (atomics; writes
	// counts each merge at once: INFO's rdb_changes_since_last_save
	// after a pipeline's writes must count every one, as Redis's does):
	// sealOpen adds them once per record instead of once per merge (the
	// lock and the atomics per command cost a tenth of the throughput of
	// LPUSH at pipeline 16). Everything that reads the byte counts for
	// more than statistics seals first (a snapshot's capture, a
	// compaction's switch, a flush, any other record); a merge happens
	// only while the open record is unflushed, so Store.unflushed is not
	// 0 meanwhile. Only the appendMu holder reads c.bytes outside DB.mu,
	// and only holders of appendMu write it.
	grown  int64
	merges uint64
}

// SetOpMerger lets AppendOp merge an operation into the previous record
// of the same key when m says they combine (see merge.go); nil (the
// default) appends every operation as a record of its own. It matters only
// with Options.BufferWrites (without it every record is flushed at once).
// The store treats operations as opaque: m must be right for every
// collection operation its callers append.
func (s *Store) SetOpMerger(m OpMerger) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.sealOpen()
	s.merger = m
	if s.mergeScratch == nil {
		s.mergeScratch = make([]byte, 0, 32) // room for a merged count or range
	}
}

// noteOpen records the operation record just appended at loc (of chain c,
// key hash h, record kind kind) as open for merges, if merging is on. The
// caller holds appendMu.
func (s *Store) noteOpen(d *DB, c *chain, h uint64, kind Kind, loc uint64) {
	if s.merger == nil || !s.opts.BufferWrites || c == nil {
		return
	}
	s.open = openOp{d: d, c: c, hash: h, kind: kind, off: locOff(loc)}
}

// sealOpen closes the open operation record: it writes the checksum of a
// record merges grew. The caller holds appendMu.
func (s *Store) sealOpen() {
	o := &s.open
	if o.d == nil {
		return
	}
	if o.merges != 0 { // changed since its checksum was computed
		s.mergedOps.Add(o.merges)
		w := &s.wb
		rec := w.buf[o.off-w.base : s.woff-w.base] // it ends the log
		n := binary.LittleEndian.Uint32(rec[offLength:])
		w.mu.Lock() // copying readers may be reading it
		binary.LittleEndian.PutUint32(rec[offCRC:], crc32c(rec[offLength:n]))
		w.mu.Unlock()
	}
	if o.grown != 0 { // 0 when every merge fit the record's padding
		s.unflushed.Add(o.grown)
		o.d.mu.Lock()
		o.c.bytes += o.grown
		o.d.t.live += o.grown
		o.d.mu.Unlock()
	}
	*o = openOp{}
}

// mergeOpLocked tries to merge op into the open operation record of key
// (hash h) in d. It returns the chain's bytes and true if it did; false
// means nothing changed and the operation needs a record of its own. The
// caller holds appendMu and has checked closed.
func (s *Store) mergeOpLocked(d *DB, h uint64, key []byte, kind Kind, op []byte) (int64, bool) {
	o := &s.open
	w := &s.wb
	// The open record, if any, is the log's last record and in the write
	// buffer: sealOpen clears s.open at every flush (flushLocked, which
	// rotation and Sync go through too) and before any other record is
	// reserved (reserveLocked).
	if o.d != d || o.hash != h || o.kind != kind || s.failure.Load() != nil {
		return 0, false
	}
	rec := w.buf[o.off-w.base : s.woff-w.base]
	le := binary.LittleEndian
	n := int(le.Uint32(rec[offLength:]))
	klen := int(le.Uint32(rec[offKLen:]))
	vs := recHeaderSize + klen // the value's start: prevSeq, then the operation
	if !bytes.Equal(rec[recHeaderSize:vs], key) {
		return 0, false
	}
	keep, tail, ok := s.merger(s.mergeScratch[:0], rec[vs+opPrefixSize:n], op)
	if !ok {
		return 0, false
	}
	vlen := opPrefixSize + keep + len(tail)
	n2, size := recordLen(klen, vlen)
	old := int64(len(rec))
	if size > mergeMaxRecord || int64(vlen) > s.opts.MaxValueSize || o.off+size > int64(len(s.active.data)) ||
		o.off-w.base+size > int64(len(w.buf)) {
		return 0, false
	}
	rec = w.buf[o.off-w.base : o.off-w.base+max(size, old)]
	w.mu.Lock() // copying readers may be reading the record
	copy(rec[vs+opPrefixSize+keep:], tail)
	le.PutUint32(rec[offLength:], uint32(n2))
	le.PutUint32(rec[offVLen:], uint32(vlen))
	clear(rec[n2:])
	w.mu.Unlock()
	delta := size - old
	s.woff += delta
	s.active.written++
	s.writes.Add(1)
	s.sinceSnap += delta
	o.grown += delta
	o.merges++
	return o.c.bytes + o.grown, true
}
