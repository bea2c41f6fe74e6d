// Command perf runs tstd and redis-server side by side on this machine and
// writes a Markdown report with PNG charts (server targets in perf/README.md):
//
//   - redis-benchmark --csv over a matrix of tests, pipeline depths,
//     connection counts and value sizes, against a fresh tstd (appendfsync
//     everysec), a fresh redis-server without persistence and a fresh
//     redis-server with AOF everysec, alternating the three in every round;
//     per cell the median ops/s, the ratios, p50/p99 latency and ops per
//     server-CPU-second (the threads' schedstat times under /proc/PID/task);
//   - bulk load: SET commands as RESP in a file, timed through
//     redis-cli --pipe into each server;
//   - memory: RSS and RssAnon from /proc/PID/status after loading 1M and
//     10M keys.
//
// Usage (from the repository root): make bench-compare [QUICK=1], or
//
//	cd perf && go run . -tstd ../bin/tstd [-quick] [-rounds 5] [-target 0.5]
//
// perf/README.md explains the report. The engine comparison lives in
// ./engines.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line settings.
type options struct {
	tstdBin    string
	quick      bool
	rounds     int
	target     float64 // seconds of work per redis-benchmark run
	fixedN     int     // -n for every cell instead of target-sized ones
	populate   int     // keys written before the read tests
	bulkKeys   int
	bulkRounds int
	memKeys    []int
	outDir     string
	name       string // base name of the result files
	tmp        string
	skipBench  bool
	note       string
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("perf", flag.ContinueOnError)
	fs.StringVar(&o.tstdBin, "tstd", "../bin/tstd", "path of the tstd binary (make build)")
	fs.BoolVar(&o.quick, "quick", os.Getenv("QUICK") == "1", "small matrix, under 3 minutes (also QUICK=1)")
	fs.IntVar(&o.rounds, "rounds", 0, "alternated rounds per cell (default 5, quick 2)")
	fs.Float64Var(&o.target, "target", 0.5, "seconds of work per redis-benchmark run, sizes -n per cell")
	fs.IntVar(&o.fixedN, "n", 0, "fixed -n for every cell instead of -target")
	fs.IntVar(&o.populate, "populate", 1000000, "keys written before the read tests (key:000000000000...)")
	fs.IntVar(&o.bulkKeys, "bulk-keys", 0, "SET commands of the bulk load (default 5000000, quick 1000000)")
	fs.IntVar(&o.bulkRounds, "bulk-rounds", 0, "bulk loads per server, fresh server each (default 3, quick 1: one load varies by 10-20% between runs)")
	mem := fs.String("mem-keys", "", "key counts after which memory is read (default 1000000,10000000; quick: none, memory is read after the bulk load)")
	fs.StringVar(&o.outDir, "out", "results", "directory of the report and charts")
	fs.StringVar(&o.name, "name", "", "base name of the result files (default bench-compare, quick bench-compare-quick)")
	fs.StringVar(&o.tmp, "tmp", "", "directory for the servers' data and the RESP files (default: the system's)")
	fs.BoolVar(&o.skipBench, "skip-bench", false, "run only the bulk load and memory parts")
	fs.StringVar(&o.note, "note", "", "text recorded in the report")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	def := func(v *int, full, quick int) {
		if *v == 0 {
			*v = full
			if o.quick {
				*v = quick
			}
		}
	}
	def(&o.rounds, 5, 2)
	def(&o.bulkKeys, 5000000, 1000000)
	def(&o.bulkRounds, 3, 1)
	if o.name == "" {
		o.name = "bench-compare"
		if o.quick {
			o.name = "bench-compare-quick"
		}
	}
	if *mem == "" && !o.quick {
		*mem = "1000000,10000000"
	}
	for _, f := range strings.FieldsFunc(*mem, func(r rune) bool { return r == ',' }) {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k <= 0 || (len(o.memKeys) > 0 && k <= o.memKeys[len(o.memKeys)-1]) {
			return o, fmt.Errorf("perf: -mem-keys wants increasing positive counts, got %q", *mem)
		}
		o.memKeys = append(o.memKeys, k)
	}
	if o.rounds < 2 {
		return o, fmt.Errorf("perf: -rounds must be at least 2 to alternate, got %d", o.rounds)
	}
	return o, nil
}

