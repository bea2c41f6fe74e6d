package store

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// A backup (backup.go) is a gzip-compressed tar archive of a point-in-time
// copy of the data directory, written by Store.Backup while reads and
// writes go on, and turned back into a data directory by Restore. Its
// entries, in this order:
//
//	metadata.toon      the store's metadata as of the backup's point in time
//	                   (clean_shutdown: true; the last segment's size is its
//	                   data's end)
//	data-NNNNNN.toon   every segment, ascending; the last one cut at the
//	                   write offset of the point in time (no zero tail)
//	backup.toon        the manifest: TOON text naming every entry above with
//	                   its size and CRC32C, and the last sequence number
//
// index.toon is left out: the log is authoritative, and Open of a restored
// directory replays it (and writes a snapshot at Close). An archive
// extracted by hand (tar xzf) is an openable data directory too.
//
// Restore accepts exactly that: the manifest must come last and match every
// entry, and the gzip trailer must check, so a truncated or damaged file is
// ErrBadBackup and never a partial restore.
const (
	backupManifest = "backup.toon"
	backupFormat   = 1
	backupChunk    = 1 << 20 // bytes copied between checks of closed
)

// BackupInfo describes a backup.
type BackupInfo struct {
	// LastSequence is the sequence number of the newest record the backup
	// holds: every write acknowledged before the backup started is in it,
	// none that started after.
	LastSequence uint64
	Segments     int   // segment files
	Bytes        int64 // bytes of segment data (uncompressed)
	// Created is when the point in time was taken.
	Created time.Time
}

// Backup writes a consistent point-in-time copy of the store to w, as a
// gzip-compressed tar archive (the layout is in backup.go), while reads
// and writes continue.
//
// The point in time is taken under the append lock, which writers hold
// while they append a record and update the index: the backup holds
// exactly the writes that completed before it (BackupInfo.LastSequence),
// and none of the writes that run while it is copied. Writers wait only
// for that capture (a list of segments and the write offset). The log is
// append-only, so the copy then reads the captured prefix of the log from
// the mappings without a lock. A compaction would retire captured
// segments, so Backup holds the compaction mutex while it copies: a
// compaction (background or BGREWRITEAOF) waits for the backup, as Redis
// defers a rewrite while a save runs. Close makes a running Backup return
// ErrClosed (it checks between chunks of 1 MiB).
//
// Backup does not sync anything: the copy is of the data written, durable
// or not. It returns ErrClosed after Close, and w's errors.
func (s *Store) Backup(w io.Writer) (BackupInfo, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()

	s.appendMu.Lock()
	if s.closed.Load() {
		s.appendMu.Unlock()
		return BackupInfo{}, ErrClosed
	}
	_ = s.flushLocked() // the copy reads the mapping (which has the records even if the write failed)
	ss := *s.segs.Load()
	meta := s.metaLocked(true)
	active, woff := s.active, s.woff
	info := BackupInfo{LastSequence: s.seq, Created: time.Now()}
	if s.hooks.backupCaptured != nil {
		s.hooks.backupCaptured()
	}
	s.appendMu.Unlock()

	var segs []*segment
	for _, g := range ss {
		if g != nil {
			segs = append(segs, g)
		}
	}
	for i := range meta.segments {
		if meta.segments[i].id == active.id {
			meta.segments[i].size = woff
		}
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return BackupInfo{}, err
	}
	bw := &backupWriter{tw: tar.NewWriter(gz), mod: info.Created, crc: newCRC32C()}
	if err := bw.file(metaName, meta.encode()); err != nil {
		return BackupInfo{}, err
	}
	for _, g := range segs {
		n := int64(len(g.data))
		if g == active {
			n = woff
		}
		if err := bw.begin(segName(g.id), n); err != nil {
			return BackupInfo{}, err
		}
		// The header is written anew, without flags: the backup holds
		// every record up to its point in time (no predecessor is
		// unsealed), and a seal may be rewriting the file's header now.
		if err := bw.write(encodeSegHeader(g.id, 0)[:min(n, segHeaderSize)]); err != nil {
			return BackupInfo{}, err
		}
		for off := int64(segHeaderSize); off < n; off += backupChunk {
			if s.closed.Load() {
				return BackupInfo{}, ErrClosed // Close waits for compactMu: stop reading the mappings
			}
			if err := bw.write(g.data[off:min(n, off+backupChunk)]); err != nil {
				return BackupInfo{}, err
			}
		}
		bw.end()
		info.Segments++
		info.Bytes += n
	}
	man := manifest{format: backupFormat, created: info.Created, lastSequence: info.LastSequence, files: bw.files}
	if err := bw.file(backupManifest, man.encode()); err != nil {
		return BackupInfo{}, err
	}
	if err := bw.tw.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	return info, nil
}

