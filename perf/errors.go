package main

import "errors"

// Errors of the harness. Each is wrapped with the context it occurred in.
var (
	// ErrNoCSVHeader means redis-benchmark's output had no CSV header row
	// naming the "test" and "rps" columns.
	ErrNoCSVHeader = errors.New("perf: no redis-benchmark CSV header")
	// ErrBadProcFile means a /proc file did not have the expected layout.
	ErrBadProcFile = errors.New("perf: unexpected /proc file layout")
	// ErrPipeSummary means redis-cli --pipe did not print its
	// "errors: N, replies: M" summary.
	ErrPipeSummary = errors.New("perf: no redis-cli --pipe summary")
	// ErrPipeErrors means redis-cli --pipe reported error replies or fewer
	// replies than commands sent.
	ErrPipeErrors = errors.New("perf: redis-cli --pipe reported errors")
	// ErrDBSize means a server's DBSIZE (or a sampled key) after loading did
	// not match what was loaded.
	ErrDBSize = errors.New("perf: keyspace check failed")
	// ErrNotStarted means a server did not answer PING in time.
	ErrNotStarted = errors.New("perf: server did not start")
	// ErrReply means a server answered a command with an error or an
	// unexpected reply type.
	ErrReply = errors.New("perf: unexpected reply")
)
