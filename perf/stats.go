package main

import (
	"math"
	"sort"
)

// sample is one redis-benchmark run of one cell against one server.
type sample struct {
	RPS      float64 // requests per second, as redis-benchmark reports it
	P50, P99 float64 // latency percentiles in ms (NaN if not reported)
	Ops      float64 // requests sent
	CPU      float64 // server CPU seconds (utime+stime) spent on the run
	Wall     float64 // wall seconds of the redis-benchmark process
	Round    int     // the round of the matrix it belongs to (0 outside it)
}

// opsPerCPU returns the sample's requests per server-CPU-second, or NaN
// when no CPU time was measured (a run shorter than a clock tick).
func (s sample) opsPerCPU() float64 {
	if s.CPU <= 0 {
		return math.NaN()
	}
	return s.Ops / s.CPU
}

// median returns the median of vs, ignoring NaNs: the middle value of an
// odd count, the mean of the two middle values of an even one, NaN for
// none. vs is not modified.
func median(vs []float64) float64 {
	s := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// summary is the median of each measure over a cell's samples of one
// server. OpsPerCPU is the median of the per-run ratios, not a ratio of
// medians.
type summary struct {
	N             int // samples
	RPS, P50, P99 float64
	OpsPerCPU     float64
}

// summarize returns the medians of ss.
func summarize(ss []sample) summary {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		return median(v)
	}
	return summary{
		N:         len(ss),
		RPS:       pick(func(s sample) float64 { return s.RPS }),
		P50:       pick(func(s sample) float64 { return s.P50 }),
		P99:       pick(func(s sample) float64 { return s.P99 }),
		OpsPerCPU: pick(sample.opsPerCPU),
	}
}

// roundRatios returns the smallest and largest ratio a.RPS/b.RPS over the
// rounds that have a sample in both a and b: the samples of one round ran
// back to back, so each such ratio compares the servers under the same
// conditions, and their range shows how far a single round can stray
// from the ratio of the medians. NaNs when no round is in both.
func roundRatios(a, b []sample) (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	for _, x := range a {
		for _, y := range b {
			if x.Round != y.Round {
				continue
			}
			r := ratio(x.RPS, y.RPS)
			if math.IsNaN(r) {
				continue
			}
			if math.IsNaN(lo) || r < lo {
				lo = r
			}
			if math.IsNaN(hi) || r > hi {
				hi = r
			}
		}
	}
	return lo, hi
}

// ratio returns a/b, or NaN when either is NaN or b is zero.
func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// rotation returns names rotated left by k: the order of the servers in
// round k, so that each server takes each position in turn and drift in
// the machine's load is spread over all of them.
func rotation(names []string, k int) []string {
	n := len(names)
	out := make([]string, n)
	for i := range names {
		out[i] = names[(i+k)%n]
	}
	return out
}
