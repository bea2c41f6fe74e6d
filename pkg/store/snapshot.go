package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"go.uber.org/zap"
)

// index.toon is a snapshot of the indexes that lets Open skip replaying the
// log it covers. Layout (little endian):
//
//	off size field
//	  0    8 magic     "TOONIDX1"
//	  8    4 version   snapFormatVersion
//	 12    4 databases
//	 16    8 seq       sequence number of the last record covered
//	 24    8 pos       location (segment id, offset) where the covered log
//	                   ends: every record before it is covered, none after
//	 32    8 prevLoc   location of the last covered record (0 if none)
//	 40    4 prevCRC   its checksum field
//	 44    4 reserved  zero
//	 48    8 nextID
//	 56   32 hash key  (versions 3, 4) the key of the indexes' hash (hash.go)
//	 88      per database: count u64, live u64 (padded bytes of the live
//	         records, chains included), then count entries
//	           hash u64 | loc u64 | expireAt i64 | nops u32 |
//	         (hash: its low 32 bits, which the index keeps, in version 4;
//	         the whole hash in version 3, which loads the same way; the
//	         number changed so that a binary that compares whole hashes
//	         does not trust a version 4 file)
//	           if nops > 0: chain bytes u64 | nops times: loc u64
//	         (loc is the key's image; the nops records are its chain of
//	         operations, in order)
//	         ids: count u64, then count entries
//	           id u64 | loc u64 | vlen u32
//	 end-4 4 crc       CRC32C of everything before
//
// Versions 1 and 2 (still loaded) had no hash key and stored each key
// instead of its hash, with its record's key and value lengths (version
// 2: also the chain, each operation with its size; version 1: no chains):
//
//	56      per database: count u64, then count entries
//	          loc u64 | expireAt i64 | klen u32 | vlen u32 | nops u32 | key |
//	          nops times: loc u64 | size u32 (padded)
//
// Writing one of those read every live record's key from the mapping: at
// 1M keys of 1 KiB, a second of CPU spent on random reads, a quarter of
// the CPU of a stream of SETs. Version 3 is written from the index alone.
//
// Open trusts a snapshot only if its CRC matches, its database count is
// Options.Databases, every location lies in an existing segment before
// pos, and the record at prevLoc is valid with the stored sequence number
// and checksum (so a snapshot never describes a log other than the one on
// disk: a rewritten or cut log fails that test). Anything else: a
// warning, and a full replay.
const (
	snapName          = "index.toon"
	snapMagic         = "TOONIDX1"
	snapFormatVersion = 4 // 4: low 32 bits of the hashes; 3: hashes; 2: keys and chains; 1: keys (all loaded)
	snapHeaderSize    = 88
	snapKeyedHeader   = 56 // the header of versions 1 and 2
)

// Defaults of the snapshot options.
const (
	DefaultSnapshotInterval = 5 * time.Minute
	DefaultSnapshotLogBytes = 256 << 20
)

// snapChain is a captured chain.
type snapChain struct {
	ops   []uint64
	bytes int64
}

// snapState is the index as of one log position, captured under appendMu.
type snapState struct {
	seq, pos, prevLoc uint64
	nextID            ID
	hkey              hashKey
	dbs               [][]slot               // per database: copies of the used slots
	live              []int64                // per database: the table's live bytes
	chains            []map[uint64]snapChain // per database: image location -> its chain (copies)
	ids               []idEnt
}

