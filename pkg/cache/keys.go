package cache

import (
	"fmt"

	"github.com/toonstore/toonstore/pkg/store"
	"go.uber.org/zap"
)

// Get returns the value of key in db, loading it from the store on a miss.
// err reports store I/O or corruption only.
//
// The returned Value is shared with the cache and must not be modified (see
// Value). On a hit Get does not allocate.
func (t *Tx) Get(db int, key []byte) (v Value, ok bool, err error) {
	ok, err = t.GetTo(db, key, &v)
	return v, ok, err
}

// GetTo is Get writing the value to *v (the zero Value when the key is
// absent or on an error). Commands that go on to change a collection use
// it with a Value of their own frame: an 80-byte result passed up through
// the helpers was copied at each step, and each copy read with 16-byte
// loads what the step below had just written with narrower stores, a
// store-forwarding stall (perf/results/hotpath.md, "The Tx in registers").
func (t *Tx) GetTo(db int, key []byte, v *Value) (bool, error) {
	s := t.shard(key)
	k := entryKey{db: db, key: noCopyString(key)}
	if s.getLast(k, v) {
		if v.ExpireAt == 0 || v.ExpireAt > t.c.now() {
			s.hits.Add(1)
			return true, nil
		}
		*v = Value{}
		s.misses.Add(1)
		t.c.expireKey(s, db, key, k)
		return false, nil
	}
	s.misses.Add(1)
	var e store.Entry
	ok, err := t.c.s.DB(db).GetTo(key, &e)
	if err != nil || !ok {
		*v = Value{}
		return false, err
	}
	if e.ExpireAt != 0 && e.ExpireAt <= t.c.now() {
		*v = Value{}
		t.c.expireKey(s, db, key, k)
		return false, nil
	}
	if e.Kind.IsCollection() {
		*v, ok, err = t.c.loadCollection(db, key)
		if err != nil || !ok {
			*v = Value{}
			return false, err
		}
	} else if *v, err = decode(key, e); err != nil {
		*v = Value{}
		return false, err
	}
	s.put(k, *v)
	return true, nil
}

// View is Get for a caller that uses the value only while it holds key's
// shard (GET replies, INCR parses, before Unlock). A string that is not
// cached is returned in place, its Str aliasing the store's mapping, and is
// not inserted into the cache: reading strings costs one index probe and
// no allocation, and a scan over many keys does not churn the LRU (the
// mapping is the strings' cache; decoding is what the LRU saves, and a
// string needs none). Collections and cached strings are as Get returns
// them. v.Str must not be written to or used after Unlock, nor after
// another View of a key of the same shard: a string record the store
// still holds in its write buffer (written earlier in the same round) is
// copied into a buffer of the shard, reused by each View.
func (t *Tx) View(db int, key []byte) (v Value, ok bool, err error) {
	ok, err = t.ViewTo(db, key, &v)
	return v, ok, err
}

// ViewTo is View writing the value to *v (the zero Value when the key is
// absent or on an error), for the reason GetTo gives.
func (t *Tx) ViewTo(db int, key []byte, v *Value) (bool, error) {
	s := t.shard(key)
	k := entryKey{db: db, key: noCopyString(key)}
	if got, ok := s.get(k); ok {
		*v = got
		if v.ExpireAt == 0 || v.ExpireAt > t.c.now() {
			s.hits.Add(1)
			return true, nil
		}
		*v = Value{}
		s.misses.Add(1)
		t.c.expireKey(s, db, key, k)
		return false, nil
	}
	s.misses.Add(1)
	var e store.Entry
	ok, err := t.c.s.DB(db).ViewTo(key, &e, &s.view)
	if err != nil || !ok {
		*v = Value{}
		return false, err
	}
	if e.ExpireAt != 0 && e.ExpireAt <= t.c.now() {
		*v = Value{}
		t.c.expireKey(s, db, key, k)
		return false, nil
	}
	if e.Kind.IsCollection() {
		*v, ok, err = t.c.loadCollection(db, key)
		if err != nil || !ok {
			*v = Value{}
			return false, err
		}
		s.put(k, *v)
		return true, nil
	}
	if e.Kind == 0 || e.Kind >= 16 {
		*v = Value{}
		return false, fmt.Errorf("cache: key %q has record kind %d: %w", key, e.Kind, store.ErrCorrupt)
	}
	v.setString(e.Kind, e.ExpireAt, e.Value)
	return true, nil
}

