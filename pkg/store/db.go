package store

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"
)

// DB is one logical database of a Store: a view on the table that holds
// its index. Safe for concurrent use.
type DB struct {
	s *Store
	n int

	mu sync.RWMutex // guards t (the pointer and the table's contents) and chains
	t  *table
	// chains holds the operation chains of collection keys, keyed by the
	// location of the image their slot points at (chain.go); nil when
	// empty. Mutated like t: by holders of appendMu under mu.
	chains map[uint64]*chain
	// spareBlocks are the blocks of operation lists (oplist.go) that
	// emptied chains released, for the next chains to grow into: a
	// collection folded over and over rebuilds a chain of about the same
	// length each time, and regrowing it in fresh memory was ~10% of the
	// CPU of LPUSH onto one long list. Guarded by mu.
	spareBlocks [][]uint64
	// grow is a doubling of t in progress (grow.go); owned by holders of
	// appendMu.
	grow *growth
}

func putU32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

func (d *DB) hash(key []byte) uint64 { return d.s.hkey.sum(key) }

// Get returns the live entry of key. Expiry is not checked here: the caller
// owns the clock. For a collection key with operations appended
// (AppendOp), Get returns its image only (the value of its last Set, with
// its kind and the key's current expiry): collection readers must use
// GetChain. err is non-nil only for I/O or corruption (ErrCorrupt),
// or ErrClosed after Close. e.Value aliases the mapping: valid as Entry says,
// read-only. Get does not allocate.
func (d *DB) Get(key []byte) (e Entry, ok bool, err error) {
	ok, err = d.GetTo(key, &e)
	return e, ok, err
}

// GetTo is Get writing the entry to *e, field by field (left as it was
// when the key is absent or on an error). A caller that binds Get's
// five-word result to a variable gets it stored to a temporary and copied
// with 16-byte loads over those stores, a store-forwarding stall on every
// GET (perf/results/hotpath.md, "The Tx in registers").
func (d *DB) GetTo(key []byte, e *Entry) (ok bool, err error) {
	return d.ViewTo(key, e, nil)
}

// ViewTo is GetTo for a reader that uses e.Value only until it next passes
// scratch: a record still in the write buffer (a key written earlier in
// the same round of a pipeline) is copied into *scratch, grown as needed
// and kept by the caller, instead of into a new allocation (records of up
// to 64 KiB; a larger one gets its own copy). A pipeline of INCRs on one
// key allocated two copies per command (the probe's and the value's).
func (d *DB) ViewTo(key []byte, e *Entry, scratch *[]byte) (ok bool, err error) {
	h := d.hash(key)
	d.mu.RLock()
	if d.s.closed.Load() {
		d.mu.RUnlock()
		return false, ErrClosed
	}
	ss := *d.s.segs.Load()
	t := d.t
	i := t.findRec(ss, h, key)
	if i < 0 {
		d.mu.RUnlock()
		return false, nil
	}
	sl := t.slots[i]
	r := ss.recordInto(sl.loc, scratch)
	d.mu.RUnlock()
	if r == nil { // find matched the key in it, so it was well-formed
		return false, d.corrupt(sl.loc)
	}
	e.Kind, e.ExpireAt, e.Value = Kind(r[offKind]), sl.expireAt, recValue(r)
	return true, nil
}

func (d *DB) corrupt(loc uint64) error {
	ss := *d.s.segs.Load()
	name := fmt.Sprintf("segment %d", locSeg(loc))
	if id := locSeg(loc); int(id) < len(ss) && ss[id] != nil {
		name = ss[id].path
	}
	return fmt.Errorf("%w: %s offset %d: malformed record in the index", ErrCorrupt, name, locOff(loc))
}

// Set appends a record making key hold value of kind with expireAt (0 = no
// expiry), replacing any previous entry. key and value are copied into the
// log before Set returns. ErrValueTooLarge, ErrNoSpace, ErrReadOnly (after a
// failed write or sync) or I/O errors are returned and leave the old entry.
// kind must be a value kind (1..15).
func (d *DB) Set(key []byte, kind Kind, value []byte, expireAt int64) error {
	if !kind.IsValue() {
		return fmt.Errorf("%w: %d", ErrBadKind, kind)
	}
	s := d.s
	if err := s.checkSizes(key, value); err != nil {
		return err
	}
	h := d.hash(key)
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	loc, size, err := s.appendLocked(uint32(d.n), kind, expireAt, key, value)
	if err != nil {
		return err
	}
	d.putIndex(h, key, loc, expireAt, size)
	return nil
}

