//go:build !unix

package command

import "time"

// cpuTimes is not available on this OS: zeros.
func cpuTimes() (sys, user, childSys, childUser time.Duration) { return }
