package main

import (
	"math"
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, nan},
		{"one", []float64{7}, 7},
		{"odd unsorted", []float64{3, 1, 2}, 2},
		{"even: mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"NaNs ignored", []float64{nan, 5, nan, 1, 3}, 3},
		{"only NaN", []float64{nan}, nan},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := median(in)
			if !sameFloat(got, tc.want) {
				t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range in {
				if !sameFloat(in[i], tc.in[i]) {
					t.Fatalf("median modified its input: %v", in)
				}
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ss := []sample{
		{RPS: 100, P50: 1, P99: 9, Ops: 1000, CPU: 2},   // 500 ops/CPU-s
		{RPS: 300, P50: 3, P99: 7, Ops: 1000, CPU: 1},   // 1000
		{RPS: 200, P50: 2, P99: 8, Ops: 1000, CPU: 0.5}, // 2000
	}
	got := summarize(ss)
	want := summary{N: 3, RPS: 200, P50: 2, P99: 8, OpsPerCPU: 1000}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
	if s := summarize([]sample{{RPS: 1, Ops: 10}}); !math.IsNaN(s.OpsPerCPU) {
		t.Errorf("zero CPU time: OpsPerCPU = %v, want NaN", s.OpsPerCPU)
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b, want float64
	}{
		{3, 2, 1.5},
		{1, 0, math.NaN()},
		{math.NaN(), 1, math.NaN()},
	}
	for _, tc := range tests {
		if got := ratio(tc.a, tc.b); !sameFloat(got, tc.want) {
			t.Errorf("ratio(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRoundRatios(t *testing.T) {
	a := []sample{{Round: 1, RPS: 100}, {Round: 2, RPS: 300}, {Round: 4, RPS: 50}}
	b := []sample{{Round: 2, RPS: 100}, {Round: 1, RPS: 200}, {Round: 3, RPS: 10}, {Round: 4, RPS: 0}}
	// Round 1: 0.5, round 2: 3; round 3 has no tstd sample, round 4's
	// Redis figure is zero (no ratio).
	lo, hi := roundRatios(a, b)
	if lo != 0.5 || hi != 3 {
		t.Errorf("roundRatios = %v-%v, want 0.5-3", lo, hi)
	}
	if lo, hi := roundRatios(a, []sample{{Round: 9, RPS: 1}}); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("no common round: %v-%v, want NaN", lo, hi)
	}
}

func TestRotation(t *testing.T) {
	names := []string{"a", "b", "c"}
	pos := map[string]map[int]bool{}
	for k := 0; k < 3; k++ {
		r := rotation(names, k)
		if len(r) != 3 {
			t.Fatalf("rotation(%d) = %v", k, r)
		}
		for i, n := range r {
			if pos[n] == nil {
				pos[n] = map[int]bool{}
			}
			pos[n][i] = true
		}
	}
	for _, n := range names {
		if len(pos[n]) != 3 {
			t.Errorf("%s took positions %v over 3 rounds, want all three", n, pos[n])
		}
	}
	if got := rotation(names, 4); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Errorf("rotation(4) = %v", got)
	}
}
