package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// A server's background rewrite of its log runs on the same two CPUs as
// the measured run of another server: Redis+AOF's BGREWRITEAOF (started
// by auto-aof-rewrite-percentage as its AOF doubles) forks a child that
// writes the whole dataset, and tstd's compaction copies live records. So
// before each run the harness waits until none is running anywhere.
const (
	quiesceMax  = 2 * time.Minute // then the run goes ahead anyway
	quiescePoll = 50 * time.Millisecond
)

// rewriting reports whether an INFO persistence reply shows a background
// rewrite or save running or scheduled.
func rewriting(info string) bool {
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok {
			continue
		}
		switch k {
		case "aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress":
			if v != "0" {
				return true
			}
		}
	}
	return false
}

// quiesce waits until no server in servers reports a rewrite (see
// rewriting), at most quiesceMax, and returns how long it waited.
func quiesce(servers []*server) (time.Duration, error) {
	start := time.Now()
	for {
		busy := false
		for _, s := range servers {
			info, err := bulkCommand(s.addr(), "INFO", "persistence")
			if err != nil {
				return time.Since(start), fmt.Errorf("perf: INFO persistence of %s: %w", s.name, err)
			}
			if rewriting(info) {
				busy = true
				break
			}
		}
		if !busy || time.Since(start) >= quiesceMax {
			return time.Since(start), nil
		}
		time.Sleep(quiescePoll)
	}
}

// bulkCommand sends a command whose reply is a bulk string and returns it.
func bulkCommand(addr string, args ...string) (string, error) {
	return roundTrip(addr, args, readBulk)
}

// readBulk reads one RESP bulk string reply.
func readBulk(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return "", fmt.Errorf("%w: %q", ErrReply, line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("%w: %q", ErrReply, line)
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b[:n]), nil
}
