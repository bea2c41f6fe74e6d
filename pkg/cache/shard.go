package cache

import (
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sys/cpu"
)

// entryOverhead approximates the bytes a decoded entry costs beyond its key
// and value bytes (LRU list node, map slot, string and slice headers); it
// is what MaxBytes accounting adds per entry.
const entryOverhead = 128

// entryKey names a decoded value: database and key. The key string is an
// owned copy for entries in the LRU; lookups build an entryKey whose key
// aliases the caller's bytes (see noCopyString).
type entryKey struct {
	db  int
	key string
}

// shard is one lock stripe of the cache.
type shard struct {
	mu    sync.Mutex                      // guards lru, bytes and the Value copies in lru
	lru   *simplelru.LRU[entryKey, Value] // decoded values, most recently used first
	bytes int64                           // approximate bytes of lru (entrySize)

	capacity int // entries the lru keeps; changed by SetCapacity under mu
	// pendingCap is a capacity SetCapacity could not apply because the
	// shard was locked (0: none); unlock applies it.
	pendingCap atomic.Int64
	maxBytes   int64 // 0 = no byte cap; immutable after Open

	// Counters: added to under mu, read by Stats and zeroed by ResetStats
	// without it.
	hits, misses, evictions, inserts, expired atomic.Uint64
	entries                                   atomic.Int64 // lru.Len(), published after each change

	// last is the collection the shard's last getLast or put was about:
	// a getLast of the same key again (the next command of a pipeline
	// writing to one list, hash, set or sorted set) returns it without the
	// LRU's map lookup. It is always the LRU's front entry and its value
	// is the LRU's: a get, getLast or put of another key replaces or
	// forgets it, and an eviction or removal of its key forgets it.
	// Strings are not remembered (their lookups are rarely repeated, and
	// copying each would cost them). It comes after the fields every
	// lookup touches.
	last lastEntry

	// view holds Tx.ViewTo's copy of a string record still in the store's
	// write buffer (store.DB.ViewTo): valid until Unlock or the shard's
	// next ViewTo, as a view's Str is. mu is held.
	view []byte

	_ cpu.CacheLinePad // keep neighbouring shards' locks off this cache line
}

// lastEntry is shard.last: a key of up to len(key) bytes, copied, and
// its value.
type lastEntry struct {
	ok  bool
	db  int
	n   int
	key [48]byte
	v   Value
}

func (e *lastEntry) is(k entryKey) bool { return e.ok && e.names(k) }

// names reports whether k is the entry's key, remembered or not.
func (e *lastEntry) names(k entryKey) bool {
	return e.db == k.db && e.n == len(k.key) && string(e.key[:e.n]) == k.key
}

// forget clears the last entry, its value too. shard.get only sets ok to
// false (it must stay small enough to be inlined), leaving a value whose
// key is still in the LRU; the eviction callback clears it when that key
// leaves, so that no collection deleted or evicted is kept alive here.
func (e *lastEntry) forget() { e.ok, e.v = false, Value{} }

// remember makes k, v the last entry when v is a collection whose key
// fits, else forgets it.
func (e *lastEntry) remember(k entryKey, v *Value) {
	if !v.Kind.IsCollection() || len(k.key) > len(e.key) {
		e.forget()
		return
	}
	e.ok, e.db, e.n, e.v = true, k.db, len(k.key), *v
	copy(e.key[:], k.key)
}

func entrySize(key string, v *Value) int64 {
	return int64(len(key)+len(v.Str)) + max(v.img, v.live) + entryOverhead
}

func (s *shard) init(capacity int, maxBytes int64) {
	// The callback runs for every entry that leaves the LRU (eviction,
	// Remove, Purge) and keeps bytes exact.
	l, err := simplelru.NewLRU[entryKey, Value](capacity, func(k entryKey, v Value) {
		s.bytes -= entrySize(k.key, &v)
		if s.last.names(k) {
			s.last.forget()
		}
	})
	if err != nil { // capacity is >= 1 by construction
		panic("cache: " + err.Error())
	}
	s.lru = l
	s.capacity = capacity
	s.maxBytes = maxBytes
}

// noCopyString returns a string that aliases b, without copying.
//
// It is used only to build lookup keys for the LRU's map (Get, Peek,
// Remove, and Add of a key already present, which keeps the stored key; see
// put). The string is never retained: the map copies nothing on lookup, and
// it is dead once the call returns, so the caller's b may change afterwards.
// An entry inserted as new always gets an owned copy (strings.Clone).
func noCopyString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// get returns the decoded value of k and marks it recently used (which
// may put another entry than the last one at the front: it is
// forgotten). s.mu is held.
func (s *shard) get(k entryKey) (Value, bool) {
	v, ok := s.lru.Get(k)
	if ok {
		s.last.ok = false // its value goes with its key (lastEntry.forget)
	}
	return v, ok
}