// putIndex points key at the record at loc. The caller holds appendMu.
func (d *DB) putIndex(h uint64, key []byte, loc uint64, expireAt, size int64) {
	ss := d.s.wview()
	d.growOn(growStep)
	t := d.t // stable: only holders of appendMu replace or mutate it
	i, found := t.findOrEmpty(ss, h, key)
	if found {
		prev := t.slots[i].loc
		old := t.imageSize(ss, i) + d.chainBytes(prev)
		var keys []byte
		if t.slots[i].kref == noKey { // a key loaded from a snapshot: give it an entry
			keys = t.keys.room(key)
		}
		oldKeys := cap(t.keys.b)
		d.mu.Lock()
		if keys != nil {
			t.keys.b = keys
		}
		t.replaceAt(i, key, loc, expireAt, size, old)
		if c := d.chains[prev]; c != nil { // a new image starts an empty chain
			delete(d.chains, prev)
			c.ops.release(&d.spareBlocks)
		}
		d.mu.Unlock()
		d.grewChange(i, prev)
		d.arenaGrew(oldKeys, keys)
		return
	}
	// Double a full table (grow.go): a small one at once, building the
	// copy while readers keep using the old one; a large one in steps,
	// or the rest of its steps now if it is 7/8 full.
	if d.grow == nil && t.needsGrow() {
		d.startGrowth()
	}
	if d.grow != nil && d.t.growFull() {
		d.growOn(len(d.t.slots))
	}
	if d.t != t {
		t = d.t
		i, _ = t.findOrEmpty(ss, h, key)
	}
	oldKeys := cap(t.keys.b)
	keys := t.keys.room(key) // a larger arena is also built outside the lock
	d.mu.Lock()
	t.keys.b = keys
	t.insertAt(i, h, key, loc, expireAt, size)
	d.mu.Unlock()
	d.grewInsert(i)
	d.arenaGrew(oldKeys, keys)
}

// arenaGrew hands the old array of a key arena that room reallocated
// (capacity oldCap before, keys after) back to the OS, as for a replaced
// table.
func (d *DB) arenaGrew(oldCap int, keys []byte) {
	if keys != nil && cap(keys) != oldCap {
		d.s.releaseGarbage(uintptr(oldCap))
	}
}

// SetExpire changes the expiry of an existing key without rewriting its
// value (a small operation record). Reports whether key existed; nothing is
// written if it did not.
func (d *DB) SetExpire(key []byte, expireAt int64) (bool, error) {
	s := d.s
	if err := s.checkSizes(key, nil); err != nil {
		return false, err
	}
	h := d.hash(key)
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return false, ErrClosed
	}
	i := d.t.find(s.wview(), h, key)
	if i < 0 {
		return false, nil
	}
	if _, _, err := s.appendLocked(uint32(d.n), kindExpire, expireAt, key, nil); err != nil {
		return false, err
	}
	d.setExpireLocked(i, expireAt)
	return true, nil
}

// Delete appends a tombstone for key. Reports whether key existed; nothing
// is written if it did not.
func (d *DB) Delete(key []byte) (bool, error) {
	s := d.s
	if err := s.checkSizes(key, nil); err != nil {
		return false, err
	}
	h := d.hash(key)
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return false, ErrClosed
	}
	if d.t.find(s.wview(), h, key) < 0 {
		return false, nil
	}
	if _, _, err := s.appendLocked(uint32(d.n), kindDelete, 0, key, nil); err != nil {
		return false, err
	}
	d.deleteIndex(h, key)
	return true, nil
}

// deleteIndex removes key from the index if present. The caller holds
// appendMu.
func (d *DB) deleteIndex(h uint64, key []byte) bool {
	ss := d.s.wview()
	d.growOn(growStep)
	t := d.t
	i := t.find(ss, h, key)
	if i < 0 {
		return false
	}
	prev := t.slots[i].loc
	old := t.imageSize(ss, i) + d.chainBytes(prev)
	var moved func(s slot, from, to uint64)
	if d.grow != nil {
		d.grewDelete(i)
		moved = d.grewMove
	}
	d.mu.Lock()
	t.deleteAt(i, old, moved)
	if c := d.chains[prev]; c != nil {
		delete(d.chains, prev)
		c.ops.release(&d.spareBlocks)
	}
	d.mu.Unlock()
	var nt *table
	if n := t.shrinkSize(); n > 0 {
		nt = t.resized(n)
	}
	cur := t
	if nt != nil {
		cur = nt
	}
	if cur.keys.worthRebuilding() {
		nt = cur.withKeys() // half the arena is entries of deleted keys
	}
	if nt != nil {
		d.stopGrowth() // nt replaces the table the growth copies
		d.mu.Lock()
		d.t = nt
		d.mu.Unlock()
		n := uintptr(len(t.slots)) * unsafe.Sizeof(slot{})
		if unsafe.SliceData(nt.keys.b) != unsafe.SliceData(t.keys.b) {
			n += uintptr(cap(t.keys.b)) // rebuilt, not shared
		}
		d.s.releaseGarbage(n)
	}
	return true
}