// setString makes *v a string of kind with expiry exp and bytes b, field by
// field: a composite literal assigned through the pointer is built in a
// temporary and then copied with 16-byte loads over the temporary's
// narrower stores (a store-forwarding stall on INCR's path).
func (v *Value) setString(kind store.Kind, exp int64, b []byte) {
	v.Kind, v.Hint, v.ExpireAt, v.Str, v.Obj = kind, 0, exp, b, nil
	v.img, v.live, v.recheck = 0, 0, 0
}

// Exists reports whether key is live in db without decoding its value. A
// store error is logged and reported as absent.
func (t *Tx) Exists(db int, key []byte) bool {
	_, _, ok := t.Meta(db, key)
	return ok
}

// Meta returns kind and expiry of a live key without decoding its value. A
// store error is logged and reported as absent.
func (t *Tx) Meta(db int, key []byte) (kind store.Kind, expireAt int64, ok bool) {
	s := t.shard(key)
	kind, expireAt, ok, err := t.c.live(s, db, key, entryKey{db: db, key: noCopyString(key)})
	if err != nil {
		t.c.log.Warn("cache: reading key metadata", zap.Int("db", db), zap.ByteString("key", key), zap.Error(err))
	}
	return kind, expireAt, ok
}

// Set makes key hold v in db: appends to the store, then updates the
// cache. key is copied; v's slices become the cache's (see Value). On error
// nothing changed. A zero v.Kind means store.KindString. An ExpireAt
// already past is stored as given: the key is expired on its next read.
//
// For a collection kind, v.Obj (*types.Hash, *types.Set, *types.List or
// *types.ZSet; nil for an empty one) is encoded into a fresh image (an
// empty chain); the cache never keeps v.Obj itself
// (a cached copy is decoded again from the image), so the caller may keep
// using it, and RENAME may pass the Value of another key. O(size of v).
//
// Writes go around the cache: a decoded copy that is already cached is
// replaced by v, but a key that is not cached is not inserted (it enters
// the cache when it is read). A bulk load of new keys therefore costs the
// store append only and does not churn the LRU.
func (t *Tx) Set(db int, key []byte, v Value) error {
	return t.set(db, key, &v, false)
}

// SetCopy is Set for a v whose slices the caller keeps (they may alias an
// input buffer): v.Str is copied only if the cache keeps it, so writing a
// key that is not cached allocates nothing.
func (t *Tx) SetCopy(db int, key []byte, v Value) error {
	return t.set(db, key, &v, true)
}

// set is Set and SetCopy. v is the caller's copy (Set's parameter): when
// Set is inlined it is the caller's literal, and passing its address on
// spares a copy that read it with wider loads than its stores.
func (t *Tx) set(db int, key []byte, v *Value, copyStr bool) error {
	s := t.shard(key)
	if v.Kind == 0 {
		v.Kind = store.KindString
	}
	if v.Kind.IsCollection() {
		return t.setCollection(s, db, key, *v)
	}
	if err := t.c.s.DB(db).Set(key, v.Kind, v.Str, v.ExpireAt); err != nil {
		return err
	}
	s.update(entryKey{db: db, key: noCopyString(key)}, v, copyStr)
	t.c.written(db, key, false)
	return nil
}