// BackupFile writes a backup (Backup) to the file path crash-safely: to
// path.tmp, fsynced, renamed over path, and the directory fsynced, so that
// path holds the previous backup or the new one, never a partial file.
// It goes through Options.FS. A path that names one of the store's own
// files (metadata.toon, index.toon, LOCK, a segment) is refused with
// ErrBackupTarget.
func (s *Store) BackupFile(path string) (info BackupInfo, err error) {
	base := filepath.Base(path)
	if sameDir(filepath.Dir(path), s.dir) && isStoreName(base) {
		return BackupInfo{}, fmt.Errorf("%w: %s", ErrBackupTarget, path)
	}
	tmp := path + tmpSuffix
	f, err := s.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			s.fs.Remove(tmp)
		}
	}()
	buf := bufio.NewWriterSize(&fileWriter{f: f}, 1<<20)
	if info, err = s.Backup(buf); err != nil {
		return BackupInfo{}, err
	}
	if err = buf.Flush(); err == nil {
		err = f.Sync()
	}
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: write %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: close %s: %w", tmp, err)
	}
	if err = s.fs.Rename(tmp, path); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	if err := syncDir(s.fs, filepath.Dir(path)); err != nil {
		return BackupInfo{}, err
	}
	return info, nil
}

// BackupDir writes a backup of the data directory dir, which no process
// may have open, to the file path (BackupFile): it opens dir as a Store
// (recovering it as Open does: a torn tail is cut), writes the backup and
// closes it. opts are Open's, except that a zero Databases means the
// metadata's count and background compaction is off. ErrLocked if a
// server has dir open: back it up through the server (BGSAVE) instead.
func BackupDir(dir, path string, opts Options) (BackupInfo, error) {
	if opts.FS == nil {
		opts.FS = OSFS()
	}
	if opts.Databases == 0 {
		if m, err := readMetadata(opts.FS, dir); err == nil && m != nil && m.databases > 0 {
			opts.Databases = m.databases
		}
	}
	opts.CompactRatio = -1
	s, err := Open(dir, opts)
	if err != nil {
		return BackupInfo{}, err
	}
	info, err := s.BackupFile(path)
	if cerr := s.Close(); err == nil && cerr != nil {
		return BackupInfo{}, cerr
	}
	return info, err
}

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// FS is the filesystem of the target directory; nil means OSFS().
	FS FS
	// Force replaces a store already in the target directory. Without it a
	// directory holding a store's files (metadata.toon, segments,
	// index.toon) is refused with ErrNotEmpty.
	Force  bool
	Logger *zap.Logger // default zap.NewNop()
}