// expireIndex sets the expiry of key if present. The caller holds appendMu.
func (d *DB) expireIndex(h uint64, key []byte, expireAt int64) {
	i := d.t.find(d.s.wview(), h, key)
	if i < 0 {
		return
	}
	d.setExpireLocked(i, expireAt)
}

// setExpireLocked sets the expiry of slot i of d.t (a step of a growth
// first, which may replace d.t: i is found again then). The caller holds
// appendMu.
func (d *DB) setExpireLocked(i int, expireAt int64) {
	if d.grow != nil {
		t, s := d.t, d.t.slots[i]
		d.growOn(growStep)
		if d.t != t {
			i = d.t.findLoc(uint64(s.hash), s.loc)
		}
	}
	d.mu.Lock()
	d.t.setExpireAt(i, expireAt)
	d.mu.Unlock()
	d.grewChange(i, d.t.slots[i].loc)
}

// flushIndex empties the index. The caller holds appendMu.
func (d *DB) flushIndex() {
	d.stopGrowth()
	d.mu.Lock()
	d.t = newTable(minTableSize)
	d.chains, d.spareBlocks = nil, nil
	d.mu.Unlock()
}

// Len returns the number of keys in the database, expired-but-present
// included.
func (d *DB) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.t.used
}

// Expires returns the number of keys with an expiry set.
func (d *DB) Expires() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.t.expires
}

// Scan visits up to about count index slots starting at cursor and calls fn
// for each live key; it returns the next cursor, 0 when the iteration is
// complete. It guarantees Redis's SCAN contract: every key present for the
// whole iteration is returned at least once, even if the index grows or
// shrinks meanwhile (reverse-binary cursor over a power-of-two table). key
// is valid only during fn; fn must not call back into the store.
//
// Precisely: each call visits count home buckets (at least 1) in
// reverse-binary order and returns every key whose home bucket (hash &
// mask) is a visited one; a key may be returned more than once across a
// resize. After Close it returns 0 without calling fn.
func (d *DB) Scan(cursor uint64, count int, fn func(key []byte, kind Kind, expireAt int64)) uint64 {
	count = max(count, 1)
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.s.closed.Load() {
		return 0
	}
	ss := *d.s.segs.Load()
	t := d.t
	emit := func(sl *slot) {
		if r := ss.record(sl.loc); r != nil {
			fn(recKey(r), Kind(r[offKind]), sl.expireAt)
		}
	}
	c := cursor & t.mask
	for range count {
		t.scanBucket(c, emit)
		c = nextCursor(c, t.mask)
		if c == 0 {
			return 0
		}
	}
	return c
}

// Range calls fn for every live key until fn returns false. key is valid
// only during fn; fn must not call back into the store (the database's read
// lock is held: writers of this database wait until Range returns).
func (d *DB) Range(fn func(key []byte, kind Kind, expireAt int64) bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.s.closed.Load() {
		return
	}
	ss := *d.s.segs.Load()
	for i := range d.t.slots {
		sl := &d.t.slots[i]
		if sl.loc == 0 {
			continue
		}
		if r := ss.record(sl.loc); r != nil {
			if !fn(recKey(r), Kind(r[offKind]), sl.expireAt) {
				return
			}
		}
	}
}

// RandomKey returns a copy of a uniformly chosen-ish key using seed r, or
// ok=false if the database is empty (or the store closed). It picks slot
// r mod size and takes the first key at or after it, so keys after long
// runs of empty slots are likelier.
func (d *DB) RandomKey(r uint64) (key []byte, ok bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t := d.t
	if t.used == 0 || d.s.closed.Load() {
		return nil, false
	}
	ss := *d.s.segs.Load()
	for i, n := r&t.mask, 0; n < len(t.slots); i, n = (i+1)&t.mask, n+1 {
		if sl := &t.slots[i]; sl.loc != 0 {
			if rec := ss.record(sl.loc); rec != nil {
				return append([]byte(nil), recKey(rec)...), true
			}
		}
	}
	return nil, false
}

// Flush removes every key of the database (one durable record).
func (d *DB) Flush() error {
	s := d.s
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if _, _, err := s.appendLocked(uint32(d.n), kindFlushDB, 0, nil, nil); err != nil {
		return err
	}
	d.flushIndex()
	return nil
}