// captureLocked copies what a snapshot needs. The caller holds appendMu
// (which alone may mutate the tables, so they are stable): O(slots) copying
// of 24 bytes per key, no record is read.
func (s *Store) captureLocked(bufs [][]slot) *snapState {
	s.sealOpen() // the snapshot covers the log up to here: nothing may grow past it
	st := &snapState{seq: s.seq, pos: makeLoc(s.active.id, s.woff), prevLoc: s.lastLoc, nextID: s.nextID, hkey: s.hkey,
		dbs: make([][]slot, len(s.dbs)), live: make([]int64, len(s.dbs)), chains: make([]map[uint64]snapChain, len(s.dbs))}
	for i := range s.dbs {
		t, chains := s.dbs[i].t, s.dbs[i].chains
		// 24 bytes per key: into the buffer captureBuffers prepared
		// outside appendMu if it has room (else new memory, faulted in
		// while writers wait).
		var ents []slot
		if i < len(bufs) && cap(bufs[i]) >= t.used {
			ents = bufs[i][:0]
		} else {
			ents = hugeSlice[slot](t.used)
		}
		for _, sl := range t.slots {
			if sl.loc != 0 {
				ents = append(ents, sl)
			}
		}
		st.live[i] = t.live
		if len(chains) > 0 {
			cp := make(map[uint64]snapChain, len(chains))
			for img, c := range chains {
				cp[img] = snapChain{c.ops.appendTo(make([]uint64, 0, c.ops.len())), c.bytes}
			}
			st.chains[i] = cp
		}
		st.dbs[i] = ents
	}
	for _, e := range s.ids.ents {
		if e.loc != 0 {
			st.ids = append(st.ids, e)
		}
	}
	return st
}

// captureSlack is the room captureBuffers leaves for keys added between
// its look at the tables and the capture: an eighth, and at least this.
const captureSlack = 1024

// captureBuffers returns, for each database with keys, an empty slice with
// room for its table's used slots plus captureSlack (and an eighth), its
// memory touched, so that captureLocked copies into memory that is already
// faulted in: on huge pages (hotpath.md, "Huge pages for large collections
// and the snapshot's copy") and allocated here, outside appendMu. On a
// virtual machine whose host backs guest memory lazily, faulting in the
// 24 MB of a million keys' slots under appendMu had stalled every writer
// 18-103 ms (median 33 ms) per snapshot, against about 12 ms for the copy
// itself (hotpath.md, "The snapshot's copy outside the writers' lock").
// It returns false if nothing was written since the last snapshot.
func (s *Store) captureBuffers() ([][]slot, bool) {
	s.appendMu.Lock()
	if s.seq == s.snapSeq && s.snapSeq != 0 {
		s.appendMu.Unlock()
		return nil, false
	}
	used := make([]int, len(s.dbs))
	for i := range s.dbs {
		used[i] = s.dbs[i].t.used
	}
	s.appendMu.Unlock()
	bufs := make([][]slot, len(used))
	for i, n := range used {
		if n == 0 {
			continue
		}
		b := hugeSlice[slot](n + n/8 + captureSlack)
		b = b[:cap(b)]
		per := max(1, 4096/int(unsafe.Sizeof(slot{})))
		for j := 0; j < len(b); j += per {
			b[j] = slot{} // one write per page faults it in
		}
		bufs[i] = b[:0]
	}
	return bufs, true
}

// snapshot writes index.toon for the current state: capture under appendMu,
// a group sync so that everything it covers is durable, then the file is
// written from the captured slots (the id index's value sizes and the last
// covered record's checksum are read from the mapping without any lock:
// records before the captured position are immutable) and atomically
// replaced. Writers are
// blocked only for the capture. The caller guarantees the segments stay
// mapped (Close waits for the snapshot goroutine before unmapping).
func (s *Store) snapshot() error {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.unmapping.Load() {
		return ErrClosed
	}
	started := time.Now()
	bufs, ok := s.captureBuffers()
	if !ok {
		return nil // nothing new since the last snapshot
	}
	s.appendMu.Lock() // seq only grew since captureBuffers looked
	locked := time.Now()
	st := s.captureLocked(bufs)
	s.resetSnapCountLocked()
	s.appendMu.Unlock()
	captureTook := time.Since(locked)
	if s.hooks.snapshotCaptured != nil {
		s.hooks.snapshotCaptured()
	}
	if err := s.groupSync(); err != nil { // rotation synced the older segments

		return err
	}
	err := s.writeSnapshot(st)
	seq, captured := st.seq, st.bytes()
	st = nil
	s.releaseGarbage(captured)
	if err != nil {
		return err
	}
	s.appendMu.Lock()
	s.snapSeq = seq
	s.appendMu.Unlock()
	s.snapshots.Add(1)
	s.log.Info("store: wrote the index snapshot", zap.Uint64("seq", seq), zap.Uint64("captured_bytes", uint64(captured)),
		zap.Duration("capture", captureTook), zap.Duration("took", time.Since(started)))
	return nil
}

