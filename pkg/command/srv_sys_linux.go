//go:build linux

package command

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// osName is INFO's os field, as Redis builds it from uname(2):
// "sysname release machine".
func osName() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "Linux"
	}
	str := func(a [65]byte) string {
		if i := bytes.IndexByte(a[:], 0); i >= 0 {
			return string(a[:i])
		}
		return string(a[:])
	}
	return str(u.Sysname) + " " + str(u.Release) + " " + str(u.Machine)
}

// multiplexingAPI is the poller gnet uses on this OS.
func multiplexingAPI() string { return "epoll" }

// totalSystemMemory is the machine's RAM in bytes (0 if unknown).
func totalSystemMemory() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

// residentBytes is the process's resident set size (0 if unknown), from
// /proc/self/statm as Redis's zmalloc_get_rss.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
