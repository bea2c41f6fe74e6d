package store

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// BenchmarkCompact measures one compaction of a log holding n live keys
// whose previous versions are all dead (every key overwritten once since
// the last compaction), with 16-byte and 1 KiB values. Besides ns/op (one
// whole compaction, fsyncs of the output included) it reports ns/live
// and cpu-ns/live (wall and process CPU time per live key), pause-us, the
// time the switch held the database write locks (readers and writers
// stalled), and wpause-us, the time it held appendMu (writers stalled),
// both from the compaction's log line. The overwrites between
// compactions are not timed.
func BenchmarkCompact(b *testing.B) {
	cases := []struct {
		keys, value int
		segSize     int64
	}{
		{200_000, 16, 4 << 20},
		{40_000, 1024, 8 << 20},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("keys=%d/value=%d", c.keys, c.value), func(b *testing.B) {
			core, logs := observer.New(zapcore.InfoLevel)
			s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true,
				SegmentSize: c.segSize, Logger: zap.New(core)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			d := s.DB(0)
			keys := make([][]byte, c.keys)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "key:%012d", i)
			}
			val := make([]byte, c.value)
			round := 0
			overwrite := func() {
				round++
				val[0] = byte(round)
				// A stride through the keys: log order is not key order.
				for i, j := 0, 0; i < len(keys); i, j = i+1, (j+7919)%len(keys) {
					if err := d.Set(keys[j], KindString, val, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
			overwrite()
			var pause, wpause, cpu time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				overwrite()
				logs.TakeAll()
				b.StartTimer()
				cpu += compactCPU(b, s)
				b.StopTimer()
				for _, e := range logs.FilterMessage("store: compacted the log").TakeAll() {
					if p, ok := e.ContextMap()["pause"].(time.Duration); ok {
						pause += p
					}
					if p, ok := e.ContextMap()["write_pause"].(time.Duration); ok {
						wpause += p
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.keys), "ns/live")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*c.keys), "cpu-ns/live")
			b.ReportMetric(float64(pause.Microseconds())/float64(b.N), "pause-us")
			b.ReportMetric(float64(wpause.Microseconds())/float64(b.N), "wpause-us")
		})
	}
}

// BenchmarkCompactChain measures one compaction of a log holding one
// collection whose image has a chain of n live operations (16-byte ops, as
// RPUSH of 16-byte elements), between which as many dead records lie:
// every operation record moves. It reports ns/op for the compaction and
// cpu-ns/live, process CPU per moved operation.
func BenchmarkCompactChain(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, SegmentSize: 8 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			d := s.DB(0)
			key, filler := []byte("mylist"), []byte("filler")
			if err := d.Set(key, KindList, make([]byte, 64), 0); err != nil {
				b.Fatal(err)
			}
			op := make([]byte, 16)
			for range n {
				if _, err := d.AppendOp(key, KindList, op); err != nil {
					b.Fatal(err)
				}
				if err := d.Set(filler, KindString, op, 0); err != nil {
					b.Fatal(err)
				}
			}
			dead := func() { // a segment's worth of dead records, so that compaction runs
				for range (8 << 20) / 64 {
					if err := d.Set(filler, KindString, op, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
			var cpu time.Duration
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dead()
				b.StartTimer()
				cpu += compactCPU(b, s)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/live")
		})
	}
}

// BenchmarkCompactDeadOps measures one compaction of a log of n dead
// operation records: one list key takes n 16-byte operations (as LPUSH
// and LPOP of one key do), then a new image of it, which makes all of
// them dead. Nothing moves but the image; the cost is the walk over the
// records. It reports cpu-ns/rec, process CPU per record of the prefix.
func BenchmarkCompactDeadOps(b *testing.B) {
	const n = 500_000
	s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, SegmentSize: 8 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	d := s.DB(0)
	key, op := []byte("mylist"), make([]byte, 16)
	var sink byte
	if err := d.Set(key, KindList, make([]byte, 64), 0); err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for range n {
			if _, err := d.AppendOp(key, KindList, op); err != nil {
				b.Fatal(err)
			}
		}
		if err := d.SetImage(key, KindList, 0, 64, func(dst []byte, _ func([]byte) []byte) []byte { return append(dst, make([]byte, 64)...) }); err != nil {
			b.Fatal(err)
		}
		s.appendMu.Lock()
		err := s.rotateLocked(0) // seal it all: the prefix is every record
		s.appendMu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
		// Map the prefix's pages before the clock starts, as the server's
		// compaction finds them (rebuilt in 2 MiB folios by rechunk,
		// mapped a folio per fault): the rotation dropped them from the
		// page tables (dropMapped), and a fault per 4 KiB would be most
		// of what this measures.
		for _, g := range *s.segs.Load() {
			if g != nil && g != s.active {
				for off := 0; off < len(g.data); off += 4096 {
					sink += g.data[off]
				}
			}
		}
		b.StartTimer()
		cpu += compactCPU(b, s)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/rec")
	if sink == 1 {
		b.Log("") // keeps the page touches
	}
}

// compactCPU runs one compaction of s and returns the process CPU time it
// took.
func compactCPU(b *testing.B, s *Store) time.Duration {
	cpu0 := processCPU()
	if err := s.compact(); err != nil {
		b.Fatal(err)
	}
	return processCPU() - cpu0
}

// BenchmarkCompactPartial measures one compaction of a log holding a
// dataset written once (keys of value bytes) followed by 32 MiB of
// overwrites of a few hot keys: the common shape of a database with a
// large, mostly read dataset and a churning few keys. A partial compaction
// rewrites the churned segments only; a whole one (partial=false) copies
// the dataset again each time. It reports process CPU per compaction and
// the bytes reclaimed per compaction (the same for both).
func BenchmarkCompactPartial(b *testing.B) {
	for _, partial := range []bool{true, false} {
		b.Run(fmt.Sprintf("partial=%v", partial), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Sync: SyncNo, CompactRatio: -1, NoSnapshot: true, SegmentSize: 4 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if !partial {
				s.hooks.compactStart = func([]segSurvey, int) int { return 0 }
			}
			d := s.DB(0)
			val := make([]byte, 256)
			for i := range 200_000 {
				if err := d.Set(fmt.Appendf(nil, "key:%012d", i), KindString, val, 0); err != nil {
					b.Fatal(err)
				}
			}
			churn := func() {
				for i := range (32 << 20) / 300 {
					if err := d.Set(fmt.Appendf(nil, "hot:%d", i%64), KindString, val, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
			var cpu time.Duration
			var reclaimed int64
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				churn()
				st := s.Stats()
				b.StartTimer()
				cpu += compactCPU(b, s)
				b.StopTimer()
				after := s.Stats()
				reclaimed += after.Reclaimed - st.Reclaimed
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(reclaimed)/float64(b.N)/(1<<20), "MiB-reclaimed/op")
		})
	}
}
