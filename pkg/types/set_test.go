package types

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
)

func setMembers(s *Set) []string {
	var out []string
	s.All(func(m string) bool {
		out = append(out, m)
		return true
	})
	return out
}

func TestSetTable(t *testing.T) {
	var s Set
	requireEqual(t, "add a", s.Add([]byte("a")), true)
	requireEqual(t, "add a again", s.Add([]byte("a")), false)
	requireEqual(t, "add b", s.AddString("b"), true)
	requireEqual(t, "members", setMembers(&s), []string{"a", "b"})
	requireEqual(t, "has", s.Has([]byte("b")), true)
	requireEqual(t, "remove x", s.Remove([]byte("x")), false)
	requireEqual(t, "remove a", s.Remove([]byte("a")), true)
	requireEqual(t, "members", setMembers(&s), []string{"b"})
	r := fixedRand{newRand(t)}
	var popped []string
	s.Pop(r, 5, func(m string) { popped = append(popped, m) })
	requireEqual(t, "pop all", popped, []string{"b"})
	requireEqual(t, "empty", s.Len(), 0)
	s.Pop(r, 1, func(string) { t.Fatal("pop from empty set") })
}

func TestSetRandomized(t *testing.T) {
	r := newRand(t)
	var s Set
	var model []string // insertion order
	has := func(m string) bool { return slices.Contains(model, m) }
	c := &chain{image: s.AppendImage(nil)}
	pool := 40
	for step := 0; step < steps(t); step++ {
		if step%500 == 0 {
			pool = []int{10, 40, 300}[r.IntN(3)]
		}
		switch op := r.IntN(10); {
		case op < 5:
			var ms [][]byte
			for k := 1 + r.IntN(3); k > 0; k-- {
				m := randBytes(r, pool)
				ms = append(ms, m)
				want := !has(string(m))
				if want {
					model = append(model, string(m))
				}
				requireEqual(t, "Add", s.Add(m), want)
			}
			c.add(AppendOpSetAdd(nil, ms...))
		case op < 7:
			var ms [][]byte
			for k := 1 + r.IntN(3); k > 0; k-- {
				m := randBytes(r, pool)
				ms = append(ms, m)
				want := has(string(m))
				model = slices.DeleteFunc(model, func(x string) bool { return x == string(m) })
				requireEqual(t, "Remove", s.Remove(m), want)
			}
			c.add(AppendOpSetRemove(nil, ms...))
		case op < 8:
			count := r.IntN(4)
			op := AppendOpSetRemove(nil)
			var got []string
			s.Pop(r, count, func(m string) {
				got = append(got, m)
				op = AppendItemString(op, m)
				if !has(m) {
					t.Fatalf("popped absent %q", m)
				}
				model = slices.DeleteFunc(model, func(x string) bool { return x == m })
			})
			requireEqual(t, "popped", len(got), min(count, len(got)+len(model)))
			c.add(op)
		case op < 9:
			m := randBytes(r, pool)
			requireEqual(t, "Has", s.Has(m), has(string(m)))
		default:
			count := r.IntN(2*pool+1) - pool
			var got []string
			s.Random(r, count, func(m string) { got = append(got, m) })
			checkRandom(t, got, model, count)
		}
		requireEqual(t, "Len", s.Len(), len(model))
		requireEqual(t, "All", setMembers(&s), slices.Clip(model))
		if step%37 == 0 {
			img := s.AppendImage(nil)
			requireEqual(t, "ImageSize", s.ImageSize(), len(img))
			d, err := DecodeSet(img)
			requireNoErr(t, err, "DecodeSet")
			requireEqual(t, "image round trip", setMembers(d), slices.Clip(model))
			requireEqual(t, "re-encoded image", d.AppendImage(nil), img)
			f, err := DecodeSet(c.image)
			requireNoErr(t, err, "DecodeSet chain image")
			for _, op := range c.ops {
				requireNoErr(t, f.Apply(op), "Set.Apply")
			}
			requireEqual(t, "image+ops fold", setMembers(f), slices.Clip(model))
			c.fold(img)
		}
	}
}

