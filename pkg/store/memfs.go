package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// MemFS is an in-memory FS that can simulate a crash, for tests (pebble's
// crashable vfs.MemFS is the model). It tracks, per file, the current
// contents and the contents as of the last File.Sync, and per directory the
// current entries and the entries as of the last SyncDir. Crash returns a
// new MemFS holding only what a machine that lost power would find: the
// synced directory entries, each naming a file with its synced bytes, plus
// (if asked) a random selection of the pages written since.
//
// A Mapping's Bytes is the file's contents itself, so writes through it are
// writes to the file. Directories made by MkdirAll are durable at once (the
// engine creates its directory once, before anything else). Locks are
// process-local. Safe for concurrent use, with one caveat: File.Sync copies
// the contents, so it must not run concurrently with writes through a
// mapping of the same file (the race detector would object; a real fsync
// is fine with that).
type MemFS struct {
	mu    sync.Mutex // guards every field and every memInode below
	dirs  map[string]*memDir
	locks map[string]bool
	hook  func(op, name string) error
}

// memDir is a directory: its entries now and as of its last SyncDir.
type memDir struct {
	ents   map[string]*memInode
	synced map[string]*memInode
}

// memInode is a file's contents. Names are entries of a memDir; one inode
// may sit under a name in ents and another in synced (a rename not yet
// synced).
type memInode struct {
	data   []byte // current contents; mappings alias it, so it is never reallocated while mapped
	synced []byte // contents as of the last Sync
	mapped int    // live mappings
}

// NewMemFS returns an empty in-memory filesystem.
func NewMemFS() *MemFS {
	return &MemFS{dirs: map[string]*memDir{}, locks: map[string]bool{}}
}

// SetHook installs fn, called before every mutating operation with its
// name ("create", "write", "sync", "truncate", "allocate", "rename",
// "remove", "syncdir") and the path; a non-nil error fails the operation
// with it (failure injection: ENOSPC, EIO). fn may call Crash: that is how
// a test takes a crash image in the middle of an engine operation. fn is
// called without the MemFS lock held, from the goroutine doing the
// operation. nil removes the hook.
func (fs *MemFS) SetHook(fn func(op, name string) error) {
	fs.mu.Lock()
	fs.hook = fn
	fs.mu.Unlock()
}

func (fs *MemFS) callHook(op, name string) error {
	fs.mu.Lock()
	h := fs.hook
	fs.mu.Unlock()
	if h == nil {
		return nil
	}
	if err := h(op, name); err != nil {
		return &os.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

// TornMode says what Crash keeps of the file data written since the last
// Sync.
type TornMode uint8

// Torn modes.
const (
	TornNone   TornMode = iota // only synced bytes survive
	TornPrefix                 // a random prefix (in file order) of the changed pages survives
	TornSubset                 // each changed page survives or not at random (mmap writeback order is arbitrary)
)

// CrashOptions configure MemFS.Crash.
type CrashOptions struct {
	// Rand drives every random choice; nil keeps exactly the synced state
	// (as TornNone with DirKeepUnsynced 0).
	Rand *rand.Rand
	// Torn selects what survives of unsynced file data.
	Torn TornMode
	// PageSize is the granularity of torn writes; default 512 (a sector).
	PageSize int
	// DirKeepUnsynced is the probability that a directory keeps its current
	// entries (as if its unsynced creations, renames and removals had all
	// reached the disk) rather than those of its last SyncDir.
	DirKeepUnsynced float64
}

// Kill returns a new MemFS holding what the files hold after the process
// using fs is killed now: everything it wrote, with what is synced (and
// would survive a later Crash) as in fs. Locks and the hook are not
// carried over.
func (fs *MemFS) Kill() *MemFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	nfs := NewMemFS()
	done := map[*memInode]*memInode{}
	inode := func(in *memInode) *memInode {
		ni, ok := done[in]
		if !ok {
			ni = &memInode{data: slices.Clone(in.data), synced: slices.Clone(in.synced)}
			done[in] = ni
		}
		return ni
	}
	for p, d := range fs.dirs {
		nd := &memDir{ents: map[string]*memInode{}, synced: map[string]*memInode{}}
		for n, in := range d.ents {
			nd.ents[n] = inode(in)
		}
		for n, in := range d.synced {
			nd.synced[n] = inode(in)
		}
		nfs.dirs[p] = nd
	}
	return nfs
}

// Crash returns a new MemFS holding what would be on disk after a power
// loss now (see CrashOptions); fs itself is unchanged and stays usable.
// Locks and the hook are not carried over.
func (fs *MemFS) Crash(o CrashOptions) *MemFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if o.PageSize <= 0 {
		o.PageSize = 512
	}
	nfs := NewMemFS()
	done := map[*memInode]*memInode{}
	paths := make([]string, 0, len(fs.dirs))
	for p := range fs.dirs {
		paths = append(paths, p)
	}
	slices.Sort(paths) // deterministic use of o.Rand
	for _, p := range paths {
		d := fs.dirs[p]
		ents := d.synced
		if o.Rand != nil && o.DirKeepUnsynced > 0 && o.Rand.Float64() < o.DirKeepUnsynced {
			ents = d.ents
		}
		names := make([]string, 0, len(ents))
		for n := range ents {
			names = append(names, n)
		}
		slices.Sort(names)
		nd := &memDir{ents: map[string]*memInode{}, synced: map[string]*memInode{}}
		for _, n := range names {
			in := ents[n]
			ni, ok := done[in]
			if !ok {
				b := in.crashContents(o)
				ni = &memInode{data: b, synced: slices.Clone(b)}
				done[in] = ni
			}
			nd.ents[n], nd.synced[n] = ni, ni
		}
		nfs.dirs[p] = nd
	}
	return nfs
}