// bytes returns about how much memory st holds.
func (st *snapState) bytes() uintptr {
	var n uintptr
	for i, ents := range st.dbs {
		n += uintptr(cap(ents)) * unsafe.Sizeof(slot{})
		for _, c := range st.chains[i] {
			n += uintptr(cap(c.ops)) * 8
		}
	}
	return n + uintptr(cap(st.ids))*unsafe.Sizeof(idEnt{})
}

// snapWriter streams a file through WriteAt with a running CRC.
type snapWriter struct {
	f   File
	off int64
	buf []byte
	crc uint32
	err error
}

func (w *snapWriter) flush() {
	if w.err == nil && len(w.buf) > 0 {
		w.crc = crc32.Update(w.crc, crc32.MakeTable(crc32.Castagnoli), w.buf)
		_, w.err = w.f.WriteAt(w.buf, w.off)
		w.off += int64(len(w.buf))
	}
	w.buf = w.buf[:0]
	gosched() // a buffer (64 KiB) at a time: see yielder
}

func (w *snapWriter) room(n int) {
	if len(w.buf)+n > cap(w.buf) {
		w.flush()
	}
}

func (w *snapWriter) u32(v uint32) { w.room(4); w.buf = binary.LittleEndian.AppendUint32(w.buf, v) }
func (w *snapWriter) u64(v uint64) { w.room(8); w.buf = binary.LittleEndian.AppendUint64(w.buf, v) }
func (w *snapWriter) bytes(b []byte) {
	if len(b) > cap(w.buf)-len(w.buf) {
		w.flush()
		if len(b) > cap(w.buf) {
			w.crc = crc32.Update(w.crc, crc32.MakeTable(crc32.Castagnoli), b)
			if w.err == nil {
				_, w.err = w.f.WriteAt(b, w.off)
			}
			w.off += int64(len(b))
			return
		}
	}
	w.buf = append(w.buf, b...)
}

// writeSnapshot writes st to index.toon atomically (temporary file, fsync,
// rename, directory fsync).
func (s *Store) writeSnapshot(st *snapState) (err error) {
	path := filepath.Join(s.dir, snapName)
	tmp := path + tmpSuffix
	f, err := s.fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("store: write %s: %w", snapName, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			s.fs.Remove(tmp)
			err = fmt.Errorf("store: write %s: %w", snapName, err)
		}
	}()
	ss := *s.segs.Load()
	w := &snapWriter{f: f, buf: make([]byte, 0, 64<<10)}
	w.bytes([]byte(snapMagic))
	w.u32(snapFormatVersion)
	w.u32(uint32(len(st.dbs)))
	w.u64(st.seq)
	w.u64(st.pos)
	w.u64(st.prevLoc)
	var prevCRC uint32
	if r := ss.record(st.prevLoc); r != nil {
		prevCRC = binary.LittleEndian.Uint32(r[offCRC:])
	}
	w.u32(prevCRC)
	w.u32(0)
	w.u64(uint64(st.nextID))
	for _, k := range st.hkey {
		w.u64(k)
	}
	for i, ents := range st.dbs {
		w.u64(uint64(len(ents)))
		w.u64(uint64(st.live[i]))
		for _, e := range ents {
			w.u64(uint64(e.hash))
			w.u64(e.loc)
			w.u64(uint64(e.expireAt))
			c := st.chains[i][e.loc]
			w.u32(uint32(len(c.ops)))
			if len(c.ops) > 0 {
				w.u64(uint64(c.bytes))
				for _, l := range c.ops {
					w.u64(l)
				}
			}
		}
	}
	w.u64(uint64(len(st.ids)))
	for _, e := range st.ids {
		r := ss.record(e.loc)
		if r == nil {
			return fmt.Errorf("id %d points at a malformed record", e.id)
		}
		w.u64(uint64(e.id))
		w.u64(e.loc)
		w.u32(uint32(len(recValue(r))))
	}
	w.flush()
	crc := w.crc
	w.u32(crc)
	w.flush()
	if w.err != nil {
		return w.err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		s.fs.Remove(tmp)
		return fmt.Errorf("store: write %s: %w", snapName, err)
	}
	if err := s.fs.Rename(tmp, path); err != nil {
		s.fs.Remove(tmp)
		return fmt.Errorf("store: write %s: %w", snapName, err)
	}
	return syncDir(s.fs, s.dir)
}

