package store

// Incremental growth of a keyspace table.
//
// A table that reaches 3/4 load doubles. Building the double at once is
// O(keys) on the writer's path, which is the event loop: 135 ms at 1.6M
// keys and 310 ms at 3.1M on the development VM (BenchmarkIndexGrowth),
// once per doubling, for every client. So a table of growMin slots or
// more doubles in steps, as Redis's dict rehashes, while every other
// user of the index (readers, the prefetch, SCAN, snapshots, compaction)
// keeps seeing one table: the old one, complete and current, until the
// switch.
//
// The new table nt is built beside it: each write (Set, Delete, SetExpire,
// ...) first copies the next growStep slots of the old table, in slot
// order, into nt; the old slots below the cursor c are thus in nt. Every
// mutation of the old table meanwhile is mirrored into nt when it touches
// a slot below c: an insert there is placed in nt too; a replace or an
// expiry change rewrites nt's copy (found by hash and location, so no key
// is compared); a delete removes it; and each slot that a delete's
// backward shift moves across c enters or leaves nt. When c reaches the
// end, nt holds exactly the old table's slots: it takes the old one's
// counters and arena (shared, as resized shares it) and replaces it under
// the write lock, O(1).
//
// The old table goes on taking inserts past 3/4 load meanwhile: a step
// of 64 slots ends the copy of n slots within n/64 writes, by when at
// most n/64 inserts raised the load to 49/64. (Steps of 16 made a bulk
// load of 5M keys slower; 64 was at par with doubling at once.) Should
// it reach 7/8 anyway
// (a growth restarted by the aborts below), the rest is copied at once.
// Anything that replaces or rewrites the table wholesale (a compaction's
// switch, FLUSHDB, SWAPDB, a shrink, a rebuild of the arena) drops the
// growth first; the next insert that finds the table full starts again.

const (
	defaultGrowMin = 1 << 16 // slots (1.5 MiB): smaller tables double at once
	growStep       = 64      // old slots copied per write while growing
)

// growth is a doubling in progress of DB.t; owned by holders of appendMu.
type growth struct {
	nt *table
	c  uint64 // old slots below c are copied into nt
}

// startGrowth begins doubling d.t, at once if it is small (d.t is then
// the double). The caller holds appendMu.
func (d *DB) startGrowth() {
	t := d.t
	if len(t.slots) < d.s.opts.growMin {
		nt := t.resized(len(t.slots) * 2)
		d.mu.Lock()
		d.t = nt
		d.mu.Unlock()
		d.s.releaseOldTable(len(t.slots))
		return
	}
	d.grow = &growth{nt: newTable(min(len(t.slots)*2, maxTableSize))}
}

// growOn copies the next k slots of the old table into the new one, and
// switches tables once all are. The caller holds appendMu.
func (d *DB) growOn(k int) {
	g := d.grow
	if g == nil {
		return
	}
	t := d.t
	end := min(g.c+uint64(k), uint64(len(t.slots)))
	for ; g.c < end; g.c++ {
		if s := t.slots[g.c]; s.loc != 0 {
			g.nt.place(s)
		}
	}
	if g.c < uint64(len(t.slots)) {
		return
	}
	nt := g.nt
	d.grow = nil
	d.mu.Lock()
	nt.used, nt.expires, nt.live, nt.keys = t.used, t.expires, t.live, t.keys
	d.t = nt
	d.mu.Unlock()
	d.s.releaseOldTable(len(t.slots))
}

// stopGrowth drops a growth in progress: the caller is about to replace
// or rewrite the table wholesale. It holds appendMu.
func (d *DB) stopGrowth() { d.grow = nil }

// growFull reports whether the old table must finish growing before
// another insert: 7/8 load.
func (t *table) growFull() bool { return (t.used+1)*8 > len(t.slots)*7 }

// place puts slot s in an empty slot of its run (no arena entry, no
// counters: a copy of another table's slot).
func (t *table) place(s slot) {
	j := uint64(s.hash) & t.mask
	for t.slots[j].loc != 0 {
		j = (j + 1) & t.mask
	}
	t.slots[j] = s
}

// Mirrors of the old table's mutations into the new one. Each takes the
// old table's slot position i (after an insert, before a replace or
// delete) and acts only if that slot is already copied.

// grewInsert mirrors an insert into old slot i.
func (d *DB) grewInsert(i int) {
	if g := d.grow; g != nil && uint64(i) < g.c {
		g.nt.place(d.t.slots[i])
	}
}

// grewChange mirrors a change of old slot i, which pointed at oldLoc
// before (a replace, a new expiry): nt's copy becomes the slot's value.
func (d *DB) grewChange(i int, oldLoc uint64) {
	if g := d.grow; g != nil && uint64(i) < g.c {
		s := d.t.slots[i]
		if j := g.nt.findLoc(uint64(s.hash), oldLoc); j >= 0 {
			g.nt.slots[j] = s
		} else {
			panic("store: growing index lost a slot")
		}
	}
}

// grewMove mirrors the move of slot s from old position from to to by a
// delete's backward shift: across the cursor it enters or leaves nt.
func (d *DB) grewMove(s slot, from, to uint64) {
	g := d.grow
	if g == nil {
		return
	}
	switch in, was := to < g.c, from < g.c; {
	case in && !was:
		g.nt.place(s)
	case was && !in:
		g.nt.unplace(s)
	}
}

// grewDelete mirrors the delete of old slot i (before it happens).
func (d *DB) grewDelete(i int) {
	if g := d.grow; g != nil && uint64(i) < g.c {
		g.nt.unplace(d.t.slots[i])
	}
}

// unplace removes the copy of slot s (found by hash and location) by
// backward shift, without touching counters or the arena.
func (t *table) unplace(s slot) {
	i := t.findLoc(uint64(s.hash), s.loc)
	if i < 0 {
		panic("store: growing index lost a slot")
	}
	t.shiftOut(uint64(i), nil)
}
