// Command engines runs the seed's headline workloads (1 KiB values: store
// Get, Put, mixed 50/50 Get/Put, and ToonCache's cached Get) on ToonStore
// and on bbolt, badger and pebble in the same run on this machine, each
// engine in a fresh temporary directory, in rounds that alternate the
// engines, and prints a Markdown table of median ops/s with ratios against
// ToonStore and against the seed's published figures.
//
// Usage (from perf/):
//
//	go run ./engines [-quick] [-out results/engines.md]
//	go run ./engines -engines toonstore -workloads put -cpuprofile put.pprof
//
// The seed is the Rust predecessor of ToonStore. Its figures are quoted from
// its README; it is not run here (we cannot run it), and the machine it was
// measured on is unknown.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// config is what the flags chose.
type config struct {
	keys      int           // keys preloaded for the store workloads
	hot       int           // keys of the cached Get workload
	dur       time.Duration // measured time per workload per round
	rounds    int
	tmp       string
	engines   []string
	workloads map[string]bool
	quick     bool
}

func main() {
	quick := flag.Bool("quick", false, "small run: 50k keys, 3 rounds of 0.5 s (about a minute)")
	keys := flag.Int("keys", 0, "keys preloaded for the store workloads (default 200000; -quick 50000)")
	hot := flag.Int("hot", 10_000, "keys of the cached Get workload (all resident)")
	dur := flag.Duration("d", 0, "measured time of each workload in each round (default 2s; -quick 500ms)")
	rounds := flag.Int("rounds", 0, "rounds, alternating the engines (default 5; -quick 3)")
	engs := flag.String("engines", strings.Join(engineNames(), ","), "engines to run, comma-separated")
	wls := flag.String("workloads", strings.Join(append(workloadIDs(), calibrationIDs()...), ","),
		"workloads to run, comma-separated (gomaphot, gomap, gomap2, append: the calibrations, see the report)")
	tmp := flag.String("tmp", "", "parent of the temporary data directories (default $TMPDIR)")
	out := flag.String("out", "", "also write the Markdown report to this file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	note := flag.String("note", "", "a line added under the machine line of the report (e.g. the commit measured)")
	flag.Parse()

	cfg := config{keys: 200_000, hot: *hot, dur: 2 * time.Second, rounds: 5, tmp: *tmp, quick: *quick}
	if *quick {
		cfg.keys, cfg.dur, cfg.rounds = 50_000, 500*time.Millisecond, 3
	}
	if *keys > 0 {
		cfg.keys = *keys
	}
	if *dur > 0 {
		cfg.dur = *dur
	}
	if *rounds > 0 {
		cfg.rounds = *rounds
	}
	for _, name := range strings.Split(*engs, ",") {
		if _, err := newEngine(name); err != nil {
			fatal(err)
		}
		cfg.engines = append(cfg.engines, name)
	}
	cfg.workloads = map[string]bool{}
	for _, id := range strings.Split(*wls, ",") {
		if findWorkload(id) == nil && !isCalibration(id) {
			fatal(fmt.Errorf("engines: unknown workload %q (want some of %v)", id, workloadIDs()))
		}
		cfg.workloads[id] = true
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	m := machineInfo()
	m.note = *note
	res, err := run(cfg, os.Stderr)
	if err != nil {
		pprof.StopCPUProfile()
		fatal(err)
	}
	m.loadEnd = loadAvg()
	report := render(cfg, m, res)
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			fatal(err)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// machine is the line every published figure carries.
type machine struct {
	cpus, procs int
	goVersion   string
	kernel      string
	date        time.Time
	loadStart   string
	loadEnd     string
	note        string
}

func machineInfo() machine {
	m := machine{
		cpus:      runtime.NumCPU(),
		procs:     runtime.GOMAXPROCS(0),
		goVersion: runtime.Version(),
		date:      time.Now().UTC(),
		loadStart: loadAvg(),
		kernel:    "unknown",
	}
	if b, err := os.ReadFile("/proc/version"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	return m
}

// loadAvg returns the 1-minute load average from /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
