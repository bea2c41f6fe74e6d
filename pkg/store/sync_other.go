//go:build !linux

package store

// syncSegment msyncs the mapping, then fsyncs the file.
func syncSegment(g *segment) error {
	if err := g.m.Flush(); err != nil {
		return err
	}
	return g.f.Sync()
}
