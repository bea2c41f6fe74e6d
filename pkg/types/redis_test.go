package types

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/toonstore/toonstore/internal/redistest"
)

// Differential tests against a real redis-server 7.0: the range parsers,
// the range semantics and the list commands' index rules must agree with
// Redis reply for reply. They skip without Redis unless
// TSTD_REQUIRE_REDIS=1.

func startRedis(t *testing.T) *redistest.Conn {
	t.Helper()
	return redistest.Dial(t, redistest.Start(t, redistest.Options{}).Addr)
}

func do(t *testing.T, rc *redistest.Conn, args ...string) any {
	t.Helper()
	v, err := rc.Do(args...)
	var re redistest.Error
	if err != nil && !errors.As(err, &re) {
		t.Fatalf("%q: %v", args, err)
	}
	if err != nil {
		return "-" + string(re)
	}
	return v
}

func strs(in []string) any {
	out := make([]any, len(in))
	for i, s := range in {
		out[i] = s
	}
	return out
}

var boundPieces = []string{"(", "[", "-", "+", "1", "2", ".", "5", "e", "x", "0x", "inf", "nan", " ", "\x00", "a", "b", "c", ""}

func randBound(r *rand.Rand) string {
	s := ""
	for k := 1 + r.IntN(3); k > 0; k-- {
		s += boundPieces[r.IntN(len(boundPieces))]
	}
	return s
}

func TestRedisZSetRanges(t *testing.T) {
	rc := startRedis(t)
	r := newRand(t)
	var z, lz ZSet
	members := []string{"a", "b", "c", "aa", "ab", "b\x00", "", "x", "y", "z"}
	scores := []string{"-inf", "-1", "0", "0", "1.5", "1.5", "2", "5", "inf", "-0"}
	for i, m := range members {
		f, _ := strconv.ParseFloat(scores[i], 64)
		z.Add([]byte(m), f)
		lz.Add([]byte(m), 0)
		do(t, rc, "ZADD", "z", scores[i], m)
		do(t, rc, "ZADD", "lz", "0", m)
	}
	limits := func() (args []string, off, cnt int) {
		if r.IntN(3) == 0 {
			return nil, 0, -1
		}
		off, cnt = r.IntN(6)-1, r.IntN(6)-2
		return []string{"LIMIT", fmt.Sprint(off), fmt.Sprint(cnt)}, off, cnt
	}
	for i := 0; i < 3000; i++ {
		min, max := randBound(r), randBound(r)
		if i < 200 { // plausible bounds first
			min, max = []string{"-inf", "(1", "0", "1.5", "(-inf", "+inf"}[r.IntN(6)], []string{"+inf", "(2", "1.5", "(1.5", "inf", "-1"}[r.IntN(6)]
		}
		// By score.
		var want any
		sr, err := ParseScoreRange([]byte(min), []byte(max))
		if err != nil {
			want = "-ERR min or max is not a float"
		} else {
			want = int64(z.CountByScore(sr))
		}
		requireEqual(t, fmt.Sprintf("ZCOUNT z %q %q", min, max), do(t, rc, "ZCOUNT", "z", min, max), want)
		if err == nil {
			lim, off, cnt := limits()
			rev := r.IntN(2) == 0
			args := []string{"ZRANGE", "z", min, max, "BYSCORE"}
			if rev {
				args = []string{"ZRANGE", "z", max, min, "BYSCORE", "REV"}
			}
			var got []string
			z.RangeByScore(sr, rev, off, cnt, func(m string, _ float64) bool { got = append(got, m); return true })
			requireEqual(t, fmt.Sprintf("%q", append(args, lim...)), do(t, rc, append(args, lim...)...), strs(got))
		}
		// By lex.
		lr, err := ParseLexRange([]byte(min), []byte(max))
		if err != nil {
			want = "-ERR min or max not valid string range item"
		} else {
			want = int64(lz.CountByLex(lr))
		}
		requireEqual(t, fmt.Sprintf("ZLEXCOUNT lz %q %q", min, max), do(t, rc, "ZLEXCOUNT", "lz", min, max), want)
		if err == nil {
			lim, off, cnt := limits()
			rev := r.IntN(2) == 0
			args := []string{"ZRANGEBYLEX", "lz", min, max}
			if rev {
				args = []string{"ZREVRANGEBYLEX", "lz", max, min}
			}
			var got []string
			lz.RangeByLex(lr, rev, off, cnt, func(m string, _ float64) bool { got = append(got, m); return true })
			requireEqual(t, fmt.Sprintf("%q", append(args, lim...)), do(t, rc, append(args, lim...)...), strs(got))
		}
		// By rank.
		start, stop := r.IntN(30)-15, r.IntN(30)-15
		rev := r.IntN(2) == 0
		var got []string
		if lo, hi, ok := NormalizeRange(start, stop, z.Len()); ok {
			z.RangeByRank(lo, hi, rev, func(m string, _ float64) bool { got = append(got, m); return true })
		}
		cmd := "ZRANGE"
		if rev {
			cmd = "ZREVRANGE"
		}
		requireEqual(t, fmt.Sprint(cmd, start, stop), do(t, rc, cmd, "z", fmt.Sprint(start), fmt.Sprint(stop)), strs(got))
	}
	for _, m := range members {
		rk, _ := z.Rank([]byte(m), false)
		requireEqual(t, "ZRANK "+m, do(t, rc, "ZRANK", "z", m), any(int64(rk)))
		rk, _ = z.Rank([]byte(m), true)
		requireEqual(t, "ZREVRANK "+m, do(t, rc, "ZREVRANK", "z", m), any(int64(rk)))
	}
}

