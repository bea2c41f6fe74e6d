//go:build !unix

package store

import (
	"testing"
	"time"
)

// reportCPU reports nothing where getrusage does not exist.
func reportCPU(b *testing.B) func() { b.Helper(); return func() {} }

// processCPU returns 0 where getrusage does not exist.
func processCPU() time.Duration { return 0 }