// Delete removes key from db. Reports whether it was live: an expired key
// is removed (counted as expired) and reported as not live, as Redis's DEL
// does. On error nothing changed.
func (t *Tx) Delete(db int, key []byte) (bool, error) {
	s := t.shard(key)
	k := entryKey{db: db, key: noCopyString(key)}
	if _, _, ok, err := t.c.live(s, db, key, k); err != nil || !ok {
		return false, err
	}
	existed, err := t.c.s.DB(db).Delete(key)
	if err != nil {
		return false, err
	}
	s.remove(k)
	t.c.written(db, key, false)
	return existed, nil
}

// Expire sets the absolute expiry of a live key (0 removes it, as PERSIST).
// Reports whether the key was live. An expiry in the past deletes the key
// (not counted as expired, as Redis's EXPIRE). On error nothing changed.
func (t *Tx) Expire(db int, key []byte, at int64) (bool, error) {
	s := t.shard(key)
	k := entryKey{db: db, key: noCopyString(key)}
	_, old, ok, err := t.c.live(s, db, key, k)
	if err != nil || !ok {
		return false, err
	}
	if at != 0 && at <= t.c.now() {
		if _, err := t.c.s.DB(db).Delete(key); err != nil {
			return false, err
		}
		s.remove(k)
		t.c.written(db, key, false)
		return true, nil
	}
	if at == old {
		return true, nil
	}
	existed, err := t.c.s.DB(db).SetExpire(key, at)
	if err != nil {
		return false, err
	}
	t.c.written(db, key, false)
	if v, cached := s.lru.Peek(k); cached {
		// The Value is a copy: changing its ExpireAt publishes a new
		// Value, its byte slices stay untouched.
		v.ExpireAt = at
		s.put(k, v)
	}
	return existed, nil
}

// live returns kind and expiry of key if it is live, from the decoded copy
// (without touching its recency) or else from the store's index, applying
// lazy expiry. s is key's shard, held; k names key and may alias it.
func (c *Cache) live(s *shard, db int, key []byte, k entryKey) (kind store.Kind, expireAt int64, ok bool, err error) {
	if v, cached := s.lru.Peek(k); cached {
		kind, expireAt = v.Kind, v.ExpireAt
	} else {
		e, found, err := c.s.DB(db).Get(key)
		if err != nil || !found {
			return 0, 0, false, err
		}
		kind, expireAt = e.Kind, e.ExpireAt
	}
	if expireAt != 0 && expireAt <= c.now() {
		c.expireKey(s, db, key, k)
		return 0, 0, false, nil
	}
	return kind, expireAt, true, nil
}

// expireKey deletes key, whose expiry has passed, from the store (a
// tombstone) and drops its decoded copy, counting it in ExpiredKeys, and
// reports whether the store had it. If the store refuses the tombstone the
// key stays there, still expired, and is tried again on its next read;
// dropping the decoded copy loses nothing. s is key's shard, held.
func (c *Cache) expireKey(s *shard, db int, key []byte, k entryKey) bool {
	existed, err := c.s.DB(db).Delete(key)
	s.remove(k)
	if err != nil {
		c.log.Warn("cache: deleting an expired key", zap.Int("db", db), zap.ByteString("key", key), zap.Error(err))
		return false
	}
	if existed {
		s.expired.Add(1)
		c.written(db, key, true)
	}
	return existed
}

// decode turns a store entry into a Value owning its bytes: e.Value aliases
// the store's mapping, so it is copied. Collections are decoded by
// loadCollection instead. key is for the error only.
func decode(key []byte, e store.Entry) (Value, error) {
	if e.Kind == 0 || e.Kind >= 16 {
		return Value{}, fmt.Errorf("cache: key %q has record kind %d: %w", key, e.Kind, store.ErrCorrupt)
	}
	str := make([]byte, len(e.Value)) // an empty value stays non-nil and costs nothing
	copy(str, e.Value)
	return Value{Kind: e.Kind, ExpireAt: e.ExpireAt, Str: str}, nil
}
