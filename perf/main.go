// Command perf runs redis-benchmark against tstd and redis-server side by
// side on this machine and prints a Markdown table: median ops/s of each
// server over alternated rounds, the ratio tstd/Redis, p50/p99 latency, and
// ops per server-CPU-second (server CPU time sampled from /proc), which
// stays meaningful when the load generator shares the cores.
//
// Usage (from the repository root): make bench-compare, or
//
//	cd perf && go run . -tstd ../bin/tstd [-rounds 3] [-n 100000] [-quick]
package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

type server struct {
	name string
	cmd  *exec.Cmd
	port int
}

type cell struct {
	test, server string
	pipeline     int
	clients      int
	size         int
}

type sample struct {
	rps, p50, p99 float64
	cpuSec        float64
	ops           float64
}

func main() {
	tstdBin := flag.String("tstd", "../bin/tstd", "path of the tstd binary")
	rounds := flag.Int("rounds", 3, "alternated A/B rounds per cell")
	n := flag.Int("n", 200000, "requests per redis-benchmark run")
	quick := flag.Bool("quick", os.Getenv("QUICK") == "1", "small matrix (a few minutes)")
	out := flag.String("out", "", "also write the Markdown table to this file")
	flag.Parse()

	tests := "ping_mbulk,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset"
	pipelines := []int{1, 16, 64}
	sizes := []int{16, 1024}
	if *quick {
		tests = "ping_mbulk,set,get,incr,mset"
		pipelines = []int{1, 16}
		sizes = []int{16}
		if *n > 100000 {
			*n = 100000
		}
	}

	tmp, err := os.MkdirTemp("", "tstd-perf-")
	check(err)
	defer os.RemoveAll(tmp)

	redis := startServer("redis", exec.Command("redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp), "--port")
	defer stopServer(redis)
	tdir := filepath.Join(tmp, "tstd-data")
	tstd := startServer("tstd", exec.Command(*tstdBin, "--data", tdir), "--port")
	defer stopServer(tstd)

	results := map[cell][]sample{}
	var order []cell
	seen := map[cell]bool{}
	for _, size := range sizes {
		for _, p := range pipelines {
			for r := 0; r < *rounds; r++ {
				pair := []*server{tstd, redis}
				if r%2 == 1 { // alternate A/B, B/A so drift hits both
					pair[0], pair[1] = pair[1], pair[0]
				}
				for _, s := range pair {
					for test, smp := range runBench(s, tests, p, 50, size, *n) {
						key := cell{test: test, pipeline: p, clients: 50, size: size}
						if !seen[key] {
							seen[key] = true
							order = append(order, key)
						}
						key.server = s.name
						results[key] = append(results[key], smp)
					}
				}
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].size != order[j].size {
			return order[i].size < order[j].size
		}
		if order[i].pipeline != order[j].pipeline {
			return order[i].pipeline < order[j].pipeline
		}
		return order[i].test < order[j].test
	})

	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %d CPUs, %s/%s, Go %s; client and servers share the cores.\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&b, "redis-benchmark -n %d -c 50 -r 1000000, medians of %d alternated rounds; Redis with --save \"\" --appendonly no, tstd with appendfsync everysec.\n\n", *n, *rounds)
	b.WriteString("| test | value | pipeline | tstd ops/s | redis ops/s | ratio | tstd p50/p99 ms | redis p50/p99 ms | tstd ops/CPU-s | redis ops/CPU-s |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range order {
		tc, rc := c, c
		tc.server, rc.server = "tstd", "redis"
		t, r := median(results[tc]), median(results[rc])
		fmt.Fprintf(&b, "| %s | %d B | %d | %.0f | %.0f | %.2fx | %.3f/%.3f | %.3f/%.3f | %.0f | %.0f |\n",
			c.test, c.size, c.pipeline, t.rps, r.rps, t.rps/r.rps, t.p50, t.p99, r.p50, r.p99, t.ops/t.cpuSec, r.ops/r.cpuSec)
	}
	fmt.Print(b.String())
	if *out != "" {
		check(os.WriteFile(*out, []byte(b.String()), 0o644))
	}
}

// runBench runs one redis-benchmark invocation and returns a sample per test.
// The server's CPU time is read from /proc before and after.
func runBench(s *server, tests string, pipeline, clients, size, n int) map[string]sample {
	before := cpuSeconds(s.cmd.Process.Pid)
	cmd := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-t", tests,
		"-P", strconv.Itoa(pipeline), "-c", strconv.Itoa(clients), "-d", strconv.Itoa(size),
		"-n", strconv.Itoa(n), "-r", "1000000", "--csv")
	outb, err := cmd.Output()
	check(err)
	cpu := cpuSeconds(s.cmd.Process.Pid) - before
	rows, err := csv.NewReader(bytes.NewReader(outb)).ReadAll()
	check(err)
	res := map[string]sample{}
	ntests := 0
	for _, row := range rows[1:] {
		if len(row) < 7 {
			continue
		}
		ntests++
		rps, _ := strconv.ParseFloat(row[1], 64)
		p50, _ := strconv.ParseFloat(row[4], 64)
		p99, _ := strconv.ParseFloat(row[6], 64)
		res[strings.ToLower(row[0])] = sample{rps: rps, p50: p50, p99: p99, ops: float64(n)}
	}
	// CPU time is measured over the whole invocation: share it out by each
	// test's share of the wall time (n/rps).
	var wall float64
	for _, smp := range res {
		wall += smp.ops / smp.rps
	}
	for k, smp := range res {
		smp.cpuSec = cpu * (smp.ops / smp.rps) / wall
		res[k] = smp
	}
	return res
}

func median(ss []sample) sample {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		sort.Float64s(v)
		if len(v) == 0 {
			return 0
		}
		return v[len(v)/2]
	}
	return sample{
		rps: pick(func(s sample) float64 { return s.rps }),
		p50: pick(func(s sample) float64 { return s.p50 }),
		p99: pick(func(s sample) float64 { return s.p99 }),
		// ops per CPU-second uses the median of the per-run ratios.
		ops:    pick(func(s sample) float64 { return s.ops / s.cpuSec }),
		cpuSec: 1,
	}
}

// cpuSeconds returns utime+stime of pid from /proc/PID/stat.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

func startServer(name string, cmd *exec.Cmd, portFlag string) *server {
	port := freePort()
	cmd.Args = append(cmd.Args, portFlag, strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = nil, nil
	check(cmd.Start())
	s := &server{name: name, cmd: cmd, port: port}
	for i := 0; i < 300; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line == "+PONG\r\n" {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "%s did not start\n", name)
	os.Exit(1)
	return nil
}

func stopServer(s *server) {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}
