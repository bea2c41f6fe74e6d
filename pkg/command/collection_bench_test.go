package command

import (
	"strconv"
	"testing"
	"time"

	"github.com/toonstore/toonstore/pkg/cache"
)

// collBenchCase is one collection type of BenchmarkCollectionWrite: how to
// write one new element (the measured operation) and how to take back the
// elements added since the last trim (not measured).
type collBenchCase struct {
	name string
	// add appends to dst the arguments of a command adding element i to
	// key, formatting numbers into the scratch buffers b0 and b1 (so that
	// the loop allocates nothing itself).
	add func(dst [][]byte, b0, b1 []byte, key []byte, i int) [][]byte
	// bulk appends the arguments of a command adding elements lo..hi-1.
	bulk func(dst [][]byte, key []byte, lo, hi int) [][]byte
	// trim appends the arguments of a command removing elements lo..hi-1
	// (the last ones added).
	trim func(dst [][]byte, key []byte, lo, hi int) [][]byte
}

func benchElem(prefix string, i int) []byte {
	return strconv.AppendInt([]byte(prefix), int64(i), 10)
}

// benchElemInto is benchElem formatted into buf.
func benchElemInto(buf []byte, prefix byte, i int) []byte {
	return strconv.AppendInt(append(buf[:0], prefix), int64(i), 10)
}

// benchScore is element i's ZADD score: spread over the whole range, so
// that inserts land everywhere in the sorted set, not only at one end.
func benchScore(buf []byte, i int) []byte {
	return strconv.AppendInt(buf[:0], int64(i*7919%1000003), 10)
}

var (
	benchLPush = []byte("LPUSH")
	benchHSet  = []byte("HSET")
	benchSAdd  = []byte("SADD")
	benchZAdd  = []byte("ZADD")
	benchValue = []byte("value")
)

var collBenchCases = []collBenchCase{
	{
		name: "lpush",
		add: func(dst [][]byte, b0, _ []byte, key []byte, i int) [][]byte {
			return append(dst, benchLPush, key, benchElemInto(b0, 'e', i))
		},
		bulk: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			dst = append(dst, []byte("RPUSH"), key)
			for i := lo; i < hi; i++ {
				dst = append(dst, benchElem("e", i))
			}
			return dst
		},
		trim: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			return append(dst, []byte("LPOP"), key, strconv.AppendInt(nil, int64(hi-lo), 10))
		},
	},
	{
		name: "hset",
		add: func(dst [][]byte, b0, _ []byte, key []byte, i int) [][]byte {
			return append(dst, benchHSet, key, benchElemInto(b0, 'f', i), benchValue)
		},
		bulk: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			dst = append(dst, []byte("HSET"), key)
			for i := lo; i < hi; i++ {
				dst = append(dst, benchElem("f", i), []byte("value"))
			}
			return dst
		},
		trim: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			dst = append(dst, []byte("HDEL"), key)
			for i := lo; i < hi; i++ {
				dst = append(dst, benchElem("f", i))
			}
			return dst
		},
	},
	{
		name: "sadd",
		add: func(dst [][]byte, b0, _ []byte, key []byte, i int) [][]byte {
			return append(dst, benchSAdd, key, benchElemInto(b0, 'm', i))
		},
		bulk: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			dst = append(dst, []byte("SADD"), key)
			for i := lo; i < hi; i++ {
				dst = append(dst, benchElem("m", i))
			}
			return dst
		},
		trim: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			dst = append(dst, []byte("SREM"), key)
			for i := lo; i < hi; i++ {
				dst = append(dst, benchElem("m", i))
			}
			return dst
		},
	},
	{
		name: "zadd",
		add: func(dst [][]byte, b0, b1 []byte, key []byte, i int) [][]byte {
			return append(dst, benchZAdd, key, benchScore(b1, i), benchElemInto(b0, 'm', i))
		},
		bulk: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			dst = append(dst, []byte("ZADD"), key)
			for i := lo; i < hi; i++ {
				// Ascending: building a sorted set in order is several
				// times faster than at random places (cache locality).
				dst = append(dst, strconv.AppendInt(nil, int64(i), 10), benchElem("m", i))
			}
			return dst
		},
		trim: func(dst [][]byte, key []byte, lo, hi int) [][]byte {
			dst = append(dst, []byte("ZREM"), key)
			for i := lo; i < hi; i++ {
				dst = append(dst, benchElem("m", i))
			}
			return dst
		},
	},
}

// collTrimEvery is how many measured writes happen between two (unmeasured)
// trims: a collection of n elements stays between n and n+collTrimEvery.
const collTrimEvery = 1000

