//go:build race

package server

// raceEnabled: the race detector is on (MemFS.Sync copies a file while
// the event loops write its mapping: a real fsync may, a copy may not).
const raceEnabled = true