// errSnapshot marks a snapshot that is unusable (ignored with a warning).
var errSnapshot = errors.New("unusable snapshot")

// loadSnapshot loads index.toon into the (empty) indexes if it is valid and
// describes the log on disk; it returns the position the replay resumes at
// (0 if there is no usable snapshot: full replay). progress is called with
// bytes of the snapshot read.
func (s *Store) loadSnapshot(ld *loading) (pos uint64, err error) {
	path := filepath.Join(s.dir, snapName)
	f, err := s.fs.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: open %s: %w", snapName, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, fmt.Errorf("store: stat %s: %w", snapName, err)
	}
	bad := func(format string, args ...any) (uint64, error) {
		s.resetIndexes()
		return 0, fmt.Errorf("%w: %s", errSnapshot, fmt.Sprintf(format, args...))
	}
	if size < snapKeyedHeader+4 {
		return bad("%d bytes, shorter than a header", size)
	}
	ld.total += size
	ld.report()
	progress := func(p int64) { ld.done = p; ld.report() }
	m, err := f.Map(int(size), false)
	if err != nil {
		return 0, fmt.Errorf("store: map %s: %w", snapName, err)
	}
	defer m.Unmap()
	b := m.Bytes()
	le := binary.LittleEndian
	if got, want := crc32c(b[:size-4]), le.Uint32(b[size-4:]); got != want {
		return bad("checksum mismatch")
	}
	version := le.Uint32(b[8:])
	if string(b[:8]) != snapMagic || version < 1 || version > snapFormatVersion {
		return bad("bad magic or version")
	}
	keyed := version < 3 // entries hold keys, not hashes
	entSize := int64(24)
	switch {
	case version == 2:
		entSize = 28
	case !keyed:
		if size < snapHeaderSize+4 {
			return bad("%d bytes, shorter than a header", size)
		}
		entSize = 28
	}
	if n := le.Uint32(b[12:]); int(n) != len(s.dbs) {
		return bad("%d databases, Options.Databases is %d", n, len(s.dbs))
	}
	seq, pos, prevLoc := le.Uint64(b[16:]), le.Uint64(b[24:]), le.Uint64(b[32:])
	prevCRC, nextID := le.Uint32(b[40:]), ID(le.Uint64(b[48:]))
	ss := *s.segs.Load()
	// The log position must exist, and the last covered record must be the
	// one the snapshot saw.
	pseg, poff := locSeg(pos), locOff(pos)
	if int(pseg) >= len(ss) || ss[pseg] == nil || poff < segHeaderSize || poff > int64(len(ss[pseg].data)) {
		return bad("position segment %d offset %d is not in the log", pseg, poff)
	}
	if seq > 0 {
		ps, po := locSeg(prevLoc), locOff(prevLoc)
		if int(ps) >= len(ss) || ss[ps] == nil || po < segHeaderSize || po >= int64(len(ss[ps].data)) || prevLoc >= pos {
			return bad("last covered record at segment %d offset %d is not in the log", ps, po)
		}
		h, _, _, size, st, _ := decodeRecord(ss[ps].data[po:])
		if st != recOK || h.seq != seq || le.Uint32(ss[ps].data[po:]) != prevCRC || (ps == pseg && po+size != poff) {
			return bad("the log at segment %d offset %d is not the one the snapshot covers", ps, po)
		}
	}
	// inLog reports whether a record of size bytes at loc lies in the
	// covered log.
	inLog := func(loc uint64, size int64) bool {
		id, off := locSeg(loc), locOff(loc)
		return int(id) < len(ss) && ss[id] != nil && off >= segHeaderSize && off+size <= int64(len(ss[id].data)) && (id < pseg || id == pseg && off+size <= poff)
	}
	p := int64(snapKeyedHeader)
	if !keyed {
		// The snapshot's hashes were made with its key: the indexes are
		// empty, so nothing was hashed with the store's own yet.
		for i := range s.hkey {
			s.hkey[i] = le.Uint64(b[p:])
			p += 8
		}
	}
	end := size - 4
	need := func(n int64) bool { return p+n <= end }
	for i := range s.dbs {
		hdr := int64(8)
		if !keyed {
			hdr = 16
		}
		if !need(hdr) {
			return bad("truncated")
		}
		n := le.Uint64(b[p:])
		var live int64
		if !keyed {
			live = int64(le.Uint64(b[p+8:]))
		}
		p += hdr
		if n > uint64(end-p)/uint64(entSize) {
			return bad("database %d: %d entries cannot fit", i, n)
		}
		t := newTable(tableSizeFor(int(n)))
		var chains map[uint64]*chain
		for range n {
			if !need(entSize) {
				return bad("truncated")
			}
			var h, loc uint64
			var exp, rsize int64
			var nops uint32
			var key []byte
			if keyed {
				loc, exp = le.Uint64(b[p:]), int64(le.Uint64(b[p+8:]))
				klen, vlen := le.Uint32(b[p+16:]), le.Uint32(b[p+20:])
				if version >= 2 {
					nops = le.Uint32(b[p+24:])
				}
				p += entSize
				if !need(int64(klen)) {
					return bad("truncated")
				}
				key = b[p : p+int64(klen)]
				p += int64(klen)
				_, rsize = recordLen(int(klen), int(vlen))
			} else {
				h, loc, exp = le.Uint64(b[p:]), le.Uint64(b[p+8:]), int64(le.Uint64(b[p+16:]))
				nops = le.Uint32(b[p+24:])
				p += entSize
				rsize = recHeaderSize // at least; the database's live bytes are stored
			}
			if !inLog(loc, rsize) {
				return bad("database %d: entry at segment %d offset %d outside the covered log", i, locSeg(loc), locOff(loc))
			}
			if nops > 0 {
				opsBytes := int64(nops) * 12 // keyed: loc and size per operation
				if !keyed {
					opsBytes = 8 + int64(nops)*8 // chain bytes, then locs
				}
				if !need(opsBytes) { // before allocating nops locations
					return bad("truncated")
				}
				c := &chain{}
				var spare [][]uint64 // none: the blocks are new
				if !keyed {
					c.bytes = int64(le.Uint64(b[p:]))
					p += 8
				}
				prev := loc
				for range nops {
					l, sz := le.Uint64(b[p:]), int64(recHeaderSize)
					if keyed {
						sz = int64(le.Uint32(b[p+8:]))
						p += 12
					} else {
						p += 8
					}
					if l <= prev || sz < recHeaderSize || !inLog(l, sz) {
						return bad("database %d: chain record at segment %d offset %d out of order or outside the covered log", i, locSeg(l), locOff(l))
					}
					c.ops.push(l, &spare)
					prev = l
					if keyed {
						c.bytes += sz
					}
				}
				if chains == nil {
					chains = make(map[uint64]*chain)
				}
				chains[loc] = c
				rsize += c.bytes
			}
			if keyed {
				h = s.dbs[i].hash(key)
				live += rsize
			}
			j := h & t.mask
			for t.slots[j].loc != 0 {
				j = (j + 1) & t.mask
			}
			t.insertAt(int(j), h, nil, loc, exp, 0)
		}
		if live < 0 {
			return bad("database %d: negative live bytes", i)
		}
		t.live = live
		s.dbs[i].t, s.dbs[i].chains = t, chains
		progress(p)
	}
	if !need(8) {
		return bad("truncated")
	}
	n := le.Uint64(b[p:])
	p += 8
	if n > uint64(end-p)/20 {
		return bad("%d ids cannot fit", n)
	}
	ents := make([]idEnt, 0, n)
	var live int64
	for range n {
		id, loc, vlen := ID(le.Uint64(b[p:])), le.Uint64(b[p+8:]), le.Uint32(b[p+16:])
		p += 20
		_, rsize := recordLen(8, int(vlen))
		if !inLog(loc, rsize) || len(ents) > 0 && ents[len(ents)-1].id >= id || id >= nextID {
			return bad("id %d: bad entry", id)
		}
		ents = append(ents, idEnt{id, loc})
		live += rsize
	}
	if p != end {
		return bad("%d bytes of trailing data", end-p)
	}
	s.ids.ents, s.ids.n, s.ids.live = ents, len(ents), live
	s.seq, s.nextID, s.lastLoc, s.snapSeq = seq, max(s.nextID, nextID), prevLoc, seq
	s.lastSwapLoc = pos // a SWAPDB may hide anywhere in the covered log (replay refines it unless TrustSnapshot)
	progress(size)
	return pos, nil
}

