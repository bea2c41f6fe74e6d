//go:build !linux

package command

import "runtime"

// osName is INFO's os field; without uname, GOOS and GOARCH.
func osName() string { return runtime.GOOS + " " + runtime.GOARCH }

// multiplexingAPI is the poller gnet uses on this OS.
func multiplexingAPI() string {
	switch runtime.GOOS {
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	}
	return "unknown"
}

// totalSystemMemory is unknown here (0).
func totalSystemMemory() uint64 { return 0 }

// residentBytes is unknown here (0: INFO falls back to the Go runtime's Sys).
func residentBytes() uint64 { return 0 }
