package store

import (
	"io"
	"os"
	"slices"

	mmap "github.com/edsrzf/mmap-go"
)

// OSFS returns the operating system's filesystem: files are os.Files,
// Sync is fdatasync, Allocate is fallocate, Map is mmap (mmap-go), Lock is
// flock. It is what Open uses when Options.FS is nil.
func OSFS() FS { return osFS{} }

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }
func (osFS) Lock(name string) (io.Closer, error)         { return lockFile(name) }

func (osFS) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	slices.Sort(names)
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (f osFile) writeAtHeld(p []byte, off int64) (int, error) { return pwriteHeld(f.File, p, off) }

func (f osFile) Sync() error               { return fdatasync(f.File) }
func (f osFile) Allocate(size int64) error { return fallocate(f.File, size) }

func (f osFile) Map(size int, writable bool) (Mapping, error) {
	prot := mmap.RDONLY
	if writable {
		prot = mmap.RDWR
	}
	m, err := mmap.MapRegion(f.File, size, prot, 0, 0)
	if err != nil {
		return nil, err
	}
	return osMapping{m}, nil
}

type osMapping struct{ m mmap.MMap }

func (m osMapping) Bytes() []byte { return m.m }
func (m osMapping) Flush() error  { return m.m.Flush() }
func (m osMapping) Unmap() error  { return m.m.Unmap() }
