package store

import "fmt"

// hooks are the file operations that tests replace to inject failures
// (a full disk, a failing fsync). Open uses defaultHooks. (A MemFS hook is
// the other way to inject failures, at the level of every FS operation.)
type hooks struct {
	// allocate reserves size bytes of disk for a new segment file.
	allocate func(f File, size int64) error
	// sync makes the data of a segment durable.
	sync func(g *segment) error
	// writeback starts writing [lo, hi) of a segment's file to the disk
	// (writebackLoop; tests record the ranges).
	writeback func(g *segment, lo, hi int64)
	// backupCaptured, if set, runs inside Backup while it holds appendMu,
	// right after the point in time is taken (tests read the state there).
	backupCaptured func()
	// snapshotCaptured, if set, runs in a snapshot right after the state
	// is captured and appendMu released; beforeSwitch runs in a compaction
	// right before its switch takes appendMu (tests append there).
	snapshotCaptured, beforeSwitch func()
	// compactStart, if set, replaces compaction's choice of the first
	// segment to rewrite: it gets the survey and chooseStart's index into
	// it and returns the index to use (tests force partial rewrites). A
	// partial rewrite over a database operation is refused (an error).
	compactStart func(sv []segSurvey, chosen int) int
}

func defaultHooks() *hooks {
	return &hooks{allocate: preallocate, sync: syncSegment, writeback: startWriteback}
}

// preallocate reserves size bytes for f with fallocate, or by writing zeros
// where the filesystem cannot (never a sparse file: a hole would need a
// block at write time and a full disk would then be a SIGBUS).
func preallocate(f File, size int64) error {
	err := f.Allocate(size)
	if err == nil || !errNoFallocate(err) {
		return err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return fmt.Errorf("writing zeros: %w", err)
		}
		off += n
	}
	return nil
}
