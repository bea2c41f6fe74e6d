package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FS is the filesystem the engine does all its file I/O through: Open,
// recovery, segment creation, metadata, snapshots, Check and compaction use
// nothing else. Options.FS selects it; nil means the operating system's
// (OSFS). Tests use a MemFS, which can simulate a crash by keeping only what
// was synced (see MemFS.Crash); pebble's vfs package is the model.
//
// Names are paths as the os package takes them. Implementations must be
// safe for concurrent use; a File is used by one goroutine at a time except
// for ReadAt and the bytes of its Mapping.
type FS interface {
	// OpenFile opens name with os.O_* flags (O_RDONLY, O_RDWR, O_WRONLY,
	// O_CREATE, O_EXCL, O_TRUNC). A missing file is an error wrapping
	// os.ErrNotExist.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Rename atomically replaces newname by oldname. It is durable only
	// after SyncDir of the directory.
	Rename(oldname, newname string) error
	// Remove deletes a file. It is durable only after SyncDir.
	Remove(name string) error
	// MkdirAll creates dir and its parents.
	MkdirAll(dir string, perm os.FileMode) error
	// List returns the names of dir's entries in ascending order.
	List(dir string) ([]string, error)
	// SyncDir makes the creations, renames and removals of entries of dir
	// durable.
	SyncDir(dir string) error
	// Lock takes an exclusive lock on the file name (created if missing),
	// held until the returned Closer is closed. A lock held elsewhere (this
	// or another process) is an error wrapping ErrLocked.
	Lock(name string) (io.Closer, error)
}

// File is an open file of an FS.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Size returns the current size of the file.
	Size() (int64, error)
	// Sync makes the file's data (and the size) durable, including bytes
	// written through a Mapping (fdatasync on Linux, whose page cache is
	// unified; elsewhere callers Flush the mapping first).
	Sync() error
	// Truncate sets the size of the file.
	Truncate(size int64) error
	// Allocate reserves disk blocks for the first size bytes and extends
	// the file to at least size (fallocate mode 0). errNoFallocate(err)
	// reports a filesystem that cannot; callers then write zeros.
	Allocate(size int64) error
	// Map maps the first size bytes of the file (read-write if writable).
	// The file must be at least size bytes long and must not be truncated
	// while mapped.
	Map(size int, writable bool) (Mapping, error)
}

// Mapping is a memory mapping of a File. Bytes is the file's contents:
// writes to it are writes to the file (made durable by File.Sync after
// Flush). Bytes stays valid and never moves until Unmap.
type Mapping interface {
	Bytes() []byte
	// Flush writes dirty pages back (msync); on Linux File.Sync does it.
	Flush() error
	// Unmap releases the mapping; Bytes must not be used afterwards.
	Unmap() error
}

// readFile returns the contents of name.
func readFile(fs FS, name string) ([]byte, error) {
	f, err := fs.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}

// writeFileAtomic replaces name by data crash-safely: a temporary file is
// written and synced, renamed over name, and the directory synced. After a
// crash name holds either the old or the new contents, never a mix.
func writeFileAtomic(fs FS, name string, data []byte) error {
	tmp := name + tmpSuffix
	f, err := fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, name)
	}
	if err != nil {
		fs.Remove(tmp)
		return err
	}
	return syncDir(fs, filepath.Dir(name))
}

// syncDir fsyncs directory dir so that renames and creations in it are
// durable.
func syncDir(fs FS, dir string) error {
	if err := fs.SyncDir(dir); err != nil {
		return fmt.Errorf("store: sync dir %s: %w", dir, err)
	}
	return nil
}
