package cache

import "errors"

// Errors returned by Open and OpenURL. Store errors (store.ErrLocked,
// store.ErrCorrupt, ...) are returned wrapped, testable with errors.Is.
var (
	// ErrBadURL: OpenURL was given a string that is not
	// "file://DIR[?capacity=N&...]" with known parameters and valid values.
	ErrBadURL = errors.New("cache: bad URL")
	// ErrBadOptions: Options hold a value that cannot be used (a Shards
	// count that is not a power of two, a negative capacity, ...).
	ErrBadOptions = errors.New("cache: bad options")
)
