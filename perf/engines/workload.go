package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

const valueSize = 1024

// workload is one row of the table.
type workload struct {
	id         string
	title      string
	goroutines int     // goroutines of every engine (bbolt's writes: see engine.writers)
	write      bool    // Put or mixed: uses engine.writers
	cacheOnly  bool    // ToonCache only: no competitor
	seed       float64 // the seed's published ops/s; 0 when it published none
	seedLabel  string
	target     float64 // required multiple of seed; 0 = none
	bound      string  // id of the calibration workload that bounds this one from above; "" = none
}

// workloads returns the rows in table order.
func workloads() []workload {
	return []workload{
		{id: "cached", title: "cached Get (ToonCache)", goroutines: 2, cacheOnly: true,
			seed: 5.28e6, seedLabel: "cached Get 5.28M", target: 4, bound: "gomaphot"},
		{id: "get1", title: "store Get", goroutines: 1, seed: 215e3, seedLabel: "store Get 215k", target: 20, bound: "gomap"},
		{id: "get2", title: "store Get", goroutines: 2, seed: 215e3, seedLabel: "store Get 215k", target: 20, bound: "gomap2"},
		{id: "put", title: "Put", goroutines: 1, write: true, seed: 82e3, seedLabel: "Put 82k", target: 10, bound: "append"},
		{id: "mixed", title: "mixed 50/50 Get/Put", goroutines: 2, write: true},
	}
}

// calibration is a workload that runs no engine: the same shape of work
// with everything an engine adds taken away, hence an upper bound on what
// any engine could reach on this machine in this run.
type calibration struct {
	id, title  string
	goroutines int
}

// calibrations returns the calibration workloads in report order.
func calibrations() []calibration {
	return []calibration{
		{"gomaphot", "Go map of the resident keys (as cached Get): random Get + 1 KiB copy, no lock", 2},
		{"gomap", "Go map of the preloaded keys (as store Get): random Get + 1 KiB copy", 1},
		{"gomap2", "Go map of the preloaded keys (as store Get): random Get + 1 KiB copy", 2},
		{"append", "log append through a mapping (as Put): 1 KiB copy + CRC32C into fresh preallocated 64 MiB files, no index, no fsync", 1},
	}
}

func calibrationIDs() []string {
	var ids []string
	for _, c := range calibrations() {
		ids = append(ids, c.id)
	}
	return ids
}

func isCalibration(id string) bool {
	for _, c := range calibrations() {
		if c.id == id {
			return true
		}
	}
	return false
}

func workloadIDs() []string {
	var ids []string
	for _, w := range workloads() {
		ids = append(ids, w.id)
	}
	return ids
}

func findWorkload(id string) *workload {
	for _, w := range workloads() {
		if w.id == id {
			return &w
		}
	}
	return nil
}

// results holds the samples of every round: results[workload id][engine name].
type results map[string]map[string][]sample

func (r results) add(w, e string, v sample) {
	if r[w] == nil {
		r[w] = map[string][]sample{}
	}
	r[w][e] = append(r[w][e], v)
}

// ops returns the ops/s of every round of workload w on engine e.
func (r results) ops(w, e string) []float64 {
	var v []float64
	for _, s := range r[w][e] {
		v = append(v, s.ops)
	}
	return v
}

// perCPU returns the ops per CPU-second of every round.
func (r results) perCPU(w, e string) []float64 {
	var v []float64
	for _, s := range r[w][e] {
		v = append(v, s.perCPU)
	}
	return v
}

// valuePool is incompressible bytes; value i is a 1 KiB window of it at
// an offset that depends on i, so no two neighbouring values are equal and
// the LSM engines' block compression gains nothing a real workload would
// not give it.
type valuePool []byte

