package store

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The crash-consistency harness: a randomized single-writer workload runs
// on a MemFS; at random points (between operations, and inside them from
// the MemFS hook, i.e. in the middle of a rotation, a metadata rewrite, a
// sync, Close, or a recovery) a crash image is taken (MemFS.Crash with a
// random torn mode) and checked:
//
//   - Open succeeds and the state equals the model's state after some
//     prefix m of the operations with D <= m <= N, where D is what a
//     completed Sync (or Close) covered and N the operations started. That
//     is "every synced write is present with its value and expiry" and
//     "nothing that was never written appears" at once (the log is replayed
//     in order and cut at the first invalid record, so it is always a
//     prefix).
//   - the index equals an independent full scan of the log's records;
//   - recovery is idempotent and durable: a crash image of the recovered
//     directory, and a clean reopen, give the same state.

// mval is one key's state in the model.
type mval struct {
	kind Kind
	v    string // the value, or a collection's image
	exp  int64
	ops  string // a collection's chain of operations, each as opEnc gives it
}

// opEnc encodes one operation of a chain for mval.ops (length-prefixed, so
// that the concatenation is unambiguous).
func opEnc(op []byte) string { return fmt.Sprintf("%d:%s;", len(op), op) }

// mstate is the model of a store's contents.
type mstate struct {
	dbs []map[string]mval
	ids map[ID]string
}

func newMState(ndb int) *mstate {
	m := &mstate{dbs: make([]map[string]mval, ndb), ids: map[ID]string{}}
	for i := range m.dbs {
		m.dbs[i] = map[string]mval{}
	}
	return m
}

func (m *mstate) clone() *mstate {
	c := &mstate{dbs: make([]map[string]mval, len(m.dbs)), ids: maps.Clone(m.ids)}
	for i, d := range m.dbs {
		c.dbs[i] = maps.Clone(d)
	}
	return c
}

// harnessNow is the store's clock in the harness (Options.Now): about half
// of the expiries the workload sets are past it. Compaction may drop keys
// expired by then, so states are compared on visible keys only.
const harnessNow = 1_700_000_500_000

type fixedClock int64

func (c fixedClock) UnixMilli() int64 { return int64(c) }

func visible(v mval) bool { return v.exp == 0 || v.exp > harnessNow }

func (m *mstate) equal(o *mstate) bool {
	for i := range m.dbs {
		if !maps.EqualFunc(visibleOnly(m.dbs[i]), visibleOnly(o.dbs[i]), func(a, b mval) bool { return a == b }) {
			return false
		}
	}
	return maps.Equal(m.ids, o.ids)
}

func visibleOnly(d map[string]mval) map[string]mval {
	out := make(map[string]mval, len(d))
	for k, v := range d {
		if visible(v) {
			out[k] = v
		}
	}
	return out
}

// diff describes how o differs from m (for failure messages).
func (m *mstate) diff(o *mstate) string {
	var b strings.Builder
	for i := range m.dbs {
		for k, v := range m.dbs[i] {
			if w, ok := o.dbs[i][k]; !ok || w != v {
				fmt.Fprintf(&b, "db %d %q: want %v got %v (present %v); ", i, k, abbrevVal(v), abbrevVal(w), ok)
			}
		}
		for k, w := range o.dbs[i] {
			if _, ok := m.dbs[i][k]; !ok {
				fmt.Fprintf(&b, "db %d %q: unexpected %v; ", i, k, abbrevVal(w))
			}
		}
	}
	for id, v := range m.ids {
		if w, ok := o.ids[id]; !ok || w != v {
			fmt.Fprintf(&b, "id %d: want %q got %q; ", id, abbrev(v), abbrev(w))
		}
	}
	for id := range o.ids {
		if _, ok := m.ids[id]; !ok {
			fmt.Fprintf(&b, "id %d unexpected; ", id)
		}
	}
	if b.Len() > 2000 {
		return b.String()[:2000] + "..."
	}
	return b.String()
}

func abbrevVal(v mval) string {
	return fmt.Sprintf("{kind %d %q exp %d ops %d bytes %q}", v.kind, abbrev(v.v), v.exp, len(v.ops), abbrev(v.ops))
}

// hop is one operation of the workload.
type hop struct {
	kind  Kind // a value kind for a set, else an operation kind
	db    int
	db2   int
	key   string
	val   string
	exp   int64
	id    ID
	label string
}

