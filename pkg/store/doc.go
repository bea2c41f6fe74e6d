// Package store is ToonStore's storage engine: a log-structured key-value
// store in the Bitcask family with reads served from memory-mapped files.
//
// Every change is a record appended to the log; an in-memory index per
// logical database maps each live key to its newest record; a read finds
// the record through the index and returns a slice of the mapping (no copy,
// no system call). Open rebuilds the indexes by replaying the log.
//
// # Files
//
// A data directory holds:
//
//	LOCK              flock(2)ed by the open Store (ErrLocked for a second opener,
//	                  in this or another process); holds the owner's pid
//	metadata.toon     TOON text, rewritten atomically (temp file, fsync, rename,
//	                  fsync of the directory) at Open, after each rotation (in the
//	                  background: see Rotation) and at Close:
//	                    format_version: 2      (1 before collection chains; read as is)
//	                    clean_shutdown: false          (true only after Close)
//	                    last_sequence: 1234
//	                    next_id: 17
//	                    segment_size: 67108864
//	                    databases: 16
//	                    segments[2]{id,size}:
//	                      1,67108864
//	                      2,67108864
//	index.toon        snapshot of the indexes for fast start-up (see Snapshots)
//	data-000001.toon  segments, numbered without gaps; the last but one, or the
//	data-000002.toon  last, is active (a rotation prepares the next one ahead)
//
// # Segments and records
//
// A segment is created at its full size before anything is written to it:
// preallocated with fallocate(2) (zeros written where the filesystem cannot
// preallocate, never a sparse file), given a 32-byte header ("TOONSEG",
// format version, segment id, CRC32C, and flags with their own CRC32C;
// without flags the last 12 bytes are zero, as in the first version of the
// header) and renamed into place; under SyncAlways it is fsynced before
// the rename and the directory after, otherwise the first sync of the
// segment does both (see Rotation). It is then mapped read-write. A full disk is therefore
// ErrNoSpace returned to the writer whose record needed a new segment, and
// never a SIGBUS on a store into the mapping or an ENOSPC from pwrite. (On copy-on-write filesystems
// such as btrfs or ZFS preallocation does not reserve rewrite space; use
// ext4 or XFS.)
//
// A write encodes the record into the write buffer (wbuf.go), in process
// memory, at the write offset; a flush copies what accumulated to the file
// with one pwrite (a flush of at most 2 KiB is copied into the mapping
// instead; on Linux a flush of up to 8 MiB is a raw system call that
// keeps the goroutine's processor, pwriteHeld). Without
// Options.BufferWrites every write flushes before it returns; with it
// (the server) records are flushed by FlushWrites, which
// the server calls before any reply leaves, and by Sync, rotation, Backup
// and Close. Readers find a record in the mapping below the flushed
// offset and in the buffer above it; a buffer is never reused, so slices
// of it stay valid. Records are 8-byte aligned:
//
//	crc u32 | length u32 | seq u64 | db u32 | kind u8 | 0 0 0 | expireAt i64 |
//	klen u32 | vlen u32 | key | value | zero padding to 8
//
// crc is CRC32C (Castagnoli) of everything from length to the end of the
// value; length is 40+klen+vlen; seq increases by one per record over the
// whole log. Keys and values are arbitrary bytes (a value up to
// Options.MaxValueSize). kind 1..15 is a value kind (KindString, ...); 16 and
// up are operations: delete, expire, flushdb, flushall, swapdb, id-put and
// id-delete, and 23..26 the operations of collection chains (see
// Collections and record.go). A record that does not fit the rest of the
// active segment goes to a new one; a record larger than SegmentSize gets a
// segment of its own size. The 40-byte header plus padding is the per-record
// overhead on disk.
//
// # Crash invariants
//
//  1. In the active segment's file, every byte after the flushed offset
//     is zero, so a zero length-and-crc word marks the end of the data. A
//     flush writes whole records, in log order, after the flushed offset;
//     a crash in the middle of one leaves a prefix of them (a torn tail).
//  2. A segment that has a successor is entirely durable, unless the
//     successor's header carries the flag pred_unsealed (see Rotation):
//     the flag is cleared only after the segment's fdatasync. Hence an
//     invalid record in a segment with an unflagged successor is
//     corruption, never a torn write.
//  3. A clean shutdown (Close) syncs everything before writing
//     clean_shutdown: true; Open writes false before accepting writes. After
//     a clean shutdown the last segment cannot have a torn tail either.
//  4. Segment creation and metadata replacement are atomic (rename). A
//     segment made without fsyncs can come back from a crash without its
//     header (zeros, or a file shorter than one) only if nothing in it, or
//     after it, was ever synced.
//
// # Recovery
//
// Open replays the segments in order, verifying every record's CRC, the
// zero padding, the lengths and the increasing sequence numbers, and applies
// each record to the indexes (Open is single-threaded). In the last segment,
// after an unclean shutdown, the first invalid record ends the log: the
// torn tail is cut off (the rest of the segment zeroed and synced, so
// appends resume there and no stale record can reappear later), a warning
// names the file and offset, and Stats.TruncatedTail counts the bytes.
// Writeback of a shared mapping is in no particular page order, so after a
// crash anything written after the last completed Sync may be lost, and
// nothing written before it. The same holds in a segment whose successor
// is flagged pred_unsealed, with two more rules that keep the log a prefix
// (see Rotation): what follows the cut, in the later segments, is zeroed
// (before the cut is made durable), and a flagged segment whose first
// record does not continue its predecessor's numbering shows that records
// were lost at the predecessor's end, so it and the later segments are
// zeroed. After an unclean shutdown, segments without a header (all zeros,
// or shorter than one) followed only by such or flagged segments are made
// empty and given a flagged header. Once metadata.toon is rewritten Open
// clears every flag (after syncing the predecessor). Any other invalid
// record, a missing segment, a bad segment header or non-zero bytes after
// the end of a sealed segment stop Open with an error wrapping ErrCorrupt
// that names the file and offset. Before it rewrites metadata.toon (whose last_sequence the log
// must reach after any crash), Open fdatasyncs the last segment: after a
// kill its records may be in the page cache only.
//
// A segment shorter than metadata.toon says (truncated) is ErrCorrupt too,
// except the last one after an unclean shutdown (a torn tail).
// Before listing segments Open finishes a rewrite by Check's Fix that a
// crash interrupted (see below).
//
// # Checking and repair
//
// Check (check.go) verifies a directory without opening it as a Store (it
// takes the LOCK): every record's checksum, header, padding and sequence
// order, segment headers (including their reserved bytes), the zeros after
// the end of the data, missing and truncated segments, and the metadata.
// It reports every problem with file, offset, length and kind (bad crc,
// bad header, torn tail, stray bytes, missing segment, bad segment header,
// bad sequence, bad metadata), not only the first: after a damaged record
// it scans forward to the next 8-aligned offset where a valid record with
// a higher sequence number starts (cheap header checks before the CRC).
// Its progress callback gets bytes done and total. It follows Open's
// rules: in the last segment after an unclean shutdown the first invalid
// record ends the log (a torn tail, which Open cuts itself, so Report.OK
// stays true); anywhere else an invalid record is corruption, which Open
// refuses (TestCheckFindsAndFixesDamage checks that Open fails exactly
// when Check reports corruption, naming the file and offset).
//
// CheckOptions.Fix keeps every intact record byte for byte (sequence
// numbers and checksums unchanged) and switches crash-safely: the records
// go to new files data-N.toon.fix numbered after the last segment, each
// preallocated, written and fsynced, then the directory fsynced; then
// metadata.toon is replaced atomically with first_segment: N and
// clean_shutdown: true. That rename is the switch. Then the .fix files are
// renamed into place and the old segments removed. Open and Check first
// finish a switch (rename .fix files at or above first_segment, remove
// segments below it) or undo a rewrite that never switched (remove .fix
// files), so a crash at any point leaves the old directory or the new one;
// the test takes MemFS crash images inside Fix and checks exactly that.
//
// # Snapshots and start-up
//
// index.toon (snapshot.go) is a snapshot of every index as of a log
// position (segment, offset, sequence number), written at Close (before
// clean_shutdown: true), every Options.SnapshotInterval and after
// Options.SnapshotLogBytes of log once at least as many records as live
// keys were appended since the last (a snapshot costs one entry per live
// key: this keeps it at most one per write whatever the value size).
// Writing one blocks writers only while
// the tables' slots are copied (24 bytes per key and 8 per chained
// operation, no record read), into memory allocated and faulted in
// before appendMu is taken;
// then a group sync makes the covered log durable, so a snapshot never
// covers bytes a crash can lose, and the file is streamed to a temporary
// file, fsynced, renamed over index.toon and the directory fsynced. It
// ends with a CRC32C of its contents. It holds each key's hash, not the
// key, with the 32-byte key of the index's hash function (hash.go:
// wyhash, drawn at random when a store starts without a usable snapshot,
// adopted from the snapshot otherwise): neither writing nor loading one
// reads a record or hashes a key. (Until format version 3 snapshots held
// the keys, hashed at load with a per-process maphash seed; writing one
// read every live key from the mapping, a random read per key that at
// 1M keys of 1 KiB cost a second of CPU.)
//
// Open loads it if the CRC matches, the database count is the same, every
// entry lies in the covered log, and the last covered record is on disk
// with the sequence number and checksum the snapshot recorded (a snapshot
// from another or a rewritten log fails that test). Then it replays only
// the records after the position. An older snapshot is still correct (the
// log is append-only: replaying more of it gives the same state). An
// unusable snapshot is ignored with a warning naming the reason, and the
// whole log is replayed. By default Open still verifies the covered log
// (every checksum, the order, the zeros) in a sequential pass without index
// work, so corruption anywhere still stops Open; Options.TrustSnapshot
// skips that (Check finds such damage). Check's Fix removes index.toon
// before it rewrites the log.
//
// Options.Load (a LoadState) reports Open's progress (bytes of snapshot
// and log done, total) to another goroutine: a server runs Open on a
// goroutine and answers -LOADING until it returns. The zero tail of the
// last segment is checked with large reads, not through the mapping (page
// faults over a 64 MiB preallocated segment cost about 100 ms).
//
// BenchmarkOpen (16-byte keys, 32-byte values; 2-core VM, Go 1.26,
// GOMAXPROCS 2; medians of -count 5, -benchtime 5x; noisy, +-40%), ns per
// key: 1e5 keys: snapshot with the covered log verified 561, TrustSnapshot
// 409, after a kill (full replay) 828; 1e6 keys: 221, 217 and 534, i.e.
// about 0.22 s against 0.53 s. keys=1e7 runs with TSTD_BENCH_BIG=1.
//
// The crash harness writes snapshots as one of its operations (with crash
// images inside them) and at every Close, so most of its recoveries load
// one (TrustSnapshot on or off at random per workload); its full-scan
// check then compares a snapshot-plus-tail index against the whole log.
//
// # Compaction
//
// compact (compact.go) rewrites the sealed segments, a prefix of the log
// (everything before the active segment), or only the later of them (see
// Partial compaction), into as few segments as their live records need,
// while reads and writes go on:
//
//  1. Pass 1 walks the prefix to learn where each database's content is
//     at its end (SWAPDB moves contents, FLUSHDB and FLUSHALL empty
//     them), reading only the other records' headers (no checksum: pass
//     2 verifies every record, and pass 1's result is used only if pass 2
//     succeeds, so both walked the same well-formed records); it also
//     counts the records that may move, to size the list of moves. Pass 2
//     walks it again and copies, in log order, every record the index
//     still points to, with its current expiry and its database as of the
//     end of the prefix, keeping its sequence number; into temporary
//     files, preallocated, written in whole 2 MiB-aligned chunks (so the
//     page cache holds them in folios a read maps with one entry; see
//     compactWriter) and fsynced.
//     Liveness comes from the index alone: a record is live iff its key's
//     slot holds its very location (table.findLoc, by the key's hash; an
//     operation record, iff a slot of its key's hash has it in its chain),
//     so the mapped keys are never re-read. Each check takes one database
//     read lock briefly; value records are checked in groups of 32 whose
//     home slots are loaded first (valueBatch), so that their cache
//     misses overlap. Records whose current expiry is at or before
//     Options.Now are left out (and dropped from the index at the switch);
//     so are deletions, overwritten values and every operation record: an
//     operation only affects older records, which are all in the prefix
//     and resolved. Collection operation records are the exception: they
//     are copied, after their image, if they are still in the chain of a
//     live key (see Collections). Before the switch, without appendMu but
//     holding snapMu from here on (no snapshot writer may read the old
//     segments or write index.toon): index.toon is removed (it describes
//     the old layout under the same ids; if the switch then aborts, Open
//     replays the log or the next snapshot replaces it), and the
//     m outputs take the ids of the last m inputs (k-m+1..k, known once
//     pass 2 is done), so segment ids stay contiguous and in log order:
//     their headers are written, fsynced, renamed to data-ID.toon.fix, the
//     directory fsynced (covering the removal too) (a crash now leaves .fix files without a switch:
//     Open removes them). The active segment is fdatasynced (syncNow):
//     liveness was judged against writes not yet durable (an overwrite, a
//     delete), and a crash must not lose both versions; writes after pass
//     2 decided nothing. The moves are put in table order (tableOrder).
//  2. The switch, under snapMu and appendMu (writers wait: the metadata
//     rename, finishSwitch's renames and their fsyncs): abort (errCompactAborted, nothing changed, retried
//     later) if a SWAPDB was appended after the prefix (the copies'
//     database numbers would be stale) or an expired key was revived.
//     Then metadata.toon is replaced with first_segment: k-m+1: that
//     rename is the switch, exactly as for Check's Fix, and finishSwitch
//     renames the .fix files over the inputs and removes the inputs below
//     first_segment (Open does the same after a crash; before the switch
//     Open removes the .fix and temporary files). The outputs are mapped;
//     then (flip) expired entries are dropped under the write locks, every
//     index entry that still points at a copied record is found by its old
//     location (pass 2's slot if it still holds it, else a probe) with
//     appendMu alone (tables only change under appendMu; readers go on),
//     all before any is changed since new locations reuse old ids, and so
//     are the chains (keyed by image location) and their operations; then,
//     holding every database lock and the id index's, the new locations
//     are written, walking each table forward, and the segment set
//     swapped. Then metadata is rewritten without first_segment. Readers
//     are blocked only for those writes (BenchmarkCompact's pause-us: about
//     10 ns per moved key); the list of moves costs 48 bytes per live
//     record of the prefix while the compaction runs (a limit at tens of
//     millions of keys: a later version should compact the prefix in
//     slices).
//  3. A snapshot is written afterwards (Compact, and the background loop).
//
// Sequence numbers stay increasing (copies keep theirs, in order, before
// the suffix), so recovery, Check and the snapshot rules are unchanged. A
// replaced segment leaves the segment set at the switch, but its mapping
// stays valid for Options.RetireGrace (10 s by default): slices returned
// by Get before the switch (Entry.Value) still read the same bytes; an
// in-store reader holds a database lock, which the switch waits for. After
// the grace the background loop unmaps it (Close unmaps at once); its
// file is already gone from the directory, so its disk space is released
// then. Callers that keep a value longer than that must copy it (pkg/cache
// copies at once).
//
// The background loop checks once a second whether dead bytes (sealed
// bytes minus live bytes) reach Options.CompactRatio of the sealed bytes
// and at least one segment (SetCompactTrigger replaces the ratio and adds
// a minimum log size: Redis's auto-aof-rewrite-percentage and -min-size);
// Compact runs one on demand (BGREWRITEAOF). With Options.Rechunk the
// same loop rebuilds the page cache of each segment a rotation sealed in
// 2 MiB folios, which a read maps with one page-table entry, and that of
// the active segment's filled chunks once the log stops growing
// (rechunk.go; off by default).
// Stats report Compacting, CompactDone/CompactTotal (bytes of input read),
// Compactions and Reclaimed. The crash harness runs compactions as one of
// its operations, with crash images inside them, under Options.Now so
// that some keys are expired; TestCompactConcurrent runs them against
// concurrent writers and readers on the OS filesystem.
//
// # Partial compaction
//
// A database that holds a large dataset written once and a few keys
// written over and over would have every compaction copy the dataset
// again to reclaim the churn. So compaction first surveys the sealed
// segments (survey.go): per segment, its bytes, an estimate of its live
// bytes (the pass-2 liveness test on one record in surveyEvery), the bytes
// of its deletions and expiry changes, whether it holds a database
// operation, and its record counts (which size the lists of moves, so
// pass 1 only runs when there is a database operation to follow).
// chooseStart then considers every segment s from which rewriting only
// s..k reclaims at least 90% of what the whole rewrite would, with no
// database operation in s..k, and the whole rewrite, and picks the one
// that moves the fewest live bytes per byte reclaimed (so a run of dead
// segments after a dense dataset is rewritten, the dataset not). Segments
// before s stay as they are (a partial compaction); the steps above apply
// to s..k, with these differences, all because a replay applies the kept
// segments first and then the rewritten ones:
//
//   - A deletion, or an id's deletion, is copied if its key (id) is still
//     absent: the kept segments may hold a record of it that the replay
//     would otherwise revive. (If the key is present, its record is newer
//     than the deletion and is replayed after it.) An expiry change is
//     copied if its key's current record is before s (a record from s on
//     is copied with its current expiry). They keep their sequence
//     numbers; nothing in the index points to them.
//   - Expired records are copied like live ones (with their chains): an
//     older version of the key may be in the kept segments.
//   - Without a database operation in s..k, every record's database is
//     its final one: pass 2 keeps them.
//
// The outputs take the ids of the last m inputs as before, so the ids
// s..k-m are gone and the log has a gap. The switch's metadata names
// first_segment: k-m+1 and keep_below: s, and lists the kept segments,
// the outputs and the later segments; finishSwitch removes only the
// segments from keep_below up to first_segment. Open and Check accept a
// gap between two segments the metadata lists when it lists none between
// them (metadata.allowsGap: every rewrite of metadata.toon lists every
// segment, so a segment it never listed between two it lists was removed
// this way); any other gap is still a missing segment. While the ids
// have a gap (or a switch names keep_below), metadata.toon says
// format_version: 3, which an older build refuses instead of taking the
// gap for damage or removing the kept segments. A whole compaction
// closes the gaps (its outputs take the last ids).
//
// The segments left alone hold at most a tenth of the reclaimable bytes
// (plus the estimate's error), and a deletion kept for them is counted
// against a partial rewrite, so when they hold more the next compaction
// is a whole one. The crash harness forces a random valid start in half
// its compactions; TestCompactPartial checks the kept files are untouched
// and every key reads the same after reopening; BenchmarkCompactPartial
// measures the gain.
//
// # Collections
//
// A collection key (KindHash, KindList, KindSet, KindZSet) is a full IMAGE,
// a value record written by DB.Set as for a string, followed by a CHAIN of
// OPERATION records appended by DB.AppendOp, so that a write costs
// O(size of the change) on disk. Images and operations are opaque bytes
// to the store (pkg/types encodes and applies them). An operation record
// (chain.go) has kind 23, 24, 25 or 26 for a hash, list, set or zset
// operation, the key's database and key, expireAt 0, and the value
//
//	prevSeq u64 (little endian) | operation
//
// where prevSeq is the sequence number of the previous record of the
// chain: the image for the first operation, else the previous operation.
// The link is a sequence number, not a location, because sequence numbers
// survive every rewrite of the log (compaction and Check's Fix copy
// records with theirs, at other locations, and a chain may continue in
// segments a compaction does not rewrite, whose records cannot be
// changed). AppendOp returns chainBytes, the padded disk bytes of the
// operations since the image; the caller folds (Set of a new image) when
// it sees fit, which starts an empty chain and leaves the old image and
// operations dead for compaction.
//
// With an OpMerger (Store.SetOpMerger) and Options.BufferWrites, an
// operation whose key's last operation record is still the log's last
// record, unflushed, is merged into it when the merger says the two
// combine (merge.go): the record grows in the write buffer, keeping its
// sequence number and location, and its checksum is written when it
// closes, before any flush. The format is unchanged; one record simply
// carries what several commands did.
//
// In memory the key's slot keeps pointing at the IMAGE (so Get, Scan,
// Range, RandomKey, Len, SetExpire, Delete, Flush, FlushAll and SwapDB
// treat the key as one key of its value kind, with its expiry), and
// DB.chains maps the image's location to the locations of its operation
// records, in order (8 bytes per operation plus a map entry and a small
// struct per chained key, on the Go heap: chains are bounded by the
// caller's folding). A table's live bytes count image and operations.
// DB.GetChain returns the image and the operations in order, aliasing the
// mapping like Get; DB.Get returns only the image (collection readers
// must use GetChain). A caller that renames, copies or moves a collection
// reads it with GetChain and writes a folded image under the new key.
//
// Recovery replays an operation record by appending it to the chain of
// its key if the key holds an image of the matching kind and the record's
// prevSeq is the sequence number of that chain's newest record; otherwise
// the record is ignored with a warning. In a log written by the store the
// link always matches (a chain's records are appended in order and the
// log is only ever cut at its end, so a torn tail loses a suffix of a
// chain, never a middle record). It can fail only in a log that Check's
// Fix salvaged: if Fix dropped a damaged operation, the later operations
// of that chain (which link to it, directly or not) are ignored, so the
// recovered chain is the image plus a prefix of its operations, never a
// chain with a gap (TestFixDropsBrokenChain). Snapshots (format 2) store
// each key's chain with its entry; a version 1 snapshot (no chains) is
// still loaded. Compaction copies the operation records still in a live
// chain, in log order after their image, and at the switch re-points the
// chains (by image location) along with the slots; an expired key's chain
// goes with its image.
//
// format_version 2 in metadata.toon marks logs that may hold operation
// records: a build that reads only version 1 refuses the directory
// instead of taking the new records for corruption (and Check's Fix of
// such a build would drop them). Version 1 directories are read as they
// are and marked version 2 by the next metadata rewrite (at Open).
//
// BenchmarkAppendOp (2-core VM, SyncNo, 32-byte operations, no fold):
// about 400-550 ns per operation with a 1 KiB image and with a 10 MiB
// image alike, no allocation but the chain's amortized growth;
// BenchmarkGetChain (1 KiB image, 16 operations) about 160 ns, no
// allocation.
//
// # Index
//
// One open-addressing table per database (index.go): 24-byte slots {low
// 32 bits of the hash, arena reference, location, expireAt}, linear
// probing, backward-shift deletion, doubled at 3/4 load and halved below
// 1/8. There is no Go pointer per key, so the garbage collector ignores the
// index at any size. Each table has a key arena (keys.go): one pointer-free
// byte slice on huge pages holding, per key written through Set, a copy of
// the key and its record's padded size. Writes (Set, Delete, SetExpire)
// confirm a key and learn the size of the record they replace from the
// arena; reads (Get, GetChain) confirm it from the record they read anyway.
// Before the arena a SET of a 1 KiB value into 1M keys spent 35% of its
// CPU touching the old record (a TLB miss and a page walk in a mapping of
// gigabytes); see perf/results/hotpath.md, "Keys in memory for writes".
// Keys longer than 255 bytes, and keys loaded from a snapshot until their
// next Set, have no entry and are confirmed from the record. Deleted keys'
// entries are garbage until it is half the arena (and 1 MiB), when the
// arena is copied without them. Memory: 24 bytes per slot, so 32 to 64
// bytes per key depending on where the key count sits between resizes
// (48.0 bytes per key at 2^20 keys, 40.3 at 10M), plus 5 bytes and the key
// in the arena (an array up to twice that after a growth), and nothing
// else on the Go heap per key. TestIndexBytesPerKey measures it (HeapAlloc
// growth after GC while inserting 2^20 keys). Expired keys stay until
// deleted: the store has no clock; the cache layer owns expiry.
//
// SCAN walks home buckets in Redis's reverse-binary cursor order; the visit
// of cursor c returns every key whose home bucket (hash & mask) is c, found
// in the probe run from c. That is exactly the bucket of a chained table,
// so Redis's guarantee carries over: a key present for the whole iteration
// is returned at least once, across any number of resizes.
//
// The id API (Put, Get, Delete, Scan of Store) is a separate namespace: a
// sorted array of {id, location}; ids start at 1 and are never reused
// (next_id in the metadata and the replayed id records both bound it).
//
// # Concurrency, lifetimes and lock order
//
// Writers (Set, AppendOp, Delete, SetExpire, Flush, FlushAll, SwapDB, Put,
// Delete of an id) take Store.appendMu, append the record, then take the write lock
// of the affected DB.mu (several in ascending database order for SwapDB and
// FlushAll; idIndex.mu for the id API) to update the index. A table is only
// mutated by holders of appendMu, so a writer reads it and builds a resized
// copy without a database lock, and readers are blocked only for the
// pointer swap. Readers (Get, GetChain, Scan, Range, RandomKey, Len) take only a
// DB.mu read lock and never wait for an fsync or for appendMu.
//
// Lock order (outermost first):
//
//	groupCommit.mu (never held while taking another lock)
//	Store.appendMu
//	DB.mu of databases in ascending order, then idIndex.mu
//
// A slice returned by Get (Entry.Value, an id's value) or passed by
// GetChain (the image and each operation) aliases the mapping
// and stays valid until Close, which unmaps after waiting for readers that
// are inside the store, or until Options.RetireGrace after a compaction
// replaced its segment, whichever comes first. Callers must not write to
// it.
//
// Lock order, with the background work: compactMu (compactions and
// backups), then snapMu, then
// appendMu (and the database locks as above). Close stops the snapshot
// and compaction goroutines, waits for compactMu and snapMu (a running
// compaction sees closed and stops reading the mappings) before
// unmapping.
//
// # Rotation
//
// A record that does not fit the active segment goes to the next one. The
// writer (the server's event loop) does no disk wait there: under the
// policies everysec and no the rotation does not fdatasync the segment it
// seals, and the next segment was prepared ahead, on a goroutine, without
// fsyncs (a preallocated file, renamed into place); the writer only
// switches to it (and makes it itself, still without fsyncs, if it is not
// ready). Measured under a busy disk (perf/results/hotpath.md, "Rotation
// without a disk wait on the writer's path"), the fsyncs of a rotation on
// the writer's path took up to seconds each.
//
// What a crash may then leave, and how recovery reads it:
//
//   - The segment sealed without its fdatasync may lose records at its
//     end while its successor's records reached the disk (writeback is in
//     no order). So the successor is created with the header flag
//     pred_unsealed; the background syncer (syncLoop: seal) fdatasyncs
//     the sealed segment, fsyncs the directory if the segment was made
//     without, and only then rewrites the successor's header without the
//     flag (durable with the successor's next fdatasync). A Sync seals
//     every pending segment in order before the active one, so nothing
//     after an unsealed segment counts as synced. Recovery treats a
//     segment with a flagged successor like the last one (a torn tail is
//     cut) and drops everything after the cut, and drops a flagged
//     segment whose first record's sequence number does not continue the
//     log (records lost at the end of the one before), with everything
//     after it.
//   - A segment made without fsyncs may come back without a header, or
//     without its name. Its name and header become durable with its first
//     sync (fdatasync of the segment, then the directory), before any of
//     its records counts as synced; so a segment without a header, with
//     only such or flagged segments after it, never held a synced record,
//     and recovery empties it and what follows.
//   - metadata.toon is rewritten after the seal, off the writer's path, by
//     the same goroutine (rotationMeta, under metaMu, which the
//     compaction's switch also takes, before appendMu); its last_sequence
//     is the highest sequence number known durable. A crash before leaves
//     the new segments unlisted, which Open accepts.
//
// A Sync seals the segments rotated before it was called (and the one
// active then, if it was rotated meanwhile), then syncs the active one.
// Once the oldest pending seal has waited maxSealDelay (2 s), or
// maxUnsealed segments wait, a rotation fdatasyncs the segment it leaves
// on the writer's path, as Redis's everysec delays writes once its
// background fsync has run for 2 s: the records not synced stay bounded.
// While an older segment is still unsealed, that segment is durable but
// the log before it may not be, so the new segment is still flagged and
// the synced one joins the queue; the seals clear the flags in order. (An
// unflagged header after an unsealed segment told recovery the log before
// it was intact, and Open refused a crash image in which that segment had
// no header: TestCrashWithUnsealedBacklog.)
//
// Compaction rewrites only sealed segments: it first seals what is
// pending. Close seals everything and removes a prepared segment, so a
// cleanly closed directory has no flags and reads the same to builds
// before this change; after a crash, or while tstd runs, such builds
// refuse a flagged header (non-zero reserved bytes).
//
// # Durability
//
// Options.Sync is Redis's appendfsync. SyncEverySec: a background goroutine
// fdatasyncs the active segment once a second if it was written. SyncNo:
// never (except to seal rotated segments, in the background, and at
// Close). SyncAlways: the caller calls Sync
// before acknowledging; Sync is a group commit, one fdatasync covering every
// caller that arrived while the previous one ran (see groupCommit). On
// Linux fdatasync of the file writes back the pages written by pwrite and
// those dirtied through the mapping (small flushes) alike. A failed fsync (or seal at rotation) puts the store in a
// read-only state: every later write returns ErrReadOnly wrapping the
// cause, reads keep working, Stats.LastSyncError reports it, and Close
// leaves clean_shutdown false.
//
// # Backups
//
// Backup (backup.go) writes a point-in-time copy of the store as a
// gzip-compressed tar (metadata.toon, the segments, and a manifest
// backup.toon with every entry's size and CRC32C), while reads and writes
// go on: the segment list and the active segment's write offset are
// captured under appendMu, then the captured prefix of the log (immutable:
// the log is append-only) is read from the mappings without a lock. The
// last segment is cut at the captured offset; the archive's metadata says
// so and clean_shutdown: true, so `tar xzf` yields an openable directory
// (its first write rotates to a new segment). index.toon is not included.
// Backup holds compactMu while it copies (a compaction would retire the
// captured segments) and stops with ErrClosed if Close begins.
// BackupFile writes path.tmp, fsyncs, renames; BackupDir opens a stopped
// store's directory and backs it up.
//
// Restore verifies the whole archive into temporary files first (the
// manifest must come last and match, the gzip trailer must check: anything
// else is ErrBadBackup and changes nothing), then switches exactly as
// Check's Fix does: the segments, renumbered after any existing segment
// (ids are only names: records hold no locations, chains link by sequence
// number), become data-N.toon.fix, metadata.toon is replaced with
// first_segment (the switch), finishSwitch renames them into place and
// removes the old segments, and Check verifies the result.
// TestRestoreCrashSafe takes a MemFS crash image at every file operation
// of a Restore over an existing store and opens each: the old store or the
// restored one, nothing else.
//
// # Filesystem
//
// Every file operation goes through Options.FS (fs.go): open, create,
// rename, remove, list, directory sync, lock, truncate, fallocate and a
// mapping of a file. OSFS (fs_os.go) is the operating system's: mmap-go
// for mappings, fdatasync, fallocate, flock. MemFS (memfs.go) keeps files
// in memory, a mapping being the file's contents itself; it tracks synced
// against current contents per file and synced against current entries
// per directory, and MemFS.Crash yields what a power loss would leave: the
// synced entries with their synced bytes, plus optionally a torn prefix or
// random subset of the pages written since (CrashOptions).
//
// The crash-consistency harness (harness_test.go) runs randomized
// workloads (sets of every value kind, operations appended to collection
// chains, overwrites (folds), deletes, expiries,
// flushdb, flushall, swapdb, id puts and deletes, rotations, records
// larger than a segment, clean Close and reopen) on a MemFS and takes
// crash images between operations and inside them (from the MemFS hook,
// also on the store's background goroutines: in the middle of a rotation,
// a background seal, the preparation of the next segment, a metadata
// rewrite, a Sync, Close, and of the recovery of an earlier crash image): over 5000 crash points per
// sync policy per run, seed printed, -seed replays. After each it checks
// that Open succeeds and that the state equals the workload's state after
// some prefix of its operations no shorter than what the last completed
// Sync (or Close) covered (so every synced write is there with its value,
// kind and expiry, and nothing never written appears); that Check, run
// before Open, reports nothing but the torn tails Open cuts; that the index
// equals an independent full scan of the log; and that recovery is
// idempotent and durable (a crash image right after recovery and a clean
// reopen give the same state). SyncAlways is tested as the server uses
// it (Sync before every acknowledgement: every acknowledged write
// survives); SyncNo as SyncEverySec (only what a Sync covered; the
// everysec syncer runs the same group sync, and is left out because
// MemFS.Sync must not race with writes through a mapping).
//
// tstd check and check --fix are the CLI's, on top of Check.
package store