// Restore reads a backup written by Backup from r and makes dir (created
// if missing) a data directory holding exactly the backed-up state. dir
// must not be open by any process (ErrLocked otherwise: it takes the
// LOCK). Files that are not the store's (a dump.rdb, say) are left alone.
//
// The whole archive is read and verified first (every entry's size and
// CRC32C against the manifest, the manifest present and last, the gzip
// checksum) into temporary files; a truncated, damaged or foreign file is
// an error wrapping ErrBadBackup and leaves dir as it was. Then the
// switch is crash-safe, as Check's Fix's: the segments, renumbered after
// any existing one, become data-N.toon.fix files, and one atomic
// replacement of metadata.toon (first_segment) switches to them, after
// which the old store's files are removed. A crash leaves the old store
// or the restored one. Finally Check verifies the result.
func Restore(r io.Reader, dir string, opts RestoreOptions) (info BackupInfo, err error) {
	fs := opts.FS
	if fs == nil {
		fs = OSFS()
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return BackupInfo{}, fmt.Errorf("store: create %s: %w", dir, err)
	}
	lock, err := fs.Lock(filepath.Join(dir, lockName))
	if err != nil {
		return BackupInfo{}, err
	}
	locked := true
	defer func() {
		if locked {
			lock.Close()
		}
	}()

	names, err := fs.List(dir)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: read %s: %w", dir, err)
	}
	var existing []string
	for _, name := range names {
		if name != lockName && isStoreName(name) {
			existing = append(existing, name)
		}
	}
	if len(existing) > 0 && !opts.Force {
		return BackupInfo{}, fmt.Errorf("%w: %s holds %s", ErrNotEmpty, dir, strings.Join(existing, ", "))
	}
	// Settle a store being replaced: finish or undo an interrupted rewrite
	// (so that no stale first_segment can adopt the files written below).
	if len(existing) > 0 {
		old, err := readMetadata(fs, dir)
		if err != nil {
			old = nil // a damaged store, which Force replaces
		}
		if err := finishSwitch(fs, dir, old, log); err != nil {
			return BackupInfo{}, err
		}
		if old != nil && old.firstSegment != 0 {
			old.firstSegment = 0
			if err := writeMetadata(fs, dir, old); err != nil {
				return BackupInfo{}, err
			}
		}
		if names, err = fs.List(dir); err != nil {
			return BackupInfo{}, fmt.Errorf("store: read %s: %w", dir, err)
		}
	}
	var maxID uint32
	for _, name := range names {
		if id, ok := parseSegName(name); ok {
			maxID = max(maxID, id)
		}
	}

	// Read and verify the whole archive into temporary files.
	var tmps []string
	defer func() {
		if err != nil {
			for _, t := range tmps {
				fs.Remove(t)
			}
		}
	}()
	var meta *metadata
	var ids []uint32 // new ids of the backup's segments, in order
	info, meta, err = readBackup(r, func(h *tar.Header, m *metadata) (io.Writer, func() error, error) {
		if len(ids) >= len(m.segments) {
			return nil, nil, fmt.Errorf("segment %s not listed in %s", h.Name, metaName)
		}
		id := maxID + 1 + uint32(len(ids))
		if id > maxSegmentID {
			return nil, nil, errors.New("segment ids exhausted")
		}
		ids = append(ids, id)
		tmp := filepath.Join(dir, segName(id)+tmpSuffix)
		f, err := fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, nil, err
		}
		tmps = append(tmps, tmp)
		sw := &segWriter{f: f, id: id, name: tmp}
		done := func() error {
			err := f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return copyError{fmt.Errorf("store: restore %s: %w", tmp, err)}
			}
			return nil
		}
		return sw, done, nil
	})
	if err != nil {
		return BackupInfo{}, err
	}
	if len(ids) != len(meta.segments) {
		return BackupInfo{}, fmt.Errorf("%w: %s lists %d segments, the archive holds %d", ErrBadBackup, metaName, len(meta.segments), len(ids))
	}

	// The switch: .fix files, then metadata.toon naming first_segment.
	if err := fs.Remove(filepath.Join(dir, snapName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return BackupInfo{}, fmt.Errorf("store: restore: remove %s: %w", snapName, err)
	}
	for j, t := range tmps {
		if err := fs.Rename(t, filepath.Join(dir, segName(ids[j])+fixSuffix)); err != nil {
			return BackupInfo{}, fmt.Errorf("store: restore: %w", err)
		}
	}
	tmps = nil // a crash now leaves .fix files, which Open removes unless the switch happened
	if err := syncDir(fs, dir); err != nil {
		return BackupInfo{}, err
	}
	for j := range meta.segments {
		meta.segments[j].id = ids[j]
	}
	meta.firstSegment = ids[0]
	meta.cleanShutdown = true
	if err := writeMetadata(fs, dir, meta); err != nil { // the switch
		return BackupInfo{}, err
	}
	if err := finishSwitch(fs, dir, meta, log); err != nil {
		return BackupInfo{}, err
	}
	meta.firstSegment = 0
	if err := writeMetadata(fs, dir, meta); err != nil {
		return BackupInfo{}, err
	}
	// The store's other files (leftovers of the old store) go too.
	if names, err = fs.List(dir); err != nil {
		return BackupInfo{}, fmt.Errorf("store: read %s: %w", dir, err)
	}
	for _, name := range names {
		if _, isSeg := parseSegName(name); !isSeg && name != metaName && name != lockName && isStoreName(name) {
			if err := fs.Remove(filepath.Join(dir, name)); err != nil {
				return BackupInfo{}, fmt.Errorf("store: restore: %w", err)
			}
		}
	}
	lock.Close()
	locked = false
	log.Info("store: restored a backup", zap.String("dir", dir), zap.Uint64("last_sequence", info.LastSequence),
		zap.Int("segments", info.Segments), zap.Int64("bytes", info.Bytes))

	rep, err := Check(dir, CheckOptions{FS: fs, Logger: log})
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: restore: check %s: %w", dir, err)
	}
	if !rep.OK() {
		return BackupInfo{}, fmt.Errorf("%w: the restored directory %s fails its check: %s", ErrBadBackup, dir, rep.Problems[0])
	}
	return info, nil
}

