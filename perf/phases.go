package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// results holds every sample of the redis-benchmark matrix.
type results struct {
	cells    []cell                       // in the order they were first run
	samples  map[cell]map[string][]sample // cell -> server name -> one per round
	requests map[cell]int                 // -n of each cell
	failures []string
	waits    int           // runs that waited for a background rewrite (quiesce)
	waited   time.Duration // how long, in all
}

func newResults() *results {
	return &results{samples: map[cell]map[string][]sample{}, requests: map[cell]int{}}
}

func (r *results) add(c cell, server string, n int, s sample) {
	m, ok := r.samples[c]
	if !ok {
		m = map[string][]sample{}
		r.samples[c] = m
		r.cells = append(r.cells, c)
		r.requests[c] = n
	}
	m[server] = append(m[server], s)
}

// summary returns the medians of one server in one cell.
func (r *results) summary(c cell, server string) summary {
	return summarize(r.samples[c][server])
}

// rawCSV returns every sample, one line each.
func (r *results) rawCSV() string {
	var b strings.Builder
	b.WriteString("test,value_bytes,pipeline,clients,requests,server,round,rps,p50_ms,p99_ms,server_cpu_s,wall_s\n")
	for _, c := range r.cells {
		for _, name := range serverNames() {
			for i, s := range r.samples[c][name] {
				round := s.Round
				if round == 0 {
					round = i + 1
				}
				fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%s,%d,%.2f,%.3f,%.3f,%.4f,%.3f\n", c.Test, c.Size, c.Pipeline, c.Clients,
					r.requests[c], name, round, s.RPS, s.P50, s.P99, s.CPU, s.Wall)
			}
		}
	}
	return b.String()
}

// runMatrix starts one fresh server of each kind, and for each value size
// loads the keyspace GET reads (key:000000000000 ... with values of that
// size, checked with DBSIZE and STRLEN), then runs every group of that size
// for the configured rounds. In every round each test runs against the
// three servers in turn, in an order rotated by round and test, so that
// each server takes each position equally often.
func (h *harness) runMatrix(tmp string) error {
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			h.launch.stop(s)
		}
	}()
	for _, name := range serverNames() {
		s, err := h.launch.start(name)
		if err != nil {
			return err
		}
		servers[name] = s
	}
	groups := matrix(h.o.quick)
	var sizes []int
	for _, g := range groups {
		if len(sizes) == 0 || sizes[len(sizes)-1] != g.Size {
			sizes = append(sizes, g.Size)
		}
	}
	for si, size := range sizes {
		if err := h.populate(tmp, servers, size, si > 0); err != nil {
			return err
		}
		for _, g := range groups {
			if g.Size != size {
				continue
			}
			for round := 0; round < h.o.rounds; round++ {
				for ti, test := range g.Tests {
					c := cell{Test: test, Size: g.Size, Pipeline: g.Pipeline, Clients: g.Clients}
					n := h.o.fixedN
					if n == 0 {
						n = requests(c, h.o.target)
					}
					br := benchRun{Test: test, Size: g.Size, Pipeline: g.Pipeline, Clients: g.Clients,
						Requests: n, Timeout: 5 * time.Minute}
					var line []string
					all := make([]*server, 0, len(servers))
					for _, name := range serverNames() {
						all = append(all, servers[name])
					}
					for _, name := range rotation(serverNames(), round+ti) {
						if d, err := quiesce(all); err != nil {
							h.logf("%v", err)
						} else if d > quiescePoll {
							h.res.waits++
							h.res.waited += d
							h.logf("waited %.1f s for a background rewrite before %s on %s", d.Seconds(), test, name)
						}
						s, err := br.run(servers[name])
						if err != nil {
							h.res.failures = append(h.res.failures, err.Error())
							h.logf("FAILED: %v", err)
							continue
						}
						s.Round = round + 1
						h.res.add(c, name, n, s)
						line = append(line, fmt.Sprintf("%s %.0f", name, s.RPS))
					}
					h.logf("%d B P%d c%d round %d/%d %s -n %d: %s", g.Size, g.Pipeline, g.Clients, round+1, h.o.rounds,
						test, n, strings.Join(line, ", "))
				}
			}
			if _, err := h.save(); err != nil {
				return err
			}
		}
	}
	return nil
}