// TestRedisList drives a Redis list and a List with the same random
// commands and compares every reply and, after each command, the list.
func TestRedisList(t *testing.T) {
	rc := startRedis(t)
	r := newRand(t)
	var l List
	val := func() string { return fmt.Sprint("v", r.IntN(8)) }
	idx := func() int { return r.IntN(2*l.Len()+6) - l.Len() - 3 }
	elems := func() any {
		var out []string
		l.All(func(e []byte) bool { out = append(out, string(e)); return true })
		return strs(out)
	}
	for i := 0; i < 3000; i++ {
		var args []string
		var want any
		switch op := r.IntN(11); op {
		case 0, 1:
			cmd, vals := "LPUSH", []string{}
			if op == 1 {
				cmd = "RPUSH"
			}
			for k := 1 + r.IntN(5); k > 0; k-- {
				v := val()
				vals = append(vals, v)
				if op == 0 {
					l.PushLeft([]byte(v))
				} else {
					l.PushRight([]byte(v))
				}
			}
			args, want = append([]string{cmd, "l"}, vals...), int64(l.Len())
		case 2:
			n := r.IntN(4) + 1
			if l.Len() == 0 {
				continue // the key is gone: LPOP replies nil
			}
			var got []string
			if r.IntN(2) == 0 {
				args = []string{"LPOP", "l", fmt.Sprint(n)}
				l.PopLeft(n, func(e []byte) { got = append(got, string(e)) })
			} else {
				args = []string{"RPOP", "l", fmt.Sprint(n)}
				l.PopRight(n, func(e []byte) { got = append(got, string(e)) })
			}
			want = strs(got)
		case 3:
			if l.Len() == 0 {
				continue
			}
			i, v := idx(), val()
			args, want = []string{"LSET", "l", fmt.Sprint(i), v}, "OK"
			if l.Set(i, []byte(v)) < 0 {
				want = "-ERR index out of range"
			}
		case 4:
			if l.Len() == 0 {
				continue
			}
			where := []string{"BEFORE", "AFTER"}[r.IntN(2)]
			pivot, v := val(), val()
			args = []string{"LINSERT", "l", where, pivot, v}
			want = int64(-1)
			if l.Insert(where == "BEFORE", []byte(pivot), []byte(v)) >= 0 {
				want = int64(l.Len())
			}
		case 5:
			count, v := r.IntN(7)-3, val()
			args, want = []string{"LREM", "l", fmt.Sprint(count), v}, int64(l.Remove(count, []byte(v)))
		case 6:
			if r.IntN(4) != 0 {
				continue // keep the list long
			}
			start, stop := idx(), idx()
			args, want = []string{"LTRIM", "l", fmt.Sprint(start), fmt.Sprint(stop)}, "OK"
			l.Trim(start, stop)
		case 7:
			start, stop := idx(), idx()
			var got []string
			l.Range(start, stop, func(e []byte) bool { got = append(got, string(e)); return true })
			args, want = []string{"LRANGE", "l", fmt.Sprint(start), fmt.Sprint(stop)}, strs(got)
		case 8:
			i := idx()
			args = []string{"LINDEX", "l", fmt.Sprint(i)}
			if e, ok := l.Index(i); ok {
				want = string(e)
			}
		default:
			v := val()
			rank := r.IntN(3) + 1
			if r.IntN(2) == 0 {
				rank = -rank
			}
			count, maxlen := r.IntN(3), r.IntN(l.Len()+2)
			args = []string{"LPOS", "l", v, "RANK", fmt.Sprint(rank), "COUNT", fmt.Sprint(count), "MAXLEN", fmt.Sprint(maxlen)}
			var got []any
			for _, p := range l.Pos([]byte(v), rank, count, maxlen) {
				got = append(got, int64(p))
			}
			want = got
			if got == nil {
				want = []any{}
			}
		}
		requireEqual(t, fmt.Sprintf("%q", args), do(t, rc, args...), want)
		requireEqual(t, fmt.Sprintf("list after %q", args), do(t, rc, "LRANGE", "l", "0", "-1"), elems())
	}
}