// VerifyBackup reads a whole backup from r and checks it as Restore does
// (every entry against the manifest, the gzip checksum), writing nothing.
// A truncated, damaged or foreign file is an error wrapping ErrBadBackup.
func VerifyBackup(r io.Reader) (BackupInfo, error) {
	info, _, err := readBackup(r, func(*tar.Header, *metadata) (io.Writer, func() error, error) {
		return io.Discard, func() error { return nil }, nil
	})
	return info, err
}

// readBackup reads and verifies a backup archive. For each segment entry
// it calls open, copies the entry to the writer returned and calls done.
// Any defect of the archive is ErrBadBackup; errors of open, the writer
// and done are returned as they are.
func readBackup(r io.Reader, open func(h *tar.Header, m *metadata) (io.Writer, func() error, error)) (BackupInfo, *metadata, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadBackup, fmt.Sprintf(format, args...))
	}
	damaged := func(err error) error {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return bad("the file ends early (truncated: an interrupted copy or a full disk?)")
		}
		return bad("%v", err)
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return BackupInfo{}, nil, damaged(fmt.Errorf("not a gzip file: %w", err))
	}
	tr := tar.NewReader(gz)
	crc := newCRC32C()
	var files []manifestFile
	var meta *metadata
	var man *manifest
	var info BackupInfo
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return BackupInfo{}, nil, damaged(err)
		}
		if man != nil {
			return BackupInfo{}, nil, bad("entry %q after %s", h.Name, backupManifest)
		}
		if h.Typeflag != tar.TypeReg || h.Size < 0 {
			return BackupInfo{}, nil, bad("entry %q is not a regular file", h.Name)
		}
		switch id, isSeg := parseSegName(h.Name); {
		case h.Name == metaName || h.Name == backupManifest:
			if meta == nil && h.Name != metaName {
				return BackupInfo{}, nil, bad("%s is not the first entry", metaName)
			}
			if h.Size > 1<<30 {
				return BackupInfo{}, nil, bad("%s of %d bytes", h.Name, h.Size)
			}
			var b bytes.Buffer
			if _, err := io.Copy(&b, tr); err != nil {
				return BackupInfo{}, nil, damaged(err)
			}
			if h.Name == metaName {
				if meta != nil {
					return BackupInfo{}, nil, bad("two %s entries", metaName)
				}
				if meta, err = parseMetadata(b.Bytes()); err != nil {
					return BackupInfo{}, nil, bad("%v", err)
				}
				if meta.formatVersion > metaFormatVersion {
					return BackupInfo{}, nil, bad("%s has format_version %d, this build reads up to %d", metaName, meta.formatVersion, metaFormatVersion)
				}
				if meta.firstSegment != 0 {
					return BackupInfo{}, nil, bad("%s names first_segment", metaName)
				}
				crc.Reset()
				crc.Write(b.Bytes())
				files = append(files, manifestFile{metaName, h.Size, crc.Sum32()})
				continue
			}
			m, err := parseManifest(b.Bytes())
			if err != nil {
				return BackupInfo{}, nil, err
			}
			man = m
		case isSeg && meta != nil:
			n := len(files) - 1 // segments read so far
			if n >= len(meta.segments) || meta.segments[n].id != id || meta.segments[n].size != h.Size {
				return BackupInfo{}, nil, bad("segment %s (%d bytes) is not the next one %s lists", h.Name, h.Size, metaName)
			}
			w, done, err := open(h, meta)
			if err != nil {
				return BackupInfo{}, nil, fmt.Errorf("store: restore %s: %w", h.Name, err)
			}
			crc.Reset()
			hdr := &headerCheck{id: id}
			_, err = io.Copy(io.MultiWriter(w, crc, hdr), tr)
			if derr := done(); err == nil {
				err = derr
			}
			if err != nil {
				var ce copyError
				if errors.As(err, &ce) {
					return BackupInfo{}, nil, err
				}
				return BackupInfo{}, nil, damaged(err)
			}
			if len(hdr.buf) < segHeaderSize {
				return BackupInfo{}, nil, bad("%s: shorter than a segment header", h.Name)
			}
			if hdr.err != nil {
				return BackupInfo{}, nil, bad("%s: %v", h.Name, hdr.err)
			}
			files = append(files, manifestFile{h.Name, h.Size, crc.Sum32()})
			info.Segments++
			info.Bytes += h.Size
		default:
			return BackupInfo{}, nil, bad("unexpected entry %q (not a ToonStore backup?)", h.Name)
		}
	}
	// The gzip trailer (CRC-32 and length of everything) is checked when
	// the stream is read to its end.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return BackupInfo{}, nil, damaged(err)
	}
	switch {
	case meta == nil:
		return BackupInfo{}, nil, bad("no %s (not a ToonStore backup?)", metaName)
	case man == nil:
		return BackupInfo{}, nil, bad("no %s at the end (truncated?)", backupManifest)
	case man.format > backupFormat:
		return BackupInfo{}, nil, bad("backup_format %d, this build reads up to %d", man.format, backupFormat)
	case !slices.Equal(man.files, files):
		return BackupInfo{}, nil, bad("the entries do not match %s (damaged)", backupManifest)
	case man.lastSequence != meta.lastSequence:
		return BackupInfo{}, nil, bad("%s says last_sequence %d, %s %d", backupManifest, man.lastSequence, metaName, meta.lastSequence)
	}
	info.LastSequence, info.Created = man.lastSequence, man.created
	return info, meta, nil
}

