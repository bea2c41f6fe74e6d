package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	metaName = "metadata.toon"
	// metaFormatVersion is the highest format_version this build reads:
	// 2 added collection operation records (kinds 23..26); 3, written only
	// while the segment ids have a gap or a switch names keep_below, says
	// that a partial compaction removed segments from the middle of the
	// log (a build reading 2 would take the gap for a missing segment, or
	// remove the kept segments below first_segment). 1 is read as is.
	metaFormatVersion = 3
	// metaBaseVersion is the format_version written otherwise.
	metaBaseVersion = 2
)

// metadata is the content of metadata.toon, human-readable TOON text:
//
//	format_version: 2
//	clean_shutdown: false
//	last_sequence: 1234
//	next_id: 17
//	segment_size: 67108864
//	databases: 16
//	first_segment: 7               (only during a rewrite's switch)
//	keep_below: 3                  (only with first_segment, after a partial compaction)
//	segments[2]{id,size}:
//	  1,67108864
//	  2,67108864
//
// It is rewritten atomically (temporary file, fsync, rename, fsync of the
// directory) at Open (clean_shutdown: false), at each segment rotation and
// at Close (clean_shutdown: true). The segments it lists must exist; the
// log may have more (created after the last rewrite), with ids above the
// listed ones. Ids may have gaps (a partial compaction removed segments
// from the middle of the log): a gap is legitimate only between two listed
// segments (allowsGap). last_sequence and next_id are lower bounds the
// log's replay can only raise.
type metadata struct {
	formatVersion int
	cleanShutdown bool
	lastSequence  uint64
	nextID        ID
	segmentSize   int64
	databases     int
	firstSegment  uint32 // segments below it are obsolete (a finished rewrite); 0 = none
	keepBelow     uint32 // with firstSegment: segments below it are not (a partial compaction); 0 = none
	segments      []metaSegment
}

type metaSegment struct {
	id   uint32
	size int64
}

func (m *metadata) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "format_version: %d\n", m.version())
	fmt.Fprintf(&b, "clean_shutdown: %t\n", m.cleanShutdown)
	fmt.Fprintf(&b, "last_sequence: %d\n", m.lastSequence)
	fmt.Fprintf(&b, "next_id: %d\n", m.nextID)
	fmt.Fprintf(&b, "segment_size: %d\n", m.segmentSize)
	fmt.Fprintf(&b, "databases: %d\n", m.databases)
	if m.firstSegment != 0 {
		fmt.Fprintf(&b, "first_segment: %d\n", m.firstSegment)
		if m.keepBelow != 0 {
			fmt.Fprintf(&b, "keep_below: %d\n", m.keepBelow)
		}
	}
	fmt.Fprintf(&b, "segments[%d]{id,size}:\n", len(m.segments))
	for _, s := range m.segments {
		fmt.Fprintf(&b, "  %d,%d\n", s.id, s.size)
	}
	return b.Bytes()
}

// parseMetadata parses metadata.toon. Unknown fields are ignored (a later
// version may add some); a malformed line is ErrCorrupt.
func parseMetadata(data []byte) (*metadata, error) {
	m := &metadata{}
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("%w: %s line %d: %s", ErrCorrupt, metaName, line, fmt.Sprintf(format, args...))
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line, rows, inRows := 0, 0, false
	for sc.Scan() {
		line++
		text := sc.Text()
		if inRows && strings.HasPrefix(text, "  ") {
			f := strings.Split(strings.TrimSpace(text), ",")
			if len(f) != 2 {
				return nil, bad(line, "segment row %q: want id,size", text)
			}
			id, err1 := strconv.ParseUint(f[0], 10, 32)
			size, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil || id == 0 || size < 0 {
				return nil, bad(line, "segment row %q", text)
			}
			m.segments = append(m.segments, metaSegment{uint32(id), size})
			continue
		}
		if inRows && len(m.segments) != rows {
			return nil, bad(line, "segments[%d] has %d rows", rows, len(m.segments))
		}
		inRows = false
		if strings.TrimSpace(text) == "" {
			continue
		}
		k, v, ok := strings.Cut(text, ":")
		if !ok {
			return nil, bad(line, "%q is not key: value", text)
		}
		v = strings.TrimSpace(v)
		var err error
		switch {
		case k == "format_version":
			m.formatVersion, err = strconv.Atoi(v)
		case k == "clean_shutdown":
			m.cleanShutdown, err = strconv.ParseBool(v)
		case k == "last_sequence":
			m.lastSequence, err = strconv.ParseUint(v, 10, 64)
		case k == "next_id":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 64)
			m.nextID = ID(n)
		case k == "segment_size":
			m.segmentSize, err = strconv.ParseInt(v, 10, 64)
		case k == "databases":
			m.databases, err = strconv.Atoi(v)
		case k == "first_segment":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			m.firstSegment = uint32(n)
		case k == "keep_below":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			m.keepBelow = uint32(n)
		case strings.HasPrefix(k, "segments["):
			n, fields, ok := strings.Cut(strings.TrimPrefix(k, "segments["), "]")
			if !ok || fields != "{id,size}" || v != "" {
				return nil, bad(line, "segments header %q", text)
			}
			rows, err = strconv.Atoi(n)
			inRows = true
		}
		if err != nil {
			return nil, bad(line, "%s: %v", k, err)
		}
	}
	if inRows && len(m.segments) != rows {
		return nil, bad(line, "segments[%d] has %d rows", rows, len(m.segments))
	}
	if m.formatVersion == 0 {
		return nil, bad(line, "no format_version")
	}
	return m, sc.Err()
}

// version is the format_version to write: m.formatVersion (at most
// metaBaseVersion: 3 is not a property of the data but of the ids), raised
// to 3 if the listed segment ids have a gap or a switch names keep_below
// (see metaFormatVersion).
func (m *metadata) version() int {
	v := min(m.formatVersion, metaBaseVersion)
	if m.firstSegment != 0 && m.keepBelow != 0 {
		return max(v, 3)
	}
	for i := 1; i < len(m.segments); i++ {
		if m.segments[i].id != m.segments[i-1].id+1 {
			return max(v, 3)
		}
	}
	return v
}

// allowsGap reports whether the log may lack every segment strictly
// between ids a < b: if both are listed and no id between them is (every
// rewrite of the metadata lists every segment, so a segment it never
// listed between two it lists was removed by a partial compaction). With
// no metadata, no gap is allowed.
func (m *metadata) allowsGap(a, b uint32) bool {
	if m == nil {
		return false
	}
	var hasA, hasB bool
	for _, ms := range m.segments {
		switch {
		case ms.id == a:
			hasA = true
		case ms.id == b:
			hasB = true
		case ms.id > a && ms.id < b:
			return false
		}
	}
	return hasA && hasB
}

// obsolete reports whether a switch recorded in m removes segment id: below
// first_segment and not below keep_below.
func (m *metadata) obsolete(id uint32) bool {
	return m != nil && m.firstSegment != 0 && id < m.firstSegment && id >= m.keepBelow
}

// readMetadata returns dir's metadata, or nil if there is none.
func readMetadata(fs FS, dir string) (*metadata, error) {
	data, err := readFile(fs, filepath.Join(dir, metaName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", metaName, err)
	}
	return parseMetadata(data)
}

// writeMetadata replaces dir's metadata atomically.
func writeMetadata(fs FS, dir string, m *metadata) error {
	if err := writeFileAtomic(fs, filepath.Join(dir, metaName), m.encode()); err != nil {
		return fmt.Errorf("store: write %s: %w", metaName, err)
	}
	return nil
}