// TestRedisZSetMutations drives a Redis sorted set and a ZSet with the
// same random ZADD, ZREM, ZPOPMIN/MAX and ZREMRANGEBY* commands and
// compares every reply and the whole set after each command.
func TestRedisZSetMutations(t *testing.T) {
	rc := startRedis(t)
	r := newRand(t)
	var z ZSet
	scoreArgs := []string{"-inf", "+inf", "-0", "0", "1", "1.5", "-2.25", "3", "1e300", "7"}
	member := func() string { return fmt.Sprint("m", r.IntN(25)) }
	withScores := func(reply any) []scored {
		var out []scored
		arr, _ := reply.([]any)
		for i := 0; i+1 < len(arr); i += 2 {
			f, err := strconv.ParseFloat(arr[i+1].(string), 64)
			if err != nil {
				t.Fatalf("score %q: %v", arr[i+1], err)
			}
			out = append(out, scored{arr[i].(string), f})
		}
		return out
	}
	for i := 0; i < 3000; i++ {
		var args []string
		var want any
		switch op := r.IntN(10); {
		case op < 4:
			args = []string{"ZADD", "z"}
			added := int64(0)
			for k := 1 + r.IntN(3); k > 0; k-- {
				s, m := scoreArgs[r.IntN(len(scoreArgs))], member()
				f, _ := strconv.ParseFloat(s, 64)
				if f == 0 {
					f = 0 // a small (listpack) zset in Redis 7.0 stores -0 as 0
				}
				args = append(args, s, m)
				if _, existed := z.Add([]byte(m), f); !existed {
					added++
				}
			}
			want = added
		case op < 6:
			args = []string{"ZREM", "z"}
			removed := int64(0)
			for k := 1 + r.IntN(3); k > 0; k-- {
				m := member()
				args = append(args, m)
				if z.Remove([]byte(m)) {
					removed++
				}
			}
			want = removed
		case op < 7:
			top := r.IntN(2) == 0
			count := r.IntN(4)
			args = []string{"ZPOPMIN", "z", fmt.Sprint(count)}
			if top {
				args[0] = "ZPOPMAX"
			}
			var got []any
			z.Pop(count, top, func(m string, s float64) { got = append(got, m, s) })
			reply := do(t, rc, args...)
			var gotPairs []scored
			for j := 0; j < len(got); j += 2 {
				gotPairs = append(gotPairs, scored{got[j].(string), got[j+1].(float64)})
			}
			requireEqual(t, fmt.Sprintf("%q", args), exact(withScores(reply)), exact(gotPairs))
			args = nil
		case op < 8:
			start, stop := r.IntN(16)-8, r.IntN(16)-8
			args = []string{"ZREMRANGEBYRANK", "z", fmt.Sprint(start), fmt.Sprint(stop)}
			n := 0
			if lo, hi, ok := NormalizeRange(start, stop, z.Len()); ok {
				n = z.RemoveRangeByRank(lo, hi)
			}
			want = int64(n)
		default:
			min, max := randBound(r), randBound(r)
			if r.IntN(2) == 0 {
				min, max = "("+scoreArgs[r.IntN(len(scoreArgs))], scoreArgs[r.IntN(len(scoreArgs))]
			}
			args = []string{"ZREMRANGEBYSCORE", "z", min, max}
			if sr, err := ParseScoreRange([]byte(min), []byte(max)); err != nil {
				want = "-ERR min or max is not a float"
			} else {
				first, last := z.RemoveRangeByScore(sr)
				want = int64(max0(last - first + 1))
			}
		}
		if args != nil {
			requireEqual(t, fmt.Sprintf("%q", args), do(t, rc, args...), want)
		}
		requireEqual(t, fmt.Sprintf("zset after step %d", i), exact(withScores(do(t, rc, "ZRANGE", "z", "0", "-1", "WITHSCORES"))), exact(zAll(&z)))
	}
}

func max0(n int) int { return max(n, 0) }

// exact formats scores with their sign, so that -0 and 0 differ.
func exact(in []scored) []string {
	var out []string
	for _, e := range in {
		out = append(out, e.M+"="+strconv.FormatFloat(e.S, 'g', -1, 64))
	}
	return out
}
