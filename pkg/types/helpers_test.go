package types

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomized tests (0: a fresh one, logged for replay)")

// newRand returns a seeded source and logs the seed so that a failure can
// be replayed with -seed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: go test ./pkg/types -run '^%s$' -seed=%d)", s, t.Name(), s)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// steps is the number of random mutations per randomized test.
func steps(t testing.TB) int {
	if testing.Short() {
		return 1000
	}
	return 5000
}

func requireEqual[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.IsValid() && w.IsValid() && g.Kind() == reflect.Slice && w.Kind() == reflect.Slice && g.Len() == 0 && w.Len() == 0 {
		return // nil and empty slices are the same here
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func requireNoErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// randBytes returns a random byte string from a small alphabet so that
// collisions (updates, duplicate list values) are common; long sometimes.
func randBytes(r *rand.Rand, pool int) []byte {
	switch r.IntN(20) {
	case 0:
		return []byte{} // empty
	case 1:
		b := make([]byte, r.IntN(3000))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	return []byte(fmt.Sprintf("e%d", r.IntN(pool)))
}

// fixedRand is a deterministic Rand for table tests.
type fixedRand struct{ r *rand.Rand }

func (f fixedRand) IntN(n int) int { return f.r.IntN(n) }