// getLast is get that remembers a collection found, and finds the last
// one remembered without the LRU's map (the next command of a pipeline
// writing to one collection). The value found is written to *v, which is
// left as it was when k is not cached. s.mu is held.
func (s *shard) getLast(k entryKey, v *Value) bool {
	if s.last.is(k) {
		*v = s.last.v // the front entry already
		return true
	}
	got, ok := s.lru.Get(k)
	if ok {
		*v = got
		s.last.remember(k, v)
	}
	return ok
}

// put makes k hold v in the LRU, inserting an owned copy of the key if k is
// new, and evicts down to capacity and maxBytes. k.key may alias caller
// memory (noCopyString). s.mu is held.
func (s *shard) put(k entryKey, v Value) {
	size := entrySize(k.key, &v)
	if s.maxBytes > 0 && size > s.maxBytes {
		// Larger than the whole shard budget: do not decode-cache it
		// (the store has it); drop any older copy.
		s.remove(k)
		return
	}
	if old, ok := s.lru.Peek(k); ok {
		// simplelru.Add of a present key only replaces the value and
		// moves it to the front: the stored (owned) key is kept, so
		// passing the aliasing k is safe here.
		s.bytes += size - entrySize(k.key, &old)
		s.lru.Add(k, v)
	} else {
		// The one unavoidable allocation of an insert. strings.Clone,
		// not string(k.key): converting a string to string copies nothing.
		k.key = strings.Clone(k.key)
		s.bytes += size
		if s.lru.Add(k, v) {
			s.evictions.Add(1)
		}
		s.inserts.Add(1)
	}
	s.last.remember(k, &v) // now the front entry; cleared below if evicted
	for s.maxBytes > 0 && s.bytes > s.maxBytes {
		if _, _, ok := s.lru.RemoveOldest(); !ok {
			break
		}
		s.evictions.Add(1)
	}
	s.entries.Store(int64(s.lru.Len()))
}

// update replaces the decoded copy of k if one is cached (write-around:
// an absent key is not inserted). With copyStr, v.Str is copied first.
// s.mu is held.
func (s *shard) update(k entryKey, v *Value, copyStr bool) {
	if _, ok := s.lru.Peek(k); !ok {
		return
	}
	if copyStr {
		v.Str = append([]byte(nil), v.Str...)
	}
	s.put(k, *v)
}

// remove drops the decoded copy of k, if any. s.mu is held.
func (s *shard) remove(k entryKey) {
	if s.lru.Remove(k) {
		s.entries.Store(int64(s.lru.Len()))
	}
}

// removeIf drops every decoded entry whose key satisfies drop. s.mu is held.
func (s *shard) removeIf(drop func(entryKey) bool) {
	for _, k := range s.lru.Keys() {
		if drop(k) {
			s.lru.Remove(k)
		}
	}
	s.entries.Store(int64(s.lru.Len()))
}

// purge drops every decoded entry. s.mu is held.
func (s *shard) purge() {
	s.lru.Purge()
	s.bytes = 0
	s.entries.Store(0)
}

// swapDBs renames the decoded entries of database a to b and of b to a.
// s.mu is held.
func (s *shard) swapDBs(a, b int) {
	s.last.forget()
	type kv struct {
		k entryKey
		v Value
	}
	var moved []kv
	for _, k := range s.lru.Keys() { // oldest first: re-adding keeps their relative order
		if k.db != a && k.db != b {
			continue
		}
		v, _ := s.lru.Peek(k)
		s.lru.Remove(k)
		if k.db == a {
			k.db = b
		} else {
			k.db = a
		}
		moved = append(moved, kv{k, v})
	}
	for _, e := range moved {
		s.bytes += entrySize(e.k.key, &e.v)
		s.lru.Add(e.k, e.v) // cannot evict: as many entries as were removed
	}
	s.entries.Store(int64(s.lru.Len()))
}

// resize sets the shard's capacity, evicting the least recently used
// entries beyond it. Called with mu held.
func (s *shard) resize(capacity int) {
	if evicted := s.lru.Resize(capacity); evicted > 0 {
		s.evictions.Add(uint64(evicted))
	}
	s.capacity = capacity
	s.entries.Store(int64(s.lru.Len()))
}

// unlock releases mu, first applying a capacity that SetCapacity left
// pending while the shard was locked.
func (s *shard) unlock() {
	if s.pendingCap.Load() != 0 {
		if p := s.pendingCap.Swap(0); p != 0 {
			s.resize(int(p))
		}
	}
	s.mu.Unlock()
}