// populate writes h.o.populate keys of size bytes into every server
// through redis-cli --pipe, into the three at once (the load is not
// timed), and checks the keyspace. After an earlier size, other tests'
// keys are there too, so DBSIZE need only be at least that.
func (h *harness) populate(tmp string, servers map[string]*server, size int, atLeast bool) error {
	path := filepath.Join(tmp, fmt.Sprintf("populate-%d.resp", size))
	t0 := time.Now()
	bytes, err := writeSets(path, 0, h.o.populate, fillValue(size))
	if err != nil {
		return err
	}
	defer removeFile(path)
	h.logf("populate: wrote %d SETs of %d B values (%d MB) in %.1f s", h.o.populate, size, bytes>>20, time.Since(t0).Seconds())
	return eachServer(func(name string) error {
		s := servers[name]
		lr, err := pipeLoad(s, path, h.o.populate)
		if err != nil {
			return err
		}
		if err := checkKeys(s, int64(h.o.populate), atLeast, h.o.populate-1, size); err != nil {
			return err
		}
		h.logf("populate: %s took %.1f s, DBSIZE checked", name, lr.Seconds)
		return nil
	})
}

// eachServer calls fn for every server name concurrently and returns the
// first error.
func eachServer(fn func(name string) error) error {
	names := serverNames()
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() { errs <- fn(n) }()
	}
	var first error
	for range names {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// runBulk times redis-cli --pipe of h.o.bulkKeys SETs (16-byte keys,
// 32-byte distinct values) into a fresh server of each kind, for
// h.o.bulkRounds rounds in rotated order, checking DBSIZE after each. When
// the run has no memory phase (quick), the memory of the first round's
// servers is read after the load instead.
func (h *harness) runBulk(tmp string) error {
	path := filepath.Join(tmp, "bulk.resp")
	t0 := time.Now()
	bytes, err := writeSets(path, 0, h.o.bulkKeys, distinctValue(32))
	if err != nil {
		return err
	}
	defer removeFile(path)
	h.logf("bulk: wrote %d SETs (%d MB) in %.1f s", h.o.bulkKeys, bytes>>20, time.Since(t0).Seconds())
	for round := 0; round < h.o.bulkRounds; round++ {
		for _, name := range rotation(serverNames(), round) {
			s, err := h.launch.start(name)
			if err != nil {
				return err
			}
			lr, err := pipeLoad(s, path, h.o.bulkKeys)
			if err == nil {
				err = checkKeys(s, int64(h.o.bulkKeys), false, h.o.bulkKeys-1, 32)
			}
			if err == nil && round == 0 && len(h.o.memKeys) == 0 {
				var m memStatus
				time.Sleep(memSettle)
				if m, err = readMem(s.pid()); err == nil {
					h.mem[name] = append(h.mem[name], memPoint{Keys: h.o.bulkKeys, Mem: m})
				}
			}
			h.launch.stop(s)
			if err != nil {
				return err
			}
			h.bulk[name] = append(h.bulk[name], lr)
			h.logf("bulk: round %d %s %.0f keys/s", round+1, name, lr.keysPerSec())
		}
	}
	return nil
}

// memSettle is how long the harness waits after a load before reading
// memory, so that background work started by the load (tstd's everysec
// flush, Redis's AOF write) is part of the figure.
const memSettle = 2 * time.Second

// runMemory loads a fresh server of each kind, the three at once (the
// loads are not what is measured), up to each count of h.o.memKeys
// (16-byte keys, 32-byte values, through redis-cli --pipe) and reads RSS,
// RssAnon and RssFile after each step.
func (h *harness) runMemory(tmp string) error {
	type step struct {
		lo, hi int
		path   string
	}
	var steps []step
	lo := 0
	for i, hi := range h.o.memKeys {
		path := filepath.Join(tmp, fmt.Sprintf("mem-%d.resp", i))
		t0 := time.Now()
		if _, err := writeSets(path, lo, hi, distinctValue(32)); err != nil {
			return err
		}
		defer removeFile(path)
		h.logf("memory: wrote SETs of keys %d..%d in %.1f s", lo, hi-1, time.Since(t0).Seconds())
		steps = append(steps, step{lo, hi, path})
		lo = hi
	}
	var mu sync.Mutex
	return eachServer(func(name string) error {
		s, err := h.launch.start(name)
		if err != nil {
			return err
		}
		defer h.launch.stop(s)
		base, err := readMem(s.pid())
		if err != nil {
			return err
		}
		pts := []memPoint{{Keys: 0, Mem: base}}
		for _, st := range steps {
			if _, err := pipeLoad(s, st.path, st.hi-st.lo); err != nil {
				return err
			}
			if err := checkKeys(s, int64(st.hi), false, st.hi-1, 32); err != nil {
				return err
			}
			time.Sleep(memSettle)
			m, err := readMem(s.pid())
			if err != nil {
				return err
			}
			pts = append(pts, memPoint{Keys: st.hi, Mem: m})
			h.logf("memory: %s at %d keys: RSS %d MB, RssAnon %d MB", name, st.hi, m.RSS>>20, m.RssAnon>>20)
		}
		mu.Lock()
		h.mem[name] = pts
		mu.Unlock()
		return nil
	})
}
