package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// csvRow is one test's line of `redis-benchmark --csv`. Latencies are in
// milliseconds; a column the redis-benchmark in use does not print is NaN.
type csvRow struct {
	RPS, P50, P99 float64
}

// testName maps a redis-benchmark CSV test label to the name -t takes:
// "LRANGE_100 (first 100 elements)" -> "lrange_100", "MSET (10 keys)" ->
// "mset". The runs redis-benchmark adds on its own ("LPUSH (needed to
// benchmark LRANGE)") are not cells: their name gets the helperPrefix.
func testName(label string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(label), " ")
	name = strings.ToLower(name)
	if strings.Contains(label, "needed to benchmark") {
		return helperPrefix + name
	}
	return name
}

// helperPrefix marks the rows of runs redis-benchmark makes only to prepare
// another test.
const helperPrefix = "helper:"

// parseBenchCSV parses the output of `redis-benchmark --csv`. Columns are
// found by their header names, so the parser accepts both Redis 7's
// layout (test, rps, avg/min/p50/p95/p99/max latency) and the older one
// with only test and rps. Lines outside the CSV (warnings, blank lines)
// are skipped. Rows are keyed by testName.
func parseBenchCSV(out []byte) (map[string]csvRow, error) {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, `"`) {
			lines = append(lines, l)
		}
	}
	r := csv.NewReader(strings.NewReader(strings.Join(lines, "\n")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("perf: redis-benchmark CSV: %w", err)
	}
	col := map[string]int{}
	rows := map[string]csvRow{}
	for _, rec := range recs {
		if len(rec) > 0 && rec[0] == "test" {
			col = map[string]int{}
			for i, h := range rec {
				col[h] = i
			}
			continue
		}
		if _, ok := col["rps"]; !ok {
			return nil, ErrNoCSVHeader
		}
		name := testName(rec[0])
		get := func(h string) float64 {
			i, ok := col[h]
			if !ok || i >= len(rec) {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				return math.NaN()
			}
			return v
		}
		row := csvRow{RPS: get("rps"), P50: get("p50_latency_ms"), P99: get("p99_latency_ms")}
		if math.IsNaN(row.RPS) || row.RPS <= 0 {
			return nil, fmt.Errorf("perf: redis-benchmark CSV: bad rps in %q", strings.Join(rec, ","))
		}
		rows[name] = row
	}
	if len(col) == 0 {
		return nil, ErrNoCSVHeader
	}
	return rows, nil
}

// benchRun is one redis-benchmark invocation against one server.
type benchRun struct {
	Test                    string
	Size, Pipeline, Clients int
	Requests                int
	Timeout                 time.Duration
}

// run executes r against s and returns its sample. The server's CPU time is
// read from /proc just before and just after the invocation, so it covers
// the run (and redis-benchmark's connection set-up) only.
func (r benchRun) run(s *server) (sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port),
		"-t", r.Test, "-P", strconv.Itoa(r.Pipeline), "-c", strconv.Itoa(r.Clients),
		"-d", strconv.Itoa(r.Size), "-n", strconv.Itoa(r.Requests), "-r", "1000000", "--csv")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	before, err := cpuSeconds(s.pid())
	if err != nil {
		return sample{}, err
	}
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start).Seconds()
	after, cerr := cpuSeconds(s.pid())
	if err != nil {
		return sample{}, fmt.Errorf("perf: redis-benchmark %s against %s: %w: %s", r.Test, s.name, err, firstLine(stderr.String()))
	}
	if cerr != nil {
		return sample{}, cerr
	}
	rows, err := parseBenchCSV(stdout.Bytes())
	if err != nil {
		return sample{}, fmt.Errorf("%w (against %s)", err, s.name)
	}
	row, ok := rows[r.Test]
	if !ok {
		return sample{}, fmt.Errorf("perf: redis-benchmark printed no %s row against %s", r.Test, s.name)
	}
	return sample{RPS: row.RPS, P50: row.P50, P99: row.P99, Ops: float64(r.Requests), CPU: cpuShare(rows, r.Test, cpuSince(before, after)), Wall: wall}, nil
}

// cpuShare returns the part of cpu, measured over one invocation, that
// belongs to test: when redis-benchmark ran helper tests too (LPUSH before
// LRANGE), cpu is shared out in proportion to each row's wall time. Every
// row ran the same number of requests, so a row's wall time is 1/rps.
func cpuShare(rows map[string]csvRow, test string, cpu float64) float64 {
	var total float64
	for _, r := range rows {
		total += 1 / r.RPS
	}
	if total == 0 {
		return cpu
	}
	return cpu * (1 / rows[test].RPS) / total
}

// firstLine returns s up to its first newline, trimmed.
func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
