package store

// syncSegment makes every byte written through g's mapping durable: on
// Linux the page cache is unified, so fdatasync of the file writes back the
// pages dirtied through the mapping.
func syncSegment(g *segment) error { return g.f.Sync() }
