package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"
)

// ProblemKind classifies a Problem found by Check.
type ProblemKind uint8

// Problem kinds.
const (
	// ProblemBadCRC: a record whose header is plausible but whose checksum
	// does not match its bytes.
	ProblemBadCRC ProblemKind = iota + 1
	// ProblemBadHeader: bytes where a record should start that are no valid
	// record header (impossible length, unknown kind, non-zero reserved
	// bytes or padding, a zeroed header in the middle of the data).
	ProblemBadHeader
	// ProblemTornTail: the last segment, after an unclean shutdown, ends
	// with an invalid record and maybe more bytes: the writes a crash cut
	// short. Open cuts it off itself (and so does Fix); it is reported for
	// information.
	ProblemTornTail
	// ProblemStrayBytes: non-zero bytes after the end of the data of a
	// segment that must end in zeros (a sealed segment, or the last one
	// after a clean shutdown).
	ProblemStrayBytes
	// ProblemMissingSegment: a segment absent from a run of ids or listed in
	// the metadata but absent, or shorter than the metadata says.
	ProblemMissingSegment
	// ProblemBadSegmentHeader: a segment file whose 32-byte header is
	// damaged (its records are still checked and salvaged).
	ProblemBadSegmentHeader
	// ProblemBadSequence: a valid record whose sequence number does not
	// follow the previous record's.
	ProblemBadSequence
	// ProblemBadMetadata: metadata.toon cannot be parsed.
	ProblemBadMetadata
)

var problemNames = [...]string{
	ProblemBadCRC:           "bad crc",
	ProblemBadHeader:        "bad header",
	ProblemTornTail:         "torn tail",
	ProblemStrayBytes:       "stray bytes",
	ProblemMissingSegment:   "missing segment",
	ProblemBadSegmentHeader: "bad segment header",
	ProblemBadSequence:      "bad sequence",
	ProblemBadMetadata:      "bad metadata",
}

func (k ProblemKind) String() string {
	if int(k) < len(problemNames) && problemNames[k] != "" {
		return problemNames[k]
	}
	return fmt.Sprintf("problem(%d)", uint8(k))
}

// Problem is one defect found by Check.
type Problem struct {
	File   string // path of the file
	Offset int64  // byte offset in it where the defect starts
	Length int64  // bytes affected (skipped by a salvage), 0 if unknown
	Kind   ProblemKind
	Detail string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s offset %d: %s (%d bytes): %s", p.File, p.Offset, p.Kind, p.Length, p.Detail)
}

// CheckOptions configure Check.
type CheckOptions struct {
	// FS is the filesystem; nil means OSFS().
	FS FS
	// Fix rewrites the directory keeping every intact record (see Check).
	Fix bool
	// Progress, if set, is called from Check's goroutine with the bytes of
	// segments verified so far and the total, often enough to draw a
	// progress bar (at least every 4 MiB and after each segment), and once
	// more with done == total at the end.
	Progress func(done, total int64)
	// SegmentSize of the segments Fix writes; 0 means the metadata's, or
	// DefaultSegmentSize.
	SegmentSize int64
	Logger      *zap.Logger // default zap.NewNop()
}

// Report is the result of Check.
type Report struct {
	Segments int   // segment files checked
	Records  int64 // valid records found
	Bytes    int64 // bytes of segments read
	Problems []Problem
	// Fixed reports that Fix rewrote the directory; Salvaged counts the
	// records the rewrite kept and Dropped the bytes it left out.
	Fixed    bool
	Salvaged int64
	Dropped  int64
}

// OK reports whether Check found nothing but a torn tail (which Open
// handles itself): Open will succeed.
func (r *Report) OK() bool {
	for _, p := range r.Problems {
		if p.Kind != ProblemTornTail {
			return false
		}
	}
	return true
}

// progressStep is how often Check reports progress within a segment.
const progressStep = 4 << 20