func (m *mstate) apply(o hop) {
	switch o.kind {
	case kindDelete:
		delete(m.dbs[o.db], o.key)
	case kindExpire:
		if v, ok := m.dbs[o.db][o.key]; ok {
			v.exp = o.exp
			m.dbs[o.db][o.key] = v
		}
	case kindFlushDB:
		m.dbs[o.db] = map[string]mval{}
	case kindFlushAll:
		for i := range m.dbs {
			m.dbs[i] = map[string]mval{}
		}
	case kindSwapDB:
		m.dbs[o.db], m.dbs[o.db2] = m.dbs[o.db2], m.dbs[o.db]
	case kindIDPut:
		m.ids[o.id] = o.val
	case kindIDDelete:
		delete(m.ids, o.id)
	case kindOpHash, kindOpList, kindOpSet, kindOpZSet:
		if v, ok := m.dbs[o.db][o.key]; ok && v.kind == valueKindOf(o.kind) {
			v.ops += opEnc([]byte(o.val))
			m.dbs[o.db][o.key] = v
		}
	default:
		m.dbs[o.db][o.key] = mval{kind: o.kind, v: o.val, exp: o.exp}
	}
}

// dumpStore reads the whole contents of s through its API.
func dumpStore(t *testing.T, s *Store) *mstate {
	t.Helper()
	m := newMState(s.Databases())
	for i := range m.dbs {
		d := s.DB(i)
		checkKeys(t, d)
		var keys []string
		d.Range(func(key []byte, kind Kind, expireAt int64) bool {
			keys = append(keys, string(key))
			return true
		})
		for _, k := range keys {
			e, ok, err := d.Get([]byte(k))
			if err != nil || !ok {
				t.Fatalf("db %d Get(%q) of a ranged key: %v %v", i, k, ok, err)
			}
			v := mval{kind: e.Kind, v: string(e.Value), exp: e.ExpireAt}
			kind, exp, ok, err := d.GetChain([]byte(k), func(image []byte, ops [][]byte) {
				if string(image) != v.v {
					t.Errorf("db %d %q: GetChain's image differs from Get's value", i, k)
				}
				for _, op := range ops {
					v.ops += opEnc(op)
				}
			})
			if err != nil || !ok || kind != e.Kind || exp != e.ExpireAt {
				t.Fatalf("db %d GetChain(%q) = kind %d exp %d %v %v; Get said kind %d exp %d", i, k, kind, exp, ok, err, e.Kind, e.ExpireAt)
			}
			m.dbs[i][k] = v
		}
		if len(keys) != d.Len() {
			t.Fatalf("db %d: Range saw %d keys, Len says %d", i, len(keys), d.Len())
		}
	}
	if err := s.Scan(func(id ID, v []byte) bool { m.ids[id] = string(v); return true }); err != nil {
		t.Fatal(err)
	}
	return m
}

// scanLogState replays dir's segments independently of the engine's
// recovery (decodeRecord is the format's definition) and returns the
// state they describe. Every record must be valid up to the end of data.
func scanLogState(t *testing.T, fs FS, dir string, ndb int) *mstate {
	t.Helper()
	m := newMState(ndb)
	ids, err := listSegments(fs, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		data, err := readFile(fs, filepath.Join(dir, segName(id)))
		if err != nil {
			t.Fatal(err)
		}
		off := int64(segHeaderSize)
		for off < int64(len(data)) {
			h, key, value, size, st, why := decodeRecord(data[off:])
			if st == recEnd {
				break
			}
			if st != recOK {
				t.Fatalf("full scan: segment %d offset %d: %s", id, off, why)
			}
			o := hop{kind: h.kind, db: int(h.db), key: string(key), val: string(value), exp: h.expireAt}
			switch h.kind {
			case kindSwapDB:
				o.db2 = int(binary.LittleEndian.Uint32(value))
			case kindIDPut, kindIDDelete:
				o.id = ID(binary.BigEndian.Uint64(key))
			case kindOpHash, kindOpList, kindOpSet, kindOpZSet:
				o.val = string(value[opPrefixSize:])
			}
			if h.kind.IsValue() || h.kind.isChainOp() || h.kind == kindDelete || h.kind == kindExpire || h.kind == kindFlushDB || h.kind == kindSwapDB {
				if o.db >= ndb {
					t.Fatalf("full scan: record for db %d", o.db)
				}
			}
			m.apply(o)
			off += size
		}
	}
	return m
}