// newCRC32C returns a CRC32C hash (the stdlib caches the table).
func newCRC32C() hash.Hash32 { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }

// manifest is backup.toon:
//
//	backup_format: 1
//	created: 2026-11-25T23:50:00.123456789Z
//	last_sequence: 1234
//	files[3]{name,size,crc32c}:
//	  metadata.toon,213,3735928559
//	  data-000001.toon,67108864,123456789
//	  data-000002.toon,4096,987654321
type manifest struct {
	format       int
	created      time.Time
	lastSequence uint64
	files        []manifestFile
}

type manifestFile struct {
	name string
	size int64
	crc  uint32
}

func (m *manifest) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "backup_format: %d\n", m.format)
	fmt.Fprintf(&b, "created: %s\n", m.created.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "last_sequence: %d\n", m.lastSequence)
	fmt.Fprintf(&b, "files[%d]{name,size,crc32c}:\n", len(m.files))
	for _, f := range m.files {
		fmt.Fprintf(&b, "  %s,%d,%d\n", f.name, f.size, f.crc)
	}
	return b.Bytes()
}

// parseManifest parses backup.toon; any defect is ErrBadBackup.
func parseManifest(data []byte) (*manifest, error) {
	m := &manifest{}
	bad := func(line int, text string) error {
		return fmt.Errorf("%w: %s line %d: %q", ErrBadBackup, backupManifest, line, text)
	}
	rows := -1
	for i, text := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if rows >= 0 && strings.HasPrefix(text, "  ") {
			f := strings.Split(strings.TrimSpace(text), ",")
			if len(f) != 3 {
				return nil, bad(i+1, text)
			}
			size, err1 := strconv.ParseInt(f[1], 10, 64)
			crc, err2 := strconv.ParseUint(f[2], 10, 32)
			if err1 != nil || err2 != nil {
				return nil, bad(i+1, text)
			}
			m.files = append(m.files, manifestFile{f[0], size, uint32(crc)})
			continue
		}
		k, v, ok := strings.Cut(text, ":")
		if !ok {
			return nil, bad(i+1, text)
		}
		v = strings.TrimSpace(v)
		var err error
		switch {
		case k == "backup_format":
			m.format, err = strconv.Atoi(v)
		case k == "created":
			m.created, err = time.Parse(time.RFC3339Nano, v)
		case k == "last_sequence":
			m.lastSequence, err = strconv.ParseUint(v, 10, 64)
		case strings.HasPrefix(k, "files["):
			n, fields, ok := strings.Cut(strings.TrimPrefix(k, "files["), "]")
			if !ok || fields != "{name,size,crc32c}" || v != "" {
				return nil, bad(i+1, text)
			}
			rows, err = strconv.Atoi(n)
		}
		if err != nil {
			return nil, bad(i+1, text)
		}
	}
	if m.format == 0 || rows != len(m.files) {
		return nil, fmt.Errorf("%w: %s is incomplete", ErrBadBackup, backupManifest)
	}
	return m, nil
}

