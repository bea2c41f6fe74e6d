//go:build !unix

package cache

import "testing"

// reportCPU reports nothing where getrusage does not exist.
func reportCPU(b *testing.B) func() { b.Helper(); return func() {} }
