//go:build !amd64

package store

// prefetchLine is a no-op where no prefetch instruction is wired up.
func prefetchLine(addr uintptr) {}