// backupWriter writes the tar entries of a backup, recording each one's
// size and CRC32C for the manifest.
type backupWriter struct {
	tw    *tar.Writer
	mod   time.Time
	crc   hash.Hash32
	cur   manifestFile
	files []manifestFile
}

func (w *backupWriter) begin(name string, size int64) error {
	err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: w.mod, Format: tar.FormatPAX})
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	w.cur = manifestFile{name: name, size: size}
	w.crc.Reset()
	return nil
}

func (w *backupWriter) write(b []byte) error {
	w.crc.Write(b)
	if _, err := w.tw.Write(b); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

func (w *backupWriter) end() {
	w.cur.crc = w.crc.Sum32()
	w.files = append(w.files, w.cur)
}

func (w *backupWriter) file(name string, data []byte) error {
	if err := w.begin(name, int64(len(data))); err != nil {
		return err
	}
	if err := w.write(data); err != nil {
		return err
	}
	w.end()
	return nil
}

// fileWriter turns a File into an io.Writer (sequential WriteAt).
type fileWriter struct {
	f   File
	off int64
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.f.WriteAt(b, w.off)
	w.off += int64(n)
	return n, err
}

// copyError marks a failure of the destination of a restore (not a defect
// of the archive).
type copyError struct{ err error }

func (e copyError) Error() string { return e.err.Error() }
func (e copyError) Unwrap() error { return e.err }

// segWriter writes a restored segment to its temporary file, giving it the
// header of its new id.
type segWriter struct {
	f    File
	id   uint32
	name string
	off  int64
	err  error
}

func (w *segWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(b)
	if w.off < segHeaderSize {
		h := encodeSegHeader(w.id, 0) // a backup holds every record: no predecessor is unsealed
		k := min(int64(len(b)), segHeaderSize-w.off)
		if _, err := w.f.WriteAt(h[w.off:w.off+k], w.off); err != nil {
			w.err = copyError{fmt.Errorf("store: restore %s: %w", w.name, err)}
			return 0, w.err
		}
		w.off += k
		b = b[k:]
	}
	if len(b) > 0 {
		if _, err := w.f.WriteAt(b, w.off); err != nil {
			w.err = copyError{fmt.Errorf("store: restore %s: %w", w.name, err)}
			return 0, w.err
		}
		w.off += int64(len(b))
	}
	return n, nil
}

// headerCheck verifies the segment header at the start of a stream.
type headerCheck struct {
	id  uint32
	buf []byte
	err error
}

func (c *headerCheck) Write(b []byte) (int, error) {
	if len(c.buf) < segHeaderSize {
		c.buf = append(c.buf, b[:min(len(b), segHeaderSize-len(c.buf))]...)
		if len(c.buf) == segHeaderSize {
			_, c.err = checkSegHeader(c.buf, c.id)
		}
	}
	return len(b), nil
}

// isStoreName reports whether name is a file the store keeps in its data
// directory (or a temporary of one).
func isStoreName(name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, tmpSuffix), fixSuffix)
	if _, ok := parseSegName(base); ok {
		return true
	}
	switch base {
	case metaName, snapName, lockName:
		return true
	}
	return strings.HasPrefix(name, "compact-") && strings.HasSuffix(name, tmpSuffix)
}

// sameDir reports whether a and b name the same directory (after Clean
// and Abs; a failing Abs compares the cleaned names).
func sameDir(a, b string) bool {
	if aa, err := filepath.Abs(a); err == nil {
		a = aa
	}
	if bb, err := filepath.Abs(b); err == nil {
		b = bb
	}
	return filepath.Clean(a) == filepath.Clean(b)
}
