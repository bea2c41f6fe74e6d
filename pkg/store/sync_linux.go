package store

// syncSegment makes every byte written to g durable, by pwrite or through
// its mapping: on Linux the page cache is unified, so fdatasync of the file
// writes back the pages dirtied either way.
func syncSegment(g *segment) error { return g.f.Sync() }