// harness runs one randomized workload with crash points.
type harness struct {
	t           *testing.T
	r           *rand.Rand
	opts        Options
	fs          *MemFS
	s           *Store
	durable     *mstate // state after the first D operations
	ops         []hop   // operations D+1..N (applied to durable when a Sync covers them)
	cur         *mstate // state after all N operations
	nextID      ID
	points      int // crash points checked
	snapLoads   int // Opens of crash images that loaded a snapshot
	compactions int
	partials    int // compactions forced to rewrite a suffix only
	appends     int // AppendOp calls
	chained     int // crash points whose recovered state has a non-empty chain
	// pending crash images taken inside the running operation.
	pending []*MemFS
	hookP   float64 // probability of a crash image per FS operation
	// hmu guards pending and hr, the randomness of the FS hooks: they run
	// on the store's background goroutines too (seals, prepared segments).
	hmu sync.Mutex
	hr  *rand.Rand
}

// resetPending drops the crash images taken so far.
func (h *harness) resetPending() {
	h.hmu.Lock()
	h.pending = nil
	h.hmu.Unlock()
}

// takePending returns the crash images taken so far and drops them.
func (h *harness) takePending() []*MemFS {
	h.hmu.Lock()
	defer h.hmu.Unlock()
	p := h.pending
	h.pending = nil
	return p
}

const harnessDir = "/data"

var harnessVerbose = flag.Bool("harness.v", false, "log every operation of the crash harness")

func crashOpts(r *rand.Rand) CrashOptions {
	o := CrashOptions{Rand: r, Torn: TornMode(r.IntN(3)), PageSize: 512}
	if r.IntN(4) == 0 {
		o.PageSize = 4096
	}
	if r.IntN(3) == 0 {
		o.DirKeepUnsynced = 0.5
	}
	return o
}

func (h *harness) hook(op, name string) error {
	h.hmu.Lock()
	defer h.hmu.Unlock()
	if h.hr.Float64() < h.hookP {
		h.pending = append(h.pending, h.fs.Crash(crashOpts(h.hr)))
	}
	return nil
}

// openCheck opens c, checks the prefix property, the full scan and
// idempotence, and returns the recovered state.
func (h *harness) openCheck(c *MemFS, label string) *mstate {
	t := h.t
	t.Helper()
	h.points++
	// Crash images may also be taken in the middle of the recovery itself
	// (not recursively).
	var mid []*MemFS
	if !strings.Contains(label, "inside the recovery") {
		c.SetHook(func(op, name string) error {
			h.hmu.Lock()
			defer h.hmu.Unlock()
			if h.hr.IntN(6) == 0 {
				mid = append(mid, c.Crash(crashOpts(h.hr)))
			}
			return nil
		})
	}
	// Check, read-only, sees what Open will cut as torn tails, and nothing
	// else: a crash makes no other damage.
	if rep, err := Check(harnessDir, CheckOptions{FS: c}); err != nil {
		t.Fatalf("%s: Check of the crash image: %v", label, err)
	} else {
		for _, p := range rep.Problems {
			if p.Kind != ProblemTornTail {
				ids, _ := listSegments(c, harnessDir)
				var segs []string
				for _, id := range ids {
					b, _ := readFile(c, filepath.Join(harnessDir, segName(id)))
					segs = append(segs, fmt.Sprintf("%d:%d bytes,state %d", id, len(b), headerState(b, int64(len(b)), id)))
				}
				meta, _ := readFile(c, harnessDir+"/"+metaName)
				t.Fatalf("%s: Check of the crash image: %v\nsegments %v\n%s", label, rep.Problems, segs, meta)
			}
		}
	}
	opts := h.opts
	opts.FS = c
	s, err := Open(harnessDir, opts)
	if err != nil {
		t.Fatalf("%s: Open of the crash image: %v", label, err)
	}
	c.SetHook(nil)
	if s.Stats().LoadedSnapshot {
		h.snapLoads++
	}
	defer func() {
		h.hmu.Lock()
		taken := mid
		mid = nil
		h.hmu.Unlock()
		for i, mc := range taken {
			h.openCheck(mc, fmt.Sprintf("%s, crash %d inside the recovery", label, i))
		}
	}()
	got := dumpStore(t, s)
	for _, d := range got.dbs {
		if slices.ContainsFunc(slices.Collect(maps.Values(d)), func(v mval) bool { return v.ops != "" }) {
			h.chained++
			break
		}
	}
	if *harnessVerbose {
		names, _ := c.List(harnessDir)
		meta, _ := readFile(c, harnessDir+"/"+metaName)
		t.Logf("%s: files %v, stats %+v\n%s", label, names, s.Stats(), meta)
	}
	// The prefix property.
	m := h.durable.clone()
	ok := m.equal(got)
	for i := 0; !ok && i < len(h.ops); i++ {
		m.apply(h.ops[i])
		ok = m.equal(got)
	}
	if !ok {
		t.Fatalf("%s: recovered state is no prefix of the %d operations since the last sync;\nagainst the durable state: %s\nagainst the latest: %s",
			label, len(h.ops), h.durable.diff(got), h.cur.diff(got))
	}
	// Recovery is durable: a crash image right after it has the same state.
	again := c.Crash(crashOpts(h.r))
	if err := s.Close(); err != nil {
		t.Fatalf("%s: Close after recovery: %v", label, err)
	}
	if scan := scanLogState(t, c, harnessDir, len(got.dbs)); !scan.equal(got) {
		t.Fatalf("%s: index differs from a full scan of the log: %s", label, scan.diff(got))
	}
	for i, fs := range []*MemFS{again, c} {
		opts.FS = fs
		s2, err := Open(harnessDir, opts)
		if err != nil {
			t.Fatalf("%s: reopen %d: %v", label, i, err)
		}
		if got2 := dumpStore(t, s2); !got2.equal(got) {
			t.Fatalf("%s: reopen %d (0: crash after recovery, 1: after Close) changed the state: %s", label, i, got.diff(got2))
		}
		if err := s2.Close(); err != nil {
			t.Fatalf("%s: close of reopen %d: %v", label, i, err)
		}
	}
	return got
}

