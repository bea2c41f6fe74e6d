// Package e2e drives a built tstd binary with Redis's own tools
// (redis-cli, redis-benchmark), as a user would.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
)

var tstdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tstd-e2e-")
	if err != nil {
		panic(err)
	}
	tstdBin = filepath.Join(dir, "tstd")
	out, err := exec.Command("go", "build", "-o", tstdBin, "github.com/toonstore/toonstore/cmd/tstd").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		panic("building tstd: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type tstd struct {
	cmd  *exec.Cmd
	port int
	log  *bytes.Buffer
}

// startTstd starts the binary on a free port over dataDir and waits until it
// answers PING.
func startTstd(t *testing.T, dataDir string, extra ...string) *tstd {
	t.Helper()
	port := redistest.FreePort(t)
	args := append([]string{"--bind", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir}, extra...)
	cmd := exec.Command(tstdBin, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &tstd{cmd: cmd, port: port, log: &log}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if redistest.Ping(fmt.Sprintf("127.0.0.1:%d", port)) == nil {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tstd did not answer PING within 30s; log:\n%s", log.String())
	return nil
}

// stop sends SIGTERM and waits for a clean exit.
func (s *tstd) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tstd exited with %v; log:\n%s", err, s.log.String())
		}
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("tstd did not stop within 60s after SIGTERM")
	}
}

func (s *tstd) cli(t *testing.T, args ...string) string {
	t.Helper()
	cli := redistest.Require(t, "redis-cli")
	out, err := exec.Command(cli, append([]string{"-p", strconv.Itoa(s.port)}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// TestRedisCLI is the newcomer's first session: SET/GET, INFO, CONFIG GET *,
// and the COMMAND DOCS that redis-cli's hints are built from.
func TestRedisCLI(t *testing.T) {
	s := startTstd(t, t.TempDir())
	if got := s.cli(t, "SET", "greeting", "hello world"); got != "OK" {
		t.Fatalf("SET: %q", got)
	}
	if got := s.cli(t, "GET", "greeting"); got != "hello world" {
		t.Fatalf("GET: %q", got)
	}
	info := s.cli(t, "INFO")
	for _, want := range []string{"# Server", "redis_version:", "tstd_version:", "# Keyspace", "db0:keys=1,expires=0"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q:\n%s", want, info)
		}
	}
	cfg := s.cli(t, "CONFIG", "GET", "*")
	if n := strings.Count(cfg, "\n"); n < 300 {
		t.Errorf("CONFIG GET * returned %d lines, want every directive", n+1)
	}
	if docs := s.cli(t, "COMMAND", "DOCS", "set"); !strings.Contains(docs, "summary") {
		t.Errorf("COMMAND DOCS set: %q", docs)
	}
	s.stop(t)
}

// TestPipeMillion loads 1,000,000 SETs with redis-cli --pipe, restarts, and
// checks every key is back.
func TestPipeMillion(t *testing.T) {
	cli := redistest.Require(t, "redis-cli")
	dir := t.TempDir()
	s := startTstd(t, dir)
	const n = 1_000_000
	var in bytes.Buffer
	for i := 0; i < n; i++ {
		k := "key:" + strconv.Itoa(i)
		v := "value:" + strconv.Itoa(i)
		fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
	}
	cmd := exec.Command(cli, "-p", strconv.Itoa(s.port), "--pipe")
	cmd.Stdin = &in
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --pipe: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("errors: 0, replies: 1000000")) {
		t.Fatalf("redis-cli --pipe reported:\n%s", out)
	}
	s.stop(t)

	s = startTstd(t, dir)
	if got := s.cli(t, "DBSIZE"); got != "1000000" {
		t.Fatalf("DBSIZE after restart = %s, want 1000000", got)
	}
	if got := s.cli(t, "GET", "key:999999"); got != "value:999999" {
		t.Fatalf("GET key:999999 after restart = %q", got)
	}
	s.stop(t)
}

// TestRedisBenchmark runs redis-benchmark's pipelined core tests and
// requires every one to finish with a throughput and no error.
func TestRedisBenchmark(t *testing.T) {
	runRedisBenchmark(t, []string{"-t", "ping,set,get,incr,mset", "-n", "200000"},
		"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)")
}

// TestRedisBenchmarkDefaultSuite runs redis-benchmark's whole default
// suite (no -t): strings, lists, sets, hashes and sorted sets; every test
// must finish with a throughput and no error, and the data must survive a
// restart.
func TestRedisBenchmarkDefaultSuite(t *testing.T) {
	runRedisBenchmark(t, []string{"-n", "20000"},
		"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP",
		"SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LPUSH (needed to benchmark LRANGE)",
		"LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
		"LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)", "MSET (10 keys)")
}

// runRedisBenchmark runs redis-benchmark -P 16 --csv with args against a
// fresh tstd and requires a throughput for every test in want, no error,
// and the keys it wrote to be back after a restart.
func runRedisBenchmark(t *testing.T, args []string, want ...string) {
	rb := redistest.Require(t, "redis-benchmark")
	dir := t.TempDir()
	s := startTstd(t, dir)
	cmd := exec.Command(rb, append([]string{"-p", strconv.Itoa(s.port), "-q", "-P", "16", "--csv"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	text := string(out)
	if strings.Contains(strings.ToLower(text), "error") {
		t.Fatalf("redis-benchmark reported errors:\n%s", text)
	}
	rows := regexp.MustCompile(`(?m)^"([^"]+)","([0-9.]+)"`).FindAllStringSubmatch(text, -1)
	got := map[string]float64{}
	for _, r := range rows {
		v, _ := strconv.ParseFloat(r[2], 64)
		got[r[1]] = v
	}
	for _, w := range want {
		if got[w] <= 0 {
			t.Errorf("redis-benchmark test %q did not finish with a throughput; output:\n%s", w, text)
		}
	}
	// The keys redis-benchmark wrote are really there, also after a restart.
	before := s.cli(t, "DBSIZE")
	if got := s.cli(t, "GET", "key:__rand_int__"); got == "" {
		t.Errorf("key written by redis-benchmark is missing")
	}
	s.stop(t)
	s = startTstd(t, dir)
	if after := s.cli(t, "DBSIZE"); after != before || before == "0" {
		t.Errorf("DBSIZE %s before the restart, %s after", before, after)
	}
	s.stop(t)
}
