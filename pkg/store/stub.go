package store

// Stubs of the contract; the engine implementation replaces this file.

// Store is a ToonStore data directory opened for use. All methods are safe
// for concurrent use by multiple goroutines.
type Store struct{}

// ID is a record identifier of the seed's id API.
type ID uint64

// Open opens (creating if needed) the data directory dir, takes its LOCK
// (ErrLocked if another process holds it), recovers the index from the
// segments (cutting a torn tail) and returns the store.
func Open(dir string, opts Options) (*Store, error) { panic("unimplemented") }

// Close syncs, writes metadata.toon with clean_shutdown: true, unmaps and
// releases the LOCK. Further calls return ErrClosed.
func (s *Store) Close() error { panic("unimplemented") }

// Sync makes every write that returned before the call durable (fdatasync
// of the segments written since the last sync). Concurrent callers share one
// fsync where they can.
func (s *Store) Sync() error { panic("unimplemented") }

// Stats returns counters.
func (s *Store) Stats() Stats { panic("unimplemented") }

// Databases returns the number of logical databases.
func (s *Store) Databases() int { panic("unimplemented") }

// DB returns the keyed view of logical database n (0 <= n < Databases()).
func (s *Store) DB(n int) *DB { panic("unimplemented") }

// FlushAll removes every key of every database (one durable record).
func (s *Store) FlushAll() error { panic("unimplemented") }

// SwapDB swaps the contents of two databases (one durable record).
func (s *Store) SwapDB(a, b int) error { panic("unimplemented") }

// DB is one logical database of a Store. Safe for concurrent use.
type DB struct{}

// Get returns the live entry of key. Expiry is not checked here: the caller
// owns the clock. err is non-nil only for I/O or corruption (ErrCorrupt).
func (d *DB) Get(key []byte) (e Entry, ok bool, err error) { panic("unimplemented") }

// Set appends a record making key hold value of kind with expireAt (0 = no
// expiry), replacing any previous entry. key and value are copied into the
// log before Set returns. ErrValueTooLarge, ErrNoSpace, ErrReadOnly (after a
// failed write or sync) or I/O errors are returned and leave the old entry.
func (d *DB) Set(key []byte, kind Kind, value []byte, expireAt int64) error { panic("unimplemented") }

// SetExpire changes the expiry of an existing key without rewriting its
// value (a small operation record). Reports whether key existed.
func (d *DB) SetExpire(key []byte, expireAt int64) (bool, error) { panic("unimplemented") }

// Delete appends a tombstone for key. Reports whether key existed.
func (d *DB) Delete(key []byte) (bool, error) { panic("unimplemented") }

// Len returns the number of keys in the database, expired-but-present
// included; Expires the number of those with an expiry.
func (d *DB) Len() int { panic("unimplemented") }

// Expires returns the number of keys with an expiry set.
func (d *DB) Expires() int { panic("unimplemented") }

// Scan visits up to about count index slots starting at cursor and calls fn
// for each live key; it returns the next cursor, 0 when the iteration is
// complete. It guarantees Redis's SCAN contract: every key present for the
// whole iteration is returned at least once, even if the index grows or
// shrinks meanwhile (reverse-binary cursor over a power-of-two table). key
// is valid only during fn; fn must not call back into the store.
func (d *DB) Scan(cursor uint64, count int, fn func(key []byte, kind Kind, expireAt int64)) uint64 {
	panic("unimplemented")
}

// Range calls fn for every live key until fn returns false. key is valid
// only during fn; fn must not call back into the store.
func (d *DB) Range(fn func(key []byte, kind Kind, expireAt int64) bool) { panic("unimplemented") }

// RandomKey returns a copy of a uniformly chosen-ish key using seed r, or
// ok=false if the database is empty.
func (d *DB) RandomKey(r uint64) (key []byte, ok bool) { panic("unimplemented") }

// Flush removes every key of the database (one durable record).
func (d *DB) Flush() error { panic("unimplemented") }

// Put stores value under a new ID (the seed's id API).
func (s *Store) Put(value []byte) (ID, error) { panic("unimplemented") }

// Get returns the value stored under id (ErrNotFound if none). The slice
// aliases the mapping: valid until Close, read-only.
func (s *Store) Get(id ID) ([]byte, error) { panic("unimplemented") }

// Delete removes id (ErrNotFound if none).
func (s *Store) Delete(id ID) error { panic("unimplemented") }

// Scan calls fn for every ID in ascending order until fn returns false.
func (s *Store) Scan(fn func(id ID, value []byte) bool) error { panic("unimplemented") }
