package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// parseProcStat returns utime+stime in seconds from the contents of
// /proc/PID/stat. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseProcStat(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return 0, fmt.Errorf("%w: stat has no ')'", ErrBadProcFile)
	}
	// After ')' come field 3 (state) onwards; utime is field 14, stime 15.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields after the name", ErrBadProcFile, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: utime %q stime %q", ErrBadProcFile, f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// cpuTime is a process's CPU time read two ways: ticks, utime+stime from
// /proc/PID/stat in seconds (every thread, exited ones included, in
// 10 ms units), and sched, the sum of the running threads' times from
// /proc/PID/task/*/schedstat in seconds (nanosecond resolution). A run
// of 0.1-0.3 s is 10-30 ticks, so the tick count alone puts up to 10%
// of noise into ops per CPU-second.
type cpuTime struct{ ticks, sched float64 }

// cpuSince returns the CPU time used between the samples a and b: the
// schedstat difference, unless the tick count says more time was used
// than the threads still running account for (a thread exited between
// the samples) by over two ticks, then the tick difference.
func cpuSince(a, b cpuTime) float64 {
	ticks, sched := b.ticks-a.ticks, b.sched-a.sched
	if a.sched == 0 || b.sched == 0 || ticks-sched > 2.0/clockTicks {
		return ticks
	}
	return sched
}

// parseSchedstat returns the first field of a /proc/PID/task/TID/schedstat
// (time spent on a CPU, nanoseconds) in seconds.
func parseSchedstat(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0, fmt.Errorf("%w: empty schedstat", ErrBadProcFile)
	}
	ns, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: schedstat %q", ErrBadProcFile, f[0])
	}
	return float64(ns) / 1e9, nil
}

// cpuSeconds returns the CPU time pid has used (see cpuTime). The
// schedstat sum is 0 where the kernel has no schedstat files; a thread
// that exits while they are read is skipped.
func cpuSeconds(pid int) (cpuTime, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTime{}, fmt.Errorf("perf: cpu time of %d: %w", pid, err)
	}
	ticks, err := parseProcStat(b)
	if err != nil {
		return cpuTime{}, err
	}
	c := cpuTime{ticks: ticks}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return c, nil
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		v, err := parseSchedstat(b)
		if err != nil {
			return cpuTime{}, err
		}
		c.sched += v
	}
	return c, nil
}

// memStatus is the resident memory of a process, in bytes, from
// /proc/PID/status.
type memStatus struct {
	RSS     int64 // VmRSS: every resident page
	RssAnon int64 // anonymous pages (heap, stacks): the memory the process owns
	RssFile int64 // file-backed mapped pages: page cache the kernel can drop
}

// parseStatus extracts VmRSS, RssAnon and RssFile from the contents of
// /proc/PID/status. Every one of the three must be present.
func parseStatus(b []byte) (memStatus, error) {
	var m memStatus
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.RSS
		case "RssAnon":
			dst = &m.RssAnon
		case "RssFile":
			dst = &m.RssFile
		default:
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("%w: status line %q", ErrBadProcFile, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("%w: status line %q", ErrBadProcFile, sc.Text())
		}
		*dst = kb * 1024
		found++
	}
	if found != 3 {
		return m, fmt.Errorf("%w: status lacks VmRSS, RssAnon or RssFile", ErrBadProcFile)
	}
	return m, nil
}

// readMem returns the resident memory of pid.
func readMem(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, fmt.Errorf("perf: memory of %d: %w", pid, err)
	}
	return parseStatus(b)
}

// loadAvg returns the first three fields of /proc/loadavg, or "unknown".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
