package main

import (
	"errors"
	"math"
	"os"
	"testing"
	"time"
)

func TestParseBenchCSV(t *testing.T) {
	redis7 := `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"PING_MBULK","35714.29","0.932","0.264","0.607","1.775","7.071","7.495"
"GET","43478.26","0.640","0.248","0.575","1.047","1.951","2.135"
"LPUSH (needed to benchmark LRANGE)","45454.55","0.652","0.184","0.575","0.983","2.447","2.695"
"LRANGE_100 (first 100 elements)","41666.67","0.735","0.248","0.663","1.255","2.327","2.719"
"MSET (10 keys)","38461.54","0.897","0.264","0.575","2.831","5.143","5.407"
`
	tests := []struct {
		name    string
		in      string
		want    map[string]csvRow
		wantErr error
	}{
		{
			name: "redis 7.0 with latency columns",
			in:   redis7,
			want: map[string]csvRow{
				"ping_mbulk":           {35714.29, 0.607, 7.071},
				"get":                  {43478.26, 0.575, 1.951},
				helperPrefix + "lpush": {45454.55, 0.575, 2.447},
				"lrange_100":           {41666.67, 0.663, 2.327},
				"mset":                 {38461.54, 0.575, 5.143},
			},
		},
		{
			name: "old layout without latency columns",
			in:   "\"test\",\"rps\"\n\"SET\",\"1000.50\"\n",
			want: map[string]csvRow{"set": {1000.5, math.NaN(), math.NaN()}},
		},
		{
			name: "warnings, CRLF and blank lines around the CSV",
			in:   "WARNING: Could not fetch server CONFIG\r\n\r\n\"test\",\"rps\",\"p50_latency_ms\",\"p99_latency_ms\"\r\n\"INCR\",\"2.5\",\"1\",\"2\"\r\n\n",
			want: map[string]csvRow{"incr": {2.5, 1, 2}},
		},
		{
			name:    "columns in another order",
			in:      "\"p99_latency_ms\",\"test\",\"rps\",\"p50_latency_ms\"\n\"9\",\"HSET\",\"100\",\"3\"\n",
			wantErr: ErrNoCSVHeader, // "test" must be the first column to be recognised as the header
		},
		{name: "no header", in: "\"GET\",\"1\"\n", wantErr: ErrNoCSVHeader},
		{name: "empty", in: "", wantErr: ErrNoCSVHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBenchCSV([]byte(tc.in))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows %v, want %d", len(got), got, len(tc.want))
			}
			for k, w := range tc.want {
				g, ok := got[k]
				if !ok {
					t.Fatalf("no row %q in %v", k, got)
				}
				if !sameFloat(g.RPS, w.RPS) || !sameFloat(g.P50, w.P50) || !sameFloat(g.P99, w.P99) {
					t.Errorf("%s = %+v, want %+v", k, g, w)
				}
			}
		})
	}
}

func TestParseBenchCSVBadRPS(t *testing.T) {
	if _, err := parseBenchCSV([]byte("\"test\",\"rps\"\n\"GET\",\"-nan\"\n")); err == nil {
		t.Fatal("want an error for an unparsable rps")
	}
}

func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