func newValuePool() valuePool {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

func (p valuePool) value(i int) []byte {
	off := (i * 4099) % (len(p) - valueSize)
	return p[off : off+valueSize : off+valueSize]
}

// run runs every round and returns the ops/s measured. Progress goes to log.
func run(cfg config, log io.Writer) (results, error) {
	res := results{}
	keys := make([][]byte, cfg.keys)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
	}
	pool := newValuePool()
	hasStore := false
	for id := range cfg.workloads {
		if id != "cached" && !isCalibration(id) {
			hasStore = true
		}
	}
	for round := range cfg.rounds {
		if cfg.workloads["cached"] && hasEngine(cfg, "toonstore") {
			v, err := runCached(cfg, pool)
			if err != nil {
				return nil, fmt.Errorf("round %d, cached Get: %w", round, err)
			}
			res.add("cached", "toonstore", v)
			fmt.Fprintf(log, "round %d toonstore cached: %s ops/s, %s per CPU-s\n", round, human(v.ops), human(v.perCPU))
		}
		for _, cal := range calibrations() {
			if !cfg.workloads[cal.id] {
				continue
			}
			var v sample
			var err error
			switch cal.id {
			case "gomaphot":
				v, err = runGoMap(cfg, keys[:min(cfg.hot, len(keys))], pool, cal.goroutines)
			case "gomap", "gomap2":
				v, err = runGoMap(cfg, keys, pool, cal.goroutines)
			case "append":
				v, err = runAppend(cfg, pool)
			}
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", round, cal.id, err)
			}
			res.add(cal.id, cal.id, v)
			fmt.Fprintf(log, "round %d calibration %s: %s ops/s, %s per CPU-s\n", round, cal.id, human(v.ops), human(v.perCPU))
		}
		if !hasStore {
			continue
		}
		// Rotate the order each round so no engine always runs first
		// (fresh page cache) or last.
		n := len(cfg.engines)
		for j := range n {
			name := cfg.engines[(j+round)%n]
			if err := runEngine(cfg, name, keys, pool, res, log, round); err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", round, name, err)
			}
		}
	}
	return res, nil
}

func hasEngine(cfg config, name string) bool {
	for _, e := range cfg.engines {
		if e == name {
			return true
		}
	}
	return false
}

// runEngine opens a fresh database of one engine, preloads it and runs the
// store workloads on it in table order.
func runEngine(cfg config, name string, keys [][]byte, pool valuePool, res results, log io.Writer, round int) (err error) {
	dir, err := os.MkdirTemp(cfg.tmp, "engines-"+name+"-")
	if err != nil {
		return err
	}
	defer func() {
		if rerr := os.RemoveAll(dir); err == nil {
			err = rerr
		}
	}()
	e, err := newEngine(name)
	if err != nil {
		return err
	}
	if err := e.open(dir); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer func() {
		if cerr := e.close(); err == nil {
			err = cerr
		}
	}()
	start := time.Now()
	if err := e.load(keys, pool.value); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	loaded := time.Since(start)
	if err := e.settle(); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	// Warm up: read every key once, so block caches (badger, pebble) and
	// the page cache hold what the reads will touch, as they would after
	// a while of steady reading. Not measured.
	var buf []byte
	for _, k := range keys {
		if buf, err = e.get(k, buf); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	fmt.Fprintf(log, "round %d %s: loaded %d keys in %v, settled and warmed up in %v\n", round, name, len(keys),
		loaded.Round(time.Millisecond), (time.Since(start) - loaded).Round(time.Millisecond))
	runtime.GC()
	n := len(keys)
	for _, w := range workloads() {
		if w.cacheOnly || !cfg.workloads[w.id] {
			continue
		}
		g := w.goroutines
		if w.write {
			g = e.writers(g)
		}
		var op func(r *rand.Rand, buf []byte) ([]byte, error)
		switch w.id {
		case "get1", "get2":
			op = func(r *rand.Rand, buf []byte) ([]byte, error) {
				return e.get(keys[r.IntN(n)], buf)
			}
		case "put":
			op = func(r *rand.Rand, buf []byte) ([]byte, error) {
				return buf, e.put(keys[r.IntN(n)], pool.value(r.IntN(n)))
			}
		case "mixed":
			op = func(r *rand.Rand, buf []byte) ([]byte, error) {
				x := r.Uint64()
				k := keys[int(x>>1)%n]
				if x&1 == 0 {
					return e.get(k, buf)
				}
				return buf, e.put(k, pool.value(int(x>>32)%n))
			}
		}
		v, err := measure(g, cfg.dur, op)
		if err != nil {
			return fmt.Errorf("%s: %w", w.id, err)
		}
		res.add(w.id, name, v)
		fmt.Fprintf(log, "round %d %s %s (%d goroutines): %s ops/s, %s per CPU-s\n", round, name, w.id, g, human(v.ops), human(v.perCPU))
	}
	return nil
}

// runCached measures ToonCache Lock/Get/Unlock of resident keys over 2
// goroutines, over a fresh store with appendfsync everysec.
func runCached(cfg config, pool valuePool) (v sample, err error) {
	dir, err := os.MkdirTemp(cfg.tmp, "engines-cache-")
	if err != nil {
		return sample{}, err
	}
	defer func() {
		if rerr := os.RemoveAll(dir); err == nil {
			err = rerr
		}
	}()
	s, err := store.Open(dir, store.Options{Sync: store.SyncEverySec})
	if err != nil {
		return sample{}, err
	}
	c, err := cache.Open(s, cache.Options{Capacity: 2 * cfg.hot})
	if err != nil {
		s.Close()
		return sample{}, err
	}
	defer func() {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}()
	keys := make([][]byte, cfg.hot)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
		tx := c.Lock(keys[i])
		// Set hands its slices to the cache: each key gets its own copy.
		err := tx.Set(0, keys[i], cache.Value{Str: append([]byte(nil), pool.value(i)...)})
		if err == nil {
			// Writes go around the cache (a key not decoded yet is not
			// inserted by Set): the first read decodes it, as a
			// server's first GET would.
			_, _, err = tx.Get(0, keys[i])
		}
		tx.Unlock()
		if err != nil {
			return sample{}, err
		}
	}
	c.ResetStats()
	runtime.GC()
	n := len(keys)
	v, err = measure(2, cfg.dur, func(r *rand.Rand, buf []byte) ([]byte, error) {
		k := keys[r.IntN(n)]
		tx := c.Lock(k)
		val, ok, err := tx.Get(0, k)
		tx.Unlock()
		if err != nil {
			return buf, err
		}
		if !ok {
			return buf, errMissing
		}
		// The Value stays valid after Unlock (the cache replaces, never
		// mutates): copy outside the lock, as a server writing the reply.
		return append(buf[:0], val.Str...), nil
	})
	if err != nil {
		return sample{}, err
	}
	if st := c.Stats(); st.Misses != 0 || st.Evictions != 0 {
		return sample{}, fmt.Errorf("cached Get was not all hits: %d misses, %d evictions", st.Misses, st.Evictions)
	}
	return v, nil
}

