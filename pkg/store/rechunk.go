package store

import "go.uber.org/zap"

// Huge folios for sealed segments.
//
// The active segment is written in small pieces (one flush per batch of
// replies), and Linux keeps what small writes put in the page cache in
// small folios: a read through the mapping then maps 16 pages (or one
// small folio) per page fault, one page-table entry per 4 KiB, and on a
// virtual machine each entry is a hypervisor exit. Reading a log of 1 GB
// written that way at random cost about 16k faults and over half a second
// of CPU the first time (perf/results/hotpath.md, "Sealed segments in huge
// folios"). Written or read in whole aligned 2 MiB chunks instead, the file
// sits in 2 MiB folios that one entry maps (compaction writes its outputs
// so). A sealed segment is never written again, so once it is durable its
// page cache can be dropped and read back from the disk in 2 MiB folios:
// rechunk does that, in the background, for each segment a rotation
// sealed. The active segment cannot be treated so: small writes into 2 MiB
// folios cost ext4 a walk of the folio's 512 buffer heads each.

// rechunkSealed rechunks the segments sealed since the last call, under
// compactMu (so that no compaction retires them meanwhile and Close waits
// for it). Best effort: a failure is logged and changes nothing a reader
// can see. Called by compactLoop.
func (s *Store) rechunkSealed() {
	s.appendMu.Lock()
	q := s.rechunkQ
	s.rechunkQ = nil
	s.appendMu.Unlock()
	if len(q) == 0 || !hugeFolios() {
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
		s.rechunks.Add(1)
	}
}
