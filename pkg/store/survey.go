package store

import (
	"encoding/binary"
	"fmt"
)

// surveyEvery: the survey judges one in surveyEvery of the records it
// could judge (values, operations, ids) and scales: an estimate within a
// few percent for a segment of thousands of records, at an eighth of the
// cost of judging them all (a first build that judged every record added
// about a quarter to BenchmarkCompact's CPU per key of 16 bytes; not kept).
const surveyEvery = 8

// partialShare is the share of the bytes a whole rewrite would reclaim
// that a partial compaction must reclaim to be chosen (chooseStart).
const partialShare = 0.9

// segSurvey is what a survey learned about one sealed segment.
type segSurvey struct {
	id    uint32
	bytes int64 // the segment's size
	live  int64 // bytes of the records the index still points to (estimated: see surveyEvery)
	keep  int64 // bytes of records a partial rewrite may have to keep though nothing points to them (deletions, expiry changes)
	dbOp  bool  // it holds a SWAPDB, FLUSHDB or FLUSHALL
	// values and others count its value records and its other records
	// but database operations, as compaction's pass 1 does (it sizes the
	// lists of moves with them).
	values, others int
}

// survey walks the sealed segments first..k (the ids of ss present) and
// estimates, per segment, the bytes of records the index still points to,
// with the same liveness test as compaction's pass 2 (a value record is
// live iff its key's slot holds its location, an operation iff it is in a
// chain, an id record iff the id index holds it), applied to one in
// surveyEvery of them. It reads the headers and those records' keys only
// (no checksum but for the database operations, which it decodes as pass 1
// does: what it learns only chooses what to rewrite, and pass 2 verifies
// every record it copies). A value record is judged in the
// database it was written to: after a SWAPDB it may count as dead though
// it moved, which only makes a whole rewrite look more worthwhile.
func (s *Store) survey(ss segSet, first, k uint32, y *yielder) ([]segSurvey, error) {
	var out []segSurvey
	var batch valueBatch
	var cand, sampled, sampledLive int64 // of the current segment: see scale
	flush := func() {                    // the batch's records are all in the current segment
		s.compactSink += batch.touch(s)
		for i := range batch.n {
			v := &batch.v[i]
			d := &s.dbs[v.db]
			d.mu.RLock()
			live := d.t.findLoc(v.hash, v.loc) >= 0
			d.mu.RUnlock()
			if live {
				sampledLive += int64(len(v.rec))
			}
		}
		batch.n = 0
	}
	// scale sets the current segment's live bytes from its sample: the
	// live share of the sampled bytes, applied to all the bytes of the
	// records it could judge.
	scale := func(sv *segSurvey) {
		switch {
		case sampled > 0:
			sv.live = cand * sampledLive / sampled
		default:
			sv.live = cand // none sampled: assume they are live
		}
		cand, sampled, sampledLive = 0, 0, 0
	}
	for id := first; id <= k; id++ {
		if int(id) >= len(ss) || ss[id] == nil {
			continue
		}
		if s.closed.Load() {
			return nil, ErrClosed // Close waits for compactMu: stop reading the mappings
		}
		out = append(out, segSurvey{id: id, bytes: int64(len(ss[id].data))})
		sv := &out[len(out)-1]
		data := ss[id].data
		for off := int64(segHeaderSize); off < int64(len(data)); {
			b := data[off:]
			size, kind, ok := peekRecord(b)
			if !ok {
				// A database operation, the end of the data or damage:
				// decoded in full, as compaction's pass 1 does.
				_, _, _, n, st, why := decodeRecord(b)
				if st == recEnd {
					break
				}
				if st != recOK {
					return nil, fmt.Errorf("%w: %s offset %d: %s", ErrCorrupt, ss[id].path, off, why)
				}
				sv.dbOp = true
				off += n
				y.add(n)
				continue
			}
			klen := int64(binary.LittleEndian.Uint32(b[offKLen:]))
			if klen > size-recHeaderSize {
				return nil, fmt.Errorf("%w: %s offset %d: bad record header", ErrCorrupt, ss[id].path, off)
			}
			db := binary.LittleEndian.Uint32(b[offDB:])
			key := b[recHeaderSize : recHeaderSize+klen]
			loc := makeLoc(id, off)
			off += size
			y.add(size)
			if kind.IsValue() {
				sv.values++
			} else {
				sv.others++
			}
			if kind == kindDelete || kind == kindIDDelete || kind == kindExpire {
				sv.keep += size
				continue
			}
			if !kind.IsValue() && !kind.isChainOp() && kind != kindIDPut {
				continue
			}
			cand += size
			// One in surveyEvery by a hash of the location, not every
			// surveyEvery-th: a log alternating two kinds of record (an
			// operation, then a value) would sample one kind only.
			if (loc*0x9e3779b97f4a7c15)>>58 >= 64/surveyEvery {
				continue
			}
			sampled += size
			switch {
			case kind.IsValue() && int(db) < len(s.dbs):
				batch.v[batch.n] = pendingValue{key: key, rec: b[:size], loc: loc, hash: s.dbs[db].hash(key), db: int(db)}
				if batch.n++; batch.n == len(batch.v) {
					flush()
				}
			case kind.isChainOp() && int(db) < len(s.dbs):
				d := &s.dbs[db]
				h := d.hash(key)
				d.mu.RLock()
				live := d.opSlot(h, loc) >= 0
				d.mu.RUnlock()
				if live {
					sampledLive += size
				}
			case kind == kindIDPut && klen == 8:
				s.ids.mu.RLock()
				live := s.ids.findLoc(ID(binary.BigEndian.Uint64(key)), loc) >= 0
				s.ids.mu.RUnlock()
				if live {
					sampledLive += size
				}
			}
		}
		flush()
		scale(sv)
	}
	return out, nil
}

// chooseStart returns the index in sv of the first segment to rewrite: 0
// for a whole rewrite, or an i > 0 such that rewriting sv[i:] alone
// reclaims at least partialShare of what a whole rewrite would, with no
// database operation in sv[i:] (a partial rewrite keeps the records before
// it as they are, so the database operations after them must not be
// dropped: pass 2 drops them). Among those starts and the whole rewrite it
// takes the one that moves the fewest live bytes per byte reclaimed (the
// lowest write amplification), the earliest of equals: a dead segment
// costs nothing to include, a dense one only adds moves. A partial rewrite
// reclaims a segment's bytes less its live records and its deletions and
// expiry changes (which it may have to keep, for the records before it); a
// whole one reclaims all but the live records. So the segments left alone
// hold at most a tenth of the reclaimable bytes, and once they hold more a
// whole rewrite reclaims them.
func chooseStart(sv []segSurvey) int {
	var whole, live int64
	for _, g := range sv {
		whole += g.bytes - g.live
		live += g.live
	}
	best, bestCost := 0, float64(live)/float64(max(whole, 1))
	var part, moved int64
	for i := len(sv) - 1; i > 0 && !sv[i].dbOp; i-- {
		part += sv[i].bytes - sv[i].live - sv[i].keep
		moved += sv[i].live
		if part <= 0 || float64(part) < partialShare*float64(whole) {
			continue
		}
		if cost := float64(moved) / float64(part); cost < bestCost || cost == bestCost && best != 0 {
			best, bestCost = i, cost
		}
	}
	return best
}