// crashContents returns the synced bytes of in plus the unsynced pages o
// selects.
func (in *memInode) crashContents(o CrashOptions) []byte {
	out := slices.Clone(in.synced)
	if out == nil {
		out = []byte{}
	}
	if o.Rand == nil || o.Torn == TornNone {
		return out
	}
	cur, syn, ps := in.data, in.synced, o.PageSize
	n := max(len(cur), len(syn))
	part := func(b []byte, lo, hi int) []byte { return b[min(lo, len(b)):min(hi, len(b))] }
	var changed []int
	for lo := 0; lo < n; lo += ps {
		if !bytes.Equal(part(cur, lo, lo+ps), part(syn, lo, lo+ps)) {
			changed = append(changed, lo)
		}
	}
	var keep []int
	switch o.Torn {
	case TornPrefix:
		keep = changed[:o.Rand.IntN(len(changed)+1)]
	case TornSubset:
		for _, lo := range changed {
			if o.Rand.IntN(2) == 0 {
				keep = append(keep, lo)
			}
		}
	}
	for _, lo := range keep {
		hi := min(lo+ps, len(cur))
		if lo >= hi {
			continue
		}
		if len(out) < hi {
			out = append(out, make([]byte, hi-len(out))...)
		}
		copy(out[lo:hi], cur[lo:hi])
	}
	return out
}

func (fs *MemFS) split(name string) (dir, base string) {
	name = filepath.Clean(name)
	return filepath.Dir(name), filepath.Base(name)
}

// lookup returns the inode of name. The caller holds mu.
func (fs *MemFS) lookup(op, name string) (*memDir, *memInode, error) {
	dir, base := fs.split(name)
	d := fs.dirs[dir]
	if d == nil {
		return nil, nil, &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	}
	in := d.ents[base]
	if in == nil {
		return d, nil, &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	}
	return d, in, nil
}

// OpenFile implements FS.
func (fs *MemFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if err := fs.callHook("create", name); err != nil {
			return nil, err
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, in, err := fs.lookup("open", name)
	switch {
	case d == nil:
		return nil, err
	case in == nil && flag&os.O_CREATE == 0:
		return nil, err
	case in != nil && flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrExist}
	case in == nil:
		in = &memInode{}
		_, base := fs.split(name)
		d.ents[base] = in
	}
	if flag&os.O_TRUNC != 0 {
		if in.mapped > 0 {
			return nil, &os.PathError{Op: "truncate", Path: name, Err: errors.New("memfs: file is mapped")}
		}
		in.data = nil
	}
	return &memFile{fs: fs, in: in, name: name}, nil
}

// Rename implements FS.
func (fs *MemFS) Rename(oldname, newname string) error {
	if err := fs.callHook("rename", oldname); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	od, in, err := fs.lookup("rename", oldname)
	if err != nil {
		return err
	}
	ndir, nbase := fs.split(newname)
	nd := fs.dirs[ndir]
	if nd == nil {
		return &os.PathError{Op: "rename", Path: newname, Err: os.ErrNotExist}
	}
	_, obase := fs.split(oldname)
	delete(od.ents, obase)
	nd.ents[nbase] = in
	return nil
}

