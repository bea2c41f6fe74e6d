//go:build !linux

package hugemem

// Advise does nothing: transparent huge pages are a Linux feature.
func Advise(b []byte) {}