func TestCPUShare(t *testing.T) {
	rows := map[string]csvRow{"lrange_100": {RPS: 1000}, helperPrefix + "lpush": {RPS: 3000}}
	// lrange_100 took 3x the wall time of the LPUSH run: 3/4 of the CPU.
	if got := cpuShare(rows, "lrange_100", 4); math.Abs(got-3) > 1e-9 {
		t.Errorf("cpuShare = %v, want 3", got)
	}
	if got := cpuShare(map[string]csvRow{"get": {RPS: 10}}, "get", 2); got != 2 {
		t.Errorf("single row cpuShare = %v, want 2", got)
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    float64
		wantErr bool
	}{
		{
			name: "plain",
			in:   "1234 (redis-server) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 250 0 0 20 0 5 0 100 1000 200 18446744073709551615",
			want: 4.0,
		},
		{
			name: "name with spaces and parentheses",
			in:   "99 (a) b (c)) R 1 2 3 4 5 6 7 8 9 10 7 3 0 0 20 0 1 0 1 1 1",
			want: 0.1,
		},
		{name: "no parenthesis", in: "1 foo S 1", wantErr: true},
		{name: "truncated", in: "1 (x) S 1 2 3", wantErr: true},
		{name: "not a number", in: "1 (x) S 1 2 3 4 5 6 7 8 9 10 u s 0", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrBadProcFile) {
					t.Fatalf("err = %v, want ErrBadProcFile", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	full := "Name:\ttstd\nVmPeak:\t  100 kB\nVmRSS:\t   21628 kB\nRssAnon:\t    7572 kB\nRssFile:\t   14056 kB\nRssShmem:\t       0 kB\nThreads:\t7\n"
	tests := []struct {
		name    string
		in      string
		want    memStatus
		wantErr bool
	}{
		{name: "real layout", in: full, want: memStatus{RSS: 21628 << 10, RssAnon: 7572 << 10, RssFile: 14056 << 10}},
		{name: "missing RssAnon", in: "VmRSS:\t1 kB\nRssFile:\t1 kB\n", wantErr: true},
		{name: "unit not kB", in: "VmRSS:\t1 MB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrBadProcFile) {
					t.Fatalf("err = %v, want ErrBadProcFile", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParsePipeOutput(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		errs, replies int64
		wantErr       bool
	}{
		{name: "success", in: "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 5000000\n", replies: 5000000},
		{name: "with errors", in: "ERR wrong number of arguments\nerrors: 3, replies: 10\n", errs: 3, replies: 10},
		{name: "no summary", in: "Could not connect to Redis at 127.0.0.1:1: Connection refused\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, r, err := parsePipeOutput([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrPipeSummary) {
					t.Fatalf("err = %v, want ErrPipeSummary", err)
				}
				return
			}
			if err != nil || e != tc.errs || r != tc.replies {
				t.Errorf("got %d, %d, %v; want %d, %d", e, r, err, tc.errs, tc.replies)
			}
		})
	}
}

func TestParseSchedstat(t *testing.T) {
	got, err := parseSchedstat([]byte("1500000000 2000 30\n"))
	if err != nil || !sameFloat(got, 1.5) {
		t.Fatalf("parseSchedstat = %v, %v; want 1.5", got, err)
	}
	for _, in := range []string{"", "\n", "x 1 2", "-5 1 2"} {
		if _, err := parseSchedstat([]byte(in)); !errors.Is(err, ErrBadProcFile) {
			t.Errorf("parseSchedstat(%q): err %v, want ErrBadProcFile", in, err)
		}
	}
}

// TestCPUSince: the schedstat difference unless the tick count exceeds it
// by over two ticks (a thread exited between the samples), or a sample has
// no schedstat sum.
func TestCPUSince(t *testing.T) {
	tests := []struct {
		name string
		a, b cpuTime
		want float64
	}{
		{"schedstat, finer than ticks", cpuTime{1.00, 0.9031}, cpuTime{1.20, 1.1152}, 0.2121},
		{"ticks a little above", cpuTime{1.00, 1.0}, cpuTime{1.21, 1.2}, 0.2},
		{"three ticks more: a thread exited", cpuTime{1.00, 1.0}, cpuTime{1.23, 1.2}, 0.23},
		{"a thread exited", cpuTime{1.00, 1.0}, cpuTime{1.50, 1.2}, 0.5},
		{"no schedstat", cpuTime{1.00, 0}, cpuTime{1.30, 0}, 0.3},
	}
	for _, tc := range tests {
		if got := cpuSince(tc.a, tc.b); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: cpuSince = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCPUSecondsSelf reads this process's CPU time both ways: the
// schedstat sum is present and within a few ticks of utime+stime, and
// both grow with work done.
func TestCPUSecondsSelf(t *testing.T) {
	a, err := cpuSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if a.sched <= 0 {
		t.Fatal("no /proc/PID/task/*/schedstat: the harness falls back to 10 ms ticks on this kernel")
	}
	x := 0
	for start := time.Now(); time.Since(start) < 150*time.Millisecond; {
		x++
	}
	b, err := cpuSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	d := cpuSince(a, b)
	if d < 0.1 || b.ticks <= a.ticks {
		t.Fatalf("150 ms of work measured %v s (ticks %v -> %v, sched %v -> %v)", d, a.ticks, b.ticks, a.sched, b.sched)
	}
	if diff := b.sched - b.ticks; diff > 0.2 || diff < -0.2 {
		t.Fatalf("schedstat sum %v s and utime+stime %v s disagree", b.sched, b.ticks)
	}
	_ = x
}
