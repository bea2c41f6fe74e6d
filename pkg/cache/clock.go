package cache

// clockTable is the decoded-value table of one shard: a map from (database,
// key) to a slot of a ring of entries, evicted by the CLOCK algorithm (an
// approximation of LRU, as in Redis's sampled LRU or most OS page caches).
//
// Why not a strict LRU: a strict LRU moves the entry to the front of a
// linked list on every hit, which writes to the entry and to its two
// neighbours (three cache lines that are usually cold, shared by every
// reader of the shard) on the read path. CLOCK sets one "referenced" bit on
// a hit, and only if it is not already set: in a steady state where the hot
// keys stay resident, a hit writes nothing but the shard's lock and
// counters. Eviction sweeps a hand over the ring: a referenced entry gets
// its bit cleared and a second chance, the first unreferenced one is
// evicted. An entry touched since the hand last passed it is therefore
// never evicted before one that was not.
//
// Invariants:
//   - index[k] == i iff ents[i].used and ents[i].key == k;
//   - len(index) <= capacity after every operation that may evict;
//   - free holds exactly the indexes of the unused slots of ents.
//
// Not safe for concurrent use: the shard's mutex guards it.
type clockTable struct {
	index    map[entryKey]int32
	ents     []clockEntry
	free     []int32
	hand     int // next slot the eviction sweep examines
	capacity int
	onEvict  func(k entryKey, v Value) // every entry that leaves (eviction, remove, purge)
}

type clockEntry struct {
	key  entryKey
	val  Value
	ref  bool // read or written since the hand last passed
	used bool
}

func newClockTable(capacity int, onEvict func(entryKey, Value)) *clockTable {
	return &clockTable{index: make(map[entryKey]int32, capacity), capacity: capacity, onEvict: onEvict}
}

// Len returns the number of entries.
func (c *clockTable) Len() int { return len(c.index) }

// Get returns the value of k and marks it referenced.
func (c *clockTable) Get(k entryKey) (Value, bool) {
	i, ok := c.index[k]
	if !ok {
		return Value{}, false
	}
	e := &c.ents[i]
	if !e.ref { // write only on the first hit since the hand passed
		e.ref = true
	}
	return e.val, true
}

// Peek returns the value of k without marking it.
func (c *clockTable) Peek(k entryKey) (Value, bool) {
	i, ok := c.index[k]
	if !ok {
		return Value{}, false
	}
	return c.ents[i].val, true
}

// Add makes k hold v (referenced) and reports whether an entry was evicted
// to make room. A present k keeps its stored key, so k.key may alias
// caller memory then; a new k is stored as given (the caller owns the
// copy).
func (c *clockTable) Add(k entryKey, v Value) (evicted bool) {
	if i, ok := c.index[k]; ok {
		e := &c.ents[i]
		e.val, e.ref = v, true
		return false
	}
	if len(c.index) >= c.capacity {
		c.evictOne()
		evicted = true
	}
	var i int32
	if n := len(c.free); n > 0 {
		i = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		c.ents = append(c.ents, clockEntry{})
		i = int32(len(c.ents) - 1)
	}
	c.ents[i] = clockEntry{key: k, val: v, ref: true, used: true}
	c.index[k] = i
	return evicted
}

// Remove drops k and reports whether it was present.
func (c *clockTable) Remove(k entryKey) bool {
	i, ok := c.index[k]
	if !ok {
		return false
	}
	c.drop(i)
	return true
}

// RemoveOldest evicts the entry the CLOCK sweep chooses (the
// approximately least recently used one).
func (c *clockTable) RemoveOldest() (entryKey, Value, bool) {
	if len(c.index) == 0 {
		return entryKey{}, Value{}, false
	}
	e := c.ents[c.victim()]
	c.drop(int32(c.hand))
	return e.key, e.val, true
}

// Keys returns the keys in slot order (a copy).
func (c *clockTable) Keys() []entryKey {
	keys := make([]entryKey, 0, len(c.index))
	for i := range c.ents {
		if c.ents[i].used {
			keys = append(keys, c.ents[i].key)
		}
	}
	return keys
}

// Resize sets the capacity, evicting down to it; it returns the number
// evicted.
func (c *clockTable) Resize(capacity int) int {
	c.capacity = capacity
	n := 0
	for len(c.index) > capacity {
		c.evictOne()
		n++
	}
	return n
}

// Purge drops every entry.
func (c *clockTable) Purge() {
	for i := range c.ents {
		if c.ents[i].used {
			c.onEvict(c.ents[i].key, c.ents[i].val)
		}
	}
	clear(c.index)
	c.ents, c.free, c.hand = c.ents[:0], c.free[:0], 0
}

// rekey renames the key of every entry for which f returns a new key and
// true (SWAPDB). The new keys must be absent and distinct.
func (c *clockTable) rekey(f func(k entryKey) (entryKey, bool)) {
	type mv struct {
		i int32
		k entryKey
	}
	var moves []mv
	for i := range c.ents {
		if !c.ents[i].used {
			continue
		}
		if nk, ok := f(c.ents[i].key); ok {
			moves = append(moves, mv{int32(i), nk})
		}
	}
	for _, m := range moves {
		delete(c.index, c.ents[m.i].key)
	}
	for _, m := range moves {
		c.ents[m.i].key = m.k
		c.index[m.k] = m.i
	}
}

// victim advances the hand to the slot to evict and returns it: the first
// used slot without its referenced bit, clearing the bits it passes. The
// table must not be empty.
func (c *clockTable) victim() int {
	for {
		if c.hand >= len(c.ents) {
			c.hand = 0
		}
		e := &c.ents[c.hand]
		if e.used {
			if !e.ref {
				return c.hand
			}
			e.ref = false
		}
		c.hand++
	}
}

func (c *clockTable) evictOne() {
	c.drop(int32(c.victim()))
}

// drop removes the entry in used slot i and calls onEvict.
func (c *clockTable) drop(i int32) {
	e := c.ents[i]
	delete(c.index, e.key)
	c.ents[i] = clockEntry{}
	c.free = append(c.free, i)
	c.onEvict(e.key, e.val)
}
