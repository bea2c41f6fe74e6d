package main

import (
	"fmt"
	"slices"
	"strings"
)

// displayName is an engine's name in the table.
func displayName(e string) string {
	switch e {
	case "toonstore":
		return "ToonStore"
	}
	return e
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// human formats ops/s as 1.23M, 456k or 789.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	r := a / b
	if r >= 100 {
		return fmt.Sprintf("%.0fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// goroutinesLabel is the goroutines column of w: the common count, and
// bbolt's own for the write workloads.
func goroutinesLabel(w workload, engines []string) string {
	s := fmt.Sprint(w.goroutines)
	if w.write && hasEngine(config{engines: engines}, "bbolt") {
		s += fmt.Sprintf(" (bbolt %d)", boltWriters)
	}
	return s
}

// render returns the Markdown report.
func render(cfg config, m machine, res results) string {
	var b strings.Builder
	mode := "full"
	if cfg.quick {
		mode = "quick"
	}
	fmt.Fprintf(&b, "## Engine comparison (`perf/engines`, %s run)\n\n", mode)
	fmt.Fprintf(&b, "Machine: %d CPUs, GOMAXPROCS %d, %s, %s; run %s; 1-minute load average %s at start, %s at end.\n\n",
		m.cpus, m.procs, m.goVersion, m.kernel, m.date.Format("2006-01-02 15:04 UTC"), m.loadStart, m.loadEnd)
	if m.note != "" {
		fmt.Fprintf(&b, "%s\n\n", m.note)
	}
	b.WriteString("**Noisy numbers:** this machine was shared with other heavy jobs during the run (see the load " +
		"average; it has 2 cores), so this process got only part of the CPU, unevenly. Every engine ran in the " +
		"same run, in alternating order, so the ratios between engines are more trustworthy than the absolute " +
		"figures; the second table (operations per CPU-second of this process) is the least disturbed by " +
		"the other jobs.\n\n")
	fmt.Fprintf(&b, "Setup: %d keys of 16 bytes preloaded with 1 KiB incompressible values (store workloads); "+
		"%d resident keys (cached Get); uniform random keys; %v measured per workload per round; %d rounds, "+
		"the engine order rotated each round; each engine in a fresh temporary directory each round.\n\n",
		cfg.keys, cfg.hot, cfg.dur, cfg.rounds)

	calibrationTable(&b, cfg, res)
	b.WriteString("### Throughput: median ops/s over the rounds\n\n" +
		"In parentheses: ToonStore's median divided by that engine's (above 1.00x: ToonStore is ahead).\n\n")
	table(&b, cfg, res.ops, true)
	b.WriteString("\n### Efficiency: median operations per CPU-second of the whole process\n\n" +
		"CPU time is user+system of the process during the measurement (getrusage), background work of " +
		"the engine (compaction, fsync goroutine) included; waiting (fsync, batch delay) costs none, so " +
		"bbolt's write rows look better here than its throughput. In parentheses: ToonStore / engine.\n\n")
	table(&b, cfg, res.perCPU, false)

	b.WriteString("\n### Engine targets (judged on the ops/s medians)\n\n" +
		"The last column is the calibration that bounds the workload from above (see Calibration): " +
		"when even its ops per CPU-second times the goroutine count (every goroutine on a core of its own, " +
		"none of the other jobs) is below what the target needs, no engine could meet the target on " +
		"this machine.\n\n" +
		"| target | needed | ToonStore ops/s | holds? | ToonStore per CPU-s | holds per CPU-s? | bound: calibration ops/s (per CPU-s) |\n|---|---:|---:|---|---:|---|---|\n")
	for _, w := range workloads() {
		if !cfg.workloads[w.id] {
			continue
		}
		toon := median(res.ops(w.id, "toonstore"))
		toonCPU := median(res.perCPU(w.id, "toonstore"))
		if w.target > 0 {
			need := w.target * w.seed
			fmt.Fprintf(&b, "| %s, %d goroutine(s): >= %gx seed (%s) | %s | %s | %s | %s | %s | %s |\n",
				w.title, w.goroutines, w.target, w.seedLabel, human(need), human(toon), yesNo(toon >= need, toon),
				human(toonCPU), yesNo(toonCPU >= need, toonCPU), boundCell(w, need, res))
		}
		if w.cacheOnly {
			continue
		}
		verdict, ran := ahead(cfg, w, res.ops)
		verdictCPU, _ := ahead(cfg, w, res.perCPU)
		if !ran {
			continue
		}
		fmt.Fprintf(&b, "| %s, %s goroutine(s): ahead of every other engine | - | %s | %s | %s | %s | - |\n",
			w.title, goroutinesLabel(w, cfg.engines), human(toon), verdict, human(toonCPU), verdictCPU)
	}

	b.WriteString(`
### Settings and how to read them

- **Durability, made comparable.** ToonStore: ` + "`store.SyncEverySec`" + ` (Redis's appendfsync
  everysec: a background fsync once a second; no loss on process crash). badger v4: default options,
  ` + "`SyncWrites=false`" + ` (value log written, not fsynced per write). pebble v2: writes with
  ` + "`pebble.NoSync`" + `, WAL enabled. bbolt: has no "fsync once a second" mode, so it keeps its
  default fsync on every commit and its writes go through ` + "`db.Batch`" + `, which folds concurrent
  callers into one transaction and one fsync (default MaxBatchSize 1000, MaxBatchDelay 10 ms); that
  needs many callers, so bbolt runs the write workloads (Put, mixed) with ` + fmt.Sprint(boltWriters) + ` goroutines
  where the others use the count in the goroutines column. bbolt's write durability is therefore
  stronger than the others' (every acknowledged write is on disk).
- **Engines' own settings are their defaults**, except pebble's block cache, raised from 8 MiB to
  256 MiB to match badger's default block cache (the data set is ~200 MiB; ToonStore reads from
  its memory mapping, i.e. the OS page cache). No competitor setting was lowered.
- **One operation = one call of the engine's ordinary API**: ToonStore ` + "`DB.Get`/`DB.Set`" + `;
  bbolt ` + "`db.View`" + ` (reads) and ` + "`db.Batch`" + ` (writes); badger ` + "`db.View`/`db.Update`" + `
  (one transaction per operation); pebble ` + "`db.Get`/`db.Set`" + `. Every Get copies the 1 KiB value into
  the caller's buffer (a server must, to send it), for every engine. Preloading uses each engine's
  bulk path and is not measured; after it pebble is flushed and compacted over the whole key range
  and badger flattened, so that no workload pays for the bulk load's compaction debt (their best
  read layout; ToonStore and bbolt have no such step); then every engine reads every key once,
  unmeasured, to warm its block cache and the page cache.
- **Put** writes a random one of the preloaded keys (an overwrite) with a new 1 KiB value; **mixed**
  picks Get or Put with probability 1/2 each, on random preloaded keys.
- **Cached Get** is ToonCache (` + "`cache.Open`" + ` over a store with everysec, capacity twice the hot set):
  ` + "`Lock`, `Tx.Get`, `Unlock`" + `, then the value is copied outside the lock. No competitor has a
  decoded-value cache in front of its engine, so it is compared with the seed's figure only. The run
  fails if any read of this workload missed the cache.
- **The seed** is ToonStore's Rust predecessor; its figures (cached Get 5.28M, store Get 215k,
  Put 82k ops/s) are quoted from its README. We cannot run it, its machine and thread count are
  unknown, so the ToonStore / seed column compares across machines and is indicative only.
`)

	b.WriteString("\n### Every round: ops/s (ops per CPU-second)\n\n")
	for _, w := range workloads() {
		if !cfg.workloads[w.id] {
			continue
		}
		for _, e := range cfg.engines {
			v := res[w.id][e]
			if len(v) == 0 {
				continue
			}
			var parts []string
			for _, x := range v {
				parts = append(parts, human(x.ops)+" ("+human(x.perCPU)+"/CPU-s)")
			}
			fmt.Fprintf(&b, "- %s, %s goroutine(s), %s: %s\n", w.title, goroutinesLabel(w, []string{e}), displayName(e), strings.Join(parts, ", "))
		}
	}
	return b.String()
}

// calibrationTable writes the calibration section: what each workload
// would reach with everything an engine does taken away.
func calibrationTable(b *strings.Builder, cfg config, res results) {
	var rows []string
	for _, c := range calibrations() {
		v := res.ops(c.id, c.id)
		if len(v) == 0 {
			continue
		}
		keys := cfg.keys
		if c.id == "gomaphot" {
			keys = min(cfg.hot, cfg.keys)
		}
		detail := fmt.Sprintf("%d keys", keys)
		if c.id == "append" {
			detail = "-"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %d | **%s** | %s |", c.title, detail, c.goroutines,
			human(median(v)), human(median(res.perCPU(c.id, c.id)))))
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Calibration: upper bounds on this machine in this run\n\n" +
		"Each calibration is a workload's shape with everything an engine adds taken away (no index, " +
		"no lock, no eviction, no durability): no engine can beat it on this machine at this moment. " +
		"The Go maps hold the same keys and 1 KiB values on the heap and copy the value as every Get " +
		"here does; the append writes ToonStore's record layout into fresh preallocated, mapped files, " +
		"as ToonStore's Put must. Medians over the rounds.\n\n" +
		"| calibration | data | goroutines | ops/s | per CPU-s |\n|---|---|---:|---:|---:|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n\n")
}

// boundCell is the bound column of the targets table for workload w.
func boundCell(w workload, need float64, res results) string {
	v := res.ops(w.bound, w.bound)
	if w.bound == "" || len(v) == 0 {
		return "not run"
	}
	// A goroutine uses at most one core: with every one of its w.goroutines
	// goroutines on a core of its own, the calibration would reach at most
	// its ops per CPU-second times that many.
	m, c := median(v), median(res.perCPU(w.bound, w.bound))
	verdict := "target reachable in principle"
	if max(m, c*float64(w.goroutines)) < need {
		verdict = "**bound below the target: unreachable here**"
	}
	return fmt.Sprintf("%s: %s (%s); %s", w.bound, human(m), human(c), verdict)
}

func yesNo(ok bool, v float64) string {
	switch {
	case v == 0:
		return "not run"
	case ok:
		return "yes"
	}
	return "**no**"
}

// table writes one Markdown table of metric's medians, a row per workload
// and a column per engine; seed adds the seed columns.
func table(b *strings.Builder, cfg config, metric func(w, e string) []float64, seed bool) {
	b.WriteString("| workload | goroutines |")
	for _, e := range cfg.engines {
		fmt.Fprintf(b, " %s |", displayName(e))
	}
	if seed {
		b.WriteString(" seed (README, not run) | ToonStore / seed |")
	}
	b.WriteString("\n|---|---|")
	for range cfg.engines {
		b.WriteString("---:|")
	}
	if seed {
		b.WriteString("---:|---:|")
	}
	b.WriteString("\n")
	for _, w := range workloads() {
		if !cfg.workloads[w.id] {
			continue
		}
		toon := median(metric(w.id, "toonstore"))
		fmt.Fprintf(b, "| %s | %s |", w.title, goroutinesLabel(w, cfg.engines))
		for _, e := range cfg.engines {
			v := metric(w.id, e)
			switch {
			case len(v) == 0 && w.cacheOnly:
				b.WriteString(" (no equivalent) |")
			case len(v) == 0:
				b.WriteString(" not run |")
			case e == "toonstore" || toon == 0:
				fmt.Fprintf(b, " **%s** |", human(median(v)))
			default:
				fmt.Fprintf(b, " %s (%s) |", human(median(v)), ratio(toon, median(v)))
			}
		}
		if seed {
			if w.seed > 0 {
				fmt.Fprintf(b, " %s | %s |", human(w.seed), ratio(toon, w.seed))
			} else {
				b.WriteString(" none published | n/a |")
			}
		}
		b.WriteString("\n")
	}
}

// ahead returns whether ToonStore's median of metric beats every other
// engine's on workload w, naming those it does not; ran is false when no
// other engine ran w.
func ahead(cfg config, w workload, metric func(w, e string) []float64) (verdict string, ran bool) {
	toon := median(metric(w.id, "toonstore"))
	var behind []string
	for _, e := range cfg.engines {
		v := metric(w.id, e)
		if e == "toonstore" || len(v) == 0 {
			continue
		}
		ran = true
		if median(v) >= toon {
			behind = append(behind, fmt.Sprintf("%s %s", displayName(e), human(median(v))))
		}
	}
	switch {
	case toon == 0:
		return "not run", ran
	case len(behind) > 0:
		return "**no**: behind " + strings.Join(behind, ", "), ran
	}
	return "yes", ran
}
