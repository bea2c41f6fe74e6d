package types

// Rand is the source of randomness for the random-member helpers. It is
// supplied by the caller so that tests can replay a seed; *rand.Rand of
// math/rand/v2 satisfies it. IntN returns a uniform int in [0, n), n > 0.
type Rand interface {
	IntN(n int) int
}