func main() {
	o, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// harness holds one run's state.
type harness struct {
	o      options
	env    environment
	launch *launcher
	res    *results
	bulk   map[string][]loadResult
	mem    map[string][]memPoint
	phases []phase
	start  time.Time
}

// phase is the wall time one part of the run took.
type phase struct {
	Name    string
	Seconds float64
}

// memPoint is the memory of a server after loading Keys keys.
type memPoint struct {
	Keys int
	Mem  memStatus
}

func run(o options) error {
	bin, err := filepath.Abs(o.tstdBin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("perf: tstd binary: %w (run make build)", err)
	}
	o.tstdBin = bin
	limit, err := raiseFileLimit()
	if err != nil {
		return fmt.Errorf("perf: raise the open-file limit: %w", err)
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(o.tmp, "tstd-perf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	h := &harness{
		o:      o,
		env:    collectEnvironment(bin, os.Args[1:]),
		launch: &launcher{tstdBin: bin, root: tmp, live: map[*server]bool{}},
		res:    newResults(),
		bulk:   map[string][]loadResult{},
		mem:    map[string][]memPoint{},
		start:  time.Now(),
	}
	h.env.FileLimit = limit

	// An interrupt stops the servers and removes the temporary files.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		h.logf("interrupted: stopping the servers")
		h.launch.stopAll()
		os.RemoveAll(tmp)
		os.Exit(130)
	}()

	h.logf("load average %s; tmp %s; results to %s/%s.md", h.env.LoadStart, tmp, o.outDir, o.name)
	steps := []struct {
		name string
		skip bool
		fn   func(string) error
	}{
		{"redis-benchmark matrix", o.skipBench, h.runMatrix},
		{"bulk load", false, h.runBulk},
		{"memory", len(o.memKeys) == 0, h.runMemory},
	}
	for _, st := range steps {
		if st.skip {
			continue
		}
		t0 := time.Now()
		if err := st.fn(tmp); err != nil {
			h.launch.stopAll()
			return err
		}
		h.phases = append(h.phases, phase{st.name, time.Since(t0).Seconds()})
	}
	h.env.End = time.Now().UTC()
	h.env.LoadEnd = loadAvg()
	if p := h.launch.procs; p != "" {
		h.env.GOMAXPROCS = p
	}

	mdPath, err := h.save()
	if err != nil {
		return err
	}
	charts, err := h.charts()
	if err != nil {
		return err
	}
	md, _ := os.ReadFile(mdPath)
	os.Stdout.Write(md)
	fmt.Printf("\nwrote %s, %s and %d charts in %.0f s\n", mdPath, o.name+"-raw.csv", len(charts), time.Since(h.start).Seconds())
	return nil
}

// save writes the report and the raw samples as they stand; the matrix
// calls it after every group, so an interrupted run leaves what it
// measured. It returns the report's path.
func (h *harness) save() (string, error) {
	mdPath := filepath.Join(h.o.outDir, h.o.name+".md")
	if err := os.WriteFile(mdPath, []byte(h.report()), 0o644); err != nil {
		return "", err
	}
	return mdPath, os.WriteFile(filepath.Join(h.o.outDir, h.o.name+"-raw.csv"), []byte(h.res.rawCSV()), 0o644)
}

// logf prints a progress line with the elapsed time to stderr.
func (h *harness) logf(format string, args ...any) {
	el := time.Since(h.start).Round(time.Second)
	fmt.Fprintf(os.Stderr, "[%s] %s\n", el, fmt.Sprintf(format, args...))
}