// Check verifies the data directory dir without opening it as a Store: it
// takes the LOCK (ErrLocked if a Store or another Check has it), parses the
// metadata, then walks every segment in order and verifies every record
// (checksum, header, padding, sequence order) and the zeros after the end
// of the data, and reports every problem it finds, not just the first:
// after a damaged record it scans forward for the next 8-aligned offset
// where a valid record starts and goes on from there.
//
// Semantics follow Open's: in the last segment after an unclean shutdown,
// the first invalid record ends the log (ProblemTornTail, once, and nothing
// after it is salvaged, since those writes were never made durable as a
// whole); everywhere else an invalid record is corruption, which Open
// refuses.
//
// With opts.Fix, if any problem was found, Check rewrites the directory
// keeping every intact record, in order, byte for byte (sequence numbers
// and checksums unchanged), crash-safely: the records are written to new
// segment files data-N.toon.fix numbered after the last existing segment,
// each preallocated and fsynced, and the directory fsynced; then the
// metadata is replaced (atomically) naming the first new segment as
// first_segment and clean_shutdown: true: that is the switch. Then the
// .fix files are renamed to their final names and the old segments
// removed. Open finishes a switch a crash interrupted (renames .fix files
// at or above first_segment, removes segments below it) and removes .fix
// files of a rewrite that never switched, so after a crash at any point
// the directory is either the old one or the new one.
//
// The error is non-nil only when Check could not do its work (I/O errors,
// the lock); what it found is in the Report.
func Check(dir string, opts CheckOptions) (Report, error) {
	var rep Report
	fs := opts.FS
	if fs == nil {
		fs = OSFS()
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	lock, err := fs.Lock(filepath.Join(dir, lockName))
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	metaPath := filepath.Join(dir, metaName)
	meta, err := readMetadata(fs, dir)
	if errors.Is(err, ErrCorrupt) {
		rep.Problems = append(rep.Problems, Problem{File: metaPath, Kind: ProblemBadMetadata, Detail: err.Error()})
		meta = nil
	} else if err != nil {
		return rep, err
	}
	if err := finishSwitch(fs, dir, meta, log); err != nil {
		return rep, err
	}
	ids, err := listSegments(fs, dir)
	if err != nil {
		return rep, err
	}
	clean := meta != nil && meta.cleanShutdown

	// Missing segments: gaps (but those a partial compaction left, between
	// two segments the metadata lists), and those the metadata lists.
	for i := 1; i < len(ids); i++ {
		if meta.allowsGap(ids[i-1], ids[i]) {
			continue
		}
		for id := ids[i-1] + 1; id < ids[i]; id++ {
			rep.Problems = append(rep.Problems, Problem{File: filepath.Join(dir, segName(id)), Kind: ProblemMissingSegment,
				Detail: fmt.Sprintf("no segment between %s and %s", segName(ids[i-1]), segName(ids[i]))})
		}
	}
	metaSize := map[uint32]int64{}
	if meta != nil {
		for _, ms := range meta.segments {
			metaSize[ms.id] = ms.size
			if !slices.Contains(ids, ms.id) {
				rep.Problems = append(rep.Problems, Problem{File: filepath.Join(dir, segName(ms.id)), Kind: ProblemMissingSegment,
					Detail: "listed in " + metaName + " but missing"})
			}
		}
	}

	type segFile struct {
		id   uint32
		path string
		f    File
		m    Mapping
		data []byte
	}
	segs := make([]segFile, 0, len(ids))
	defer func() {
		for _, g := range segs {
			g.m.Unmap()
			g.f.Close()
		}
	}()
	var total int64
	for _, id := range ids {
		path := filepath.Join(dir, segName(id))
		f, err := fs.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return rep, fmt.Errorf("store: check: %w", err)
		}
		size, err := f.Size()
		if err != nil {
			f.Close()
			return rep, fmt.Errorf("store: check: %w", err)
		}
		var m Mapping = emptyMapping{}
		if size > 0 {
			if m, err = f.Map(int(size), false); err != nil {
				f.Close()
				return rep, fmt.Errorf("store: check: map %s: %w", path, err)
			}
		}
		segs = append(segs, segFile{id, path, f, m, m.Bytes()})
		total += size
	}

	// keep collects the intact records, in order, for Fix.
	var keep [][]byte
	var done, lastReport int64
	progress := func(n int64) {
		done += n
		if opts.Progress != nil && (done-lastReport >= progressStep || done == total) {
			lastReport = done
			opts.Progress(done, total)
		}
	}
	// Segments from unwrittenFrom on were never synced (Open empties the
	// unwritten ones); predUnsealed reports whether segment n took records
	// before its predecessor was sealed (flagged, or unwritten).
	states := make([]int, len(segs))
	for n, g := range segs {
		states[n] = headerState(g.data, int64(len(g.data)), g.id)
	}
	unwritten := len(segs)
	if c := unwrittenFrom(states); c >= 0 && !clean {
		unwritten = c
	}
	predUnsealed := func(n int) bool {
		return n < len(segs) && n > 0 && segs[n-1].id == segs[n].id-1 &&
			(states[n] == hdrFlagged || n >= unwritten)
	}
	var lastSeq uint64
	cut := false // Open cuts the log before this segment: its records go
	for n, g := range segs {
		rep.Segments++
		data := g.data
		rep.Bytes += int64(len(data))
		last := n == len(segs)-1
		torn := (last || predUnsealed(n+1)) && !clean
		if !cut && !clean && predUnsealed(n) && len(data) > segHeaderSize {
			if h, _, _, _, st, _ := decodeRecord(data[segHeaderSize:]); st == recOK && h.seq != lastSeq+1 {
				cut = true
			}
		}
		if cut || n >= unwritten && states[n] == hdrUnwritten {
			if states[n] == hdrUnwritten {
				rep.Problems = append(rep.Problems, Problem{File: g.path, Length: min(int64(len(data)), segHeaderSize), Kind: ProblemTornTail,
					Detail: "segment made before an unclean shutdown without a durable header; Open empties it and what follows"})
				cut = true
			}
			if k := lastNonZero(data[min(segHeaderSize, len(data)):]); k >= 0 {
				rep.Problems = append(rep.Problems, Problem{File: g.path, Offset: segHeaderSize, Length: int64(k + 1), Kind: ProblemTornTail,
					Detail: "records written after a torn tail of an unsealed segment (unclean shutdown); Open drops them"})
			}
			progress(int64(len(data)))
			continue
		}
		if want, ok := metaSize[g.id]; ok && int64(len(data)) < want {
			kind := ProblemMissingSegment
			if torn {
				kind = ProblemTornTail // as Open sees it
			}
			rep.Problems = append(rep.Problems, Problem{File: g.path, Offset: int64(len(data)), Length: want - int64(len(data)), Kind: kind,
				Detail: fmt.Sprintf("segment is %d bytes, %s says %d: truncated", len(data), metaName, want)})
		}
		if _, err := checkSegHeader(data, g.id); err != nil {
			rep.Problems = append(rep.Problems, Problem{File: g.path, Length: min(int64(len(data)), segHeaderSize), Kind: ProblemBadSegmentHeader, Detail: err.Error()})
		}
		off := int64(segHeaderSize)
		progress(min(off, int64(len(data))))
		for off < int64(len(data)) {
			h, _, _, size, st, why := decodeRecord(data[off:])
			if st == recOK && h.seq <= lastSeq {
				st, why = recInvalid, fmt.Sprintf("sequence number %d after %d", h.seq, lastSeq)
			}
			if st == recOK {
				rep.Records++
				lastSeq = h.seq
				keep = append(keep, data[off:off+size])
				progress(size)
				off += size
				continue
			}
			if st == recEnd {
				k := lastNonZero(data[off:])
				if k < 0 {
					break // the end of the data: only zeros follow
				}
				why = "zero header in the middle of the data"
			}
			if torn {
				rep.Problems = append(rep.Problems, Problem{File: g.path, Offset: off, Length: int64(lastNonZero(data[off:]) + 1), Kind: ProblemTornTail,
					Detail: "invalid data at the end of the log after an unclean shutdown (" + why + "); Open cuts it off"})
				cut = !last
				break
			}
			next := nextValidRecord(data, off+recAlign, lastSeq)
			kind := ProblemBadHeader
			switch {
			case st == recEnd && next < 0:
				kind, why = ProblemStrayBytes, "non-zero bytes after the end of the data"
				off += firstNonZero(data[off:])
			case strings.Contains(why, "checksum"):
				kind = ProblemBadCRC
			case strings.HasPrefix(why, "sequence"):
				kind = ProblemBadSequence
			}
			end := next
			if end < 0 {
				end = int64(len(data))
			}
			rep.Problems = append(rep.Problems, Problem{File: g.path, Offset: off, Length: end - off, Kind: kind, Detail: why})
			rep.Dropped += end - off
			progress(end - off)
			off = end
		}
		progress(int64(len(data)) - min(off, int64(len(data))))
	}
	if opts.Progress != nil && lastReport != total {
		opts.Progress(total, total)
	}
	if !opts.Fix || len(rep.Problems) == 0 {
		return rep, nil
	}
	segSize := opts.SegmentSize
	if segSize == 0 && meta != nil {
		segSize = meta.segmentSize
	}
	if segSize < MinSegmentSize || segSize > MaxSegmentSize {
		segSize = DefaultSegmentSize
	}
	first := uint32(1)
	if len(ids) > 0 {
		first = ids[len(ids)-1] + 1
	}
	if meta != nil && meta.firstSegment >= first {
		first = meta.firstSegment + 1
	}
	m := &metadata{formatVersion: metaBaseVersion, cleanShutdown: true, lastSequence: lastSeq, nextID: 1, segmentSize: segSize, databases: DefaultDatabases}
	if meta != nil {
		// last_sequence is that of the last kept record (a clean shutdown
		// requires the log to end there); numbers of dropped records may be
		// reused, as nothing of them is left.
		m.nextID, m.databases = meta.nextID, meta.databases
	}
	for _, r := range keep {
		h, key, _, _, _, _ := decodeRecord(r)
		if h.kind == kindIDPut || h.kind == kindIDDelete {
			m.nextID = max(m.nextID, ID(binary.BigEndian.Uint64(key))+1)
		}
	}
	// The snapshot describes the old log: remove it first.
	if err := fs.Remove(filepath.Join(dir, snapName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, fmt.Errorf("store: fix: remove %s: %w", snapName, err)
	}
	if err := syncDir(fs, dir); err != nil {
		return rep, err
	}
	written, err := writeSalvage(fs, dir, first, segSize, keep)
	if err != nil {
		return rep, err
	}
	m.firstSegment = first
	m.segments = written
	if err := writeMetadata(fs, dir, m); err != nil { // the switch
		return rep, err
	}
	if err := finishSwitch(fs, dir, m, log); err != nil {
		return rep, err
	}
	rep.Fixed, rep.Salvaged = true, int64(len(keep))
	log.Info("store: check --fix rewrote the data directory", zap.String("dir", dir),
		zap.Int64("records_kept", rep.Salvaged), zap.Int64("bytes_dropped", rep.Dropped))
	return rep, nil
}

// nextValidRecord returns the first offset at or after from, 8-aligned,
// where a valid record with a sequence number above lastSeq starts, or -1.
// The cheap header checks come before the checksum, so a scan over garbage
// costs little more than reading it.
func nextValidRecord(data []byte, from int64, lastSeq uint64) int64 {
	le := binary.LittleEndian
	from = padded(from)
	for q := from; q+recHeaderSize <= int64(len(data)); q += recAlign {
		b := data[q:]
		length := le.Uint32(b[offLength:])
		if length < recHeaderSize || int64(length) > int64(len(b)) {
			continue
		}
		if k := Kind(b[offKind]); k == 0 || k > maxOpKind || b[offKind+1]|b[offKind+2]|b[offKind+3] != 0 {
			continue
		}
		if uint64(recHeaderSize)+uint64(le.Uint32(b[offKLen:]))+uint64(le.Uint32(b[offVLen:])) != uint64(length) {
			continue
		}
		if h, _, _, _, st, _ := decodeRecord(b); st == recOK && h.seq > lastSeq {
			return q
		}
	}
	return -1
}

// writeSalvage writes recs, in order, to new segment files data-N.toon.fix
// from id first on, each preallocated to segSize (or to its one record if
// larger) and written in one piece, fsynced; then fsyncs the directory. It
// returns the segments for the metadata.
func writeSalvage(fs FS, dir string, first uint32, segSize int64, recs [][]byte) ([]metaSegment, error) {
	var out []metaSegment
	id := first
	buf := make([]byte, 0, segSize)
	size := segSize
	flush := func() error {
		if id > maxSegmentID {
			return errors.New("store: fix: segment ids exhausted")
		}
		name := filepath.Join(dir, segName(id)+fixSuffix)
		f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("store: fix: %w", err)
		}
		if err = preallocate(f, size); err != nil {
			err = fmt.Errorf("preallocate: %w", err)
		}
		if err == nil {
			copy(buf, encodeSegHeader(id, 0))
			_, err = f.WriteAt(buf, 0)
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("store: fix: write %s: %w", name, err)
		}
		out = append(out, metaSegment{id, size})
		id++
		return nil
	}
	buf = append(buf, make([]byte, segHeaderSize)...)
	for _, r := range recs {
		if int64(len(buf)+len(r)) > size {
			if err := flush(); err != nil {
				return nil, err
			}
			size = max(segSize, segHeaderSize+int64(len(r)))
			buf = append(buf[:0], make([]byte, segHeaderSize)...)
		}
		buf = append(buf, r...)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, syncDir(fs, dir)
}

// finishSwitch completes (or undoes) a rewrite of the segments (Check's
// Fix, a compaction, a restore): with meta naming first_segment F, segments
// below F are obsolete and removed (but those below keep_below, which a
// partial compaction did not rewrite), and .fix files at or above F are
// renamed into place; .fix files
// without such a switch are leftovers of a rewrite that never switched and
// are removed. Called by Open and Check before they list the segments.
func finishSwitch(fs FS, dir string, meta *metadata, log *zap.Logger) error {
	names, err := fs.List(dir)
	if err != nil {
		return fmt.Errorf("store: read %s: %w", dir, err)
	}
	var first uint32
	if meta != nil {
		first = meta.firstSegment
	}
	changed := false
	for _, name := range names {
		path := filepath.Join(dir, name)
		if base, ok := strings.CutSuffix(name, fixSuffix); ok {
			id, isSeg := parseSegName(base)
			if isSeg && first != 0 && id >= first {
				log.Info("store: finishing an interrupted rewrite", zap.String("file", base))
				err = fs.Rename(path, filepath.Join(dir, base))
			} else {
				err = fs.Remove(path)
			}
			if err != nil {
				return fmt.Errorf("store: finish rewrite: %w", err)
			}
			changed = true
		}
	}
	if changed {
		if err := syncDir(fs, dir); err != nil {
			return err
		}
	}
	if first == 0 {
		return nil
	}
	changed = false
	for _, name := range names {
		if id, ok := parseSegName(name); ok && meta.obsolete(id) {
			if err := fs.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("store: remove obsolete segment: %w", err)
			}
			changed = true
		}
	}
	if changed {
		return syncDir(fs, dir)
	}
	return nil
}

// firstNonZero returns the index of the first non-zero byte of b, or
// len(b).
func firstNonZero(b []byte) int64 {
	i := 0
	for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == 0 {
		i += 8
	}
	for i < len(b) && b[i] == 0 {
		i++
	}
	return int64(i)
}

// emptyMapping stands in for the mapping of an empty file.
type emptyMapping struct{}

func (emptyMapping) Bytes() []byte { return nil }
func (emptyMapping) Flush() error  { return nil }
func (emptyMapping) Unmap() error  { return nil }
