//go:build unix

package store

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the user+system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU makes b report "cpu-ns/op": CPU time of the whole process
// (every goroutine, background work included) per operation, which stays
// meaningful when other jobs share the machine's cores. Use it as
// defer reportCPU(b)() right before the measured loop.
func reportCPU(b *testing.B) func() {
	b.Helper()
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((processCPU()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}