// tableSizeFor returns the table size for n keys: a power of two at or
// under 3/4 load.
func tableSizeFor(n int) int {
	size := minTableSize
	for size*3 < n*4+4 {
		size *= 2
	}
	return size
}

// resetIndexes empties every index (after an unusable snapshot).
func (s *Store) resetIndexes() {
	for i := range s.dbs {
		s.dbs[i].t = newTable(minTableSize)
		s.dbs[i].grow = nil
		s.dbs[i].chains = nil
	}
	s.ids.ents, s.ids.n, s.ids.live = nil, 0, 0
	s.seq, s.lastLoc, s.snapSeq = 0, 0, 0
}

// snapDueLocked reports, once SnapshotLogBytes of log were appended since
// the last snapshot, whether the log-driven snapshot is due: also at least
// as many records as there are live keys. A snapshot costs one entry (and
// one read of the key in the mapping) per live key, so this bounds its
// cost to one entry per appended record whatever the value size: with
// 1 KiB values, 256 MiB of log is only 250k records, and a snapshot of
// 1M keys after each of them cost four random key reads per write. The
// log left to replay at start-up stays at most max(SnapshotLogBytes, live
// keys' records), no more than a full replay of the live data reads.
// The caller holds appendMu.
func (s *Store) snapDueLocked() bool {
	if s.snapNeedRecs < 0 {
		var n int64
		for i := range s.dbs {
			n += int64(s.dbs[i].t.used) // appendMu: no one mutates a table
		}
		s.snapNeedRecs = n + int64(s.ids.n)
	}
	return s.sinceSnapRecs >= s.snapNeedRecs
}

// resetSnapCountLocked starts counting the log for the next snapshot. The
// caller holds appendMu.
func (s *Store) resetSnapCountLocked() {
	s.sinceSnap, s.sinceSnapRecs, s.snapNeedRecs = 0, 0, -1
}

// snapshotLoop writes a snapshot every interval and whenever appends have
// added logBytes since the last one (appendLocked kicks it).
func (s *Store) snapshotLoop(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-stop:
			return
		case <-tick:
		case <-s.snapKick:
		}
		if s.failure.Load() != nil {
			continue
		}
		if err := s.snapshot(); err != nil {
			s.log.Warn("store: could not write the index snapshot", zap.Error(err))
		}
	}
}
