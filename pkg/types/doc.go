// Package types holds the in-memory structures of Redis's collection
// types and their binary encodings: Hash, Set, List and ZSet, each with a
// full image and small operation records. pkg/cache keeps decoded values
// of these types; pkg/store persists a collection as one IMAGE record
// followed by a chain of OPERATION records, each O(size of the change),
// and folds the chain into a new image when its bytes exceed the image's,
// so a write costs O(change) amortized and a cold read (decode the image,
// apply the chain) is bounded by about twice the image. The package
// imports only the standard library.
//
// # Structures and costs
//
// n is the number of elements, k the number an operation touches.
//
// Hash (field -> value) and Set (members) share a dict: insertion-
// ordered entries {key, value, seq} in blocks of 4,096 and an
// open-addressing index of 8-byte slots (linear probing, backward-shift
// deletion, at most 3/4 full), keyed by hash/maphash with a per-dict
// seed. A full index doubles incrementally, a few entries moved per
// insert or remove, as Redis's dict rehashes: no single insert pays for
// the whole collection. Deleted entries stay as tombstones until they
// outnumber the live ones, then are squeezed out a few per insert or
// remove (at once in a dict of up to 4,096 entries), keeping the order.
//
//	Len                                O(1)
//	Get, Has, Set/Add, Delete/Remove   O(1) amortized, and O(1) worst case
//	                                   but for the entries' first block
//	                                   (a dict of over 4,096 entries grows
//	                                   and squeezes in steps)
//	All                                O(n), insertion order
//	Scan(cursor, count)                O(log n + count); the cursor is an
//	                                   insertion sequence number, so an
//	                                   element present for the whole scan
//	                                   is returned exactly once, whatever
//	                                   mutations happen between calls
//	Random(r, count)                   O(|count|) expected; O(n) when
//	                                   count*3 > n (partial shuffle)
//	Set.Pop(r, count)                  same as Random, then O(1) per removal
//
// Measured overhead (TestMemoryPerElement, 100k elements of 10-byte keys
// and values, amd64, beyond the element bytes): Hash about 79 bytes per
// field built by Set, about 63 decoded from an image (its strings share
// one copy of the image); Set about 54 bytes per member.
//
// List is a quicklist: a deque of chunks of up to 128 elements and 8 KB,
// each chunk one packed byte slice plus a []uint32 of end offsets (about
// 5.5 bytes of overhead per element; no pointer per element, so the
// garbage collector sees one object per chunk). C = 128:
//
//	Len                                O(1)
//	PushLeft/PushRight/PopLeft/PopRight O(1) amortized per element (a
//	                                   head insertion moves the <= 8 KB
//	                                   chunk, as Redis's listpack does)
//	Index, Set, InsertAt               O(n/C + C), walking chunks from the
//	                                   nearer end
//	Range(start, stop)                 O(n/C + returned)
//	Insert (pivot), Remove (LREM), Pos O(n), stopping early where allowed
//	Trim                               O(removed)
//
// ZSet is Redis's zset ordered by score, ties by member bytes, held as a
// B+ tree (nodes of up to 64 entries, inner nodes counting the elements
// under each child) where Redis keeps a skip list, plus a dict member ->
// score. Costs:
//
//	Len, Score                         O(1)
//	Add, Remove, Rank, At              O(log n)
//	RangeByRank                        O(log n + returned)
//	ScoreRanks, CountByScore,
//	LexRanks, CountByLex               O(log n)
//	RangeByScore, RangeByLex (LIMIT)   O(log n + returned); the offset is
//	                                   skipped by rank, not walked
//	RemoveRangeBy{Rank,Score,Lex}, Pop O(removed * log n)
//	Scan, Random                       as for Hash
//
// About 130 bytes of overhead per member (TestMemoryPerElement).
//
// Scores are float64 compared as C compares doubles (-0 == +0; NaN is
// never stored). ParseScoreRange and ParseLexRange accept exactly what
// Redis 7.0's zslParseRange and zslParseLexRangeItem accept and fail with
// ErrScoreRange / ErrLexRange, whose Reply is Redis's error text. As in
// Redis, lex ranges are meaningful only when all scores are equal.
//
// # Image format
//
// Every image and operation record starts with two bytes: the Kind (1
// hash, 2 list, 3 set, 4 zset) and the format version (1). Decoders
// reject any other kind or version. Strings are a uvarint length followed
// by the bytes (any bytes). An image then holds a uvarint element count
// and the elements:
//
//	hash   count, then field, value per field (insertion order)
//	set    count, then member (insertion order)
//	list   count, then element (head first)
//	zset   count, then score (IEEE 754 bits, 8 bytes little endian),
//	       member, in score order
//
// # Operation records
//
// An operation record is the two header bytes, an opcode, then its
// arguments; item lists run to the end of the record (so AppendItem can
// extend a record in place):
//
//	hash  1 set      field, value, ...            HSET, HSETNX, HINCRBY*
//	      2 delete   field, ...                   HDEL (absent ignored)
//	set   1 add      member, ...                  SADD, SMOVE
//	      2 remove   member, ...                  SREM, SPOP, SMOVE
//	list  1 pushleft value, ... (each at the head in turn)   LPUSH
//	      2 pushright value, ...                  RPUSH
//	      3 popleft  uvarint n                    LPOP, LMOVE, ...
//	      4 popright uvarint n                    RPOP, ...
//	      5 set      uvarint index, value         LSET
//	      6 insert   uvarint index, value         LINSERT
//	      7 remove   varint count, value          LREM
//	      8 trim     uvarint left, uvarint right  LTRIM
//	zset  1 add      (score, member), ...         ZADD, ZINCRBY
//	      2 remove   member, ...                  ZREM
//	      3 ranks    uvarint lo, uvarint hi       ZREMRANGEBY*, ZPOP*
//
// Decoding an image of type X and applying, in order, the records made
// while mutating X gives a value equal to X (tested for thousands of
// random mutations per type). Apply validates a record fully before
// changing anything: a malformed record, or one that does not fit the
// value (popping more than the length, an index or rank out of range),
// returns an error wrapping ErrCorrupt and leaves the value unchanged.
// No decoder panics on any input (fuzzed) or allocates more than its
// input justifies.
//
// Lookups with []byte keys (Get, Has, Score, Rank), List.Index and Range,
// ZSet range walks, Set.Pop of one member and score updates allocate
// nothing (TestAllocationFree); an insertion allocates the copy of the
// new key (and, now and then, a node split for a ZSet).
//
// # Ownership and concurrency
//
// Values are not safe for concurrent use; pkg/cache serializes access per
// shard. Mutators copy the []byte arguments they keep. Strings returned
// by Hash, Set and ZSet are immutable and never change. Byte slices from
// List (Index, Range, PopLeft callbacks) alias the list's chunks and are
// valid only until its next mutation. Decoders copy their input: an image
// or record may live in a mapping that is unmapped later.
package types
