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
	metaName          = "metadata.toon"
	metaFormatVersion = 2 // 2: collection operation records (kinds 23..26); 1 is read as is
)

// metadata is the content of metadata.toon, human-readable TOON text:
//
//	format_version: 2
//	clean_shutdown: false
//	last_sequence: 1234
//	next_id: 17
//	segment_size: 67108864
//	databases: 16
//	first_segment: 7               (only after a rewrite by Check's Fix)
//	segments[2]{id,size}:
//	  1,67108864
//	  2,67108864
//
// It is rewritten atomically (temporary file, fsync, rename, fsync of the
// directory) at Open (clean_shutdown: false), at each segment rotation and
// at Close (clean_shutdown: true). The segments it lists must exist; the
// log may have more (created after the last rewrite). last_sequence and
// next_id are lower bounds the log's replay can only raise.
type metadata struct {
	formatVersion int
	cleanShutdown bool
	lastSequence  uint64
	nextID        ID
	segmentSize   int64
	databases     int
	firstSegment  uint32 // segments below it are obsolete (a finished rewrite); 0 = none
	segments      []metaSegment
}

type metaSegment struct {
	id   uint32
	size int64
}

func (m *metadata) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "format_version: %d\n", m.formatVersion)
	fmt.Fprintf(&b, "clean_shutdown: %t\n", m.cleanShutdown)
	fmt.Fprintf(&b, "last_sequence: %d\n", m.lastSequence)
	fmt.Fprintf(&b, "next_id: %d\n", m.nextID)
	fmt.Fprintf(&b, "segment_size: %d\n", m.segmentSize)
	fmt.Fprintf(&b, "databases: %d\n", m.databases)
	if m.firstSegment != 0 {
		fmt.Fprintf(&b, "first_segment: %d\n", m.firstSegment)
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
