package main

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// environment records what produced a result: machine, software versions
// and the command.
type environment struct {
	CPUModel   string
	CPUs       int
	MemTotal   string
	Kernel     string
	GoHarness  string // Go version of this harness
	GoTstd     string // Go version tstd was built with
	GOMAXPROCS string // what tstd runs with
	Redis      string // redis-server --version
	Benchmark  string // redis-benchmark --version
	Commit     string // git commit of the working tree, "+dirty" if modified
	Command    string
	Start, End time.Time
	LoadStart  string
	LoadEnd    string
	FileLimit  uint64
}

// collectEnvironment fills in everything but End and LoadEnd.
func collectEnvironment(tstdBin string, args []string) environment {
	e := environment{
		CPUs:      runtime.NumCPU(),
		GoHarness: runtime.Version(),
		Start:     time.Now().UTC(),
		LoadStart: loadAvg(),
		Kernel:    strings.TrimSpace(readFileOr("/proc/sys/kernel/osrelease", "unknown")),
		CPUModel:  procField("/proc/cpuinfo", "model name"),
		MemTotal:  memTotal(procField("/proc/meminfo", "MemTotal")),
		Redis:     redisVersion(commandOutput("redis-server", "--version")),
		Benchmark: firstLine(commandOutput("redis-benchmark", "--version")),
	}
	if bi, err := buildinfo.ReadFile(tstdBin); err == nil {
		e.GoTstd = bi.GoVersion
	}
	e.GOMAXPROCS = "not read (no tstd started)" // the launcher reads it from tstd's log
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		e.GOMAXPROCS = v + " (from the environment)"
	}
	e.Commit = strings.TrimSpace(commandOutput("git", "-C", "..", "rev-parse", "--short", "HEAD"))
	if e.Commit == "" {
		e.Commit = "unknown"
	} else if strings.TrimSpace(commandOutput("git", "-C", "..", "status", "--porcelain", "--untracked-files=no")) != "" {
		e.Commit += "+dirty"
	}
	run := "go run . " + strings.Join(args, " ")
	if os.Getenv("QUICK") == "1" {
		run = "QUICK=1 " + run
	}
	e.Command = strings.TrimSpace("cd perf && " + run)
	return e
}

func readFileOr(path, def string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	return string(b)
}

// procField returns the value of the first "name: value" line of a /proc
// file such as /proc/cpuinfo, or "unknown".
func procField(path, name string) string {
	sc := bufio.NewScanner(bytes.NewReader([]byte(readFileOr(path, ""))))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// commandOutput runs a command and returns its standard output, or "" if
// it failed.
func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// memTotal turns /proc/meminfo's "24683620 kB" into "23.5 GiB".
func memTotal(v string) string {
	var kb int64
	if _, err := fmt.Sscanf(v, "%d kB", &kb); err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}

// redisVersion shortens `redis-server --version` ("Redis server v=7.0.15
// sha=... malloc=jemalloc-5.3.0 bits=64 build=...") to "redis-server
// 7.0.15 (jemalloc-5.3.0)".
func redisVersion(out string) string {
	var v, malloc string
	for _, f := range strings.Fields(out) {
		if x, ok := strings.CutPrefix(f, "v="); ok {
			v = x
		}
		if x, ok := strings.CutPrefix(f, "malloc="); ok {
			malloc = x
		}
	}
	if v == "" {
		return strings.TrimSpace(firstLine(out))
	}
	return fmt.Sprintf("redis-server %s (%s)", v, malloc)
}
