package store

// THIS FILE IS THE CONTRACT between pkg/store and its callers (pkg/cache).
// The implementer may move these declarations into other files, add
// options, fields and methods, and must keep these signatures and doc
// contracts (or update every caller in the same change).

import (
	"time"

	"go.uber.org/zap"
)

// Kind is the type or operation tag of a record. Values 1..15 are value
// kinds (what TYPE reports); 16 and up are operations replayed on recovery.
type Kind uint8

// Value kinds.
const (
	KindString Kind = 1
	KindHash   Kind = 2 // collections: an image (Set) and a chain of operations (AppendOp)
	KindList   Kind = 3
	KindSet    Kind = 4
	KindZSet   Kind = 5
)

// SyncPolicy is Redis's appendfsync.
type SyncPolicy uint8

// Sync policies.
const (
	SyncEverySec SyncPolicy = iota // fsync once a second in the background (default)
	SyncAlways                     // Sync is called by the writer before acknowledging
	SyncNo                         // never fsync; the OS decides
)

// Options configure Open. The zero value is valid: every zero field takes
// its default.
type Options struct {
	Sync         SyncPolicy  // default SyncEverySec
	SegmentSize  int64       // bytes per data segment; default 64 MiB
	MaxValueSize int64       // largest value accepted; default 512 MiB
	Databases    int         // number of logical databases; default 16
	Logger       *zap.Logger // default zap.NewNop()
	FS           FS          // filesystem of every file operation; default OSFS() (tests: NewMemFS)

	// SnapshotInterval and SnapshotLogBytes schedule index.toon snapshots
	// (besides the one at Close): every interval, and whenever that many
	// bytes of log, and at least as many records as there are live keys,
	// were appended since the last. 0 takes the default
	// (DefaultSnapshotInterval, DefaultSnapshotLogBytes); negative disables.
	SnapshotInterval time.Duration
	SnapshotLogBytes int64
	// NoSnapshot disables index.toon: Open replays the whole log and no
	// snapshot is written.
	NoSnapshot bool
	// TrustSnapshot makes Open skip verifying the log a valid snapshot
	// covers. By default Open still reads and checks every record's
	// checksum there (a sequential pass with no index work), so that
	// corruption anywhere stops Open; with TrustSnapshot, damage in the
	// covered log is found only by Check (or by a read that meets a
	// malformed record).
	TrustSnapshot bool
	// BufferWrites keeps appended records in process memory until
	// FlushWrites (or Sync, a rotation, Backup or Close) copies them to the
	// log file, so that a burst of writes costs one pwrite. Readers see a
	// write as soon as it returns either way; what changes is that a crash
	// of the process loses the writes since the last flush. Without it
	// every write is in the file (the page cache) when it returns.
	BufferWrites bool

	// CompactRatio starts a background compaction when dead bytes (of
	// records no key points to, deleted, overwritten or expired) reach this
	// fraction of the sealed segments' bytes and at least one segment. 0
	// takes DefaultCompactRatio; negative disables (Compact still works).
	CompactRatio float64
	// RetireGrace is how long a segment replaced by a compaction stays
	// mapped, so that slices returned by Get before the switch stay
	// readable; default DefaultRetireGrace.
	RetireGrace time.Duration
	// Now is the clock compaction uses to drop expired records; nil means
	// the wall clock.
	Now Clock
	// Load, if set, reports the progress of Open (see LoadState). Options
	// stays comparable: no func fields.
	Load *LoadState

	// Rechunk rebuilds the page cache of each sealed segment (and of the
	// active segment's filled 2 MiB chunks once the log stops growing) in
	// 2 MiB folios, read back from the disk, so that reads map a chunk
	// with one entry instead of a page at a time (rechunk.go). Off by
	// default: on a virtual machine whose host backs guest memory lazily,
	// the read-back pages are new to the guest, and the first read of each
	// 4 KiB page then stalls for a hypervisor fault, which cost more than
	// the faults the rebuild saves (perf/results/hotpath.md, "Rebuilding
	// sealed segments: off by default").
	Rechunk bool

	// imageChunk: DB.SetImage streams an image whose record is larger
	// than this, in pieces of about half of it; 0 means wbufSize (tests
	// lower it).
	imageChunk int
	// pwriteOnly (tests) makes every flush a pwrite, never a copy into the
	// mapping: the crash harness takes MemFS crash images from the store's
	// background goroutines too, and MemFS cannot order a read of a file
	// with a copy into its mapping (it can with WriteAt).
	pwriteOnly bool
	// growMin: a keyspace table of fewer slots doubles at once, a larger
	// one incrementally (grow.go); 0 means defaultGrowMin (tests lower it).
	growMin int
}

// Entry is what the index and the log know of a live key. Value aliases the
// store's memory mapping: it is valid until Close or until
// Options.RetireGrace (default 10 s) after a compaction replaced the
// segment holding it, whichever comes first; it must never be written to,
// and callers that keep it longer must copy it.
type Entry struct {
	Kind     Kind
	ExpireAt int64 // absolute Unix time in milliseconds; 0 means no expiry
	Value    []byte
}

// Stats are counters for INFO and tests. Safe to call concurrently.
type Stats struct {
	Keys           int64 // live keys over all databases (expired-but-present included)
	Segments       int
	DiskBytes      int64 // bytes of all segments on disk
	LiveBytes      int64 // bytes of records the index points to (what merges add to the open operation record counts from its close: the next flush, or any other record)
	Writes         uint64
	Syncs          uint64
	LastSyncError  error
	Recovered      int64  // keys found at Open
	TruncatedTail  int64  // bytes cut off a torn tail at Open
	Replayed       int64  // records Open replayed from the log (after the snapshot, if one was loaded)
	LoadedSnapshot bool   // Open loaded index.toon
	Snapshots      uint64 // index.toon snapshots written since Open
	Compacting     bool   // a compaction is running
	CompactDone    int64  // bytes of the running (or last) compaction's input read so far
	CompactTotal   int64  // bytes of its input
	Compactions    uint64 // compactions completed since Open
	Reclaimed      int64  // disk bytes compactions released since Open
	MergedOps      uint64 // operations AppendOp merged into the record before them since Open (SetOpMerger)
}
