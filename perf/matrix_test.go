package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMatrix(t *testing.T) {
	tests := []struct {
		name       string
		quick      bool
		wantCells  int
		wantGroups int
	}{
		// 15 tests x 3 pipelines x 2 sizes at 50 conns, plus SET and GET at
		// 1 and 500 conns x 3 pipelines x 2 sizes.
		{"full", false, 15*3*2 + 2*2*3*2, 18},
		{"quick", true, 5 * 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs := matrix(tc.quick)
			cells := 0
			for _, g := range gs {
				cells += len(g.Tests)
				last := -1
				for _, test := range g.Tests {
					i := indexOf(benchOrder(), test)
					if i < 0 {
						t.Fatalf("unknown test %q", test)
					}
					if i < last {
						t.Errorf("group %+v: tests not in redis-benchmark's order", g)
					}
					last = i
				}
			}
			if len(gs) != tc.wantGroups || cells != tc.wantCells {
				t.Errorf("%d groups, %d cells; want %d, %d", len(gs), cells, tc.wantGroups, tc.wantCells)
			}
		})
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestRequests(t *testing.T) {
	tests := []struct {
		name   string
		c      cell
		target float64
		want   int
	}{
		{"pipeline 1", cell{"get", 16, 1, 50}, 1, 95000},
		{"rounded up to a thousand", cell{"get", 16, 1, 50}, 0.5001, 48000},
		{"every connection fills a pipeline", cell{"set", 16, 64, 500}, 0.01, 32000},
		{"at least a thousand", cell{"lrange_100", 1024, 1, 50}, 0.1, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := requests(tc.c, tc.target); got != tc.want {
				t.Errorf("requests(%+v, %v) = %d, want %d", tc.c, tc.target, got, tc.want)
			}
		})
	}
}

func TestKeyName(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
	}{{0, "key:000000000000"}, {999999, "key:000000999999"}, {9999999, "key:000009999999"}} {
		if got := string(keyName(nil, tc.i)); got != tc.want || len(got) != 16 {
			t.Errorf("keyName(%d) = %q, want %q (16 bytes)", tc.i, got, tc.want)
		}
	}
}

// TestWriteSets parses the generated file back as RESP with an
// independent reader and checks every command.
func TestWriteSets(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi int
		value  valueFunc
		size   int
	}{
		{"redis-benchmark payload", 0, 50, fillValue(16), 16},
		{"distinct values from an offset", 1000, 1100, distinctValue(32), 32},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.resp")
			size, err := writeSets(path, tc.lo, tc.hi, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(b)) != size {
				t.Fatalf("writeSets returned size %d, file has %d bytes", size, len(b))
			}
			r := bufio.NewReader(bytes.NewReader(b))
			values := map[string]bool{}
			for i := tc.lo; i < tc.hi; i++ {
				args := readArray(t, r)
				if len(args) != 3 || args[0] != "SET" || args[1] != string(keyName(nil, i)) || len(args[2]) != tc.size {
					t.Fatalf("command %d = %q", i, args)
				}
				values[args[2]] = true
			}
			if _, err := r.ReadByte(); err != io.EOF {
				t.Fatalf("trailing bytes after %d commands", tc.hi-tc.lo)
			}
			if tc.value != nil && tc.size == 32 && len(values) < (tc.hi-tc.lo)*9/10 {
				t.Errorf("only %d distinct values in %d", len(values), tc.hi-tc.lo)
			}
		})
	}
}

// readArray reads one RESP array of bulk strings.
func readArray(t *testing.T, r *bufio.Reader) []string {
	t.Helper()
	line := func() string {
		l, err := r.ReadString('\n')
		if err != nil || !strings.HasSuffix(l, "\r\n") {
			t.Fatalf("bad line %q: %v", l, err)
		}
		return l[:len(l)-2]
	}
	h := line()
	if h[0] != '*' {
		t.Fatalf("header %q", h)
	}
	n, _ := strconv.Atoi(h[1:])
	args := make([]string, n)
	for i := range args {
		bh := line()
		if bh[0] != '$' {
			t.Fatalf("bulk header %q", bh)
		}
		l, _ := strconv.Atoi(bh[1:])
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil || string(buf[l:]) != "\r\n" {
			t.Fatalf("bulk of %d: %v", l, err)
		}
		args[i] = string(buf[:l])
	}
	return args
}

func TestParseOptions(t *testing.T) {
	t.Setenv("QUICK", "")
	tests := []struct {
		name    string
		args    []string
		check   func(options) bool
		wantErr bool
	}{
		{"full defaults", nil, func(o options) bool {
			return o.rounds == 5 && o.bulkKeys == 5000000 && len(o.memKeys) == 2 && o.memKeys[1] == 10000000 && o.name == "bench-compare"
		}, false},
		{"quick defaults", []string{"-quick"}, func(o options) bool {
			return o.rounds == 2 && o.bulkKeys == 1000000 && len(o.memKeys) == 0 && o.name == "bench-compare-quick"
		}, false},
		{"one round cannot alternate", []string{"-rounds", "1"}, nil, true},
		{"memory counts must increase", []string{"-mem-keys", "10,5"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && !tc.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

// TestLoadLine checks that only the load average before the run flags
// other work: the run's own processes raise the one after it.
func TestLoadLine(t *testing.T) {
	for _, tc := range []struct {
		start, end string
		flagged    bool
	}{
		{"0.20 0.97 1.33", "2.28 1.89 1.69", false},
		{"1.00 0.50 0.20", "2.28 1.89 1.69", true},
		{"0.99 0.50 0.20", "0.10 0.10 0.10", false},
	} {
		l := loadLine(tc.start, tc.end, 2)
		if got := strings.Contains(l, "Other jobs"); got != tc.flagged || !strings.Contains(l, tc.start) || !strings.Contains(l, tc.end) {
			t.Errorf("loadLine(%q, %q, 2) = %q, want flagged %v", tc.start, tc.end, l, tc.flagged)
		}
	}
}
