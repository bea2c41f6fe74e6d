package cache

// THIS FILE IS THE CONTRACT between pkg/cache and its callers
// (pkg/command, pkg/server). The implementer may move these declarations,
// add fields and methods, and must keep these signatures and doc contracts
// (or update every caller in the same change).

import (
	"github.com/toonstore/toonstore/pkg/store"
	"go.uber.org/zap"
)

// Value is a decoded value of one key.
//
// Ownership of strings: once a Value has been passed to Tx.Set, its byte
// slices belong to the cache and are never modified again (writers
// replace, never mutate), so a string Value returned by Tx.Get stays valid
// and unchanged after Unlock.
//
// Ownership of collections: Obj (a *types.Hash for KindHash) is the
// decoded collection, shared with the cache and mutated in place by the Tx
// that holds its shard (see Tx.AppendOp). It is valid only while that
// shard is held: a command reads or changes it between Lock and Unlock and
// copies out what it replies after Unlock.
//
// Its size is a multiple of 16 bytes (80: Kind and Hint share a word;
// TestValueSize): the compiler copies a struct in 16-byte pieces, the last
// one overlapping the one before when the size is not a multiple of 16,
// and a copy of such a copy (a Value returned through Tx.Get or View and
// the command helpers above them) then loads 16 bytes that two stores
// wrote, which the CPU cannot forward from its store buffer. At 88 bytes
// this cost BenchmarkExecute's GET about 10 ns.
type Value struct {
	Kind store.Kind
	// Hint is opaque to the cache: the command layer's note about how the
	// value was made (OBJECT ENCODING's "raw" after APPEND). It is kept
	// with the decoded copy only: not stored, lost on eviction and restart,
	// and dropped by Set of a key that is not cached.
	Hint     uint8
	ExpireAt int64  // absolute Unix ms; 0 = no expiry
	Str      []byte // KindString: the bytes
	Obj      any    // collections: the decoded object (*types.Hash)

	// Collections only, for the fold policy (Tx.AppendOp): img is the
	// bytes of the image the store holds, live the size a fresh image of
	// Obj had when last measured (0: not yet), and recheck the chain
	// bytes below which AppendOp does not measure again.
	img, live, recheck int64
}

// Options configure Open. Zero fields take defaults.
type Options struct {
	Capacity int          // decoded entries kept; default 10000
	MaxBytes int64        // optional cap on decoded bytes (maxmemory); 0 = none
	Shards   int          // power of two >= 4*GOMAXPROCS by default
	Now      func() int64 // clock in Unix ms, called from any goroutine; default time.Now().UnixMilli
	Logger   *zap.Logger
	// NoActiveExpiry turns off sampled active expiry, the background
	// goroutine that Open starts and Close stops (tests that own the clock).
	NoActiveExpiry bool
	// Hz is the number of active expiry cycles per second (Redis's hz);
	// default 10, at most 500.
	Hz int
}

// Stats are the ToonCache counters that feed INFO.
//
// Hits counts Tx.Get calls answered from a decoded value; Misses counts
// Tx.Get calls that went to the store (the key was not decoded, absent or
// expired). Exists and Meta count neither. Redis's keyspace_hits and
// keyspace_misses (found / not found per read command) are the command
// layer's to count. Inserts counts decoded entries added, Evictions those
// dropped for capacity or MaxBytes (the store keeps the data).
type Stats struct {
	Hits, Misses, Evictions, Inserts uint64
	ExpiredKeys                      uint64 // keys removed because their TTL passed
	Entries                          int    // decoded entries held now
}
