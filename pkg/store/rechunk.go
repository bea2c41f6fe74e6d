package store

import "go.uber.org/zap"

// Huge folios for the log.
//
// The active segment is written in small pieces (one flush per batch of
// replies), and Linux keeps what small writes put in the page cache in
// small folios: a read through the mapping then maps 16 pages (or one
// small folio) per page fault, one page-table entry per 4 KiB. On a
// virtual machine such a fault costs tens of microseconds: reading 1 GB
// written that way at random took 16k faults and 0.6 s of CPU the first
// time in a standalone check (perf/results/hotpath.md, "Sealed segments
// in huge folios"). Written or read in whole aligned 2 MiB chunks
// instead, the file sits in 2 MiB folios that one entry maps (compaction
// writes its outputs so). A 2 MiB chunk of the log that the write offset
// has passed is never written again, so once it is durable its page cache
// can be dropped and read back from the disk in a 2 MiB folio: rechunk
// does that, in the background, for each segment a rotation sealed, and
// for the filled chunks of the active segment once the log has stopped
// growing for a pass (after a bulk load, say). While writes go on, the
// active segment's chunks are left alone: they are read within moments of
// being written, before a pass could rebuild them, and rebuilding them
// then cost as much as the faults it saved (hotpath.md, "Tried and not
// kept: rebuilding the active segment's chunks"). The chunk being written
// is never rebuilt: small writes into a 2 MiB folio cost ext4 a walk of
// the folio's 512 buffer heads each.
//
// All of this runs only with Options.Rechunk. On the virtual machines the
// project measures on, the pages the read-back fills are new to the
// guest, and the first touch of each 4 KiB page of them stalls for a
// hypervisor fault, while the pages the writes filled were touched by
// the copy already: GETs after a bulk load of 1 KiB values cost 1.6x
// the CPU with the rebuild, and the faults it saves, mapped 2 MiB at a
// time by segment.mapChunk, cost less (hotpath.md, "Rebuilding sealed
// segments: off by default").

// rechunkSealed rechunks the segments sealed since the last call and, if
// the log has not grown since the last call, the filled chunks of the
// active segment, under compactMu (so that no compaction retires a
// segment meanwhile and Close waits for it). Best effort: a failure is
// logged and changes nothing a reader can see. After the first rechunk it
// checks that the segment is now mapped with huge entries; if not (a
// filesystem or kernel without large folios in the page cache, such as
// ext4 before Linux 6.16), the pass would only read the log back in small
// pages, and it stops for good. Called by compactLoop only.
func (s *Store) rechunkSealed() {
	s.appendMu.Lock()
	q := s.rechunkQ
	s.rechunkQ = nil
	active := s.active
	filled := active.filled.Load()
	s.appendMu.Unlock()
	idle := active == s.rechunkSeen && filled == s.rechunkSeenAt
	s.rechunkSeen, s.rechunkSeenAt = active, filled
	idle = idle && filled-active.rechunked >= rechunkChunk
	if s.noRechunk.Load() || len(q) == 0 && !idle {
		return
	}
	if !hugeFolios() {
		s.noRechunk.Store(true)
		return
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	for _, id := range q {
		if s.closed.Load() {
			return
		}
		ss := *s.segs.Load()
		if int(id) >= len(ss) || ss[id] == nil {
			continue // compacted away
		}
		if !s.rechunkSegment(ss[id], int64(len(ss[id].data))) {
			return
		}
	}
	if idle && !s.closed.Load() {
		// Sealed meanwhile or not, the chunks below filled are written.
		s.rechunkSegment(active, filled)
	}
}

// rechunkChunk is the unit of rechunk: a huge page.
const rechunkChunk = 2 << 20

// rechunkSegment rechunks g's whole chunks from g.rechunked up to end. It
// reports false if rechunking has just stopped for good. The caller holds
// compactMu.
func (s *Store) rechunkSegment(g *segment, end int64) bool {
	hi := end &^ (rechunkChunk - 1)
	if hi <= g.rechunked {
		return true
	}
	f, ok := g.f.(osFile)
	if !ok {
		return true // not the operating system's file (MemFS)
	}
	if err := rechunk(f.File, g.data, int(g.rechunked), int(hi)); err != nil {
		s.log.Debug("store: could not rebuild a segment's page cache in huge folios", zap.String("path", g.path), zap.Error(err))
		return true
	}
	g.rechunked = hi
	if s.rechunks.Add(1) == 1 && pmdMappedKB(g.data) == 0 {
		s.noRechunk.Store(true)
		s.log.Info("store: the log stays in small pages: this filesystem does not cache files in huge pages", zap.String("dir", s.dir))
		return false
	}
	return true
}