// BenchmarkCollectionWrite measures one LPUSH, HSET, SADD or ZADD of a new
// element into a collection of 1k, 100k and 1M elements, through the path the
// server runs: Server.Execute against a cache over a real store in a temp
// directory, each write appending an operation record to the key's chain
// (and, amortized, folding the chain into a new image when it outgrows the
// image). The cost per op must not grow with the collection's size: a
// write is O(size of the change) on disk (DESIGN.md, Collections).
//
// The collection is built once per size with bulk commands of 10k
// elements; every collTrimEvery writes the timer stops and the elements
// added are removed again, so the size stays within [n, n+1000]. Skipped
// under -short (building 1M elements takes seconds).
func BenchmarkCollectionWrite(b *testing.B) {
	if testing.Short() {
		b.Skip("builds collections of 1M elements; not run under -short")
	}
	sizes := []struct {
		name string
		n    int
	}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}}
	for _, tc := range collBenchCases {
		for _, sz := range sizes {
			var s *Server
			var c *cache.Cache
			key := []byte(tc.name + ":" + sz.name)
			dir := b.TempDir() // the parent's: it outlives every call of the sub-benchmark
			b.Run(tc.name+"/"+sz.name, func(b *testing.B) {
				if s == nil {
					// Built on the first call only: the framework calls this
					// function again with a larger b.N.
					start := time.Now()
					c, s = buildCollBench(b, dir, tc, key, sz.n)
					b.Logf("built %d elements in %v", sz.n, time.Since(start).Round(time.Millisecond))
				}
				cl := s.NewClient()
				out := make([]byte, 0, 64)
				args := make([][]byte, 0, 4)
				b0, b1 := make([]byte, 0, 32), make([]byte, 0, 32)
				base := sz.n + collTrimEvery // element numbers above the built ones
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if i > 0 && i%collTrimEvery == 0 {
						b.StopTimer()
						collBenchDo(b, s, cl, tc.trim(nil, key, base+i-collTrimEvery, base+i))
						b.StartTimer()
					}
					out = s.Execute(cl, tc.add(args[:0], b0, b1, key, base+i), out[:0])
					if len(out) == 0 || out[0] != ':' {
						b.Fatalf("%s: %q", tc.name, out)
					}
				}
				b.StopTimer()
				// Back to n elements for the framework's next call.
				done := b.N - (b.N-1)/collTrimEvery*collTrimEvery
				if b.N > 0 {
					collBenchDo(b, s, cl, tc.trim(nil, key, base+b.N-done, base+b.N))
				}
			})
			if c != nil {
				if err := c.Close(); err != nil {
					b.Errorf("close: %v", err)
				}
			}
		}
	}
}

// buildCollBench opens a cache over the empty directory dir and builds key
// with n elements through Execute, 10k per command.
func buildCollBench(b *testing.B, dir string, tc collBenchCase, key []byte, n int) (*cache.Cache, *Server) {
	b.Helper()
	c, err := cache.New(dir, 1000)
	if err != nil {
		b.Fatalf("cache.New: %v", err)
	}
	s := NewServer(c, nil, nil)
	cl := s.NewClient()
	for lo := 0; lo < n; lo += 10_000 {
		collBenchDo(b, s, cl, tc.bulk(nil, key, lo, min(lo+10_000, n)))
	}
	return c, s
}

// collBenchDo executes one command and fails on an error reply.
func collBenchDo(b *testing.B, s *Server, cl *Client, args [][]byte) {
	b.Helper()
	out := s.Execute(cl, args, nil)
	if len(out) == 0 || out[0] == '-' {
		b.Fatalf("%s: %q", args[0], out)
	}
}

