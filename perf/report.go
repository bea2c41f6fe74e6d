package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// fmtRate formats ops/s compactly: 253812 -> "253.8k".
func fmtRate(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// fmtRatio formats a ratio as "0.91x", NaN as "n/a".
func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", v)
}

// fmtMs formats a latency in ms, NaN as "n/a".
func fmtMs(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// fmtMB formats bytes as MiB.
func fmtMB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// sizeLabel is "16 B" or "1 KiB".
func sizeLabel(size int) string {
	if size >= 1024 && size%1024 == 0 {
		return fmt.Sprintf("%d KiB", size/1024)
	}
	return fmt.Sprintf("%d B", size)
}

// shortSize is the size as used in file names: "16B", "1KiB".
func shortSize(size int) string { return strings.ReplaceAll(sizeLabel(size), " ", "") }

// triple joins one value of each server as "t / R / A".
func triple(f func(name string) string) string {
	var parts []string
	for _, n := range serverNames() {
		parts = append(parts, f(n))
	}
	return strings.Join(parts, " / ")
}

// target is one of the server targets, judged on this run.
type target struct {
	What, Measured string
	Met            bool
	Judged         bool // false when the run did not measure it
}

// targets judges the server targets on the run's results.
func (h *harness) targets() []target {
	var ts []target
	r := h.res
	type pick struct {
		c cell
		v float64
	}
	lowest := func(keep func(cell) bool, val func(cell) float64) (pick, int, int) {
		low := pick{v: math.Inf(1)}
		n, ok := 0, 0
		for _, c := range r.cells {
			if !keep(c) {
				continue
			}
			v := val(c)
			if math.IsNaN(v) {
				continue
			}
			n++
			if v < low.v {
				low = pick{c, v}
			}
			if v >= 1 {
				ok++
			}
		}
		return low, n, ok
	}
	vsRedis := func(c cell) float64 { return ratio(r.summary(c, nameTstd).RPS, r.summary(c, nameRedis).RPS) }
	vsAOF := func(c cell) float64 { return ratio(r.summary(c, nameTstd).RPS, r.summary(c, nameRedisAOF).RPS) }
	cpuVsRedis := func(c cell) float64 {
		return ratio(r.summary(c, nameTstd).OpsPerCPU, r.summary(c, nameRedis).OpsPerCPU)
	}
	describe := func(p pick) string {
		return fmt.Sprintf("%s %s P%d c%d", p.c.Test, sizeLabel(p.c.Size), p.c.Pipeline, p.c.Clients)
	}
	atLeast := func(what string, keep func(cell) bool, val func(cell) float64, want float64) {
		low, n, _ := lowest(keep, val)
		if n == 0 {
			ts = append(ts, target{What: what, Measured: "not in this run's matrix"})
			return
		}
		var met int
		for _, c := range r.cells {
			if keep(c) && val(c) >= want {
				met++
			}
		}
		ts = append(ts, target{What: what, Judged: true, Met: low.v >= want,
			Measured: fmt.Sprintf("%d of %d cells; lowest %s (%s)", met, n, fmtRatio(low.v), describe(low))})
	}
	if len(r.cells) > 0 {
		atLeast("every cell at pipeline 1: tstd >= 1.0x Redis", func(c cell) bool { return c.Pipeline == 1 }, vsRedis, 1)
		atLeast("every other cell: tstd >= 1.0x Redis", func(c cell) bool { return c.Pipeline > 1 }, vsRedis, 1)
		getset := func(c cell) bool {
			return (c.Test == "get" || c.Test == "set") && (c.Pipeline == 16 || c.Pipeline == 64) && c.Clients == 50
		}
		atLeast("GET, SET at pipeline 16 and 64, 50 conns: tstd >= 1.5x Redis", getset, vsRedis, 1.5)
		atLeast("same cells: tstd ops per server-CPU-s >= 2x Redis's", getset, cpuVsRedis, 2)
		persist := func(c cell) bool {
			switch c.Test {
			case "set", "incr", "lpush", "hset":
				return c.Pipeline == 16 && c.Clients == 50
			}
			return false
		}
		atLeast("SET, INCR, LPUSH, HSET at pipeline 16: tstd >= 1.5x Redis+AOF", persist, vsAOF, 1.5)
	}
	if b := h.bulkRatio(nameRedis); !math.IsNaN(b) {
		ts = append(ts, target{What: "bulk load (redis-cli --pipe): tstd >= 1.5x Redis's keys/s", Judged: true, Met: b >= 1.5,
			Measured: fmtRatio(b) + fmt.Sprintf(" (%d keys)", h.o.bulkKeys)})
	}
	if pts := h.mem[nameTstd]; len(pts) > 0 {
		last := len(pts) - 1
		rp := h.mem[nameRedis]
		if len(rp) > last {
			v := ratio(float64(pts[last].Mem.RssAnon), float64(rp[last].Mem.RssAnon))
			ts = append(ts, target{What: "memory at 10M keys: tstd RssAnon <= 0.5x Redis's", Judged: true, Met: v <= 0.5,
				Measured: fmtRatio(v) + fmt.Sprintf(" at %d keys", pts[last].Keys)})
		}
	}
	return ts
}

// bulkRatio returns tstd's median keys/s over other's.
func (h *harness) bulkRatio(other string) float64 {
	return ratio(h.bulkMedian(nameTstd), h.bulkMedian(other))
}

func (h *harness) bulkMedian(name string) float64 {
	var v []float64
	for _, l := range h.bulk[name] {
		v = append(v, l.keysPerSec())
	}
	return median(v)
}

// report returns the Markdown report of the run.
func (h *harness) report() string {
	var b strings.Builder
	e := h.env
	mode := "full matrix"
	if h.o.quick {
		mode = "quick matrix (QUICK=1)"
	}
	fmt.Fprintf(&b, "# tstd vs redis-server side by side: %s\n\n", mode)
	fmt.Fprintf(&b, "- Command: `%s` (what `make bench-compare` runs after `make build`)\n", e.Command)
	if e.End.IsZero() {
		fmt.Fprintf(&b, "- Date: %s UTC; **partial report**: the run had not finished when this was written\n", e.Start.Format("2006-01-02 15:04"))
	} else {
		fmt.Fprintf(&b, "- Date: %s to %s UTC (%s)\n", e.Start.Format("2006-01-02 15:04"), e.End.Format("15:04"), e.End.Sub(e.Start).Round(time.Second))
	}
	fmt.Fprintf(&b, "- Commit: %s\n", e.Commit)
	fmt.Fprintf(&b, "- Machine: %d CPUs (%s), %s RAM, kernel %s; open-file limit %d\n", e.CPUs, e.CPUModel, e.MemTotal, e.Kernel, e.FileLimit)
	fmt.Fprintf(&b, "- Software: tstd built with %s (harness %s); %s; %s\n", e.GoTstd, e.GoHarness, e.Redis, e.Benchmark)
	fmt.Fprintf(&b, "- tstd: %s\n", e.GOMAXPROCS)
	b.WriteString(loadLine(e.LoadStart, e.LoadEnd, e.CPUs))
	if h.o.note != "" {
		fmt.Fprintf(&b, "- Note: %s\n", h.o.note)
	}
	b.WriteString("\nServers, each fresh on a free loopback port: **tstd** (defaults: appendfsync everysec, fresh data directory), " +
		"**Redis** (`redis-server --save \"\" --appendonly no`), **Redis+AOF** (`redis-server --save \"\" --appendonly yes --appendfsync everysec`). " +
		"The clients (redis-benchmark, redis-cli) run on the same cores.\n\n")

	b.WriteString("## Targets\n\n| target | measured | met |\n|---|---|---|\n")
	for _, t := range h.targets() {
		met := "not measured"
		if t.Judged {
			met = "no"
			if t.Met {
				met = "yes"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.What, t.Measured, met)
	}

	if len(h.res.cells) > 0 {
		h.writeMatrix(&b)
	}
	if len(h.bulk) > 0 {
		h.writeBulk(&b)
	}
	if len(h.mem) > 0 {
		h.writeMemory(&b)
	}
	if len(h.res.failures) > 0 {
		b.WriteString("\n## Failed runs\n\n")
		for _, f := range h.res.failures {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	b.WriteString("\n## Time taken\n\n")
	for _, p := range h.phases {
		fmt.Fprintf(&b, "- %s: %.0f s\n", p.Name, p.Seconds)
	}
	return b.String()
}

// loadLine is the report's line on the load average. Only the reading
// taken before the run tells of other work: by the end, the 1-minute
// figure counts the run's own client and servers, which keep both cores
// busy.
func loadLine(start, end string, cpus int) string {
	l := fmt.Sprintf("- Load average (1, 5, 15 min): %s at the start, %s at the end (the run's own client and servers included)", start, end)
	if busy(start, cpus) {
		l += ". **Other jobs were using the machine** when the run started (load average at or above half the CPU count), so absolute figures may be low and noisy; the ratios, measured alternately in the same run, are the figures to read"
	}
	return l + "\n"
}

// busy reports whether a /proc/loadavg triple's 1-minute figure is at
// least half the CPU count: other work was competing for the cores.
func busy(load string, cpus int) bool {
	f := strings.Fields(load)
	if len(f) == 0 {
		return false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return err == nil && v >= float64(cpus)/2
}

func (h *harness) writeMatrix(b *strings.Builder) {
	r := h.res
	fmt.Fprintf(b, "\n## redis-benchmark\n\n`redis-benchmark -h 127.0.0.1 -p PORT --csv -t TEST -P PIPELINE -c CONNS -d SIZE -n N -r 1000000`, "+
		"one invocation per test, %d rounds; in each round every test runs against the three servers one after the other, "+
		"in an order rotated by round and test. Before the tests of each value size, %d keys `key:000000000000`... with values of that size "+
		"are loaded into every server with redis-cli --pipe and checked with DBSIZE and STRLEN, so GET reads existing keys. "+
		"Figures are medians over the rounds; ratios are tstd's median over the other's (above 1.00x: tstd ahead). "+
		"The by-round column is the range of tstd's throughput over Redis's within each round, whose runs follow one another: "+
		"on a shared machine single runs of either server stray far from the median. "+
		"ops/CPU-s is requests per second of server CPU time (the server's threads' times from /proc/PID/task/*/schedstat, in nanoseconds, read before and after each run; "+
		"utime+stime from /proc/PID/stat, in 10 ms ticks, where a thread exited meanwhile; "+
		"for lrange_100 the share of the LPUSH run redis-benchmark makes first is taken out in proportion to wall time). "+
		"Before each run the harness waits until no server reports a background rewrite in INFO persistence "+
		"(Redis+AOF's BGREWRITEAOF, which forks a child that writes the whole dataset, or tstd's compaction), so that none runs during another's run: "+
		"%d of the runs waited, %.0f s in all. "+
		"Every sample is in [%s-raw.csv](%s-raw.csv).\n\n", h.o.rounds, h.o.populate, r.waits, r.waited.Seconds(), h.o.name, h.o.name)
	b.WriteString("| test | value | conns | pipeline | -n | tstd ops/s | Redis ops/s | Redis+AOF ops/s | tstd/Redis | by round | tstd/Redis+AOF | p50 ms tstd / Redis / AOF | p99 ms tstd / Redis / AOF | ops/CPU-s tstd / Redis / AOF | CPU efficiency tstd/Redis |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.cells {
		s := map[string]summary{}
		for _, n := range serverNames() {
			s[n] = r.summary(c, n)
		}
		lo, hi := roundRatios(r.samples[c][nameTstd], r.samples[c][nameRedis])
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %s | %s | %s | %s | %s-%s | %s | %s | %s | %s | %s |\n",
			c.Test, sizeLabel(c.Size), c.Clients, c.Pipeline, r.requests[c],
			fmtRate(s[nameTstd].RPS), fmtRate(s[nameRedis].RPS), fmtRate(s[nameRedisAOF].RPS),
			fmtRatio(ratio(s[nameTstd].RPS, s[nameRedis].RPS)), fmtRatio(lo), fmtRatio(hi),
			fmtRatio(ratio(s[nameTstd].RPS, s[nameRedisAOF].RPS)),
			triple(func(n string) string { return fmtMs(s[n].P50) }),
			triple(func(n string) string { return fmtMs(s[n].P99) }),
			triple(func(n string) string { return fmtRate(s[n].OpsPerCPU) }),
			fmtRatio(ratio(s[nameTstd].OpsPerCPU, s[nameRedis].OpsPerCPU)))
	}
	b.WriteString("\nCharts: ")
	var links []string
	for _, f := range h.chartFiles() {
		links = append(links, fmt.Sprintf("[%s](%s)", f, f))
	}
	b.WriteString(strings.Join(links, ", ") + "\n")
}

func (h *harness) writeBulk(b *strings.Builder) {
	fmt.Fprintf(b, "\n## Bulk load\n\n%d `SET key:NNNNNNNNNNNN <32 distinct bytes>` commands (16-byte keys) written as RESP to a file, "+
		"then `redis-cli --pipe < file` into a fresh server of each kind, %d round(s) in rotated order; "+
		"every reply checked (no errors), DBSIZE and STRLEN of the last key checked afterwards. Medians over the rounds.\n\n", h.o.bulkKeys, h.o.bulkRounds)
	b.WriteString("| server | seconds | keys/s | keys per server-CPU-s | tstd ratio (keys/s) |\n|---|---|---|---|---|\n")
	for _, n := range serverNames() {
		var secs, kpc []float64
		for _, l := range h.bulk[n] {
			secs = append(secs, l.Seconds)
			kpc = append(kpc, l.keysPerCPU())
		}
		fmt.Fprintf(b, "| %s | %.2f | %s | %s | %s |\n", serverLabel(n), median(secs), fmtRate(h.bulkMedian(n)),
			fmtRate(median(kpc)), fmtRatio(h.bulkRatio(n)))
	}
}

func (h *harness) writeMemory(b *strings.Builder) {
	how := "A fresh server of each kind (the three loaded at the same time) is loaded through redis-cli --pipe with " +
		"`SET key:NNNNNNNNNNNN <32 distinct bytes>` up to each key count (DBSIZE checked)"
	if len(h.o.memKeys) == 0 {
		how = "Read from the servers of the bulk load's first round, after their load (DBSIZE checked)"
	}
	fmt.Fprintf(b, "\n## Memory\n\n%s; then after %s VmRSS, RssAnon and RssFile are read from /proc/PID/status. "+
		"RssAnon is the memory the process owns; RssFile is mapped file pages (tstd's data files), which are page cache the kernel can drop. "+
		"Ratios are tstd's figure over the other's.\n\n", how, memSettle)
	b.WriteString("| keys | server | RSS | RssAnon | RssFile | tstd/this RSS | tstd/this RssAnon |\n|---|---|---|---|---|---|---|\n")
	t := h.mem[nameTstd]
	for i := range t {
		for _, n := range serverNames() {
			pts := h.mem[n]
			if i >= len(pts) {
				continue
			}
			p := pts[i]
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s |\n", p.Keys, serverLabel(n), fmtMB(p.Mem.RSS), fmtMB(p.Mem.RssAnon), fmtMB(p.Mem.RssFile),
				fmtRatio(ratio(float64(t[i].Mem.RSS), float64(p.Mem.RSS))), fmtRatio(ratio(float64(t[i].Mem.RssAnon), float64(p.Mem.RssAnon))))
		}
	}
}