// synced marks every operation so far as durable.
func (h *harness) synced() {
	for _, o := range h.ops {
		h.durable.apply(o)
	}
	h.ops = h.ops[:0]
}

// do runs one random operation, then checks the crash images taken inside
// it.
func (h *harness) do(i int) {
	t, r := h.t, h.r
	t.Helper()
	ndb := h.opts.Databases
	db := r.IntN(ndb)
	key := fmt.Sprintf("k%d", r.IntN(24))
	val := func() string {
		n := r.IntN(200)
		switch r.IntN(20) {
		case 0:
			n = 1000 + r.IntN(4000) // past a segment: a segment of its own
		case 1, 2:
			n = 300 + r.IntN(600)
		}
		return fmt.Sprintf("%d:%s", i, randBytes(r, n))
	}
	exp := func() int64 {
		if r.IntN(3) == 0 {
			return 1_700_000_000_000 + r.Int64N(1_000_000)
		}
		return 0
	}
	var o hop
	var err error
	h.resetPending()
	s := h.s
	switch p := r.IntN(100); {
	case p < 6:
		// A fold: a collection's new image, streamed to the file in pieces
		// when over imageChunk (256 here), so crash images are taken
		// between its writes.
		v := val()
		o = hop{kind: KindHash + Kind(r.IntN(4)), db: db, key: key, val: v, exp: exp(), label: "set image"}
		err = s.DB(db).SetImage([]byte(o.key), o.kind, o.exp, len(v), imageFill(v, 1+r.IntN(50)))
	case p < 38:
		o = hop{kind: Kind(1 + r.IntN(5)), db: db, key: key, val: val(), exp: exp(), label: "set"}
		err = s.DB(db).Set([]byte(o.key), o.kind, []byte(o.val), o.exp)
	case p < 56:
		// An operation appended to a visible collection's chain.
		var keys []string
		for k, v := range h.cur.dbs[db] {
			if v.kind.IsCollection() && visible(v) {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return
		}
		slices.Sort(keys)
		key = keys[r.IntN(len(keys))]
		n := r.IntN(40)
		if r.IntN(30) == 0 {
			n = 1000 + r.IntN(4000) // past a segment
		}
		kind := h.cur.dbs[db][key].kind
		o = hop{kind: opKind(kind), db: db, key: key, val: fmt.Sprintf("%d:%s", i, randBytes(r, n)), label: "append op"}
		var cb int64
		cb, err = s.DB(db).AppendOp([]byte(key), kind, []byte(o.val))
		if err == nil && cb <= 0 {
			t.Fatalf("op %d: AppendOp returned chainBytes %d", i, cb)
		}
		h.appends++
	case p < 62:
		o = hop{kind: kindDelete, db: db, key: key, label: "delete"}
		_, err = s.DB(db).Delete([]byte(key))
	case p < 70:
		if v, ok := h.cur.dbs[db][key]; ok && !visible(v) {
			return // an expired key is gone for the layers above (they never revive one); compaction may drop it
		}
		o = hop{kind: kindExpire, db: db, key: key, exp: exp(), label: "expire"}
		_, err = s.DB(db).SetExpire([]byte(key), o.exp)
	case p < 72:
		o = hop{kind: kindFlushDB, db: db, label: "flushdb"}
		err = s.DB(db).Flush()
	case p < 73:
		o = hop{kind: kindFlushAll, label: "flushall"}
		err = s.FlushAll()
	case p < 76:
		o = hop{kind: kindSwapDB, db: db, db2: r.IntN(ndb), label: "swapdb"}
		err = s.SwapDB(o.db, o.db2)
	case p < 78:
		// A snapshot of the index (as the background goroutine writes
		// them); it syncs the log it covers.
		h.resetPending()
		if err := s.snapshot(); err != nil {
			t.Fatalf("op %d: snapshot: %v", i, err)
		}
		for j, c := range h.takePending() {
			h.openCheck(c, fmt.Sprintf("op %d, crash %d inside a snapshot", i, j))
		}
		h.resetPending()
		h.synced()
		return
	case p < 81:
		// A compaction of the sealed segments (BGREWRITEAOF); its switch
		// makes the whole log durable.
		h.resetPending()
		before := s.Stats().Compactions
		// Half the compactions rewrite a random suffix of the sealed
		// segments (a partial compaction), wherever chooseStart would
		// start: any suffix after the last database operation is valid.
		forced := false
		if r.IntN(2) == 0 {
			s.hooks.compactStart = func(sv []segSurvey, chosen int) int {
				lo := 0
				for i, g := range sv {
					if g.dbOp {
						lo = i + 1
					}
				}
				if lo >= len(sv) {
					return chosen
				}
				i := lo + r.IntN(len(sv)-lo)
				forced = i > 0
				return i
			}
		}
		err := s.compact()
		s.hooks.compactStart = nil
		if err != nil && !errors.Is(err, errCompactAborted) {
			t.Fatalf("op %d: compact: %v", i, err)
		}
		for j, c := range h.takePending() {
			h.openCheck(c, fmt.Sprintf("op %d, crash %d inside a compaction", i, j))
		}
		h.resetPending()
		if *harnessVerbose {
			names, _ := h.fs.List(harnessDir)
			c := h.fs.Crash(CrashOptions{})
			cn, _ := c.List(harnessDir)
			t.Logf("op %d: compaction: %v; files %v; crash image files %v", i, err, names, cn)
		}
		if err == nil && s.Stats().Compactions > before { // nil also when there was nothing to compact
			h.compactions++
			if forced {
				h.partials++
			}
			h.synced()
		}
		return
	case p < 90:
		o = hop{kind: kindIDPut, val: val(), label: "id put"}
		o.id, err = s.Put([]byte(o.val))
		if err == nil && o.id != h.nextID {
			t.Fatalf("Put returned id %d, want %d", o.id, h.nextID)
		}
		h.nextID++
	default:
		ids := slices.Collect(maps.Keys(h.cur.ids))
		if len(ids) == 0 {
			return
		}
		slices.Sort(ids)
		o = hop{kind: kindIDDelete, id: ids[r.IntN(len(ids))], label: "id delete"}
		err = s.Delete(o.id)
	}
	if err != nil {
		t.Fatalf("op %d (%s): %v", i, o.label, err)
	}
	if *harnessVerbose {
		t.Logf("op %d: %s db %d db2 %d key %q exp %d id %d", i, o.label, o.db, o.db2, o.key, o.exp, o.id)
	}
	h.ops = append(h.ops, o)
	h.cur.apply(o)
	inside := h.takePending()
	for j, c := range inside {
		h.openCheck(c, fmt.Sprintf("op %d (%s), crash %d inside it", i, o.label, j))
	}
	if h.opts.BufferWrites && r.IntN(3) == 0 {
		s.FlushWrites() // as the server does before a reply
	}
	syncNow := h.opts.Sync == SyncAlways || r.IntN(10) == 0
	if syncNow {
		if err := s.Sync(); err != nil {
			t.Fatalf("op %d: Sync: %v", i, err)
		}
		for j, c := range h.takePending() { // taken inside Sync: before it completed
			h.openCheck(c, fmt.Sprintf("op %d (%s), crash %d inside its Sync", i, o.label, j))
		}
		h.resetPending()
		h.synced()
	}
	if r.IntN(3) == 0 {
		h.openCheck(h.fs.Crash(crashOpts(h.r)), fmt.Sprintf("after op %d (%s, synced %v)", i, o.label, syncNow))
	}
}

// run executes nops operations, with a clean Close and reopen in the
// middle now and then, and a final Close.
func (h *harness) run(nops int) {
	t := h.t
	h.fs = NewMemFS()
	h.durable, h.cur, h.nextID = newMState(h.opts.Databases), newMState(h.opts.Databases), 1
	h.fs.SetHook(h.hook)
	opts := h.opts
	opts.FS = h.fs
	var err error
	if h.s, err = Open(harnessDir, opts); err != nil {
		t.Fatal(err)
	}
	for i := range nops {
		h.do(i)
		if h.r.IntN(100) == 0 || i == nops-1 {
			h.resetPending()
			if err := h.s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			for j, c := range h.takePending() { // inside Close: at least the synced part
				h.openCheck(c, fmt.Sprintf("after op %d, crash %d inside Close", i, j))
			}
			h.resetPending()
			h.synced() // a clean Close covers everything
			if got := h.openCheck(h.fs.Crash(crashOpts(h.r)), fmt.Sprintf("after Close at op %d", i)); !got.equal(h.cur) {
				t.Fatalf("after Close at op %d: %s", i, h.cur.diff(got))
			}
			if i == nops-1 {
				break
			}
			if h.s, err = Open(harnessDir, opts); err != nil {
				t.Fatalf("reopen after Close: %v", err)
			}
			if got := dumpStore(t, h.s); !got.equal(h.cur) {
				t.Fatalf("reopen after Close at op %d: %s", i, h.cur.diff(got))
			}
		}
	}
}

// TestCrashHarness runs the crash-consistency harness (see above) for each
// sync policy until a few thousand crash points have been checked
// (-short: a few hundred). The seed is printed; -seed replays it.
func TestCrashHarness(t *testing.T) {
	seed := testSeed(t)
	target := 5000
	if testing.Short() {
		target = 300
	}
	for _, pol := range []struct {
		name     string
		sync     SyncPolicy
		buffered bool
	}{{"sync=always", SyncAlways, false}, {"sync=no", SyncNo, false}, {"sync=no,buffered", SyncNo, true}} {
		bufBit := uint64(0)
		if pol.buffered {
			bufBit = 1
		}
		t.Run(pol.name, func(t *testing.T) {
			points, ops, snaps, compactions, partials, appends, chained := 0, 0, 0, 0, 0, 0, 0
			for run := uint64(0); points < target; run++ {
				h := &harness{
					t:     t,
					r:     rand.New(rand.NewPCG(seed, run<<8|uint64(pol.sync)|bufBit<<4)),
					hr:    rand.New(rand.NewPCG(^seed, run<<8|uint64(pol.sync)|bufBit<<4)),
					opts:  Options{Sync: pol.sync, SegmentSize: 4096, Databases: 3, SnapshotInterval: -1, SnapshotLogBytes: -1, CompactRatio: -1, Now: fixedClock(harnessNow), BufferWrites: pol.buffered, imageChunk: 256, pwriteOnly: true},
					hookP: 0.08,
				}
				h.opts.TrustSnapshot = h.r.IntN(2) == 0
				n := 150 + h.r.IntN(150)
				h.run(n)
				points += h.points
				snaps += h.snapLoads
				compactions += h.compactions
				partials += h.partials
				appends += h.appends
				chained += h.chained
				ops += n
			}
			t.Logf("%d crash points checked over %d operations (%d recoveries loaded a snapshot, %d compactions, %d of them partial, %d AppendOps, %d recoveries with chains)", points, ops, snaps, compactions, partials, appends, chained)
			if appends == 0 || chained == 0 {
				t.Fatal("no chain was recovered: the harness does not cover AppendOp")
			}
			if compactions == 0 || partials == 0 {
				t.Fatal("no compaction, or no partial one, ran: the harness does not cover them")
			}
			if snaps == 0 {
				t.Fatal("no recovery loaded a snapshot: the harness does not cover them")
			}
		})
	}
}