func TestSetDecodeErrors(t *testing.T) {
	cases := map[string][]byte{
		"duplicate":  append(appendHeader(nil, KindSet), 2, 1, 'a', 1, 'a'),
		"truncated":  append(appendHeader(nil, KindSet), 2, 1, 'a'),
		"hash image": new(Hash).AppendImage(nil),
		"bad count":  append(appendHeader(nil, KindSet), 0x80),
	}
	for name, b := range cases {
		if _, err := DecodeSet(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeSet(%x) = %v, want ErrCorrupt", name, b, err)
		}
	}
	var s Set
	for name, b := range map[string][]byte{
		"opcode": appendOp(nil, KindSet, 7),
		"item":   append(appendOp(nil, KindSet, opSetAdd), 3),
		"kind":   AppendOpZRemove(nil),
	} {
		if err := s.Apply(b); !errors.Is(err, ErrCorrupt) || s.Len() != 0 {
			t.Errorf("%s: Apply(%x) = %v, len %d", name, b, err, s.Len())
		}
	}
}

// TestSetLarge grows sets to thousands of members and shrinks them again
// (removals and pops compact the tombstones many times, down to zero),
// checking members, insertion order, Len, Pop and a Scan made while the
// set changes against a model.
func TestSetLarge(t *testing.T) {
	r := newRand(t)
	var s Set
	var order []string // the model: members in insertion order
	present := map[string]bool{}
	add := func(m string) {
		if got, want := s.Add([]byte(m)), !present[m]; got != want {
			t.Fatalf("Add(%q) = %v, want %v", m, got, want)
		}
		if !present[m] {
			present[m] = true
			order = append(order, m)
		}
	}
	remove := func(m string) {
		if got := s.Remove([]byte(m)); got != present[m] {
			t.Fatalf("Remove(%q) = %v, want %v", m, got, present[m])
		}
		if present[m] {
			delete(present, m)
			order = slices.DeleteFunc(order, func(o string) bool { return o == m })
		}
	}
	check := func(when string) {
		t.Helper()
		if s.Len() != len(order) {
			t.Fatalf("%s: Len %d, want %d", when, s.Len(), len(order))
		}
		var got []string
		s.All(func(m string) bool { got = append(got, m); return true })
		if !slices.Equal(got, order) {
			t.Fatalf("%s: All differs from the insertion order (%d members, want %d)", when, len(got), len(order))
		}
	}
	for round := range 6 {
		target := []int{3000, 5000, 2500, 4096, 1024, 6000}[round]
		for len(order) < target {
			add(fmt.Sprint("m", r.IntN(3*target)))
		}
		check(fmt.Sprint("round ", round, " grown"))
		// A Scan while members come and go: every member present
		// throughout is returned exactly once.
		before := maps.Clone(present)
		seen := map[string]int{}
		for cursor := uint64(0); ; {
			cursor = s.Scan(cursor, 1+r.IntN(200), func(m string) { seen[m]++ })
			if cursor == 0 {
				break
			}
			for k := r.IntN(40); k > 0; k-- {
				m := fmt.Sprint("m", r.IntN(3*target))
				if r.IntN(2) == 0 {
					add(m)
				} else {
					delete(before, m)
					remove(m)
				}
			}
		}
		for m := range before {
			if seen[m] != 1 {
				t.Fatalf("round %d: %q present throughout the scan, returned %d times", round, m, seen[m])
			}
		}
		// Shrink: down to a few hundred, or to nothing every other round.
		keep := []int{0, 300}[round%2]
		for len(order) > keep {
			if r.IntN(4) == 0 {
				var popped []string
				s.Pop(r, 1+r.IntN(50), func(m string) { popped = append(popped, m) })
				for _, m := range popped {
					if !present[m] {
						t.Fatalf("Pop returned %q, not a member", m)
					}
					delete(present, m)
					order = slices.DeleteFunc(order, func(o string) bool { return o == m })
				}
				continue
			}
			remove(order[r.IntN(len(order))])
		}
		check(fmt.Sprint("round ", round, " shrunk"))
	}
}
