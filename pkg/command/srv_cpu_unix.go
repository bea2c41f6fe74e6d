//go:build unix

package command

import (
	"syscall"
	"time"
)

// cpuTimes returns the system and user CPU time of the process and of its
// waited-for children, from getrusage(2) as Redis's INFO CPU.
func cpuTimes() (sys, user, childSys, childUser time.Duration) {
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		sys, user = tv(ru.Stime), tv(ru.Utime)
	}
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
		childSys, childUser = tv(ru.Stime), tv(ru.Utime)
	}
	return
}