// sample is one measurement: operations per second of wall time, and per
// second of CPU time used by the whole process (every goroutine, the
// engine's background work included), which stays meaningful when other
// jobs share the cores.
type sample struct {
	ops, perCPU float64
}

// cpuTime returns the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runGoMap measures a calibration workload: a Go map[string][]byte of
// the given keys and values on the heap, random Get and copy on g
// goroutines (reads only: no lock is needed). No engine can read faster than this on the same machine; its
// ops/s says how fast the machine was during the run. The map is dropped
// afterwards so that its pointers do not weigh on the engines' GC.
func runGoMap(cfg config, keys [][]byte, pool valuePool, g int) (sample, error) {
	m := make(map[string][]byte, len(keys))
	for i, k := range keys {
		m[string(k)] = append([]byte(nil), pool.value(i)...)
	}
	runtime.GC()
	n := len(keys)
	v, err := measure(g, cfg.dur, func(r *rand.Rand, buf []byte) ([]byte, error) {
		val, ok := m[string(keys[r.IntN(n)])]
		if !ok {
			return buf, errMissing
		}
		return append(buf[:0], val...), nil
	})
	m = nil
	runtime.GC()
	return v, err
}

// measure runs op on g goroutines for d and returns the operations per
// second completed. Each goroutine has its own random source and a
// reusable buffer that op may grow. The first error stops the run.
func measure(g int, d time.Duration, op func(r *rand.Rand, buf []byte) ([]byte, error)) (sample, error) {
	var (
		stop  atomic.Bool
		total atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	seed := rand.Uint64()
	cpu0 := cpuTime()
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			buf := make([]byte, 0, 2*valueSize)
			var n int64
			var err error
			for !stop.Load() {
				if buf, err = op(r, buf); err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
					break
				}
				n++
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if first != nil {
		return sample{}, first
	}
	n := float64(total.Load())
	if n == 0 {
		return sample{}, errors.New("no operation completed")
	}
	smp := sample{ops: n / elapsed.Seconds()}
	if cpu > 0 {
		smp.perCPU = n / cpu.Seconds()
	}
	return smp, nil
}