// Remove implements FS.
func (fs *MemFS) Remove(name string) error {
	if err := fs.callHook("remove", name); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, _, err := fs.lookup("remove", name)
	if err != nil {
		return err
	}
	_, base := fs.split(name)
	delete(d.ents, base)
	return nil
}

// MkdirAll implements FS; the directories are durable at once.
func (fs *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if fs.dirs[p] == nil {
			fs.dirs[p] = &memDir{ents: map[string]*memInode{}, synced: map[string]*memInode{}}
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// List implements FS. Subdirectories are listed too.
func (fs *MemFS) List(dir string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir = filepath.Clean(dir)
	d := fs.dirs[dir]
	if d == nil {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: os.ErrNotExist}
	}
	var names []string
	for n := range d.ents {
		names = append(names, n)
	}
	for p := range fs.dirs {
		if p != dir && filepath.Dir(p) == dir {
			names = append(names, filepath.Base(p))
		}
	}
	slices.Sort(names)
	return names, nil
}

// SyncDir implements FS: the current entries of dir become the ones a
// crash keeps.
func (fs *MemFS) SyncDir(dir string) error {
	if err := fs.callHook("syncdir", dir); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d := fs.dirs[filepath.Clean(dir)]
	if d == nil {
		return &os.PathError{Op: "sync", Path: dir, Err: os.ErrNotExist}
	}
	d.synced = make(map[string]*memInode, len(d.ents))
	for n, in := range d.ents {
		d.synced[n] = in
	}
	return nil
}

// Lock implements FS (a process-local lock; the file is created).
func (fs *MemFS) Lock(name string) (io.Closer, error) {
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	f.Close()
	name = filepath.Clean(name)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.locks[name] {
		return nil, fmt.Errorf("%w: %s", ErrLocked, filepath.Dir(name))
	}
	fs.locks[name] = true
	return &memLock{fs: fs, name: name}, nil
}

type memLock struct {
	fs   *MemFS
	name string
	once sync.Once
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.fs.mu.Lock()
		delete(l.fs.locks, l.name)
		l.fs.mu.Unlock()
	})
	return nil
}

// memFile is an open file of a MemFS.
type memFile struct {
	fs   *MemFS
	in   *memInode
	name string
}

var errMemMapped = errors.New("memfs: cannot resize a mapped file")

func (f *memFile) ReadAt(b []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if off < 0 {
		return 0, errors.New("memfs: negative offset")
	}
	if off >= int64(len(f.in.data)) {
		return 0, io.EOF
	}
	n := copy(b, f.in.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(b []byte, off int64) (int, error) {
	if err := f.fs.callHook("write", f.name); err != nil {
		return 0, err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if end := off + int64(len(b)); end > int64(len(f.in.data)) {
		if err := f.in.resize(end); err != nil {
			return 0, err
		}
	}
	return copy(f.in.data[off:], b), nil
}

// resize sets the size of the file. The caller holds mu.
func (in *memInode) resize(n int64) error {
	if in.mapped > 0 {
		return errMemMapped
	}
	if n <= int64(len(in.data)) {
		in.data = in.data[:n:n]
		return nil
	}
	in.data = append(in.data[:len(in.data):len(in.data)], make([]byte, n-int64(len(in.data)))...)
	return nil
}

func (f *memFile) Close() error { return nil }

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.in.data)), nil
}

func (f *memFile) Sync() error {
	if err := f.fs.callHook("sync", f.name); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.in.synced = slices.Clone(f.in.data)
	if f.in.synced == nil {
		f.in.synced = []byte{}
	}
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.fs.callHook("truncate", f.name); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.in.resize(size)
}

func (f *memFile) Allocate(size int64) error {
	if err := f.fs.callHook("allocate", f.name); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if size <= int64(len(f.in.data)) {
		return nil
	}
	return f.in.resize(size)
}

func (f *memFile) Map(size int, writable bool) (Mapping, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if size > len(f.in.data) {
		return nil, fmt.Errorf("memfs: map %d bytes of %s, which has %d", size, f.name, len(f.in.data))
	}
	f.in.mapped++
	return &memMapping{fs: f.fs, in: f.in, b: f.in.data[:size:size]}, nil
}

type memMapping struct {
	fs   *MemFS
	in   *memInode
	b    []byte
	once sync.Once
}

func (m *memMapping) Bytes() []byte { return m.b }
func (m *memMapping) Flush() error  { return nil }
func (m *memMapping) Unmap() error {
	m.once.Do(func() {
		m.fs.mu.Lock()
		m.in.mapped--
		m.fs.mu.Unlock()
	})
	return nil
}
