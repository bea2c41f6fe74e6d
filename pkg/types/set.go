package types

// Set is a Redis set: distinct byte strings.
//
// Members keep their insertion order, the order of All, Scan and a full
// random draw. A Set is not safe for concurrent use. Strings returned by
// its methods are immutable and stay valid forever.
//
// The zero Set is empty and ready to use.
type Set struct {
	d dict[struct{}]
}

// Len returns the number of members. O(1).
func (s *Set) Len() int { return s.d.live }

// Has reports whether member is present. O(1).
func (s *Set) Has(member []byte) bool { return s.d.find(bstr(member)) >= 0 }

// Add adds member, copying it, and reports whether it is new. O(1)
// amortized.
func (s *Set) Add(member []byte) (added bool) {
	if s.d.find(bstr(member)) >= 0 {
		return false
	}
	s.d.insert(string(member), struct{}{})
	return true
}

// AddString is Add for a string, which the Set keeps without copying.
func (s *Set) AddString(member string) (added bool) {
	if s.d.find(member) >= 0 {
		return false
	}
	s.d.insert(member, struct{}{})
	return true
}

// Remove removes member and reports whether it was present. O(1)
// amortized.
func (s *Set) Remove(member []byte) bool {
	i := s.d.find(bstr(member))
	if i < 0 {
		return false
	}
	s.d.remove(i)
	return true
}

// All calls fn for every member in insertion order until fn returns
// false. fn must not modify s. O(n).
func (s *Set) All(fn func(member string) bool) {
	s.d.each(func(e *dentry[struct{}]) bool { return fn(e.key) })
}

// Scan calls fn for up to count members (at least one) from cursor on and
// returns the cursor for the next call, 0 when done; see Hash.Scan for the
// guarantee (Redis's SSCAN's, strengthened to exactly once).
func (s *Set) Scan(cursor uint64, count int, fn func(member string)) uint64 {
	return s.d.scan(cursor, count, func(e *dentry[struct{}]) { fn(e.key) })
}

// Random calls fn for random members with Redis's SRANDMEMBER count
// rules: count > 0 gives min(count, Len) distinct members (all of them,
// in order, when count >= Len), count < 0 gives -count members that may
// repeat, count 0 gives none. The caller bounds -count.
func (s *Set) Random(r Rand, count int, fn func(member string)) {
	for _, i := range s.d.randomIndexes(r, count) {
		fn(s.d.at(i).key)
	}
}

// Pop removes min(count, Len) distinct random members, count >= 0, and
// calls fn for each after it is removed, as SPOP does. O(count) expected
// (O(n) when count*3 > Len).
func (s *Set) Pop(r Rand, count int, fn func(member string)) {
	if count <= 0 || s.d.live == 0 {
		return
	}
	if count == 1 { // SPOP without count: no allocation
		i := s.d.random(r)
		k := s.d.at(i).key
		s.d.remove(i)
		fn(k)
		return
	}
	idx := s.d.randomIndexes(r, count)
	keys := make([]string, len(idx))
	for j, i := range idx {
		keys[j] = s.d.at(i).key
	}
	for _, k := range keys {
		s.d.remove(s.d.find(k))
		fn(k)
	}
}
