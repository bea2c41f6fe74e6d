package main

import "math"

// benchOrder is the order in which redis-benchmark runs its tests. The
// harness keeps it so that tests which read what an earlier one wrote
// (SPOP after SADD, LPOP after LPUSH, ZPOPMIN after ZADD) find data.
func benchOrder() []string {
	return []string{"ping_mbulk", "set", "get", "incr", "lpush", "rpush", "lpop", "rpop",
		"sadd", "hset", "spop", "zadd", "zpopmin", "lrange_100", "mset"}
}

// cell identifies one measurement: a test at one value size, pipeline
// depth and connection count.
type cell struct {
	Test                    string
	Size, Pipeline, Clients int
}

// group is the tests run at one value size, pipeline depth and connection
// count, in benchOrder.
type group struct {
	Size, Pipeline, Clients int
	Tests                   []string
}

// matrix returns the groups to run. The full matrix: every
// test at pipeline 1, 16 and 64 with 50 connections, SET and GET also with
// 1 and 500 connections, values of 16 B and 1 KiB. The quick one is SET,
// GET, INCR, LPUSH and HSET at pipeline 1 and 16, 50 connections, 16 B.
func matrix(quick bool) []group {
	if quick {
		tests := []string{"set", "get", "incr", "lpush", "hset"}
		return []group{{16, 1, 50, tests}, {16, 16, 50, tests}}
	}
	var gs []group
	for _, size := range []int{16, 1024} {
		for _, p := range []int{1, 16, 64} {
			gs = append(gs,
				group{size, p, 50, benchOrder()},
				group{size, p, 1, []string{"set", "get"}},
				group{size, p, 500, []string{"set", "get"}})
		}
	}
	return gs
}

// expectedRate is a rough ops/s of a test on these 2-core machines (Redis
// 7.0, client on the same cores), used only to size -n so that each run
// lasts about the target time: the medians over all three servers of the
// full run at 4b61062, rounded. LRANGE_100 of 1 KiB values and MSET move
// far more bytes per request than the rest.
func expectedRate(c cell) float64 {
	byPipe := func(p1, p16, p64 float64) float64 {
		switch {
		case c.Pipeline <= 1:
			return p1
		case c.Pipeline <= 16:
			return p16
		default:
			return p64
		}
	}
	big := c.Size > 256
	switch {
	case c.Test == "lrange_100" && big:
		return byPipe(8000, 4500, 4500)
	case c.Test == "lrange_100":
		return byPipe(55000, 60000, 50000)
	case c.Test == "mset" && big:
		return byPipe(15000, 18000, 20000)
	case c.Test == "mset":
		return byPipe(45000, 60000, 60000)
	case c.Clients == 1 && big:
		return byPipe(14000, 170000, 170000)
	case c.Clients == 1:
		return byPipe(30000, 200000, 340000)
	case big:
		return byPipe(60000, 210000, 260000)
	default:
		return byPipe(95000, 390000, 460000)
	}
}

// requests returns the -n of a cell: about target seconds of work at the
// expected rate, rounded up to a thousand, and at least one full pipeline
// per connection (clients × pipeline) so that every connection takes part.
func requests(c cell, target float64) int {
	n := int(math.Ceil(expectedRate(c)*target/1000)) * 1000
	return max(n, 1000, c.Clients*c.Pipeline)
}
