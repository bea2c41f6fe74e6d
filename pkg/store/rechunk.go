package store

import "go.uber.org/zap"

// Huge folios for sealed segments.
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
// writes its outputs so). A sealed segment is never written again, so once it is durable its
// page cache can be dropped and read back from the disk in 2 MiB folios:
// rechunk does that, in the background, for each segment a rotation
// sealed. The active segment cannot be treated so: small writes into 2 MiB
// folios cost ext4 a walk of the folio's 512 buffer heads each.

// rechunkSealed rechunks the segments sealed since the last call, under
// compactMu (so that no compaction retires them meanwhile and Close waits
// for it). Best effort: a failure is logged and changes nothing a reader
// can see. After the first segment it checks that the segment is now
// mapped with huge entries; if not (a filesystem or kernel without large
// folios in the page cache, such as ext4 before Linux 6.16), the pass
// would only read segments back in small pages, and it stops for good.
// Called by compactLoop.
func (s *Store) rechunkSealed() {
	s.appendMu.Lock()
	q := s.rechunkQ
	s.rechunkQ = nil
	s.appendMu.Unlock()
	if len(q) == 0 || s.noRechunk.Load() {
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
		g := ss[id]
		f, ok := g.f.(osFile)
		if !ok {
			continue // not the operating system's file (MemFS)
		}
		if err := rechunk(f.File, g.data); err != nil {
			s.log.Debug("store: could not rebuild a sealed segment's page cache in huge folios", zap.String("path", g.path), zap.Error(err))
			continue
		}
		if s.rechunks.Add(1) == 1 && pmdMappedKB(g.data) == 0 {
			s.noRechunk.Store(true)
			s.log.Info("store: sealed segments stay in small pages: this filesystem does not cache files in huge pages", zap.String("dir", s.dir))
			return
		}
	}
}
