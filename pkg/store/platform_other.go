//go:build !linux

package store

import (
	"errors"
	"os"
)

var errUnsupported = errors.New("store: fallocate unsupported on this platform")

// fallocate is unavailable: preallocate writes zeros instead.
func fallocate(f *os.File, size int64) error { return errUnsupported }

func errNoFallocate(err error) bool { return errors.Is(err, errUnsupported) }

// fdatasync falls back to fsync. On systems without a unified buffer cache
// a shared mapping must be msynced first; the caller does that.
func fdatasync(f *os.File) error { return f.Sync() }

// pwriteHeld is os.File.WriteAt: the raw system call is a Linux path.
func pwriteHeld(f *os.File, p []byte, off int64) (int, error) { return f.WriteAt(p, off) }

// hugeFolios: no transparent huge pages.
func hugeFolios() bool { return false }

// rechunk does nothing: huge folios are a Linux feature.
func rechunk(f *os.File, m []byte, lo, hi int) error { return nil }

// pmdMappedKB: no huge mappings.
func pmdMappedKB(m []byte) int { return -1 }
