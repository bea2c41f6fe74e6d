package store

import (
	"fmt"
	"math"

	"go.uber.org/zap"
)

// Defaults and limits of Options.
const (
	DefaultSegmentSize  = 64 << 20  // 64 MiB
	DefaultMaxValueSize = 512 << 20 // 512 MiB, Redis's proto-max-bulk-len
	DefaultDatabases    = 16

	// MinSegmentSize is the smallest accepted Options.SegmentSize (tests use
	// tiny segments to exercise rotation).
	MinSegmentSize = 1 << 10
	// MaxSegmentSize is the largest Options.SegmentSize: offsets are packed
	// in 40 bits of a location.
	MaxSegmentSize = 1 << 40
	// MaxDatabases is the largest Options.Databases.
	MaxDatabases = 1 << 16
	// maxRecordLen bounds a whole record (header, key, value, padding): the
	// length field is 32 bits wide.
	maxRecordLen = math.MaxUint32 &^ (recAlign - 1)
)

// withDefaults returns o with every zero field replaced by its default, or
// an error for a value out of range.
func (o Options) withDefaults() (Options, error) {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.imageChunk == 0 {
		o.imageChunk = wbufSize
	}
	if o.growMin == 0 {
		o.growMin = defaultGrowMin
	}
	if o.MaxValueSize == 0 {
		o.MaxValueSize = DefaultMaxValueSize
	}
	if o.Databases == 0 {
		o.Databases = DefaultDatabases
	}
	if o.SnapshotInterval == 0 {
		o.SnapshotInterval = DefaultSnapshotInterval
	}
	if o.SnapshotLogBytes == 0 {
		o.SnapshotLogBytes = DefaultSnapshotLogBytes
	}
	if o.CompactRatio == 0 {
		o.CompactRatio = DefaultCompactRatio
	}
	if o.RetireGrace == 0 {
		o.RetireGrace = DefaultRetireGrace
	}
	if o.Now == nil {
		o.Now = wallClock{}
	}
	if o.FS == nil {
		o.FS = OSFS()
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	switch {
	case o.Sync > SyncNo:
		return o, fmt.Errorf("store: unknown sync policy %d", o.Sync)
	case o.SegmentSize < MinSegmentSize || o.SegmentSize > MaxSegmentSize:
		return o, fmt.Errorf("store: segment size %d out of range [%d, %d]", o.SegmentSize, int64(MinSegmentSize), int64(MaxSegmentSize))
	case o.MaxValueSize < 0 || o.MaxValueSize > maxRecordLen-recHeaderSize:
		return o, fmt.Errorf("store: max value size %d out of range [1, %d]", o.MaxValueSize, int64(maxRecordLen-recHeaderSize))
	case o.Databases < 0 || o.Databases > MaxDatabases:
		return o, fmt.Errorf("store: %d databases out of range [1, %d]", o.Databases, MaxDatabases)
	}
	return o, nil
}
