package store

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
)

// idIndex is the index of the id API, a namespace apart from the keyed
// databases: entries sorted by id (ids are assigned in increasing order, so
// Put appends), deleted entries marked with loc 0 and squeezed out when
// they outnumber the live ones. No Go pointers per entry.
type idIndex struct {
	mu   sync.RWMutex // guards the fields below; mutated only by holders of Store.appendMu
	ents []idEnt
	n    int   // live entries
	live int64 // padded bytes of their records
}

type idEnt struct {
	id  ID
	loc uint64 // 0 = deleted
}

// find returns the index of live id in ents, or -1.
func (x *idIndex) find(id ID) int {
	i, ok := slices.BinarySearchFunc(x.ents, id, func(e idEnt, id ID) int {
		switch {
		case e.id < id:
			return -1
		case e.id > id:
			return 1
		}
		return 0
	})
	if !ok || x.ents[i].loc == 0 {
		return -1
	}
	return i
}

// put adds id at loc. The caller holds appendMu; ids normally arrive in
// increasing order (an append), a replay of an older one is inserted.
func (x *idIndex) put(id ID, loc uint64, size int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n := len(x.ents); n == 0 || x.ents[n-1].id < id {
		x.ents = append(x.ents, idEnt{id, loc})
	} else {
		i, found := slices.BinarySearchFunc(x.ents, id, func(e idEnt, id ID) int { return cmpID(e.id, id) })
		if found {
			if x.ents[i].loc != 0 {
				x.n--
			}
			x.ents[i].loc = loc
		} else {
			x.ents = slices.Insert(x.ents, i, idEnt{id, loc})
		}
	}
	x.n++
	x.live += size
}

func cmpID(a, b ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// remove deletes entry i (from find). The caller holds appendMu.
func (x *idIndex) remove(i int, size int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ents[i].loc = 0
	x.n--
	x.live -= size
	if dead := len(x.ents) - x.n; dead > 64 && dead > x.n {
		x.ents = slices.DeleteFunc(x.ents, func(e idEnt) bool { return e.loc == 0 })
	}
}

func idKey(id ID) [8]byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(id))
	return k
}

// Put stores value under a new ID (the seed's id API). The value is copied.
// Errors are as for DB.Set.
func (s *Store) Put(value []byte) (ID, error) {
	if err := s.checkSizes(make([]byte, 8), value); err != nil {
		return 0, err
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	id := s.nextID
	k := idKey(id)
	loc, size, err := s.appendLocked(0, kindIDPut, 0, k[:], value)
	if err != nil {
		return 0, err
	}
	s.nextID++
	s.ids.put(id, loc, size)
	return id, nil
}

// Get returns the value stored under id (ErrNotFound if none). The slice
// aliases the mapping: valid as Entry.Value (until Close or RetireGrace
// after a compaction), read-only.
func (s *Store) Get(id ID) ([]byte, error) {
	s.ids.mu.RLock()
	defer s.ids.mu.RUnlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	i := s.ids.find(id)
	if i < 0 {
		return nil, fmt.Errorf("%w: id %d", ErrNotFound, id)
	}
	r := (*s.segs.Load()).record(s.ids.ents[i].loc)
	if r == nil {
		return nil, fmt.Errorf("%w: malformed record for id %d", ErrCorrupt, id)
	}
	return recValue(r), nil
}

// Delete removes id (ErrNotFound if none).
func (s *Store) Delete(id ID) error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	i := s.ids.find(id)
	if i < 0 {
		return fmt.Errorf("%w: id %d", ErrNotFound, id)
	}
	k := idKey(id)
	if _, _, err := s.appendLocked(0, kindIDDelete, 0, k[:], nil); err != nil {
		return err
	}
	s.ids.remove(i, s.wview().recSize(s.ids.ents[i].loc))
	return nil
}

// Scan calls fn for every ID in ascending order until fn returns false.
// value aliases the mapping (valid as Entry.Value, read-only). fn may call
// back into the store: the index is read in batches and no lock is held
// while fn runs, so an id put during the scan may or may not be visited and
// one deleted during it may still be. It returns ErrClosed after Close.
func (s *Store) Scan(fn func(id ID, value []byte) bool) error {
	type item struct {
		id ID
		v  []byte
	}
	batch := make([]item, 0, 128)
	next := ID(0) // visit ids >= next
	for {
		batch = batch[:0]
		s.ids.mu.RLock()
		if s.closed.Load() {
			s.ids.mu.RUnlock()
			return ErrClosed
		}
		ss := *s.segs.Load()
		ents := s.ids.ents
		i, _ := slices.BinarySearchFunc(ents, next, func(e idEnt, id ID) int { return cmpID(e.id, id) })
		for ; i < len(ents) && len(batch) < cap(batch); i++ {
			if ents[i].loc == 0 {
				continue
			}
			r := ss.record(ents[i].loc)
			if r == nil {
				s.ids.mu.RUnlock()
				return fmt.Errorf("%w: malformed record for id %d", ErrCorrupt, ents[i].id)
			}
			batch = append(batch, item{ents[i].id, recValue(r)})
		}
		s.ids.mu.RUnlock()
		if len(batch) == 0 {
			return nil
		}
		for _, it := range batch {
			if !fn(it.id, it.v) {
				return nil
			}
		}
		next = batch[len(batch)-1].id + 1
	}
}