// BenchmarkCollectionGrow measures LPUSH, RPUSH, HSET, SADD and ZADD of a
// new element of d bytes into one key that grows through the whole run
// (b.N elements), as redis-benchmark's tests do: the cost per op includes
// the amortized folds of an ever larger collection (each fold rewrites
// the whole image once the chain outgrows it) and the compactions they
// cause. cpu-ns/op is the process's CPU time per op: the figure to compare
// on a shared machine.
func BenchmarkCollectionGrow(b *testing.B) {
	cmds := []struct {
		name string
		args func(dst [][]byte, b0, b1, val []byte, i int) [][]byte
	}{
		{"lpush", func(dst [][]byte, _, _, val []byte, _ int) [][]byte {
			return append(dst, benchLPush, []byte("k"), val)
		}},
		{"rpush", func(dst [][]byte, _, _, val []byte, _ int) [][]byte {
			return append(dst, []byte("RPUSH"), []byte("k"), val)
		}},
		{"hset", func(dst [][]byte, b0, _, val []byte, i int) [][]byte {
			return append(dst, benchHSet, []byte("k"), benchElemInto(b0, 'f', i), val)
		}},
		{"sadd", func(dst [][]byte, b0, _, val []byte, i int) [][]byte {
			return append(dst, benchSAdd, []byte("k"), append(benchElemInto(b0, 'm', i), val...))
		}},
		{"zadd", func(dst [][]byte, b0, b1, val []byte, i int) [][]byte {
			return append(dst, benchZAdd, []byte("k"), benchScore(b1, i), append(benchElemInto(b0, 'm', i), val...))
		}},
	}
	for _, tc := range cmds {
		for _, d := range []int{16, 1024} {
			b.Run(tc.name+"/d="+strconv.Itoa(d), func(b *testing.B) {
				c, err := cache.New(b.TempDir(), 1000)
				if err != nil {
					b.Fatalf("cache.New: %v", err)
				}
				defer c.Close()
				s := NewServer(c, nil, nil)
				cl := s.NewClient()
				val := make([]byte, d)
				for i := range val {
					val[i] = 'a' + byte(i%26)
				}
				if tc.name == "sadd" || tc.name == "zadd" {
					val = val[:max(d-8, 0)] // the member is the value, with its number in front
				}
				out := make([]byte, 0, 64)
				args := make([][]byte, 0, 4)
				b0, b1 := make([]byte, 0, 2048), make([]byte, 0, 32)
				b.ReportAllocs()
				b.SetBytes(int64(d))
				b.ResetTimer()
				sys0, user0, _, _ := cpuTimes()
				for i := 0; i < b.N; i++ {
					out = s.Execute(cl, tc.args(args[:0], b0, b1, val, i), out[:0])
					if len(out) == 0 || out[0] != ':' {
						b.Fatalf("%s: %q", tc.name, out)
					}
				}
				// CPU time of the whole process (compaction included) per
				// op: wall time is meaningless on a shared machine.
				sys1, user1, _, _ := cpuTimes()
				b.ReportMetric(float64((sys1-sys0+user1-user0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// TestCollectionWriteAllocs guards the per-write allocations of the
// commands redis-benchmark times on one growing key: the operation record
// is built in the client's scratch (Ctx.opBuf) and a fold encodes into the
// log, so LPUSH, RPUSH, LPOP and RPOP allocate nothing per op once the
// list exists (a new chunk every few elements averages below one), and
// SADD, HSET and ZADD only what the collection keeps (the new element's
// strings and, for ZADD, its share of a tree node; an HSET of an existing
// field, only the value). 2000 writes per command go
// through several folds.
func TestCollectionWriteAllocs(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	const runs = 2000
	val := []byte("0123456789abcdef")
	// cmds builds the runs+1 commands (AllocsPerRun warms up with one)
	// up front, so that only Execute's allocations are counted.
	cmds := func(fn func(i int) []string) [][][]byte {
		out := make([][][]byte, runs+1)
		for i := range out {
			for _, a := range fn(i) {
				out[i] = append(out[i], []byte(a))
			}
		}
		return out
	}
	v := string(val)
	cases := []struct {
		name string
		max  float64
		cmds [][][]byte
	}{
		{"lpush", 0, cmds(func(int) []string { return []string{"LPUSH", "l", v} })},
		{"rpush", 0, cmds(func(int) []string { return []string{"RPUSH", "l", v} })},
		{"lpop", 0, cmds(func(int) []string { return []string{"LPOP", "l"} })},
		{"rpop", 0, cmds(func(int) []string { return []string{"RPOP", "l"} })},
		{"sadd", 1, cmds(func(i int) []string { return []string{"SADD", "s", "m" + strconv.Itoa(i)} })},
		{"hset", 2, cmds(func(i int) []string { return []string{"HSET", "h", "f" + strconv.Itoa(i), v} })},
		// An update keeps the field's string: only the new value.
		{"hset update", 1, cmds(func(i int) []string { return []string{"HSET", "h", "field", v + strconv.Itoa(i)} })},
		{"zadd", 2, cmds(func(i int) []string {
			return []string{"ZADD", "z", strconv.Itoa(i * 7919 % 1000003), "m" + strconv.Itoa(i)}
		})},
	}
	do(t, s, cl, "RPUSH", "l", "x")
	do(t, s, cl, "SADD", "s", "x")
	do(t, s, cl, "HSET", "h", "x", "y", "field", "y")
	do(t, s, cl, "ZADD", "z", "0", "x")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]byte, 0, 256)
			i := 0
			allocs := testing.AllocsPerRun(runs, func() {
				out = s.Execute(cl, tc.cmds[i], out[:0])
				i++
			})
			if len(out) == 0 || out[0] == '-' {
				t.Fatalf("%s: %q", tc.name, out)
			}
			if allocs > tc.max {
				t.Errorf("%s allocates %v times per op, want at most %v", tc.name, allocs, tc.max)
			}
		})
	}
}
