//go:build !amd64

package prefetch

import "unsafe"

// Line loads the byte at p and returns it, for the caller to fold
// into a result so that the load is kept: where no prefetch instruction is
// wired up, Prefetch touches its lines with loads. p must be valid.
func Line(p unsafe.Pointer) byte { return *(*byte)(p) }
