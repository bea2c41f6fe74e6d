package types

// Hash is a Redis hash: a map from field to value, both byte strings.
//
// Fields keep their insertion order (an update keeps a field's place),
// which is the order of All, Scan and a full random draw; Redis 7.0's
// listpack hashes (up to 128 small fields) reply in that order too.
//
// A Hash is not safe for concurrent use. Strings returned by its methods
// are immutable and stay valid forever. A Hash decoded from an image keeps
// the image's bytes alive while any of its fields or values is.
//
// The zero Hash is empty and ready to use.
type Hash struct {
	d dict[string]
}

// Len returns the number of fields. O(1).
func (h *Hash) Len() int { return h.d.live }

// Get returns the value of field. O(1).
func (h *Hash) Get(field []byte) (string, bool) {
	if i := h.d.find(bstr(field)); i >= 0 {
		return h.d.at(i).val, true
	}
	return "", false
}

// Has reports whether field is present. O(1).
func (h *Hash) Has(field []byte) bool { return h.d.find(bstr(field)) >= 0 }

// Set sets field to value, copying both, and reports whether the field
// is new. O(1) amortized.
func (h *Hash) Set(field, value []byte) (added bool) {
	if i := h.d.find(bstr(field)); i >= 0 {
		h.d.at(i).val = string(value)
		return false
	}
	h.d.insert(string(field), string(value))
	return true
}

// SetString is Set for strings, which the Hash keeps without copying.
func (h *Hash) SetString(field, value string) (added bool) {
	return h.set(field, value)
}

func (h *Hash) set(field, value string) bool {
	if i := h.d.find(field); i >= 0 {
		h.d.at(i).val = value
		return false
	}
	h.d.insert(field, value)
	return true
}

// Delete removes field and reports whether it was present. O(1)
// amortized.
func (h *Hash) Delete(field []byte) bool {
	i := h.d.find(bstr(field))
	if i < 0 {
		return false
	}
	h.d.remove(i)
	return true
}

// All calls fn for every field in insertion order until fn returns false.
// fn must not modify h. O(n).
func (h *Hash) All(fn func(field, value string) bool) {
	h.d.each(func(e *dentry[string]) bool { return fn(e.key, e.val) })
}

// Scan calls fn for up to count fields (at least one) from cursor on, and
// returns the cursor for the next call, 0 when done. Start with cursor 0.
// As with Redis's HSCAN, a field present from the first call to the last
// is returned (here exactly once), whatever happens in between; fields
// added or deleted meanwhile may or may not be. Any cursor is safe; an
// invented one just starts somewhere. O(log n + count) per call.
func (h *Hash) Scan(cursor uint64, count int, fn func(field, value string)) uint64 {
	return h.d.scan(cursor, count, func(e *dentry[string]) { fn(e.key, e.val) })
}

// Random calls fn for random fields with Redis's HRANDFIELD count rules:
// count > 0 gives min(count, Len) distinct fields (all of them, in order,
// when count >= Len), count < 0 gives -count fields that may repeat,
// count 0 gives none. The caller bounds -count. O(|count|) expected, O(n)
// when count*3 > Len.
func (h *Hash) Random(r Rand, count int, fn func(field, value string)) {
	for _, i := range h.d.randomIndexes(r, count) {
		e := h.d.at(i)
		fn(e.key, e.val)
	}
}
