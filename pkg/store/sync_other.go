//go:build !linux

package store

// syncSegment msyncs the mapping, then fsyncs the file.
func syncSegment(g *segment) error {
	if err := g.m.Flush(); err != nil {
		return err
	}
	return g.f.Sync()
}

// dropMapped does nothing: the page-table cost it avoids is measured on
// Linux only (sync_linux.go).
func dropMapped(g *segment, lo, hi int64) {}

// populateRead does nothing: the page-fault cost it avoids is measured on
// Linux only (sync_linux.go).
func populateRead(g *segment, lo, hi int64) {}

// startWriteback does nothing: sync_file_range is Linux's.
func startWriteback(g *segment, lo, hi int64) {}
